"""RQ jobs: each builds the installation's GitHub port and calls one use case of
``service.usecases``. Arguments are JSON primitives only (ids, numbers, SHAs, logins); every job
re-reads current state, so duplicate, late and reordered events converge.

Common behaviour (``_run``):
- a job that coalesces clears its pending slot as it starts, before reading any state, so an
  event that arrives during the run schedules exactly one more run;
- a job that works on a plan (or a PR) holds that unit's Redis lock (``LOCK_TTL`` seconds,
  renewed while the job runs, so it lapses soon after a worker dies mid-job); when the lock is
  taken it does not block a worker but re-schedules itself ``LOCK_WAIT`` seconds later (or
  leaves the work to a job already pending for the same unit);
- ``TransientGitHubError``/``RateLimited`` are retried by RQ (``queueing.retry_policy``), the next
  attempt no sooner than the error's ``retry_after``; any other error is not retried;
- after the last attempt ``usecases.report_failure`` makes the affected check run or dashboard say
  what failed, with the job id; then the job fails (and a redelivery of its delivery is processed).
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from github import GithubException
from redis.exceptions import LockError
from rq import get_current_job
from rq.job import Job

from service import jobspec, queueing, usecases
from service.errors import ConfigError, RateLimited, TransientGitHubError
from service.gh import GitHubPort
from service.gh import app as gh_app
from service.gh.errors import map_error, wait_seconds
from service.gh.pacing import RedisPacer
from service.jobspec import JOBS, Route
from service.logs import bound, event

from . import context

log = logging.getLogger(__name__)
LOCK_WAIT = 5
MAX_LOCK_WAITS = 120
LOCK_TTL = 30  # seconds a unit lock outlives a dead job (renewed while the job runs: _LockKeeper)


def reconcile_plan(installation_id: int, repo: str, issue: int, sender: str | None = None, reason: str = "",
                   delivery_id: str | None = None) -> str:
    """Dispatch or re-evaluate the plan of issue ``issue`` (``issues`` events)."""
    return _run("reconcile_plan", installation_id, repo, delivery_id, number=issue,
                coalesce=jobspec.plan_key(installation_id, repo, issue, sender),
                failure={"issue": issue},
                call=lambda gh, job_id: usecases.reconcile_plan(gh, repo, issue, sender=sender, reason=reason,
                                                               job_id=job_id))


def check_pull(installation_id: int, repo: str, number: int, head_sha: str | None = None,
               delivery_id: str | None = None) -> str:
    """Both checks of PR ``number`` on its current head (``pull_request`` events). Jobs are
    coalesced per PR, so this job may stand for several pushes: it checks whatever head the PR
    has when it runs, not only ``head_sha`` (the first event's, kept for logs and for the failure
    report, which is dropped when the head moved)."""
    return _run("check_pull", installation_id, repo, delivery_id, number=number, sha=head_sha,
                coalesce=jobspec.pull_key(installation_id, repo, number),
                failure={"number": number, "head_sha": head_sha},
                call=lambda gh, job_id: usecases.check_pull(gh, repo, number, None, job_id=job_id))


def pull_closed(installation_id: int, repo: str, number: int, delivery_id: str | None = None) -> str:
    """PR ``number`` closed, merged or not: re-evaluate its plan."""
    return _run("pull_closed", installation_id, repo, delivery_id, number=number,
                coalesce=jobspec.closed_key(installation_id, repo, number),
                failure={"number": number},
                call=lambda gh, job_id: usecases.pull_closed(gh, repo, number, job_id=job_id))


def follow_run(installation_id: int, repo: str, run_id: int, number: int, delivery_id: str | None = None) -> str:
    """``workflow_run`` of an agent's run naming PR ``number``: refresh its plan's dashboard."""
    return _run("follow_run", installation_id, repo, delivery_id, number=number,
                coalesce=jobspec.run_key(installation_id, repo, number),
                failure={"number": number},
                call=lambda gh, job_id: usecases.follow_run(gh, repo, run_id, number, job_id=job_id))


def rerun_checks(installation_id: int, repo: str, head_sha: str, pr_numbers: list[int] | None = None,
                 check_name: str | None = None, delivery_id: str | None = None) -> str:
    """``check_run``/``check_suite`` ``rerequested`` on ``head_sha``."""
    numbers = tuple(int(n) for n in pr_numbers or ())
    return _run("rerun_checks", installation_id, repo, delivery_id, sha=head_sha,
                number=numbers[0] if numbers else None,
                coalesce=jobspec.rerun_key(installation_id, repo, head_sha, check_name),
                failure={"number": numbers[0] if numbers else None, "head_sha": head_sha},
                call=lambda gh, job_id: usecases.rerun_checks(gh, repo, head_sha, numbers, check_name=check_name,
                                                             job_id=job_id))


def check_merge_group(installation_id: int, repo: str, head_sha: str, base_sha: str, head_ref: str,
                      delivery_id: str | None = None) -> str:
    """``merge_group`` ``checks_requested``: both checks on the group's ``head_sha``."""
    return _run("check_merge_group", installation_id, repo, delivery_id, sha=head_sha,
                coalesce=jobspec.group_key(installation_id, repo, head_sha),
                failure={"head_sha": head_sha},
                call=lambda gh, job_id: usecases.check_merge_group(gh, repo, head_sha, base_sha, head_ref,
                                                                  job_id=job_id))


def handle_command(installation_id: int, repo: str, issue: int, comment_id: int, sender: str | None,
                   delivery_id: str | None = None) -> str:
    """``/wavegate`` commands in comment ``comment_id`` (never coalesced: each is a request)."""
    return _run("handle_command", installation_id, repo, delivery_id, number=issue,
                failure={"issue": issue},
                call=lambda gh, job_id: usecases.handle_command(gh, repo, issue, comment_id, sender or "",
                                                               job_id=job_id))


def _repo_lock(installation_id: int, repo: str) -> str:
    """One lock per repository for every job that writes to it. A plan's PRs are written by
    plan reconciles, PR checks, closes, re-runs and the periodic pass alike; under narrower
    locks two of them could both find no check run on a head and both create one. GitHub paces
    an installation's writes one at a time anyway, so little parallelism is lost, and jobs of
    different repositories still run side by side."""
    return jobspec.repo_key(installation_id, repo)


def reconcile_repository(installation_id: int, repo: str, delivery_id: str | None = None) -> str:
    """Periodic healing of every active dispatch issue of ``repo``."""
    return _run("reconcile_repository", installation_id, repo, delivery_id,
                coalesce=jobspec.repo_key(installation_id, repo),
                failure={},
                call=lambda gh, job_id: usecases.reconcile_repository(gh, repo, job_id=job_id))


def reconcile_all() -> str:
    """The periodic job: re-arm the chain (every ``RECONCILE_INTERVAL`` s, one chain only), then
    enqueue ``reconcile_repository`` for every repository of every installation (coalesced per
    repository). Needs ``service.gh.app.app_installations(settings, pacer=…) -> [(installation_id,
    [full_name, …]), …]``; raises ``ConfigError`` when the adapter lacks it."""
    job = get_current_job()
    connection = job.connection if job else context.redis_connection()
    settings = context.settings()
    queue = queueing.make_queue(job.origin if job else settings.queue_name, connection)
    if job is not None and queueing.arm_periodic(queue, settings.reconcile_interval, current_job_id=job.id) is None:
        event(log, "periodic_run", outcome="another chain is active")
        return "another chain is active"
    listing = getattr(gh_app, "app_installations", None)
    if listing is None:
        raise ConfigError("service.gh.app.app_installations is missing: the periodic reconcile cannot list repositories")
    count = 0
    for installation_id, repos in _installations(listing, settings, RedisPacer(connection)):
        for repo in repos:
            queueing.enqueue(queue, Route(JOBS + "reconcile_repository",
                                          {"installation_id": int(installation_id), "repo": repo},
                                          jobspec.repo_key(installation_id, repo)))
            count += 1
    swept = _sweep_failed_deliveries(connection, settings) if settings.redelivery_sweep else 0
    event(log, "periodic_run", repositories=count, redelivered=swept)
    return f"{count} repositories, {swept} redelivered"


APP_PAUSE_KEY = "app"  # the pause of the App's own (JWT) requests, shared like an installation's


def _installations(listing: Callable[..., Any], settings: Any, pacer: RedisPacer) -> list:
    """``listing(settings, pacer=pacer)`` (``GET /app/installations`` with the App's JWT, then
    each installation's repositories through its port, which keeps that installation's pauses).
    The App's own requests get the same rule: not sent while the App is paused (raises
    ``RateLimited``), and a rate-limited answer pauses the App — every worker process — for its
    wait (``Retry-After``, else at least 60 s) before it is raised as ``RateLimited``."""
    left = pacer.paused_for(APP_PAUSE_KEY)
    if left > 0:
        raise RateLimited(f"GET /app/installations: not sent, the App is rate limited for {left:.0f} s",
                          retry_after=left)
    try:
        return list(listing(settings, pacer=pacer))
    except GithubException as exc:
        error = map_error(exc, "GET /app/installations")
        if isinstance(error, RateLimited):
            error.retry_after = wait_seconds(exc.headers)
            pacer.pause(APP_PAUSE_KEY, error.retry_after)
        raise error from None


# The registry of job functions: the only functions a worker runs (``workers.guard`` refuses any
# other dotted name found in the queue, unimported). A new job is added here.
JOB_FUNCTIONS: tuple[Callable[..., Any], ...] = (
    reconcile_plan, check_pull, pull_closed, rerun_checks, check_merge_group, handle_command, follow_run,
    reconcile_repository, reconcile_all)


SWEEP_KEY = queueing.PREFIX + "redelivered"
SWEEP_WINDOW = 3 * 24 * 3600  # GitHub keeps deliveries redeliverable for 3 days (github.com)
MAX_REDELIVERIES = 3


def _sweep_failed_deliveries(connection: redis.Redis, settings) -> int:
    """``REDELIVERY_SWEEP``: ask GitHub to redeliver App deliveries that failed because this
    service was down or erred (no answer, or 5xx) — GitHub never redelivers by itself. Returns how
    many redeliveries were asked for.

    Each attempt GitHub made is its own entry in the listing (same GUID, ``redelivery`` true), so
    only the newest attempt of a GUID counts. A GUID is asked for again when a newer failed attempt
    than the one last asked for appears (a redelivery that itself hit the outage), at most
    ``MAX_REDELIVERIES`` times; the hash ``wavegate:redelivered`` (GUID → ``<count>:<delivery id>``)
    remembers, for the redelivery window. 4xx answers (bad signature, malformed body) are left
    alone, since sending them again cannot succeed. The listing follows GitHub's cursor pages,
    newest first, up to ``gh_app.DELIVERY_PAGES`` pages and no further back than the window."""
    redelivered = 0
    since = datetime.now(UTC) - timedelta(seconds=SWEEP_WINDOW)
    newest: dict[str, Any] = {}
    for delivery in gh_app.list_failed_deliveries(settings, since=since):
        newest.setdefault(delivery.guid, delivery)  # newest first
    for guid, delivery in newest.items():
        if delivery.status_code and delivery.status_code < 500:
            continue
        raw = connection.hget(SWEEP_KEY, guid)
        text = raw.decode() if isinstance(raw, bytes) else raw
        count, _, last = (text or "0:").partition(":")
        if last == str(delivery.id) or int(count) >= MAX_REDELIVERIES:
            continue  # already asked for after this attempt, or given up on
        connection.hset(SWEEP_KEY, guid, f"{int(count) + 1}:{delivery.id}")
        connection.expire(SWEEP_KEY, SWEEP_WINDOW)
        gh_app.redeliver(settings, delivery.id)
        redelivered += 1
    return redelivered


# --------------------------------------------------------------------------- shared wrapper


def _connection(job: Job | None) -> redis.Redis:
    return job.connection if job is not None else context.redis_connection()


def _run(name: str, installation_id: int, repo: str, delivery_id: str | None, *,
         call: Callable[[GitHubPort, str | None], str], failure: dict[str, Any],
         coalesce: str | None = None, number: int | None = None, sha: str | None = None) -> str:
    """Runs ``call`` under the repository's lock (``_repo_lock``), with the job's log fields bound."""
    job = get_current_job()
    job_id = job.id if job is not None else None
    with bound(delivery_id=delivery_id, installation_id=installation_id, repo=repo, number=number, sha=sha,
               job_id=job_id):
        connection = _connection(job)
        # thread_local=False: the keeper thread renews the lock this thread took
        held = connection.lock(queueing.lock_key(_repo_lock(installation_id, repo)), timeout=LOCK_TTL,
                               blocking=False, thread_local=False)
        if not held.acquire(blocking=False):
            return _wait_for_lock(job, connection, name, coalesce)
        keeper = _LockKeeper(held)
        try:
            if coalesce:
                queueing.clear_pending(connection, coalesce)
            event(log, "job_started", job=name)
            started = time.monotonic()
            try:
                outcome = call(context.github_for(installation_id), job_id)
            except TransientGitHubError as exc:
                if job is not None and job.should_retry:
                    _honour_retry_after(job, exc.retry_after)
                    event(log, "job_retrying", logging.WARNING, job=name, error=type(exc).__name__,
                          message=str(exc), retry_after=exc.retry_after, retries_left=job.retries_left)
                    raise
                _final_failure(name, installation_id, repo, job_id, failure, exc)
                raise
            except Exception as exc:
                if job is not None:
                    job.retries_left = 0  # permanent (PermissionDenied, NotFound, a bug): do not retry
                _final_failure(name, installation_id, repo, job_id, failure, exc)
                raise
            event(log, "job_finished", job=name, outcome=str(outcome),
                  duration_ms=round((time.monotonic() - started) * 1000))
            return str(outcome)
        finally:
            keeper.stop()
            # LockError: it expired while the job ran; another job may hold it now.
            with contextlib.suppress(LockError):
                held.release()


class _LockKeeper:
    """Keeps a held unit lock alive while its job runs: the lock is taken for ``LOCK_TTL``
    seconds and renewed every ``LOCK_TTL / 3`` by a daemon thread. The worker runs jobs in its
    own process, so a worker that dies mid-job (SIGKILL, OOM) takes the job with it; its lock
    then lapses within ``LOCK_TTL`` seconds instead of blocking the repository for the job
    timeout, and the next event or the periodic reconcile redoes the work."""

    def __init__(self, lock: Any) -> None:
        self._lock = lock
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._renew, name="lock-keeper", daemon=True)
        self._thread.start()

    def _renew(self) -> None:
        while not self._done.wait(LOCK_TTL / 3):
            try:
                self._lock.extend(LOCK_TTL, replace_ttl=True)
            except (LockError, redis.RedisError) as exc:  # lost it, or Redis is away: stop renewing
                event(log, "lock_lost", logging.WARNING, error=type(exc).__name__, message=str(exc)[:200])
                return

    def stop(self) -> None:
        """Stop renewing (before the lock is released)."""
        self._done.set()
        self._thread.join(timeout=5)


def _honour_retry_after(job: Job, retry_after: float | None) -> None:
    """Make RQ's next retry wait at least ``retry_after`` seconds (GitHub's Retry-After or rate
    limit reset). RQ picks ``retry_intervals[len - retries_left]`` on the job object this
    process holds, so widening that entry reschedules the retry at that time."""
    if not retry_after or not job.retries_left:
        return
    intervals = list(job.retry_intervals or [0])
    index = max(len(intervals) - job.retries_left, 0)
    intervals[index] = max(int(intervals[index]), math.ceil(retry_after))
    job.retry_intervals = intervals


def _final_failure(name: str, installation_id: int, repo: str, job_id: str | None, failure: dict[str, Any],
                   exc: BaseException) -> None:
    what = f"{name} failed: {type(exc).__name__}: {exc}"[:500]
    event(log, "job_failed", logging.ERROR, job=name, error=type(exc).__name__, message=str(exc))
    try:
        usecases.report_failure(context.github_for(installation_id), repo, number=failure.get("number"),
                               head_sha=failure.get("head_sha"), issue=failure.get("issue"), what=what,
                               job_id=job_id)
    except Exception as report_exc:  # reporting must never hide the original failure
        event(log, "report_failed", logging.ERROR, error=type(report_exc).__name__, message=str(report_exc))


def _wait_for_lock(job: Job | None, connection: redis.Redis, name: str, coalesce: str | None) -> str:
    """The unit's lock is held by another job: come back in ``LOCK_WAIT`` seconds as a new job,
    unless a job is already pending for the same work (it will see this event's effects)."""
    if job is None:
        event(log, "lock_busy", job=name, outcome="not in a job: skipped")
        return "lock busy"
    waits = int(job.meta.get("lock_waits", 0)) + 1
    if waits > MAX_LOCK_WAITS:
        event(log, "lock_busy", logging.WARNING, job=name, outcome="gave up; the periodic reconcile heals")
        return "lock busy: gave up"
    func = str(job.func_name)
    new_id = queueing.new_job_id(func)
    if coalesce and not queueing.hand_over_pending(connection, coalesce, job.id, new_id):
        event(log, "job_coalesced", job=name, outcome="another job is pending for this work")
        return "lock busy: coalesced"
    queue = queueing.make_queue(job.origin, connection)
    queueing.enqueue_later(queue, func, dict(job.kwargs), seconds=LOCK_WAIT, job_id=new_id,
                           meta={"lock_waits": waits})
    event(log, "lock_busy", job=name, outcome=f"rescheduled as {new_id}", waits=waits)
    return f"lock busy: rescheduled as {new_id}"
