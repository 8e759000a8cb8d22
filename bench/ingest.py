"""Section 1, ingest: the web process fed signed ``pull_request.synchronize`` deliveries (GitHub's
fixture payload, one variant per PR number, each signed with the bench's own secret and sent with a
unique ``X-GitHub-Delivery``), side by side with the floor (a bare 202 WSGI callable under the same
gunicorn configuration, and under granian's WSGI and RSGI interfaces), the same app under gunicorn
``sync`` and ``gthread`` and on granian's WSGI interface (the previous web process), the
straightforward RQ ``enqueue`` store path, and a minimal Probot app.

Loads, each server in turn, the order rotated every repeat (the machine is shared and noisy):
``max`` (wrk, 2 threads, 16 keep-alive connections), ``200/s`` and ``400/s`` (``bench.loadgen``,
16 connections), ``slow 400/s`` (64 connections, each pausing 50 ms between having its connection
open and sending the request).
Server CPU per delivery is the utime+stime of the server's process tree over the ``max`` load.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import redis

from .common import FIXTURES, REDIS_URL, ROOT, ensure_apt, ensure_probot, stats, tree_cpu_seconds

SECRET = "bench-webhook-secret"
GUNICORN = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "--workers", "2"]
GTHREAD = ["-k", "gthread", "--threads", "16"]
# granian (Rust HTTP server, WSGI interface), for the floor: 2 processes like gunicorn, 16 threads
# each (gthread's default), as deploy/web.py runs it.
GRANIAN = [sys.executable, "-m", "granian", "--interface", "wsgi", "--workers", "2", "--blocking-threads", "16",
           "--no-access-log", "--host", "127.0.0.1", "--port", "{port}"]
# granian's RSGI interface (what deploy/web.py serves), 2 processes: its floor.
GRANIAN_RSGI = [sys.executable, "-m", "granian", "--interface", "rsgi", "--workers", "2", "--no-access-log",
                "--host", "127.0.0.1", "--port", "{port}"]


@dataclass(frozen=True)
class Server:
    """One contender: ``argv`` gets ``{port}`` substituted."""

    name: str
    argv: tuple[str, ...]
    node: bool = False
    port_env: bool = False  # the port goes in PORT (deploy/web.py), not in argv
    processes: int = 2  # WEB_CONCURRENCY for deploy/web.py


def servers(probot: bool) -> list[Server]:
    wave = "service.webhook:create_app()"
    out = [
        Server("floor sync", (*GUNICORN, "-k", "sync", "--bind", "127.0.0.1:{port}", "bench.floor:app")),
        Server("floor gthread", (*GUNICORN, *GTHREAD, "--bind", "127.0.0.1:{port}", "bench.floor:app")),
        Server("floor granian", (*GRANIAN, "bench.floor:app")),
        Server("floor granian rsgi", (*GRANIAN_RSGI, "bench.floor:rsgi_app")),
        Server("wavegate gunicorn sync", (*GUNICORN, "-k", "sync", "--bind", "127.0.0.1:{port}", wave)),
        Server("wavegate gunicorn gthread", (*GUNICORN, *GTHREAD, "--bind", "127.0.0.1:{port}", wave)),
        # The previous web process: the same app on granian's WSGI interface, 2 processes × 16 threads.
        Server("wavegate granian wsgi", (*GRANIAN, "--factory", "service.webhook:create_app")),
        # The Procfile's web process as shipped: granian RSGI + service.ingress, 2 processes.
        Server("wavegate", (sys.executable, "deploy/web.py"), port_env=True),
        # The same with one process, as Probot runs (one Node process): no second interpreter
        # competing for the 2 cores with the load generator and Redis.
        Server("wavegate 1 process", (sys.executable, "deploy/web.py"), port_env=True, processes=1),
        Server("rq-enqueue gthread", (*GUNICORN, *GTHREAD, "--bind", "127.0.0.1:{port}",
                                      "bench.floor:rq_enqueue_app()")),
    ]
    if probot:
        out.append(Server("probot", ("node", "bench/probot_app.mjs", "{port}"), node=True))
    return out


def make_bodies(folder: Path, variants: int) -> Path:
    """``variants`` copies of the synchronize fixture with distinct PR numbers and head SHAs,
    signed; returns the index file (``<signature> <path>`` lines)."""
    payload = json.loads((FIXTURES / "webhooks" / "pull_request" / "synchronize.json").read_text())
    lines = []
    for i in range(variants):
        payload["number"] = payload["pull_request"]["number"] = 1000 + i
        payload["after"] = payload["pull_request"]["head"]["sha"] = hashlib.sha1(str(i).encode()).hexdigest()
        body = json.dumps(payload, indent=2).encode()
        path = folder / f"body-{i}.json"
        path.write_bytes(body)
        lines.append("sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest() + f" {path}")
    index = folder / "index.txt"
    index.write_text("\n".join(lines) + "\n")
    return index


def server_env(folder: Path) -> dict[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key_path = folder / "app.pem"
    if not key_path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.TraditionalOpenSSL,
                                               serialization.NoEncryption()))
        key_path.chmod(0o600)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "APP_", "PRIVATE_KEY"))}
    env.update({"APP_ID": "4242", "APP_SLUG": "wavegate", "PRIVATE_KEY_PATH": str(key_path),
                "WEBHOOK_SECRET": SECRET, "REDIS_URL": REDIS_URL, "LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1"})
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(server: Server, env: dict[str, str], log: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    argv = [a.replace("{port}", str(port)) for a in server.argv]
    if server.port_env:
        env = {**env, "PORT": str(port), "WEB_HOST": "127.0.0.1", "WEB_CONCURRENCY": str(server.processes),
               "WEB_THREADS": "16"}
    with open(log, "ab") as out:
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"GET /livez HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(16).startswith(b"HTTP/1."):
                    time.sleep(0.3)  # every gunicorn worker booted
                    return proc, port
        except OSError:
            time.sleep(0.1)
        if proc.poll() is not None:
            break
    stop(proc)
    raise RuntimeError(f"{server.name} did not start (see {log})")


def stop(proc: subprocess.Popen) -> None:
    import signal

    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass


def run_wrk(wrk: str, port: int, index: Path, seconds: float, connections: int = 16) -> dict:
    argv = [wrk, "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "-s",
            str(ROOT / "bench" / "wrk_deliveries.lua"), f"http://127.0.0.1:{port}/webhook", "--", str(index),
            os.urandom(4).hex()]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30, check=False)
    match = re.search(r"WRKJSON (\{.*\})", done.stdout)
    if not match:
        raise RuntimeError(f"wrk failed: {done.stdout[-500:]} {done.stderr[-500:]}")
    raw = json.loads(match.group(1))
    errors = raw["connect"] + raw["read"] + raw["write"] + raw["status"] + raw["timeout"]
    return {"answered": raw["requests"], "rate": raw["requests"] / (raw["duration_us"] / 1e6), "errors": errors,
            "p50_ms": raw["p50_us"] / 1000, "p99_ms": raw["p99_us"] / 1000, "max_ms": raw["max_us"] / 1000}


def run_fixed(port: int, index: Path, rate: float, seconds: float, connections: int = 16, pause_ms: float = 0) -> dict:
    argv = [sys.executable, "-m", "bench.loadgen", "--port", str(port), "--index", str(index), "--rate", str(rate),
            "--seconds", str(seconds), "--connections", str(connections), "--pause-ms", str(pause_ms)]
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=seconds + 30, check=True)
    return json.loads(done.stdout)


LOADS = ("max", "200/s", "400/s", "slow 400/s")


def run(*, repeats: int = 3, seconds: float = 2.0, variants: int = 200, quick: bool = False,
        names: tuple[str, ...] = ()) -> dict:
    """Every server (those named in ``names`` when given) × every load, ``repeats`` times in rotated
    order. Returns
    ``{"servers": {name: {load: {metric: stats}}}, "ratios": …, "commands": …}``."""
    wrk = ensure_apt("wrk", "wrk")
    probot = ensure_probot() is not None and not quick
    contenders = servers(probot)
    if quick:
        contenders = [s for s in contenders if s.name in ("floor granian", "wavegate")]
    if names:
        contenders = [s for s in contenders if s.name in names]
    db = redis.Redis.from_url(REDIS_URL)
    samples: dict[str, dict[str, dict[str, list]]] = {s.name: {load: {} for load in LOADS} for s in contenders}
    with tempfile.TemporaryDirectory(prefix="wavegate-bench-ingest-") as tmp:
        folder = Path(tmp)
        index = make_bodies(folder, variants)
        env = server_env(folder)
        for r in range(repeats):
            order = contenders[r % len(contenders):] + contenders[:r % len(contenders)]
            for server in order:
                db.flushdb()
                proc, port = start(server, env, folder / "server.log")
                try:
                    run_fixed(port, index, 100, 0.5 if quick else 1)  # warm-up
                    if wrk:
                        cpu0 = tree_cpu_seconds(proc.pid)
                        got = run_wrk(wrk, port, index, seconds)
                        got["cpu_ms_per_delivery"] = (tree_cpu_seconds(proc.pid) - cpu0) * 1000 / max(1, got["answered"])
                        _add(samples[server.name]["max"], got)
                    for load, rate, conns, pause in (("200/s", 200, 16, 0), ("400/s", 400, 16, 0),
                                                     ("slow 400/s", 400, 64, 50)):
                        db.flushdb()
                        got = run_fixed(port, index, rate, seconds, conns, pause)
                        got["non_2xx"] = sum(n for code, n in got["statuses"].items() if not code.startswith("2"))
                        _add(samples[server.name][load], got)
                finally:
                    stop(proc)
                print(f"  ingest round {r + 1}/{repeats}: {server.name} done", file=sys.stderr, flush=True)
    db.flushdb()
    size = len((FIXTURES / "webhooks" / "pull_request" / "synchronize.json").read_bytes())
    result = {name: {load: {metric: stats(values) for metric, values in metrics.items()}
                     for load, metrics in loads.items() if metrics}
              for name, loads in samples.items()}
    ratios = {}
    base = "probot" if "probot" in samples else ("floor granian" if "floor granian" in samples else contenders[0].name)
    for name, loads in samples.items():
        if loads["max"].get("rate") and samples[base]["max"].get("rate"):
            ratios[f"{name} / {base} (max req/s, per round)"] = stats(
                [a / b for a, b in zip(loads["max"]["rate"], samples[base]["max"]["rate"], strict=False)])
        if loads["max"].get("cpu_ms_per_delivery") and samples[base]["max"].get("cpu_ms_per_delivery"):
            ratios[f"{name} / {base} (CPU per delivery, per round)"] = stats(
                [a / b for a, b in zip(loads["max"]["cpu_ms_per_delivery"], samples[base]["max"]["cpu_ms_per_delivery"],
                                       strict=False)])
    return {"servers": result, "ratios": ratios, "seconds_per_load": seconds, "repeats": repeats,
            "payload": f"pull_request/synchronize.json fixture, {variants} PR-number variants, ~{size} bytes",
            "wrk": bool(wrk), "probot": probot,
            "command": "python -m bench --only ingest"}


def _add(bucket: dict[str, list], got: dict) -> None:
    for key in ("rate", "p50_ms", "p99_ms", "max_ms", "errors", "non_2xx", "cpu_ms_per_delivery", "answered"):
        if key in got:
            bucket.setdefault(key, []).append(got[key])


if __name__ == "__main__":
    print(json.dumps(run(repeats=1, seconds=2), indent=2))
