"""Steering a running plan (DESIGN §3.5): ``/wavegate grant``, ``revoke``, ``allow`` and
``revoke #N`` in a comment on the dispatch issue or on a PR of the plan.

Fetch → decide → write, idempotently. A grant or revoke is decided by ``core.amend.amend_checked``
(the full pre-flight on the amended plan); when it changes the plan the issue body is edited (the
issue stays the one source of truth) and the plan is reconciled at once — every open PR re-checked,
the dispatch prompt rewritten — then the agent's PR gets a comment. An allowance lives in the
dashboard's hidden state (``core.audit``). Each command is keyed by its comment id and position
(``audit.command_key``): a redelivered comment finds its key in the history and changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ..core import amend as core_amend
from ..core import audit
from ..core import plan as core_plan
from ..core import report_commands as say
from ..core.commands import Command, Verb
from ..core.model import Plan, RepoConfig
from ..core.report_commands import Answer
from ..errors import NotFound
from ..gh import GitHubPort
from ..records import IssueData, PullData
from .context import is_dispatch_issue, load_context, plan_for_pull

log = logging.getLogger(__name__)

STEERING = frozenset({Verb.GRANT, Verb.REVOKE, Verb.ALLOW, Verb.REVOKE_ALLOWANCE})
_STEER_MARKER = "<!-- wavegate-steer {key} -->"


@dataclass(frozen=True)
class Place:
    """Where a comment was made: the dispatch ``issue`` it steers (None for a PR of no plan) and
    the ``pull`` it is on (None on the dispatch issue)."""

    issue: IssueData | None
    pull: PullData | None = None


def locate(gh: GitHubPort, repo: str, number: int, cfg: RepoConfig) -> Place | None:
    """The place of a comment on issue or PR ``number``: an open dispatch issue, a PR of a plan
    (its dispatch issue), any other open PR (no plan), or None (nothing Wavegate steers).
    GitHub's comment events name a PR by its issue number; ``GET /issues/N`` of a PR carries no
    dispatch label, so the PR is read next."""
    try:
        issue = gh.get_issue(repo, number)
    except NotFound:
        issue = None
    if issue is not None and is_dispatch_issue(issue, cfg):
        return Place(issue)
    try:
        pull = gh.get_pull(repo, number)
    except NotFound:
        return None
    if pull.state != "open":
        return None
    found = plan_for_pull(gh, repo, pull, cfg)
    return Place(found[0].issue if found else None, pull)


@dataclass
class Steering:
    """What the steering commands of one comment did to one plan: the issue ``body`` after them,
    history entries to ``record``, the ``allowances`` after them (None: untouched), comments to
    post once the plan is reconciled (``notes``: agent → text), PRs of no plan to re-check,
    ``replies`` to the comment and one ``Answer`` per command."""

    body: str | None
    history: tuple[audit.AuditEntry, ...]
    allowances: tuple[audit.Allowance, ...]
    record: list[audit.AuditEntry] = field(default_factory=list)
    allowances_changed: bool = False
    notes: list[tuple[str, str]] = field(default_factory=list)
    recheck: set[int] = field(default_factory=set)
    replies: list[str] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    edited: bool = False


@dataclass(frozen=True)
class Request:
    """One comment's steering: who, when, which comment, where."""

    repo: str
    comment_id: int
    sender: str
    at: datetime
    place: Place
    config: RepoConfig


def steer(gh: GitHubPort, req: Request, issue: IssueData, state: dict, commands: list[tuple[int, Command]]) -> Steering:
    """Decide each steering command (``(index in the comment, command)``) of one comment for the
    plan of ``issue`` whose dashboard hidden state is ``state``; edits the issue body when a
    grant or revoke changed the plan. Raises the port's errors."""
    out = Steering(body=issue.body, history=audit.decode_audit(state.get("audit")),
                   allowances=audit.decode_allowances(state.get("allowances")))
    for index, cmd in commands:
        key = audit.command_key(req.comment_id, index)
        if any(e.key == key for e in out.history):
            out.answers.append(Answer.NOTHING_TO_DO)  # a redelivered comment: done already
        elif cmd.verb in (Verb.GRANT, Verb.REVOKE):
            _territory(gh, req, issue, cmd, key, out)
        elif cmd.verb is Verb.ALLOW:
            _allow(gh, req, cmd, key, out)
        else:
            _end_allowance(req, cmd, key, out)
    if out.edited and out.body is not None:
        gh.edit_issue_body(req.repo, issue.number, out.body)
    return out


def _repo_paths(gh: GitHubPort, repo: str, body: str | None) -> list[str]:
    """The base branch's paths, for the pre-flight's witnesses (empty when unreadable)."""
    parsed = core_plan.parse_plan(body)
    base = parsed.base if isinstance(parsed, Plan) and parsed.base else gh.repository(repo).default_branch
    sha = gh.branch_sha(repo, base)
    return sorted(gh.tree(repo, sha).blobs) if sha else []


def _territory(gh: GitHubPort, req: Request, issue: IssueData, cmd: Command, key: str, out: Steering) -> None:
    """A grant or revoke: amended and pre-flighted; refused, nothing to do, or the new body."""
    action = core_amend.Action.GRANT if cmd.verb is Verb.GRANT else core_amend.Action.REVOKE
    change = core_amend.TerritoryChange(action, cmd.agent or "", cmd.patterns, req.sender, cmd.reason)
    result = core_amend.amend_checked(out.body, change, req.config, _repo_paths(gh, req.repo, out.body))
    if isinstance(result, core_amend.AmendRefused):
        out.replies.append(say.amend_refused(result))
        out.answers.append(Answer.REFUSED)
        return
    if not result.changed:
        out.replies.append(say.amend_nothing_to_do(result))
        out.answers.append(Answer.NOTHING_TO_DO)
        return
    out.body, out.edited = result.body, True
    entry = audit.entry_for(cmd, req.sender, req.at, key, items=result.added or result.removed)
    _remember(out, entry)
    note = say.territory_changed_comment(result, issue.number) + _STEER_MARKER.format(key=key) + "\n"
    out.notes.append((change.agent, note))
    out.answers.append(Answer.DONE)


def _remember(out: Steering, entry: audit.AuditEntry | None) -> None:
    if entry is not None:
        out.record.append(entry)
        out.history = audit.record(out.history, entry)


def _allow(gh: GitHubPort, req: Request, cmd: Command, key: str, out: Steering) -> None:
    """``allow [#N]``: PR N (the PR commented on when bare) passes the territory check."""
    pr = cmd.pr or (req.place.pull.number if req.place.pull else None)
    if pr is None:
        out.replies.append(say.allow_needs_pr())
        out.answers.append(Answer.REFUSED)
        return
    try:
        gh.get_pull(req.repo, pr)
    except NotFound:
        out.replies.append(say.no_such_pr(pr))
        out.answers.append(Answer.REFUSED)
        return
    change = audit.allow(out.allowances, pr, req.sender, req.at, cmd.reason)
    _allowance_changed(out, change, cmd, req, key, pr)


def _end_allowance(req: Request, cmd: Command, key: str, out: Steering) -> None:
    """``revoke #N``: PR N's allowance ends (a reply when it had none)."""
    pr = cmd.pr or 0
    change = audit.revoke_allowance(out.allowances, pr, req.sender, req.at)
    if not change.ended:
        out.replies.append(say.no_allowance(pr))
    _allowance_changed(out, change, cmd, req, key, pr)


def _allowance_changed(out: Steering, change: audit.AllowanceChange, cmd: Command, req: Request,
                       key: str, pr: int) -> None:
    out.allowances = change.allowances
    out.allowances_changed = out.allowances_changed or change.changed
    if change.started or change.ended:
        _remember(out, audit.entry_for(cmd, req.sender, req.at, key, pr=pr))
        out.recheck.add(pr)
        out.answers.append(Answer.DONE)
    else:
        out.answers.append(Answer.NOTHING_TO_DO)


def post_notes(gh: GitHubPort, repo: str, issue: IssueData, cfg: RepoConfig, notes: list[tuple[str, str]]) -> int:
    """Comment on each agent's open PR after a grant or revoke, once: a comment carrying the
    command's marker is looked for first (a job that stopped after writing it heals). Returns
    the number of comments written."""
    if not notes:
        return 0
    ctx = load_context(gh, repo, issue, cfg)
    written = 0
    for agent, text in notes:
        pull = ctx.pulls.get(agent) if ctx is not None else None
        if pull is None or pull.state != "open":
            continue
        marker = text.rstrip("\n").rsplit("\n", 1)[-1]
        if any(marker in c.body for c in gh.comments(repo, pull.number)):
            continue
        gh.create_comment(repo, pull.number, text)
        written += 1
    return written


def comment_time(created_at: datetime | None) -> datetime:
    """When a command was made: the comment's ``created_at`` (UTC), now when GitHub gave none."""
    return (created_at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
