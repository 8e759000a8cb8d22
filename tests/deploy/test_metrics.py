"""/metrics: the metric names, counters that move, the queue depth read from Redis, the worker's
job metrics, and multiprocess mode (work horses folded into the worker)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from github import GithubException
from prometheus_client import REGISTRY
from rq.serializers import JSONSerializer

from service import metrics, queueing
from service.settings import Settings
from service.webhook import create_app
from tests.conftest import ROOT
from tests.redisdb import redis_url

REDIS_URL = redis_url(12)
QUEUE = "wavegate-metrics-test"
SECRET = "metrics-secret"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n"
NAMES = ("wavegate_webhook_deliveries_total", "wavegate_webhook_ack_seconds", "wavegate_jobs_total",
         "wavegate_job_duration_seconds", "wavegate_github_api_calls_total", "wavegate_github_rate_limit_remaining",
         "wavegate_queue_jobs")


def value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def conn():
    connection = queueing.connect(REDIS_URL)
    connection.flushdb()
    yield connection
    connection.flushdb()


@pytest.fixture
def client(conn):
    settings = Settings(app_id=1, private_key=PEM, webhook_secrets=(SECRET,), redis_url=REDIS_URL, queue_name=QUEUE)
    return create_app(settings, connection=conn).test_client()


def deliver(client, event: str, body: dict, guid: str):
    import hashlib
    import hmac

    raw = json.dumps(body).encode()
    sig = "sha256=" + hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return client.post("/webhook", data=raw, content_type="application/json",
                       headers={"X-GitHub-Event": event, "X-GitHub-Delivery": guid, "X-Hub-Signature-256": sig})


def labeled_issue(number: int) -> dict:
    return {"action": "labeled", "issue": {"number": number, "labels": [{"name": "dispatch"}]},
            "label": {"name": "dispatch"}, "repository": {"full_name": "o/r"}, "installation": {"id": 7},
            "sender": {"login": "octocat"}}


def test_every_metric_is_exposed(client):
    deliver(client, "ping", {"zen": "z"}, "m-0")
    metrics.record_job("check_pull", "finished", 0.2)
    metrics.record_github_call("GET", 200, {"X-RateLimit-Remaining": "4999"}, 7)
    text = client.get("/metrics").get_data(as_text=True)
    for name in NAMES:
        assert f"\n{name}" in text or text.startswith(name), name


def test_deliveries_and_ack_latency_move(client):
    before = value("wavegate_webhook_deliveries_total", event="issues", outcome="enqueued")
    count = value("wavegate_webhook_ack_seconds_count", event="issues")
    assert deliver(client, "issues", labeled_issue(1), "m-1").status_code == 202
    assert deliver(client, "issues", labeled_issue(1), "m-1").status_code == 200  # duplicate
    assert value("wavegate_webhook_deliveries_total", event="issues", outcome="enqueued") == before + 1
    assert value("wavegate_webhook_ack_seconds_count", event="issues") == count + 2
    assert value("wavegate_webhook_ack_seconds_sum", event="issues") > 0


def test_queue_depth_is_read_from_redis_at_scrape_time(client):
    def queued() -> str:
        text = client.get("/metrics").get_data(as_text=True)
        return next(line for line in text.splitlines()
                    if line.startswith(f'wavegate_queue_jobs{{queue="{QUEUE}",state="queued"}}'))

    assert queued().endswith(" 0.0")
    deliver(client, "issues", labeled_issue(2), "m-2")
    deliver(client, "issues", labeled_issue(3), "m-3")
    assert queued().endswith(" 2.0")


def test_queue_depth_is_left_out_when_redis_is_down():
    collector = metrics.QueueDepth(queueing.connect("redis://127.0.0.1:1/0", timeout=0.2), QUEUE)
    assert list(collector.collect()) == []


class FakeRequester:
    def __init__(self, fail: int | None = None):
        self.fail = fail
        self.other = "delegated"

    def requestJsonAndCheck(self, verb, url, **kwargs):  # noqa: N802 - PyGithub's name
        if self.fail:
            raise GithubException(self.fail, {"message": "no"}, {"x-ratelimit-remaining": "0"})
        if "If-None-Match" in (kwargs.get("headers") or {}):
            return {"ETag": '"abc"'}, None  # PyGithub's shape for a 304
        return {"X-RateLimit-Remaining": "4321"}, {"ok": True}


def test_github_calls_and_rate_limit_are_counted_by_the_wrapped_requester():
    ok = value("wavegate_github_api_calls_total", method="PATCH", status="200")
    forbidden = value("wavegate_github_api_calls_total", method="POST", status="403")
    wrapped = metrics.InstrumentedRequester(FakeRequester(), 99)
    assert wrapped.requestJsonAndCheck("PATCH", "/x", input={})[1] == {"ok": True}
    assert wrapped.other == "delegated"
    assert value("wavegate_github_api_calls_total", method="PATCH", status="200") == ok + 1
    assert value("wavegate_github_rate_limit_remaining", installation="99") == 4321
    with pytest.raises(GithubException):
        metrics.InstrumentedRequester(FakeRequester(fail=403), 99).requestJsonAndCheck("POST", "/y")
    assert value("wavegate_github_api_calls_total", method="POST", status="403") == forbidden + 1
    assert value("wavegate_github_rate_limit_remaining", installation="99") == 0


def test_a_conditional_get_answered_304_is_counted_as_304_not_200():
    fresh = value("wavegate_github_api_calls_total", method="GET", status="200")
    unchanged = value("wavegate_github_api_calls_total", method="GET", status="304")
    wrapped = metrics.InstrumentedRequester(FakeRequester(), 99)
    wrapped.requestJsonAndCheck("GET", "/z", headers={"If-None-Match": '"abc"'})
    wrapped.requestJsonAndCheck("GET", "/z", headers={})
    assert value("wavegate_github_api_calls_total", method="GET", status="304") == unchanged + 1
    assert value("wavegate_github_api_calls_total", method="GET", status="200") == fresh + 1


def job_ok() -> str:
    return "done"


def job_fails() -> str:
    raise RuntimeError("boom")


def test_the_worker_records_jobs_by_outcome_and_duration(conn, monkeypatch):
    from workers import guard
    from workers.__main__ import MeasuredWorker

    # the worker runs registered job functions only: register these two for the test
    for job in (job_ok, job_fails):
        monkeypatch.setitem(guard.REGISTERED, f"tests.deploy.test_metrics.{job.__name__}", job)

    queue = queueing.make_queue(QUEUE, conn)
    finished = value("wavegate_jobs_total", job="job_ok", outcome="finished")
    failed = value("wavegate_jobs_total", job="job_fails", outcome="failed")
    durations = value("wavegate_job_duration_seconds_count", job="job_ok")
    queue.enqueue("tests.deploy.test_metrics.job_ok")
    queue.enqueue("tests.deploy.test_metrics.job_fails")
    MeasuredWorker([queue], connection=conn, serializer=JSONSerializer).work(burst=True)
    assert value("wavegate_jobs_total", job="job_ok", outcome="finished") == finished + 1
    assert value("wavegate_jobs_total", job="job_fails", outcome="failed") == failed + 1
    assert value("wavegate_job_duration_seconds_count", job="job_ok") == durations + 1


MULTIPROCESS = textwrap.dedent("""
    import os, sys
    from service import metrics
    from prometheus_client import generate_latest
    for i in range(3):          # three work horses, each counting two GitHub calls
        pid = os.fork()
        if pid == 0:
            metrics.record_github_call("GET", 200, {"x-ratelimit-remaining": str(4990 - i)}, 5)
            metrics.record_github_call("GET", 200)
            os._exit(0)
        os.waitpid(pid, 0)
    files_before = len(os.listdir(os.environ["PROMETHEUS_MULTIPROC_DIR"]))
    metrics.record_job("reconcile_plan", "finished", 1.5)
    folded = metrics.fold_dead_processes()
    files_after = sorted(os.listdir(os.environ["PROMETHEUS_MULTIPROC_DIR"]))
    print(files_before, folded, ",".join(files_after))
    sys.stdout.write(generate_latest(metrics.scrape_registry()).decode())
""")


def test_multiprocess_mode_folds_exited_processes_and_keeps_their_counts(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", MULTIPROCESS], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60, check=True).stdout
    header, text = out.split("\n", 1)
    files_before, folded, files_after = header.split(" ")
    assert int(folded) == 3 and int(files_before) >= 6
    assert all(f.endswith(f"_{f.rsplit('_', 1)[1]}") for f in files_after.split(","))
    assert len({f.rsplit("_", 1)[1] for f in files_after.split(",")}) == 1, "only this process's files remain"
    assert 'wavegate_github_api_calls_total{method="GET",status="200"} 6.0' in text
    assert 'wavegate_github_rate_limit_remaining{installation="5"} 4988.0' in text
    assert 'wavegate_jobs_total{job="reconcile_plan",outcome="finished"} 1.0' in text
    assert 'wavegate_job_duration_seconds_count{job="reconcile_plan"} 1.0' in text


def test_prepare_dir_wipes_metric_files_only(tmp_path):
    (tmp_path / "counter_1.db").write_bytes(b"x")
    (tmp_path / "worker-a").mkdir()
    metrics.prepare_dir(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["worker-a"]


def test_a_delivery_in_setup_mode_is_counted_as_not_configured(tmp_path):
    from service.settings import SetupSettings

    app = create_app(SetupSettings(env_file=tmp_path / ".env"))
    before = value("wavegate_webhook_deliveries_total", event="issues", outcome="not configured")
    response = app.test_client().post("/webhook", json={}, headers={"X-GitHub-Event": "issues"})
    assert response.status_code == 503
    assert response.get_json()["status"] == "not configured: register the App at /setup, then restart the web process"
    assert value("wavegate_webhook_deliveries_total", event="issues", outcome="not configured") == before + 1
