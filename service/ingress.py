"""The web process's front: granian's RSGI interface in front of the WSGI application of
``service.webhook.create_app`` (the only name used from it), so that a client sending its request
body slowly holds no thread, and the health probes answer whatever webhook traffic does.

Each request is handled in the worker process's event loop until its body is complete:

- the body is read in the loop (granian's Rust I/O, no Python thread held) within
  ``WEB_BODY_TIMEOUT`` seconds of the request's arrival (5 by default); a request whose body has
  not arrived by then is answered ``408`` and its connection closed (GitHub sends a delivery in one
  piece, well under a second: only a stalled or hostile client waits that long). The deadlines are
  checked by one timer per process every ``min(0.25, WEB_BODY_TIMEOUT / 4)`` seconds, so the 408
  leaves at most that late (``Deadlines``). Reading stops one
  byte past the application's ``MAX_CONTENT_LENGTH``, so the receiver still answers an oversized
  body ``413``;
- ``GET /livez`` is then answered in the loop itself: no thread pool involved, so it answers while
  every delivery thread is busy;
- deliveries (``POST /webhook``, ``POST /``) go to the application's ``Receiver`` with the scope's
  headers and the complete body (no WSGI environ): it verifies and routes them in the loop, then
  the deliveries admitted in the same turn of the loop are written to Redis together, one
  pipelined round trip (``StoreBatch``); each ``202`` is still sent only once its own delivery is
  in Redis. Verifying is CPU and the write one round trip, and handing each delivery to a thread
  and back measured about 0.1–0.2 ms of CPU per delivery (a third more; the GIL passed between
  the loop and the pool). A write that took over ``SLOW_DELIVERY`` seconds (Redis slow or
  hanging) switches deliveries to a pool of ``WEB_THREADS`` threads (64) for ``ON_THREADS_FOR``
  seconds, so a hanging Redis stalls the loop at most once (for its socket timeout, 2 s) per
  period; bodies over ``INLINE_BODY`` bytes always go to the pool (their signature and JSON take
  milliseconds). In setup mode (no ``Receiver``) the WSGI application answers them;
- everything else (``/readyz``'s Redis ping, ``/metrics``, the setup page) runs in a small pool of
  its own, so a Redis that hangs deliveries does not queue the readiness probe behind them.

The WSGI application sees the environ granian's WSGI interface would give it (PEP 3333), with the
body in a ``BytesIO``.
"""

from __future__ import annotations

import asyncio
import functools
import io
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .logs import event

if TYPE_CHECKING:
    from .webhook import Answered, Receiver, Ticket

DEFAULT_THREADS = 64
DEFAULT_BODY_TIMEOUT = 5
PROBE_THREADS = 2
SLOW_DELIVERY = 0.1  # seconds
ON_THREADS_FOR = 30.0  # seconds
INLINE_BODY = 1 << 20  # bytes
MAX_TICK = 0.25  # seconds between two sweeps of the body deadlines
LIVENESS_PATH = "/livez"
# The answer to a body that did not arrive in time: JSON like every other answer GitHub records.
BODY_TIMEOUT_ANSWER = b'{"status":"request body not received in time"}\n'
BODY_TIMEOUT_OUTCOME = "body timeout"

log = logging.getLogger(__name__)


class BodyTimeout(Exception):
    """The request body did not arrive within the deadline."""


class ClientGone(Exception):
    """The client closed the connection before its body was complete: nothing to answer."""


@dataclass(frozen=True)
class Limits:
    """``threads``: delivery threads per process; ``body_timeout``: seconds from a request's
    arrival to its complete body; ``max_body``: bytes read before the receiver's own cap applies."""

    max_body: int  # the application's MAX_CONTENT_LENGTH: one owner, service.webhook
    threads: int = DEFAULT_THREADS
    body_timeout: float = DEFAULT_BODY_TIMEOUT


def limits_from_env(env: Mapping[str, str] | None = None, *, max_body: int) -> Limits:
    """``Limits`` from ``WEB_THREADS`` and ``WEB_BODY_TIMEOUT`` (positive integers; ``deploy/web.py``
    rejects anything else before a process starts). Raises ``ValueError`` on a malformed value."""
    env = env if env is not None else os.environ
    threads = int(env.get("WEB_THREADS", "").strip() or DEFAULT_THREADS)
    timeout = int(env.get("WEB_BODY_TIMEOUT", "").strip() or DEFAULT_BODY_TIMEOUT)
    if threads < 1 or timeout < 1:
        raise ValueError("WEB_THREADS and WEB_BODY_TIMEOUT must be positive")
    return Limits(threads=threads, body_timeout=timeout, max_body=max_body)


class Deadlines:
    """The body deadlines of one process: each request's task is registered with its monotonic
    deadline, and one timer every ``tick`` seconds cancels the reads past theirs (a request over
    its deadline is answered within ``tick`` of it). One timer per process instead of one per
    request: ``asyncio.timeout`` built and cancelled a timer handle for every delivery (~7 µs of
    CPU each)."""

    def __init__(self, tick: float) -> None:
        self.tick = tick
        self.pending: dict[asyncio.Task, float] = {}
        self.expired: set[asyncio.Task] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def watch(self, task: asyncio.Task, deadline: float) -> None:
        """Register ``task`` (the current request's) until ``forget``; starts the sweep on the
        running loop the first time (granian runs one loop per process; tests one per request)."""
        self.pending[task] = deadline
        loop = task.get_loop()
        if loop is not self._loop:
            self._loop = loop
            loop.call_later(self.tick, self._sweep, loop)

    def forget(self, task: asyncio.Task) -> bool:
        """Unregister ``task``; True when the sweep cancelled it for its deadline."""
        self.pending.pop(task, None)
        if task in self.expired:
            self.expired.discard(task)
            return True
        return False

    def _sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        if loop is not self._loop or loop.is_closed():
            return
        now = time.monotonic()
        for task, deadline in list(self.pending.items()):
            if deadline <= now and task not in self.expired:
                self.expired.add(task)
                task.cancel()
        loop.call_later(self.tick, self._sweep, loop)


async def read_body(protocol: Any, declared: int | None, limits: Limits, deadlines: Deadlines, deadline: float) -> bytes:
    """The request body, read in the event loop until the monotonic ``deadline`` (enforced by
    ``deadlines``); at most ``limits.max_body + 1`` bytes (the receiver answers 413 past its cap).
    Raises ``BodyTimeout`` when the deadline passes first, ``ClientGone`` when the client
    disconnects; a cancellation that is not the deadline's propagates."""
    task = asyncio.current_task()
    assert task is not None  # granian runs each request as a task
    deadlines.watch(task, deadline)
    try:
        if declared is not None and declared <= limits.max_body:
            return await protocol()
        return await _read_capped(protocol, limits.max_body + 1)
    except asyncio.CancelledError:
        if deadlines.forget(task):
            task.uncancel()
            raise BodyTimeout() from None
        raise
    except RuntimeError as exc:  # granian's RSGIProtocolClosed / RSGIProtocolError
        raise ClientGone() from exc
    finally:
        deadlines.forget(task)


async def _read_capped(protocol: Any, cap: int) -> bytes:
    chunks, size = [], 0
    async for chunk in protocol:
        chunks.append(chunk)
        size += len(chunk)
        if size >= cap:
            break
    return b"".join(chunks)[:cap]


def wsgi_environ(scope: Any, body: bytes) -> dict[str, Any]:
    """The PEP 3333 environ of an RSGI ``scope`` with ``body`` as ``wsgi.input`` (complete, so
    ``wsgi.input_terminated``: Werkzeug reads a body without ``Content-Length`` to its end). Repeated
    headers are joined with ``,`` (``;`` for ``Cookie``), as HTTP allows."""
    server_host, server_port = _address(scope.server)
    client_host, _, client_port = scope.client.rpartition(":")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope.method, "SCRIPT_NAME": "", "PATH_INFO": scope.path,
        "QUERY_STRING": scope.query_string, "SERVER_NAME": server_host, "SERVER_PORT": server_port,
        "SERVER_PROTOCOL": _PROTOCOLS.get(scope.http_version) or f"HTTP/{scope.http_version}",
        "REMOTE_ADDR": client_host, "REMOTE_PORT": client_port,
        "wsgi.version": (1, 0), "wsgi.url_scheme": scope.scheme, "wsgi.input": io.BytesIO(body),
        "wsgi.input_terminated": True, "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False,
    }
    for name, value in scope.headers.items():
        key = _ENVIRON_KEYS.get(name) or _environ_key(name)
        if key in environ:
            value = environ[key] + ("; " if key == "HTTP_COOKIE" else ", ") + value
        environ[key] = value
    return environ


_PROTOCOLS = {"1.1": "HTTP/1.1", "1": "HTTP/1", "1.0": "HTTP/1.0", "2": "HTTP/2"}
# Header name -> environ key, kept for the names seen (the same few on every delivery), up to
# ``_KEPT_KEYS`` names: a client sending ever new names is translated, not remembered.
_ENVIRON_KEYS: dict[str, str] = {}
_KEPT_KEYS = 256


def _environ_key(name: str) -> str:
    key = name.upper().replace("-", "_")
    if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        key = "HTTP_" + key
    if len(_ENVIRON_KEYS) < _KEPT_KEYS:
        _ENVIRON_KEYS[name] = key
    return key


@functools.lru_cache(maxsize=8)
def _address(server: str) -> tuple[str, str]:
    """``host:port`` of the listening socket, split once per process (it never changes)."""
    host, _, port = server.rpartition(":")
    return host, port


def call_wsgi(app: Callable, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    """Run the WSGI ``app`` on ``environ`` to completion: (status code, headers, body)."""
    started: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable:
        started[:] = [status, headers]
        return lambda data: None  # the legacy write() callable; the application does not use it

    result: Iterable[bytes] = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return int(started[0][:3]), list(started[1]), body


class StoreBatch:
    """The deliveries of the event loop waiting for their Redis write: those admitted in the same
    turn of the loop are stored together, one pipelined round trip (``Receiver.store_many``), in a
    callback the loop runs after them. A round trip costs ~60 µs of CPU on each side however few
    commands it carries, so under load a delivery costs a fraction of one. Each delivery is
    answered only once its own outcome is known, so a 202 still means it is in Redis.

    ``store_many(tickets)`` gives one outcome per ticket; ``took(seconds)`` hears how long each
    write blocked the loop; ``abandoned(ticket, outcome)`` hears the outcome of a delivery whose
    request was cancelled (client gone, shutdown) while it waited, so that it is still counted
    and logged. Every waiting future is resolved, whatever a write raises."""

    def __init__(self, store_many: Callable[[list[Ticket]], list[Any]], took: Callable[[float], None],
                 abandoned: Callable[[Ticket, Any], None]) -> None:
        self.store_many = store_many
        self.took = took
        self.abandoned = abandoned
        # per event loop (granian runs one per process; tests one per asyncio.run)
        self.waiting: dict[asyncio.AbstractEventLoop, list[tuple[Ticket, asyncio.Future]]] = {}

    def store(self, ticket: Ticket) -> asyncio.Future:
        """A future of ``ticket``'s outcome, resolved by the next write of the running loop."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        waiting = self.waiting.setdefault(loop, [])
        if not waiting:
            loop.call_soon(self._write, loop)
        waiting.append((ticket, future))
        return future

    def _write(self, loop: asyncio.AbstractEventLoop) -> None:
        waiting = self.waiting.pop(loop, [])
        start = time.monotonic()
        try:
            outcomes: list[Any] = self.store_many([ticket for ticket, _ in waiting])
            if len(outcomes) != len(waiting):
                raise RuntimeError(f"{len(outcomes)} outcomes for {len(waiting)} deliveries")
        except Exception as exc:  # a defect: each delivery is answered with it (500), none waits forever
            outcomes = [exc] * len(waiting)
        self.took(time.monotonic() - start)
        for (ticket, future), outcome in zip(waiting, outcomes, strict=True):
            if future.done():  # the request was cancelled meanwhile: no one to answer
                self.abandoned(ticket, outcome)
            else:
                future.set_result(outcome)


def _no_store(tickets: list[Ticket]) -> list[Any]:
    raise AssertionError("no receiver: deliveries go to the WSGI application")


class Ingress:
    """The RSGI application (``__rsgi__``) around the WSGI ``app``; see the module's description.
    ``limits`` size the delivery pool and bound body reads; the app's ``Receiver`` (when it has
    App credentials) answers deliveries without a WSGI environ."""

    def __init__(self, app: Callable, limits: Limits) -> None:
        from .webhook import WEBHOOK_PATHS  # imported late: see _body_timed_out

        self.app = app
        self.delivery_paths = WEBHOOK_PATHS
        self.receiver = receiver_of(app)
        self.batch = StoreBatch(self.receiver.store_many if self.receiver else _no_store, self._store_took,
                                self._abandoned)
        self.limits = limits
        self.deliveries = ThreadPoolExecutor(limits.threads, thread_name_prefix="wavegate-delivery")
        self.others = ThreadPoolExecutor(PROBE_THREADS, thread_name_prefix="wavegate-probe")
        self.threads_until = 0.0  # time.monotonic() before which deliveries run in the pool
        self.deadlines = Deadlines(min(MAX_TICK, limits.body_timeout / 4))

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Nothing to prepare: the pools start their threads on first use."""

    def __rsgi_del__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Let running requests finish (a delivery being stored still gets its answer)."""
        self.deliveries.shutdown(wait=True)
        self.others.shutdown(wait=True)

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        if scope.proto != "http":
            return  # no websockets here: granian closes the connection
        start, declared = time.monotonic(), _declared_length(scope)
        if declared is not None and declared > self.limits.max_body and self.receiver and self._is_delivery(scope):
            # Declared over the cap: answered 413 now, not after waiting for a body never read.
            status, headers, data = self.receiver.deliver(scope.headers, None)
            protocol.response_bytes(status, [*headers, ("connection", "close")], data)
            return
        try:
            body = await read_body(protocol, declared, self.limits, self.deadlines,
                                   start + self.limits.body_timeout)
        except BodyTimeout:
            self._body_timed_out(scope, protocol, start)
            return
        except ClientGone:
            event(log, "request_abandoned", logging.INFO, path=scope.path[:64])
            return
        if self._is_delivery(scope):
            answer = await self._delivery(scope, body)
        elif scope.path == LIVENESS_PATH:
            answer = call_wsgi(self.app, wsgi_environ(scope, body))  # no I/O: answered in the loop
        else:
            answer = await asyncio.get_running_loop().run_in_executor(self.others, call_wsgi, self.app,
                                                                      wsgi_environ(scope, body))
        protocol.response_bytes(*answer)

    async def _delivery(self, scope: Any, body: bytes) -> Answered:
        """Run the receiver in the loop, or in the delivery pool while ``threads_until`` lasts
        and for large bodies; a slow run in the loop starts a period on threads. The receiver gets
        the scope's headers and the body as they are (``Receiver.deliver``); without one (setup
        mode) the WSGI application answers."""
        if self.receiver is None:
            return await asyncio.get_running_loop().run_in_executor(self.others, call_wsgi, self.app,
                                                                    wsgi_environ(scope, body))
        receiver = self.receiver
        capped = body if len(body) <= self.limits.max_body else None  # None: the receiver answers 413
        if time.monotonic() < self.threads_until or len(body) > INLINE_BODY:
            return await asyncio.get_running_loop().run_in_executor(self.deliveries, receiver.deliver, scope.headers,
                                                                    capped)
        ticket = receiver.admit(scope.headers, capped)
        if ticket.route is not None:
            receiver.settle(ticket, await self.batch.store(ticket))
        return receiver.answer(ticket)

    def _is_delivery(self, scope: Any) -> bool:
        """A webhook delivery: ``POST`` on one of ``service.webhook.WEBHOOK_PATHS``."""
        return scope.method == "POST" and scope.path in self.delivery_paths

    def _abandoned(self, ticket: Ticket, outcome: Any) -> None:
        """Count and log a stored (or failed) delivery whose client left before its answer."""
        if self.receiver is not None:
            ticket.fields["client_gone"] = True
            self.receiver.settle(ticket, outcome)
            self.receiver.answer(ticket)

    def _store_took(self, took: float) -> None:
        """A Redis write of the loop that took over ``SLOW_DELIVERY`` starts a period on threads."""
        if took > SLOW_DELIVERY:
            self.threads_until = time.monotonic() + ON_THREADS_FOR
            event(log, "deliveries_on_threads", logging.WARNING, took_ms=round(took * 1000), seconds=ON_THREADS_FOR)

    def _body_timed_out(self, scope: Any, protocol: Any, start: float) -> None:
        """Answer 408 (connection closed), count and log it. The delivery was never verified, so
        its event name is not trusted as a metric label."""
        # Imported here: deploy/web.py reads this module's defaults before it sets the metrics
        # folder, and prometheus-client chooses its multiprocess mode when first imported.
        from . import metrics

        metrics.record_delivery("-", BODY_TIMEOUT_OUTCOME, time.monotonic() - start)
        event(log, "delivery_rejected", logging.WARNING, status=408, reason=BODY_TIMEOUT_OUTCOME,
              path=scope.path[:64], timeout_s=self.limits.body_timeout)
        protocol.response_bytes(408, [("content-type", "application/json"), ("connection", "close")],
                                BODY_TIMEOUT_ANSWER)


def receiver_of(app: Callable) -> Receiver | None:
    """The ``service.webhook.Receiver`` in front of a Flask ``app`` of ``create_app``; None in setup
    mode or for any other WSGI callable (deliveries then go to it through a WSGI environ)."""
    from .webhook import Receiver  # imported late: see _body_timed_out

    wsgi_app = getattr(app, "wsgi_app", None)
    return wsgi_app if isinstance(wsgi_app, Receiver) else None


def _declared_length(scope: Any) -> int | None:
    raw = scope.headers.get("content-length")
    return int(raw) if raw and raw.isdigit() else None


def create_app() -> Ingress:
    """granian's factory (``service.ingress:create_app``, RSGI): the webhook application of
    ``service.webhook.create_app()`` (settings from the environment; exits with one line on a
    configuration error) behind ``Ingress`` with ``limits_from_env``."""
    from .webhook import create_app as create_wsgi_app

    app = create_wsgi_app()
    return Ingress(app, limits_from_env(max_body=app.config["MAX_CONTENT_LENGTH"]))
