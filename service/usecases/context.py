"""Reading a dispatch plan's live context from GitHub: the issue, the repository config, the
dashboard comment with its hidden state, and each agent's PR. Everything is re-read on every use
(events are triggers, not data); the dashboard's hidden state only remembers what GitHub cannot
tell (skips, cancel, dispatch time, amendments, PR numbers as a shortcut)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ..core import config as core_config
from ..core import markers
from ..core import plan as core_plan
from ..core.audit import Allowance, allowance_for, decode_allowances
from ..core.expansions import body_expansions, expansion_items
from ..core.model import EXEMPT_FILE, AgentPR, ChangeSet, Plan, Problem, PrState, RepoConfig
from ..errors import NotFound
from ..gh import GitHubPort
from ..records import CommentData, IssueData, PullData

log = logging.getLogger(__name__)

WRITE_ROLES = frozenset({"admin", "maintain", "write"})
RECENT_PULLS = 100  # PRs on one page of ``GitHubPort.recent_pulls``


@dataclass
class PlanContext:
    """One dispatch issue with its valid plan and the PRs GitHub has for it right now.

    ``pulls`` maps agent name to its PR (absent: none yet); ``removed`` holds PRs of agents that an
    amendment took out of the plan; ``state`` is the dashboard's hidden state.
    """

    repo: str
    issue: IssueData
    config: RepoConfig
    plan: Plan
    hash: str
    state: dict[str, Any]
    dashboard: CommentData | None
    pulls: dict[str, PullData] = field(default_factory=dict)
    removed: dict[str, PullData] = field(default_factory=dict)

    @property
    def skipped(self) -> frozenset[str]:
        return frozenset(self.state.get("skipped") or ())

    @property
    def cancelled(self) -> bool:
        return bool(self.state.get("cancelled"))

    def branch(self, agent: str) -> str:
        a = self.plan.agent(agent)
        assert a is not None
        return markers.branch_name(self.issue.number, a, self.config.branch_prefix)

    def agent_prs(self, merged_into: dict[str, bool] | None = None) -> dict[str, AgentPR]:
        """Agent name → ``AgentPR``. ``merged_into`` (agent → contained in a merge group's base)
        turns a merge that is not in that base back into an open PR."""
        out = {}
        for name, pull in self.pulls.items():
            pr = agent_pr(name, pull)
            if merged_into is not None and pr.state is PrState.MERGED and not merged_into.get(name):
                pr = AgentPR(agent=name, number=pr.number, state=PrState.OPEN, head_sha=pr.head_sha,
                             opened_at=pr.opened_at)
            out[name] = pr
        return out


def allowance_of(ctx: PlanContext, number: int) -> Allowance | None:
    """PR ``number``'s active allowance in the plan's hidden state, or None."""
    return allowance_for(decode_allowances(ctx.state.get("allowances")), number)


def allowance_in(plans: list[PlanContext], number: int) -> Allowance | None:
    """PR ``number``'s active allowance in any of ``plans`` (the newest), or None."""
    found = [a for a in (allowance_of(ctx, number) for ctx in plans) if a is not None]
    return max(found, key=lambda a: a.at or datetime.min.replace(tzinfo=UTC)) if found else None


def agent_pr(agent: str, pull: PullData) -> AgentPR:
    """The core's view of one agent PR."""
    state = PrState.MERGED if pull.merged else PrState.OPEN if pull.state == "open" else PrState.CLOSED
    return AgentPR(agent=agent, number=pull.number, state=state, head_sha=pull.head_sha,
                   opened_at=pull.created_at, merged_at=pull.merged_at,
                   merge_commit_sha=pull.merge_commit_sha)


def load_config(gh: GitHubPort, repo: str) -> RepoConfig | list[Problem]:
    """``.github/wavegate.yml`` from the default branch (never a PR branch), parsed."""
    return core_config.parse_config(gh.file_text(repo, core_config.CONFIG_PATH))


def find_dashboard(gh: GitHubPort, repo: str, issue: int) -> CommentData | None:
    """The issue's dashboard comment (the first one carrying the marker, ours when the bot login
    is known), or None."""
    for c in gh.comments(repo, issue):
        if markers.is_dashboard(c.body) and (gh.bot_login is None or c.user in (None, gh.bot_login)):
            return c
    return None


def is_dispatch_issue(issue: IssueData, cfg: RepoConfig) -> bool:
    """Open and carrying the configured label."""
    return issue.state == "open" and cfg.label in issue.labels


def load_pulls(gh: GitHubPort, ctx: PlanContext, known: dict[int, PullData] | None = None) -> None:
    """Fill ``ctx.pulls`` (and ``ctx.removed``): per agent, the PR number remembered in the state
    (checked against the agent's branch) or a lookup by head branch. ``known`` PRs (by number)
    are used without reading them again.

    One ``recent_pulls`` list (the newest 100 PRs, any state) serves every agent it covers,
    instead of a ``get_pull`` or ``find_pull`` per agent; only PRs that are not on it (older
    than the newest 100) are read one by one."""
    known = dict(known or {})
    numbers = ctx.state.get("prs") or {}
    wanted = [n for n in numbers.values() if isinstance(n, int) and n > 0 and n not in known]
    by_branch: dict[str, PullData] = {}
    complete = False
    if wanted or any(a.name not in numbers for a in ctx.plan.agents):
        by_branch, complete = _recent_by_branch(gh, ctx.repo, known)
    for agent in ctx.plan.agents:
        pull = _agent_pull(gh, ctx, numbers.get(agent.name), known, by_branch, complete, ctx.branch(agent.name))
        if pull is not None:
            ctx.pulls[agent.name] = pull
    for name, number in numbers.items():
        if ctx.plan.agent(name) is None:
            pull = _pull_by_number(gh, ctx.repo, number, known)
            if pull is not None:
                ctx.removed[name] = pull


def _recent_by_branch(gh: GitHubPort, repo: str, known: dict[int, PullData]) -> tuple[dict[str, PullData], bool]:
    """One ``recent_pulls`` list: adds its PRs to ``known`` and returns, per head branch of this
    repository, find_pull's choice (the open PR of the branch, else the newest), and whether the
    list holds every PR of the repository."""
    recent = gh.recent_pulls(repo)
    for p in recent:
        known.setdefault(p.number, p)
    by_branch: dict[str, PullData] = {}
    for p in sorted(recent, key=lambda p: (p.state == "open", p.number)):
        if p.same_repo and p.base_repo == repo:
            by_branch[p.head_ref] = p
    return by_branch, len(recent) < RECENT_PULLS


def _agent_pull(gh: GitHubPort, ctx: PlanContext, number: Any, known: dict[int, PullData],
                by_branch: dict[str, PullData], complete: bool, branch: str) -> PullData | None:
    """The agent's PR: the remembered number when it is still the agent's branch, else the
    branch's PR from the list; an open PR of the branch older than the list wins over a closed one."""
    pull = _pull_by_number(gh, ctx.repo, number, known)
    if pull is not None and pull.head_ref == branch and pull.same_repo:
        return pull
    pull = by_branch.get(branch)
    if pull is None or pull.state != "open":
        older = None if complete else gh.find_pull(ctx.repo, branch)
        pull = older or pull
    return pull


def _pull_by_number(gh: GitHubPort, repo: str, number: Any, known: dict[int, PullData]) -> PullData | None:
    if not isinstance(number, int) or number <= 0:
        return None
    if number in known:
        return known[number]
    try:
        return gh.get_pull(repo, number)
    except NotFound:
        return None


def load_context(gh: GitHubPort, repo: str, issue: IssueData, cfg: RepoConfig, *,
                 dashboard: CommentData | None = None, with_pulls: bool = True,
                 known: dict[int, PullData] | None = None) -> PlanContext | None:
    """The context of a dispatch issue whose current plan is valid (pre-flight without the base
    tree: validity does not depend on it), or None."""
    result = core_plan.preflight(issue.body, cfg)
    if not isinstance(result, Plan):
        return None
    if dashboard is None:
        dashboard = find_dashboard(gh, repo, issue.number)
    state = markers.parse_state_marker(dashboard.body) if dashboard else {}
    ctx = PlanContext(repo=repo, issue=issue, config=cfg, plan=result, hash=markers.plan_hash(result),
                      state=state, dashboard=dashboard)
    if with_pulls:
        load_pulls(gh, ctx, known)
    return ctx


def plan_for_pull(gh: GitHubPort, repo: str, pull: PullData, cfg: RepoConfig) -> tuple[PlanContext, str] | None:
    """The active plan a PR is an agent PR of, with the agent's name; None for any other PR.

    An agent PR has its head in this repository (forks never count) on the branch of an agent of
    an open, labelled dispatch issue; a PR based on an agent's branch counts as that agent's work. The PR body marker names the issue; when it is missing or
    wrong, open dispatch issues are searched for an agent with that branch.
    """
    if not pull.same_repo:
        return None
    marker = markers.parse_pr_marker(pull.body)
    if marker is not None:
        try:
            issue = gh.get_issue(repo, marker.issue)
        except NotFound:
            issue = None
        if issue is not None and is_dispatch_issue(issue, cfg):
            found = _agent_of(gh, repo, issue, cfg, pull)
            if found is not None:
                return found
    for issue in gh.open_issues(repo, cfg.label):
        if marker is not None and issue.number == marker.issue:
            continue
        found = _agent_of(gh, repo, issue, cfg, pull)
        if found is not None:
            return found
    return None


def _agent_of(gh: GitHubPort, repo: str, issue: IssueData, cfg: RepoConfig,
              pull: PullData) -> tuple[PlanContext, str] | None:
    result = core_plan.parse_plan(issue.body)
    if not isinstance(result, Plan):
        return None
    for agent in result.agents:
        branch = markers.branch_name(issue.number, agent, cfg.branch_prefix)
        if branch == pull.head_ref:
            ctx = load_context(gh, repo, issue, cfg, known={pull.number: pull})
            if ctx is not None and ctx.plan.agent(agent.name) is not None:
                return ctx, agent.name
    for agent in result.agents:
        # A PR whose base is an agent's branch is that agent's work, whatever opened it (GitHub's
        # coding agent opens its own PR on the branch it was given): checked with its territory.
        if markers.branch_name(issue.number, agent, cfg.branch_prefix) == pull.base_ref:
            ctx = load_context(gh, repo, issue, cfg)
            if ctx is not None and ctx.plan.agent(agent.name) is not None:
                return ctx, agent.name
    return None


def active_plans(gh: GitHubPort, repo: str, cfg: RepoConfig) -> list[PlanContext]:
    """Every open labelled dispatch issue with a valid, not cancelled plan, with its PRs."""
    out = []
    for issue in gh.open_issues(repo, cfg.label):
        ctx = load_context(gh, repo, issue, cfg)
        if ctx is not None and not ctx.cancelled:
            out.append(ctx)
    return out


# --------------------------------------------------------------------------- scope expansions

def scope_expansions(gh: GitHubPort, repo: str, pull: PullData, changes: ChangeSet | None) -> tuple[str, ...]:
    """An agent PR's recorded scope expansions (DESIGN §3.2): the PR description's section, then
    the items of ``SCOPE-EXPANSIONS.md`` when the PR touches it.

    Like every reader of changed paths, both sides of a rename count: a file renamed *to* or
    *from* ``SCOPE-EXPANSIONS.md`` is read at its new path on the PR head (``GET contents`` with
    ``ref``, one request); a removed file has nothing to read."""
    items = list(body_expansions(pull.body))
    for f in changes.files if changes is not None else ():
        if EXEMPT_FILE not in (f.path, f.previous_path) or f.status == "removed":
            continue
        text = gh.file_text(repo, f.path, ref=pull.head_sha)
        items += [i for i in expansion_items(text) if i not in items]
    return tuple(items)
