"""Every user-facing text, pinned by golden files (``UPDATE_GOLDEN=1`` rewrites them), plus the
behaviour the cases in tests/fixtures/cases expect and GitHub's size limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.core import markers, report
from service.core.commands import Command
from service.core.model import (
    EXEMPT_FILE,
    GATE_CHECK,
    TERRITORY_CHECK,
    Agent,
    AgentPR,
    AgentRow,
    Amendment,
    CheckOutput,
    Conclusion,
    DashboardState,
    Dependency,
    FileSource,
    GateDecision,
    GateState,
    PathKind,
    PathVerdict,
    Plan,
    Problem,
    PrState,
    RepoConfig,
    Side,
    TerritoryVerdict,
)
from service.core.plan import check_plan, parse_plan
from service.core.report_checks import MAX_ANNOTATIONS, status_phrase
from tests.goldens import GOLDEN, assert_golden

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)

# The consolidated reference plan (DESIGN §6).
REFERENCE = Plan(
    agents=(
        Agent(
            "security",
            (
                "broker/api/auth.py",
                "broker/api/kill_switch.py",
                "broker/api/escalations.py",
                "scripts/okr_sentinel_metrics.py",
                "scripts/heartbeat-bridge.py",
            ),
            findings=(
                "P0: Auth middleware accepts any non-empty token (auth.py:46-51)",
                "P0: Kill switch resume has no authorization (kill_switch.py:95)",
            ),
            do_not_modify=("broker/safety/kill_switch.py",),
            line=4,
        ),
        Agent("architecture", ("broker/safety/",), findings=("P1: halt store is not durable",), line=14),
        Agent(
            "arch-perf",
            ("broker/main.py", "broker/safety/halt_store.py", "broker/api/directives.py", "broker/core/dispatcher.py"),
            wave=2,
            findings=("P1: dispatcher blocks the event loop",),
            line=18,
        ),
        Agent(
            "testing",
            ("tests/",),
            wave=2,
            after=("arch-perf",),
            findings=("Coverage of _make_message_handler below 90%", "store_in_akashic untested\n(needs an HTTP mock)"),
            line=25,
        ),
    )
)


def pv(path, kind, **kw):
    return PathVerdict(path=path, kind=kind, **kw)


def dep(agent, number, state=PrState.OPEN, wave=1):
    return Dependency(agent=agent, wave=wave, number=number, state=state)


# --------------------------------------------------------------------------- inputs

RENAME = TerritoryVerdict(
    Conclusion.FAILURE,
    "docs",
    (
        pv("docs/examples/signal.ts", PathKind.OWN, status="renamed", counterpart="packages/core/primitives/signal.ts",
           owner="docs", owner_pr=31, rule="/docs/"),
        pv("packages/core/primitives/signal.ts", PathKind.CROSSING, status="renamed", side=Side.OLD,
           counterpart="docs/examples/signal.ts", owner="core", owner_pr=30, rule="/packages/core/"),
        pv("docs/index.md", PathKind.OWN, owner="docs", owner_pr=31, rule="/docs/"),
    ),
)
DELETED = TerritoryVerdict(
    Conclusion.FAILURE,
    "web",
    (
        pv("services/api/migrations/0007_add_index.sql", PathKind.CROSSING, status="removed", owner="api",
           owner_pr=49, rule="/services/api/"),
        pv("db/schema.sql", PathKind.FORBIDDEN, status="removed", rule="/db/schema.sql", source="do_not_modify"),
        pv("apps/web/src/old-page.tsx", PathKind.OWN, status="removed", owner="web", owner_pr=50, rule="/apps/web/"),
    ),
)
DOT_PATHS = TerritoryVerdict(
    Conclusion.FAILURE,
    "web",
    (
        pv("services/api/.env.production", PathKind.CROSSING, owner="api", owner_pr=52, rule="/services/api/"),
        pv(".github/workflows/ci.yml", PathKind.FORBIDDEN, rule=".github/workflows/", source="protected"),
        pv(".editorconfig", PathKind.UNOWNED),
        pv("apps/web/.eslintrc.json", PathKind.OWN, owner="web", owner_pr=53, rule="/apps/web/"),
    ),
    strict=True,
)
CAPPED = TerritoryVerdict(
    Conclusion.FAILURE,
    "api",
    (
        *(pv(f"services/api/gen/model_{i:04d}.py", PathKind.OWN, status="added", owner="api", owner_pr=40,
             rule="/services/api/") for i in range(3149)),
        pv("apps/web/src/app.tsx", PathKind.CROSSING, owner="web", owner_pr=41, rule="/apps/web/"),
    ),
    source=FileSource.TREE,
    listed=3000,
    changed=3150,
)
# The trees show fewer changed paths than GitHub counts: fails closed, whatever the paths say.
UNSEEN = TerritoryVerdict(
    Conclusion.FAILURE,
    "api",
    (
        pv("services/api/gen/model_0000.py", PathKind.OWN, status="added", owner="api", owner_pr=40, rule="/services/api/"),
        pv("services/api/gen/model_0001.py", PathKind.OWN, status="added", owner="api", owner_pr=40, rule="/services/api/"),
    ),
    source=FileSource.TREE,
    listed=3000,
    changed=4,
)
TRUNCATED = TerritoryVerdict(
    Conclusion.FAILURE, "api", (), source=FileSource.TRUNCATED, listed=3000, changed=3150
)
NOTICE = TerritoryVerdict(
    Conclusion.SUCCESS,
    "docs",
    (
        pv("docs/gen.py", PathKind.OWN, status="renamed", counterpart="tools/gen.py", owner="docs", owner_pr=31, rule="/docs/"),
        pv("tools/gen.py", PathKind.UNOWNED, status="renamed", side=Side.OLD, counterpart="docs/gen.py"),
    ),
)
ALL_OWN = TerritoryVerdict(
    Conclusion.SUCCESS,
    "docs",
    (pv("docs/a.md", PathKind.OWN, rule="/docs/"), pv(EXEMPT_FILE, PathKind.EXEMPT)),
)
OTHER_PR = TerritoryVerdict(
    Conclusion.FAILURE,
    None,
    (
        pv("services/api/x.py", PathKind.CROSSING, owner="api", owner_pr=20, rule="/services/api/"),
        pv("README.md", PathKind.FREE),
    ),
)
OTHER_PR_OK = TerritoryVerdict(Conclusion.SUCCESS, None, (pv("README.md", PathKind.FREE),))

WAVES = Plan(
    agents=(
        Agent("api", ("/services/api/",)),
        Agent("worker", ("/services/worker/",)),
        Agent("web", ("/apps/web/",), wave=2),
    )
)
WAVE_PRS = {
    "api": AgentPR("api", 20, PrState.MERGED),
    "worker": AgentPR("worker", 21, PrState.MERGED),
    "web": AgentPR("web", 22, PrState.OPEN),
}
WAITING = GateDecision("web", 2, GateState.WAITING, waiting_on=(dep("api", 20), dep("worker", 21)))
WAITING_NO_PR = GateDecision("web", 2, GateState.WAITING, waiting_on=(dep("api", None, PrState.MISSING),))
BLOCKED = GateDecision("web", 2, GateState.BLOCKED, blocked_by=(dep("api", 20, PrState.CLOSED),))
UNLOCKED = GateDecision("web", 2, GateState.UNLOCKED)

def LIMITS() -> list[Problem]:  # noqa: N802 - a constant built on demand
    """The parser's own problems for plans past its limits and for a second dispatch block."""
    from service.core.plan import parse_plan

    def fenced(text: str) -> str:
        return f"```yaml dispatch\n{text}\n```\n"

    bodies = [
        fenced("agents:\n" + "".join(f"  - {{name: a{i}, territory: [d{i}/]}}\n" for i in range(101))),
        fenced("agents:\n" + "".join(f"  - {{name: a{i}, territory: [{', '.join(f'd{i}/{j}' for j in range(101))}]}}\n"
                                      for i in range(10))),
        fenced("agents:\n  - name: a\n    territory: [a/]\n    findings: [" + "x, " * 10_000 + "]"),
        fenced("agents: [{name: one, territory: [a/]}]") + "\nAnd:\n\n" + fenced("agents: [{name: two, territory: [b/]}]"),
    ]
    out = []
    for body in bodies:
        result = parse_plan(body)
        assert isinstance(result, list)
        out += result
    return out


NEAR_MISS = (
    Problem("unknown-key", "unknown key `do-not-modify`; did you mean `do_not_modify`?",
            "rename the key to `do_not_modify`", agent="api", field="do-not-modify", line=7),
    Problem("unknown-key", "unknown key `Wave`; did you mean `wave`? (keys are case-sensitive)",
            "rename the key to `wave`", agent="web", field="Wave", line=10),
    Problem("unknown-key", "unknown key `teritory`; did you mean `territory`?",
            "rename the key to `territory`", agent="cli", field="teritory", line=14),
    Problem("missing-territory", "`territory` is required and must be non-empty",
            "list the paths `cli` may change under `territory:`", agent="cli", field="territory", line=13),
)


def reference_rows(merged: set[str], skipped: frozenset[str] = frozenset(), cancelled: bool = False):
    numbers = {"security": 20, "architecture": 21, "arch-perf": 22, "testing": 23}
    opened = {n: T0 + timedelta(minutes=1) for n in numbers}
    merged_at = {
        "security": T0 + timedelta(minutes=16),
        "architecture": T0 + timedelta(minutes=19),
        "arch-perf": T0 + timedelta(minutes=41),
        "testing": T0 + timedelta(minutes=58, seconds=30),
    }
    rows = []
    for a in REFERENCE.agents:
        done = a.name in merged
        pr = AgentPR(a.name, numbers[a.name], PrState.MERGED if done else PrState.OPEN, opened_at=opened[a.name],
                     merged_at=merged_at[a.name] if done else None)
        if done:
            gate = GateDecision(a.name, a.wave, GateState.MERGED)
        elif cancelled:
            gate = GateDecision(a.name, a.wave, GateState.CANCELLED)
        else:
            waiting = tuple(
                dep(d, numbers[d], wave=REFERENCE.agent(d).wave)
                for d in report.direct_dependencies(REFERENCE, a.name)
                if d not in merged and d not in skipped
            )
            gate = GateDecision(a.name, a.wave, GateState.WAITING if waiting else GateState.UNLOCKED, waiting_on=waiting)
        rows.append(AgentRow(a.name, a.wave, a.territory, pr, "success", gate,
                             ("broker/api/directives.py: no input validation",) if a.name == "security" else ()))
    return tuple(rows)


HASH = markers.plan_hash(REFERENCE)
TYPO_CHECK = check_plan(
    "```yaml dispatch\nagents:\n  - name: api\n    territory: [servce/, service/webhok.py]\n"
    "  - name: docs\n    territory: [Docs/, .github/workflows/ci.yml, '**/*.md']\n```\n",
    RepoConfig(), ["service/webhook.py", "service/routes.py", "docs/design.md", "README.md"],
)
DASHBOARDS = {
    "dashboard-warnings": DashboardState(issue=7, plan=TYPO_CHECK.plan, warnings=TYPO_CHECK.warnings),
    "dashboard-preflight-failed": DashboardState(issue=44, plan=None, problems=NEAR_MISS),
    "dashboard-in-progress": DashboardState(
        issue=12, plan=REFERENCE, plan_hash=HASH, rows=reference_rows({"security", "architecture"}),
        dispatched_at=T0,
        amendments=(Amendment("0123456789ab", HASH, changed=("testing",), at=T0 + timedelta(minutes=5)),),
        notice=report.missing_permission_notice("POST /repos/o/r/pulls", "pull_requests: write"),
    ),
    "dashboard-done": DashboardState(
        issue=12, plan=REFERENCE, plan_hash=HASH, rows=reference_rows(set(REFERENCE.names)), dispatched_at=T0,
    ),
    "dashboard-cancelled": DashboardState(
        issue=12, plan=REFERENCE, plan_hash=HASH, rows=reference_rows({"security"}, cancelled=True),
        cancelled=True, skipped=frozenset({"architecture"}), dispatched_at=T0,
    ),
}


# --------------------------------------------------------------------------- golden files


def render_check(out: CheckOutput) -> str:
    lines = [
        f"name: {out.name}",
        f"status: {out.status}",
        f"conclusion: {out.conclusion}",
        f"title: {out.title}",
        "",
        "----- summary",
        out.summary.rstrip("\n"),
    ]
    if out.text is not None:
        lines += ["", "----- text", out.text.rstrip("\n")]
    if out.annotations:
        lines += ["", "----- annotations"]
        lines += [f"[{a.annotation_level}] {a.path}: {a.title} | {a.message}" for a in out.annotations]
    return "\n".join(lines) + "\n"


def comments() -> str:
    texts = {
        "pr_title": report.pr_title(12, "testing", REFERENCE) + "\n",
        "unlock_comment": report.unlock_comment(UNLOCKED, WAVES, prs=WAVE_PRS, updated_from="main"),
        "removed_agent_comment": report.removed_agent_comment("cli", 44),
        "permission_refused": report.permission_refused("outsider", "read", "dispatch this plan"),
        "command_help": report.command_help("/wavegate merge now"),
        "command_help (bare)": report.command_help(),
        "command_ack refresh": report.command_ack(Command("refresh", (), "/wavegate refresh")),
        "command_ack skip": report.command_ack(Command("skip", ("api",), "/wavegate skip api")),
        "command_ack cancel": report.command_ack(Command("cancel", (), "/wavegate cancel")),
        "skip_unknown_agent": report.skip_unknown_agent("apx", WAVES),
        "missing_permission_notice": report.missing_permission_notice("POST /repos/o/r/pulls", "pull_requests: write") + "\n",
        "api_failure_notice": report.api_failure_notice("create the PR of `a5`", "7f3c2a") + "\n",
    }
    return "".join(f"===== {name}\n{text}\n" for name, text in texts.items())


GOLDEN_CASES = {
    "dispatch-prompt-testing": lambda: report.dispatch_prompt(REFERENCE, "testing", 12, HASH),
    "dispatch-prompt-security": lambda: report.dispatch_prompt(
        REFERENCE, "security", 12, HASH, RepoConfig(protected=(".github/workflows/", "deploy/prod/"), branch_prefix="agents")
    ),
    "dispatch-prompt-exceptions": lambda: "".join(
        report.dispatch_prompt(_plan(NESTED), name, 3, "0123456789ab") + "\n" for name in ("core", "src", "followup")
    ),
    "territory-rename": lambda: render_check(report.territory_output(RENAME)),
    "territory-deleted": lambda: render_check(report.territory_output(DELETED)),
    "territory-dot-paths": lambda: render_check(report.territory_output(DOT_PATHS)),
    "territory-capped": lambda: render_check(report.territory_output(CAPPED)),
    "territory-truncated": lambda: render_check(report.territory_output(TRUNCATED)),
    "territory-unseen": lambda: render_check(report.territory_output(UNSEEN)),
    "territory-notice": lambda: render_check(report.territory_output(NOTICE)),
    "territory-all-own": lambda: render_check(report.territory_output(ALL_OWN)),
    "territory-other-pr": lambda: render_check(report.territory_output(OTHER_PR)),
    "territory-merge-group": lambda: render_check(report.merge_group_territory_output(OTHER_PR_OK, 21)),
    "gate-waiting": lambda: render_check(report.gate_output(WAITING, WAVES)),
    "gate-blocked": lambda: render_check(report.gate_output(BLOCKED, WAVES)),
    "gate-unlocked": lambda: render_check(report.gate_output(UNLOCKED, WAVES, prs=WAVE_PRS)),
    "gate-merge-group": lambda: render_check(
        report.gate_output(GateDecision("web", 2, GateState.WAITING, waiting_on=(dep("api", 20),)), WAVES,
                           merge_group_base="b0" * 20)
    ),
    "gate-others": lambda: "".join(
        render_check(o) + "\n"
        for o in (
            report.gate_output(GateDecision("api", 1, GateState.UNLOCKED), WAVES),
            report.gate_output(GateDecision("api", 1, GateState.MERGED)),
            report.gate_output(GateDecision("api", 1, GateState.SKIPPED)),
            report.gate_output(GateDecision("api", 1, GateState.CANCELLED)),
            report.gate_output(GateDecision("cli", 1, GateState.REMOVED)),
            report.non_agent_gate_output(),
            report.queued_output(TERRITORY_CHECK),
            report.error_output(TERRITORY_CHECK, "GitHub answered 502 three times", "job-42"),
        )
    ),
    "problems-near-miss": lambda: report.problems_markdown(NEAR_MISS) + "\n----- text\n" + report.problems_text(NEAR_MISS),
    "problems-limits": lambda: report.problems_markdown(LIMITS()) + "\n----- text\n" + report.problems_text(LIMITS()),
    "comments": comments,
    **{name: (lambda s=state: report.dashboard(s)) for name, state in DASHBOARDS.items()},
}


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_golden(name):
    assert_golden(name, GOLDEN_CASES[name]())


def test_every_golden_file_has_a_case():
    # Files with these prefixes are pinned by the test module of their own report module.
    others = ("launch-", "commands-", "audit-", "local-", "synthesis-")
    assert {p.stem for p in GOLDEN.glob("*.md") if not p.stem.startswith(others)} == set(GOLDEN_CASES)


# --------------------------------------------------------------------------- territory behaviour


@pytest.mark.parametrize(
    "verdict, conclusion, title",
    [
        (RENAME, "failure", "1 path outside territory: crossing core (#30)"),
        (DELETED, "failure", "2 paths outside territory: 1 crossing, 1 forbidden"),
        (DOT_PATHS, "failure", "3 paths outside territory: 1 crossing, 1 forbidden, 1 unowned"),
        (CAPPED, "failure", "1 path outside territory: crossing web (#41)"),
        (TRUNCATED, "failure", "Territory could not be verified: 3,150 files changed, 3,000 listed, tree listing truncated"),
        (NOTICE, "success", "1 path inside territory; 1 unowned path noted"),
        (ALL_OWN, "success", "All 2 paths inside territory"),
        (OTHER_PR, "failure", "1 path in active territory: api (#20)"),
        (OTHER_PR_OK, "success", "No active territory touched"),
        (TerritoryVerdict(Conclusion.SUCCESS, "a", ()), "success", "No files changed yet"),
    ],
)
def test_territory_title_and_conclusion(verdict, conclusion, title):
    out = report.territory_output(verdict)
    assert (out.name, out.status, out.conclusion, out.title) == (TERRITORY_CHECK, "completed", conclusion, title)


def test_truncated_fails_closed_even_if_the_verdict_says_success():
    out = report.territory_output(TerritoryVerdict(Conclusion.SUCCESS, "api", (), source=FileSource.TRUNCATED))
    assert out.conclusion == "failure"


@pytest.mark.parametrize(
    "verdict, expected",
    [
        (RENAME, ["`packages/core/primitives/signal.ts` — old path of the rename to `docs/examples/signal.ts`",
                  "agent `core` (#30)"]),
        (DELETED, ["**crossing** `services/api/migrations/0007_add_index.sql` — deleted; owned by agent `api` (#49)",
                   "**forbidden** `db/schema.sql` — deleted; on this agent's own DO-NOT-MODIFY list"]),
        (DOT_PATHS, ["on the repository's protected list (`.github/workflows/`)", "**unowned** `.editorconfig`"]),
        (CAPPED, ["3,000 listed", "3,150 changed", "merge-base and head trees were compared"]),
        (TRUNCATED, ["3,150 changed", "3,000 listed", "truncated", "Split the PR"]),
    ],
)
def test_territory_summary_names_what_the_cases_expect(verdict, expected):
    summary = report.territory_output(verdict).summary
    for fragment in expected:
        assert fragment in summary


@pytest.mark.parametrize(
    "verdict, levels",
    [
        (RENAME, [("packages/core/primitives/signal.ts", "failure")]),
        (DELETED, [("services/api/migrations/0007_add_index.sql", "failure"), ("db/schema.sql", "failure")]),
        (DOT_PATHS, [("services/api/.env.production", "failure"), (".github/workflows/ci.yml", "failure"),
                     (".editorconfig", "failure")]),
        (NOTICE, [("tools/gen.py", "notice")]),
        (ALL_OWN, []),
    ],
)
def test_one_annotation_per_offending_or_noticed_path(verdict, levels):
    out = report.territory_output(verdict)
    assert [(a.path, a.annotation_level) for a in out.annotations] == levels


def test_own_paths_are_not_listed_as_offending():
    summary = report.territory_output(RENAME).summary
    assert "`docs/index.md`" not in summary.split("### Outside territory")[1]


def huge_verdict(n: int) -> TerritoryVerdict:
    paths = tuple(
        pv(f"services/api/very/long/directory/name/number/{i:05d}/module_ü_{i}.py", PathKind.CROSSING, status="removed",
           owner=f"agent-{i % 97}", owner_pr=1000 + i % 97, rule="/services/api/")
        for i in range(n)
    )
    return TerritoryVerdict(Conclusion.FAILURE, "web", paths)


def test_limits_hold_for_twenty_thousand_offending_paths():
    out = report.territory_output(huge_verdict(20_000))
    assert len(out.summary.encode("utf-8")) < 60_000
    assert out.text is not None and len(out.text.encode("utf-8")) < 60_000
    assert len(out.title) <= 255 and "\n" not in out.title
    assert out.title.startswith("20,000 paths outside territory: crossing")
    assert "- … and " in out.summary and "| … | and " in out.text
    assert len(out.annotations) == MAX_ANNOTATIONS
    assert [a.path for a in out.annotations] == [p.path for p in huge_verdict(MAX_ANNOTATIONS).paths]


def test_truncation_is_deterministic_and_counts_the_rest():
    a = report.territory_output(huge_verdict(5_000))
    b = report.territory_output(huge_verdict(5_000))
    assert a == b
    listed = a.summary.count("- **crossing**")
    assert f"- … and {5_000 - listed:,} more" in a.summary


def test_long_agent_names_keep_the_title_on_one_short_line():
    paths = tuple(pv(f"x/{i}", PathKind.CROSSING, owner="a" * 60 + str(i), owner_pr=i) for i in range(30))
    title = report.territory_output(TerritoryVerdict(Conclusion.FAILURE, "b", paths)).title
    assert len(title) <= 255 and title.endswith("…")


@pytest.mark.parametrize(
    "path_verdict, phrase",
    [
        (pv("a", PathKind.OWN, status="removed"), "deleted"),
        (pv("a", PathKind.OWN, status="added"), "added"),
        (pv("a", PathKind.OWN, status="renamed", counterpart="b"), "renamed from `b`"),
        (pv("a", PathKind.OWN, status="copied", side=Side.OLD, counterpart="b"), "source of the copy to `b`"),
        (pv("a", PathKind.OWN, status="typechanged"), "status `typechanged`"),
        (pv("a", PathKind.OWN, status="unchanged"), "status `unchanged`"),
    ],
)
def test_status_phrases(path_verdict, phrase):
    assert status_phrase(path_verdict) == phrase


# --------------------------------------------------------------------------- gate behaviour


@pytest.mark.parametrize(
    "decision, kwargs, status, conclusion, title",
    [
        (WAITING, {}, "in_progress", None, "waiting for wave 1: #20 api, #21 worker"),
        (WAITING_NO_PR, {}, "in_progress", None, "waiting for wave 1: api (no PR yet)"),
        (GateDecision("testing", 2, GateState.WAITING, waiting_on=(dep("security", 20), dep("arch-perf", 22, wave=2))),
         {}, "in_progress", None, "waiting for wave 1: #20 security; wave 2: #22 arch-perf"),
        (BLOCKED, {}, "completed", "failure", "blocked: #20 api closed without merging"),
        (UNLOCKED, {"plan": WAVES, "prs": WAVE_PRS}, "completed", "success", "wave 2 unlocked: #20 api, #21 worker merged"),
        (GateDecision("api", 1, GateState.UNLOCKED), {"plan": WAVES}, "completed", "success", "wave 1: no dependencies"),
        (GateDecision("api", 1, GateState.CANCELLED), {}, "completed", "success", "plan cancelled: no longer gated"),
        (GateDecision("api", 1, GateState.REMOVED), {}, "completed", "failure", "api was removed from the plan"),
        (WAITING, {"merge_group_base": "b0" * 20}, "completed", "failure",
         "wave 1 not merged into the merge group's base: #20 api, #21 worker"),
    ],
)
def test_gate_output(decision, kwargs, status, conclusion, title):
    out = report.gate_output(decision, **kwargs)
    assert (out.name, out.status, out.conclusion, out.title) == (GATE_CHECK, status, conclusion, title)


def test_blocked_gate_gives_the_way_out():
    summary = report.gate_output(BLOCKED, WAVES).summary
    assert "reopen #20" in summary and "`/wavegate skip api`" in summary


@pytest.mark.parametrize("state", list(GateState))
def test_no_gate_state_leaves_a_merge_group_pending(state):
    out = report.gate_output(GateDecision("web", 2, state, waiting_on=(dep("api", 20),)), WAVES, merge_group_base="b0")
    assert out.status == "completed" and out.conclusion in {"success", "failure"}


def test_error_output_fails_closed_with_the_job_id():
    out = report.error_output(TERRITORY_CHECK, "GitHub answered 502", "job-9")
    assert (out.status, out.conclusion) == ("completed", "failure")
    assert out.title == "Wavegate could not finish: GitHub answered 502" and "job-9" in out.summary


# --------------------------------------------------------------------------- dashboard behaviour


def test_dashboard_starts_with_the_marker_and_carries_its_state():
    state = DASHBOARDS["dashboard-cancelled"]
    body = report.dashboard(state)
    assert body.startswith(markers.DASHBOARD_MARKER) and markers.is_dashboard(body)
    assert markers.parse_state_marker(body) == {
        "plan_hash": HASH,
        "skipped": ["architecture"],
        "cancelled": True,
        "dispatched_at": "2025-03-03T09:00:00Z",
        "amendments": [],
        "prs": {"security": 20, "architecture": 21, "arch-perf": 22, "testing": 23},
    }


@pytest.mark.parametrize(
    "name, state_line",
    [
        ("dashboard-preflight-failed", "**State: pre-flight failed**"),
        ("dashboard-in-progress", "**State: in progress**"),
        ("dashboard-done", "**State: done**"),
        ("dashboard-cancelled", "**State: cancelled**"),
    ],
)
def test_dashboard_state_line(name, state_line):
    assert state_line in report.dashboard(DASHBOARDS[name])


def test_dividend_compares_work_with_wall_clock():
    # opened at +1 min; merged at +16, +19, +41, +58:30 → 15 + 18 + 40 + 57.5 = 130.5 min of work,
    # 58.5 min of wall clock from dispatch to the last merge.
    text = report.dividend(DASHBOARDS["dashboard-done"])
    assert text is not None
    assert "worked 2 h 10 min in total" in text or "worked 2 h 11 min in total" in text
    assert "was 58 min" in text or "was 59 min" in text
    assert "2.2× parallel" in text
    assert report.dividend(DASHBOARDS["dashboard-in-progress"]) is None


def test_dashboard_mermaid_colours_nodes_by_state():
    body = report.dashboard(DASHBOARDS["dashboard-in-progress"])
    chart = body.split("```mermaid")[1].split("```")[0]
    assert 'subgraph w1["wave 1"]' in chart and 'subgraph w2["wave 2"]' in chart
    assert "class a0,a1 merged" in chart and "class a2 unlocked" in chart and "class a3 waiting" in chart
    assert "a2 --> a3" in chart and "w1 --> w2" in chart


def test_dashboard_names_a_refused_request_and_its_permission():
    body = report.dashboard(DASHBOARDS["dashboard-in-progress"])
    assert "GitHub refused `POST /repos/o/r/pulls`: the App needs `pull_requests: write`" in body


def test_dashboard_stays_under_the_comment_limit():
    many = tuple(Problem("overlap", "x" * 300, "y" * 200, agent=f"a{i}", line=i) for i in range(2000))
    body = report.dashboard(DashboardState(issue=1, plan=None, problems=many))
    assert len(body.encode("utf-8")) < 60_000 and "more" in body


def test_territory_summary_shows_first_three_patterns():
    body = report.dashboard(DASHBOARDS["dashboard-done"])
    assert "`broker/api/auth.py`, `broker/api/kill_switch.py`, `broker/api/escalations.py` +2 more" in body


# --------------------------------------------------------------------------- problems and prompts


def test_problems_text_one_line_each_with_line_agent_field():
    lines = report.problems_text(NEAR_MISS).splitlines()
    assert lines[2].startswith("line 14: cli: teritory: unknown key `teritory`; did you mean `territory`?")
    assert len(lines) == len(NEAR_MISS)
    assert report.problems_text([Problem("no-plan", "no plan found")]) == "plan: no plan found\n"


def test_dispatch_prompt_has_the_three_parts_and_the_marker():
    body = report.dispatch_prompt(REFERENCE, "testing", 12, HASH)
    assert body.index("### Scope") < body.index("### Findings") < body.index("### Constraints")
    for other in ("security", "architecture", "arch-perf"):
        assert f"`{other}` (wave" in body
    assert "`broker/safety/` — `architecture` (wave 1, before you)" in body
    assert "`.github/workflows/` — protected by the repository settings" in body
    assert "## Scope expansions" in body and "SCOPE-EXPANSIONS.md" in body
    assert "`wavegate/12/testing`" in body
    assert markers.parse_pr_marker(body) == markers.PrMarker(12, "testing", HASH)
    assert body.rstrip().endswith(markers.pr_marker(12, "testing", HASH))


def test_dispatch_prompt_keeps_findings_verbatim():
    body = report.dispatch_prompt(REFERENCE, "testing", 12, HASH)
    assert "- store_in_akashic untested\n  (needs an HTTP mock)" in body
    assert "None listed." in report.dispatch_prompt(WAVES, "api", 3, "h")


def test_dispatch_prompt_lists_own_do_not_modify_first():
    body = report.dispatch_prompt(REFERENCE, "security", 12, HASH)
    constraints = body.split("DO NOT MODIFY:")[1]
    assert constraints.lstrip().startswith("- `broker/safety/kill_switch.py` — your own DO-NOT-MODIFY list")


def _plan(yaml_text: str) -> Plan:
    found = parse_plan(f"```yaml dispatch\n{yaml_text}\n```\n")
    assert isinstance(found, Plan), found
    return found


NESTED = """agents:
  - {name: core, territory: [lib/core/]}
  - {name: followup, wave: 2, territory: [lib/]}
  - {name: gen, territory: [src/gen/]}
  - {name: src, territory: [src/, '!src/gen/'], do_not_modify: [src/vendor/]}"""


def test_a_prompt_never_forbids_the_agents_own_scope():
    body = report.dispatch_prompt(_plan(NESTED), "core", 3, "h")
    forbidden = body.split("DO NOT MODIFY:")[1].split("Other agents'")[0]
    assert "`lib/`" not in forbidden
    assert "- `lib/` — `followup` (wave 2, after you); where it meets your `lib/core/`, your scope wins" in body


def test_a_prompt_shows_exceptions_inside_the_scope_and_only_concurrent_agents_as_forbidden():
    plan = _plan(NESTED)
    body = report.dispatch_prompt(plan, "src", 3, "h")
    assert "- `src/` except `src/gen/` and `src/vendor/`\n" in body.split("### Findings")[0]
    forbidden = body.split("DO NOT MODIFY:")[1].split("Other agents'")[0]
    assert "- `src/gen/` — owned by `gen` (wave 1)" in forbidden
    assert "`lib/` — `followup` (wave 2, after you)" not in forbidden
    gen = report.dispatch_prompt(plan, "gen", 3, "h")
    assert "- `src/` except `src/gen/` and `src/vendor/` — owned by `src` (wave 1)" in gen


@pytest.mark.parametrize(
    "territory, dnm, expected",
    [
        ("[.github/workflows/, scripts/]", "[]",
         "- `.github/workflows/` — listed in your territory, but all of it is protected by the repository settings"),
        ("[.github/workflows/ci.yml, scripts/]", "[]", "- `.github/workflows/ci.yml` — listed in your territory, but "
         "all of it is protected by the repository settings (`.github/workflows/`)"),
        ("[docs/, scripts/]", "[docs/]", "- `docs/` — listed in your territory, but all of it is on your own "
         "DO-NOT-MODIFY list"),
        ("[docs/a.md, scripts/, '!docs/']", "[]",
         "- `docs/a.md` — listed in your territory, but all of it is excluded in your territory (`docs/`)"),
    ],
)
def test_a_pattern_removed_entirely_is_not_authorized_but_forbidden_with_its_reason(territory, dnm, expected):
    plan = _plan(f"agents:\n  - {{name: ci, territory: {territory}, do_not_modify: {dnm}}}")
    body = report.dispatch_prompt(plan, "ci", 3, "h", RepoConfig(protected=(".github/workflows/",)))
    scope, rest = body.split("### Findings")
    assert "- `scripts/`\n" in scope and expected.split(" — ")[0] not in scope
    assert expected in rest.split("DO NOT MODIFY:")[1]
    assert rest.count(expected.split(" — ")[0] + " — ") == 1


def test_dispatch_prompt_unknown_agent():
    with pytest.raises(KeyError):
        report.dispatch_prompt(REFERENCE, "nobody", 12, HASH)


def test_plan_text_by_wave():
    text = report.plan_text(REFERENCE)
    assert "wave 1: security (5 patterns), architecture (1 pattern)" in text
    assert "wave 2: arch-perf (4 patterns), testing (1 pattern, after arch-perf)" in text


def test_skip_ack_and_unknown_agent():
    assert "`api` is skipped" in report.command_ack(Command("skip", ("api",), "/wavegate skip api"))
    assert "`api`, `worker`, `web`" in report.skip_unknown_agent("apx", WAVES)
    assert "/wavegate refresh" in report.command_ack(Command("unknown", ("merge",), "/wavegate merge"))


def test_permission_refused_names_write():
    text = report.permission_refused("outsider", "read", "dispatch this plan")
    assert "@outsider" in text and "write permission" in text and "`read`" in text
    assert text.rstrip().endswith("Ask someone with write access to do it.")
    assert "did not go ahead with: dispatch this plan." in text


# --------------------------------------------------------------------------- with the real classifier


def test_rename_case_end_to_end():
    from service.core.model import ChangedFile, ChangeSet
    from service.core.territory import classify_agent_pr

    plan = Plan(agents=(Agent("core", ("/packages/core/",)), Agent("docs", ("/docs/",))))
    prs = {"core": AgentPR("core", 30), "docs": AgentPR("docs", 31)}
    changes = ChangeSet(
        (
            ChangedFile("docs/examples/signal.ts", "renamed", "packages/core/primitives/signal.ts"),
            ChangedFile("docs/index.md", "modified"),
        ),
        listed=2,
        changed=2,
    )
    out = report.territory_output(classify_agent_pr(plan, "docs", changes, prs))
    assert (out.conclusion, out.title) == ("failure", "1 path outside territory: crossing core (#30)")
    assert [a.path for a in out.annotations] == ["packages/core/primitives/signal.ts"]
    assert "old path of the rename to `docs/examples/signal.ts`; owned by agent `core` (#30)" in out.summary


def test_deleted_case_end_to_end():
    from service.core.model import ChangedFile, ChangeSet
    from service.core.territory import classify_agent_pr

    plan = Plan(
        agents=(
            Agent("api", ("/services/api/",)),
            Agent("web", ("/apps/web/",), wave=2, do_not_modify=("/db/schema.sql",)),
        )
    )
    prs = {"api": AgentPR("api", 49), "web": AgentPR("web", 50)}
    changes = ChangeSet(
        (
            ChangedFile("services/api/migrations/0007_add_index.sql", "removed"),
            ChangedFile("db/schema.sql", "removed"),
            ChangedFile("apps/web/src/old-page.tsx", "removed"),
        )
    )
    out = report.territory_output(classify_agent_pr(plan, "web", changes, prs))
    assert out.title == "2 paths outside territory: 1 crossing, 1 forbidden"
    assert "`db/schema.sql` — deleted; on this agent's own DO-NOT-MODIFY list (`/db/schema.sql`)" in out.summary
    assert len(out.annotations) == 2


@pytest.mark.parametrize("pr_state, verdict, cell", [
    (PrState.MERGED, None, "| — |"),
    (PrState.CLOSED, None, "| — |"),
    (PrState.MISSING, None, "| — (no PR yet) |"),
    (PrState.OPEN, None, "| ⏳ pending |"),
    (PrState.OPEN, "failure", "| ❌ failed |"),
])
def test_dashboard_territory_cell_is_pending_only_for_open_prs(pr_state, verdict, cell):
    plan = Plan(agents=(Agent(name="api", territory=("services/api/",)),))
    row = AgentRow(agent="api", wave=1, territory=("services/api/",),
                   pr=AgentPR(agent="api", number=None if pr_state is PrState.MISSING else 7, state=pr_state),
                   territory_conclusion=verdict)
    body = report.dashboard(DashboardState(issue=1, plan=plan, plan_hash="h", rows=(row,)))
    [line] = [line for line in body.splitlines() if line.startswith("| `api`")]
    assert cell in line


# --------------------------------------------------------------------------- flowchart of large plans


def _wide_plan(n: int) -> Plan:
    return Plan(agents=tuple(Agent(f"agent-{i:02d}", (f"area{i}/",), wave=1 + i // 30) for i in range(n)))


def _rows_per_rank(chart: str) -> dict[tuple[str, int], int]:
    """Nodes per (wave, rank) of a Mermaid chart, where a node's rank inside its wave is the length
    of the chain of invisible links (`~~~`) above it: read from the text, not from the layout code."""
    wave_of, below = {}, {}
    wave = None
    for line in chart.splitlines():
        line = line.strip()
        if line.startswith("subgraph "):
            wave = line.split()[1].split("[")[0]
        elif "~~~" in line:
            upper, lower = (x.strip() for x in line.split("~~~"))
            below[lower] = upper
        elif line.startswith("a") and "[" in line and wave:
            wave_of[line.split("[")[0]] = wave
    row_head = {}
    counts: dict[tuple[str, int], int] = {}
    current = None
    for node, w in wave_of.items():
        if node in below or current is None or current[0] != w:
            rank = 0
            chain = node
            while chain in below:
                chain, rank = below[chain], rank + 1
            current = (w, rank)
        row_head[node] = current
        counts[current] = counts.get(current, 0) + 1
    return counts


def test_a_large_plan_wraps_its_waves_into_rows_of_at_most_eight():
    body = report.dashboard(DashboardState(issue=1, plan=_wide_plan(60)))
    chart = body.split("```mermaid")[1].split("```")[0]
    assert "flowchart TB" in chart
    counts = _rows_per_rank(chart)
    assert max(counts.values()) <= 8
    assert sum(counts.values()) == 60 and len(counts) == 8  # two waves of 30: four rows each


def test_a_large_plan_renders_narrow_with_mermaid_cli(tmp_path):
    import re
    import shutil
    import subprocess

    mmdc = shutil.which("mmdc")
    if mmdc is None:
        pytest.skip("mermaid-cli (mmdc) is not installed: it needs a headless browser")
    body = report.dashboard(DashboardState(issue=1, plan=_wide_plan(60)))
    (tmp_path / "chart.mmd").write_text(body.split("```mermaid")[1].split("```")[0], encoding="utf-8")
    subprocess.run([mmdc, "-i", str(tmp_path / "chart.mmd"), "-o", str(tmp_path / "chart.svg")], check=True,
                   capture_output=True, timeout=120)
    svg = (tmp_path / "chart.svg").read_text(encoding="utf-8")
    width = float(re.search(r'viewBox="[-\d.]+ [-\d.]+ ([\d.]+)', svg).group(1))
    assert width <= 1300


def test_the_dashboard_lists_warnings_without_refusing_the_plan():
    body = report.dashboard(DashboardState(issue=7, plan=TYPO_CHECK.plan, warnings=TYPO_CHECK.warnings))
    assert "### Warnings (4)" in body and "### Problems" not in body
    assert "did you mean `service/`?" in body and "did you mean `docs/`?" in body
