"""What the adapter remembers between requests: the last answer of each GET with its ``ETag`` (GitHub
answers a conditional GET with 304, not charged, when nothing changed) and PRs' change sets
(this process's LRU in front of Redis). Entries hold public API data and paths, never tokens."""

from __future__ import annotations

import contextlib
import json
import threading
import zlib
from collections import OrderedDict
from typing import Any

from ..core.model import ChangedFile, ChangeSet, FileSource

# GET answers kept per process for conditional requests: ~20 KB for a PR, up to ~2 MB for a page
# of 100 PRs or a large tree, so a few hundred entries stay within tens of MB.
ETAG_ENTRIES = 512


class Lru:
    """A thread-safe map of at most ``size`` entries; the least recently used go first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[Any, Any] = OrderedDict()
        self._guard = threading.Lock()

    def get(self, key: Any) -> Any:
        """The value of ``key`` (now the most recently used), or None."""
        with self._guard:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: Any, value: Any) -> None:
        with self._guard:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


class ETagCache(Lru):
    """The last answer of each GET, per (installation, URL, query), with its ``ETag``: the next
    identical GET sends ``If-None-Match`` and GitHub answers 304 with no body when nothing
    changed, which does not count against the installation's rate limit. Least recently used
    entries go first beyond ``size``. Entries hold public API data, never tokens."""

    def __init__(self, size: int = ETAG_ENTRIES) -> None:
        super().__init__(size)

    def put(self, key: tuple, etag: str, headers: dict[str, Any], data: Any) -> None:  # type: ignore[override]
        super().put(key, (etag, headers, data))


etags = ETagCache()
CHANGES_TTL = 3600  # seconds a memoised change set is kept
CHANGES_ENTRIES = 256  # change sets kept per process


def _encode_changes(changes: ChangeSet) -> bytes:
    files = [[f.path, f.status, f.previous_path] for f in changes.files]
    doc = {"files": files, "source": changes.source.value, "listed": changes.listed, "changed": changes.changed}
    return zlib.compress(json.dumps(doc, separators=(",", ":")).encode())


def _decode_changes(raw: bytes) -> ChangeSet | None:
    try:
        doc = json.loads(zlib.decompress(raw))
        files = tuple(ChangedFile(path=p, status=st, previous_path=prev) for p, st, prev in doc["files"])
        return ChangeSet(files=files, source=FileSource(doc["source"]), listed=doc["listed"],
                         changed=doc["changed"])
    except (ValueError, KeyError, TypeError, zlib.error):
        return None


class ChangeMemo:
    """Change sets of PRs by (installation, repository, PR, head SHA, base head SHA): GitHub's
    list of a PR's files is the diff from the merge base of those two commits to the head, so it
    cannot change while both stay put, and a refresh, an unlock or the periodic pass need not
    list the files of an unchanged PR again (30 pages, plus a compare and two trees, for a PR of
    5,000 files). Kept in this process (LRU of ``CHANGES_ENTRIES``) and, with ``connection``, in
    Redis for every worker process (``wavegate:changes:…``, zlib-compressed JSON of the paths,
    expiring after ``CHANGES_TTL`` seconds). Paths only: no token or body text."""

    def __init__(self, connection: Any = None, *, ttl: int = CHANGES_TTL, prefix: str = "wavegate:changes") -> None:
        self.redis = connection
        self.ttl = ttl
        self.prefix = prefix

    def get(self, key: str) -> ChangeSet | None:
        """The change set stored under ``key``, or None. A Redis error is a miss."""
        found = _local_changes.get(key)
        if found is not None:
            return found
        if self.redis is None:
            return None
        try:
            raw = self.redis.get(f"{self.prefix}:{key}")
        except Exception:  # noqa: BLE001 - a cache: Redis trouble means reading GitHub again
            return None
        found = _decode_changes(raw) if raw else None
        if found is not None:
            _local_changes.put(key, found)
        return found

    def put(self, key: str, changes: ChangeSet) -> None:
        """Store ``changes`` under ``key`` (here, and in Redis when connected; errors ignored)."""
        _local_changes.put(key, changes)
        if self.redis is None:
            return
        with contextlib.suppress(Exception):
            self.redis.set(f"{self.prefix}:{key}", _encode_changes(changes), ex=self.ttl)

    def shared_answer(self, key: str) -> tuple[str, Any] | None:
        """The (ETag, JSON body) another process kept under ``key`` (``share_answer``), or None
        (no Redis, nothing kept, or a Redis error)."""
        if self.redis is None:
            return None
        try:
            raw = self.redis.get(f"{self.prefix}:answer:{key}")
            doc = json.loads(raw) if raw else None
            return (doc["etag"], doc["data"]) if doc else None
        except Exception:  # noqa: BLE001 - a cache: Redis trouble means an unconditional read
            return None

    def share_answer(self, key: str, etag: str, data: Any) -> None:
        """Keep a small GET answer with its ``ETag`` for every worker process (Redis only,
        ``CHANGES_TTL`` seconds; errors ignored), so that their first read of it is conditional."""
        if self.redis is None:
            return
        with contextlib.suppress(Exception):
            self.redis.set(f"{self.prefix}:answer:{key}", json.dumps({"etag": etag, "data": data}), ex=self.ttl)


_local_changes = Lru(CHANGES_ENTRIES)  # this process's change sets, in front of Redis


