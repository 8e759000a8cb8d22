"""Whoever can write to Redis cannot run code in the worker: a job naming any function other than
Wavegate's registered jobs (``os.mkdir``, a function of a module whose import has a side effect,
a registered job asking for an RQ callback) is never imported nor called. It is logged, counted in
``wavegate_jobs_refused_total`` and lands in the failed registry with the reason, unretried; a
real job still runs. The worker is ``python -m workers``' own class, in this process, on Redis
(db 14, a queue of the test's own: nothing is flushed)."""

from __future__ import annotations

import sys
import uuid

import pytest
import redis
from rq import Callback, Queue, Retry
from rq.serializers import JSONSerializer

from service import metrics
from tests.redisdb import redis_url
from workers import context
from workers.__main__ import MeasuredWorker
from workers.guard import REGISTERED

SIDE_EFFECT = "wavegate_probe_side_effect"


@pytest.fixture
def queue():
    conn = redis.Redis.from_url(redis_url(14))
    try:
        conn.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis")
    q = Queue(f"wavegate-guard-{uuid.uuid4().hex[:8]}", connection=conn, serializer=JSONSerializer)
    yield q
    for key in conn.scan_iter(f"rq:*{q.name}*"):
        conn.delete(key)
    q.empty()


def _work(queue) -> None:
    MeasuredWorker([queue], connection=queue.connection, serializer=JSONSerializer).work(burst=True)


def _refused(reason: str) -> float:
    return metrics.REFUSED.labels(reason)._value.get()


def _assert_failed_with(queue, job, text: str) -> None:
    assert job.id in queue.failed_job_registry.get_job_ids()
    job.refresh()
    assert job.get_status() == "failed"
    failure = job.latest_result().exc_string
    assert "RefusedJob" in failure and text in failure


def test_an_arbitrary_function_is_never_called(queue, tmp_path):
    target = tmp_path / "made-by-the-queue"
    before = _refused("unknown function")
    job = queue.enqueue("os.mkdir", str(target), retry=Retry(max=3))
    _work(queue)
    assert not target.exists()
    _assert_failed_with(queue, job, "'os.mkdir' is not one of Wavegate's job functions")
    assert _refused("unknown function") == before + 1
    # not retried (the worker's maintenance may arm the periodic reconcile on this queue: only the
    # refused job itself must be neither queued nor scheduled)
    assert job.id not in queue.scheduled_job_registry.get_job_ids() and job.id not in queue.job_ids


def test_a_module_with_an_import_side_effect_is_never_imported(queue, tmp_path, monkeypatch):
    mark = tmp_path / "imported"
    (tmp_path / f"{SIDE_EFFECT}.py").write_text(
        f"open({str(mark)!r}, 'w').close()\n\ndef run():\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    job = queue.enqueue(f"{SIDE_EFFECT}.run")
    _work(queue)
    assert not mark.exists() and SIDE_EFFECT not in sys.modules
    _assert_failed_with(queue, job, f"'{SIDE_EFFECT}.run'")


def test_a_callback_is_a_refusal_and_is_never_imported(queue, tmp_path):
    target = tmp_path / "made-by-a-callback"
    before = _refused("callback")
    job = queue.enqueue("workers.jobs.reconcile_all", on_failure=Callback("os.mkdir"),
                        on_success=Callback("os.mkdir"))
    _work(queue)
    assert not target.exists()
    _assert_failed_with(queue, job, "take no callbacks")
    assert _refused("callback") == before + 1


def test_a_registered_job_still_runs(queue, monkeypatch):
    calls = []
    monkeypatch.setattr(context, "github_for", lambda installation_id: calls.append(installation_id) or object())
    monkeypatch.setattr("service.usecases.pull_closed", lambda gh, repo, number, **_: f"{repo}#{number} closed")
    job = queue.enqueue("workers.jobs.pull_closed", installation_id=3, repo="o/r", number=9)
    _work(queue)
    job.refresh()
    assert job.get_status() == "finished" and job.return_value() == "o/r#9 closed"
    assert calls == [3]


def test_every_routed_job_is_registered():
    from service import queueing, routes

    names = {rule.job for rule in routes.TABLE.values() if rule} | {queueing.JOBS + "reconcile_all",
                                                            queueing.JOBS + "reconcile_repository"}
    assert names <= set(REGISTERED)
