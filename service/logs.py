"""Structured logging: one JSON object per line, stable event names, bound context fields, and a
scrubbing of tokens, keys and secrets from everything that is logged.

Usage::

    log = logging.getLogger(__name__)
    with bound(delivery_id=guid, installation_id=1, repo="o/r"):
        event(log, "delivery_enqueued", job_id=job.id)

Event names used by the product: one line per webhook delivery, carrying its ``size`` and
``status``: ``delivery_rejected``, ``delivery_ping``, ``delivery_ignored``, ``delivery_duplicate``,
``delivery_enqueued``, ``delivery_coalesced``, ``enqueue_failed``, ``delivery_failed``; in the
workers ``job_started``, ``job_finished``, ``job_retrying``, ``job_failed``, ``job_coalesced``,
``lock_busy``, ``periodic_armed``, ``periodic_run``; at start-up
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

import orjson

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


def _may_hold_secret(text: str) -> bool:
    """False only when none of the patterns nor a registered secret can match ``text``: each
    pattern needs one of the literals below, so most values (GUIDs, repo names, SHAs) skip the
    regexes. Plain ``in`` tests: one C-level scan each, no regex engine."""
    if ("_" in text and "gh" in text) or "eyJ" in text or "://" in text or "-----BEGIN" in text:
        return True  # gh?_ / github_pat_ tokens, JWTs, URL passwords, PEM keys
    for secret in _secrets:
        if secret in text:
            return True
    lowered = text.lower()  # the Authorization pattern is case-insensitive
    return "bearer" in lowered or "token" in lowered


def scrub(text: str) -> str:
    """``text`` with every token, key, JWT and registered secret replaced by ``[redacted]``."""
    if not _may_hold_secret(text):
        return text
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def _scrubbed(value: Any) -> Any:
    """``value`` with ``scrub`` applied to every string in it (lists, tuples and dicts walked)."""
    if isinstance(value, str):
        return scrub(value)
    if value is None or isinstance(value, int | float):
        return value
    if isinstance(value, dict):
        return {k: _scrubbed(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_scrubbed(v) for v in value]
    return scrub(str(value))


_PLAIN = frozenset((str, int, float, bool, type(None)))


def _plainly_clean(data: dict[str, Any]) -> bool:
    """True when every value is a plain scalar and no string among them can hold a secret: one
    ``_may_hold_secret`` scan of the strings joined (a joint can only add a false alarm, which
    then scrubs each value) instead of one per value."""
    if not all(type(v) in _PLAIN for v in data.values()):
        return False
    return not _may_hold_secret("\n".join([v for v in data.values() if type(v) is str]))


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
    """Log the stable event ``name`` with extra structured ``fields``. The caller's file and line
    are not looked up (no formatter here prints them), which saves a stack walk per line."""
    if logger.isEnabledFor(level):
        logger.handle(logger.makeRecord(logger.name, level, "(unknown file)", 0, name, (), None,
                                        extra={"wavegate_event": name, "wavegate_fields": fields}))


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
    context, the event's fields and ``exc`` (the traceback text). Every string value is scrubbed
    before encoding (so a secret with quotes or backslashes is found as it was, not as JSON escapes
    it), nested lists and dicts included."""

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
        scrubbed = data if _plainly_clean(data) else {k: _scrubbed(v) for k, v in data.items()}
        try:
            # orjson: about a third of the stdlib encoder's time on a delivery's line.
            return orjson.dumps(scrubbed, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
        except (orjson.JSONEncodeError, TypeError):  # an integer past 64 bits, say: the stdlib encodes it
            return json.dumps(scrubbed, default=str, ensure_ascii=False)


def configure(level: str = "INFO", secrets: Iterable[str] = (), stream=None) -> logging.Handler:
    """Install the JSON handler (scrubbing as it formats) on the root logger, replacing a previous
    one installed by this function. Returns the handler."""
    register_secrets(secrets)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_wavegate", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler._wavegate = True  # type: ignore[attr-defined]
    # The formatter scrubs every value it writes; a ScrubFilter in front would scrub them twice.
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)
    return handler
