"""End to end inside one process: a signed ``issues.labeled`` delivery through the Flask app, real
Redis (db 11), an RQ SimpleWorker running the real jobs and the real use cases against the
in-memory FakeGitHub. The consolidated reference plan opens 4 branches, 4 PRs, 8 check runs and
1 dashboard comment; a redelivery of the same delivery writes nothing."""

from __future__ import annotations

import json

from rq import SimpleWorker
from rq.serializers import JSONSerializer

from service.core.model import CHECK_NAMES
from tests.conftest import ROOT
from workers import context
from workers.__main__ import MeasuredWorker

from .conftest import deliver
from .fakes import REPO, FakeGitHub

PLANS = ROOT / "tests" / "fixtures" / "plans"


def _labeled() -> bytes:
    return json.dumps({
        "action": "labeled", "label": {"name": "dispatch"},
        "issue": {"number": 42, "labels": [{"name": "dispatch"}], "title": "Principal Broker fixes"},
        "repository": {"full_name": REPO}, "sender": {"login": "maintainer-1", "type": "User"},
        "installation": {"id": 1},
    }).encode()


def _work(queue) -> None:
    # the worker of ``python -m workers``: only registered job functions run (``workers.guard``)
    MeasuredWorker([queue], connection=queue.connection, serializer=JSONSerializer).work(burst=True)


def test_labeled_delivery_dispatches_the_reference_plan_once(client, queue, monkeypatch):
    files = (PLANS / "reference-repo-files.txt").read_text().split()
    fake = FakeGitHub(files=files)
    fake.roles["maintainer-1"] = "write"
    fake.add_issue(42, (PLANS / "reference-consolidated.yaml.md").read_text())
    ports: list[int] = []
    monkeypatch.setattr(context, "github_for", lambda installation_id: ports.append(installation_id) or fake)

    body = _labeled()
    assert deliver(client, "issues", body, "G-int-1").status_code == 202
    _work(queue)

    assert ports == [1]
    assert sorted(b for b in fake.branches if b != fake.default_branch) == [
        "wavegate/42/arch-perf", "wavegate/42/architecture", "wavegate/42/security", "wavegate/42/testing"]
    assert len(fake.pulls) == 4
    runs = [r for p in fake.pulls.values() for name in CHECK_NAMES for r in fake.runs_on(p.head_sha, name)]
    assert len(runs) == 8 and len(fake.runs) == 8
    assert len(fake.comments_on(42)) == 1
    assert queue.failed_job_registry.count == 0

    writes = fake.count("write")
    again = deliver(client, "issues", body, "G-int-1")
    assert (again.status_code, again.get_json()["status"]) == (200, "duplicate")
    _work(queue)
    assert fake.count("write") == writes
    assert ports == [1]


def test_the_worker_runs_jobs_in_its_own_process_and_wakes_for_its_maintenance(queue):
    """Jobs run in the worker's process (its installation tokens and conditional-request answers
    outlive a job), and an idle worker wakes every few seconds, so a worker that replaced a dead
    one takes RQ's scheduler over soon after the dead one's lock lapses."""
    from workers.__main__ import MeasuredWorker

    worker = MeasuredWorker([queue], connection=queue.connection, serializer=JSONSerializer)
    assert isinstance(worker, SimpleWorker)
    assert worker.dequeue_timeout <= MeasuredWorker.idle_wake < 60


def test_a_scheduler_lock_of_a_dead_process_of_this_host_is_freed(conn):
    from workers.__main__ import release_dead_scheduler_locks

    conn.set("rq:scheduler-lock:q-dead", "s-dead")
    conn.hset("rq:scheduler:s-dead", mapping={"hostname": "h1", "pid": "4242"})
    conn.set("rq:scheduler-lock:q-alive", "s-alive")
    conn.hset("rq:scheduler:s-alive", mapping={"hostname": "h1", "pid": "4343"})
    conn.set("rq:scheduler-lock:q-away", "s-away")
    conn.hset("rq:scheduler:s-away", mapping={"hostname": "h2", "pid": "4242"})
    freed = release_dead_scheduler_locks(conn, ["q-dead", "q-alive", "q-away", "q-none"], hostname="h1",
                                         alive=lambda pid: pid == 4343)
    assert freed == ["q-dead"]
    assert conn.get("rq:scheduler-lock:q-dead") is None
    assert conn.get("rq:scheduler-lock:q-alive") == b"s-alive"  # its process exists
    assert conn.get("rq:scheduler-lock:q-away") == b"s-away"  # another host: cannot tell
