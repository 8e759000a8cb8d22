"""Use cases: fetch from GitHub, decide with the core, write back — idempotently.

Every function takes a ``GitHubPort`` for one installation plus primitive identifiers, re-reads
current state (events are triggers, not data) and returns a short outcome string for logs.
Running any of them twice writes nothing the second time: branches and PRs are looked up before
they are created, check runs and the dashboard are written only when their content changes.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from ..core import gates, markers, report, territory
from ..core.model import (
    GATE_CHECK,
    TERRITORY_CHECK,
    ChangeSet,
    CheckOutput,
    Conclusion,
    Plan,
    RepoConfig,
)
from ..errors import NotFound
from ..gh import GitHubPort
from ..records import PullData
from . import checks
from .context import (
    PlanContext,
    active_plans,
    allowance_in,
    allowance_of,
    load_config,
    plan_for_pull,
)
from .plan import plan_version, reconcile_context, write_dashboard_notice

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- one PR


def _changes(gh: GitHubPort, repo: str, pull: PullData) -> ChangeSet:
    """Every path ``pull`` changes (``GitHubPort.pull_changes``), memoised by (PR, head, base
    head): the current head of the PR's base branch is read first (``branch_sha``, a conditional
    GET: a 304, which GitHub does not charge, unless the base moved), so a set listed here is
    the one a later refresh or unlock of the plan finds, and a set they listed is not listed again
    here. Read before the files, not after: GitHub lists the diff from the merge base with the
    base head it has *when asked*, so should the base move meanwhile the set is kept under the
    older base head, which later passes no longer ask for (read after, a set listed against the
    older base could be kept under the newer one). A base branch that is gone (``None``) means
    no memo. Raises the port's errors."""
    base_sha = gh.branch_sha(repo, pull.base_ref) if pull.base_ref else None
    return gh.pull_changes(repo, pull, base_sha=base_sha)


def _verdict_outputs(gh: GitHubPort, repo: str, pull: PullData, cfg,
                     found: tuple[PlanContext, str] | None,
                     changes: ChangeSet | None = None) -> list[CheckOutput]:
    """Both check outputs for ``pull``'s current head."""
    if changes is None:
        changes = _changes(gh, repo, pull)
    if found is None:
        plans = active_plans(gh, repo, cfg)
        active = [(_without_skipped(ctx), ctx.agent_prs()) for ctx in plans]
        verdict = territory.classify_other_pr(active, changes)
        return checks.judged(report.territory_output(verdict), report.non_agent_gate_output(), verdict,
                             None, allowance_in(plans, pull.number))
    ctx, agent = found
    prs = ctx.agent_prs()
    verdict = territory.classify_agent_pr(ctx.plan, agent, changes, prs, ctx.config)
    decision = gates.evaluate(ctx.plan, prs, ctx.skipped, ctx.cancelled)[agent]
    return checks.judged(report.territory_output(verdict), report.gate_output(decision, ctx.plan), verdict,
                         plan_version(ctx), allowance_of(ctx, pull.number))


def _without_skipped(ctx: PlanContext) -> Plan:
    skipped = ctx.skipped
    return replace(ctx.plan, agents=tuple(a for a in ctx.plan.agents if a.name not in skipped))


def check_pull(gh: GitHubPort, repo: str, number: int, head_sha: str | None = None, *,
               job_id: str | None = None) -> str:
    """Territory check and wave gate for one PR on its current head (``pull_request`` opened,
    synchronize, reopened, edited with ``changes.base`` — GitHub's file list is then the diff
    against the new base —, ready_for_review, converted_to_draft). Drafts are checked like any
    PR, so marking one ready never waits for a new event.

    ``head_sha`` is the payload's head; when the PR has moved on the work is dropped
    (``"stale"``), and the head is re-read again just before writing. When the PR's state changed
    what the rest of its plan shows (reopened, merged while an event was lost) the whole plan is
    re-evaluated. Raises the adapter's errors (``NotFound`` for an unknown PR)."""
    pull = gh.get_pull(repo, number)
    if head_sha and pull.head_sha != head_sha:
        log.info("#%s: event for %s but head is %s; dropped", number, head_sha[:12], pull.head_sha[:12])
        return "stale"
    if pull.state != "open":
        return "not open"
    raw = load_config(gh, repo)
    cfg = _usable(raw)
    found = plan_for_pull(gh, repo, pull, cfg)
    if found is not None and _plan_moved(found[0]):
        # The PR's state changed what the plan's other gates say (reopened, closed, merged while
        # an event was lost): re-evaluate the whole plan, this PR included.
        return reconcile_context(gh, repo, found[0].issue.number, job_id=job_id, reason=f"#{number}",
                                 **_already_read(found[0], raw))
    outputs = _verdict_outputs(gh, repo, pull, cfg, found)
    written = checks.post(gh, repo, pull.head_sha, outputs, number=number)
    if written is None:
        return "stale"
    return f"#{number}: {written} check run(s) written"


def _plan_moved(ctx: PlanContext) -> bool:
    prs = ctx.agent_prs()
    decisions = gates.evaluate(ctx.plan, prs, ctx.skipped, ctx.cancelled)
    recorded = markers.recorded_signature(ctx.dashboard.body if ctx.dashboard else None)
    return recorded is not None and recorded != markers.gate_signature(prs, decisions)


def _config(gh: GitHubPort, repo: str):
    return _usable(load_config(gh, repo))


def _usable(cfg):
    # An invalid config is reported on each dashboard; checks fall back to the defaults rather
    # than leaving required checks unwritten.
    return RepoConfig() if isinstance(cfg, list) else cfg


def _already_read(ctx: PlanContext, raw_config) -> dict:
    """What a PR job has just read of its plan, for ``reconcile_context`` not to read it again:
    the issue, the config as parsed (problems included, so the dashboard still reports them),
    the dashboard and the plan's PRs."""
    known = {p.number: p for p in (*ctx.pulls.values(), *ctx.removed.values())}
    return {"issue_data": ctx.issue, "config": raw_config, "dashboard": ctx.dashboard, "known": known}


def pull_closed(gh: GitHubPort, repo: str, number: int, *, job_id: str | None = None) -> str:
    """A PR closed (merged or not): re-evaluate the plan it belongs to, if any — that plan's PRs
    only (a merge may unlock dependants; an unmerged close blocks them with the way out)."""
    return reconcile_plan_of(gh, repo, gh.get_pull(repo, number), job_id=job_id, reason=f"#{number} closed")


def reconcile_plan_of(gh: GitHubPort, repo: str, pull: PullData, *, job_id: str | None, reason: str,
                      **extras: Any) -> str:
    """Reconcile the active plan ``pull`` belongs to (its PRs only), handing over what was just
    read; ``extras`` go to ``reconcile_context``. A PR in no active plan changes nothing."""
    raw = load_config(gh, repo)
    found = plan_for_pull(gh, repo, pull, _usable(raw))
    if found is None:
        return f"#{pull.number}: in no active plan"
    ctx, _agent = found
    return reconcile_context(gh, repo, ctx.issue.number, job_id=job_id, reason=reason,
                             **_already_read(ctx, raw), **extras)


def rerun_checks(gh: GitHubPort, repo: str, head_sha: str, pr_numbers: tuple[int, ...] = (), *,
                 check_name: str | None = None, job_id: str | None = None) -> str:
    """``check_run``/``check_suite`` ``rerequested``: re-post our checks on ``head_sha``, finding
    the PR from the SHA when ``pr_numbers`` is empty (``GET /pulls?state=open`` and a match
    on ``head.sha``). New runs are created (never without ``head_sha``); ``check_name`` limits it
    to one check. An unknown SHA logs a line and writes nothing."""
    if not head_sha:
        log.info("re-run requested without a head SHA; nothing to do")
        return "no head sha"
    pulls = []
    for n in pr_numbers:
        try:
            pull = gh.get_pull(repo, n)
        except NotFound:
            continue
        if pull.state == "open" and pull.head_sha == head_sha:
            pulls.append(pull)
    if not pr_numbers:
        pulls = [p for p in gh.open_pulls(repo) if p.head_sha == head_sha]
    if not pulls:
        log.info("re-run requested for %s: no open PR has that head", head_sha)
        return "no open PR"
    cfg = _config(gh, repo)
    written = 0
    for pull in pulls:
        found = plan_for_pull(gh, repo, pull, cfg)
        outputs = _verdict_outputs(gh, repo, pull, cfg, found)
        if check_name in (TERRITORY_CHECK, GATE_CHECK):
            outputs = [o for o in outputs if o.name == check_name]
        posted = checks.post(gh, repo, head_sha, outputs, number=pull.number, runs=(), new_runs=True)
        written += posted or 0
    return f"{written} check run(s) re-posted on {head_sha[:12]}"


def _concluded(out: CheckOutput) -> CheckOutput:
    # A merge queue waits for a concluded check until its timeout: a waiting gate is a failure.
    if out.status == "completed":
        return out
    return replace(out, status="completed", conclusion=Conclusion.FAILURE.value)


def check_merge_group(gh: GitHubPort, repo: str, head_sha: str, base_sha: str, head_ref: str, *,
                      job_id: str | None = None) -> str:
    """``merge_group`` ``checks_requested``: conclude both checks on ``head_sha``.

    The PR comes from ``head_ref`` (``…/pr-<N>-<sha>``); its territory verdict is the one for its
    head; its gate passes only if every dependency's merge commit is contained in ``base_sha``.
    Never queued or in_progress (a waiting gate is a failure here); runs on the PR head are not
    touched. A PR in no plan gets the non-agent rules."""
    number = markers.merge_group_pr(head_ref)
    if number is None or not head_sha:
        log.info("merge group %s: no PR number in %r", head_sha, head_ref)
        return "no PR"
    pull = gh.get_pull(repo, number)
    cfg = _config(gh, repo)
    found = plan_for_pull(gh, repo, pull, cfg)
    changes = _changes(gh, repo, pull)
    if found is None:
        outputs = _verdict_outputs(gh, repo, pull, cfg, None, changes)
    else:
        ctx, agent = found
        deps = gates.transitive_dependencies(ctx.plan).get(agent, frozenset())
        merged_into = {}
        for name, p in ctx.pulls.items():
            sha = p.merge_commit_sha
            merged_into[name] = bool(p.merged and name in deps and sha
                                     and gh.contains(repo, sha, base_sha))
        prs = ctx.agent_prs(merged_into=merged_into)
        verdict = territory.classify_agent_pr(ctx.plan, agent, changes, ctx.agent_prs(), ctx.config)
        decision = gates.evaluate(ctx.plan, prs, ctx.skipped, ctx.cancelled)[agent]
        outputs = checks.judged(report.merge_group_territory_output(verdict, number),
                                report.gate_output(decision, ctx.plan, prs=prs, merge_group_base=base_sha),
                                verdict, plan_version(ctx), allowance_of(ctx, number))
    outputs = [_concluded(o) for o in outputs]
    written = checks.post(gh, repo, head_sha, outputs)
    return f"merge group {head_sha[:12]} (#{number}): {written} check run(s) written"


# --------------------------------------------------------------------------- periodic & failures


def reconcile_repository(gh: GitHubPort, repo: str, *, job_id: str | None = None) -> str:
    """Periodic healing: reconcile every active (labelled, open) dispatch issue of ``repo``."""
    cfg = _config(gh, repo)
    done = []
    for iss in gh.open_issues(repo, cfg.label):
        done.append(f"#{iss.number}: {reconcile_context(gh, repo, iss.number, job_id=job_id)}")
    return "; ".join(done) or "no active plan"


def report_failure(gh: GitHubPort, repo: str, *, number: int | None, head_sha: str | None,
                   issue: int | None, what: str, job_id: str | None) -> str:
    """After the last retry: make the affected check runs (or the dashboard) say what failed.

    With ``number`` and ``head_sha`` both checks on that head become failures naming ``what`` and
    ``job_id`` (dropped when the head moved); with ``issue`` the dashboard carries a notice."""
    if number is not None and head_sha:
        try:
            pull = gh.get_pull(repo, number)
        except NotFound:
            return "PR gone"
        if pull.head_sha != head_sha:
            return "stale"
        outputs = [report.error_output(name, what, job_id) for name in (TERRITORY_CHECK, GATE_CHECK)]
        written = checks.post(gh, repo, head_sha, outputs, number=number)
        return f"#{number}: failure reported ({written})"
    if issue is not None:
        write_dashboard_notice(gh, repo, issue, what, job_id)
        return f"#{issue}: failure noted on the dashboard"
    return "nothing to report on"

