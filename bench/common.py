"""What the benchmark sections share: statistics over repeats, CPU time of a process tree read
from /proc, tool set-up, and the Redis database they may use (15, flushed as a whole, nothing else)."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from demo.stack import redis_url_for

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "github"  # GitHub's recorded webhook bodies (tests/github/SOURCES.json)
REDIS_URL = os.environ.get("BENCH_REDIS_URL") or redis_url_for(15)  # the server REDIS_URL names, database 15
CLK_TCK = os.sysconf("SC_CLK_TCK")


def stats(samples: list[float], digits: int = 3) -> dict[str, float | int | None]:
    """``{min, median, max, n}`` of ``samples`` (None values dropped)."""
    values = [v for v in samples if v is not None]
    if not values:
        return {"min": None, "median": None, "max": None, "n": 0}
    return {"min": round(min(values), digits), "median": round(statistics.median(values), digits),
            "max": round(max(values), digits), "n": len(values)}


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def tree_pids(pid: int) -> list[int]:
    """``pid`` and all its descendants, from /proc."""
    tree, out, todo = _children(), [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += tree.get(p, [])
    return out


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of ``pids`` in seconds (/proc/<pid>/stat fields 14 and 15); gone pids count 0."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of ``pid``'s whole process tree: utime + stime + cutime + cstime of every live
    process in it, so work of children that already exited and were waited for (gunicorn workers
    recycled by ``max_requests``, the emulator's ``git`` subprocesses) still counts."""
    total = 0
    for p in tree_pids(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15])
    return total / CLK_TCK


def ensure_apt(binary: str, package: str) -> str | None:
    """The path of ``binary``, installing Debian's ``package`` with apt-get when missing (the
    benchmark machine runs as root). None when it cannot be had."""
    found = shutil.which(binary)
    if found or not shutil.which("apt-get") or os.geteuid() != 0:
        return found
    print(f"bench: installing {package} with apt-get", file=sys.stderr)
    subprocess.run(["apt-get", "install", "-y", "-q", package], check=False, stdout=subprocess.DEVNULL,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, timeout=300)
    return shutil.which(binary)


def ensure_probot() -> Path | None:
    """``bench/.probot`` with ``probot`` installed from the npm registry (ignored by git); None
    without node/npm."""
    folder = ROOT / "bench" / ".probot"
    if (folder / "node_modules" / "probot" / "package.json").exists():
        return folder
    if not (shutil.which("node") and shutil.which("npm")):
        return None
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "package.json").exists():
        (folder / "package.json").write_text('{"name": "wavegate-bench-probot", "private": true}\n')
    print("bench: npm install probot@latest into bench/.probot", file=sys.stderr)
    subprocess.run(["npm", "install", "--no-audit", "--no-fund", "probot@latest"], cwd=folder, check=False,
                   stdout=subprocess.DEVNULL, timeout=600)
    return folder if (folder / "node_modules" / "probot" / "package.json").exists() else None
