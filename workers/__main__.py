"""``python -m workers``: an RQ worker with the scheduler (``rq worker --with-scheduler`` with the
JSON serializer on ``QUEUE_NAME``), which also arms the periodic ``reconcile_all`` chain (a no-op
when a chain is already alive).

Options: ``--burst`` (exit when the queue is empty), ``--name NAME`` (worker name).
With ``WORKER_ALIVE_FILE`` set, the worker keeps in that file the epoch second by which it promised
its next heartbeat (``write_alive``), for a liveness probe that catches a hung worker.
A configuration error prints one line naming the variable and exits with status 2.

At start it checks the registered App's permissions and events (``service.startup``, logged, never
fatal). Metrics: jobs by outcome and duration are recorded here, around each job; GitHub calls in
the job (which runs in this process: no work horse is forked, see ``MeasuredWorker``). With ``METRICS_PORT`` set, the worker serves them at ``:METRICS_PORT/metrics``.
Each worker keeps its metric files in a folder of its own (under ``PROMETHEUS_MULTIPROC_DIR`` when
set, else the temporary directory), removed on exit.
"""

from __future__ import annotations

import os
import shutil
import tempfile

# prometheus-client picks its multiprocess mode when first imported: set the folder before any
# import below can import it. A folder per worker: several workers may share a machine and a
# PROMETHEUS_MULTIPROC_DIR, and each folds its own work horses' files.
_METRICS_DIR: str | None = None
if __name__ == "__main__":
    _parent = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
    if _parent:
        os.makedirs(_parent, exist_ok=True)
    _METRICS_DIR = tempfile.mkdtemp(prefix="worker-", dir=_parent)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _METRICS_DIR

import argparse  # noqa: E402
import logging  # noqa: E402
import math  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

from rq import SimpleWorker  # noqa: E402
from rq.job import Job  # noqa: E402
from rq.scheduler import SCHEDULER_KEY_TEMPLATE, SCHEDULER_LOCKING_KEY_TEMPLATE  # noqa: E402
from rq.serializers import JSONSerializer  # noqa: E402

from service import logs, metrics, queueing, startup  # noqa: E402
from service.errors import ConfigError  # noqa: E402
from service.logs import event  # noqa: E402

from . import context  # noqa: E402
from .guard import GuardedJob, Refusal, refusal  # noqa: E402

log = logging.getLogger("workers")


class MeasuredWorker(SimpleWorker):
    """An RQ worker that runs each job in the worker's own process (``SimpleWorker``: no work
    horse is forked) and records each job's outcome and run time, from the job's state in Redis.

    Not forking is what lets a worker keep, across jobs, each installation's token (PyGithub
    renews it before its hour is up) and the answers behind conditional requests
    (``service.gh``): a forked work horse threw both away at its exit, so every job minted a
    token and re-read everything in full. It also saves the fork per job. Job timeouts still
    apply (RQ's SIGALRM death penalty in this process); a job that crashes the process takes the
    worker with it, and the supervisor restarts it like any dead worker (the job is then
    abandoned and healed by the next event or the periodic reconcile). Metric files of exited
    processes (an older worker of the same folder) are still folded in."""

    reconcile_interval = 300
    idle_wake = 5  # seconds an idle worker waits for a job before its maintenance runs

    @property
    def dequeue_timeout(self) -> int:
        """RQ blocks an idle worker on the queue for ``worker_ttl - 15`` (405) seconds and runs its
        maintenance only between waits. After a worker died holding RQ's scheduler lock (it
        lapses after ~60 s), the worker that replaced it would then stay deaf to scheduled jobs
        (lock waits, retries, the periodic chain) for up to 405 s; waking every ``idle_wake``
        seconds lets it take the scheduler over as soon as the lock lapses."""
        return max(1, min(super().dequeue_timeout, self.idle_wake))

    def run_maintenance_tasks(self) -> None:
        """RQ's registry clean-up (which takes RQ's scheduler over when its lock is free, after
        ``release_dead_scheduler_locks``), plus re-arming the periodic reconcile when its chain
        is gone (a FLUSHDB or an empty Redis after a restart loses the scheduled link and its
        guard key; ``arm_periodic`` is a no-op while a chain is alive)."""
        release_dead_scheduler_locks(self.connection, [q.name for q in self.queues])
        super().run_maintenance_tasks()
        for queue in self.queues:
            queueing.arm_periodic(queue, self.reconcile_interval)

    job_class = GuardedJob
    alive_file: str | None = None  # WORKER_ALIVE_FILE: the liveness probe's deadline file
    _in_job = False

    def heartbeat(self, timeout: int | None = None, pipeline=None) -> None:
        """RQ's heartbeat (the worker promises another within ``timeout`` seconds, default
        ``worker_ttl + 60``), also written to ``alive_file`` as that deadline in epoch seconds.
        While a job runs, the deadline ``execute_job`` wrote stands: this process sends no
        heartbeat until the job ends."""
        super().heartbeat(timeout, pipeline)
        if not self._in_job:
            write_alive(self.alive_file, time.time() + (timeout or self.worker_ttl + 60))

    @staticmethod
    def _screen(job: Job) -> Refusal | None:
        """``guard.refusal(job)``; a refused job is logged, counted and set not to be retried."""
        refused = refusal(job)
        if refused is not None:
            event(log, "job_refused", logging.WARNING, job_id=job.id, reason=refused.reason)
            metrics.record_refused_job(refused.code)
            job.retries_left = None
        return refused

    def execute_job(self, job: Job, queue) -> None:
        """Runs ``job`` (RQ's bookkeeping) and records its outcome. A job that is not one of
        Wavegate's (``workers.guard``) is logged, counted and failed by RQ without its function
        being imported or called, and without a retry; its reason is the failed job's
        exception text."""
        start = time.monotonic()
        refused = self._screen(job)
        # A job runs in this process for up to its timeout, then RQ's death penalty ends it.
        write_alive(self.alive_file, time.time() + (job.timeout or queueing.JOB_TIMEOUT) + 60)
        self._in_job = True
        try:
            super().execute_job(job, queue)
        finally:
            self._in_job = False
            elapsed = time.monotonic() - start
            try:
                status = job.get_status(refresh=True)
                outcome = getattr(status, "value", None) or str(status)
                if job.started_at and job.ended_at:
                    elapsed = (job.ended_at - job.started_at).total_seconds()
            except Exception:  # noqa: BLE001 - the job may be gone (result TTL); metrics must not fail a worker
                outcome = "unknown"
            # a refused job's name is the sender's text: not a metric label
            name = "refused" if refused is not None else (job.func_name or "unknown").rsplit(".", 1)[-1]
            metrics.record_job(name, outcome, elapsed)
            metrics.fold_dead_processes()


def write_alive(path: str | None, deadline: float) -> None:
    """Replace ``path`` (when set) with ``deadline``, whole epoch seconds, by an atomic rename: a
    probe reading it never sees half a number. The liveness probe fails once the clock passes it
    (deploy/k8s/base/worker.yaml), i.e. when the worker missed the heartbeat it promised: hung
    in Redis, in a job past its timeout, or dead."""
    if not path:
        return
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="ascii") as f:
        f.write(f"{math.ceil(deadline)}\n")
    os.replace(tmp, path)


# Delete KEYS[1] only while it still holds ARGV[1] (the dead owner): never another's fresh lock.
_RELEASE_IF_OWNER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # a process of another user: alive
        return True
    return True


def release_dead_scheduler_locks(connection, queue_names: list[str], *, hostname: str | None = None,
                                 alive=_pid_alive) -> list[str]:
    """Free RQ's scheduler lock of each queue in ``queue_names`` when its holder is a scheduler
    process of this host that no longer exists (RQ keeps ``hostname`` and ``pid`` in the
    scheduler's hash). RQ lets such a lock lapse only ~60 s after its holder died, and until
    then nothing scheduled runs (lock waits, retries, the periodic chain). A holder on another
    host, or whose process exists, is left alone. Returns the queue names freed."""
    hostname = hostname or socket.gethostname()
    freed = []
    for name in queue_names:
        lock = SCHEDULER_LOCKING_KEY_TEMPLATE % name
        owner = connection.get(lock)
        if not owner:
            continue
        info = connection.hgetall(SCHEDULER_KEY_TEMPLATE % owner.decode())
        host = (info.get(b"hostname") or b"").decode()
        try:
            pid = int(info.get(b"pid") or 0)
        except ValueError:
            continue
        if host != hostname or pid <= 0 or alive(pid):
            continue
        if connection.eval(_RELEASE_IF_OWNER, 1, lock, owner):
            freed.append(name)
    return freed


def main(argv: list[str] | None = None) -> int:
    """Run the worker until stopped (or, with ``--burst``, until the queue is empty)."""
    parser = argparse.ArgumentParser(prog="python -m workers", description=__doc__.splitlines()[0])
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    parser.add_argument("--name", default=None, help="worker name (default: RQ's)")
    args = parser.parse_args(argv)
    try:
        settings = context.settings()
        port = _metrics_port()
    except ConfigError as exc:
        print(f"wavegate worker: configuration error: {exc}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level, settings.secret_values)
    connection = context.redis_connection()
    queue = queueing.make_queue(settings.queue_name, connection)
    if port:
        from prometheus_client import start_http_server

        start_http_server(port, registry=metrics.scrape_registry(metrics.QueueDepth(connection, queue.name)))
    startup.check_app_in_background(settings)
    queueing.arm_periodic(queue, settings.reconcile_interval)
    worker = MeasuredWorker([queue], connection=connection, serializer=JSONSerializer, name=args.name,
                            maintenance_interval=min(60, settings.reconcile_interval))
    worker.reconcile_interval = settings.reconcile_interval
    worker.alive_file = os.environ.get("WORKER_ALIVE_FILE") or None
    release_dead_scheduler_locks(connection, [queue.name])
    worker.work(with_scheduler=True, burst=args.burst, logging_level=settings.log_level)
    return 0


def _metrics_port() -> int | None:
    raw = (os.environ.get("METRICS_PORT") or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"METRICS_PORT must be a TCP port number, got {raw[:20]!r}")
    return int(raw)


if __name__ == "__main__":
    try:
        code = main()
    finally:
        if _METRICS_DIR:
            shutil.rmtree(_METRICS_DIR, ignore_errors=True)
    sys.exit(code)
