"""Fixed-rate load generator for the ingest benchmark (run in its own process):

    python -m bench.loadgen --port P --index FILE --rate 400 --seconds 4 --connections 16 [--pause-ms 50]

Opens ``--connections`` keep-alive HTTP/1.1 connections to 127.0.0.1 (only), and starts request
*i* at ``t0 + i / rate`` on the first free connection. Latency runs from that scheduled time to the
last byte of the answer, so a server that falls behind is charged for the wait (no coordinated
omission); with ``--pause-ms`` each request first opens (or reuses) its connection, pauses, then
sends the request (a slow client: the server has the connection but no request yet), and the pause
is subtracted. A server answering ``Connection: close`` (gunicorn's sync
workers do not keep connections alive) costs a reconnect, as it would cost GitHub. Bounded: at most
``rate × seconds`` requests and ``seconds + 10`` s. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid


def load_index(path: str) -> list[tuple[str, bytes]]:
    """Lines ``<signature> <body file>`` → [(signature, body bytes)]."""
    pairs = []
    with open(path) as index:
        for line in index:
            sig, file = line.split()
            with open(file, "rb") as body:
                pairs.append((sig, body.read()))
    return pairs


class Connection:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def ensure(self) -> None:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, head: bytes, body: bytes, pause: float) -> int:
        await self.ensure()
        assert self.writer is not None and self.reader is not None
        if pause:
            await asyncio.sleep(pause)
        self.writer.write(head + body)
        await self.writer.drain()
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed")
        status = int(status_line.split()[1])
        length, close = 0, False
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                close = True
        if length:
            await self.reader.readexactly(length)
        if close:
            self.close()
        return status


async def run(port: int, bodies: list[tuple[str, bytes]], rate: float, seconds: float, connections: int,
              pause_ms: float) -> dict:
    total = int(rate * seconds)
    run_id = uuid.uuid4().hex[:8]
    pause = pause_ms / 1000
    jobs: asyncio.Queue = asyncio.Queue()
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    errors = 0

    async def worker() -> None:
        nonlocal errors
        conn = Connection(port)
        while True:
            item = await jobs.get()
            if item is None:
                conn.close()
                return
            i, scheduled = item
            sig, body = bodies[i % len(bodies)]
            head = (f"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
                    f"User-Agent: GitHub-Hookshot/bench\r\nX-GitHub-Event: pull_request\r\n"
                    f"X-GitHub-Delivery: {run_id}-{i}\r\nX-Hub-Signature-256: {sig}\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n").encode()
            try:
                status = await conn.request(head, body, pause)
                statuses[str(status)] = statuses.get(str(status), 0) + 1
                latencies.append(time.perf_counter() - scheduled - pause)
            except (OSError, ConnectionError, ValueError, IndexError, asyncio.IncompleteReadError):
                errors += 1
                conn.close()

    workers = [asyncio.create_task(worker()) for _ in range(connections)]
    start = time.perf_counter()
    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        jobs.put_nowait((i, scheduled))
    for _ in workers:
        jobs.put_nowait(None)
    try:
        await asyncio.wait_for(asyncio.gather(*workers), timeout=seconds + 10)
    except TimeoutError:
        for task in workers:
            task.cancel()
    elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(p: float) -> float | None:
        return round(latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000, 3) if latencies else None

    done = len(latencies)
    return {"offered_rate": rate, "requests": total, "answered": done, "errors": errors, "statuses": statuses,
            "elapsed_s": round(elapsed, 3), "rate": round(done / elapsed, 1), "p50_ms": pct(50), "p99_ms": pct(99),
            "max_ms": round(latencies[-1] * 1000, 3) if latencies else None,
            "mean_ms": round(statistics.fmean(latencies) * 1000, 3) if latencies else None}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--index", required=True)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--pause-ms", type=float, default=0)
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.port, load_index(args.index), args.rate, args.seconds, args.connections,
                             args.pause_ms))
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
