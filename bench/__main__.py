"""``make bench`` (``python -m bench``): every section, one table at the end, ``bench/results.json``.

    python -m bench [--quick] [--only ingest,core,e2e,scale] [--repeats N] [--seconds S]

1 ingest (``bench.ingest``), 2 core (``bench.core``), 3 API budget + 4 end to end (``e2e``) and
5 scale out (``scale``), both in ``bench.e2e``, 6 the local fleet (``local``, ``bench.local``), 7 slow bodies
(``slowbody``, ``bench.slowbody``), 8 plan synthesis (``synthesis``, ``bench.synthesis``), 9 launch
(``launch``, ``bench.launch``: last dependency merged → workflow dispatched; calls per launch). Uses Redis database 15 only (flushed). Installs ``wrk`` with apt-get and Probot
with npm into ``bench/.probot`` when missing. ``--quick``: tiny sizes, for the smoke test.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib import metadata

from .common import ROOT

# Sections in a module of their own, each with run(...) and rows(results): name → (title, module).
MODULE_SECTIONS = {"local": ("6. local fleet", "local"), "slowbody": ("7. slow bodies", "slowbody"),
                   "synthesis": ("8. plan synthesis", "synthesis"), "launch": ("9. launch", "launch")}
SECTIONS = ("ingest", "core", "e2e", "scale", *MODULE_SECTIONS)


def _section_args(name: str, args: argparse.Namespace) -> dict:
    if name == "slowbody":
        return {"repeats": args.repeats or (1 if args.quick else 3),
                "seconds": 3 if args.quick else 5 * (args.seconds or 2), "quick": args.quick}
    return {"quick": args.quick}


def machine() -> dict:
    cpu = ""
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), "")
    except OSError:
        pass
    versions = {}
    for dist in ("flask", "gunicorn", "granian", "orjson", "rq", "redis", "PyGithub", "werkzeug"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    for tool, argv in (("node", ["node", "--version"]), ("redis-server", ["redis-cli", "INFO", "server"])):
        try:
            out = subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout
            versions[tool] = (out.split("redis_version:")[1].split()[0] if "redis_version:" in out else out.strip())
        except (OSError, IndexError, subprocess.TimeoutExpired):
            versions[tool] = None
    probot = ROOT / "bench" / ".probot" / "node_modules" / "probot" / "package.json"
    versions["probot"] = json.loads(probot.read_text())["version"] if probot.exists() else None
    return {"cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(), "python": sys.version.split()[0],
            "loadavg_at_start": os.getloadavg(), "versions": versions}


def _m(d: dict | None, key: str = "median", digits: int = 1) -> str:
    if not d or d.get(key) is None:
        return "-"
    v = d[key]
    return f"{v:,.{digits}f}" if isinstance(v, float) else f"{v:,}"


def _mmm(d: dict | None, digits: int = 1) -> str:
    if not d or d.get("median") is None:
        return "-"
    return f"{_m(d, 'median', digits)} ({_m(d, 'min', digits)}–{_m(d, 'max', digits)})"


def table(results: dict) -> str:
    """The one table: rows of (section, what, figure, min–max or target)."""
    rows: list[tuple[str, str, str]] = []
    ing = results.get("ingest")
    if ing:
        for name, loads in ing["servers"].items():
            mx = loads.get("max", {})
            rows.append(("1 ingest", f"{name}: max req/s (16 conns)", _mmm(mx.get("rate"), 0)))
            rows.append(("1 ingest", f"{name}: max p50/p99 ms, CPU ms/delivery",
                         f"{_m(mx.get('p50_ms'), digits=2)} / {_m(mx.get('p99_ms'), digits=2)}, "
                         f"{_m(mx.get('cpu_ms_per_delivery'), digits=3)}"))
            for load in ("200/s", "400/s", "slow 400/s"):
                got = loads.get(load, {})
                rows.append(("1 ingest", f"{name}: {load} achieved, p50/p99 ms, errors",
                             f"{_m(got.get('rate'), digits=0)}/s, {_m(got.get('p50_ms'), digits=2)} / "
                             f"{_mmm(got.get('p99_ms'), 2)}, {_m(got.get('errors'), digits=0)}"
                             f"+{_m(got.get('non_2xx'), digits=0)}"))
        for name, ratio in ing["ratios"].items():
            rows.append(("1 ingest", name, _mmm(ratio, 2)))
    core = results.get("core")
    if core:
        c = core["classification"]
        rows.append(("2 core", f"classify {c['paths']} paths × {c['agents']} agents, ms",
                     f"{c['wavegate_ms']['median']} ({c['wavegate_ms']['min']}–{c['wavegate_ms']['max']}); naive "
                     f"{c['naive_pathspec_ms']['median']} = {c['speedup_median']}×"))
        rows.append(("2 core", "growth: paths → ms (100 agents)",
                     ", ".join(f"{int(n):,}: {g['ms']}" for n, g in core["growth"].items())))
        rows.append(("2 core", "growth: agents → ms (3,000 paths)",
                     ", ".join(f"{n}: {g['ms']}" for n, g in core.get("agent_growth", {}).items())))
        rows.append(("2 core", "pre-flight: agents → s (all pairs)",
                     ", ".join(f"{n}: {p['s']}" for n, p in core["preflight"].items())))
    e2e = results.get("e2e")
    if e2e:
        for op, c in e2e["api"].items():
            rows.append(("3 API", f"{op}: reads / writes / 304 / token", f"{c['reads']} / {c['writes']} / "
                         f"{c['not_modified']} / {c['token']}  (charged {c.get('charged')} vs min "
                         f"{(c.get('minimum') or {}).get('total')}; {c['seconds']} s)"))
        lat = e2e["latency"]
        rows.append(("4 e2e", f"push → territory run visible, {lat['pushes']} pushes",
                     f"p50 {lat['p50_ms']} ms, p95 {lat['p95_ms']} ms, max {lat['max_ms']} ms"))
        if "dispatch 20 agents" in e2e["api"]:
            rows.append(("4 e2e", "dispatch of 20 agents, wall clock", f"{e2e['api']['dispatch 20 agents']['seconds']} s"))
    sc = results.get("scale")
    if sc:
        for n, m in sc["workers"].items():
            rows.append(("5 scale", f"{n}: burst of {sc['deliveries']} over {sc['plans']} plans, s",
                         f"{_mmm(m.get('seconds'), 2)}; CPU s emulator {_m(m.get('emulator_cpu_s'), digits=2)}, "
                         f"web {_m(m.get('web_cpu_s'), digits=2)}, workers {_m(m.get('workers_cpu_s'), digits=2)}"))
        for n, ratio in sc["speedup"].items():
            rows.append(("5 scale", f"speed-up {n}", _mmm(ratio, 2)))
    for name, (_label, module) in MODULE_SECTIONS.items():
        if results.get(name):
            rows += importlib.import_module(f".{module}", __package__).rows(results[name])
    commands = {"1 ingest": "python -m bench --only ingest", "2 core": "python -m bench.core",
                "3 API": "python -m bench --only e2e", "4 e2e": "python -m bench --only e2e",
                "5 scale": "python -m bench --only scale", "6 local": "python -m bench.local",
                "7 slow": "python -m bench --only slowbody",
                "8 plan": "python -m bench.synthesis", "9 launch": "python -m bench.launch"}
    shown = dict.fromkeys(r[0] for r in rows)
    rows += [("command", s, commands[s]) for s in shown]
    width = max((len(r[1]) for r in rows), default=10)
    lines = [f"{'section':<9} {'measure':<{width}}  median (min–max) / figure", "-" * (width + 50)]
    lines += [f"{s:<9} {w:<{width}}  {f}" for s, w, f in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated: " + ",".join(SECTIONS))
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--seconds", type=float, default=None, help="per ingest load")
    parser.add_argument("--output", default=str(ROOT / "bench" / "results.json"))
    args = parser.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    started = time.monotonic()
    results: dict = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
                     "command": "python -m bench" + (" --quick" if args.quick else ""), "quick": args.quick}
    if "ingest" in only:
        from . import ingest

        print("== 1. ingest", file=sys.stderr, flush=True)
        results["ingest"] = ingest.run(repeats=args.repeats or (1 if args.quick else 3),
                                       seconds=args.seconds or (1 if args.quick else 2), quick=args.quick,
                                       variants=20 if args.quick else 200)
    if "core" in only:
        from . import core

        print("== 2. core", file=sys.stderr, flush=True)
        results["core"] = core.run(quick=args.quick)
    if "e2e" in only:
        from . import e2e

        print("== 3–4. API budget, end to end", file=sys.stderr, flush=True)
        results["e2e"] = e2e.run(quick=args.quick)
    if "scale" in only:
        from . import e2e

        print("== 5. scale out", file=sys.stderr, flush=True)
        results["scale"] = e2e.run_scale(quick=args.quick)
    for name, (label, module) in MODULE_SECTIONS.items():
        if name in only:
            print(f"== {label}", file=sys.stderr, flush=True)
            results[name] = importlib.import_module(f".{module}", __package__).run(**_section_args(name, args))
    results["wall_clock_s"] = round(time.monotonic() - started, 1)
    results["loadavg_at_end"] = os.getloadavg()
    with open(args.output, "w") as out:
        json.dump(results, out, indent=2, default=str)
    print()
    print(table(results))
    print(f"\n{results['command']}  ({results['wall_clock_s']} s; load average at start "
          f"{results['machine']['loadavg_at_start'][0]:.1f}, at end {results['loadavg_at_end'][0]:.1f}) → {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
