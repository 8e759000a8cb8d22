"""Running the reference scenario (DESIGN §6) under a fault, and judging the end state.

``play(stack, repo, on=...)`` runs ``demo.scenario.Scenario`` with hooks on its transcript: a
hook fires on the first line whose text contains its key (``"edited the plan"`` is the moment a
dispatch starts, ``"merged #"`` each merge, the second of which unlocks wave 2). Hooks run on a
thread of their own so the scenario goes on while a process dies. The returned ``Result`` compares
GitHub's end state on the emulator with a clean run's (``tests.e2e.end_state``).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import redis
import requests

from demo import scenario as scenario_module
from demo.scenario import Scenario, Transcript
from demo.stack import Stack, free_port, wait_until
from tests.e2e.end_state import differences, duplicate_runs, duplicates
from tests.redisdb import redis_url  # noqa: F401  (re-exported for the scenarios)

DB_MAIN = 13
DB_OTHER = 14
CLEAN_REPO = "acme/clean"
APP_ACTOR = "app:"




@dataclass
class Result:
    """A scenario run: the end state and what differs from the clean run's."""

    snapshot: dict
    differences: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    max_wait: float | None = None
    notes: list[str] = field(default_factory=list)
    error: BaseException | None = None


class HookedTranscript(Transcript):
    """A quiet transcript that starts ``hooks[key]`` (once, on a thread) when a line contains
    ``key``; ``counts`` lets a hook fire on the n-th occurrence (``"merged #@2"``)."""

    def __init__(self, hooks: dict[str, Callable[[], None]]):
        super().__init__(quiet=True)
        self.hooks = dict(hooks)
        self.seen: dict[str, int] = {}
        self.threads: list[threading.Thread] = []
        self.errors: list[BaseException] = []

    def say(self, who: str, text: str) -> None:
        super().say(who, text)
        for key in list(self.hooks):
            needle, _, nth = key.partition("@")
            if needle in text:
                self.seen[key] = self.seen.get(key, 0) + 1
                if self.seen[key] == int(nth or 1):
                    self._start(self.hooks.pop(key))

    def _start(self, hook: Callable[[], None]) -> None:
        def run():
            try:
                hook()
            except BaseException as exc:  # noqa: BLE001 - reported by join()
                self.errors.append(exc)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        self.threads.append(thread)

    def join(self, timeout: float = 120) -> None:
        for thread in self.threads:
            thread.join(timeout)
        if self.errors:
            raise self.errors[0]


@contextlib.contextmanager
def webhook_config(stack: Stack, **config) -> Iterator[None]:
    """The emulator delivers webhooks with ``config`` (``duplicate``, ``shuffle_window``, ``seed``)
    inside the block, then one copy each, in order, again."""
    stack.admin("POST", "/_emulator/webhooks/config", json=config)
    try:
        yield
    finally:
        stack.admin("POST", "/_emulator/webhooks/config", json={"duplicate": 1, "shuffle_window": 1})


def play(stack: Stack, repo: str, on: dict[str, Callable[[], None]] | None = None, *,
         wait: float | None = None, settle: Callable[[], None] | None = None) -> Result:
    """Run the reference scenario on ``repo`` with transcript hooks ``on``; drain the webhooks,
    call ``settle`` (e.g. wait for healing), and snapshot. ``wait`` overrides the scenario's
    per-step timeout (seconds). A failed scenario step is kept in ``Result.error``."""
    out = HookedTranscript(on or {})
    previous = scenario_module.WAIT
    if wait is not None:
        scenario_module.WAIT = wait
    error = None
    try:
        Scenario(stack, out, repo=repo).run()
    except Exception as exc:  # noqa: BLE001 - judged by the caller with the end state
        error = exc
    finally:
        scenario_module.WAIT = previous
    out.join()
    if settle:
        settle()
    stack.drain(60)
    time.sleep(1.0)  # a job started by the last delivery may still be writing
    stack.drain(60)
    return Result(snapshot=stack.snapshot(repo), error=error)


def judge(result: Result, clean: dict) -> Result:
    """Fill ``differences`` and ``duplicates`` against the clean run's snapshot ``clean``."""
    result.differences = differences(clean, result.snapshot)
    result.duplicates = duplicates(result.snapshot) + duplicate_runs(result.snapshot)
    if result.error is not None:
        result.notes.append(f"scenario step failed: {str(result.error)[:160]}")
    return result


def assert_same_end_state(result: Result) -> None:
    assert result.error is None, result.error
    assert result.differences == [], "\n".join(result.differences)
    assert result.duplicates == [], "\n".join(result.duplicates)


# --------------------------------------------------------------------------- deliveries


def deliveries(stack: Stack, event: str | None = None) -> list[dict]:
    return stack.admin("GET", "/_emulator/deliveries", params={"event": event} if event else None)


def delivery(stack: Stack, delivery_id: int) -> dict:
    return stack.admin("GET", f"/_emulator/deliveries/{delivery_id}")


def last_synchronize(stack: Stack, repo: str, branch_suffix: str) -> dict:
    """The newest ``pull_request`` ``synchronize`` delivery of ``repo`` whose head branch ends
    with ``branch_suffix``, with payload and headers."""
    for item in sorted(deliveries(stack, "pull_request"), key=lambda d: d["id"], reverse=True):
        if item.get("action") != "synchronize":
            continue
        full = delivery(stack, item["id"])
        payload = full["payload"]
        if payload["repository"]["full_name"] == repo and payload["pull_request"]["head"]["ref"].endswith(
                branch_suffix):
            return full
    raise LookupError(f"no synchronize delivery for {repo} *{branch_suffix}")


def send_copy(stack: Stack, original: dict, guid: str | None = None) -> int:
    """POST ``original``'s payload to the web process as a new delivery (fresh GUID unless
    given), signed with the App's webhook secret, as GitHub would send it; returns the status."""
    body = json.dumps(original["payload"]).encode()
    signature = hmac.new(stack.webhook_secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {k: v for k, v in original["headers"].items()
               if k.lower().startswith("x-github-") or k.lower() == "user-agent"}
    headers.update({"Content-Type": "application/json", "X-GitHub-Delivery": guid or str(uuid.uuid4()),
                    "X-Hub-Signature-256": f"sha256={signature}"})
    return requests.post(f"{stack.web_url}/webhook", data=body, headers=headers, timeout=30).status_code


# --------------------------------------------------------------------------- retry waits


def retry_waits(log: list[dict]) -> list[tuple[str, float, float]]:
    """For every App request answered with a secondary-rate-limit 403 (``fault`` set by the
    emulator), the wait before the App sent the same request again: ``(kind, asked, waited)`` in
    seconds, ``asked`` being Retry-After (the emulator's ``retry_after``) or 60 without it. The
    request sent again is the first of the same method and path that started after the 403 was
    answered (``PAUSE_GRACE`` excepted, as in ``pause_breaches``)."""
    out = []
    app = [r for r in log if (r.get("actor") or "").startswith(APP_ACTOR)]
    for i, r in enumerate(app):
        if r.get("fault") not in ("secondary_403", "secondary_403_retry_after") or r["status"] != 403:
            continue
        # The log is in order of answers: a request of the same path that started before the 403
        # was answered (a slow one, or another job's) is no answer to it, whatever its place.
        again = next((n for n in app[i + 1:] if (n["method"], n["path"]) == (r["method"], r["path"])
                      and n["started"] >= r["at"] - PAUSE_GRACE), None)
        if again is not None:
            out.append((r["fault"], 0.0, round(again["started"] - r["at"], 2)))
    return out


PAUSE_GRACE = 0.5  # seconds: the App learns of a 403 only when the answer reaches it


def pause_breaches(log: list[dict], retry_after: float) -> list[tuple[str, str, float]]:
    """Requests sent inside an installation's rate-limit pause. GitHub counts a secondary limit
    against the installation's token, so after a secondary-rate-limit 403 no request of that
    installation, to any path and from any job or process, may start before ``Retry-After``
    (``retry_after`` seconds) or, without the header, 60 s. Returns ``(kind, "METHOD path",
    seconds after the 403)`` for each request that started inside the pause, ``PAUSE_GRACE``
    excepted at both ends (a request already on its way when the 403 was answered is no breach)."""
    app = [r for r in log if (r.get("actor") or "").startswith(APP_ACTOR) and r.get("installation")]
    out = []
    for r in app:
        if r.get("fault") not in ("secondary_403", "secondary_403_retry_after") or r["status"] != 403:
            continue
        asked = retry_after if r["fault"] == "secondary_403_retry_after" else 60.0
        for n in app:
            offset = n["started"] - r["at"]
            if n["installation"] == r["installation"] and PAUSE_GRACE <= offset <= asked - PAUSE_GRACE:
                out.append((r["fault"], f"{n['method']} {n['path']}", round(offset, 2)))
    return out


class PrivateRedis:
    """A throw-away ``redis-server`` (no persistence) on ``port``: ``start()``, ``stop()``."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.workdir / "redis.log", "ab")  # noqa: SIM115 - owned by the process
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                      "--save", "", "--appendonly", "no", "--daemonize", "no"],
                                     stdout=log, stderr=subprocess.STDOUT)
        wait_until(lambda: redis.Redis(port=self.port).ping(), 10, "the private redis-server")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
