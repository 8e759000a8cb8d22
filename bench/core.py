"""Benchmark of the pure core: territory classification and pre-flight overlap.

Run: ``python -m bench.core`` (from the repository root). ``run()`` returns the figures as a dict.

1. Paths classified per second for a 3,000-path PR against a 100-agent × 10-pattern plan, with
   ``classify_agent_pr`` and, in the same run, alternated with it, a naive loop over one pathspec
   ``PathSpec`` per agent (the obvious implementation). min / median / max over the repeats.
2. Growth of classification time for 100 … 100,000 paths.
3. Pre-flight: ``find_overlaps`` over every pair of a one-wave plan of 10, 50 and 100 agents ×
   10 patterns, with cold caches.

Times are CPU time of this process (``time.process_time``), so other load on the machine
inflates them less than wall-clock time would; the load average is printed beside them.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time

import pathspec

from service.core import patterns
from service.core.model import EXEMPT_FILE, Agent, AgentPR, ChangedFile, ChangeSet, Plan, PrState, RepoConfig
from service.core.territory import PlanMatcher, classify_agent_pr

COMMAND = "python -m bench.core"
REPEATS = 7
SEED = 20240601


def territory(i: int) -> tuple[str, ...]:
    """Ten patterns of the shapes real territories use: folders, globs, `**`, dot-files."""
    s = f"svc{i:03d}"
    return (
        f"services/{s}/",
        f"libs/{s}/**/*.py",
        f"docs/{s}/*.md",
        f"config/{s}.yml",
        f"tests/{s}/",
        f"proto/{s}/*.proto",
        f"scripts/{s}-*.sh",
        f"charts/{s}/**",
        f"web/src/pages/{s}/",
        f"/deploy/{s}/.env*",
    )


def make_plan(agents: int) -> Plan:
    return Plan(agents=tuple(Agent(f"agent-{i}", territory(i)) for i in range(agents)))


def owned_path(rng: random.Random, i: int, n: int) -> str:
    s = f"svc{i:03d}"
    return rng.choice(
        [
            f"services/{s}/pkg{n % 7}/mod_{n}.py",
            f"libs/{s}/a/b/util_{n}.py",
            f"docs/{s}/page_{n}.md",
            f"tests/{s}/unit/test_{n}.py",
            f"charts/{s}/templates/t{n}.yaml",
            f"scripts/{s}-job{n}.sh",
            f"web/src/pages/{s}/c{n}.tsx",
            f"deploy/{s}/.env.{n}",
        ]
    )


def make_paths(count: int, agents: int, own: int, seed: int = SEED) -> list[str]:
    """60 % in the PR's own territory, 30 % in other agents' territories, 8 % unowned, 2 %
    protected; all distinct."""
    rng = random.Random(seed)
    out: list[str] = []
    for n in range(count):
        r = rng.random()
        if r < 0.60:
            out.append(owned_path(rng, own, n))
        elif r < 0.90:
            out.append(owned_path(rng, rng.randrange(agents), n))
        elif r < 0.98:
            out.append(f"misc/dir{n % 13}/file_{n}.txt")
        else:
            out.append(f".github/workflows/w{n}.yml")
    return out


class NaiveClassifier:
    """The baseline: one pathspec ``PathSpec`` per agent, looped over for every path."""

    def __init__(self, plan: Plan, config: RepoConfig) -> None:
        def spec(pats):
            return pathspec.PathSpec.from_lines("gitignore", ["/" + p.lstrip("/") for p in pats])

        self.specs = [(a.name, spec(a.territory)) for a in plan.agents]
        self.dnm = {a.name: spec(a.do_not_modify) for a in plan.agents}
        self.protected = spec(config.protected)

    def owners(self, path: str) -> tuple[str, ...]:
        return tuple(name for name, s in self.specs if s.match_file(path))

    def classify(self, agent: str, paths: list[str]) -> list[tuple[str, str]]:
        own = dict(self.specs)[agent]
        out = []
        for path in paths:
            if path == EXEMPT_FILE:
                out.append((path, "exempt"))
            elif self.dnm[agent].match_file(path) or self.protected.match_file(path):
                out.append((path, "forbidden"))
            elif own.match_file(path):
                out.append((path, "own"))
            else:
                owner = next((name for name, s in self.specs if name != agent and s.match_file(path)), None)
                out.append((path, "crossing" if owner else "unowned"))
        return out


def _stats(samples: list[float]) -> dict[str, float]:
    return {
        "min": min(samples),
        "median": statistics.median(samples),
        "max": max(samples),
    }


def bench_classification(agents: int = 100, paths_count: int = 3000) -> dict:
    plan = make_plan(agents)
    config = RepoConfig()
    prs = {a.name: AgentPR(a.name, 100 + i, PrState.OPEN) for i, a in enumerate(plan.agents)}
    me = plan.agents[7].name
    paths = make_paths(paths_count, agents, own=7)
    changes = ChangeSet(tuple(ChangedFile(p) for p in paths))

    start = time.process_time()
    matcher = PlanMatcher(plan, config)
    build_ms = (time.process_time() - start) * 1000
    naive = NaiveClassifier(plan, config)

    # Both must agree before their speed means anything.
    ours = classify_agent_pr(plan, me, changes, prs, config, matcher)
    assert [(p.path, p.kind.value) for p in ours.paths] == naive.classify(me, paths)

    ours_s: list[float] = []
    naive_s: list[float] = []
    for _ in range(REPEATS):
        t = time.process_time()
        classify_agent_pr(plan, me, changes, prs, config, matcher)
        ours_s.append(time.process_time() - t)
        t = time.process_time()
        naive.classify(me, paths)
        naive_s.append(time.process_time() - t)
    ours_stats, naive_stats = _stats(ours_s), _stats(naive_s)

    # Ownership lookup alone (which agents own each path), where the naive loop cannot stop early.
    assert [matcher.owners(p) for p in paths] == [naive.owners(p) for p in paths]
    lookup_s: list[float] = []
    naive_lookup_s: list[float] = []
    for _ in range(REPEATS):
        t = time.process_time()
        for p in paths:
            matcher.owners(p)
        lookup_s.append(time.process_time() - t)
        t = time.process_time()
        for p in paths:
            naive.owners(p)
        naive_lookup_s.append(time.process_time() - t)
    lookup, naive_lookup = _stats(lookup_s), _stats(naive_lookup_s)
    return {
        "agents": agents,
        "patterns": agents * 10,
        "paths": paths_count,
        "repeats": REPEATS,
        "matcher_build_ms": round(build_ms, 2),
        "wavegate_ms": {k: round(v * 1000, 2) for k, v in ours_stats.items()},
        "naive_pathspec_ms": {k: round(v * 1000, 2) for k, v in naive_stats.items()},
        "wavegate_paths_per_s": round(paths_count / ours_stats["median"]),
        "naive_paths_per_s": round(paths_count / naive_stats["median"]),
        "speedup_median": round(naive_stats["median"] / ours_stats["median"], 1),
        "speedup_min": round(naive_stats["min"] / ours_stats["min"], 1),
        "owners_lookup_ms": {k: round(v * 1000, 2) for k, v in lookup.items()},
        "naive_owners_lookup_ms": {k: round(v * 1000, 2) for k, v in naive_lookup.items()},
        "owners_lookup_speedup_median": round(naive_lookup["median"] / lookup["median"], 1),
    }


def bench_growth(agents: int = 100, sizes=(100, 1_000, 10_000, 100_000)) -> dict:
    plan = make_plan(agents)
    matcher = PlanMatcher(plan)
    me = plan.agents[7].name
    out = {}
    for n in sizes:
        changes = ChangeSet(tuple(ChangedFile(p) for p in make_paths(n, agents, own=7, seed=SEED + n)))
        samples = []
        for _ in range(3):
            t = time.process_time()
            classify_agent_pr(plan, me, changes, {}, matcher=matcher)
            samples.append(time.process_time() - t)
        best = min(samples)
        out[str(n)] = {"ms": round(best * 1000, 2), "us_per_path": round(best / n * 1e6, 2)}
    return out


def bench_agent_growth(paths_count: int = 3000, sizes=(10, 30, 100)) -> dict:
    """Classification of one ``paths_count``-path PR as the plan grows from 10 to 100 agents."""
    out = {}
    for n in sizes:
        plan = make_plan(n)
        matcher = PlanMatcher(plan)
        me = plan.agents[min(7, n - 1)].name
        changes = ChangeSet(tuple(ChangedFile(p) for p in make_paths(paths_count, n, own=min(7, n - 1),
                                                                     seed=SEED + n)))
        samples = []
        for _ in range(3):
            t = time.process_time()
            classify_agent_pr(plan, me, changes, {}, matcher=matcher)
            samples.append(time.process_time() - t)
        out[str(n)] = {"ms": round(min(samples) * 1000, 2), "paths": paths_count}
    return out


def _clear_caches() -> None:
    for fn in (patterns.shortest_common_path, patterns._fsm, patterns.to_regex, patterns._problem,
               patterns._compiled, patterns._compiled_many):
        fn.cache_clear()


def bench_preflight(sizes=(10, 50, 100), with_overlaps: bool = True) -> dict:
    out = {}
    for n in sizes:
        plan = make_plan(n)
        territories = {a.name: a.territory for a in plan.agents}
        names = plan.names
        pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
        _clear_caches()
        t = time.process_time()
        found = patterns.find_overlaps(territories, pairs)
        elapsed = time.process_time() - t
        assert found == [], found
        out[str(n)] = {"pairs": len(pairs), "s": round(elapsed, 3)}
    if not with_overlaps:
        return out
    # The same 100-agent plan with one agent owning every Markdown file: 99 real overlaps.
    plan = make_plan(100)
    territories = {a.name: a.territory for a in plan.agents}
    territories["agent-0"] = (*territories["agent-0"][:-1], "**/*.md")
    names = plan.names
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
    _clear_caches()
    t = time.process_time()
    found = patterns.find_overlaps(territories, pairs)
    out["100-with-overlaps"] = {"pairs": len(pairs), "overlaps": len(found), "s": round(time.process_time() - t, 3)}
    return out


def run(quick: bool = False) -> dict:
    """Run every measurement; returns ``{"command", "python", "classification", "growth",
    "agent_growth", "preflight"}`` (times in ms or s as the keys say). ``quick``: tiny sizes."""
    if quick:
        return {
            "command": COMMAND, "python": sys.version.split()[0], "clock": "process_time",
            "loadavg_1m": round(os.getloadavg()[0], 2),
            "classification": bench_classification(agents=10, paths_count=100),
            "growth": bench_growth(agents=10, sizes=(100, 1_000)),
            "agent_growth": bench_agent_growth(paths_count=100, sizes=(10, 20)),
            "preflight": bench_preflight(sizes=(10,), with_overlaps=False),
        }
    return {
        "command": COMMAND,
        "python": sys.version.split()[0],
        "clock": "process_time",
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "classification": bench_classification(),
        "growth": bench_growth(),
        "agent_growth": bench_agent_growth(),
        "preflight": bench_preflight(),
    }


def main() -> None:
    print(f"$ {COMMAND}")
    result = run()
    print(f"CPU time; Python {result['python']}; 1-minute load average {result['loadavg_1m']}")
    c = result["classification"]
    print(
        f"classification, {c['paths']} paths, {c['agents']} agents x 10 patterns, {c['repeats']} alternated repeats:\n"
        f"  wavegate  min/median/max {c['wavegate_ms']['min']}/{c['wavegate_ms']['median']}/"
        f"{c['wavegate_ms']['max']} ms  ({c['wavegate_paths_per_s']:,} paths/s; matcher build "
        f"{c['matcher_build_ms']} ms)\n"
        f"  naive     min/median/max {c['naive_pathspec_ms']['min']}/{c['naive_pathspec_ms']['median']}/"
        f"{c['naive_pathspec_ms']['max']} ms  ({c['naive_paths_per_s']:,} paths/s)\n"
        f"  speed-up: {c['speedup_median']}x (medians), {c['speedup_min']}x (minima)\n"
        f"  owners lookup only, median: {c['owners_lookup_ms']['median']} ms vs naive "
        f"{c['naive_owners_lookup_ms']['median']} ms = {c['owners_lookup_speedup_median']}x"
    )
    print("growth (best of 3):")
    for n, g in result["growth"].items():
        print(f"  {int(n):>7,} paths  {g['ms']:>9} ms  {g['us_per_path']} us/path")
    print("pre-flight, all pairs of one wave, cold caches:")
    for n, p in result["preflight"].items():
        extra = f", {p['overlaps']} overlaps" if "overlaps" in p else ""
        print(f"  {n:>17} agents  {p['pairs']:>5} pairs{extra}  {p['s']} s")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
