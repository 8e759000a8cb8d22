"""Starting agents (DESIGN §3.8): the launch step of a plan reconcile, and what it shows.

fetch → decide → write, idempotently, like every use case:

- fetch: the launch records on each agent PR (hidden markers in the App's own comments), the
  facts the decision needs (both checks exist, the branch contains the base head) and the run
  of each launch (by its recorded id, else matched by its ``run-name``);
- decide: ``core.launch.decide_launches`` (and ``relaunch_decision`` for ``/wavegate relaunch``);
- write, in the core's exactly-once order: the record comment (an intent), the launch call (a
  workflow dispatch or the coding agent's assignment), the record confirmed with the run id. Via
  comment the launch comment is its own record. A failed or cancelled run gets one comment on
  the agent's PR (found again by its marker) and a dashboard notice.

A launch call that fails is never retried automatically: its intent stays, the dashboard reports
"no run" after ``NO_RUN_AFTER`` and ``/wavegate relaunch AGENT`` is the way out.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..core import launch as core
from ..core import report_launch
from ..core.dividend import works_from_rows
from ..core.launch import AgentFacts, LaunchDecision, LaunchRecord, LaunchState, Via, WorkflowRun
from ..core.model import AgentPR, AgentRow, GateDecision, GateState, Problem, PrState
from ..core.report_dashboard import problems_markdown
from ..errors import Conflict, NotFound, PermissionDenied
from ..gh import GitHubPort
from ..records import CommentData, PullData
from .context import PlanContext

log = logging.getLogger(__name__)


def _token_from_env() -> str | None:
    # The same variable ``Settings`` reads (and registers with the log scrubber).
    return os.environ.get(core.COPILOT_TOKEN_ENV) or None


copilot_token: Callable[[], str | None] = _token_from_env  # replaced by tests


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


now: Callable[[], datetime] = _now  # replaced by tests


@dataclass
class LaunchView:
    """What the launch step learned, for the dashboard: each agent's state, the spans of its
    completed runs and its first launch time (the dividend's work), notices and problems."""

    states: tuple[LaunchState, ...] = ()
    spans: dict[str, list[tuple[datetime, datetime]]] = field(default_factory=dict)
    launched_at: dict[str, datetime] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    problems: tuple[Problem, ...] = ()
    started: list[str] = field(default_factory=list)
    default_branch: str | None = None  # read once per reconcile, only when a workflow is dispatched


@dataclass
class _Seen:
    """The launch records and failed-run marks found on one agent's PR."""

    records: list[LaunchRecord] = field(default_factory=list)
    reported: frozenset[int] = frozenset()


def configured(ctx: PlanContext) -> bool:
    """Whether any agent of the plan is started by Wavegate (the repository's or its own ``launch``)."""
    return any(core.effective(ctx.config.launch, a.launch).via is not Via.NONE for a in ctx.plan.agents)


def launch_plan(gh: GitHubPort, ctx: PlanContext, *, decisions: Mapping[str, GateDecision],
                prs: Mapping[str, AgentPR], base_sha: str, relaunch: frozenset[str] = frozenset(),
                command: int | None = None, known_runs: Mapping[int, WorkflowRun] | None = None) -> LaunchView:
    """The launch step: start every agent ``decide_launches`` says starts now, and each agent of
    ``relaunch`` (asked by the ``/wavegate relaunch`` comment ``command``) once more; then read
    each launch's run. ``decisions`` are the plan's gate decisions, ``prs`` its agent PRs,
    ``base_sha`` the base branch head; ``known_runs`` runs already read (a ``workflow_run``
    payload). Returns the ``LaunchView`` for the dashboard. Raises the port's errors, except a
    refused launch call, which becomes a notice."""
    if not configured(ctx):
        return LaunchView()
    overrides = {a.name: a.launch for a in ctx.plan.agents if a.launch}
    view = LaunchView(problems=tuple(core.launch_problems(ctx.plan, ctx.config.launch, overrides)))
    seen = {name: _read_seen(gh, ctx, pull) for name, pull in ctx.pulls.items() if pull.number}
    records = [r for s in seen.values() for r in s.records]
    facts = _facts(gh, ctx, prs, decisions, records, base_sha)
    token = bool(copilot_token())
    chosen = core.decide_launches(ctx.plan, decisions, facts, records, repo=ctx.config.launch,
                                  overrides=overrides, update_branches=ctx.config.update_branches,
                                  copilot_token=token)
    out = []
    for d in chosen:
        if d.agent in relaunch and command is not None:
            d = core.relaunch_decision(d.agent, command, records, settings=d.settings,
                                       gate=decisions.get(d.agent), facts=facts.get(d.agent), copilot_token=token)
        if d.start:
            d = _start(gh, ctx, d, command if d.why is core.Why.RELAUNCH else None, view)
        out.append(d)
    _watch(gh, ctx, out, seen, known_runs or {}, view)
    return view


def _read_seen(gh: GitHubPort, ctx: PlanContext, pull: PullData) -> _Seen:
    """The App's own launch records and failed-run marks on one PR (others' comments are not
    trusted: anyone who can comment could forge a marker)."""
    mine = [c for c in gh.comments(ctx.repo, pull.number) if not gh.bot_login or c.user == gh.bot_login]
    found = _Seen()
    for c in mine:
        found.records.extend(core.parse_launch_markers(c.body, comment=c.id))
    found.reported = core.failed_runs_reported(c.body for c in mine)
    return found


def _facts(gh: GitHubPort, ctx: PlanContext, prs: Mapping[str, AgentPR], decisions: Mapping[str, GateDecision],
           records: list[LaunchRecord], base_sha: str) -> dict[str, AgentFacts]:
    """``AgentFacts`` per agent with a PR. The check step has just posted both checks on every
    open PR's head. Whether the branch contains the base head is read only where it decides
    something: an unlocked agent with dependencies, not launched yet, with ``update_branches``."""
    out = {}
    for name, pr in prs.items():
        pull = ctx.pulls.get(name)
        is_open = pr.state is PrState.OPEN and pull is not None and bool(pull.number)
        updated = False
        gate = decisions.get(name)
        if (is_open and pull is not None and ctx.config.update_branches and core.latest(records, name) is None
                and gate is not None and gate.state is GateState.UNLOCKED and ctx.plan.agent(name) is not None
                and _has_dependencies(ctx, name)):
            head = gh.get_pull(ctx.repo, pull.number).head_sha  # an update-branch may just have moved it
            updated = gh.contains(ctx.repo, base_sha, head)
        out[name] = AgentFacts(pr=pr, checks=is_open, branch_updated=updated)
    return out


def _has_dependencies(ctx: PlanContext, name: str) -> bool:
    from ..core.gates import dependencies

    return bool(dependencies(ctx.plan).get(name))


def _start(gh: GitHubPort, ctx: PlanContext, d: LaunchDecision, command: int | None,
           view: LaunchView) -> LaunchDecision:
    """Start one agent in the exactly-once order; returns the decision as it now stands
    (``LAUNCHED`` with its record), or ``d`` unchanged when another job owns the attempt."""
    pull = ctx.pulls[d.agent]
    record = core.intent(d, ctx.hash, now(), command=command)
    prompt_settings = d.settings
    if d.settings.via is Via.COMMENT:
        text = report_launch.launch_comment(d.settings.comment or "", pull.body or "", record)
        posted = gh.create_comment(ctx.repo, pull.number, text)
        done = core.confirm(record)
        view.started.append(d.agent)
        return LaunchDecision(d.agent, core.Why.LAUNCHED, d.settings, d.attempt,
                              record=_with_comment(done, posted))
    posted = gh.create_comment(ctx.repo, pull.number, report_launch.record_comment(record, prompt_settings))
    claims = [r for c in gh.comments(ctx.repo, pull.number) if c.user == gh.bot_login or not gh.bot_login
              for r in core.parse_launch_markers(c.body, comment=c.id)]
    owner = core.first_claim(claims, d.agent, d.attempt)
    if owner is not None and owner.comment != posted.id:
        log.info("#%s: launch attempt %s of %s is another job's", pull.number, d.attempt, d.agent)
        return LaunchDecision(d.agent, core.Why.LAUNCHED, d.settings, d.attempt, record=owner)
    run_id = _call(gh, ctx, d, pull, view)
    if run_id is False:
        return LaunchDecision(d.agent, core.Why.LAUNCHED, d.settings, d.attempt, record=_with_comment(record, posted))
    done = core.confirm(record, run_id if isinstance(run_id, int) else None)
    gh.edit_comment(ctx.repo, posted.id, report_launch.record_comment(done, prompt_settings))
    view.started.append(d.agent)
    return LaunchDecision(d.agent, core.Why.LAUNCHED, d.settings, d.attempt, record=_with_comment(done, posted))


def _with_comment(record: LaunchRecord, comment: CommentData) -> LaunchRecord:
    from dataclasses import replace

    return replace(record, comment=comment.id)


def _call(gh: GitHubPort, ctx: PlanContext, d: LaunchDecision, pull: PullData,
          view: LaunchView) -> int | None | bool:
    """The launch call itself: the run id (None when GitHub did not say), or False when GitHub
    refused it (a notice; the intent stays and is reported as "no run" later)."""
    try:
        if d.settings.via is Via.COPILOT:
            body = core.copilot_assignment(repository=ctx.repo, branch=pull.head_ref, prompt=pull.body or "")
            gh.assign_agent(ctx.repo, pull.number, body, token=copilot_token() or "")
            return None
        view.default_branch = view.default_branch or gh.repository(ctx.repo).default_branch
        body = core.dispatch_request(default_branch=view.default_branch, issue=ctx.issue.number, agent=d.agent,
                                     pr=pull.number, branch=pull.head_ref, plan_hash=ctx.hash)
        return core.dispatched_run_id(gh.dispatch_workflow(ctx.repo, d.settings.workflow or "", body))
    except (NotFound, Conflict, PermissionDenied) as exc:
        log.warning("#%s: launch of %s refused: %s", pull.number, d.agent, exc)
        view.notices.append(report_launch.launch_refused_notice(d.agent, d.settings, type(exc).__name__))
        return False


def _watch(gh: GitHubPort, ctx: PlanContext, decisions: list[LaunchDecision], seen: Mapping[str, _Seen],
           known: Mapping[int, WorkflowRun], view: LaunchView) -> None:
    """Each agent's launch state with its run; a failed run's comment (once) and notice; the
    dividend's spans and launch times."""
    listing: list[WorkflowRun] | None = None
    states = []
    for d in decisions:
        run = None
        record = d.record
        if record is not None and record.via is Via.WORKFLOW and d.agent in ctx.pulls:
            run, listing = _find_run(gh, ctx, record, ctx.pulls[d.agent].head_ref, known, listing)
        state = core.launch_state(d, run, now())
        states.append(state)
        _account(state, seen.get(d.agent, _Seen()), view)
        if core.failed_run(state) and run is not None:
            view.notices.append(report_launch.failed_run_notice(state))
            if run.id not in seen.get(d.agent, _Seen()).reported:
                gh.create_comment(ctx.repo, ctx.pulls[d.agent].number, report_launch.failed_run_comment(d.agent, run))
        elif state.state is core.RunState.NO_RUN:
            view.notices.append(report_launch.no_run_notice(state))
    view.states = tuple(states)


def _find_run(gh: GitHubPort, ctx: PlanContext, record: LaunchRecord, branch: str,
              known: Mapping[int, WorkflowRun], listing: list[WorkflowRun] | None
              ) -> tuple[WorkflowRun | None, list[WorkflowRun] | None]:
    """The run of ``record``: a known one, else read by id, else matched in one listing of the
    repository's dispatched runs (read once per reconcile, and only when needed)."""
    if record.run_id is not None:
        if record.run_id in known:
            return known[record.run_id], listing
        try:
            return gh.get_workflow_run(ctx.repo, record.run_id), listing
        except NotFound:
            return None, listing
    if listing is None:
        listing = list(known.values()) + gh.workflow_runs(ctx.repo)
    return core.match_run(record, listing, branch), listing


def _account(state: LaunchState, seen: _Seen, view: LaunchView) -> None:
    firsts = [r.at for r in seen.records if r.agent == state.agent and r.at is not None]
    if state.record is not None and state.record.at is not None:
        firsts.append(state.record.at)
    if firsts:
        view.launched_at[state.agent] = min(firsts)
    if state.run is not None and state.run.span is not None:
        view.spans.setdefault(state.agent, []).append(state.run.span)


def dashboard_fields(view: LaunchView, rows: tuple[AgentRow, ...], skipped: frozenset[str]) -> dict[str, Any]:
    """The ``DashboardState`` fields launching fills: ``launches`` (each agent's state), ``work``
    (the dividend's agent work time), launch ``problems`` and a ``notice``. Empty when launching
    is not configured, so the dashboard is as before."""
    if not view.states:
        return {}
    work = tuple(works_from_rows(rows, skipped, runs=view.spans, launched_at=view.launched_at))
    out: dict[str, Any] = {"launches": view.states, "work": work}
    notices = list(view.notices)
    if view.problems:  # settings problems of a dispatched plan: shown, never a reason to stop it
        notices.insert(0, problems_markdown(view.problems).rstrip())
    if notices:
        out["notice"] = "\n\n".join(notices)
    return out


def follow_run(gh: GitHubPort, repo: str, run_id: int, number: int, *, job_id: str | None = None) -> str:
    """A ``workflow_run`` event (requested, in_progress, completed) of the run ``run_id`` that
    names agent PR ``number``: the run is re-read (events are triggers, not data) and the plan
    of that PR reconciled with it, so its dashboard shows the run's state and a failed run gets
    its comment. A PR in no active plan, or a run gone, changes nothing."""
    from .pulls import reconcile_plan_of

    try:
        pull = gh.get_pull(repo, number)
        run = gh.get_workflow_run(repo, run_id)
    except NotFound:
        return f"run {run_id} or #{number} not found"
    return reconcile_plan_of(gh, repo, pull, job_id=job_id, reason=f"run {run_id} {run.status}",
                             runs={run.id: run})
