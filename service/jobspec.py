"""The one owner of job names and work keys, shared by the router (web process) and the jobs
(workers): a job's dotted name, and the key of the unit of work that coalesces its jobs
(``wavegate:pending:<key>``) — so the key a route enqueues under is the key the job clears."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JOBS = "workers.jobs."


def work_key(kind: str, installation_id: int, repo: str, *parts: object) -> str:
    """The identity of one unit of work: ``plan:<installation>:<owner/repo>:<issue>:<sender>``,
    ``pull:…:<number>`` and so on (every part rendered with ``str``)."""
    return ":".join([kind, str(installation_id), repo, *(str(p) for p in parts)])


def plan_key(installation_id: int, repo: str, issue: int, sender: str | None) -> str:
    """A plan reconcile. The sender is part of the key: the job checks the permission of the
    person who asked."""
    return work_key("plan", installation_id, repo, issue, sender or "")


def pull_key(installation_id: int, repo: str, number: int) -> str:
    """A PR check. Per PR, not per (PR, head): the job checks the PR's current head whatever head
    the event named, so one waiting job serves every push that arrives before it starts."""
    return work_key("pull", installation_id, repo, number)


def closed_key(installation_id: int, repo: str, number: int) -> str:
    """A PR closed."""
    return work_key("closed", installation_id, repo, number)


def rerun_key(installation_id: int, repo: str, head_sha: str, check_name: str | None) -> str:
    """A re-run request on one head (one check name, or both: ``""``)."""
    return work_key("rerun", installation_id, repo, head_sha, check_name or "")


def group_key(installation_id: int, repo: str, head_sha: str) -> str:
    """A merge group's checks."""
    return work_key("group", installation_id, repo, head_sha)


def run_key(installation_id: int, repo: str, number: int) -> str:
    """An agent's workflow run moved (``workflow_run``): per agent PR, so a burst of run events
    is one reconcile."""
    return work_key("run", installation_id, repo, number)


def repo_key(installation_id: int, repo: str) -> str:
    """Everything of one repository: the periodic reconcile's key, and the lock every job that
    writes to the repository holds."""
    return work_key("repo", installation_id, repo)


@dataclass(frozen=True)
class Route:
    """Enqueue ``job`` (dotted path) with ``kwargs`` (JSON primitives only). ``coalesce`` names
    the unit of work: while a job for the same key is waiting in the queue, further events for it
    are folded into that job (None: never coalesced)."""

    job: str
    kwargs: dict[str, Any] = field(hash=False)
    coalesce: str | None = None
