"""Structured logging: one JSON object per line, stable event names, bound context fields, and a
filter that scrubs tokens, keys and secrets from everything that is logged.

Usage::

    log = logging.getLogger(__name__)
    with bound(delivery_id=guid, installation_id=1, repo="o/r"):
        event(log, "delivery_enqueued", job_id=job.id)

Event names used by the product: ``delivery_received``, ``delivery_rejected``,
``delivery_ignored``, ``delivery_duplicate``, ``delivery_enqueued``, ``delivery_coalesced``,
``enqueue_failed``, ``job_started``, ``job_finished``, ``job_retrying``, ``job_failed``,
``job_coalesced``, ``lock_busy``, ``periodic_armed``, ``periodic_run``; at start-up
``app_registration_ok``, ``app_registration_incomplete``, ``app_check_failed``; in setup mode
``setup_mode``, ``app_registered``, ``setup_rejected``, ``setup_failed``. Lines from libraries
(gunicorn, RQ) carry the event ``log``.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

BOUND_FIELDS = ("delivery_id", "installation_id", "repo", "number", "sha", "job_id", "event_name")
_context: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("wavegate_log_context")

REDACTED = "[redacted]"
_PATTERNS = (
    # PEM private keys (App keys are RSA PEM).
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S),
    # Installation, user, OAuth and refresh tokens, and fine-grained PATs. Installation tokens
    # change format in 2026 (ghs_APPID_JWT, ~520 chars): match by prefix, never by length.
    re.compile(r"\b(?:gh[pousr]_|github_pat_)[A-Za-z0-9_.\-]+"),
    # JWTs (the App's own RS256 token, and the new installation-token body).
    re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"),
    # Authorization header values.
    re.compile(r"(?i)\b(?:bearer|token)\s+[A-Za-z0-9_.\-]{8,}"),
    # Passwords in URLs (redis://:pw@host).
    re.compile(r"(?<=://)[^/\s:@]*:[^/\s@]+(?=@)"),
)
_secrets: set[str] = set()


def register_secrets(values: Iterable[str]) -> None:
    """Add literal secret strings (webhook secrets, private key, Redis password) to scrub."""
    for value in values:
        if value and len(value) >= 4:
            _secrets.add(value)


def scrub(text: str) -> str:
    """``text`` with every token, key, JWT and registered secret replaced by ``[redacted]``."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


@contextmanager
def bound(**fields: Any) -> Iterator[None]:
    """Bind fields (delivery_id, installation_id, repo, number, sha …) to every log line emitted
    inside the block, in this thread or task."""
    merged = {**_context.get({}), **{k: v for k, v in fields.items() if v is not None}}
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)


def event(logger: logging.Logger, name: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log the stable event ``name`` with extra structured ``fields``."""
    logger.log(level, name, extra={"wavegate_event": name, "wavegate_fields": fields})


class ScrubFilter(logging.Filter):
    """Rewrites each record's message and string fields with ``scrub`` before any handler sees
    them. Never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the line
            message = str(record.msg)
        record.msg, record.args = scrub(message), ()
        fields = getattr(record, "wavegate_fields", None)
        if isinstance(fields, dict):
            record.wavegate_fields = {k: scrub(v) if isinstance(v, str) else v for k, v in fields.items()}
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``ts``, ``level``, ``logger``, ``event``, ``message``, the bound
    context, the event's fields and ``exc`` (the traceback text), all scrubbed."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": getattr(record, "wavegate_event", None) or "log",
        }
        message = record.getMessage()
        if message != data["event"]:
            data["message"] = message
        data.update(_context.get({}))
        fields = getattr(record, "wavegate_fields", None)
        if isinstance(fields, dict):
            data.update(fields)
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return scrub(json.dumps(data, default=str, ensure_ascii=False))


def configure(level: str = "INFO", secrets: Iterable[str] = (), stream=None) -> logging.Handler:
    """Install the JSON handler (with the scrub filter) on the root logger, replacing a previous
    one installed by this function. Returns the handler."""
    register_secrets(secrets)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_wavegate", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler._wavegate = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ScrubFilter())
    root.addHandler(handler)
    root.setLevel(level)
    return handler
