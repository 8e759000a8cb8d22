"""Write pacing per installation.

GitHub's secondary rate limits allow about 80 content-creating requests a minute (and 500 an
hour) and ask integrations to send them one at a time. The adapter calls ``pacer.write(key)``
around every write; the in-process pacer serialises writes of one installation and spaces them at
least ``60 / per_minute`` seconds apart. A Redis-backed pacer can be plugged in with the same
shape (a context manager per write) so several worker processes share one budget.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

DEFAULT_PER_MINUTE = 80


class Pacer(Protocol):
    """Anything that can hold a write slot for an installation."""

    def write(self, key: str) -> Iterator[None]:  # pragma: no cover - protocol
        """A context manager: enter when the write may go, exit when it is done."""
        ...


class NoPacer:
    """Sends writes immediately (tests, dry runs)."""

    @contextmanager
    def write(self, key: str) -> Iterator[None]:
        """Yields at once."""
        yield


class LocalPacer:
    """In-process pacing: one write at a time per ``key`` and at most ``per_minute`` a minute.

    ``clock`` returns seconds (monotonic) and ``sleep`` waits seconds; both are injectable so tests
    run with a fake clock.
    """

    def __init__(self, per_minute: int = DEFAULT_PER_MINUTE, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.interval = 60.0 / per_minute
        self._clock = clock
        self._sleep = sleep
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._last: dict[str, float] = {}

    def _lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    @contextmanager
    def write(self, key: str) -> Iterator[None]:
        """Waits for the installation's previous write to finish and for the spacing interval."""
        with self._lock(key):
            last = self._last.get(key)
            if last is not None:
                wait = last + self.interval - self._clock()
                if wait > 0:
                    self._sleep(wait)
            try:
                yield
            finally:
                self._last[key] = self._clock()
