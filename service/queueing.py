"""Redis and RQ plumbing shared by the web process and the workers: delivery claims
(de-duplication), enqueueing with coalescing, the repository lock keys, and the periodic chain.

Redis holds only the queue and short-lived keys (DESIGN intro), all under ``wavegate:``:

| key | value | lifetime |
|---|---|---|
| ``wavegate:delivery:<GUID>`` | the id of the job that carries the delivery (``claimed`` first on the ``claim_delivery`` path) | 24 h |
| ``wavegate:pending:<work key>`` | id of the queued job that will do that work | until the job starts (≤ 15 min) |
| ``wavegate:lock:repo:<installation>:<owner/repo>`` | redis-py ``Lock`` token of the job writing to the repository | 30 s, renewed every 10 s while the job runs (``workers.jobs.LOCK_TTL``) |
| ``wavegate:periodic`` | id of the next scheduled ``reconcile_all`` | 2 intervals + 60 s |
| ``wavegate:pace:pause:<installation>`` | epoch second a rate-limit pause of the installation ends | until it ends |
| ``wavegate:changes:<installation>:<repo>:<number>:<head SHA>:<base head SHA>`` | the PR's changed paths, compressed | 1 h |

The web process stores deliveries with ``ingest_many``: one ``EVALSHA`` each (pipelined) that claims
the GUID, folds it into a waiting job or writes a new RQ job hash and pushes its id, all atomically (one round trip
instead of RQ ``enqueue``'s two plus three for the claim; docs/performance.md has the figures).

Job arguments are JSON primitives (``serializer=JSONSerializer``): never PyGithub objects, whose
pickles carry the installation token.
"""

from __future__ import annotations

import contextlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
import redis
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer
from rq.utils import now, utcformat

from .jobspec import JOBS, Route

PREFIX = "wavegate:"
DELIVERY_TTL = 24 * 3600
PENDING_TTL = 15 * 60
JOB_TIMEOUT = 600
RESULT_TTL = 3600
FAILURE_TTL = 7 * 24 * 3600
# Jobs resume where they stopped (creates look first), so each attempt gets further.
RETRY_INTERVALS = (5, 15, 30, 60, 120, 300, 600)
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
    """Retries for transient GitHub failures: 7 more attempts after ``RETRY_INTERVALS`` seconds
    (5 s … 600 s; scheduled, so workers run ``--with-scheduler``). Jobs widen an interval to honour
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


# ----------------------------------------------------------------------- the web process's single write

# KEYS: delivery, pending (ignored when ARGV[2] is '0'), job hash, queue list, RQ's set of queues.
# ARGV: job id, coalesce flag, the job hash's fixed fields as one JSON object (the same bytes every
# call: packing ~20 separate arguments cost more than the script), then data, created/enqueued
# stamp, description. The TTLs and RQ's job key prefix are constants written into the script (fewer
# arguments to pack and parse per delivery). Returns {outcome, job id}.
# The same decisions as ``claim_delivery`` then ``enqueue`` then ``bind_delivery``, but atomic: no
# "claimed" window, nothing to release on failure.
# Statuses are RQ's ``JobStatus`` values; the job keys read here are computed in the script, so
# this needs a single Redis (not Cluster), like RQ itself.
_INGEST = """
local function status(id) return redis.call('HGET', '@JOB_PREFIX@' .. id, 'status') end
local prior = redis.call('GET', KEYS[1])
if prior then
  if prior == 'claimed' then return {'duplicate', ''} end
  local st = status(prior)
  if st ~= 'failed' and st ~= 'stopped' and st ~= 'canceled' then return {'duplicate', prior} end
end
if ARGV[2] == '1' then
  local existing = redis.call('GET', KEYS[2])
  if existing then
    local st = status(existing)
    if st == 'queued' or st == 'scheduled' or st == 'deferred' then
      redis.call('SET', KEYS[1], existing, 'EX', @DELIVERY_TTL@)
      return {'coalesced', existing}
    end
  end
end
local fields = {'data', ARGV[4], 'created_at', ARGV[5], 'enqueued_at', ARGV[5], 'description', ARGV[6]}
for k, v in pairs(cjson.decode(ARGV[3])) do
  fields[#fields + 1] = k
  fields[#fields + 1] = tostring(v)
end
-- The job hash first: scripts are not rolled back, so a failure here leaves nothing behind.
redis.call('HSET', KEYS[3], unpack(fields))
if ARGV[2] == '1' then redis.call('SET', KEYS[2], ARGV[1], 'EX', @PENDING_TTL@) end
redis.call('SADD', KEYS[5], KEYS[4])
redis.call('RPUSH', KEYS[4], ARGV[1])
redis.call('SET', KEYS[1], ARGV[1], 'EX', @DELIVERY_TTL@)
return {'enqueued', ARGV[1]}
""".replace("@JOB_PREFIX@", Job.redis_job_namespace_prefix).replace(
    "@DELIVERY_TTL@", str(DELIVERY_TTL)).replace("@PENDING_TTL@", str(PENDING_TTL))
_DYNAMIC_FIELDS = ("data", "created_at", "enqueued_at", "description")
_templates: dict[tuple, dict[str, Any]] = {}
_template_json: dict[tuple, bytes] = {}


@dataclass(frozen=True)
class Ingested:
    """Outcome of storing one delivery (``ingest_many``): ``outcome`` is ``enqueued`` (a new job), ``coalesced`` (folded into
    the waiting ``job_id``) or ``duplicate`` (GUID already stored; ``job_id`` is the job that
    carries it, None when unknown)."""

    outcome: str
    job_id: str | None


def _job_template(queue: Queue, func: str) -> dict[str, Any]:
    """The fields of an RQ job hash that do not vary per delivery, taken from RQ's own
    ``Job.to_dict`` once per (queue, job, policy) so the hash stays whatever this RQ version writes."""
    key = (queue.name, func, tuple(RETRY_INTERVALS), JOB_TIMEOUT, RESULT_TTL, FAILURE_TTL)
    template = _templates.get(key)
    if template is None:
        job = queue.create_job(func, kwargs={}, job_id="template", retry=retry_policy(), timeout=JOB_TIMEOUT,
                               result_ttl=RESULT_TTL, failure_ttl=FAILURE_TTL, description="")
        job.origin = queue.name
        job.enqueued_at = now()
        job._status = JobStatus.QUEUED
        template = {k: (v.value if isinstance(v, JobStatus) else v) for k, v in job.to_dict().items()
                    if k not in _DYNAMIC_FIELDS}
        _templates[key] = template
    return template


def _fixed_json(queue: Queue, func: str) -> bytes:
    """The fixed fields of ``_job_template`` as the JSON bytes the script decodes (built once)."""
    key = (queue.name, func, tuple(RETRY_INTERVALS), JOB_TIMEOUT, RESULT_TTL, FAILURE_TTL)
    text = _template_json.get(key)
    if text is None:
        template = _job_template(queue, func)
        text = _template_json[key] = json.dumps({k: v.decode() if isinstance(v, bytes) else v
                                                 for k, v in template.items()}).encode()
    return text


_ingest_sha: list[str] = []  # the script's SHA-1 once loaded into the server


def _ingest_command(queue: Queue, route: Route, delivery_id: str) -> tuple[Any, ...]:
    """The ``EVALSHA`` of ``_INGEST`` storing one delivery (see ``ingest_many``), without the SHA."""
    job_id = new_job_id(route.job, delivery_id)
    kwargs = {**route.kwargs, "delivery_id": delivery_id}
    # RQ's job ``data``: the serialized (func, instance, args, kwargs). Written uncompressed: RQ
    # reads data that is not zlib as it is (``Job.restore``: "Fallback to uncompressed string"; a
    # JSON array never starts with a valid zlib header), and zlib's setup alone cost ~17 µs per
    # delivery. orjson writes the JSON that RQ's JSONSerializer reads (json.loads).
    data = orjson.dumps((route.job, None, [], kwargs))
    coalesce = route.coalesce
    return (5, delivery_key(delivery_id), pending_key(coalesce or "-"), Job.redis_job_namespace_prefix + job_id,
            queue.key, Queue.redis_queues_keys,
            job_id, b"1" if coalesce else b"0", _fixed_json(queue, route.job), data, utcformat(now()),
            f"{route.job.rsplit('.', 1)[-1]} {coalesce or ''}")


def ingest_many(connection: redis.Redis, queue: Queue,
                items: list[tuple[Route, str]]) -> list[Ingested | Exception]:
    """Store webhook deliveries, one per (route, delivery id) of ``items``, pipelined: one write and
    one read for them all, each delivery's script atomic on its own. Each script claims the
    delivery id (``duplicate`` unless its job FAILED/was stopped/cancelled — a redelivery is then
    taken over, as in ``claim_delivery``), folds it into the waiting job for ``route.coalesce``
    (``coalesced``), or writes a new RQ job carrying ``route.kwargs`` plus ``delivery_id`` and
    pushes it on ``queue`` (``enqueued``).

    One outcome per item, in order: ``Ingested`` (the delivery is in Redis), or the exception that
    left that delivery unstored — a ``redis.RedisError``, or whatever building its command raised
    (that item only). A connection failure answers every item with it (none is known to be
    stored: GitHub may redeliver, and the script finds a stored one a duplicate)."""
    built = [_built(queue, route, delivery_id) for route, delivery_id in items]
    commands = [command for command in built if not isinstance(command, Exception)]
    try:
        results = iter(_run_ingests(connection, commands))
    except redis.RedisError as exc:
        results = iter([exc] * len(commands))
    return [command if isinstance(command, Exception) else _ingested(next(results)) for command in built]


def _built(queue: Queue, route: Route, delivery_id: str) -> tuple[Any, ...] | Exception:
    """``_ingest_command``, or what building it raised (e.g. a value orjson cannot encode)."""
    try:
        return _ingest_command(queue, route, delivery_id)
    except Exception as exc:
        return exc


def _ingested(result: Any) -> Ingested | Exception:
    """The script's reply ``[outcome, job id]`` as ``Ingested``; an error reply as it is."""
    if isinstance(result, Exception):
        return result
    return Ingested(_text(result[0]) or "", _text(result[1]) or None)


def _run_ingests(connection: redis.Redis, commands: list[tuple[Any, ...]]) -> list[Any]:
    """``EVALSHA`` each of ``commands`` in one pipeline; a server that answers NOSCRIPT (first
    use, or restarted and emptied) gets the script loaded and those commands run again (a
    NOSCRIPT reply means the script did not run). Raises ``redis.RedisError`` when the pipeline
    fails as a whole; a failure of the reload or the rerun is the outcome of those commands only
    (the others' replies stand: they are stored)."""
    if not commands:
        return []
    if not _ingest_sha:
        _ingest_sha.append(connection.script_load(_INGEST))
    results = _pipelined(connection, _ingest_sha[0], commands)
    missing = [i for i, result in enumerate(results) if isinstance(result, redis.exceptions.NoScriptError)]
    if not missing:
        return results
    try:
        _ingest_sha[0] = connection.script_load(_INGEST)
        rerun = _pipelined(connection, _ingest_sha[0], [commands[i] for i in missing])
    except redis.RedisError as exc:
        rerun = [exc] * len(missing)
    for i, result in zip(missing, rerun, strict=True):
        results[i] = result
    return results


def _pipelined(connection: redis.Redis, sha: str, commands: list[tuple[Any, ...]]) -> list[Any]:
    pipe = connection.pipeline(transaction=False)
    for command in commands:
        pipe.execute_command("EVALSHA", sha, *command)
    return pipe.execute(raise_on_error=False)
