"""``/wavegate`` commands in a comment on a dispatch issue or on a PR of its plan: who may run
them, what each does, the answers (a reaction for every command, a reply when one was refused or
not understood)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..core import audit, markers, report
from ..core import commands as core_commands
from ..core import report_commands as say
from ..core.commands import Command, Verb
from ..core.model import RepoConfig
from ..core.report_commands import Answer
from ..gh import GitHubPort
from ..records import IssueData
from . import propose, steer
from .context import active_plans, find_dashboard, load_context
from .plan import reconcile_context
from .pulls import _config, check_pull

_PLAIN = frozenset({Verb.REFRESH, Verb.SKIP, Verb.CANCEL})
_HANDLED = _PLAIN | steer.STEERING | {Verb.RELAUNCH, Verb.ADOPT}


@dataclass
class _Answers:
    """The replies to a comment and one answer per command."""

    replies: list[str] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)


def handle_command(gh: GitHubPort, repo: str, issue: int, comment_id: int, sender: str, *,
                   job_id: str | None = None) -> str:
    """``/wavegate`` commands in comment ``comment_id`` on issue or PR ``issue``: refresh, skip,
    cancel, grant, revoke (``steer``) and allow / revoke #N, on the dispatch issue or any PR of
    the plan (allow and revoke #N also on a PR of no plan: every active plan holds the allowance).
    Each command needs its role (``core.commands.authorize``: write, ``allow_role`` for
    allowances); a refused or unknown command gets a reply saying why, every command a reaction.
    The app's own comments are ignored. Returns an outcome line; raises the port's errors."""
    if gh.bot_login and sender == gh.bot_login:
        return "own comment"
    comment = gh.get_comment(repo, comment_id)
    cmds = core_commands.parse_commands(comment.body)
    if not cmds:
        return "no command"
    cfg = _config(gh, repo)
    place = steer.locate(gh, repo, issue, cfg)
    if place is None:
        return "not a dispatch issue"
    said = _Answers()
    allowed = _authorized(gh.permission(repo, sender), cmds, cfg, sender, said)
    req = steer.Request(repo, comment_id, sender, steer.comment_time(comment.created_at), place, cfg)
    outcomes = [_on_plan(gh, req, iss, allowed, said, job_id=job_id) for iss in _plans(gh, req, allowed, said)]
    _answer(gh, repo, issue, comment_id, said)
    return f"commands {[str(c.verb) for c in cmds]}: " + ("; ".join(outcomes) or "nothing to do")


def _authorized(role: str, cmds: list[Command], cfg: RepoConfig, sender: str,
                said: _Answers) -> list[tuple[int, Command]]:
    """The commands ``role`` may run, with their position in the comment; one refusal reply per
    role needed, and the help for each command not understood."""
    allowed, refused_roles = [], set()
    for index, cmd in enumerate(cmds):
        if cmd.verb == Verb.UNKNOWN:
            said.replies.append(say.command_help(cmd, cfg.allow_role))
            said.answers.append(Answer.UNKNOWN)
            continue
        auth = core_commands.authorize(cmd, role, cfg.allow_role)
        if auth.allowed:
            allowed.append((index, cmd))
            continue
        said.answers.append(Answer.REFUSED)
        if auth.needed not in refused_roles:
            refused_roles.add(auth.needed)
            said.replies.append(say.permission_refused(sender, auth))
    return allowed


def _plans(gh: GitHubPort, req: steer.Request, allowed: list[tuple[int, Command]],
           said: _Answers) -> list[IssueData]:
    """The dispatch issues the commands act on: the place's plan; on a PR of no plan, every
    active plan for allowances (other commands there are answered with a refusal)."""
    if not allowed:
        return []
    if req.place.issue is not None:
        return [req.place.issue]
    for _index, cmd in allowed:
        if cmd.verb not in (Verb.ALLOW, Verb.REVOKE_ALLOWANCE):
            said.replies.append(say.not_in_a_plan(cmd))
            said.answers.append(Answer.REFUSED)
    allowed[:] = [(i, c) for i, c in allowed if c.verb in (Verb.ALLOW, Verb.REVOKE_ALLOWANCE)]
    return [ctx.issue for ctx in active_plans(gh, req.repo, req.config)] if allowed else []


def _on_plan(gh: GitHubPort, req: steer.Request, iss: IssueData, allowed: list[tuple[int, Command]],
             said: _Answers, *, job_id: str | None) -> str:
    """Run the commands on one plan: steering decided (``steer.steer``), skips and cancel
    collected, then one reconcile that re-checks every PR and records the history; comments on
    agents' PRs and re-checks of allowed PRs follow."""
    first = req.place.issue is None or iss.number == req.place.issue.number
    if first:
        iss = _adopt_first(gh, req, iss, allowed, said)
    dashboard = find_dashboard(gh, req.repo, iss.number)
    ctx = load_context(gh, req.repo, iss, req.config, dashboard=dashboard, with_pulls=False)
    state = ctx.state if ctx is not None else markers.parse_state_marker(dashboard.body if dashboard else None)
    steering = steer.steer(gh, req, iss, state, [(i, c) for i, c in allowed if c.verb in steer.STEERING])
    if first:  # a PR of no plan steers several plans: answer once
        said.replies += steering.replies
        said.answers += steering.answers
    skip, cancel, record = _plain(req, ctx, [(i, c) for i, c in allowed if c.verb in _PLAIN], said)
    relaunch = _relaunches(ctx, [c for _i, c in allowed if c.verb == Verb.RELAUNCH], said)
    for _index, cmd in allowed:
        if first and cmd.verb not in _HANDLED:  # a verb this service does not run here
            said.replies.append(say.command_help(cmd, req.config.allow_role))
            said.answers.append(Answer.UNKNOWN)
    if ctx is None and not steering.edited:
        return "plan not valid; commands acknowledged"
    current = replace(iss, body=steering.body)
    outcome = reconcile_context(
        gh, req.repo, iss.number, job_id=job_id, reason="command", add_skipped=frozenset(skip), cancel=cancel,
        dashboard=dashboard, issue_data=current, config=req.config, record=tuple(steering.record + record),
        allowances=steering.allowances if steering.allowances_changed else None,
        relaunch=frozenset(relaunch), command=req.comment_id if relaunch else None)
    steer.post_notes(gh, req.repo, current, req.config, steering.notes)
    for number in sorted(steering.recheck):
        check_pull(gh, req.repo, number, job_id=job_id)
    return f"#{iss.number}: {outcome}"


def _adopt_first(gh: GitHubPort, req: steer.Request, iss: IssueData, allowed: list[tuple[int, Command]],
                 said: _Answers) -> IssueData:
    """``/wavegate adopt`` before the other commands, so they (and the reconcile) see the plan it
    wrote (``propose.adopt``): the issue as it now is."""
    for _index, cmd in allowed:
        if cmd.verb == Verb.ADOPT:
            adoption = propose.adopt(gh, req.repo, iss, req.config, req.comment_id, req.sender)
            iss = adoption.issue
            said.replies += [adoption.reply] if adoption.reply else []
            said.answers.append(Answer.REFUSED if adoption.reply else Answer.DONE)
    return iss


def _relaunches(ctx, cmds: list[Command], said: _Answers) -> set[str]:
    """The agents ``/wavegate relaunch`` starts again; an agent the plan does not have gets a
    reply listing the plan's agents."""
    agents: set[str] = set()
    for cmd in cmds:
        if ctx is None:
            said.answers.append(Answer.DONE)
            continue
        unknown = [a for a in cmd.args if ctx.plan.agent(a) is None]
        said.replies.extend(say.unknown_agent(a, ctx.plan) for a in unknown)
        agents.update(a for a in cmd.args if a not in unknown)
        said.answers.append(Answer.REFUSED if unknown else Answer.DONE)
    return agents


def _plain(req: steer.Request, ctx, cmds: list[tuple[int, Command]],
           said: _Answers) -> tuple[set[str], bool, list[audit.AuditEntry]]:
    """Refresh, skip and cancel: the agents to skip, whether to cancel, their history entries."""
    skip: set[str] = set()
    cancel = False
    record: list[audit.AuditEntry] = []
    for index, cmd in cmds:
        key = audit.command_key(req.comment_id, index)
        if cmd.verb == Verb.SKIP and ctx is not None:
            unknown = [a for a in cmd.args if ctx.plan.agent(a) is None]
            said.replies.extend(report.skip_unknown_agent(a, ctx.plan) for a in unknown)
            if unknown:
                said.answers.append(Answer.REFUSED)
                continue
            skip.update(cmd.args)
        cancel = cancel or cmd.verb == Verb.CANCEL
        entry = audit.entry_for(cmd, req.sender, req.at, key) if cmd.verb != Verb.REFRESH else None
        if entry is not None and (ctx is not None):
            record.append(entry)
        said.answers.append(Answer.DONE)
    return skip, cancel, record


def _answer(gh: GitHubPort, repo: str, number: int, comment_id: int, said: _Answers) -> None:
    """The replies, then one reaction per kind of answer (GitHub keeps one of each per user)."""
    for text in said.replies:
        gh.create_comment(repo, number, text)
    for content in dict.fromkeys(say.reaction(a) for a in said.answers):
        gh.add_reaction(repo, comment_id, content)
