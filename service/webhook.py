"""The webhook receiver: verify, de-duplicate, route, enqueue, answer — no GitHub call inside a
request (GitHub waits at most 10 s for the answer).

Endpoints: ``POST /webhook`` (and ``POST /``, Probot's default path), ``GET /livez`` (the process
answers; no dependency), ``GET /readyz`` (Redis ``PING``), ``GET /metrics`` (Prometheus, see
``service.metrics``).

Setup mode (no App credentials configured, see ``service.settings``): ``GET /`` serves the page that
registers the App from ``app.yml`` (``service.setup``); ``/webhook`` answers 503 and ``/readyz``
503 until the process is restarted with the credentials.

Answers to GitHub, recorded in the App's delivery log:

| case | status |
|---|---|
| ``ping`` | 200 |
| routed event, enqueued (or folded into a queued job) | 202 |
| same ``X-GitHub-Delivery`` already claimed | 200 ``duplicate`` |
| routed event a filter ignores (own bot, other app, no installation …) | 200 ``ignored`` |
| event or action the app does not route | 204 |
| ``X-Hub-Signature-256`` missing, not ``sha256=<64 hex>``, or wrong (a SHA-1 ``X-Hub-Signature`` alone is not accepted) | 401 |
| body is not a JSON object; ``X-GitHub-Event`` or ``X-GitHub-Delivery`` missing | 400 |
| ``application/x-www-form-urlencoded`` or multipart body (set the App's content type to JSON) | 415 |
| body over 26 MiB (GitHub caps payloads at 25 MB) | 413 |
| Redis unreachable: GitHub records a failed delivery, which can be redelivered | 503 |
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from typing import Any

import redis
from flask import Flask, Response, g, jsonify, request

from . import metrics, queueing
from .errors import ConfigError
from .logs import bound, configure, event
from .routes import Route, route
from .settings import Settings, SetupSettings

MAX_BODY = 26 * 1024 * 1024
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")

log = logging.getLogger(__name__)


def signature_valid(body: bytes, header: str | None, secrets: tuple[str, ...]) -> bool:
    """True when ``header`` is ``sha256=<hex HMAC-SHA256(secret, body)>`` for one of
    ``secrets`` (two during rotation). ``body`` must be the raw request bytes; the comparison is
    constant-time. Malformed headers (missing, another algorithm, non-hex) are simply False."""
    if not header or not header.startswith("sha256="):
        return False
    given = header[len("sha256="):].strip()
    if not _HEX64.fullmatch(given):
        return False
    given_bytes = given.lower().encode("ascii")
    valid = False
    for secret in secrets:
        expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest().encode("ascii")
        valid |= hmac.compare_digest(expected, given_bytes)
    return valid


def _answer(status: int, outcome: str, event_name: str, **body: Any) -> Response:
    start = getattr(g, "wavegate_start", None)
    metrics.record_delivery(event_name, outcome, time.monotonic() - start if start is not None else None)
    if status == 204:
        return Response(status=204)
    response = jsonify({"status": outcome, **body})
    response.status_code = status
    return response


def create_app(settings: Settings | SetupSettings | None = None, *,
               connection: redis.Redis | None = None) -> Flask:
    """The Flask application. ``settings`` default to ``Settings.from_env(allow_setup=True)`` (a
    ``ConfigError`` then names the bad variable and the process exits); ``SetupSettings`` give the
    setup-mode application. ``connection`` defaults to a client for ``settings.redis_url``.
    Under gunicorn: ``service.webhook:create_app()``."""
    if settings is None:
        try:
            settings = Settings.from_env(allow_setup=True)
        except ConfigError as exc:
            # One clear line, not a traceback, when gunicorn imports the app.
            raise SystemExit(f"wavegate: configuration error: {exc}") from None
    configure(settings.log_level, settings.secret_values)
    if isinstance(settings, SetupSettings):
        return _setup_app(settings)
    connection = connection if connection is not None else queueing.connect(settings.redis_url, timeout=2.0)
    queue = queueing.make_queue(settings.queue_name, connection)

    app = _base_app()
    app.extensions["wavegate"] = {"settings": settings, "redis": connection, "queue": queue}

    @app.post("/webhook")
    @app.post("/")
    def webhook() -> Response:
        # Raw bytes first, before anything could parse a form and consume the stream.
        body = request.get_data(cache=True, parse_form_data=False)
        event_name = request.headers.get("X-GitHub-Event", "")
        delivery_id = request.headers.get("X-GitHub-Delivery", "")
        with bound(delivery_id=delivery_id or None, event_name=event_name or None):
            event(log, "delivery_received", size=len(body))
            if not signature_valid(body, request.headers.get("X-Hub-Signature-256"), settings.webhook_secrets):
                event(log, "delivery_rejected", logging.WARNING, reason="bad signature")
                return _answer(401, "bad signature", event_name)
            if request.mimetype in FORM_TYPES:
                event(log, "delivery_rejected", logging.WARNING, reason="form-encoded body")
                return _answer(415, "set the App's webhook content type to application/json", event_name)
            if not event_name or not delivery_id:
                return _answer(400, "missing X-GitHub-Event or X-GitHub-Delivery", event_name)
            try:
                payload = json.loads(body)
            except (UnicodeDecodeError, ValueError):
                return _answer(400, "body is not JSON", event_name)
            if not isinstance(payload, dict):
                return _answer(400, "body is not a JSON object", event_name)
            if event_name == "ping":
                return _answer(200, "pong", event_name)
            try:
                decision = route(event_name, payload, settings)
            except (AttributeError, TypeError, ValueError, KeyError):
                # Signed, but not shaped like GitHub's payload for this event (a field of the
                # wrong type): nothing to act on, and never a 500 with a traceback.
                event(log, "delivery_rejected", logging.WARNING, reason="payload fields of unexpected types")
                return _answer(400, "payload fields have unexpected types", event_name)
            if not isinstance(decision, Route):
                event(log, "delivery_ignored", reason=decision.reason)
                return _answer(decision.status, "ignored", event_name, reason=decision.reason)
            kwargs = decision.kwargs
            with bound(installation_id=kwargs["installation_id"], repo=kwargs["repo"],
                       number=kwargs.get("number") or kwargs.get("issue"), sha=kwargs.get("head_sha")):
                return _enqueue(connection, queue, decision, delivery_id, event_name)

    @app.get("/readyz")
    def readyz() -> Response:
        try:
            connection.ping()
        except redis.RedisError:
            response = jsonify({"status": "redis unavailable"})
            response.status_code = 503
            return response
        return jsonify({"status": "ok"})

    @app.get("/metrics")
    def metrics_page() -> Response:
        body, content_type = metrics.exposition(metrics.QueueDepth(connection, settings.queue_name))
        return Response(body, content_type=content_type)

    return app


def _base_app() -> Flask:
    """What both modes share: the body limit, the clock for the acknowledgement latency, /livez."""
    app = Flask("wavegate")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY

    @app.before_request
    def start_clock() -> None:
        g.wavegate_start = time.monotonic()

    @app.get("/livez")
    def livez() -> Response:
        return jsonify({"status": "ok"})

    return app


def _setup_app(settings: SetupSettings) -> Flask:
    from .setup import blueprint  # the setup page exists only in setup mode

    app = _base_app()
    app.extensions["wavegate"] = {"settings": settings}
    app.register_blueprint(blueprint(settings))
    event(log, "setup_mode", github=settings.github_web_url, env_file=str(settings.env_file))

    @app.post("/webhook")
    @app.post("/")
    def webhook() -> Response:
        # GitHub records a failed delivery, which can be redelivered once the App is configured.
        return _answer(503, "not configured: register the App at / and restart",
                       request.headers.get("X-GitHub-Event", ""))

    @app.get("/readyz")
    def readyz() -> Response:
        response = jsonify({"status": "setup: register the App at / and restart"})
        response.status_code = 503
        return response

    @app.get("/metrics")
    def metrics_page() -> Response:
        body, content_type = metrics.exposition()
        return Response(body, content_type=content_type)

    return app


def _enqueue(connection: redis.Redis, queue, decision: Route, delivery_id: str, event_name: str) -> Response:
    # One atomic Redis call (``queueing.ingest``): the 202 is sent only once the job (or the
    # waiting job it was folded into) holds the delivery; on an error nothing was stored.
    try:
        stored = queueing.ingest(connection, queue, decision, delivery_id)
    except redis.RedisError as exc:
        event(log, "enqueue_failed", logging.ERROR, reason=type(exc).__name__)
        return _answer(503, "queue unavailable", event_name)
    if stored.outcome == "duplicate":
        event(log, "delivery_duplicate", job_id=stored.job_id)
        return _answer(200, "duplicate", event_name, job=stored.job_id)
    event(log, f"delivery_{stored.outcome}", job_id=stored.job_id, job=decision.job)
    return _answer(202, stored.outcome, event_name, job=stored.job_id)
