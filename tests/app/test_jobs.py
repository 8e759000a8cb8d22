"""The jobs under a real Redis (db 11) and an in-process RQ SimpleWorker, with the use cases
replaced by recorders: coalescing, per-plan locks, retries honouring retry_after, the final
failure report, and the periodic chain."""

from __future__ import annotations

import logging
import time

import pytest
from rq import SimpleWorker
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from service import queueing
from service import usecases as actions
from service.errors import NotFound, PermissionDenied, RateLimited, TransientGitHubError
from service.gh import app as github
from service.jobspec import work_key
from workers import context, jobs

from .conftest import deliver, queued_jobs

LABELED = {"action": "labeled", "label": {"name": "dispatch"},
           "issue": {"number": 42, "labels": [{"name": "dispatch"}]},
           "repository": {"full_name": "o/r"}, "sender": {"login": "maintainer-1", "type": "User"},
           "installation": {"id": 1}}


# Head, base and merge-group SHAs as GitHub sends them (the receiver checks their form).
S2, S3, S20, M1, B0 = "2" * 40, "3" * 40, "20" * 20, "e1" * 20, "b0" * 20


def synchronize(sha: str) -> dict:
    return {"action": "synchronize", "number": 21, "pull_request": {"number": 21, "head": {"sha": sha}},
            "repository": {"full_name": "o/r"}, "sender": {"login": "agent-web", "type": "User"},
            "installation": {"id": 1}}


class Port:
    """Stands in for the GitHub port: the jobs only pass it to the use cases."""

    def __init__(self, installation_id: int) -> None:
        self.installation_id = installation_id


class Calls:
    def __init__(self, log: list[tuple], behaviour: dict) -> None:
        self.log, self.behaviour = log, behaviour


@pytest.fixture
def calls(monkeypatch, settings):
    """Record every use-case call; ``calls.behaviour[name]`` may raise or act."""
    record: list[tuple] = []
    behaviour: dict = {}

    def recorder(name):
        def use_case(gh, *args, **kwargs):
            record.append((name, gh.installation_id, args, kwargs))
            if name in behaviour:
                return behaviour[name](*args, **kwargs)
            return "ok"
        return use_case

    for name in ("reconcile_plan", "check_pull", "pull_closed", "rerun_checks", "check_merge_group",
                 "handle_command", "reconcile_repository", "report_failure"):
        monkeypatch.setattr(actions, name, recorder(name))
    monkeypatch.setattr(context, "github_for", Port)
    monkeypatch.setattr(context, "settings", lambda: settings)
    return Calls(record, behaviour)


def names(calls) -> list[str]:
    return [c[0] for c in calls.log]


def work(queue) -> None:
    SimpleWorker([queue], connection=queue.connection, serializer=JSONSerializer).work(burst=True)


def fast_forward(queue) -> int:
    """Move every scheduled job to the queue, as the scheduler does once its time has come."""
    registry = queue.scheduled_job_registry
    ids = registry.get_job_ids()
    for job_id in ids:
        job = Job.fetch(job_id, connection=queue.connection, serializer=JSONSerializer)
        registry.remove(job)
        queue.enqueue_job(job)
    return len(ids)


def test_twenty_events_for_one_plan_cost_one_reconcile(client, queue, calls):
    for i in range(20):
        assert deliver(client, "issues", LABELED, f"G-{i}").status_code == 202
    assert len(queued_jobs(queue)) == 1
    work(queue)
    assert names(calls) == ["reconcile_plan"]
    (_, installation, args, kwargs) = calls.log[0]
    assert (installation, args) == (1, ("o/r", 42))
    assert kwargs["sender"] == "maintainer-1" and kwargs["reason"] == "issues.labeled"
    assert Job.fetch(kwargs["job_id"], connection=queue.connection,
                     serializer=JSONSerializer).get_status() == JobStatus.FINISHED


def test_an_event_during_the_run_schedules_exactly_one_more(client, queue, calls):
    seen = []

    def during(*args, **kwargs):
        if not seen:
            seen.append(1)
            for i in range(5):
                deliver(client, "issues", LABELED, f"G-during-{i}")
        return "ok"

    calls.behaviour["reconcile_plan"] = during
    deliver(client, "issues", LABELED, "G-first")
    work(queue)
    assert names(calls) == ["reconcile_plan", "reconcile_plan"]


def test_check_pull_coalesces_per_pull_request_and_checks_the_current_head(client, queue, calls):
    deliver(client, "pull_request", synchronize(S2), "G-a")
    deliver(client, "pull_request", synchronize(S2), "G-a2")
    deliver(client, "pull_request", synchronize(S3), "G-b")
    assert len(queued_jobs(queue)) == 1
    work(queue)
    # no head given: the use case reads the PR's head when it runs (S3 by then)
    assert [c[2] for c in calls.log] == [("o/r", 21, None)]


def test_lock_contention_reschedules_instead_of_blocking(client, conn, queue, calls, monkeypatch):
    monkeypatch.setattr(jobs, "LOCK_WAIT", 0)
    lock = conn.lock(queueing.lock_key(work_key("repo", 1, "o/r")), timeout=queueing.JOB_TIMEOUT + 60, blocking=False)
    assert lock.acquire(blocking=False)
    first = deliver(client, "issues", LABELED, "G-1").get_json()["job"]
    work(queue)
    assert names(calls) == []
    assert Job.fetch(first, connection=conn, serializer=JSONSerializer).get_status() == JobStatus.FINISHED
    scheduled = queue.scheduled_job_registry.get_job_ids()
    assert len(scheduled) == 1
    waiting = Job.fetch(scheduled[0], connection=conn, serializer=JSONSerializer)
    assert waiting.meta["lock_waits"] == 1 and waiting.kwargs["issue"] == 42
    # An event while the job waits for the lock folds into it.
    answer = deliver(client, "issues", LABELED, "G-2").get_json()
    assert (answer["status"], answer["job"]) == ("coalesced", scheduled[0])
    lock.release()
    fast_forward(queue)
    work(queue)
    assert names(calls) == ["reconcile_plan"]
    assert calls.log[0][3]["job_id"] == scheduled[0]


def test_a_pr_check_waits_while_its_repository_is_being_reconciled(client, conn, queue, calls, monkeypatch):
    """Every job writing to one repository takes the same lock: a PR check running beside a plan
    reconcile could otherwise find no check run on a head and create a second one."""
    monkeypatch.setattr(jobs, "LOCK_WAIT", 0)
    lock = conn.lock(queueing.lock_key(work_key("repo", 1, "o/r")), timeout=queueing.JOB_TIMEOUT + 60, blocking=False)
    assert lock.acquire(blocking=False)
    deliver(client, "pull_request", synchronize("a" * 40), "G-s1")
    work(queue)
    assert names(calls) == []
    assert len(queue.scheduled_job_registry.get_job_ids()) == 1
    lock.release()
    fast_forward(queue)
    work(queue)
    assert names(calls) == ["check_pull"]


def test_lock_released_after_the_job(client, conn, queue, calls):
    deliver(client, "issues", LABELED, "G-1")
    work(queue)
    assert conn.get(queueing.lock_key(work_key("repo", 1, "o/r"))) is None
    assert conn.get(queueing.pending_key(work_key("plan", 1, "o/r", 42, "maintainer-1"))) is None


def test_rate_limit_retry_waits_for_retry_after(client, conn, queue, calls):
    def limited(*args, **kwargs):
        raise RateLimited("secondary rate limit", retry_after=120)

    calls.behaviour["reconcile_plan"] = limited
    job_id = deliver(client, "issues", LABELED, "G-1").get_json()["job"]
    before = time.time()
    work(queue)
    job = Job.fetch(job_id, connection=conn, serializer=JSONSerializer)
    assert job.get_status() == JobStatus.SCHEDULED
    due = queue.scheduled_job_registry.get_scheduled_time(job_id).timestamp()
    assert before + 115 <= due <= time.time() + 125
    assert names(calls) == ["reconcile_plan"]  # not reported yet: retries remain


def test_transient_error_without_retry_after_uses_the_policy(client, conn, queue, calls):
    calls.behaviour["check_pull"] = lambda *a, **k: (_ for _ in ()).throw(TransientGitHubError("502"))
    job_id = deliver(client, "pull_request", synchronize(S2), "G-1").get_json()["job"]
    before = time.time()
    work(queue)
    due = queue.scheduled_job_registry.get_scheduled_time(job_id).timestamp()
    assert before + queueing.RETRY_INTERVALS[0] - 2 <= due <= time.time() + queueing.RETRY_INTERVALS[0] + 2


def test_last_retry_reports_the_failure_with_the_job_id(client, conn, queue, calls, monkeypatch):
    monkeypatch.setattr(queueing, "RETRY_INTERVALS", (0, 0))
    calls.behaviour["check_pull"] = lambda *a, **k: (_ for _ in ()).throw(TransientGitHubError("502 Bad Gateway"))
    job_id = deliver(client, "pull_request", synchronize(S2), "G-1").get_json()["job"]
    work(queue)
    assert names(calls) == ["check_pull"] * 3 + ["report_failure"]
    _, installation, args, kwargs = calls.log[-1]
    assert (installation, args) == (1, ("o/r",))
    assert kwargs["number"] == 21 and kwargs["head_sha"] == S2 and kwargs["issue"] is None
    assert kwargs["job_id"] == job_id and "502 Bad Gateway" in kwargs["what"]
    assert Job.fetch(job_id, connection=conn, serializer=JSONSerializer).get_status() == JobStatus.FAILED
    # GitHub's redelivery of that delivery is processed again.
    again = deliver(client, "pull_request", synchronize(S2), "G-1")
    assert again.status_code == 202 and again.get_json()["job"] != job_id


@pytest.mark.parametrize("error", [PermissionDenied("Resource not accessible by integration",
                                                    "POST /repos/o/r/pulls", "pull_requests"),
                                   NotFound("gone"), RuntimeError("bug")])
def test_permanent_errors_are_not_retried(client, conn, queue, calls, error):
    def fail(*args, **kwargs):
        raise error

    calls.behaviour["reconcile_plan"] = fail
    job_id = deliver(client, "issues", LABELED, "G-1").get_json()["job"]
    work(queue)
    assert names(calls) == ["reconcile_plan", "report_failure"]
    assert calls.log[-1][3]["issue"] == 42
    assert Job.fetch(job_id, connection=conn, serializer=JSONSerializer).get_status() == JobStatus.FAILED
    assert queue.scheduled_job_registry.get_job_ids() == []


def test_a_failing_report_does_not_hide_the_original_error(client, conn, queue, calls):
    calls.behaviour["reconcile_plan"] = lambda *a, **k: (_ for _ in ()).throw(NotFound("gone"))
    calls.behaviour["report_failure"] = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("also down"))
    job_id = deliver(client, "issues", LABELED, "G-1").get_json()["job"]
    work(queue)
    job = Job.fetch(job_id, connection=conn, serializer=JSONSerializer)
    assert job.get_status() == JobStatus.FAILED
    assert "NotFound" in job.latest_result().exc_string


@pytest.mark.parametrize(("event", "body", "use_case", "args", "kwargs"), [
    ("pull_request", {**synchronize(S2), "action": "closed"}, "pull_closed", ("o/r", 21), {}),
    ("check_suite", {"action": "rerequested", "check_suite": {"head_sha": S20, "pull_requests": []},
                     "repository": {"full_name": "o/r"}, "installation": {"id": 1},
                     "sender": {"login": "wavegate[bot]"}},
     "rerun_checks", ("o/r", S20, ()), {"check_name": None}),
    ("check_run", {"action": "rerequested", "check_run": {"name": "wavegate/wave-gate", "head_sha": S20,
                                                          "pull_requests": [{"number": 20}], "app": {"id": 29310}},
                   "repository": {"full_name": "o/r"}, "installation": {"id": 1}, "sender": {"login": "m"}},
     "rerun_checks", ("o/r", S20, (20,)), {"check_name": "wavegate/wave-gate"}),
    ("merge_group", {"action": "checks_requested",
                     "merge_group": {"head_sha": M1, "base_sha": B0, "head_ref": "refs/heads/gh-readonly-queue/main/pr-21-S"},
                     "repository": {"full_name": "o/r"}, "installation": {"id": 1}},
     "check_merge_group", ("o/r", M1, B0, "refs/heads/gh-readonly-queue/main/pr-21-S"), {}),
    ("issue_comment", {"action": "created", "issue": {"number": 42}, "comment": {"id": 7, "body": "/wavegate refresh"},
                       "repository": {"full_name": "o/r"}, "installation": {"id": 1}, "sender": {"login": "m"}},
     "handle_command", ("o/r", 42, 7, "m"), {}),
])
def test_each_job_calls_its_use_case(client, queue, calls, event, body, use_case, args, kwargs):
    assert deliver(client, event, body, "G-1").status_code == 202
    work(queue)
    assert len(calls.log) == 1
    name, installation, got_args, got_kwargs = calls.log[0]
    assert (name, installation, got_args) == (use_case, 1, args)
    assert {k: got_kwargs[k] for k in kwargs} == kwargs
    assert got_kwargs["job_id"]


def test_jobs_log_started_and_finished_with_bound_fields(client, queue, calls, caplog):
    caplog.set_level(logging.INFO, logger="workers.jobs")
    deliver(client, "issues", LABELED, "G-log")
    work(queue)
    events = [getattr(r, "wavegate_event", None) for r in caplog.records if r.name == "workers.jobs"]
    assert events == ["job_started", "job_finished"]


# ------------------------------------------------------------------ periodic reconcile


def test_periodic_chain_is_single_and_reconciles_every_repository(conn, queue, calls, monkeypatch):
    monkeypatch.setattr(github, "app_installations", lambda s, **kw: [(1, ["o/r", "o/s"]), (2, ["p/q"])], raising=False)
    first = queueing.arm_periodic(queue, 300)
    assert first and queueing.arm_periodic(queue, 300) is None
    assert queue.scheduled_job_registry.get_job_ids() == [first]
    assert 290 <= queue.scheduled_job_registry.get_scheduled_time(first).timestamp() - time.time() <= 301
    fast_forward(queue)
    work(queue)
    assert sorted((c[1], c[2]) for c in calls.log) == [(1, ("o/r",)), (1, ("o/s",)), (2, ("p/q",))]
    rearmed = queue.scheduled_job_registry.get_job_ids()
    assert len(rearmed) == 1 and rearmed[0] != first
    assert conn.get(queueing.PERIODIC_KEY).decode() == rearmed[0]


def test_a_stale_chain_link_stops(conn, queue, calls, monkeypatch):
    monkeypatch.setattr(github, "app_installations", lambda s, **kw: [(1, ["o/r"])], raising=False)
    queueing.arm_periodic(queue, 300)
    stray = queue.enqueue("workers.jobs.reconcile_all", job_id="reconcile_all-stray")
    work(queue)
    assert stray.get_status(refresh=True) == JobStatus.FINISHED
    assert stray.latest_result().return_value == "another chain is active"
    assert calls.log == []
    assert len(queue.scheduled_job_registry.get_job_ids()) == 1


def test_periodic_without_the_listing_fails_clearly(conn, queue, calls, monkeypatch):
    monkeypatch.delattr(github, "app_installations", raising=False)
    first = queueing.arm_periodic(queue, 300)
    fast_forward(queue)
    work(queue)
    job = Job.fetch(first, connection=conn, serializer=JSONSerializer)
    assert job.get_status() == JobStatus.FAILED
    assert "app_installations is missing" in job.latest_result().exc_string
    assert len(queue.scheduled_job_registry.get_job_ids()) == 1  # the chain survives


def test_redelivery_sweep_redelivers_server_failures_once(conn, queue, calls, settings, monkeypatch):
    from dataclasses import replace

    from service.records import Delivery

    monkeypatch.setattr(context, "settings", lambda: replace(settings, redelivery_sweep=True))
    monkeypatch.setattr(github, "app_installations", lambda s, **kw: [], raising=False)
    failed = [Delivery(1, "G-503", "issues", 503), Delivery(2, "G-timeout", "pull_request", 0),
              Delivery(3, "G-401", "issues", 401)]
    monkeypatch.setattr(github, "list_failed_deliveries", lambda s, **kw: failed, raising=False)
    sent: list[int] = []
    monkeypatch.setattr(github, "redeliver", lambda s, delivery_id, **kw: sent.append(delivery_id), raising=False)
    for _ in range(2):
        queueing.arm_periodic(queue, 300)
        fast_forward(queue)
        work(queue)
        conn.delete(queueing.PERIODIC_KEY)
    assert sent == [1, 2]


def test_a_redelivery_that_hit_the_outage_is_asked_for_again_up_to_the_cap(conn, queue, calls, settings,
                                                                           monkeypatch):
    """GitHub lists every attempt, newest first: a redelivery sent while the web process was still
    down fails too and must not end the story for that GUID; a GUID that keeps failing is left
    after ``MAX_REDELIVERIES`` requests."""
    from dataclasses import replace

    from service.records import Delivery

    monkeypatch.setattr(context, "settings", lambda: replace(settings, redelivery_sweep=True))
    monkeypatch.setattr(github, "app_installations", lambda s, **kw: [], raising=False)
    attempts = [Delivery(1, "G-down", "issues", 503)]
    monkeypatch.setattr(github, "list_failed_deliveries", lambda s, **kw: list(reversed(attempts)), raising=False)
    sent: list[int] = []

    def redeliver(s, delivery_id, **kw):
        sent.append(delivery_id)
        attempts.append(Delivery(delivery_id * 10, "G-down", "issues", 0, redelivery=True))  # failed again

    monkeypatch.setattr(github, "redeliver", redeliver, raising=False)
    for _ in range(6):
        queueing.arm_periodic(queue, 300)
        fast_forward(queue)
        work(queue)
        conn.delete(queueing.PERIODIC_KEY)
    assert sent == [1, 10, 100]
    assert len(sent) == jobs.MAX_REDELIVERIES


def test_the_repository_lock_is_renewed_while_the_job_runs_and_lapses_after(client, conn, queue, calls, monkeypatch):
    """A worker that dies mid-job takes the job with it: its lock must not outlive it by more
    than ``LOCK_TTL``, yet a long job (a paced dispatch) must keep it."""
    monkeypatch.setattr(jobs, "LOCK_TTL", 0.3)
    key = queueing.lock_key(work_key("repo", 1, "o/r"))
    seen = []

    def long_job(*args, **kwargs):
        for _ in range(4):
            time.sleep(0.25)
            seen.append(conn.exists(key))
        return "ok"

    calls.behaviour["reconcile_plan"] = long_job
    deliver(client, "issues", LABELED, "G-long")
    work(queue)
    assert seen == [1, 1, 1, 1]  # held for 1 s with a 0.3 s lifetime: renewed
    assert not conn.exists(key)  # released at the end
    lock = conn.lock(queueing.lock_key(work_key("repo", 1, "o/r")), timeout=jobs.LOCK_TTL, blocking=False)
    assert lock.acquire(blocking=False)  # a holder that is not renewed ...
    time.sleep(0.45)
    assert not conn.exists(key)  # ... loses it after LOCK_TTL


# ------------------------------------------------------------------ one owner for work keys

_ROUTED = [
    ("issues", {"action": "labeled", "issue": {"number": 42, "labels": [{"name": "dispatch"}]}}),
    ("pull_request", {"action": "synchronize", "number": 21, "pull_request": {"number": 21, "head": {"sha": "S2"}}}),
    ("pull_request", {"action": "closed", "number": 21, "pull_request": {"number": 21}}),
    ("check_run", {"action": "rerequested", "check_run": {"name": "wavegate/territory", "head_sha": "S3",
                                                          "pull_requests": [{"number": 21}]}}),
    ("check_suite", {"action": "rerequested", "check_suite": {"head_sha": "S4", "pull_requests": []}}),
    ("merge_group", {"action": "checks_requested",
                     "merge_group": {"head_sha": "M1", "base_sha": "B1", "head_ref": "refs/heads/gh-readonly-queue/main/pr-21-ab"}}),
]


@pytest.mark.parametrize(("event", "body"), _ROUTED, ids=[f"{e}.{b['action']}" for e, b in _ROUTED])
def test_the_key_a_route_coalesces_on_is_the_key_its_job_releases(conn, calls, settings, monkeypatch, event, body):
    from service.routes import Route, route

    payload = {**body, "installation": {"id": 1}, "repository": {"full_name": "o/r"}, "sender": {"login": "maintainer-1"}}
    decision = route(event, payload, settings)
    assert isinstance(decision, Route) and decision.coalesce
    released: list[str] = []
    monkeypatch.setattr(queueing, "clear_pending", lambda connection, work: released.append(work))
    monkeypatch.setattr(context, "redis_connection", lambda: conn)
    getattr(jobs, decision.job.rsplit(".", 1)[-1])(**decision.kwargs)
    assert released == [decision.coalesce]


def test_a_rate_limited_app_listing_pauses_the_app_for_every_process(conn, queue, calls, monkeypatch):
    """``GET /app/installations`` (the App's JWT) answered with a secondary-limit 403 without
    ``Retry-After`` pauses the App's own requests 60 s in Redis: the next periodic run sends
    nothing before the pause ends."""
    from github import GithubException

    from service.gh.pacing import RedisPacer

    sent = []

    def listing(settings, **kw):
        sent.append(1)
        raise GithubException(403, {"message": "You have exceeded a secondary rate limit."}, {})

    monkeypatch.setattr(github, "app_installations", listing, raising=False)
    for _ in range(2):
        queueing.arm_periodic(queue, 300)
        conn.delete(queueing.PERIODIC_KEY)
        fast_forward(queue)
        work(queue)
    assert sent == [1]
    assert 55 <= RedisPacer(conn).paused_for(jobs.APP_PAUSE_KEY) <= 61
