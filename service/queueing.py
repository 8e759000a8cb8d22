"""Redis and RQ plumbing shared by the web process and the workers: delivery claims
(de-duplication), enqueueing with coalescing, per-unit locks, and the periodic chain.

Redis holds only the queue and short-lived keys (DESIGN intro), all under ``wavegate:``:

| key | value | lifetime |
|---|---|---|
| ``wavegate:delivery:<GUID>`` | ``claimed``, then the id of the job that carries the delivery | 24 h |
| ``wavegate:pending:<work key>`` | id of the queued job that will do that work | until the job starts (≤ 15 min) |
| ``wavegate:lock:<work key>`` | redis-py ``Lock`` token | while the job runs (≤ job timeout + 60 s) |
| ``wavegate:periodic`` | id of the next scheduled ``reconcile_all`` | 2 intervals + 60 s |

Job arguments are JSON primitives (``serializer=JSONSerializer``): never PyGithub objects, whose
pickles carry the installation token.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import redis
from redis.lock import Lock
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from .routes import JOBS, Route

PREFIX = "wavegate:"
DELIVERY_TTL = 24 * 3600
PENDING_TTL = 15 * 60
JOB_TIMEOUT = 600
LOCK_TIMEOUT = JOB_TIMEOUT + 60
RESULT_TTL = 3600
FAILURE_TTL = 7 * 24 * 3600
RETRY_INTERVALS = (10, 60, 300)
CLAIMED = "claimed"
PERIODIC_KEY = PREFIX + "periodic"

_JOB_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_WAITING = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
_REDO = {JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED}

# Set ``key`` to ARGV[2] when it is absent or still holds ARGV[1]; 1 if set. Used to hand a
# pending slot or the periodic chain from one job to its successor atomically.
_HAND_OVER = """
local cur = redis.call('GET', KEYS[1])
if (not cur) or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', tonumber(ARGV[3]))
  return 1
end
return 0
"""
_DELETE_IF = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def connect(url: str, *, timeout: float = 5.0) -> redis.Redis:
    """A Redis client for ``url`` (bytes responses, as RQ requires). No connection is made
    until the first command; connection errors surface then as ``redis.ConnectionError``."""
    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout,
                                health_check_interval=30)


def make_queue(name: str, connection: redis.Redis) -> Queue:
    """The RQ queue ``name`` with the JSON serializer (workers must use the same)."""
    return Queue(name, connection=connection, serializer=JSONSerializer, default_timeout=JOB_TIMEOUT)


def retry_policy() -> Retry:
    """Retries for transient GitHub failures: 3 more attempts after 10 s, 60 s and 300 s
    (scheduled, so workers run ``--with-scheduler``). Jobs widen an interval to honour
    ``retry_after`` and cancel retries for permanent errors."""
    return Retry(max=len(RETRY_INTERVALS), interval=list(RETRY_INTERVALS))


def new_job_id(job: str, delivery_id: str | None = None) -> str:
    """A fresh RQ job id (charset ``[A-Za-z0-9_-]``): ``<job>-<delivery>-<random>``."""
    name = job.rsplit(".", 1)[-1]
    middle = _JOB_ID_UNSAFE.sub("_", delivery_id)[:64] + "-" if delivery_id else ""
    return f"{name}-{middle}{uuid.uuid4().hex[:12]}"


def _text(value: bytes | str | None) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def job_status(connection: redis.Redis, job_id: str) -> JobStatus | None:
    """The RQ status of ``job_id``, or None if the job is gone (finished and expired)."""
    try:
        return Job.fetch(job_id, connection=connection, serializer=JSONSerializer).get_status()
    except NoSuchJobError:
        return None


# ----------------------------------------------------------------------- delivery claims


@dataclass(frozen=True)
class Claim:
    """Outcome of claiming a delivery GUID. ``fresh``: this request owns it and must enqueue.
    Otherwise ``job_id`` is the job an earlier copy went to (None while that copy is still
    being enqueued)."""

    fresh: bool
    job_id: str | None = None


def delivery_key(delivery_id: str) -> str:
    return f"{PREFIX}delivery:{delivery_id}"


def claim_delivery(connection: redis.Redis, delivery_id: str) -> Claim:
    """Atomically claim ``delivery_id`` (``SET NX EX 24h``).

    A redelivery keeps the GUID (GitHub never redelivers by itself; an operator does, after a
    failure), so a claim whose job FAILED (or was stopped/cancelled) is taken over once —
    compare-and-set, so two concurrent redeliveries still make one job. Raises
    ``redis.RedisError`` when Redis is unreachable.
    """
    key = delivery_key(delivery_id)
    if connection.set(key, CLAIMED, nx=True, ex=DELIVERY_TTL):
        return Claim(True)
    prior = _text(connection.get(key))
    if prior is None:  # expired in between
        return Claim(bool(connection.set(key, CLAIMED, nx=True, ex=DELIVERY_TTL)))
    if prior == CLAIMED or job_status(connection, prior) not in _REDO:
        return Claim(False, None if prior == CLAIMED else prior)
    taken = connection.eval(_HAND_OVER, 1, key, prior, CLAIMED, DELIVERY_TTL)
    return Claim(bool(taken), None if taken else prior)


def bind_delivery(connection: redis.Redis, delivery_id: str, job_id: str) -> None:
    """Record which job carries the delivery, for a later redelivery's decision."""
    connection.set(delivery_key(delivery_id), job_id, xx=True, keepttl=True)


def release_delivery(connection: redis.Redis, delivery_id: str) -> None:
    """Drop the claim (the enqueue failed): GitHub's redelivery must then be processed."""
    connection.delete(delivery_key(delivery_id))


# ----------------------------------------------------------------------- enqueue and coalescing


def pending_key(work: str) -> str:
    return f"{PREFIX}pending:{work}"


def lock_key(work: str) -> str:
    return f"{PREFIX}lock:{work}"


@dataclass(frozen=True)
class Enqueued:
    """``job_id`` carries the work; ``coalesced`` if it was already waiting in the queue."""

    job_id: str
    coalesced: bool = False


def enqueue(queue: Queue, route: Route, *, delivery_id: str | None = None) -> Enqueued:
    """Enqueue ``route`` (kwargs plus ``delivery_id``), folding it into an already queued job
    for the same ``route.coalesce`` key.

    The pending key is set NX before the enqueue; the job deletes it when it starts, before it
    reads any state, so an event that arrives while it runs schedules exactly one more run. A
    pending key whose job is no longer waiting (lost, or already started) is taken over.
    Raises ``redis.RedisError`` when Redis fails (the pending key is then released).
    """
    connection = queue.connection
    job_id = new_job_id(route.job, delivery_id)
    pending = pending_key(route.coalesce) if route.coalesce else None
    if pending and not connection.set(pending, job_id, nx=True, ex=PENDING_TTL):
        existing = _text(connection.get(pending))
        if existing and job_status(connection, existing) in _WAITING:
            return Enqueued(existing, coalesced=True)
        if not connection.eval(_HAND_OVER, 1, pending, existing or "", job_id, PENDING_TTL):
            return Enqueued(_text(connection.get(pending)) or job_id, coalesced=True)
    try:
        queue.enqueue(route.job, kwargs={**route.kwargs, "delivery_id": delivery_id}, job_id=job_id,
                      retry=retry_policy(), job_timeout=JOB_TIMEOUT, result_ttl=RESULT_TTL,
                      failure_ttl=FAILURE_TTL, description=f"{route.job.rsplit('.', 1)[-1]} {route.coalesce or ''}")
    except Exception:
        if pending:
            with contextlib.suppress(redis.RedisError):
                connection.eval(_DELETE_IF, 1, pending, job_id)
        raise
    return Enqueued(job_id)


def clear_pending(connection: redis.Redis, work: str) -> None:
    """Called by a job as it starts: later events for ``work`` must queue a new run."""
    connection.delete(pending_key(work))


def hand_over_pending(connection: redis.Redis, work: str, old_job_id: str, new_job_id: str) -> bool:
    """Point ``work``'s pending slot at ``new_job_id`` if it is free or still ``old_job_id``.
    False: another job is already pending for that work and will do it."""
    return bool(connection.eval(_HAND_OVER, 1, pending_key(work), old_job_id, new_job_id, PENDING_TTL))


def work_lock(connection: redis.Redis, work: str, timeout: int = LOCK_TIMEOUT) -> Lock:
    """The per-unit lock (per plan, per PR …); it expires after ``timeout`` seconds so a killed
    worker cannot hold it forever. Acquire with ``blocking=False``."""
    return connection.lock(lock_key(work), timeout=timeout, blocking=False)


def enqueue_later(queue: Queue, func: str, kwargs: dict[str, Any], *, seconds: float, job_id: str,
                  meta: dict[str, Any] | None = None, retry: bool = True) -> Job:
    """Schedule ``func`` in ``seconds`` (needs a worker running with the scheduler), with the
    transient-failure retries unless ``retry`` is False."""
    return queue.enqueue_in(timedelta(seconds=seconds), func, kwargs=kwargs, job_id=job_id,
                            retry=retry_policy() if retry else None, job_timeout=JOB_TIMEOUT, result_ttl=RESULT_TTL,
                            failure_ttl=FAILURE_TTL, meta=meta or {})


# ----------------------------------------------------------------------- periodic chain


def arm_periodic(queue: Queue, interval: int, *, current_job_id: str | None = None) -> str | None:
    """Schedule the next ``reconcile_all`` in ``interval`` seconds and return its job id.

    Only one chain exists: ``wavegate:periodic`` holds the next run's id. A worker starting up
    (``current_job_id`` None) arms only when no chain is alive; a running ``reconcile_all``
    re-arms only if it is the chain's current link. Returns None when another chain owns it.
    """
    next_id = new_job_id(JOBS + "reconcile_all")
    ttl = 2 * interval + 60
    if current_job_id is None:
        armed = queue.connection.set(PERIODIC_KEY, next_id, nx=True, ex=ttl)
    else:
        armed = queue.connection.eval(_HAND_OVER, 1, PERIODIC_KEY, current_job_id, next_id, ttl)
    if not armed:
        return None
    # No retries: the next link runs one interval later anyway.
    enqueue_later(queue, JOBS + "reconcile_all", {}, seconds=interval, job_id=next_id, retry=False)
    return next_id
