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
from contextlib import contextmanager, suppress
from typing import Protocol

from redis.exceptions import LockError

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


class RedisPacer:
    """Pacing shared by every worker process of a deployment (RQ forks a process per job, so an
    in-process pacer only paces within one job).

    Per ``key`` (an installation): one write at a time (a Redis lock held for the duration of the
    request, expiring after ``lock_seconds`` if its holder dies) and at most ``per_minute`` writes
    in any sliding 60-second window (a sorted set of write times). Bursts below the budget go out
    at once, so a dispatch of a few agents is not slowed down; a larger one settles at the budget.
    """

    def __init__(self, connection, per_minute: int = DEFAULT_PER_MINUTE, *, window: float = 60.0,
                 lock_seconds: float = 30.0, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep, prefix: str = "wavegate:pace") -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.redis = connection
        self.per_minute = per_minute
        self.window = window
        self.lock_seconds = lock_seconds
        self._clock = clock
        self._sleep = sleep
        self._prefix = prefix

    def wait_seconds(self, key: str) -> float:
        """Seconds until the window has room for one more write of ``key`` (0 when it has)."""
        times = f"{self._prefix}:{key}"
        now = self._clock()
        self.redis.zremrangebyscore(times, 0, now - self.window)
        if self.redis.zcard(times) < self.per_minute:
            return 0.0
        oldest = self.redis.zrange(times, 0, 0, withscores=True)
        return max(0.0, oldest[0][1] + self.window - now) if oldest else 0.0

    @contextmanager
    def write(self, key: str) -> Iterator[None]:
        """Holds the installation's write lock, waits for room in the window, records the write."""
        lock = self.redis.lock(f"{self._prefix}:lock:{key}", timeout=self.lock_seconds,
                               blocking_timeout=self.lock_seconds * 4)
        if not lock.acquire():
            raise TimeoutError(f"no write slot for installation {key} within {self.lock_seconds * 4:.0f} s")
        try:
            while (wait := self.wait_seconds(key)) > 0:
                self._sleep(wait)
            now = self._clock()
            times = f"{self._prefix}:{key}"
            self.redis.zadd(times, {f"{now:.6f}:{id(lock)}": now})
            self.redis.expire(times, int(self.window * 2))
            yield
        finally:
            # An expired lock was already released by Redis: nothing to give back.
            with suppress(LockError):
                lock.release()
