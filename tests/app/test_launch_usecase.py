"""Starting agents against the fake GitHub port: each agent starts exactly once when its wave
opens, whatever the deliveries; a skipped or cancelled plan starts nothing; relaunch; a failed
run is commented on once; a GitHub without run details."""

from datetime import timedelta

import pytest

from service.core.launch import parse_launch_markers
from service.errors import TransientGitHubError
from service.usecases import check_pull, handle_command, pull_closed, reconcile_plan
from service.usecases import launch as launching
from service.usecases import plan as dispatch

from .fakes import REPO, cf, dispatched, plan_body

PLAN = """
agents:
  - {name: api,    territory: [/services/api/]}
  - {name: worker, territory: [/services/worker/]}
  - {name: web,    wave: 2, territory: [/apps/web/]}
"""
FILES = ["services/api/a.py", "services/worker/w.py", "apps/web/b.tsx"]
CONFIG = """
launch:
  via: workflow
  workflow: wavegate-agent.yml
"""


@pytest.fixture(autouse=True)
def _no_sleep(monkeypatch):
    monkeypatch.setattr(dispatch, "sleep", lambda s: None)


def _fake(config=CONFIG, plan=PLAN, run_details=True):
    from .fakes import FakeGitHub

    if not run_details:  # the dispatch happens inside ``dispatched``: set the answer first
        original = FakeGitHub.__init__

        def init(self, *a, **kw):
            original(self, *a, **kw)
            self.run_details = False
        FakeGitHub.__init__ = init
        try:
            return dispatched(plan_body(plan), files=FILES, config=config)
        finally:
            FakeGitHub.__init__ = original
    return dispatched(plan_body(plan), files=FILES, config=config)


def _started(fake):
    return [body["inputs"]["agent"] for _, body in fake.dispatches]


def _records(fake, number):
    return [r for c in fake.comments_on(number) for r in parse_launch_markers(c.body)]


def _dashboard(fake):
    return fake.comments_on(42)[0].body


def _merge_wave_1(fake):
    fake.push(20, [cf("services/api/a.py")])
    fake.push(21, [cf("services/worker/w.py")])
    for n in (20, 21):
        fake.merge(n)
        pull_closed(fake, REPO, n)


def test_dispatch_starts_each_wave_1_agent_once_with_ids_only():
    fake = _fake()
    assert _started(fake) == ["api", "worker"]
    workflow, body = fake.dispatches[0]
    assert workflow == "wavegate-agent.yml"
    assert body["ref"] == "main" and body["return_run_details"] is True
    assert body["inputs"] == {"issue": "42", "agent": "api", "pr": "20", "branch": "wavegate/42/api",
                              "plan_hash": body["inputs"]["plan_hash"]}
    (record,) = _records(fake, 20)
    assert record.done and record.run_id == 70001 and record.attempt == 1
    assert _records(fake, 22) == []
    board = _dashboard(fake)
    assert "### Launches" in board and "`web` via workflow `wavegate-agent.yml`: ⏳" in board
    assert "[run 70001](https://github.com/o/r/actions/runs/70001)" in board


def test_duplicate_and_reordered_deliveries_start_nothing_more():
    fake = _fake()
    for n in (21, 20, 21):
        check_pull(fake, REPO, n)
    reconcile_plan(fake, REPO, 42)
    reconcile_plan(fake, REPO, 42, sender="maintainer-1")
    assert _started(fake) == ["api", "worker"]
    assert [len(_records(fake, n)) for n in (20, 21, 22)] == [1, 1, 0]


def test_wave_2_starts_once_after_the_last_merge_and_the_branch_update():
    fake = _fake()
    fake.push(20, [cf("services/api/a.py")])
    fake.merge(20)
    pull_closed(fake, REPO, 20)
    assert _started(fake) == ["api", "worker"]  # worker still open: web waits
    fake.push(21, [cf("services/worker/w.py")])
    fake.merge(21)
    pull_closed(fake, REPO, 21)
    assert fake.count("write", "update_branch") == 1
    assert _started(fake) == ["api", "worker", "web"]
    pull_closed(fake, REPO, 21)
    check_pull(fake, REPO, 22)
    reconcile_plan(fake, REPO, 42)
    assert _started(fake) == ["api", "worker", "web"]
    assert len(_records(fake, 22)) == 1


def test_a_branch_not_updated_holds_the_later_agent():
    fake = _fake()
    fake.fail("update_branch", TransientGitHubError("502"), times=5)
    fake.push(20, [cf("services/api/a.py")])
    fake.push(21, [cf("services/worker/w.py")])
    fake.merge(20)
    pull_closed(fake, REPO, 20)
    fake.merge(21)
    with pytest.raises(TransientGitHubError):
        pull_closed(fake, REPO, 21)
    assert _started(fake) == ["api", "worker"]


@pytest.mark.parametrize("command", ["/wavegate cancel", "/wavegate skip web"])
def test_cancelled_or_skipped_starts_nothing(command):
    fake = _fake()
    cid = fake.add_comment(42, command)
    handle_command(fake, REPO, 42, cid, "maintainer-1")
    _merge_wave_1(fake)
    assert _started(fake) == ["api", "worker"]


def test_cancelled_before_dispatch_starts_nothing():
    fake = _fake(config=None)  # no launching at dispatch
    cid = fake.add_comment(42, "/wavegate cancel")
    handle_command(fake, REPO, 42, cid, "maintainer-1")
    fake.config_text = CONFIG
    reconcile_plan(fake, REPO, 42)
    assert fake.dispatches == []


def test_relaunch_starts_one_more_run_once_per_command():
    fake = _fake()
    cid = fake.add_comment(42, "/wavegate relaunch api")
    handle_command(fake, REPO, 42, cid, "maintainer-1")
    handle_command(fake, REPO, 42, cid, "maintainer-1")  # the same command redelivered
    assert _started(fake) == ["api", "worker", "api"]
    assert [r.attempt for r in _records(fake, 20)] == [1, 2]
    assert _records(fake, 20)[1].command == cid
    assert "attempt 2" in _dashboard(fake)


def test_relaunch_of_an_unknown_agent_is_answered():
    fake = _fake()
    cid = fake.add_comment(42, "/wavegate relaunch nobody")
    handle_command(fake, REPO, 42, cid, "maintainer-1")
    assert len(fake.dispatches) == 2
    assert "There is no agent `nobody`" in fake.comments_on(42)[-1].body


def test_a_failed_run_is_commented_on_once_and_noticed():
    fake = _fake()
    fake.finish_run(70001, "failure", minutes=7)
    reconcile_plan(fake, REPO, 42)
    reconcile_plan(fake, REPO, 42)
    failed = [c for c in fake.comments_on(20) if "wavegate:run-failed 70001" in c.body]
    assert len(failed) == 1 and "/wavegate relaunch api" in failed[0].body
    board = _dashboard(fake)
    assert "❌ failed in 7 min (failure)" in board
    assert "The run of agent `api` ended: failure" in board


def test_a_worker_killed_mid_launch_never_dispatches_twice_and_is_reported():
    fake = _fake(config=None)
    fake.config_text = CONFIG
    fake.fail("dispatch_workflow", TransientGitHubError("connection reset"))
    with pytest.raises(TransientGitHubError):
        reconcile_plan(fake, REPO, 42)
    reconcile_plan(fake, REPO, 42)
    assert _started(fake) == ["worker"]  # api's intent stays; never called again
    (intent,) = _records(fake, 20)
    assert not intent.done
    later = launching.now() + timedelta(minutes=11)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(launching, "now", lambda: later)
        reconcile_plan(fake, REPO, 42)
    assert "no run has started" in _dashboard(fake) and "`/wavegate relaunch api`" in _dashboard(fake)


def test_without_run_details_the_run_is_found_by_its_run_name():
    fake = _fake(run_details=False)
    (record,) = _records(fake, 20)
    assert record.done and record.run_id is None
    fake.finish_run(70001, "success", minutes=5)
    reconcile_plan(fake, REPO, 42)
    assert "✅ finished in 5 min · [run 70001]" in _dashboard(fake)


def test_a_refused_dispatch_is_a_notice_not_a_retry():
    from service.errors import NotFound

    fake = _fake(config=None)
    fake.config_text = CONFIG
    fake.fail("dispatch_workflow", NotFound("404"), times=2)
    reconcile_plan(fake, REPO, 42)
    assert "`api` was not started via workflow `wavegate-agent.yml`: GitHub did not find it" in _dashboard(fake)
    reconcile_plan(fake, REPO, 42)
    assert fake.count("write", "dispatch_workflow") == 2  # api and worker refused once each, never again


def test_per_agent_override_and_no_launch():
    plan = """
agents:
  - {name: api,    territory: [/services/api/], launch: none}
  - {name: worker, territory: [/services/worker/], launch: {via: workflow, workflow: codex-agent.yml}}
  - {name: web,    wave: 2, territory: [/apps/web/]}
"""
    fake = _fake(plan=plan)
    assert [(w, b["inputs"]["agent"]) for w, b in fake.dispatches] == [("codex-agent.yml", "worker")]


def test_via_comment_the_comment_is_the_launch():
    fake = _fake(config='launch: {via: comment, comment: "@claude"}')
    (launch,) = [c for c in fake.comments_on(20) if "wavegate:launch" in c.body]
    assert launch.body.startswith("@claude\n\n")
    reconcile_plan(fake, REPO, 42)
    assert len([c for c in fake.comments_on(20) if "wavegate:launch" in c.body]) == 1


def test_via_copilot_needs_the_user_token(monkeypatch):
    monkeypatch.setattr(launching, "copilot_token", lambda: None)
    fake = _fake(config="launch: {via: copilot}")
    assert fake.assignments == []
    assert "COPILOT_USER_TOKEN" in _dashboard(fake)
    monkeypatch.setattr(launching, "copilot_token", lambda: "ghu_secret")
    reconcile_plan(fake, REPO, 42)
    assert [(n, b["agent_assignment"]["base_branch"]) for n, b in fake.assignments] == \
        [(20, "wavegate/42/api"), (21, "wavegate/42/worker")]
    assert not any("ghu_secret" in c.body for n in (20, 21, 42) for c in fake.comments_on(n))


def test_the_dividend_uses_the_agents_run_time():
    fake = _fake()
    fake.finish_run(70001, minutes=30)
    fake.finish_run(70002, minutes=20)
    _merge_wave_1(fake)
    fake.finish_run(70003, minutes=10)
    fake.push(22, [cf("apps/web/b.tsx")])
    fake.merge(22)
    pull_closed(fake, REPO, 22)
    board = _dashboard(fake)
    assert "from each run's start to its end" in board and "Critical path" in board


def test_a_workflow_run_event_refreshes_the_dashboard():
    from service.usecases import follow_run

    fake = _fake()
    fake.finish_run(70002, "cancelled", minutes=3)
    follow_run(fake, REPO, 70002, 21)
    assert "❌ failed in 3 min (cancelled)" in _dashboard(fake)
    assert len([c for c in fake.comments_on(21) if "wavegate:run-failed 70002" in c.body]) == 1
    assert follow_run(fake, REPO, 99, 21) == "run 99 or #21 not found"


def test_workflow_run_is_routed_by_the_pr_its_run_name_names():
    from service.routes import route
    from service.settings import Settings

    settings = Settings(app_id=1, private_key="k", webhook_secrets=("s",))
    payload = {"action": "completed", "installation": {"id": 5}, "repository": {"full_name": REPO},
               "sender": {"login": settings.bot_login},
               "workflow_run": {"id": 70001, "event": "workflow_dispatch",
                                "display_title": "wavegate api on wavegate/42/api (PR #20)"}}
    got = route("workflow_run", payload, settings)
    assert got.job == "workers.jobs.follow_run" and got.kwargs["number"] == 20 and got.kwargs["run_id"] == 70001
    payload["workflow_run"]["display_title"] = "CI"
    assert route("workflow_run", payload, settings).reason == "workflow run names no agent PR"
    payload["workflow_run"]["event"] = "push"
    assert route("workflow_run", payload, settings).reason == "workflow run of a push event"


def test_the_user_token_is_a_secret_of_the_settings():
    from service.settings import Settings

    s = Settings(app_id=1, private_key="k" * 8, webhook_secrets=("s" * 8,), copilot_user_token="ghu_abcdef123456")
    assert "ghu_abcdef123456" in s.secret_values and "ghu_abcdef123456" not in repr(s)


def test_a_pr_based_on_an_agent_branch_gets_that_agents_checks():
    from service.core.model import GATE_CHECK, TERRITORY_CHECK

    fake = _fake()
    inside = fake.open_pull("copilot/api-work", base="wavegate/42/api")
    fake.push(inside, [cf("services/api/a.py")])
    check_pull(fake, REPO, inside)
    head = fake.pulls[inside].head_sha
    assert fake.latest(head, TERRITORY_CHECK).conclusion == "success"
    assert fake.latest(head, GATE_CHECK).conclusion == "success"
    crossing = fake.open_pull("copilot/api-more", base="wavegate/42/api")
    fake.push(crossing, [cf("apps/web/b.tsx")])
    check_pull(fake, REPO, crossing)
    assert fake.latest(fake.pulls[crossing].head_sha, TERRITORY_CHECK).conclusion == "failure"
