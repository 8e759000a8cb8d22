"""``/wavegate`` commands on a dispatch issue: who may run them, what each does, the answers."""

from __future__ import annotations

from ..core import commands as core_commands
from ..core import report, report_commands
from ..core.model import RepoConfig
from ..gh import GitHubPort
from ..records import IssueData
from . import propose
from .context import WRITE_ROLES, find_dashboard, is_dispatch_issue, load_context
from .plan import reconcile_context
from .pulls import _config


def handle_command(gh: GitHubPort, repo: str, issue: int, comment_id: int, sender: str, *,
                   job_id: str | None = None) -> str:
    """``/wavegate`` commands in a comment on a dispatch issue: adopt (first, ``propose.adopt``),
    refresh, skip AGENT, cancel, acknowledged with a +1 reaction; anything else gets the help.
    Senders need write, maintain or admin (others get a polite refusal); the app's own comments
    are ignored. Skips and cancel live in the dashboard's hidden state; the plan is re-evaluated."""
    if gh.bot_login and sender == gh.bot_login:
        return "own comment"
    comment = gh.get_comment(repo, comment_id)
    cmds = core_commands.parse_commands(comment.body)
    if not cmds:
        return "no command"
    cfg = _config(gh, repo)
    iss = gh.get_issue(repo, issue)
    if not is_dispatch_issue(iss, cfg):
        return "not a dispatch issue"
    role = gh.permission(repo, sender)
    if role not in WRITE_ROLES:
        verbs = " ".join(sorted({c.verb for c in cmds}))
        gh.create_comment(repo, issue, report.permission_refused(sender, role, f"run /wavegate {verbs}"))
        return f"{sender} ({role}) refused"
    iss, replies = _adopt_first(gh, repo, iss, cfg, cmds, comment_id, sender)
    dashboard = find_dashboard(gh, repo, issue)
    ctx = load_context(gh, repo, iss, cfg, dashboard=dashboard, with_pulls=False)
    skip: set[str] = set()
    relaunch: set[str] = set()
    cancel = False
    for cmd in cmds:
        if cmd.verb == "skip" and ctx is not None and cmd.args:
            unknown = [a for a in cmd.args if ctx.plan.agent(a) is None]
            replies.extend(report.skip_unknown_agent(a, ctx.plan) for a in unknown)
            skip.update(a for a in cmd.args if a not in unknown)
            if unknown:
                continue
        elif cmd.verb == "relaunch" and ctx is not None and cmd.args:
            unknown = [a for a in cmd.args if ctx.plan.agent(a) is None]
            replies.extend(report_commands.unknown_agent(a, ctx.plan) for a in unknown)
            relaunch.update(a for a in cmd.args if a not in unknown)
            if unknown:
                continue
        elif cmd.verb == "cancel":
            cancel = True
        elif cmd.verb in ("refresh", "adopt") or (cmd.verb == "skip" and ctx is None):
            pass
        else:
            replies.append(report.command_help(cmd.raw or cmd.verb))
    for text in replies:
        gh.create_comment(repo, issue, text)
    if len(replies) < len(cmds):
        gh.add_reaction(repo, comment_id, "+1")
    if ctx is None:
        return "plan not valid; commands acknowledged"
    outcome = reconcile_context(gh, repo, issue, job_id=job_id, reason="command",
                                add_skipped=frozenset(skip), cancel=cancel, dashboard=dashboard,
                                issue_data=iss, config=cfg, relaunch=frozenset(relaunch),
                                command=comment_id if relaunch else None)
    return f"commands {[c.verb for c in cmds]}: {outcome}"


def _adopt_first(gh: GitHubPort, repo: str, iss: IssueData, cfg: RepoConfig, cmds: list[core_commands.Command],
                 comment_id: int, sender: str) -> tuple[IssueData, list[str]]:
    """``/wavegate adopt`` before the other commands, so they (and the reconcile) see the plan it
    wrote: the issue as it now is, and the replies to post."""
    replies: list[str] = []
    for cmd in cmds:
        if cmd.verb == "adopt":
            adoption = propose.adopt(gh, repo, iss, cfg, comment_id, sender)
            iss = adoption.issue
            replies += [adoption.reply] if adoption.reply else []
    return iss, replies
