"""Launching agents (DESIGN §3.8): per-agent settings, decisions, launch records, run states,
request shapes, and their texts pinned by ``tests/golden/launch-*.md`` (``UPDATE_GOLDEN=1``
rewrites them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.core import gates, report_launch, yamlnodes
from service.core.launch import (
    COPILOT_ASSIGNEE,
    NO_LAUNCH,
    AgentFacts,
    LaunchDecision,
    LaunchRecord,
    LaunchSettings,
    LaunchState,
    RunState,
    Via,
    Why,
    WorkflowRun,
    confirm,
    copilot_assignment,
    decide_launches,
    dispatch_request,
    dispatched_run_id,
    effective,
    failed_runs_reported,
    first_claim,
    intent,
    latest,
    launch_marker,
    launch_problems,
    launch_state,
    match_run,
    missing_permissions,
    needed_permissions,
    parse_agent_launch,
    parse_launch_markers,
    relaunch_decision,
    run_failed_marker,
)
from service.core.model import Agent, AgentPR, GateDecision, GateState, Plan, PrState
from tests.goldens import GOLDEN, assert_golden

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WORKFLOW = LaunchSettings(Via.WORKFLOW, workflow="wavegate-agent.yml")

# api and web run in wave 1; docs waits for both (wave 2); tests waits for docs (wave 3).
PLAN = Plan(agents=(
    Agent("api", ("api/",)),
    Agent("web", ("web/",)),
    Agent("docs", ("docs/",), wave=2),
    Agent("tests", ("tests/",), wave=3),
))


def pr(name: str, number: int | None = None, state: PrState = PrState.OPEN) -> AgentPR:
    return AgentPR(agent=name, number=number, state=state if number else PrState.MISSING)


def facts(**states) -> dict[str, AgentFacts]:
    """``api="open+checks+updated"`` → AgentFacts; absent agents have no PR."""
    numbers = {"api": 11, "web": 12, "docs": 13, "tests": 14}
    out = {}
    for name, words in states.items():
        parts = words.split("+")
        out[name] = AgentFacts(pr(name, numbers[name], PrState(parts[0])), checks="checks" in parts,
                               branch_updated="updated" in parts)
    return out


def decide(prs: dict[str, AgentFacts], records=(), *, repo=WORKFLOW, overrides=None, skipped=frozenset(),
           cancelled=False, update_branches=True, copilot_token=False) -> dict[str, LaunchDecision]:
    g = gates.evaluate(PLAN, {n: f.pr for n, f in prs.items()}, skipped=skipped, cancelled=cancelled)
    got = decide_launches(PLAN, g, prs, list(records), repo=repo, overrides=overrides,
                          update_branches=update_branches, copilot_token=copilot_token)
    assert [d.agent for d in got] == list(PLAN.names)
    return {d.agent: d for d in got}


def record(agent="api", attempt=1, **kw) -> LaunchRecord:
    kw.setdefault("via", Via.WORKFLOW)
    kw.setdefault("plan_hash", "0123456789ab")
    return LaunchRecord(agent=agent, attempt=attempt, at=T0, **kw)


# --------------------------------------------------------------------------- per-agent settings


def node(text: str):
    return yamlnodes.compose(text).value[0][1]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("launch: none", NO_LAUNCH),
        ("launch: workflow", LaunchSettings(Via.WORKFLOW)),
        ("launch: {via: workflow, workflow: codex-agent.yml}", LaunchSettings(Via.WORKFLOW, workflow="codex-agent.yml")),
        ("launch: {via: comment, comment: '@claude'}", LaunchSettings(Via.COMMENT, comment="@claude")),
        ("launch:\n  via: copilot\n", LaunchSettings(Via.COPILOT)),
    ],
)
def test_agent_launch_from_the_yaml_plan(text, expected):
    assert parse_agent_launch(node(text), 7, agent="api") == expected


@pytest.mark.parametrize("text, expected", [("none", NO_LAUNCH), (" comment ", LaunchSettings(Via.COMMENT))])
def test_agent_launch_from_the_prose_plan(text, expected):
    assert parse_agent_launch(text, 3) == expected


@pytest.mark.parametrize(
    "value, code, field, words",
    [
        ("launch: {via: workflw}", "invalid-setting", "launch.via", "did you mean `workflow`?"),
        ("launch: {via: workflow, workflow: a/b.yml}", "invalid-setting", "launch.workflow", "neither"),
        ("launch: {workflow: a.yml}", "invalid-setting", "launch", "needs `via`"),
        ("launch: {via: none, prompt: x}", "unknown-key", "launch.prompt", "unknown key `prompt`"),
        ("launch: yes", "wrong-type", "launch", "not true/false"),
    ],
)
def test_agent_launch_problems_name_the_agent_and_line(value, code, field, words):
    problems = parse_agent_launch(node(value), 12, agent="api")
    assert [(p.code, p.field, p.agent, p.line) for p in problems] == [(code, field, "api", 12)]
    assert words in problems[0].message


def test_agent_launch_problem_lines_follow_the_plan_reader():
    got = parse_agent_launch(node("launch:\n  via: workflow\n  workflow: x\n"), 20, line_of=lambda n: 100 + n.start_mark.line)
    assert [p.line for p in got] == [102]
    assert parse_agent_launch(None, 4)[0].line == 4  # `launch:` with nothing after it


@pytest.mark.parametrize(
    "repo, agent, expected",
    [
        (None, None, NO_LAUNCH),
        (WORKFLOW, None, WORKFLOW),
        (WORKFLOW, NO_LAUNCH, LaunchSettings(Via.NONE, workflow="wavegate-agent.yml")),
        (WORKFLOW, LaunchSettings(Via.WORKFLOW, workflow="codex.yml"), LaunchSettings(Via.WORKFLOW, workflow="codex.yml")),
        (LaunchSettings(Via.COPILOT, comment="@claude"), LaunchSettings(Via.COMMENT),
         LaunchSettings(Via.COMMENT, comment="@claude")),
        (None, LaunchSettings(Via.COPILOT), LaunchSettings(Via.COPILOT)),
    ],
)
def test_an_agent_override_is_laid_over_the_repository(repo, agent, expected):
    assert effective(repo, agent) == expected


def test_an_override_missing_its_key_everywhere_is_a_problem():
    plan = Plan(agents=(Agent("api", ("api/",), line=5), Agent("web", ("web/",), line=9)))
    overrides = {"api": LaunchSettings(Via.COMMENT), "web": LaunchSettings(Via.WORKFLOW)}
    problems = launch_problems(plan, WORKFLOW, overrides)
    assert [(p.agent, p.field, p.line) for p in problems] == [("api", "launch", 5)]
    assert "names no `comment`" in problems[0].message
    assert launch_problems(plan, LaunchSettings(Via.NONE, comment="@x", workflow="a.yml"), overrides) == []
    assert [p.agent for p in launch_problems(plan, None, overrides)] == ["api", "web"]


# --------------------------------------------------------------------------- decisions


ALL_WAVE_1_READY = dict(api="open+checks", web="open+checks", docs="open+checks", tests="open+checks")


@pytest.mark.parametrize(
    "prs, kwargs, expected",
    [
        # Wave 1 starts as soon as its PR and both check runs exist; later waves wait.
        (ALL_WAVE_1_READY, {}, dict(api=Why.START, web=Why.START, docs=Why.WAITING, tests=Why.WAITING)),
        (dict(api="open", web="open+checks"), {}, dict(api=Why.NO_CHECKS, web=Why.START, docs=Why.NO_PR, tests=Why.NO_PR)),
        # Wave 1 merged: docs is unlocked, but starts only once its branch has the merged work.
        (dict(api="merged", web="merged", docs="open+checks", tests="open+checks"), {},
         dict(api=Why.MERGED, web=Why.MERGED, docs=Why.NOT_UPDATED, tests=Why.WAITING)),
        (dict(api="merged", web="merged", docs="open+checks+updated", tests="open+checks"), {},
         dict(api=Why.MERGED, web=Why.MERGED, docs=Why.START, tests=Why.WAITING)),
        (dict(api="merged", web="merged", docs="open+checks", tests="open+checks"), {"update_branches": False},
         dict(api=Why.MERGED, web=Why.MERGED, docs=Why.START, tests=Why.WAITING)),
        # A skipped dependency counts as done; a closed one blocks.
        (dict(api="merged", docs="open+checks+updated", tests="open+checks"), {"skipped": frozenset({"web"})},
         dict(api=Why.MERGED, web=Why.SKIPPED, docs=Why.START, tests=Why.WAITING)),
        (dict(api="merged", web="closed", docs="open+checks+updated", tests="open+checks"), {},
         dict(api=Why.MERGED, web=Why.CLOSED, docs=Why.BLOCKED, tests=Why.BLOCKED)),
        # A cancelled plan starts nothing; neither do settings that cannot.
        (ALL_WAVE_1_READY, {"cancelled": True}, dict(api=Why.CANCELLED, web=Why.CANCELLED, docs=Why.CANCELLED,
                                                      tests=Why.CANCELLED)),
        (ALL_WAVE_1_READY, {"repo": None}, dict(api=Why.NOT_CONFIGURED, web=Why.NOT_CONFIGURED,
                                                docs=Why.NOT_CONFIGURED, tests=Why.NOT_CONFIGURED)),
        (ALL_WAVE_1_READY, {"repo": LaunchSettings(Via.COPILOT)},
         dict(api=Why.NO_TOKEN, web=Why.NO_TOKEN, docs=Why.NO_TOKEN, tests=Why.NO_TOKEN)),
        (ALL_WAVE_1_READY, {"repo": LaunchSettings(Via.COPILOT), "copilot_token": True},
         dict(api=Why.START, web=Why.START, docs=Why.WAITING, tests=Why.WAITING)),
        # Different agents of one plan on different vendors, or none.
        (ALL_WAVE_1_READY, {"overrides": {"web": NO_LAUNCH, "api": LaunchSettings(Via.COMMENT)}},
         dict(api=Why.INCOMPLETE, web=Why.NOT_CONFIGURED, docs=Why.WAITING, tests=Why.WAITING)),
    ],
)
def test_who_starts_now(prs, kwargs, expected):
    got = decide(facts(**prs), **kwargs)
    assert {n: d.why for n, d in got.items()} == expected
    assert all(d.start == (d.why is Why.START) for d in got.values())


def test_waiting_names_the_earliest_open_wave():
    got = decide(facts(**ALL_WAVE_1_READY))
    assert (got["docs"].wave, got["tests"].wave) == (1, 1)
    got = decide(facts(api="merged", web="open+checks", docs="open+checks", tests="open+checks"))
    assert (got["docs"].wave, got["tests"].wave) == (1, 1)
    got = decide(facts(api="merged", web="merged", docs="open+checks", tests="open+checks"))
    assert got["tests"].wave == 2


def test_blocked_names_the_closed_dependency():
    got = decide(facts(api="merged", web="closed", docs="open+checks+updated"))
    assert got["docs"].blocked_by == "web"


def test_a_record_means_never_again_whatever_the_plan_hash():
    earlier = record("api", run_id=123, done=True)
    intent_only = record("web")  # killed after the intent: still never started twice
    got = decide(facts(**ALL_WAVE_1_READY), [earlier, intent_only, record("api", plan_hash="ffffffffffff")])
    assert (got["api"].why, got["api"].record, got["web"].why) == (Why.LAUNCHED, earlier, Why.LAUNCHED)
    # even when the plan was cancelled later: it says what happened
    assert decide(facts(**ALL_WAVE_1_READY), [earlier], cancelled=True)["api"].why is Why.LAUNCHED


def test_settings_are_reported_before_the_wave():
    got = decide(facts(api="open"), repo=LaunchSettings(Via.COPILOT))
    assert got["docs"].why is Why.NO_TOKEN  # the operator can fix it before wave 2 opens


def test_decisions_are_the_same_for_any_delivery_order():
    prs = facts(api="merged", web="merged", docs="open+checks+updated", tests="open+checks")
    records = [record("api", run_id=1, done=True), record("web", run_id=2, done=True)]
    assert decide(prs, records) == decide(prs, list(reversed(records)))


# --------------------------------------------------------------------------- relaunch


OPEN_API = AgentFacts(pr("api", 11), checks=True)
UNLOCKED = GateDecision("api", 1, GateState.UNLOCKED)


@pytest.mark.parametrize(
    "records, command, gate, settings, why, attempt",
    [
        ([], 900, UNLOCKED, WORKFLOW, Why.RELAUNCH, 1),
        ([record(done=True, run_id=5)], 900, UNLOCKED, WORKFLOW, Why.RELAUNCH, 2),
        ([record(done=True), record(attempt=2, command=900)], 900, UNLOCKED, WORKFLOW, Why.LAUNCHED, 2),
        ([record(done=True), record(attempt=2, command=900)], 901, UNLOCKED, WORKFLOW, Why.RELAUNCH, 3),
        ([record(done=True)], 900, GateDecision("api", 1, GateState.WAITING), WORKFLOW, Why.RELAUNCH, 2),
        ([record(done=True)], 900, GateDecision("api", 1, GateState.CANCELLED), WORKFLOW, Why.CANCELLED, 2),
        ([record(done=True)], 900, UNLOCKED, NO_LAUNCH, Why.NOT_CONFIGURED, 2),
        ([record(done=True)], 900, UNLOCKED, LaunchSettings(Via.COPILOT), Why.NO_TOKEN, 2),
    ],
)
def test_relaunch_starts_one_more_attempt_once_per_command(records, command, gate, settings, why, attempt):
    got = relaunch_decision("api", command, records, settings=settings, gate=gate, facts=OPEN_API)
    assert (got.why, got.attempt) == (why, attempt)


@pytest.mark.parametrize("state, why", [(PrState.MERGED, Why.MERGED), (PrState.CLOSED, Why.CLOSED)])
def test_relaunch_needs_an_open_pr(state, why):
    got = relaunch_decision("api", 1, [], settings=WORKFLOW, gate=UNLOCKED, facts=AgentFacts(pr("api", 11, state)))
    assert got.why is why
    assert relaunch_decision("api", 1, [], settings=WORKFLOW, gate=None, facts=None).why is Why.NO_PR


# --------------------------------------------------------------------------- records


def test_intent_then_confirm_round_trips_through_the_marker():
    decision = decide(facts(**ALL_WAVE_1_READY))["api"]
    first = intent(decision, "0123456789ab", T0)
    assert (first.done, first.run_id, first.via, first.attempt) == (False, None, Via.WORKFLOW, 1)
    done = confirm(first, 4242)
    body = "🚀 Started\n\n" + launch_marker(done)
    assert parse_launch_markers(body, comment=77) == (LaunchRecord(
        agent="api", plan_hash="0123456789ab", via=Via.WORKFLOW, attempt=1, done=True, run_id=4242, at=T0, comment=77),)
    assert parse_launch_markers(launch_marker(first)) == (first,)
    assert confirm(done).run_id == 4242  # a 204 answer keeps what was known


def test_marker_values_cannot_close_the_comment():
    evil = record("x-->y<!--", plan_hash="<b>--</b>", command=3)
    text = launch_marker(evil)
    assert text.count("-->") == 1 and text.count("<!--") == 1
    assert parse_launch_markers(text) == (evil,)


@pytest.mark.parametrize(
    "body",
    [
        None, "", "<!-- wavegate:launch -->", "<!-- wavegate:launch {not json} -->",
        '<!-- wavegate:launch {"agent":"api","plan":"x","via":"fax","attempt":1} -->',
        '<!-- wavegate:launch {"agent":"","plan":"x","via":"workflow"} -->',
        '<!-- wavegate:launch {"agent":"api","plan":"x","via":"workflow","run":"12"} -->',
        '<!-- wavegate:launch {"agent":"api","plan":"x","via":"workflow","attempt":0} -->',
        '<!-- wavegate:launch {"agent":"api","plan":"x","via":"workflow","run":true} -->',
        '<!-- wavegate:launch {"agent":"api","plan":"x","via":"workflow","at":"yesterday"} -->',
        '<!-- wavegate:launch ["api"] -->',
        '<!-- wavegate-state {"agent":"api","plan":"x","via":"workflow"} -->',
    ],
)
def test_malformed_markers_are_left_out(body):
    assert parse_launch_markers(body) == ()


def test_a_comment_launch_is_done_when_it_exists():
    (got,) = parse_launch_markers('<!-- wavegate:launch {"agent":"api","plan":"x","via":"comment"} -->', comment=5)
    assert (got.done, got.comment, got.attempt) == (True, 5, 1)


def test_the_first_comment_owns_an_attempt():
    records = [record("api", comment=31), record("api", comment=30), record("api", 2, comment=29),
               record("web", comment=5), record("api")]
    assert first_claim(records, "api", 1).comment == 30
    assert first_claim(records, "api", 2).comment == 29
    assert first_claim(records, "docs", 1) is None


def test_latest_is_the_highest_attempt():
    records = [record("api", 2), record("web", 5), record("api", 1), record("api", 2, run_id=9)]
    assert latest(records, "api") == records[0]
    assert latest(records, "docs") is None


# --------------------------------------------------------------------------- runs


def run(status="completed", conclusion="success", minutes=12, **kw) -> WorkflowRun:
    kw.setdefault("id", 4242)
    kw.setdefault("head_branch", "main")  # a dispatched run runs on the default branch
    kw.setdefault("display_title", "wavegate api on wavegate/7/api (PR #20)")
    return WorkflowRun(status=status, conclusion=conclusion if status == "completed" else None,
                       created_at=T0 + timedelta(seconds=20), run_started_at=T0 + timedelta(seconds=30),
                       updated_at=T0 + timedelta(seconds=30, minutes=minutes),
                       html_url=f"https://github.com/o/r/actions/runs/{kw['id']}", **kw)


LAUNCHED = LaunchDecision("api", Why.LAUNCHED, WORKFLOW, record=record(done=True, run_id=4242))


@pytest.mark.parametrize(
    "decision, the_run, minutes_later, state",
    [
        (LAUNCHED, run("queued"), 1, RunState.STARTED),
        (LAUNCHED, run("requested"), 1, RunState.STARTED),
        (LAUNCHED, run("in_progress"), 30, RunState.RUNNING),
        (LAUNCHED, run(), 30, RunState.FINISHED),
        (LAUNCHED, run(conclusion="skipped"), 30, RunState.FINISHED),
        (LAUNCHED, run(conclusion="failure"), 30, RunState.FAILED),
        (LAUNCHED, run(conclusion="cancelled"), 30, RunState.FAILED),
        (LAUNCHED, run(conclusion="timed_out"), 30, RunState.FAILED),
        (LAUNCHED, None, 9, RunState.STARTED),
        (LAUNCHED, None, 10, RunState.NO_RUN),
        (LaunchDecision("api", Why.LAUNCHED, LaunchSettings(Via.COPILOT), record=record(via=Via.COPILOT)), None, 60,
         RunState.STARTED),
        (LaunchDecision("api", Why.WAITING, WORKFLOW, wave=1), None, 0, RunState.WAITING),
        (LaunchDecision("api", Why.START, WORKFLOW), None, 0, RunState.STARTED),
        (LaunchDecision("api", Why.NO_TOKEN, LaunchSettings(Via.COPILOT)), None, 0, RunState.NOT_STARTED),
    ],
)
def test_launch_state(decision, the_run, minutes_later, state):
    got = launch_state(decision, the_run, T0 + timedelta(minutes=minutes_later))
    assert got.state is state
    assert (got.waited is not None) == (state is RunState.NO_RUN)


def test_run_duration_is_start_to_end_once_completed():
    assert run(minutes=12).seconds == 720
    assert run("in_progress").seconds is None


def test_match_run_by_id_else_by_branch_after_the_intent():
    by_id = record(done=True, run_id=7)
    runs = [run(id=6), run(id=7), run(id=8)]
    assert match_run(by_id, runs, "wavegate/7/api").id == 7
    assert match_run(by_id, [run(id=6)], "wavegate/7/api") is None
    no_id = record(done=True)
    earlier = WorkflowRun(id=1, status="completed", head_branch="main", created_at=T0 - timedelta(hours=1),
                          display_title="wavegate api on wavegate/7/api (PR #20)")
    other_branch = run(id=2, display_title="wavegate web on wavegate/7/web (PR #21)")
    prefix_of_other = run(id=6, display_title="wavegate api2 on wavegate/7/api2 (PR #22)")
    on_the_branch = run(id=7, head_branch="wavegate/7/api", display_title="CI")  # a run of the branch, not the agent's
    pushed = run(id=3, event="push")
    assert match_run(no_id, [earlier, other_branch, pushed, run(id=5), run(id=4)], "wavegate/7/api").id == 4
    assert match_run(no_id, [earlier, other_branch, prefix_of_other, on_the_branch, pushed],
                     "wavegate/7/api") is None


def test_failed_run_comments_are_found_once():
    bodies = [report_launch.failed_run_comment("api", run(conclusion="failure")), None, "plain",
              run_failed_marker(99)]
    assert failed_runs_reported(bodies) == frozenset({4242, 99})


# --------------------------------------------------------------------------- request shapes


def test_dispatch_request_carries_ids_only():
    body = dispatch_request(default_branch="main", issue=7, agent="api", pr=11, branch="wavegate/7/api",
                            plan_hash="0123456789ab")
    assert body == {"ref": "main", "return_run_details": True, "inputs": {
        "issue": "7", "agent": "api", "pr": "11", "branch": "wavegate/7/api", "plan_hash": "0123456789ab"}}
    with pytest.raises(ValueError):
        dispatch_request(default_branch="main", issue=7, agent="api", pr=11, branch="b" * 70_000, plan_hash="x")


@pytest.mark.parametrize(
    "answer, run_id",
    [
        ({"workflow_run_id": 22, "run_url": "https://api.github.com/repos/o/r/actions/runs/22",
          "html_url": "https://github.com/o/r/actions/runs/22"}, 22),
        (None, None), ({}, None), ({"workflow_run_id": "22"}, None), ({"workflow_run_id": True}, None),
        ({"workflow_run_id": 0}, None),
    ],
)
def test_dispatched_run_id(answer, run_id):
    assert dispatched_run_id(answer) == run_id


def test_copilot_assignment_body():
    assert copilot_assignment(repository="o/r", branch="wavegate/7/api", prompt="Fix it") == {
        "assignees": [COPILOT_ASSIGNEE],
        "agent_assignment": {"target_repo": "o/r", "base_branch": "wavegate/7/api", "custom_instructions": "Fix it"},
    }


def test_launch_comment_keeps_its_marker_under_the_size_limit():
    rec = record(via=Via.COMMENT)
    body = report_launch.launch_comment("@claude", "x" * 80_000, rec)
    assert body.startswith("@claude\n\n") and len(body.encode()) <= 60_000
    assert parse_launch_markers(body) == (LaunchRecord(**{**rec.__dict__, "done": True}),)


# --------------------------------------------------------------------------- golden files


def _states() -> list[LaunchState]:
    now = T0 + timedelta(minutes=40)
    copilot = LaunchSettings(Via.COPILOT)
    rows = [
        (LaunchDecision("api", Why.LAUNCHED, WORKFLOW, record=record(done=True, run_id=4242)), run(), now),
        (LaunchDecision("web", Why.LAUNCHED, WORKFLOW, attempt=2, record=record("web", 2, done=True, run_id=4243)),
         run(conclusion="timed_out", id=4243, minutes=35), now),
        (LaunchDecision("cli", Why.LAUNCHED, WORKFLOW, record=record("cli", done=True)), run("in_progress", id=4250), now),
        (LaunchDecision("ops", Why.LAUNCHED, WORKFLOW, record=record("ops")), None, now),
        (LaunchDecision("ui", Why.LAUNCHED, LaunchSettings(Via.COMMENT, comment="@claude"),
                        record=record("ui", via=Via.COMMENT, done=True, comment=880)), None, now),
        (LaunchDecision("docs", Why.WAITING, WORKFLOW, wave=1), None, now),
        (LaunchDecision("tests", Why.NOT_UPDATED, WORKFLOW), None, now),
        (LaunchDecision("infra", Why.NO_TOKEN, copilot), None, now),
        (LaunchDecision("db", Why.INCOMPLETE, LaunchSettings(Via.WORKFLOW), missing="workflow"), None, now),
        (LaunchDecision("bench", Why.NOT_CONFIGURED, NO_LAUNCH), None, now),
        (LaunchDecision("auth", Why.BLOCKED, WORKFLOW, blocked_by="web"), None, now),
    ]
    return [launch_state(d, r, at) for d, r, at in rows]


def _dashboard() -> str:
    states = _states()
    notices = [report_launch.no_run_notice(s) for s in states if s.state is RunState.NO_RUN]
    notices += [report_launch.failed_run_notice(s) for s in states if s.state is RunState.FAILED]
    cells = "\n".join(f"| {s.agent} | {report_launch.launch_table_cell(s)} |" for s in states)
    return (report_launch.launch_lines(states) + "\n----- notices\n" + "\n".join(notices)
            + "\n----- table cells\n" + cells + "\n----- reasons\n"
            + "\n".join(report_launch.reason(d) for d in _reasons()) + "\n")


def _reasons() -> list[LaunchDecision]:
    return [LaunchDecision("api", why, WORKFLOW, attempt=2, wave=2, blocked_by="web", missing="comment",
                           record=record(run_id=12, done=True) if why is Why.LAUNCHED else None) for why in Why] + [
        LaunchDecision("api", Why.LAUNCHED, record=record(via=Via.COMMENT, comment=31, done=True)),
        LaunchDecision("api", Why.LAUNCHED, record=record()),
        LaunchDecision("api", Why.LAUNCHED, record=record(via=Via.COPILOT, done=True))]


def _comments() -> str:
    copilot = LaunchSettings(Via.COPILOT)
    rec = record(done=False)
    parts = [
        report_launch.launch_comment("@claude", "## Agent `api`\n\nWork only in `api/`.", record(via=Via.COMMENT)),
        report_launch.record_comment(rec, WORKFLOW),
        report_launch.record_comment(confirm(rec, 4242), WORKFLOW, run("queued")),
        report_launch.record_comment(confirm(record(attempt=2, command=900)), WORKFLOW),
        report_launch.record_comment(confirm(record(via=Via.COPILOT)), copilot),
        report_launch.failed_run_comment("api", run(conclusion="failure", minutes=95)),
        report_launch.failed_run_comment("web", WorkflowRun(id=5, status="completed", conclusion="startup_failure")),
    ]
    return "\n\n----- next\n\n".join(parts) + "\n"


LAUNCH_GOLDEN = {"launch-dashboard": _dashboard, "launch-comments": _comments}


@pytest.mark.parametrize("name", sorted(LAUNCH_GOLDEN))
def test_golden(name):
    assert_golden(name, LAUNCH_GOLDEN[name]())


def test_launch_lines_are_empty_when_launching_is_off():
    off = launch_state(LaunchDecision("api", Why.NOT_CONFIGURED), None, T0)
    assert report_launch.launch_lines([off]) == "" and report_launch.launch_lines([]) == ""


def test_every_launch_golden_file_has_a_case():
    assert {p.stem for p in GOLDEN.glob("launch-*.md")} == set(LAUNCH_GOLDEN) | {"launch-dividend"}


@pytest.mark.parametrize(
    "settings, granted, events, missing",
    [
        ([WORKFLOW], {"actions": "write"}, ["workflow_run"], ()),
        ([WORKFLOW], {"actions": "admin"}, ["workflow_run", "push"], ()),
        ([WORKFLOW], {"actions": "read"}, [], ("actions: write", "event workflow_run")),
        ([NO_LAUNCH, LaunchSettings(Via.COMMENT, comment="@x"), WORKFLOW], {}, ["workflow_run"], ("actions: write",)),
        ([NO_LAUNCH, LaunchSettings(Via.COPILOT)], {}, [], ()),
    ],
)
def test_missing_permissions(settings, granted, events, missing):
    got = missing_permissions(needed_permissions(settings), granted, events)
    assert got == missing
    warning = report_launch.permissions_warning(got)
    assert (warning is None) == (not missing)
    assert all(m in (warning or "") for m in missing)
