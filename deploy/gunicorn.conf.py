"""Gunicorn settings for the webhook receiver (``gunicorn -c deploy/gunicorn.conf.py
'service.webhook:create_app()'``). The Procfile and the image serve the app with granian instead
(``deploy/web.py``: about twice the deliveries per second on the ingest benchmark); this
configuration runs the same app under gunicorn where granian cannot be installed, and for the local
stack and the benchmark's comparison. The handler only verifies, de-duplicates and stores the
delivery (one Redis call), so a few workers answer GitHub well within its 10 s limit.

Worker class ``gthread`` (``WEB_THREADS`` threads per process, default 16): unlike ``sync`` it keeps
connections alive between deliveries, and a client that sends its body slowly holds one thread, not
the whole process (docs/performance.md has the measurements behind this choice).

Metrics: prometheus-client's multiprocess mode. ``PROMETHEUS_MULTIPROC_DIR`` (default: a folder
of its own under the temporary directory, removed on exit) is set here, before any worker imports
the app, and its metric files are wiped when the server starts; ``child_exit`` marks dead workers."""

import os
import sys
import tempfile

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "16"))
timeout = 30
graceful_timeout = 30
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
# The heartbeat file on a disk-backed /tmp can block in containers.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = None  # the app logs each delivery as JSON; health probes stay quiet
# gunicorn's own lines (start, worker boot and exit, timeouts) as JSON too, scrubbed like the app's.
_json_handler = {"class": "logging.StreamHandler", "formatter": "json", "filters": ["scrub"],
                 "stream": "ext://sys.stderr"}
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "service.logs.JsonFormatter"}},
    "filters": {"scrub": {"()": "service.logs.ScrubFilter"}},
    "handlers": {"gunicorn_json": _json_handler},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["gunicorn_json"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["gunicorn_json"], "propagate": False},
    },
    "root": {"level": "INFO", "handlers": []},
}
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# gunicorn ≥ 25 opens a control socket at one per-user path ($HOME/.gunicorn/gunicorn.ctl), which
# several servers on one host would fight over; scaling is done with more processes or pods.
control_socket_disable = True

# Must be in the environment before a worker imports prometheus_client (workers fork from here).
_own_metrics_dir = None
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    _own_metrics_dir = tempfile.mkdtemp(prefix="wavegate-metrics-web-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _own_metrics_dir


def on_starting(server):
    """Stop before forking workers when a setting is missing or malformed: one line, no traceback.
    Without any App credential the app starts in setup mode instead (see ``service.settings``).
    Wipes the metric files of a previous run."""
    from service.errors import ConfigError
    from service.metrics import prepare_dir
    from service.settings import Settings

    try:
        Settings.from_env(allow_setup=True)
    except ConfigError as exc:
        print(f"wavegate web: configuration error: {exc}", file=sys.stderr)
        sys.exit(2)
    prepare_dir(os.environ["PROMETHEUS_MULTIPROC_DIR"])


def child_exit(server, worker):
    """Prometheus multiprocess mode: drop the metrics files of a worker that exited."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    """Remove the metrics folder this configuration created (a given one is left in place) and the
    setup token the workers shared (this process is their parent)."""
    from service import setup_access

    if _own_metrics_dir:
        import shutil

        shutil.rmtree(_own_metrics_dir, ignore_errors=True)
    setup_access.forget_server_token(os.getpid())
