"""Prometheus metrics of the web and worker processes, and the hooks that record them.

| metric | type | labels |
|---|---|---|
| ``wavegate_webhook_deliveries_total`` | counter | ``event``, ``outcome``: a short stable code (``enqueued``, ``coalesced``, ``duplicate``, ``ignored``, ``pong``, ``bad signature``, ``form body``, ``missing header``, ``bad delivery id``, ``not json``, ``not json object``, ``bad payload``, ``body too large``, ``queue unavailable``, ``not configured``, ``error``) |
| ``wavegate_webhook_ack_seconds`` | histogram | ``event``: time from request to answer |
| ``wavegate_jobs_total`` | counter | ``job``, ``outcome`` (``finished``, ``failed``, ``scheduled`` = retry later …) |
| ``wavegate_job_duration_seconds`` | histogram | ``job`` |
| ``wavegate_jobs_refused_total`` | counter | ``reason`` (``unknown function``, ``callback``, ``unreadable``): jobs in the queue that are not Wavegate's, refused unrun |
| ``wavegate_github_api_calls_total`` | counter | ``method``, ``status`` (HTTP status, ``error`` when none came) |
| ``wavegate_github_rate_limit_remaining`` | gauge | ``installation``: ``X-RateLimit-Remaining`` of the latest answer |
| ``wavegate_queue_jobs`` | gauge | ``queue``, ``state`` (``queued``, ``started``, ``scheduled``, ``deferred``, ``failed``), read from Redis at scrape time |

Multiprocess mode (prometheus-client): when ``PROMETHEUS_MULTIPROC_DIR`` is set before this module
is imported, every process writes its values to files in that folder and a scrape merges them into a
fresh ``CollectorRegistry``. gunicorn's ``child_exit`` marks dead web workers; the RQ worker folds
each finished work horse's files into its own process (``fold_dead_processes``), so the folder does
not grow with every job.
"""

from __future__ import annotations

import contextlib
import glob
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

DELIVERIES = Counter("wavegate_webhook_deliveries", "Webhook deliveries by event and outcome",
                     ("event", "outcome"))
ACK_SECONDS = Histogram("wavegate_webhook_ack_seconds", "Time from receiving a delivery to answering GitHub",
                        ("event",), buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
JOBS = Counter("wavegate_jobs", "Jobs run by job name and outcome", ("job", "outcome"))
JOB_SECONDS = Histogram("wavegate_job_duration_seconds", "Job run time", ("job",),
                        buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0))
REFUSED = Counter("wavegate_jobs_refused", "Jobs refused without being run: not one of Wavegate's jobs",
                  ("reason",))
GITHUB_CALLS = Counter("wavegate_github_api_calls", "GitHub REST requests by method and status",
                       ("method", "status"))
RATE_LIMIT = Gauge("wavegate_github_rate_limit_remaining", "X-RateLimit-Remaining of the latest GitHub answer",
                   ("installation",), multiprocess_mode="mostrecent")
QUEUE_STATES = ("queued", "started", "scheduled", "deferred", "failed")

_FOLDABLE: dict[str, Counter | Gauge] = {"wavegate_github_api_calls": GITHUB_CALLS,
                                         "wavegate_github_rate_limit_remaining": RATE_LIMIT,
                                         "wavegate_jobs": JOBS, "wavegate_webhook_deliveries": DELIVERIES,
                                         "wavegate_jobs_refused": REFUSED}


# ------------------------------------------------------------------ hooks

# Labelled children by label values: ``labels()`` validates and locks on every call, a dict
# lookup does not (the label sets are small: GitHub's event names × a dozen outcomes).
_delivery_children: dict[tuple[str, str], Any] = {}
_ack_children: dict[str, Any] = {}


def record_delivery(event: str, outcome: str, seconds: float | None = None) -> None:
    """One answered webhook delivery of ``event`` (``X-GitHub-Event``, ``-`` when absent) with
    ``outcome``; ``seconds`` from receipt to answer. Callers pass label values of bounded
    variety (the receiver sends ``-`` for an event name it cannot vouch for)."""
    event = event or "-"
    counter = _delivery_children.get((event, outcome))
    if counter is None:
        counter = _delivery_children[(event, outcome)] = DELIVERIES.labels(event, outcome)
    counter.inc()
    if seconds is not None:
        histogram = _ack_children.get(event)
        if histogram is None:
            histogram = _ack_children[event] = ACK_SECONDS.labels(event)
        histogram.observe(seconds)


def record_job(job: str, outcome: str, seconds: float | None = None) -> None:
    """One job run: ``job`` is the function name (``reconcile_plan``), ``outcome`` RQ's status after
    the run (``finished``, ``failed``, ``scheduled`` for a retry …), ``seconds`` its run time."""
    JOBS.labels(job, outcome).inc()
    if seconds is not None:
        JOB_SECONDS.labels(job).observe(seconds)


def record_refused_job(reason: str) -> None:
    """One job refused unrun (``workers.guard``); ``reason`` is one of its short codes."""
    REFUSED.labels(reason).inc()


def record_github_call(method: str, status: int | str | None, headers: Any = None,
                       installation: int | str | None = None) -> None:
    """One GitHub REST answer: ``status`` is the HTTP status (None: no answer, e.g. a timeout);
    ``headers`` the answer's headers, whose ``X-RateLimit-Remaining`` sets the rate-limit gauge of
    ``installation``."""
    GITHUB_CALLS.labels(method.upper(), str(status) if status else "error").inc()
    remaining = None
    for key, value in (headers or {}).items():
        if key.lower() == "x-ratelimit-remaining":
            remaining = value
    if remaining is not None:
        with contextlib.suppress(TypeError, ValueError):
            RATE_LIMIT.labels(str(installation if installation is not None else "-")).set(float(remaining))


class InstrumentedRequester:
    """Wraps a PyGithub ``Requester`` so every ``requestJsonAndCheck`` is counted with its method
    and status (from the answer, or from the ``GithubException`` raised); everything else is
    delegated unchanged."""

    def __init__(self, requester: Any, installation: int | str | None = None) -> None:
        self._requester = requester
        self._installation = installation

    def requestJsonAndCheck(self, verb: str, url: str, *args: Any, **kwargs: Any) -> Any:  # noqa: N802 - PyGithub's name
        try:
            headers, data = self._requester.requestJsonAndCheck(verb, url, *args, **kwargs)
        except Exception as exc:
            record_github_call(verb, getattr(exc, "status", None), getattr(exc, "headers", None),
                               self._installation)
            raise
        # PyGithub hands a 304 to a conditional GET back as a success with no body.
        headers_sent = kwargs.get("headers") or (args[1] if len(args) > 1 else None) or {}
        status = 304 if data is None and verb == "GET" and "If-None-Match" in headers_sent else 200
        record_github_call(verb, status, headers, self._installation)
        return headers, data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._requester, name)


# ------------------------------------------------------------------ scraping

class QueueDepth(Collector):
    """``wavegate_queue_jobs`` from Redis at collection time: the queue's length and the sizes of
    its started, scheduled, deferred and failed registries. Nothing is yielded when Redis does not
    answer (the scrape still succeeds)."""

    def __init__(self, connection: Any, queue_name: str) -> None:
        self._connection = connection
        self._queue_name = queue_name

    def collect(self) -> Iterator[GaugeMetricFamily]:
        import redis
        from rq import Queue

        family = GaugeMetricFamily("wavegate_queue_jobs", "Jobs in the RQ queue by state", labels=("queue", "state"))
        try:
            queue = Queue(self._queue_name, connection=self._connection)
            counts = {"queued": queue.count, "started": queue.started_job_registry.count,
                      "scheduled": queue.scheduled_job_registry.count,
                      "deferred": queue.deferred_job_registry.count, "failed": queue.failed_job_registry.count}
        except redis.RedisError:
            return
        for state in QUEUE_STATES:
            family.add_metric((self._queue_name, state), counts[state])
        yield family


class _Default(Collector):
    """The process's own default registry, for single-process mode."""

    def collect(self) -> Iterator[Any]:
        yield from REGISTRY.collect()


def multiprocess_dir() -> str | None:
    """``PROMETHEUS_MULTIPROC_DIR`` when set (multiprocess mode), else None."""
    return os.environ.get(MULTIPROC_ENV) or None


def scrape_registry(*extra: Collector, path: str | None = None) -> CollectorRegistry:
    """A fresh registry for one scrape: every process's values from ``path`` (default
    ``PROMETHEUS_MULTIPROC_DIR``) in multiprocess mode, else this process's, plus ``extra``."""
    registry = CollectorRegistry()
    path = path or multiprocess_dir()
    if path:
        multiprocess.MultiProcessCollector(registry, path=path)
    else:
        registry.register(_Default())
    for collector in extra:
        registry.register(collector)
    return registry


def exposition(*extra: Collector) -> tuple[bytes, str]:
    """(body, content type) of a ``/metrics`` answer."""
    return generate_latest(scrape_registry(*extra)), CONTENT_TYPE_LATEST


def prepare_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` and delete the metric files (``*.db``) a previous run left there; folders
    inside it are left alone. Returns the path."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    for file in folder.glob("*.db"):
        with contextlib.suppress(FileNotFoundError):
            file.unlink()
    return folder


def fold_dead_processes(path: str | None = None, *, alive: Callable[[int], bool] | None = None) -> int:
    """Add the counters and ``mostrecent`` gauges written by exited processes (RQ work horses)
    into this process's values and delete their files. Histograms are not folded: observe them
    in a long-lived process. Returns the number of processes folded. ``alive(pid)`` defaults to
    "is this pid this process"."""
    path = path or multiprocess_dir()
    if not path:
        return 0
    me = os.getpid()
    alive = alive or (lambda pid: pid == me)
    by_pid: dict[int, list[str]] = {}
    for file in glob.glob(os.path.join(path, "*.db")):
        with contextlib.suppress(ValueError):
            by_pid.setdefault(int(os.path.basename(file).rsplit("_", 1)[1][:-3]), []).append(file)
    dead = {pid: files for pid, files in by_pid.items() if not alive(pid)}
    files = [f for fs in dead.values() for f in fs]
    # One merge over every dead process: counters are summed, and a mostrecent gauge keeps the
    # value with the newest timestamp.
    foldable = [f for f in files if os.path.basename(f).startswith(("counter_", "gauge_mostrecent_"))]
    for metric in multiprocess.MultiProcessCollector.merge(foldable, accumulate=False):
        target = _FOLDABLE.get(metric.name)
        if target is None:
            continue
        for sample in metric.samples:
            if isinstance(target, Counter) and sample.name.endswith("_total"):
                target.labels(**sample.labels).inc(sample.value)
            elif isinstance(target, Gauge):
                target.labels(**sample.labels).set(sample.value)
    for file in files:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(file)
    folded = len(dead)
    return folded


@contextlib.contextmanager
def timed() -> Iterator[Callable[[], float]]:
    """``with timed() as elapsed: …; elapsed()`` gives seconds since the block began."""
    start = time.monotonic()
    yield lambda: time.monotonic() - start
