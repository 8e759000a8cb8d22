"""Launch section (``python -m bench --only launch``, or ``python -m bench.launch --unlocks N``):
the merge of an agent's last dependency → Wavegate dispatches the unlocked agent's workflow, on
real processes (``demo.stack.Stack``: emulator, web, one RQ worker, Redis database 15).

Each unlock gets its own repository (its own installation, so the write pacing of one never
slows the next) with ``launch: {via: workflow, workflow: agent.yml}`` and a two-agent plan:
``agent-0`` in wave 1, ``agent-1`` in wave 2. Once agent-0's PR is green and its run dispatched,
the log is cleared and agent-0's PR merged; the latency is from the merge call to the emulator
answering the ``POST …/actions/workflows/agent.yml/dispatches`` for agent-1 — the branch update
from the base (``update_branches`` on) and the re-run checks are inside it.

GitHub calls per launch are the App's calls of the same unlock minus those of an unlock without
launch configured (``baseline`` repositories), against the argued minimum ``LAUNCH_MINIMUM``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from demo.launched import AGENT_WORKFLOW, LAUNCH_SETTINGS, WORKFLOW
from demo.stack import Stack, wait_until

from .common import REDIS_URL, stats
from .e2e import GATE, TERRITORY, WAIT, Bench, _mergeable, repo_files

DISPATCHES = f"/actions/workflows/{WORKFLOW}/dispatches"
# The fewest calls a launch can add to the reconcile that unlocks its agent (2 writes, 0 reads):
# - the dispatch itself (POST …/dispatches);
# - one write of the launch record on the agent's PR *before* the call: GitHub has no idempotency
#   key for a dispatch, so only a record written first lets a redelivered or retried unlock see
#   the launch and never start the agent twice (a record written after could be lost with a
#   killed worker).
# Reads add nothing: the PR's comments (where a record would be) are read for the unlock comment,
# the default branch (the dispatch's ref) with the repository in the same reconcile.
# Wavegate's protocol also edits the record with the run id once GitHub answered (target: + 1).
LAUNCH_MINIMUM = 2


def _files(launch: bool) -> dict[str, str]:
    files = {**repo_files(2), f".github/workflows/{WORKFLOW}": AGENT_WORKFLOW}
    if launch:
        files[".github/wavegate.yml"] = LAUNCH_SETTINGS
    return files


def _dispatched(bench: Bench, full: str, since: int = 0) -> list[dict]:
    """The emulator's answered dispatches of ``full``'s agent workflow (request log entries)."""
    log = bench.stack.admin("GET", "/_emulator/requests") or []
    return [e for e in log[since:] if e["method"] == "POST" and e["path"] == f"/repos/{full}{DISPATCHES}"
            and e["status"] in (200, 204)]


def _ready_for_merge(bench: Bench, full: str, launch: bool) -> object:
    """Dispatch the two-agent plan; wait until agent-0's PR is green (and its run dispatched)."""
    _, pulls, _ = bench.dispatch(full, 2, waves=2)
    repo = bench.repo(full)
    first = pulls[min(pulls)]
    wait_until(lambda: _mergeable(repo, first.number), WAIT, f"{full}: agent-0's PR to be green")
    if launch:
        wait_until(lambda: _dispatched(bench, full), WAIT, f"{full}: agent-0's workflow dispatched")
    bench.quiet(settle=1.0)
    return repo.get_pull(first.number)


def one_unlock(bench: Bench, full: str, launch: bool) -> dict:
    """Merge agent-0's PR; ``{seconds, calls}``: merge → agent-1's dispatch answered (None
    without launch) and the App's calls until it went quiet."""
    bench.stack.create_repo(full, _files(launch), required_checks=[TERRITORY, GATE])
    pr = _ready_for_merge(bench, full, launch)
    bench.clear_log()
    started = time.time()
    pr.merge(merge_method="merge", sha=pr.head.sha)
    seconds = None
    if launch:
        entry = wait_until(lambda: _dispatched(bench, full), WAIT, f"{full}: agent-1's workflow dispatched",
                           interval=0.02)[0]
        seconds = entry["at"] - started
    bench.quiet(settle=1.0)
    calls = bench.app_calls()
    return {"seconds": seconds, "calls": calls, "dispatches": len(_dispatched(bench, full))}


def _charged(calls: dict) -> int:
    return calls["reads"] + calls["writes"] + calls["token"]


def run(*, unlocks: int = 50, baseline: int = 5, quick: bool = False) -> dict:
    """``{latency: {p50_ms, p95_ms, max_ms, n}, calls: {...}, duplicates}`` over ``unlocks``."""
    if quick:
        unlocks, baseline = 3, 1
    workdir = Path(tempfile.mkdtemp(prefix="wavegate-bench-launch-"))
    with Stack(workdir=workdir, redis_url=REDIS_URL, rq_workers=1,
               extra_env={"RECONCILE_INTERVAL": "3600"}) as stack:
        bench = Bench(stack)
        without = [one_unlock(bench, f"bench/unlock-plain{i}", False) for i in range(baseline)]
        launched = []
        for i in range(unlocks):
            launched.append(one_unlock(bench, f"bench/unlock{i}", True))
            print(f"unlock {i + 1}/{unlocks}: {launched[-1]['seconds'] * 1000:.0f} ms", file=sys.stderr, flush=True)
    ms = sorted(u["seconds"] * 1000 for u in launched)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    base = statistics.median(_charged(u["calls"]) for u in without)
    with_launch = statistics.median(_charged(u["calls"]) for u in launched)
    shapes = {"with_launch": launched[-1]["calls"]["calls"], "without_launch": without[-1]["calls"]["calls"]}
    return {
        "latency": {"p50_ms": round(statistics.median(ms)), "p95_ms": round(p95), "max_ms": round(ms[-1]),
                    "n": len(ms), "ms": stats(ms, 0)},
        "calls": {"unlock_without_launch": base, "unlock_with_launch": with_launch,
                  "per_launch": with_launch - base, "minimum": LAUNCH_MINIMUM,
                  "over": with_launch - base - LAUNCH_MINIMUM, "shapes": shapes},
        "dispatches_per_unlock": sorted({u["dispatches"] for u in launched}),
    }


def rows(result: dict) -> list[tuple[str, str, str]]:
    """The section's rows of ``python -m bench``'s table."""
    lat, calls = result["latency"], result["calls"]
    return [("9 launch", f"last dependency merged → workflow dispatched, {lat['n']} unlocks",
             f"p50 {lat['p50_ms']} ms, p95 {lat['p95_ms']} ms, max {lat['max_ms']} ms (target p95 ≤ 2000)"),
            ("9 launch", "GitHub calls per launch (unlock with − without launch)",
             f"{calls['per_launch']} vs minimum {calls['minimum']} (over {calls['over']}; target +1)")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.launch", description=__doc__.splitlines()[0])
    parser.add_argument("--unlocks", type=int, default=50)
    parser.add_argument("--baseline", type=int, default=5, help="unlocks without launch (calls baseline)")
    args = parser.parse_args(argv)
    result = run(unlocks=args.unlocks, baseline=args.baseline)
    print(json.dumps({k: v for k, v in result.items()}, indent=2, default=str))
    for section, what, figure in rows(result):
        print(f"{section}  {what}: {figure}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
