"""The app's own errors. The GitHub adapter maps PyGithub and requests exceptions onto these, so
use cases and jobs never see a library's exception types."""

from __future__ import annotations


class WavegateError(Exception):
    """Base class. Messages never contain tokens, keys or secrets."""


class TransientGitHubError(WavegateError):
    """A failure worth retrying (5xx, connection reset, timeout). ``retry_after`` in seconds, if
    GitHub said."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(TransientGitHubError):
    """Primary or secondary rate limit (403/429). ``retry_after`` seconds: Retry-After when
    present; else until X-RateLimit-Reset when remaining is 0; else at least 60 s, doubling."""


class PermissionDenied(WavegateError):
    """GitHub refused a request for lack of permission (403 "Resource not accessible by
    integration"). ``request`` is e.g. ``POST /repos/o/r/pulls``; ``permission`` what it needs."""

    def __init__(self, message: str, request: str = "", permission: str = "") -> None:
        super().__init__(message)
        self.request = request
        self.permission = permission


class NotFound(WavegateError):
    """404 for an object that was expected to exist."""


class Conflict(WavegateError):
    """409/422 answers that mean the state moved (head SHA changed, ref already exists …)."""


class ConfigError(WavegateError):
    """A missing or malformed setting; the message names it. Stops start-up."""
