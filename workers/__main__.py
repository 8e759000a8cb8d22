"""``python -m workers``: an RQ worker with the scheduler (``rq worker --with-scheduler`` with the
JSON serializer on ``QUEUE_NAME``), which also arms the periodic ``reconcile_all`` chain (a no-op
when a chain is already alive).

Options: ``--burst`` (exit when the queue is empty), ``--name NAME`` (worker name).
A configuration error prints one line naming the variable and exits with status 2.
"""

from __future__ import annotations

import argparse
import sys

from rq import Worker
from rq.serializers import JSONSerializer

from service import logs, queueing
from service.errors import ConfigError

from . import context


def main(argv: list[str] | None = None) -> int:
    """Run the worker until stopped (or, with ``--burst``, until the queue is empty)."""
    parser = argparse.ArgumentParser(prog="python -m workers", description=__doc__.splitlines()[0])
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    parser.add_argument("--name", default=None, help="worker name (default: RQ's)")
    args = parser.parse_args(argv)
    try:
        settings = context.settings()
    except ConfigError as exc:
        print(f"wavegate worker: configuration error: {exc}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level, settings.secret_values)
    connection = context.redis_connection()
    queue = queueing.make_queue(settings.queue_name, connection)
    queueing.arm_periodic(queue, settings.reconcile_interval)
    worker = Worker([queue], connection=connection, serializer=JSONSerializer, name=args.name)
    worker.work(with_scheduler=True, burst=args.burst, logging_level=settings.log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main())
