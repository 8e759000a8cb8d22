"""The web process: granian serving ``service.ingress:create_app`` over RSGI (``python deploy/web.py``,
the Procfile's and the image's ``web`` command): the webhook application of ``service.webhook`` behind
``service.ingress``, which reads each request body in the event loop within ``WEB_BODY_TIMEOUT``
seconds (else 408) before any thread is taken, answers ``/livez`` in the loop, runs deliveries in the
loop while the receiver is quick and in a pool of their own once one was slow (Redis slow or
hanging), and ``/readyz`` and ``/metrics`` in another small pool.

Why granian: its HTTP handling is Rust, outside the GIL, and so is the reading of request bodies on
the RSGI interface: a client that is slow to send its request, headers or body, holds no Python thread
(on the WSGI interface a client dripping its body held one thread for as long as it liked: 140 such
clients starved the probes). docs/performance.md and ``python -m bench --only slowbody`` have the
figures.

Environment: ``PORT`` (8000), ``WEB_CONCURRENCY`` (processes, 2), ``WEB_THREADS`` (threads running
deliveries in each process while Redis is slow, 64), ``WEB_BODY_TIMEOUT`` (seconds from a request's arrival to its
complete body, 5), ``WEB_HOST`` (0.0.0.0), ``WEB_KILL_TIMEOUT`` (seconds a process gets
to finish its requests after SIGTERM before it is killed, 30; a process still booting when the signal
arrives is only stopped at this deadline, a granian behaviour), plus the app's own settings
(``service.settings``), checked here before any process starts: a missing or malformed one stops the
server with one line naming it (exit 2); without any App credential the app starts in setup mode.
Headers must be complete within the same ``WEB_BODY_TIMEOUT`` (granian's header read timeout).

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

TARGET = "service.ingress:create_app"
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
    from service.ingress import DEFAULT_BODY_TIMEOUT, DEFAULT_THREADS
    from service.settings import Settings

    try:
        Settings.from_env(allow_setup=True)
    except ConfigError as exc:
        print(f"wavegate web: configuration error: {exc}", file=sys.stderr)
        return 2
    try:
        port, workers = _number("PORT", 8000), _number("WEB_CONCURRENCY", 2)
        _number("WEB_THREADS", DEFAULT_THREADS)  # read again by service.ingress in each process
        body_timeout = _number("WEB_BODY_TIMEOUT", DEFAULT_BODY_TIMEOUT)
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
    from granian.http import HTTP1Settings

    from service import setup_access
    from service.metrics import prepare_dir

    prepare_dir(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    try:
        Granian(TARGET, factory=True, interface=Interfaces.RSGI, address=os.environ.get("WEB_HOST", "0.0.0.0"),
                port=port, workers=workers, log_dictconfig=LOGGING, log_access=False,
                http1_settings=HTTP1Settings(header_read_timeout=body_timeout * 1000),
                respawn_failed_workers=True, workers_kill_timeout=kill_timeout).serve()
    finally:
        if own_metrics_dir:
            shutil.rmtree(own_metrics_dir, ignore_errors=True)
        setup_access.forget_server_token(os.getpid())  # this process is its workers' parent
    return 0


if __name__ == "__main__":
    sys.exit(main())
