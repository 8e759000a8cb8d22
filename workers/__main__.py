"""``python -m workers``: an RQ worker with the scheduler (``rq worker --with-scheduler`` with the
JSON serializer on ``QUEUE_NAME``), which also arms the periodic ``reconcile_all`` chain (a no-op
when a chain is already alive).

Options: ``--burst`` (exit when the queue is empty), ``--name NAME`` (worker name).
A configuration error prints one line naming the variable and exits with status 2.

At start it checks the registered App's permissions and events (``service.startup``, logged, never
fatal). Metrics: jobs by outcome and duration are recorded here, around each job; GitHub calls in
the work horse. With ``METRICS_PORT`` set, the worker serves them at ``:METRICS_PORT/metrics``.
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
import sys  # noqa: E402
import time  # noqa: E402

from rq import Worker  # noqa: E402
from rq.job import Job  # noqa: E402
from rq.serializers import JSONSerializer  # noqa: E402

from service import logs, metrics, queueing, startup  # noqa: E402
from service.errors import ConfigError  # noqa: E402

from . import context  # noqa: E402


class MeasuredWorker(Worker):
    """RQ's forking worker that records each job's outcome and run time (in this long-lived
    process, from the job's state in Redis once the work horse has exited) and folds the work
    horse's metric files into its own."""

    reconcile_interval = 300

    def run_maintenance_tasks(self) -> None:
        """RQ's registry clean-up, plus re-arming the periodic reconcile when its chain is gone
        (a FLUSHDB or an empty Redis after a restart loses the scheduled link and its guard key;
        ``arm_periodic`` is a no-op while a chain is alive)."""
        super().run_maintenance_tasks()
        for queue in self.queues:
            queueing.arm_periodic(queue, self.reconcile_interval)

    def execute_job(self, job: Job, queue) -> None:
        start = time.monotonic()
        try:
            super().execute_job(job, queue)
        finally:
            elapsed = time.monotonic() - start
            try:
                status = job.get_status(refresh=True)
                outcome = getattr(status, "value", None) or str(status)
                if job.started_at and job.ended_at:
                    elapsed = (job.ended_at - job.started_at).total_seconds()
            except Exception:  # noqa: BLE001 - the job may be gone (result TTL); metrics must not fail a worker
                outcome = "unknown"
            name = (job.func_name or "unknown").rsplit(".", 1)[-1]
            metrics.record_job(name, outcome, elapsed)
            metrics.fold_dead_processes()


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
                            maintenance_interval=min(600, settings.reconcile_interval))
    worker.reconcile_interval = settings.reconcile_interval
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
