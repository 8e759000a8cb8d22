"""The web process: granian serving ``service.webhook:create_app`` over WSGI (``python deploy/web.py``,
the Procfile's and the image's ``web`` command).

Why granian and not gunicorn: its HTTP handling is Rust, outside the GIL, so a delivery costs the
Python process only the receiver's own work, and a client that is slow to send its request holds no
Python thread until its headers are in (a client that drips its *body* does hold one: see below);
on the ingest benchmark it answered about twice gunicorn gthread's deliveries per second for the same
app (docs/performance.md has the figures).

Environment: ``PORT`` (8000), ``WEB_CONCURRENCY`` (processes, 2), ``WEB_THREADS`` (threads running
the app in each process, 64: idle threads cost little, and each client still sending a body holds
one — put the service behind a proxy or load balancer that buffers request bodies, and admit only
GitHub's hook addresses (``GET /meta``, ``hooks``), where unknown clients can reach it), ``WEB_HOST`` (0.0.0.0), ``WEB_KILL_TIMEOUT`` (seconds a process gets
to finish its requests after SIGTERM before it is killed, 30; a process still booting when the signal
arrives is only stopped at this deadline, a granian behaviour), plus the app's own settings
(``service.settings``), checked here before any process starts: a missing or malformed one stops the
server with one line naming it (exit 2); without any App credential the app starts in setup mode.

Metrics: prometheus-client's multiprocess mode. ``PROMETHEUS_MULTIPROC_DIR`` (default: a folder of
its own under the temporary directory, removed on exit) is set before the processes start, and the
metric files a previous run left there are wiped. The web processes write only counters and
histograms, whose files stay summed after a process is replaced.

Logs: granian's own lines are JSON through ``service.logs.JsonFormatter``, like the app's; no access
log (the app logs one line per delivery; health probes stay quiet).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

TARGET = "service.webhook:create_app"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "service.logs.JsonFormatter"}},
    "handlers": {"json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "loggers": {"_granian": {"handlers": ["json"], "level": "INFO", "propagate": False},
                "granian.access": {"handlers": ["json"], "level": "INFO", "propagate": False}},
}


class _BadSetting(ValueError):
    pass


def _number(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip() or str(default)
    if not value.isdigit() or int(value) < 1:
        raise _BadSetting(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def main() -> int:
    """Serve until SIGTERM/SIGINT; returns the exit status (2: configuration error)."""
    from service.errors import ConfigError
    from service.settings import Settings

    try:
        Settings.from_env(allow_setup=True)
    except ConfigError as exc:
        print(f"wavegate web: configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        port, workers, threads = _number("PORT", 8000), _number("WEB_CONCURRENCY", 2), _number("WEB_THREADS", 64)
        kill_timeout = _number("WEB_KILL_TIMEOUT", 30)
    except _BadSetting as exc:
        print(f"wavegate web: configuration error: {exc}", file=sys.stderr)
        return 2

    own_metrics_dir = None
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        own_metrics_dir = tempfile.mkdtemp(prefix="wavegate-metrics-web-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = own_metrics_dir
    # Imported once the variable is set: prometheus-client picks its mode at import.
    from granian import Granian
    from granian.constants import Interfaces

    from service.metrics import prepare_dir

    prepare_dir(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    try:
        Granian(TARGET, factory=True, interface=Interfaces.WSGI, address=os.environ.get("WEB_HOST", "0.0.0.0"),
                port=port, workers=workers, blocking_threads=threads, log_dictconfig=LOGGING, log_access=False,
                respawn_failed_workers=True, workers_kill_timeout=kill_timeout).serve()
    finally:
        if own_metrics_dir:
            shutil.rmtree(own_metrics_dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
