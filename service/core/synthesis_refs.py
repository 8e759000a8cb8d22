"""Turn the findings' file references into territory keys, with what a repository says about them:
which references name tracked files, which do not (with a did-you-mean), and which files change
together. Pure: the caller supplies the tracked files and the commits' file lists.

A key is a territory pattern: a file path, a folder ending in ``/``, or a glob, always kept as
written (a glob is already a valid pattern; expanding it would widen it once its files are
compacted into a folder).
"""

from __future__ import annotations

import bisect
import difflib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

from . import patterns
from .findings import Finding, Reference

MAX_SUGGESTIONS = 3
# Commits touching more files than this say nothing about which files belong together
# (formatting sweeps, renames, vendoring); they are left out of the co-change counts.
MAX_COMMIT_FILES = 50
# Two files are "changed together" when at least this many commits touched both, and those
# commits are at least half of the commits of the less often changed file.
MIN_COCHANGES = 2
MIN_COCHANGE_SHARE = 0.5


@dataclass(frozen=True)
class RepoFacts:
    """What a checkout tells about the files: ``tracked`` (``git ls-files``) and ``commits``, the
    file lists of recent commits (``git log --name-only``), newest first. Both may be empty."""

    tracked: tuple[str, ...] = ()
    commits: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Notice:
    """Something about one reference the coordinator should check; never blocks a proposal.

    ``kind``: ``missing`` (no tracked file; kept, the agent may create it), ``ambiguous`` (a bare
    file name matching several tracked files; all are kept), ``no-match`` (a glob matching no
    tracked file; kept as written), ``invalid`` (not a territory pattern; left out),
    ``protected`` (no agent may own it; left out). ``suggestions`` are did-you-mean paths or the
    candidates of an ambiguous name.
    """

    kind: str
    finding: int
    reference: str
    suggestions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Resolution:
    """Per finding number, its keys (territory patterns, in order); the notices; and the
    co-change pairs among the keys, ``(a, b) → commits touching both`` with ``a < b``."""

    keys: Mapping[int, tuple[str, ...]]
    notices: tuple[Notice, ...]
    cochange: Mapping[tuple[str, str], int] = field(default_factory=dict)


class _Index:
    """Tracked files, with folder and file-name look-ups."""

    def __init__(self, tracked: Sequence[str]) -> None:
        self.files = frozenset(tracked)
        self.ordered = sorted(self.files)
        self.by_name: dict[str, list[str]] = {}
        for path in self.ordered:
            self.by_name.setdefault(path.rsplit("/", 1)[-1], []).append(path)

    def is_folder(self, path: str) -> bool:
        prefix = path.rstrip("/") + "/"
        at = bisect.bisect_left(self.ordered, prefix)
        return at < len(self.ordered) and self.ordered[at].startswith(prefix)

    def expand(self, glob: str) -> list[str]:
        rx = patterns.compile_patterns([glob])
        return [p for p in self.ordered if rx.fullmatch(p)]


def is_glob(key: str) -> bool:
    """True for a key with a wildcard (``*`` or ``?``)."""
    return "*" in key or "?" in key


def resolve(findings: Sequence[Finding], repo: RepoFacts | None = None,
            protected: Sequence[str] = ()) -> Resolution:
    """Keys for every finding, checked against ``repo`` when given (``None``: taken as written).

    A reference to a tracked file stays; to a folder becomes ``folder/``; a glob stays as
    written (a ``no-match`` notice when it matches no tracked file); a bare file name becomes the tracked files of that name. A
    reference that names nothing is kept with a ``missing`` notice naming the closest tracked
    paths (``difflib``). Invalid patterns and references to ``protected`` paths are left out
    with a notice.
    """
    index = _Index(repo.tracked) if repo and repo.tracked else None
    keys: dict[int, tuple[str, ...]] = {}
    notices: list[Notice] = []
    for finding in findings:
        found: list[str] = []
        for ref in _without_tails(finding.references):
            found += _resolve_one(finding.number, ref, index, protected, notices)
        keys[finding.number] = tuple(dict.fromkeys(found))
    all_keys = {k for ks in keys.values() for k in ks}
    cochange = cochanges(repo.commits, all_keys) if repo else {}
    return Resolution(keys, tuple(notices), cochange)


def _without_tails(refs: Sequence[Reference]) -> list[Reference]:
    """The references without those that are the tail of a longer one of the same finding
    (``core/model.py`` written beside ``service/core/model.py``): prose repeats a path in part."""
    paths = [r.path.rstrip("/") for r in refs]
    return [r for r in refs if not any(p.endswith("/" + r.path.rstrip("/")) for p in paths)]


def _resolve_one(number: int, ref: Reference, index: _Index | None, protected: Sequence[str],
                 notices: list[Notice]) -> list[str]:
    if ref.problem:
        notices.append(Notice("invalid", number, ref.path, (ref.problem,)))
        return []
    resolved = _lookup(number, ref.path, index, notices) if index else [ref.path]
    kept = [k for k in resolved if not meets_protected(k, protected)]
    if len(kept) < len(resolved):
        notices.append(Notice("protected", number, ref.path, tuple(protected)))
    return kept


def _lookup(number: int, path: str, index: _Index, notices: list[Notice]) -> list[str]:
    if is_glob(path):
        if not index.expand(path):
            notices.append(Notice("no-match", number, path))
        return [path]
    bare = path.rstrip("/")
    if bare in index.files:
        return [bare]
    if index.is_folder(bare):
        return [bare + "/"]
    named = index.by_name.get(bare, []) if "/" not in bare else _ending_with(bare, index)
    if named:
        # A bare file name, or a path-looking fragment of a longer tracked path
        # (`core/model.py` for `service/core/model.py`): never a path at the root.
        if len(named) > 1:
            notices.append(Notice("ambiguous", number, path, tuple(named)))
        return list(named)
    notices.append(Notice("missing", number, path, did_you_mean(bare, index)))
    return [path]


def _ending_with(tail: str, index: _Index) -> list[str]:
    return [p for p in index.by_name.get(tail.rsplit("/", 1)[-1], []) if p.endswith("/" + tail)]


def did_you_mean(path: str, index: _Index) -> tuple[str, ...]:
    """The tracked paths closest to ``path`` (``difflib``; same file name first)."""
    name = path.rsplit("/", 1)[-1]
    same_name = index.by_name.get(name, [])
    if same_name:
        return tuple(difflib.get_close_matches(path, same_name, MAX_SUGGESTIONS, 0.0))
    return tuple(difflib.get_close_matches(path, index.ordered, MAX_SUGGESTIONS, 0.6))


def meets_protected(key: str, protected: Sequence[str]) -> bool:
    """True when the territory pattern ``key`` may match a path of a ``protected`` pattern
    (exact, after a cheap test of the patterns' literal beginnings); a comparison too complex
    to decide counts as meeting."""
    lead = _lead(key)
    near = [p for p in protected if _lead(p).startswith(lead) or lead.startswith(_lead(p))]
    try:
        return bool(near) and patterns.overlap([key], near) is not None
    except patterns.PatternError:
        return True


def _lead(pattern: str) -> str:
    """The text before a pattern's first wildcard, without a leading ``/``."""
    body = pattern.lstrip("/")
    return body[: min((i for i in (body.find("*"), body.find("?")) if i >= 0), default=len(body))]


def cochanges(commits: Iterable[Sequence[str]], keys: set[str]) -> dict[tuple[str, str], int]:
    """Pairs of file ``keys`` changed together often enough to belong together, with how many
    commits touched both (see ``MIN_COCHANGES`` and ``MIN_COCHANGE_SHARE``)."""
    touched: Counter[str] = Counter()
    together: Counter[tuple[str, str]] = Counter()
    for files in commits:
        if len(files) > MAX_COMMIT_FILES:
            continue
        mine = sorted(set(files) & keys)
        touched.update(mine)
        together.update(combinations(mine, 2))
    return {pair: n for pair, n in together.items()
            if n >= MIN_COCHANGES and n >= MIN_COCHANGE_SHARE * min(touched[pair[0]], touched[pair[1]])}
