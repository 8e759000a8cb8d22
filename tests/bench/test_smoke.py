"""Each benchmark section's code runs on a tiny size (Redis database 15, as the benchmark)."""

from __future__ import annotations

import hashlib
import hmac
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import redis
import requests

from bench import common, core, e2e, ingest
from bench.__main__ import table
from service.core.model import Plan
from service.core.plan import parse_plan


@pytest.fixture(scope="module")
def bodies(tmp_path_factory) -> Path:
    return ingest.make_bodies(tmp_path_factory.mktemp("bodies"), 3)


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    return ingest.server_env(tmp_path_factory.mktemp("env"))


def _server(name: str) -> ingest.Server:
    return next(s for s in ingest.servers(probot=True) if s.name == name)


def test_bodies_are_signed_distinct_synchronize_deliveries(bodies):
    lines = bodies.read_text().split("\n")[:-1]
    assert len(lines) == 3
    seen = set()
    for line in lines:
        sig, path = line.split()
        body = Path(path).read_bytes()
        assert sig == "sha256=" + hmac.new(ingest.SECRET.encode(), body, hashlib.sha256).hexdigest()
        seen.add(body)
    assert len(seen) == 3


def test_loadgen_against_the_floor_answers_every_request(bodies, env, tmp_path):
    proc, port = ingest.start(_server("floor gthread"), env, tmp_path / "log")
    try:
        got = ingest.run_fixed(port, bodies, rate=40, seconds=0.5, connections=4)
        slow = ingest.run_fixed(port, bodies, rate=20, seconds=0.5, connections=4, pause_ms=20)
    finally:
        ingest.stop(proc)
    assert (got["requests"], got["answered"], got["errors"], got["statuses"]) == (20, 20, 0, {"202": 20})
    assert slow["answered"] == 10 and slow["p50_ms"] >= 0


def test_wavegate_server_stores_each_delivery_as_a_job(bodies, env, tmp_path):
    db = redis.Redis.from_url(common.REDIS_URL)
    db.flushdb()
    proc, port = ingest.start(_server("wavegate"), env, tmp_path / "log")
    try:
        got = ingest.run_fixed(port, bodies, rate=30, seconds=0.2, connections=2)
        jobs = db.llen("rq:queue:wavegate")
    finally:
        ingest.stop(proc)
        db.flushdb()
    assert got["statuses"] == {"202": 6}
    assert jobs == 3  # three PRs; the second delivery of each is folded into the waiting job


@pytest.mark.skipif(not shutil.which("wrk"), reason="wrk not installed")
def test_wrk_script_reports_requests_latency_and_errors(bodies, env, tmp_path):
    proc, port = ingest.start(_server("floor sync"), env, tmp_path / "log")
    try:
        got = ingest.run_wrk(shutil.which("wrk"), port, bodies, seconds=1, connections=2)
    finally:
        ingest.stop(proc)
    assert got["answered"] > 0 and got["errors"] == 0 and got["p99_ms"] >= got["p50_ms"] > 0


@pytest.mark.skipif(not (common.ROOT / "bench" / ".probot" / "node_modules" / "probot").exists(),
                    reason="Probot not installed (python -m bench installs it)")
def test_probot_app_verifies_signatures(bodies, env, tmp_path):
    proc, port = ingest.start(_server("probot"), env, tmp_path / "log")
    try:
        sig, path = bodies.read_text().split("\n")[0].split()
        body = Path(path).read_bytes()
        headers = {"Content-Type": "application/json", "X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "d1"}
        good = requests.post(f"http://127.0.0.1:{port}/webhook", data=body,
                             headers={**headers, "X-Hub-Signature-256": sig}, timeout=5)
        bad = requests.post(f"http://127.0.0.1:{port}/webhook", data=body,
                            headers={**headers, "X-Hub-Signature-256": "sha256=" + "0" * 64}, timeout=5)
    finally:
        ingest.stop(proc)
    assert (good.status_code, bad.status_code) == (200, 400)


def test_cpu_seconds_of_a_process_tree_grow_with_its_work():
    child = subprocess.Popen(["python3", "-c", "sum(i * i for i in range(3_000_000))"])
    pids = common.tree_pids(os.getpid())
    assert child.pid in pids
    child.wait(30)
    before = common.cpu_seconds([os.getpid()])
    sum(i * i for i in range(2_000_000))
    assert common.cpu_seconds([os.getpid()]) > before
    assert common.stats([3.0, 1.0, 2.0, None]) == {"min": 1.0, "median": 2.0, "max": 3.0, "n": 3}


def test_core_section_quick():
    got = core.run(quick=True)
    assert set(got["growth"]) == {"100", "1000"} and set(got["agent_growth"]) == {"10", "20"}
    assert got["classification"]["wavegate_ms"]["median"] > 0


@pytest.mark.parametrize(("agents", "waves"), [(4, 2), (20, 1)])
def test_bench_plans_parse_with_the_agents_and_waves_asked_for(agents, waves):
    plan = parse_plan(e2e.plan_body(agents, waves))
    assert isinstance(plan, Plan)
    assert len(plan.agents) == agents
    assert sorted({a.wave for a in plan.agents}) == list(range(1, waves + 1))


def test_scale_out_section_on_one_plan(tmp_path):
    start = time.monotonic()
    got = e2e.scale_out(tmp_path, plans=1, deliveries=2, workers=(1,), repeats=1)
    assert got["prs"] == 2
    one = got["workers"]["1 worker(s)"]
    assert one["seconds"]["n"] == 1 and 0 < one["seconds"]["median"] < time.monotonic() - start
    assert one["emulator_cpu_s"]["median"] >= 0


def test_table_has_one_row_per_figure():
    results = {"e2e": {"api": {"dispatch 4 agents": {"reads": 3, "writes": 2, "not_modified": 1, "token": 1,
                                                     "seconds": 1.5, "charged": 6,
                                                     "minimum": {"total": 5}}},
                       "latency": {"pushes": 100, "p50_ms": 80.0, "p95_ms": 120.0, "max_ms": 200.0},
                       "scale": {"workers": {}, "speedup": {}, "deliveries": 200, "plans": 20}}}
    text = table(results)
    row = next(line for line in text.splitlines() if "dispatch 4 agents" in line)
    assert row.startswith("3 API") and row.endswith("3 / 2 / 1 / 1  (charged 6 vs min 5; 1.5 s)")
    assert "p50 80.0 ms, p95 120.0 ms" in text
