"""Gunicorn settings for the webhook receiver (``gunicorn -c deploy/gunicorn.conf.py
'service.webhook:create_app()'``). The handler only verifies, de-duplicates and enqueues, so a few
sync workers answer GitHub well within its 10 s limit."""

import os
import sys

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
timeout = 30
graceful_timeout = 30
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
# The heartbeat file on a disk-backed /tmp can block in containers.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = None  # the app logs each delivery as JSON; health probes stay quiet
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")


def on_starting(server):
    """Stop before forking workers when a setting is missing or malformed: one line, no traceback."""
    from service.errors import ConfigError
    from service.settings import Settings

    try:
        Settings.from_env()
    except ConfigError as exc:
        print(f"wavegate web: configuration error: {exc}", file=sys.stderr)
        sys.exit(2)


def child_exit(server, worker):
    """Prometheus multiprocess mode: drop the metrics files of a worker that exited."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
