"""Reconciling one dispatch plan (DESIGN §3.1, §3.4, §3.6): permission, pre-flight, branches and
PRs, both checks on every PR head, gates, unlocks, the dashboard and closing the issue.

Level-triggered: whatever event started it, the whole plan is re-read and brought to the state
the core decides; anything already right is left alone, so running it twice writes nothing new.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..core import audit, gates, markers, plan_check, report, territory
from ..core import plan as core_plan
from ..core import version as core_version
from ..core.launch import WorkflowRun
from ..core.model import (
    Agent,
    AgentPR,
    AgentRow,
    Amendment,
    ChangeSet,
    DashboardState,
    FileSource,
    GateDecision,
    GateState,
    Plan,
    PlanWarning,
    Problem,
    PrState,
    RepoConfig,
)
from ..errors import Conflict, NotFound, PermissionDenied
from ..gh import GitHubPort
from ..records import CommentData, IssueData, PullData
from . import checks, propose
from . import launch as launching
from .context import (
    WRITE_ROLES,
    PlanContext,
    allowance_of,
    body_expansions,
    find_dashboard,
    is_dispatch_issue,
    load_config,
    load_pulls,
    scope_expansions,
)

log = logging.getLogger(__name__)

FOLLOW_ATTEMPTS = 5  # re-reads of a PR after update-branch, waiting for its head to move
FOLLOW_DELAY = 1.0  # seconds, times the attempt number
sleep = time.sleep  # replaced by tests

def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def publish_dashboard(gh: GitHubPort, repo: str, issue: int, state: DashboardState,
                      existing: CommentData | None, signature: dict[str, str] | None = None,
                      memo: dict[str, Any] | None = None) -> CommentData:
    """Create the dashboard comment, or edit it in place only when its content changed.
    ``signature`` (``gate_signature``) and ``memo`` are carried in hidden markers at the end; with
    ``memo`` None the existing comment's memo is kept (a notice or a problem list must not make
    the plan forget which branch updates and comments were already made)."""
    body = report.dashboard(state)
    if signature is not None:
        body += markers.gates_marker(signature)
    if memo is None:
        memo = markers.recorded_memo(existing.body if existing else None)
    if memo:
        body += markers.memo_marker(memo)
    if existing is None:
        return gh.create_comment(repo, issue, body)
    if existing.body != body:
        return gh.edit_comment(repo, existing.id, body)
    return existing


def write_dashboard_notice(gh: GitHubPort, repo: str, issue: int, what: str,
                           job_id: str | None = None) -> None:
    """Put ``report.api_failure_notice`` on the dashboard, keeping its hidden state."""
    existing = find_dashboard(gh, repo, issue)
    state = _carried(issue, markers.parse_state_marker(existing.body) if existing else {})
    state = _with(state, notice=report.api_failure_notice(what, job_id))
    publish_dashboard(gh, repo, issue, state, existing)


def _with(state: DashboardState, **changes: Any) -> DashboardState:
    from dataclasses import replace

    return replace(state, **changes)


def _parse_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def _amendments(raw: Any) -> tuple[Amendment, ...]:
    out = []
    for a in raw or ():
        if isinstance(a, dict) and a.get("old_hash") and a.get("new_hash"):
            out.append(Amendment(old_hash=a["old_hash"], new_hash=a["new_hash"],
                                 added=tuple(a.get("added") or ()), removed=tuple(a.get("removed") or ()),
                                 changed=tuple(a.get("changed") or ()), at=_parse_time(a.get("at"))))
    return tuple(out)


def _carried(issue: int, raw: dict[str, Any], plan: Plan | None = None) -> DashboardState:
    """A dashboard state that keeps what the hidden state remembers (for notices and problems,
    so already-dispatched work is not forgotten)."""
    prs = raw.get("prs") or {}
    rows: tuple[AgentRow, ...] = ()
    if plan is None and prs:
        rows = tuple(AgentRow(agent=name, wave=1, territory=(), pr=AgentPR(agent=name, number=n))
                     for name, n in prs.items() if isinstance(n, int))
    return DashboardState(
        issue=issue, plan=plan, plan_hash=raw.get("plan_hash"),
        skipped=frozenset(raw.get("skipped") or ()), cancelled=bool(raw.get("cancelled")),
        amendments=_amendments(raw.get("amendments")),
        dispatched_at=_parse_time(raw.get("dispatched_at")), rows=rows,
        audit=audit.decode_audit(raw.get("audit")), allowances=audit.decode_allowances(raw.get("allowances")),
    )


def reconcile_plan(gh: GitHubPort, repo: str, issue: int, *, sender: str | None = None,
                   reason: str = "", job_id: str | None = None) -> str:
    """Dispatch or re-evaluate the plan of dispatch issue ``issue``: permission check of
    ``sender`` (when the event was a user's request), pre-flight, branches, PRs, both check runs
    on every PR head, gates, unlocks, dashboard, closing the issue when done.

    Returns an outcome line. Raises ``TransientGitHubError`` / ``RateLimited`` (retry the job:
    the next run looks before it creates), ``NotFound`` for a deleted issue; a missing App
    permission (``PermissionDenied``) is reported on the dashboard instead."""
    return reconcile_context(gh, repo, issue, sender=sender, reason=reason, job_id=job_id)


@dataclass(frozen=True)
class ReconcileRequest:
    """One plan reconcile: the dispatch issue, who asked and why, what a command adds (skips,
    cancel), and what the caller has already read (issue, config as parsed, dashboard, PRs by
    number in ``known``), so it is not read again."""

    repo: str
    issue: int
    sender: str | None = None
    reason: str = ""
    job_id: str | None = None
    add_skipped: frozenset[str] = frozenset()
    cancel: bool = False
    dashboard: CommentData | None = None
    issue_data: IssueData | None = None
    config: RepoConfig | list[Problem] | None = None
    known: dict[int, PullData] | None = field(default=None, hash=False)
    relaunch: frozenset[str] = frozenset()  # agents `/wavegate relaunch` starts again
    command: int | None = None  # the id of the command comment asking for it
    runs: dict[int, WorkflowRun] | None = field(default=None, hash=False)  # runs a workflow_run event carried
    record: tuple[audit.AuditEntry, ...] = ()  # history entries a command adds (keyed: recorded once)
    allowances: tuple[audit.Allowance, ...] | None = None  # every allowance after a command; None: as recorded


@dataclass
class _Run:
    """What the steps of one reconcile learn and hand on to the next."""

    req: ReconcileRequest
    existing: CommentData | None
    raw: dict[str, Any]
    carried: DashboardState
    ctx: PlanContext | None = None
    base: str = ""
    base_sha: str = ""
    tree_sha: str = ""
    skipped: frozenset[str] = frozenset()
    cancelled: bool = False
    amendments: tuple[Amendment, ...] = ()
    digests: dict[str, str] = field(default_factory=dict)
    updates: dict[str, str] = field(default_factory=dict)
    commented: set[str] = field(default_factory=set)
    removed: dict[str, PullData] = field(default_factory=dict)
    fresh: dict[str, str] = field(default_factory=dict)  # agent → head SHA of a branch this run created
    prs: dict[str, AgentPR] = field(default_factory=dict)
    decisions: dict[str, GateDecision] = field(default_factory=dict)
    verdicts: dict[str, str] = field(default_factory=dict)
    expansions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    written: int = 0
    warnings: tuple[PlanWarning, ...] = ()  # the pre-flight's typo and removed-pattern warnings
    launches: launching.LaunchView = field(default_factory=launching.LaunchView)
    history: tuple[audit.AuditEntry, ...] = ()
    allowances: tuple[audit.Allowance, ...] = ()

    def stop(self, gh: GitHubPort, outcome: str, **changes: Any) -> str:
        """Publish the carried dashboard with ``changes`` (problems, a notice) and stop with ``outcome``."""
        publish_dashboard(gh, self.req.repo, self.req.issue, _with(self.carried, **changes), self.existing)
        return outcome


def reconcile_context(gh: GitHubPort, repo: str, issue: int, **extras: Any) -> str:
    """``reconcile_plan`` with the extras commands and PR jobs need (``ReconcileRequest``'s
    fields: agents to add to the skip list, cancelling, already-read issue, config, dashboard and
    PRs). Runs ``_admit`` then each of ``STEPS`` until one returns an outcome."""
    req = ReconcileRequest(repo=repo, issue=issue, **extras)
    run = _admit(gh, req)
    if isinstance(run, str):
        return run
    for step in STEPS:
        outcome = step(gh, run)
        if outcome is not None:
            return outcome
    return "unreachable"  # the last step always answers


def _admit(gh: GitHubPort, req: ReconcileRequest) -> _Run | str:
    """Gatekeeping: an open dispatch issue, a valid config, a sender allowed to dispatch."""
    iss = req.issue_data or gh.get_issue(req.repo, req.issue)
    cfg_result = req.config if req.config is not None else load_config(gh, req.repo)
    cfg = cfg_result if isinstance(cfg_result, RepoConfig) else RepoConfig()
    if not is_dispatch_issue(iss, cfg):
        return "not an open dispatch issue"
    existing = req.dashboard or find_dashboard(gh, req.repo, req.issue)
    raw = markers.parse_state_marker(existing.body) if existing else {}
    carried = _carried(req.issue, raw)
    history = carried.audit
    for entry in req.record:
        history = audit.record(history, entry)
    allowances = carried.allowances if req.allowances is None else req.allowances
    carried = _with(carried, audit=history, allowances=allowances)
    run = _Run(req=req, existing=existing, raw=raw, carried=carried, history=history, allowances=allowances)
    if isinstance(cfg_result, list):
        return run.stop(gh, "config problems", problems=tuple(cfg_result))
    if req.sender and req.sender != gh.bot_login:
        role = gh.permission(req.repo, req.sender)
        if role not in WRITE_ROLES:
            notice = report.permission_refused(req.sender, role, "dispatch this plan")
            return run.stop(gh, f"{req.sender} ({role}) refused", notice=notice)
    return _preflight(gh, run, iss, cfg)


def _preflight(gh: GitHubPort, run: _Run, iss: IssueData, cfg: RepoConfig) -> _Run | str:
    """The plan parsed and checked against the base branch's tree; the context with its PRs."""
    repo = run.req.repo
    parsed = core_plan.parse_plan(iss.body)
    if not isinstance(parsed, Plan):
        # Findings but no plan: the plan proposed from them stands in for the "no plan" problems.
        proposed = propose.proposal_section(gh, repo, iss, cfg)
        if proposed is not None:
            return run.stop(gh, proposed[0], proposal=proposed[1])
        return run.stop(gh, "plan problems", problems=tuple(parsed))
    run.base = parsed.base or gh.repository(repo).default_branch
    base_sha = gh.branch_sha(repo, run.base)
    if base_sha is None:
        problem = Problem(code="unknown-base", field="base",
                          message=f"the base branch `{run.base}` does not exist",
                          fix="name an existing branch in `base:`, or leave it out for the default branch")
        return run.stop(gh, "unknown base", problems=(problem,))
    tree = gh.tree(repo, base_sha)
    # The base tree's files: overlap witnesses, and patterns matching none of them are typo
    # warnings (shown on the dashboard, never blocking).
    found = plan_check.check_plan(iss.body, cfg, sorted(tree.blobs))
    if not found.passed or found.plan is None:
        return run.stop(gh, "pre-flight problems", problems=found.problems, warnings=found.warnings)
    result, run.warnings = found.plan, found.warnings
    run.base_sha, run.tree_sha = base_sha, tree.sha
    run.ctx = PlanContext(repo=repo, issue=iss, config=cfg, plan=result, hash=markers.plan_hash(result),
                          state=run.raw, dashboard=run.existing)
    load_pulls(gh, run.ctx, run.req.known)
    _recall(gh, run)
    return run


def _recall(gh: GitHubPort, run: _Run) -> None:
    """What the dashboard remembers: skips, cancel, amendments (a new one when the plan hash
    changed), branch updates and one-off comments already made, removed agents' PRs."""
    ctx, carried = _ctx(run), run.carried
    plan = ctx.plan
    run.skipped = frozenset(carried.skipped | run.req.add_skipped) & frozenset(plan.names)
    run.cancelled = carried.cancelled or run.req.cancel
    memo = markers.recorded_memo(run.existing.body if run.existing else None)
    run.digests = {a.name: agent_digest(a) for a in plan.agents}
    new = _new_amendment(run, ctx, memo)
    run.amendments = carried.amendments + new
    if new:
        run.history = _record_amendment(run, new[0])
    updated = memo.get("updated")
    run.updates = {str(k): str(v) for k, v in updated.items()} if isinstance(updated, dict) else {}
    run.commented = {str(c) for c in memo.get("commented") or () if isinstance(c, str | int)}
    removed_names = {n for a in run.amendments for n in a.removed} - set(plan.names)
    run.removed = _removed_pulls(gh, ctx, removed_names)


def _new_amendment(run: _Run, ctx: PlanContext, memo: dict[str, Any]) -> tuple[Amendment, ...]:
    """One amendment when the plan hash differs from the one the dashboard recorded: the agents
    added, removed and changed (by their digests in the memo)."""
    old_hash = run.raw.get("plan_hash")
    if not old_hash or old_hash == ctx.hash:
        return ()
    names = ctx.plan.names
    old_names = set((run.raw.get("prs") or {}).keys())
    old_digests: dict[str, Any] = memo["agents"] if isinstance(memo.get("agents"), dict) else {}
    changed = tuple(n for n in names if n in old_digests and old_digests[n] != run.digests[n])
    return (Amendment(old_hash=old_hash, new_hash=ctx.hash, added=tuple(n for n in names if n not in old_names),
                      removed=tuple(sorted(old_names - set(names))), changed=changed, at=_now()),)


def _record_amendment(run: _Run, amendment: Amendment) -> tuple[audit.AuditEntry, ...]:
    """The history with a plan edit recorded once (keyed by the new plan hash); a grant or revoke
    that made the edit is its own entry already."""
    if any(e.action in (audit.AuditAction.GRANT, audit.AuditAction.REVOKE) for e in run.req.record):
        return run.history
    entry = audit.AuditEntry(audit.AuditAction.AMENDMENT, run.req.sender or "someone", amendment.at or _now(),
                             items=amendment.added + amendment.changed + amendment.removed,
                             key=f"plan:{amendment.new_hash}")
    return audit.record(run.history, entry)


def plan_version(ctx: PlanContext) -> core_version.PlanVersion:
    """The plan version every check run of ``ctx`` states: the plan hash alone (the issue's
    ``updated_at`` also moves with every comment, so it would rewrite checks for nothing)."""
    return core_version.plan_version(ctx.hash, None)


def _ctx(run: _Run) -> PlanContext:
    assert run.ctx is not None  # set by _preflight before any step runs
    return run.ctx


def dispatch_missing(gh: GitHubPort, run: _Run) -> str | None:
    """Step: a branch and a PR for every agent that has none (none once the plan is cancelled)."""
    ctx = _ctx(run)
    missing = [] if run.cancelled else [a for a in ctx.plan.agents if a.name not in ctx.pulls]
    # One listing of the plan's branches instead of a ref read per agent to dispatch.
    prefix = f"{ctx.config.branch_prefix.rstrip('/')}/{run.req.issue}/"
    heads = gh.branch_heads(run.req.repo, prefix) if len(missing) > 1 else None
    try:
        for agent in sorted(missing, key=lambda a: a.wave):
            listing = heads if heads is not None and ctx.branch(agent.name).startswith(prefix) else None
            created, sha = _dispatch_agent(gh, ctx, agent, run.base, run.base_sha, run.tree_sha, listing)
            ctx.pulls[agent.name] = created
            if sha is not None:
                run.fresh[agent.name] = sha
    except PermissionDenied as exc:
        notice = report.missing_permission_notice(exc.request, exc.permission)
        return run.stop(gh, "permission missing", notice=notice)
    return None


def check_each_pr(gh: GitHubPort, run: _Run) -> str | None:
    """Step: both checks on every open agent PR's head, unlocks, removed agents' PRs retired."""
    ctx = _ctx(run)
    run.prs = ctx.agent_prs()
    run.decisions = gates.evaluate(ctx.plan, run.prs, run.skipped, run.cancelled, frozenset(run.removed))
    matcher = territory.PlanMatcher(ctx.plan, ctx.config)
    run.expansions = {name: body_expansions(p.body) for name, p in ctx.pulls.items() if p.state != "open"}
    for agent in ctx.plan.agents:
        pull = ctx.pulls.get(agent.name)
        if pull is None or pull.state != "open" or not pull.number:  # number 0: a dry-run placeholder
            continue
        _check_agent_pr(gh, run, agent, pull, matcher)
    for name, pull in run.removed.items():
        _retire(gh, ctx, name, pull, run.decisions.get(name), run.commented)
    return None


def _check_agent_pr(gh: GitHubPort, run: _Run, agent: Agent, pull: PullData,
                    matcher: territory.PlanMatcher) -> None:
    ctx, repo, fresh = _ctx(run), run.req.repo, agent.name in run.fresh
    if not fresh:
        _refresh_prompt(gh, ctx, agent, pull)
    runs_before = None if fresh else gh.check_runs(repo, pull.head_sha)
    # A branch this run created holds one empty commit on ``base_sha``: its set is empty, and
    # is memoised so that later passes neither list it nor read the PR for ``changed_files``.
    changes = gh.pull_changes(repo, pull, base_sha=run.base_sha if pull.base_ref == run.base else None,
                              known=ChangeSet(files=(), source=FileSource.FILES, listed=0, changed=0)
                              if run.fresh.get(agent.name) == pull.head_sha else None)
    verdict = territory.classify_agent_pr(ctx.plan, agent.name, changes, run.prs, ctx.config, matcher)
    run.verdicts[agent.name] = verdict.conclusion.value
    run.expansions[agent.name] = scope_expansions(gh, repo, pull, changes)
    decision = run.decisions[agent.name]
    outs = checks.judged(report.territory_output(verdict), report.gate_output(decision, ctx.plan, prs=run.prs),
                         verdict, plan_version(ctx), audit.allowance_for(run.allowances, pull.number))
    # A branch this run created has no other commit yet: its head needs no re-read (a push
    # since then sends a synchronize, checked on its own head).
    n = checks.post(gh, repo, pull.head_sha, outs, number=None if fresh else pull.number,
                    runs=runs_before or ())
    run.written += n or 0
    # Level-triggered: whatever the previous run managed before it stopped, an unlocked PR
    # ends with its comment and (once per base head) an update from the base.
    if decision.state is GateState.UNLOCKED and gates.dependencies(ctx.plan)[agent.name]:
        _unlock(gh, ctx, agent, pull, decision, run.prs, matcher, run.base, run.base_sha,
                run.updates, run.commented)


def launch_ready(gh: GitHubPort, run: _Run) -> str | None:
    """Step: start the agents whose time has come (and those `/wavegate relaunch` names), exactly
    once each; read their runs for the dashboard (``usecases.launch``)."""
    ctx = _ctx(run)
    run.launches = launching.launch_plan(gh, ctx, decisions=run.decisions, prs=run.prs, base_sha=run.base_sha,
                                         relaunch=run.req.relaunch, command=run.req.command,
                                         known_runs=run.req.runs)
    return None


def publish(gh: GitHubPort, run: _Run) -> str | None:
    """Step: the dashboard, with the gate signature and the memo in its hidden markers."""
    ctx, plan, prs = _ctx(run), _ctx(run).plan, run.prs
    rows = tuple(
        AgentRow(agent=a.name, wave=a.wave, territory=a.territory,
                 pr=prs.get(a.name, AgentPR(agent=a.name)), territory_conclusion=run.verdicts.get(a.name),
                 gate=run.decisions.get(a.name), scope_expansions=run.expansions.get(a.name, ()))
        for a in plan.agents
    )
    dispatched_at = run.carried.dispatched_at or (_now() if ctx.pulls else None)
    state = DashboardState(issue=run.req.issue, plan=plan, plan_hash=ctx.hash, rows=rows,
                           cancelled=run.cancelled, skipped=run.skipped, amendments=run.amendments,
                           dispatched_at=dispatched_at, warnings=run.warnings, audit=run.history,
                           allowances=run.allowances, **launching.dashboard_fields(run.launches, rows, run.skipped))
    open_numbers = {str(p.number) for p in ctx.pulls.values() if p.state == "open"}
    memo = {"agents": run.digests,
            "updated": {k: v for k, v in sorted(run.updates.items()) if k in open_numbers},
            "commented": sorted(run.commented)}
    publish_dashboard(gh, run.req.repo, run.req.issue, state, run.existing,
                      markers.gate_signature(prs, run.decisions), memo)
    return None


def close_when_done(gh: GitHubPort, run: _Run) -> str | None:
    """Step: close the issue once every agent is merged or skipped (unless cancelled); the outcome."""
    ctx, req = _ctx(run), run.req
    done = bool(ctx.plan.agents) and all(run.prs.get(a.name, AgentPR(a.name)).state is PrState.MERGED
                                         or a.name in run.skipped for a in ctx.plan.agents)
    if done and ctx.config.close_issue_when_done and not run.cancelled:
        gh.close_issue(req.repo, req.issue)
        return "done; issue closed"
    return f"{len(run.fresh)} dispatched, {run.written} check run(s) written" + (f" ({req.reason})" if req.reason else "")


Step = Callable[[GitHubPort, _Run], "str | None"]
# The reconcile after gatekeeping (``_admit``): each step returns None to go on, or the outcome.
# A new step (e.g. launching the agents of an open wave) goes in its place in this tuple.
STEPS: tuple[Step, ...] = (dispatch_missing, check_each_pr, launch_ready, publish, close_when_done)


def _dispatch_agent(gh: GitHubPort, ctx: PlanContext, agent: Agent, base: str, base_sha: str,
                    tree_sha: str, heads: dict[str, str] | None = None) -> tuple[PullData, str | None]:
    """Branch (reused when it exists) and PR for one agent. ``heads`` (branch → SHA) is a listing
    of branches that covers this agent's; without it the branch is read. Returns the PR and,
    when this run created the branch, its head SHA (the empty commit: no file changed)."""
    branch = ctx.branch(agent.name)
    sha = heads.get(branch) if heads is not None else gh.branch_sha(ctx.repo, branch)
    created = None
    if sha is None:
        sha = gh.create_branch(ctx.repo, branch, base_sha, tree_sha=tree_sha,
                               message=f"Start {agent.name} (dispatch #{ctx.issue.number})")
        created = sha
    pull = gh.create_pull(ctx.repo, base, branch, report.pr_title(ctx.issue.number, agent.name, ctx.plan),
                          report.dispatch_prompt(ctx.plan, agent.name, ctx.issue.number, ctx.hash, ctx.config),
                          look_first=False)
    return pull, created


def agent_digest(agent: Agent) -> str:
    """12 hex digits over what an amendment can change for one agent: territory, findings,
    do_not_modify, wave and after (not its position or line in the issue)."""
    meaning = {"territory": list(agent.territory), "findings": list(agent.findings),
               "do_not_modify": list(agent.do_not_modify), "wave": agent.wave, "after": list(agent.after)}
    text = json.dumps(meaning, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _prompt_part(body: str) -> tuple[str, str] | None:
    """A PR body split after its dispatch marker: (prompt, what follows), or None without one."""
    match = markers.PR_MARKER_LINE.search(body)
    if match is None:
        return None
    return body[: match.end()], body[match.end():]


def _same_prompt(old: str, new: str) -> bool:
    # The marker's plan hash changes with any amendment; alone it is no reason to rewrite a body.
    def norm(text: str) -> str:
        return markers.PR_MARKER_LINE.sub("<!-- wavegate -->", text.replace("\r\n", "\n")).strip()
    return norm(old) == norm(new)


def _refresh_prompt(gh: GitHubPort, ctx: PlanContext, agent: Agent, pull: PullData) -> None:
    """Rewrite an open agent PR's dispatch prompt when the plan changed what it says (``PATCH
    /pulls/{n}``), only then. What the agent added after the marker stays, and a ``## Scope
    expansions`` section written inside the prompt is moved after it, never lost."""
    if pull.state != "open" or not pull.number:
        return
    new = report.dispatch_prompt(ctx.plan, agent.name, ctx.issue.number, ctx.hash, ctx.config)
    parts = _prompt_part(pull.body or "")
    if parts is None:
        log.info("#%s: no dispatch marker in the body; the prompt is left alone", pull.number)
        return
    old, rest = parts
    if _same_prompt(old, new):
        return
    section = markers.SCOPE_SECTION.search(old)
    if section is not None and not markers.SCOPE_SECTION.search(rest):
        end = markers.PR_MARKER_LINE.search(old, section.end())
        kept = old[section.start(): end.start() if end else len(old)].strip()
        rest = "\n\n" + kept + "\n" + rest
    gh.edit_pull_body(ctx.repo, pull.number, new.rstrip("\n") + rest)


def _removed_pulls(gh: GitHubPort, ctx: PlanContext, names: set[str]) -> dict[str, PullData]:
    numbers = ctx.state.get("prs") or {}
    out = {}
    for name in sorted(names):
        pull = None
        if isinstance(numbers.get(name), int):
            try:
                pull = gh.get_pull(ctx.repo, numbers[name])
            except NotFound:
                pull = None
        if pull is None:
            branch = markers.branch_name(ctx.issue.number, Agent(name=name, territory=()),
                                         ctx.config.branch_prefix)
            pull = gh.find_pull(ctx.repo, branch)
        if pull is not None:
            out[name] = pull
    return out


def _retire(gh: GitHubPort, ctx: PlanContext, name: str, pull: PullData,
            decision: GateDecision | None, commented: set[str]) -> None:
    """A removed agent's open PR: a failing gate, and exactly one comment saying why (looked for
    by its marker unless the memo already records it, so a run that stopped in between heals)."""
    if pull.state != "open":
        return
    decision = decision or GateDecision(agent=name, wave=1, state=GateState.REMOVED)
    checks.post(gh, ctx.repo, pull.head_sha, [report.gate_output(decision, None)], number=pull.number)
    key = f"removed:{pull.number}"
    if key in commented:
        return
    marker = markers.removed_marker(ctx.issue.number, name)
    if not any(marker in c.body for c in gh.comments(ctx.repo, pull.number)):
        gh.create_comment(ctx.repo, pull.number,
                          report.removed_agent_comment(name, ctx.issue.number) + "\n" + marker)
    commented.add(key)


def _unlock(gh: GitHubPort, ctx: PlanContext, agent: Agent, pull: PullData, decision: GateDecision,
            prs: dict[str, AgentPR], matcher: territory.PlanMatcher, base: str, base_sha: str,
            updates: dict[str, str], commented: set[str]) -> None:
    """An unlocked PR with dependencies, on every reconcile (level-triggered, idempotent):

    - when ``update_branches`` is on and its head does not contain the base head ``base_sha``:
      ``update-branch`` with ``expected_head_sha``, at most once per (PR, base head) — ``updates``
      (PR number → base head last tried) is the memo that stops a conflicting branch from being
      retried forever; a 422 (head moved, or nothing to merge) is logged, not an error;
    - an unlock comment, unless one (found by its marker) already exists;
    - after a successful update, follow the head move and post both checks on the new head
      (GitHub sends the resulting ``synchronize`` with the App as sender, which is ignored)."""
    updated = False
    key = str(pull.number)
    if ctx.config.update_branches and updates.get(key) != base_sha:
        if not gh.contains(ctx.repo, base_sha, pull.head_sha):
            try:
                gh.update_branch(ctx.repo, pull.number, pull.head_sha)
                updated = True
            except Conflict as exc:  # the head moved meanwhile, or a merge conflict
                log.info("#%s: branch not updated: %s", pull.number, exc)
        updates[key] = base_sha
    comment_key = f"unlocked:{pull.number}"
    if comment_key not in commented:
        marker = markers.unlock_marker(ctx.issue.number, agent.name)
        if not any(marker in c.body for c in gh.comments(ctx.repo, pull.number)):
            text = report.unlock_comment(decision, ctx.plan, prs=prs, updated_from=base if updated else None)
            gh.create_comment(ctx.repo, pull.number, text + "\n" + marker)
        commented.add(comment_key)
    if not updated:
        return
    moved = None
    for attempt in range(FOLLOW_ATTEMPTS):
        current = gh.get_pull(ctx.repo, pull.number)
        if current.head_sha != pull.head_sha:
            moved = current
            break
        sleep(FOLLOW_DELAY * (attempt + 1))
    if moved is None or moved.state != "open":
        log.info("#%s: head did not move after update-branch; the periodic reconcile follows up", pull.number)
        return
    changes = gh.pull_changes(ctx.repo, moved)
    verdict = territory.classify_agent_pr(ctx.plan, agent.name, changes, prs, ctx.config, matcher)
    checks.post(gh, ctx.repo, moved.head_sha,
                checks.judged(report.territory_output(verdict), report.gate_output(decision, ctx.plan, prs=prs),
                              verdict, plan_version(ctx), allowance_of(ctx, moved.number)),
                number=moved.number)
