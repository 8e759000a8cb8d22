"""GitHub's failures as ``service.errors`` types: status, message and rate-limit headers of a
PyGithub or ``requests`` exception mapped to ``NotFound``, ``Conflict``, ``PermissionDenied``,
``RateLimited`` or ``TransientGitHubError`` (GitHub REST docs, "Rate limits for the REST API").
Pure: no request is sent here."""

from __future__ import annotations

import time
from typing import Any

import requests
from github import GithubException

from ..errors import Conflict, NotFound, PermissionDenied, RateLimited, TransientGitHubError
from .parse import header

SECONDARY_WAIT = 60.0  # seconds, when a secondary limit names no Retry-After

# The permission each refused request needs, for PermissionDenied (app.yml grants these).
_PERMISSION_FOR = (
    ("/check-runs", "checks: write"),
    ("/pulls", "pull_requests: write"),
    ("/git/", "contents: write"),
    ("/issues", "issues: write"),
    ("/collaborators", "metadata: read"),
    ("/contents", "contents: read"),
)



def wait_seconds(headers: Any, *, now: float | None = None, attempt: int = 0) -> float:
    """The rate-limit wait rule, in seconds: ``Retry-After`` when present; else, when
    ``X-RateLimit-Remaining`` is ``"0"``, until ``X-RateLimit-Reset`` (epoch seconds); else 60 s,
    doubling with each repeated ``attempt`` (0-based). ``now`` defaults to ``time.time()``."""
    retry_after = header(headers, "retry-after")
    if retry_after is not None:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            pass
    if header(headers, "x-ratelimit-remaining") == "0":
        reset = header(headers, "x-ratelimit-reset")
        try:
            return max(1.0, float(reset or "") - (time.time() if now is None else now))
        except (TypeError, ValueError):
            pass
    return SECONDARY_WAIT * (2 ** max(0, attempt))


def _permission_for(path: str) -> str:
    for fragment, permission in _PERMISSION_FOR:
        if fragment in path:
            return permission
    return "unknown"


def map_error(exc: Exception, request: str, *, now: float | None = None) -> Exception:
    """The ``service.errors`` exception for a PyGithub or requests exception raised by
    ``request`` (e.g. ``"POST /repos/o/r/pulls"``). Messages carry the request, the status and
    GitHub's message, never headers (and so never tokens)."""
    if isinstance(exc, GithubException):
        status = exc.status
        data = exc.data if isinstance(exc.data, dict) else {}
        message = str(data.get("message") or "")
        headers = exc.headers or {}
        text = f"{request}: {status} {message}".strip()
        lowered = message.lower()
        limited = (
            status == 429
            or "rate limit" in lowered
            or (status == 403 and header(headers, "x-ratelimit-remaining") == "0")
            or (status == 403 and header(headers, "retry-after") is not None)
        )
        if status in (403, 429) and limited:
            return RateLimited(text, retry_after=wait_seconds(headers, now=now))
        if status == 403:
            path = request.split(" ", 1)[-1]
            return PermissionDenied(text, request=request, permission=_permission_for(path))
        if status == 401:
            # An installation token expired or was revoked early: the retried job builds a new
            # client, which mints a fresh token. A wrong App key fails the token mint itself.
            return TransientGitHubError(text)
        if status in (404, 410):
            return NotFound(text)
        if status >= 500 or status in (408,) or status <= 0:
            return TransientGitHubError(text)
        errors = data.get("errors")
        if errors:
            text = f"{text} {errors}"
        # 409/422 and any other 4xx: the request cannot succeed as sent (state moved, exists …)
        return Conflict(text)
    if isinstance(exc, requests.exceptions.RetryError | requests.exceptions.ConnectionError
                  | requests.exceptions.Timeout | requests.exceptions.ChunkedEncodingError):
        return TransientGitHubError(f"{request}: {type(exc).__name__}")
    return exc
