"""Benchmark of plan synthesis (``wavegate plan``): a proposal from 100 findings over a repository
of 1,000 files, and from 1,000 findings over 10,000 files (targets: under 0.5 s and under 5 s),
with the pre-flight's share of that time.

Run: ``python -m bench.synthesis`` (from the repository root). ``run()`` returns the figures.

The findings are generated the way audits read: each names one to three files of one module
(with its line), a module's findings mostly share a priority (P0–P2) and its package's category,
one in twenty also names a file of another module, and one in ten is a test finding naming the
module's test file and the code it tests. The repository facts hold every file and 2,000 commits
of two to five files of one module each, so co-change history is read too. Times are CPU time of
this process (``time.process_time``), caches cleared before each repeat; min / median / max.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time

from service.core import patterns, synthesis
from service.core.plan import preflight
from service.core.synthesis_refs import RepoFacts

COMMAND = "python -m bench.synthesis"
SEED = 20240601
CATEGORIES = ("Security", "Performance", "Architecture", "Reliability", "Correctness")
SIZES = ((100, 1_000, 0.5), (1_000, 10_000, 5.0))


def make_files(count: int) -> list[str]:
    """``count`` code files in packages of 10 modules of 10–50 files, plus a test file per module."""
    per_module = 10 if count <= 1_000 else 50
    modules = count // per_module
    files = [f"src/pkg{m // 10:02d}/mod{m % 10}/f{i:03d}.py" for m in range(modules) for i in range(per_module)]
    return files + [f"tests/pkg{m // 10:02d}/test_mod{m % 10}.py" for m in range(modules)]


def make_findings(count: int, files: list[str], seed: int = SEED) -> str:
    """The findings list (Markdown), grouped under one category heading per package."""
    rng = random.Random(seed)
    code = [f for f in files if f.startswith("src/")]
    modules = sorted({f.rsplit("/", 1)[0] for f in code})
    by_module = {m: [f for f in code if f.startswith(m + "/")] for m in modules}
    priority = {m: rng.choice((0, 0, 1, 1, 1, 2)) for m in modules}
    lines = []
    for n in range(count):
        module = rng.choice(modules)
        p = priority[module] if rng.random() < 0.9 else rng.choice((0, 1, 2))
        refs = [f"`{f}:{rng.randint(1, 400)}`" for f in rng.sample(by_module[module], rng.randint(1, 3))]
        if rng.random() < 0.05:
            refs.append(f"`{rng.choice(code)}`")
        if rng.random() < 0.10:
            pkg, mod = module.split("/")[1:3]
            refs = [f"`tests/{pkg}/test_{mod}.py`", refs[0]]
            category = "Testing"
        else:
            category = CATEGORIES[int(module.split("/")[1][3:]) % len(CATEGORIES)]
        lines.append(f"- P{p}: {category}: finding {n} in {module} ({', '.join(refs)})")
    return "\n".join(lines) + "\n"


def make_history(files: list[str], commits: int = 2_000, seed: int = SEED) -> tuple[tuple[str, ...], ...]:
    rng = random.Random(seed + 1)
    code = [f for f in files if f.startswith("src/")]
    by_module: dict[str, list[str]] = {}
    for f in code:
        by_module.setdefault(f.rsplit("/", 1)[0], []).append(f)
    groups = list(by_module.values())
    return tuple(tuple(rng.sample(g, min(len(g), rng.randint(2, 5)))) for g in (rng.choice(groups) for _ in range(commits)))


class _TimedPreflight:
    """Stands in for ``plan.preflight`` inside ``synthesis`` and adds up its CPU time."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0

    def __call__(self, *args, **kwargs):
        started = time.process_time()
        try:
            return preflight(*args, **kwargs)
        finally:
            self.seconds += time.process_time() - started
            self.calls += 1


def _clear_caches() -> None:
    patterns._compiled.cache_clear()
    patterns._compiled_many.cache_clear()
    patterns._fsm.cache_clear()
    patterns._problem.cache_clear()
    patterns._literal_text.cache_clear()
    patterns.SEARCH_COST.clear()


def _spread(values: list[float], digits: int = 3) -> dict:
    return {"median": round(statistics.median(values), digits), "min": round(min(values), digits),
            "max": round(max(values), digits)}


def bench_size(findings: int, files: int, target: float, repeats: int) -> dict:
    """One size: CPU seconds of ``synthesis.propose`` and of the pre-flight inside it."""
    tracked = make_files(files)
    text = make_findings(findings, tracked)
    repo = RepoFacts(tuple(tracked), make_history(tracked))
    totals, shares = [], []
    proposal = None
    for _ in range(repeats):
        _clear_caches()
        timed = _TimedPreflight()
        synthesis.preflight = timed
        try:
            started = time.process_time()
            proposal = synthesis.propose(text, repo=repo)
            totals.append(time.process_time() - started)
        finally:
            synthesis.preflight = preflight
        shares.append(timed.seconds / totals[-1])
    assert proposal is not None and proposal.ok, proposal and proposal.problems[:3]
    return {
        "findings": findings, "files": len(tracked), "target_s": target, "s": _spread(totals),
        "preflight_share": _spread(shares, 2), "preflight_runs": timed.calls,
        "agents": len(proposal.agents), "waves": len(proposal.waves),
        "patterns": sum(len(a.territory) for a in proposal.agents),
        "within_target": statistics.median(totals) < target,
    }


def run(quick: bool = False, repeats: int | None = None) -> dict:
    """Every size; ``quick``: 20 findings over 200 files, once."""
    sizes = ((20, 200, 0.5),) if quick else SIZES
    out = {"command": COMMAND, "python": sys.version.split()[0], "clock": "process_time",
           "loadavg_1m": round(os.getloadavg()[0], 2), "sizes": {}}
    for findings, files, target in sizes:
        count = repeats or (1 if quick else (5 if findings <= 100 else 3))
        out["sizes"][f"{findings:,} findings / {files:,} files"] = bench_size(findings, files, target, count)
    return out


def main() -> None:
    print(f"$ {COMMAND}")
    result = run(quick="--quick" in sys.argv)
    print(f"CPU time; Python {result['python']}; 1-minute load average {result['loadavg_1m']}")
    for name, r in result["sizes"].items():
        s, share = r["s"], r["preflight_share"]
        print(f"{name}: {s['median']} s (min {s['min']}, max {s['max']}; target < {r['target_s']} s), "
              f"pre-flight {share['median']:.0%} of it; {r['agents']} agents in {r['waves']} waves, "
              f"{r['patterns']} territory patterns")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()


def rows(result: dict) -> list[tuple[str, str, str]]:
    """The section's rows of the ``python -m bench`` table."""
    out = []
    for size, r in result.get("sizes", {}).items():
        s = r["s"]
        out.append(("8 plan", f"plan synthesis, {size}: s (target), pre-flight share",
                    f"{s['median']:.3f} ({s['min']:.3f}–{s['max']:.3f}) (< {r['target_s']}), "
                    f"{r['preflight_share']['median']:.0%}"))
    return out
