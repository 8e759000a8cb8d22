"""The webhook receiver: verify, de-duplicate, route, enqueue, answer — no GitHub call inside a
request (GitHub waits at most 10 s for the answer).

Endpoints: ``POST /webhook`` (and ``POST /``, Probot's default path), ``GET /livez`` (the process
answers; no dependency), ``GET /readyz`` (Redis ``PING``), ``GET /metrics`` (Prometheus, see
``service.metrics``).

Setup mode (no App credentials configured, see ``service.settings``): ``GET /`` serves the page that
registers the App from ``app.yml`` (``service.registration``); ``/webhook`` answers 503 and ``/readyz``
503 until the process is restarted with the credentials.

``POST /webhook`` and ``POST /`` are answered by ``Receiver``, a plain WSGI callable in front of the
Flask application (which serves everything else): one delivery costs no Flask or Werkzeug request
and response objects, and is logged in one line (``delivery_<outcome>`` with ``size`` and
``status``).

Answers to GitHub, recorded in the App's delivery log (the body is JSON ``{"status": …}``):

| case | status |
|---|---|
| ``ping`` | 200 |
| routed event, enqueued (or folded into a queued job) | 202 |
| same ``X-GitHub-Delivery`` already claimed | 200 ``duplicate`` |
| routed event a filter ignores (own bot, other app, no installation …) | 200 ``ignored`` |
| event or action the app does not route | 204 |
| ``X-Hub-Signature-256`` missing, not ``sha256=<64 hex>``, or wrong (a SHA-1 ``X-Hub-Signature`` alone is not accepted) | 401 |
| body is not a JSON object; ``X-GitHub-Event`` or ``X-GitHub-Delivery`` missing | 400 |
| a field a job relies on of the wrong type or range (``service.payload_fields``): the answer names it, ``issue.number: expected a positive integer, got -5`` | 400 |
| ``X-GitHub-Delivery`` not GUID-like: over 64 characters, or other than letters, digits, ``-``, ``_``, ``.`` | 400 |
| ``application/x-www-form-urlencoded`` or multipart body (set the App's content type to JSON) | 415 |
| body over 26 MiB (GitHub caps payloads at 25 MB) | 413 |
| Redis unreachable: GitHub records a failed delivery, which can be redelivered | 503 |
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Protocol

import orjson
import redis
from flask import Flask, Response, g, jsonify, request
from werkzeug.datastructures import EnvironHeaders
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wsgi import get_input_stream

from . import metrics, payload_fields, queueing
from .errors import ConfigError
from .logs import configure, event
from .routes import Route, route
from .settings import Settings, SetupSettings

MAX_BODY = 26 * 1024 * 1024
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
WEBHOOK_PATHS = frozenset(("/webhook", "/"))
_HEX64 = re.compile(r"[0-9a-fA-F]{64}")
# GitHub's X-GitHub-Delivery is a GUID (36 characters of hex digits and hyphens). A header of up to
# 64 letters, digits, ``-``, ``_`` or ``.`` is accepted (redelivery tools and tests name deliveries
# too); anything else is neither logged nor used in a Redis key: unbounded keys, spaces or control
# characters in log lines are what this keeps out.
_GUID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# X-GitHub-Event names (``pull_request``, ``check_suite`` …): only such a name becomes a metric
# label or a log field, so a signed but odd header cannot grow either without bound.
_EVENT = re.compile(r"[a-z_]{1,64}")
_STATUS_LINES = {code: f"{code} {HTTPStatus(code).phrase}" for code in (200, 202, 204, 400, 401, 413, 415, 500, 503)}

log = logging.getLogger(__name__)


def _read_body(environ: dict[str, Any]) -> bytes:
    """The raw request body, at most ``MAX_BODY`` bytes. Raises ``RequestEntityTooLarge`` when a
    declared ``Content-Length`` is over the cap, and also when a chunked body (no length declared)
    runs past it: such a body is read one byte past the cap rather than cut there, so a 30 MB
    delivery is answered 413, not checked as a truncated body (which would be a 401)."""
    if environ.get("CONTENT_LENGTH"):
        return get_input_stream(environ, max_content_length=MAX_BODY).read()
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    chunks, size = [], 0
    while size <= MAX_BODY:
        chunk = stream.read(min(1 << 20, MAX_BODY + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > MAX_BODY:
        raise RequestEntityTooLarge()
    return b"".join(chunks)


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


def _answer(status: int, outcome: str, event_name: str, code: str, **body: Any) -> Response:
    """A Flask answer (setup mode), counted like the receiver's: ``code`` is the metric's short
    ``outcome`` label, ``outcome`` the answer's ``status`` text."""
    start = getattr(g, "wavegate_start", None)
    metrics.record_delivery(event_name if _EVENT.fullmatch(event_name) else "-", code,
                            time.monotonic() - start if start is not None else None)
    if status == 204:
        return Response(status=204)
    response = jsonify({"status": outcome, **body})
    response.status_code = status
    return response


class Headers(Protocol):
    """Request headers by lower-case HTTP name: an RSGI scope's ``headers``, or Werkzeug's
    ``EnvironHeaders`` over a WSGI environ."""

    def get(self, name: str, /) -> str | None: ...


# (status code, response headers, response body): what the receiver answers, for WSGI or RSGI.
Answered = tuple[int, list[tuple[str, str]], bytes]
_JSON_TYPE = ("Content-Type", "application/json")


def _respond(status: int, body: dict[str, Any] | None) -> Answered:
    """The answer's parts: no body for ``None`` (204), else ``body`` as one JSON line."""
    if body is None:
        return status, [], b""
    data = orjson.dumps(body) + b"\n"
    return status, [_JSON_TYPE, ("Content-Length", str(len(data)))], data


class _Answer(Exception):
    """Raised inside ``Receiver.receive`` to end a delivery with an answer.

    ``outcome`` is the answer body's ``status`` text, for the person reading GitHub's delivery log;
    ``code`` the short, stable ``outcome`` label of ``wavegate_webhook_deliveries_total`` (the
    outcome itself when that is already short)."""

    def __init__(self, status: int, outcome: str, log_event: str = "delivery_rejected", level: int = logging.WARNING,
                 why: str | None = None, body: dict[str, Any] | None = None, code: str | None = None) -> None:
        super().__init__(outcome)
        self.status, self.outcome, self.log_event, self.level = status, outcome, log_event, level
        self.why, self.body, self.code = why, body or {}, code or outcome


_INTERNAL_ERROR = _Answer(500, "internal error", "delivery_failed", logging.ERROR, code="error")
_NOT_ROUTED = ValueError("nothing to store: the delivery was not routed")


@dataclass
class Ticket:
    """One delivery inside the receiver: ``start`` (``time.monotonic()`` at receipt), the metric
    ``label``, the log line's ``fields``; then either its ``answer`` or the ``route`` (and
    ``delivery_id``) still to store."""

    start: float
    label: str = "-"
    fields: dict[str, Any] = field(default_factory=dict)
    answer: _Answer | None = None
    route: Route | None = None
    delivery_id: str = ""


class Receiver:
    """WSGI callable: ``POST /webhook`` and ``POST /`` (Probot's default path) are verified,
    routed and stored here; every other request goes to ``fallback`` (the Flask app).

    Each delivery is answered with the status of the module's table, counted in
    ``wavegate_webhook_deliveries_total`` and ``wavegate_webhook_ack_seconds``, and logged in one
    JSON line ``delivery_<outcome>`` with ``size`` (bytes), ``status`` and what identifies it
    (``delivery_id`` and ``event_name`` when well-formed; ``installation_id``, ``repo``,
    ``number``, ``sha`` once routed). An unexpected exception answers 500 and logs
    ``delivery_failed`` with the traceback."""

    def __init__(self, fallback: Callable, settings: Settings, connection: redis.Redis, queue: Any) -> None:
        self.fallback = fallback
        self.settings = settings
        self.connection = connection
        self.queue = queue

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO") not in WEBHOOK_PATHS:
            return self.fallback(environ, start_response)
        try:
            # Raw bytes, read before anything could parse a form and consume the stream.
            body: bytes | None = _read_body(environ)
        except RequestEntityTooLarge:
            body = None
        status, headers, data = self.deliver(EnvironHeaders(environ), body)
        start_response(_STATUS_LINES[status], headers)
        return [data] if data else []

    def deliver(self, headers: Headers, body: bytes | None) -> Answered:
        """Answer one delivery: ``headers`` by lower-case HTTP name (an RSGI scope's headers, or
        Werkzeug's ``EnvironHeaders``), ``body`` the raw request bytes, None when over ``MAX_BODY`` (then 413).
        Returns (status code, response headers, response body); never raises."""
        ticket = self.admit(headers, body)
        if ticket.route is not None:
            self.settle(ticket, self.store_many([ticket])[0])
        return self.answer(ticket)

    def admit(self, headers: Headers, body: bytes | None) -> Ticket:
        """Everything before the Redis write: the ticket carries the answer, or the ``route`` to
        store (then ``store_many`` and ``settle`` give the answer). Never raises: an unexpected
        exception is logged here (``delivery_failed``, with the traceback) and answers 500."""
        ticket = Ticket(time.monotonic())
        try:
            ticket.label, outcome = self.receive(headers, body, ticket.fields)
        except Exception:
            log.error("delivery_failed", exc_info=True,
                      extra={"wavegate_event": "delivery_failed", "wavegate_fields": {**ticket.fields, "status": 500}})
            ticket.answer = _INTERNAL_ERROR
            return ticket
        if isinstance(outcome, Route):
            ticket.route, ticket.delivery_id = outcome, ticket.fields["delivery_id"]
        else:
            ticket.answer = outcome
        return ticket

    def store_many(self, tickets: list[Ticket]) -> list[queueing.Ingested | Exception]:
        """Store the routes of admitted ``tickets`` in one Redis round trip (``queueing.ingest_many``):
        one outcome per ticket, in order; the exception (a ``redis.RedisError``, or a defect) for a
        ticket stored nowhere. Never raises."""
        routed = [(t.route, t.delivery_id) for t in tickets if t.route is not None]
        try:
            outcomes = iter(queueing.ingest_many(self.connection, self.queue, routed))
        except Exception as exc:  # not Redis's (it answers those per item): a defect, never a hang
            outcomes = iter([exc] * len(routed))
        return [next(outcomes) if t.route is not None else _NOT_ROUTED for t in tickets]

    def settle(self, ticket: Ticket, stored: queueing.Ingested | Exception) -> None:
        """The answer to a stored ticket: 202 once Redis holds the delivery (or the waiting job it
        was folded into), 200 for a duplicate, 503 when Redis stored nothing (GitHub may
        redeliver), 500 after a defect (logged here, with the delivery's fields and traceback)."""
        route = ticket.route
        assert route is not None
        if isinstance(stored, redis.RedisError):
            ticket.answer = _Answer(503, "queue unavailable", "enqueue_failed", logging.ERROR, why=type(stored).__name__)
            return
        if isinstance(stored, Exception):
            log.error("delivery_failed", exc_info=(type(stored), stored, stored.__traceback__),
                      extra={"wavegate_event": "delivery_failed", "wavegate_fields": {**ticket.fields, "status": 500}})
            ticket.answer = _INTERNAL_ERROR
            return
        ticket.fields["job_id"] = stored.job_id
        if stored.outcome == "duplicate":
            ticket.answer = _Answer(200, "duplicate", "delivery_duplicate", logging.INFO, body={"job": stored.job_id})
            return
        ticket.fields["job"] = route.job
        ticket.answer = _Answer(202, stored.outcome, f"delivery_{stored.outcome}", logging.INFO,
                                body={"job": stored.job_id})

    def answer(self, ticket: Ticket) -> Answered:
        """Count and log the ticket's answer (one ``delivery_<outcome>`` line) and give its parts."""
        answer = ticket.answer
        assert answer is not None
        metrics.record_delivery(ticket.label, answer.code, time.monotonic() - ticket.start)
        if answer is _INTERNAL_ERROR:
            return _respond(500, {"status": "internal error"})  # logged with its traceback by admit or settle
        fields = ticket.fields
        fields["status"] = answer.status
        if answer.why is not None:
            fields["reason"] = answer.why
        event(log, answer.log_event, answer.level, **fields)
        return _respond(answer.status, None if answer.status == 204 else {"status": answer.outcome, **answer.body})

    def receive(self, headers: Headers, body: bytes | None, fields: dict[str, Any]) -> tuple[str, _Answer | Route]:
        """(metric label, answer or the route to store) for one delivery; fills ``fields`` for its
        log line."""
        event_name = headers.get("x-github-event") or ""
        delivery_id = headers.get("x-github-delivery") or ""
        guid_ok = bool(_GUID.fullmatch(delivery_id))
        if guid_ok:
            fields["delivery_id"] = delivery_id
        if _EVENT.fullmatch(event_name):
            fields["event_name"] = event_name
        if body is None:
            declared = headers.get("content-length") or ""
            fields["size"] = int(declared) if declared.isdigit() else None
            return "-", _Answer(413, "body over 26 MiB (GitHub caps payloads at 25 MB)", why="body too large",
                                code="body too large")
        fields["size"] = len(body)
        try:
            return self._verified(headers, body, event_name, guid_ok, fields)
        except _Answer as answer:
            return fields.get("event_name", "-") if answer.status != 401 else "-", answer

    def _verified(self, headers: Headers, body: bytes, event_name: str, guid_ok: bool,
                  fields: dict[str, Any]) -> tuple[str, _Answer | Route]:
        settings, delivery_id = self.settings, headers.get("x-github-delivery") or ""
        if not signature_valid(body, headers.get("x-hub-signature-256"), settings.webhook_secrets):
            raise _Answer(401, "bad signature", why="bad signature")
        if (headers.get("content-type") or "").split(";", 1)[0].strip().lower() in FORM_TYPES:
            raise _Answer(415, "set the App's webhook content type to application/json", why="form-encoded body",
                          code="form body")
        if not event_name or not delivery_id:
            raise _Answer(400, "missing X-GitHub-Event or X-GitHub-Delivery", why="missing header",
                          code="missing header")
        if not guid_ok:
            fields["delivery_id_length"] = len(delivery_id)
            raise _Answer(400, "X-GitHub-Delivery is not a GUID (at most 64 letters, digits, '-', '_' or '.')",
                          why="malformed X-GitHub-Delivery", code="bad delivery id")
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise _Answer(400, "body is not JSON", why="body is not JSON", code="not json") from None
        if not isinstance(payload, dict):
            raise _Answer(400, "body is not a JSON object", why="body is not a JSON object", code="not json object")
        label = fields.get("event_name", "-")
        if event_name == "ping":
            return label, _Answer(200, "pong", "delivery_ping", logging.INFO)
        problem = payload_fields.check(event_name, payload)  # before routing: a job gets only valid fields
        if problem is not None:
            raise _Answer(400, problem.message, why=problem.message, body={"field": problem.field}, code="bad field")
        try:
            decision = route(event_name, payload, settings)
        except (AttributeError, TypeError, ValueError, KeyError):
            # Signed, but not shaped like GitHub's payload for this event (a field of the
            # wrong type): nothing to act on, and never a 500 with a traceback.
            raise _Answer(400, "payload fields have unexpected types",
                          why="payload fields of unexpected types", code="bad payload") from None
        if not isinstance(decision, Route):
            return label, _Answer(decision.status, "ignored", "delivery_ignored", logging.INFO, why=decision.reason,
                                  body={"reason": decision.reason})
        kwargs = decision.kwargs
        fields["installation_id"] = kwargs["installation_id"]
        fields["repo"] = kwargs["repo"]
        number = kwargs.get("number") or kwargs.get("issue")
        if number is not None:
            fields["number"] = number
        if kwargs.get("head_sha") is not None:
            fields["sha"] = kwargs["head_sha"]
        return label, decision


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

    # The Receiver answers POST on these paths before Flask sees a request; the rules keep other
    # methods on them answering 405, as before.
    app.add_url_rule("/webhook", "webhook", _shadowed, methods=["POST"])
    app.add_url_rule("/", "webhook_root", _shadowed, methods=["POST"])
    app.wsgi_app = Receiver(app.wsgi_app, settings, connection, queue)  # type: ignore[method-assign]

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


def _shadowed() -> Response:
    raise NotImplementedError("answered by Receiver")


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
    from .registration import blueprint  # the registration page exists only in setup mode

    app = _base_app()
    app.extensions["wavegate"] = {"settings": settings}
    app.register_blueprint(blueprint(settings))
    event(log, "setup_mode", github=settings.github_web_url, env_file=str(settings.env_file))

    @app.post("/webhook")
    @app.post("/")
    def webhook() -> Response:
        # GitHub records a failed delivery, which can be redelivered once the App is configured.
        return _answer(503, "not configured: register the App at /setup, then restart the web process",
                       request.headers.get("X-GitHub-Event", ""), "not configured")

    @app.get("/readyz")
    def readyz() -> Response:
        response = jsonify({"status": "setup: register the App at /setup, then restart the web process"})
        response.status_code = 503
        return response

    @app.get("/metrics")
    def metrics_page() -> Response:
        body, content_type = metrics.exposition()
        return Response(body, content_type=content_type)

    return app
