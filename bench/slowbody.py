"""Section 6, slow bodies: the web process while 140 clients send request bodies one byte a second,
today's WSGI receiver against the RSGI ingress (``service.ingress``) in the same run.

For each contender, in turn (the order rotated every repeat): the ``max`` load of ``bench.ingest``
(wrk, 16 keep-alive connections; server CPU per delivery), then 140 slow-body clients
(loopback only: each opens a connection, sends the headers of a ``POST /webhook`` announcing a
10,000-byte body, then one byte a second, and starts over when answered or closed), and while they
are connected: signed deliveries at 200/s (``bench.loadgen``, 16 connections) and ``GET /livez`` at
20/s on a fresh connection each (as a kubelet probes), a probe with no answer within 3 s counting as
an error. Target: p99 of both ≤ 50 ms, no errors.

Contenders: ``wsgi receiver (before)`` — ``service.webhook:create_app`` on granian's WSGI interface,
2 processes × 16 threads, as ``deploy/web.py`` ran it before; ``rsgi ingress`` — ``deploy/web.py``
as shipped (2 processes × 16 delivery threads, as ``bench.ingest`` runs it).

    python -m bench --only slowbody [--repeats N] [--seconds S]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import threading
import time
from pathlib import Path

import redis

from .common import REDIS_URL, ensure_apt, stats, tree_cpu_seconds
from .ingest import Server, make_bodies, run_fixed, run_wrk, server_env, start, stop

SLOW_CLIENTS = 140
PROBE_RATE = 20
PROBE_TIMEOUT = 3.0
DECLARED_BODY = 10_000
CONTENDERS = (
    Server("wsgi receiver (before)", (sys.executable, "-m", "granian", "--interface", "wsgi", "--factory",
                                      "--workers", "2", "--blocking-threads", "16", "--no-access-log",
                                      "--host", "127.0.0.1", "--port", "{port}", "service.webhook:create_app")),
    Server("rsgi ingress", (sys.executable, "deploy/web.py"), port_env=True),
)


class SlowLoad:
    """``SLOW_CLIENTS`` drip-feeding clients and the ``/livez`` prober, on an event loop in a thread
    of their own. ``answers`` counts the slow clients' answers by status (``closed``/``error``
    without one); ``probe_ms`` and ``probe_errors`` cover only probes sent after ``measure()``."""

    def __init__(self, port: int, clients: int = SLOW_CLIENTS) -> None:
        self.port, self.clients = port, clients
        self.answers: dict[str, int] = {}
        self.probe_ms: list[float] = []
        self.probe_errors = 0
        self.measuring = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    def __enter__(self) -> SlowLoad:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(15)

    def measure(self) -> None:
        self.measuring = True

    async def _main(self) -> None:
        tasks = [asyncio.create_task(self._drip()) for _ in range(self.clients)]
        tasks.append(asyncio.create_task(self._probes()))
        await asyncio.gather(*tasks)

    def _count(self, key: str) -> None:
        self.answers[key] = self.answers.get(key, 0) + 1

    async def _drip(self) -> None:
        head = (f"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"X-GitHub-Event: pull_request\r\nContent-Length: {DECLARED_BODY}\r\n\r\n").encode()
        while not self._stop.is_set():
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                self._count("error")
                await asyncio.sleep(0.2)
                continue
            try:
                writer.write(head)
                self._count(await self._one_byte_a_second(reader, writer))
            except OSError:
                self._count("closed")
            finally:
                writer.close()

    async def _one_byte_a_second(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> str:
        """Send a body byte each second until answered; the answer's status, or ``closed``."""
        for _ in range(DECLARED_BODY):
            if self._stop.is_set():
                return "stopped"
            writer.write(b" ")
            await writer.drain()
            try:
                line = await asyncio.wait_for(reader.readline(), 1.0)
            except TimeoutError:
                continue
            return line.split()[1].decode() if line.startswith(b"HTTP/") else "closed"
        return "body sent"

    async def _probes(self) -> None:
        pending = set()
        while not self._stop.is_set():
            pending.add(asyncio.create_task(self._probe(self.measuring)))
            pending = {t for t in pending if not t.done()}
            await asyncio.sleep(1 / PROBE_RATE)
        await asyncio.gather(*pending, return_exceptions=True)

    async def _probe(self, counted: bool) -> None:
        start = time.perf_counter()
        try:
            async with asyncio.timeout(PROBE_TIMEOUT):
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.write(b"GET /livez HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                status = (await reader.readline()).split()[1]
                await reader.read()
                writer.close()
            ok = status == b"200"
        except (OSError, TimeoutError, IndexError):
            ok = False
        if counted:
            if ok:
                self.probe_ms.append((time.perf_counter() - start) * 1000)
            else:
                self.probe_errors += 1


def p99(values: list[float]) -> float | None:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(0.99 * len(values)))], 3) if values else None


def under_slow_load(port: int, index: Path, seconds: float, clients: int = SLOW_CLIENTS) -> dict:
    """Deliveries at 200/s and probes while ``clients`` slow-body clients are connected (2 s to
    connect first): p99s, errors, and the slow clients' answers."""
    with SlowLoad(port, clients) as slow:
        time.sleep(2)
        slow.measure()
        deliveries = run_fixed(port, index, 200, seconds)
        slow.measuring = False
    return {"livez_p99_ms": p99(slow.probe_ms), "livez_errors": slow.probe_errors, "livez_probes": len(slow.probe_ms),
            "deliveries_p99_ms": deliveries["p99_ms"], "deliveries_answered": deliveries["answered"],
            "deliveries_errors": deliveries["errors"] + (deliveries["requests"] - deliveries["answered"]),
            "deliveries_non_2xx": sum(n for code, n in deliveries["statuses"].items() if not code.startswith("2")),
            "slow_client_answers": dict(slow.answers)}


def _one_round(server: Server, env: dict, folder: Path, index: Path, wrk: str | None, seconds: float) -> dict:
    proc, port = start(server, env, folder / "server.log")
    try:
        run_fixed(port, index, 100, 1)  # warm-up
        got: dict = {}
        if wrk:
            cpu0 = tree_cpu_seconds(proc.pid)
            got = run_wrk(wrk, port, index, 2)
            got["cpu_ms_per_delivery"] = (tree_cpu_seconds(proc.pid) - cpu0) * 1000 / max(1, got["answered"])
        redis.Redis.from_url(REDIS_URL).flushdb()
        got.update(under_slow_load(port, index, seconds))
        return got
    finally:
        stop(proc)


def run(*, repeats: int = 3, seconds: float = 10.0, quick: bool = False) -> dict:
    """Every contender, ``repeats`` times in rotated order. Returns ``{"servers": {name: {metric:
    stats}}, "slow_client_answers": {name: [per round]}, ...}``."""
    wrk = ensure_apt("wrk", "wrk")
    samples: dict[str, dict[str, list]] = {s.name: {} for s in CONTENDERS}
    answers: dict[str, list] = {s.name: [] for s in CONTENDERS}
    with tempfile.TemporaryDirectory(prefix="wavegate-bench-slowbody-") as tmp:
        folder = Path(tmp)
        index = make_bodies(folder, 20 if quick else 200)
        env = server_env(folder)
        for r in range(repeats):
            for server in CONTENDERS[r % 2:] + CONTENDERS[:r % 2]:
                redis.Redis.from_url(REDIS_URL).flushdb()
                got = _one_round(server, env, folder, index, wrk, seconds)
                answers[server.name].append(got.pop("slow_client_answers"))
                for key, value in got.items():
                    if isinstance(value, int | float):
                        samples[server.name].setdefault(key, []).append(value)
                print(f"  slowbody round {r + 1}/{repeats}: {server.name} done", file=sys.stderr, flush=True)
    redis.Redis.from_url(REDIS_URL).flushdb()
    return {"servers": {name: {k: stats(v) for k, v in got.items()} for name, got in samples.items()},
            "slow_client_answers": answers, "slow_clients": SLOW_CLIENTS, "seconds": seconds, "repeats": repeats,
            "wrk": bool(wrk), "command": "python -m bench --only slowbody"}


def rows(result: dict) -> list[tuple[str, str, str]]:
    """The bench table's rows for this section: (section, measure, figure)."""
    def m(d: dict | None, digits: int = 2) -> str:
        return "-" if not d or d.get("median") is None else f"{d['median']:,.{digits}f}"

    out = []
    for name, got in result["servers"].items():
        out.append(("7 slow", f"{name}: max req/s, CPU ms/delivery",
                    f"{m(got.get('rate'), 0)}, {m(got.get('cpu_ms_per_delivery'), 3)}"))
        out.append(("7 slow", f"{name}: 140 slow bodies: /livez p99 ms, errors",
                    f"{m(got.get('livez_p99_ms'))}, {m(got.get('livez_errors'), 0)}  (target ≤ 50, 0)"))
        out.append(("7 slow", f"{name}: 140 slow bodies: 200/s deliveries p99 ms, errors",
                    f"{m(got.get('deliveries_p99_ms'))}, {m(got.get('deliveries_errors'), 0)}"
                    f"+{m(got.get('deliveries_non_2xx'), 0)}  (target ≤ 50, 0)"))
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(run(repeats=1, seconds=5), indent=2))
