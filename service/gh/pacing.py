"""Write pacing and rate-limit pauses per installation.

GitHub's secondary rate limits allow about 80 content-creating requests a minute (and 500 an
hour) and ask integrations to send them one at a time. The adapter calls ``pacer.write(key)``
around every write; the in-process pacer serialises writes of one installation and spaces them at
least ``60 / per_minute`` seconds apart. A Redis-backed pacer can be plugged in with the same
shape (a context manager per write) so several worker processes share one budget.

A rate-limited answer (a secondary limit's ``Retry-After``, or a primary limit until
``X-RateLimit-Reset``) concerns the whole installation, not the one request: GitHub counts every
request of the installation's token. The adapter records it with ``pacer.pause(key, seconds)``
and calls ``pacer.wait_pause(key, longest)`` before every request, read or write, of any job or
process sharing the pacer.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from typing import Protocol

from redis.exceptions import LockError

DEFAULT_PER_MINUTE = 80


class Pacer(Protocol):
    """Anything that can hold a write slot for an installation and pause its requests."""

    def write(self, key: str) -> AbstractContextManager[None]:  # pragma: no cover - protocol
        """A context manager: enter when the write may go, exit when it is done."""
        ...

    def pause(self, key: str, seconds: float) -> None:  # pragma: no cover - protocol
        """No request of ``key`` before ``seconds`` from now (a longer pause already set stays)."""
        ...

    def wait_pause(self, key: str, longest: float) -> float:  # pragma: no cover - protocol
        """Sleep out a pause of at most ``longest`` seconds and return 0; return the seconds left,
        without sleeping, when the pause is longer."""
        ...


class _Pauses:
    """``wait_pause`` over a subclass's ``paused_for(key)`` (seconds left) and ``_sleep``."""

    _sleep: Callable[[float], None]

    def paused_for(self, key: str) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    def wait_pause(self, key: str, longest: float) -> float:
        """Sleeps while the pause of ``key`` lasts at most ``longest`` seconds (it is looked up
        again after each sleep: another request may have extended it), then returns 0. Returns
        the seconds left, without sleeping, when the pause is longer than ``longest``."""
        while (left := self.paused_for(key)) > 0:
            if left > longest:
                return left
            self._sleep(left)
        return 0.0


class _LocalPauses(_Pauses):
    """Pauses kept in a dict, for the threads of this process; ``_clock`` in seconds."""

    _clock: Callable[[], float]

    def __init__(self) -> None:
        self._paused: dict[str, float] = {}
        self._pause_guard = threading.Lock()

    def pause(self, key: str, seconds: float) -> None:
        """No request of ``key`` before ``seconds`` from now, unless a later pause is set."""
        if seconds <= 0:
            return
        until = self._clock() + seconds
        with self._pause_guard:
            self._paused[key] = max(until, self._paused.get(key, 0.0))

    def paused_for(self, key: str) -> float:
        """Seconds left in the pause of ``key`` (0 when none)."""
        until = self._paused.get(key)
        return 0.0 if until is None else max(0.0, until - self._clock())


class NoPacer(_LocalPauses):
    """Sends writes immediately (tests, dry runs, one-off listings). Rate-limit pauses are still
    honoured, in this process: a Retry-After is GitHub's request, not pacing."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__()
        self._clock = clock
        self._sleep = sleep

    @contextmanager
    def write(self, key: str) -> Iterator[None]:
        """Yields at once."""
        yield


class LocalPacer(_LocalPauses):
    """In-process pacing: one write at a time per ``key`` and at most ``per_minute`` a minute;
    pauses kept in a dict for the threads of this process.

    ``clock`` returns seconds (monotonic) and ``sleep`` waits seconds; both are injectable so tests
    run with a fake clock.
    """

    def __init__(self, per_minute: int = DEFAULT_PER_MINUTE, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        super().__init__()
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


# Keep the later of the stored and the new "paused until" (epoch seconds), expiring with it.
_PAUSE = """
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > cur then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
  return 1
end
return 0
"""


class RedisPacer(_Pauses):
    """Pacing shared by every worker process of a deployment (an in-process pacer only paces
    the jobs of one worker).

    Per ``key`` (an installation): one write at a time (a Redis lock held for the duration of the
    request, expiring after ``lock_seconds`` if its holder dies) and at most ``per_minute`` writes
    in any sliding 60-second window (a sorted set of write times). Bursts below the budget go out
    at once, so a dispatch of a few agents is not slowed down; a larger one settles at the budget.
    A pause is one key, ``<prefix>:pause:<key>``, holding the epoch second it ends (the later one
    wins when two processes are limited at once), expiring when it ends; ``clock`` must be
    ``time.time``-like (shared by every process of the machine).
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
        self._pause_script = connection.register_script(_PAUSE)

    def pause(self, key: str, seconds: float) -> None:
        """No request of ``key``, in any process, before ``seconds`` from now (one script call)."""
        if seconds <= 0:
            return
        until = self._clock() + seconds
        self._pause_script(keys=[f"{self._prefix}:pause:{key}"],
                           args=[f"{until:.3f}", max(1, math.ceil(seconds) + 1)])

    def paused_for(self, key: str) -> float:
        """Seconds left in the pause of ``key`` (0 when none): one ``GET``."""
        raw = self.redis.get(f"{self._prefix}:pause:{key}")
        if raw is None:
            return 0.0
        try:
            return max(0.0, float(raw) - self._clock())
        except ValueError:
            return 0.0

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
