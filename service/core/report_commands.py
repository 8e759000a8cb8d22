"""Every text of steering a running plan (DESIGN §3.5): the reaction to a command, the replies
that refuse one (and say what would work), the help, the comment on an agent's PR after a grant
or revoke, the allowance note of the territory check, the ready-to-paste grant line, the
dashboard's audit table and allowance list, the plan version line of check runs, and the notes an
amendment writes into the plan. Pinned by ``tests/golden/commands-*.md`` and ``audit-*.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from enum import StrEnum
from typing import TYPE_CHECKING

from .audit import Allowance, AuditAction, AuditEntry, active_allowances, split_shown
from .commands import ROLES, Authorization, Command, Verb, role_rank
from .model import TERRITORY_CHECK, CheckOutput, Conclusion, PathVerdict, Plan, Problem, TerritoryVerdict
from .report_checks import path_line
from .report_format import cell, code, fit_lines, join_names, plural, utc
from .version import PlanVersion

if TYPE_CHECKING:  # amend imports this module for its notes
    from .amend import Amended, AmendRefused


class Answer(StrEnum):
    """How a command ended, for the reaction on the comment that asked for it."""

    DONE = "done"  # it changed what it asked for
    NOTHING_TO_DO = "nothing-to-do"  # already so (a repeated grant, an allow already given)
    REFUSED = "refused"  # not allowed, or it would break the plan: a reply says why
    UNKNOWN = "unknown"  # not understood: the help is the reply


_REACTIONS = {Answer.DONE: "+1", Answer.NOTHING_TO_DO: "+1", Answer.REFUSED: "-1", Answer.UNKNOWN: "confused"}


def quoted(reason: str) -> str:
    """A user's reason, safe to repeat in Wavegate's own comments: no HTML, no mentions (a word
    joiner after ``@``, so repeating it on every dashboard edit notifies nobody) and one line."""
    text = " ".join(reason.split()).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("@", "@\u2060")


def reaction(answer: Answer) -> str:
    """The reaction (GitHub's ``content``: ``+1``, ``-1``, ``confused``) for a command's answer.
    Every command gets one; refused and unknown ones also get a reply."""
    return _REACTIONS[answer]


# --------------------------------------------------------------------------- help

_HELP = (
    ("/wavegate refresh", "re-read the plan, the PRs and their checks, and update what changed"),
    ("/wavegate skip AGENT", "treat an agent as done for the wave gate"),
    ("/wavegate cancel", "stop gating this plan (its checks pass with a note)"),
    ("/wavegate grant AGENT PATTERN… — reason", "add patterns to an agent's territory (the plan "
     "in the issue is edited, after the full pre-flight)"),
    ("/wavegate revoke AGENT PATTERN…", "remove patterns from an agent's territory"),
    ("/wavegate allow #N — reason", "let PR #N pass `wavegate/territory` while it touches active "
     "territories (`/wavegate allow` on a PR means that PR)"),
    ("/wavegate revoke #N", "end PR #N's allowance"),
    ("/wavegate relaunch AGENT", "start an agent again"),
    ("/wavegate adopt", "write the proposed plan on the dashboard into this issue"),
)
_USAGE = {
    "skip": "`/wavegate skip` needs the name of an agent: `/wavegate skip AGENT`.",
    "relaunch": "`/wavegate relaunch` needs the name of an agent: `/wavegate relaunch AGENT`.",
    "grant": "`/wavegate grant` needs an agent and at least one pattern: "
             "`/wavegate grant AGENT PATTERN… — reason`.",
    "revoke": "`/wavegate revoke` needs an agent and at least one pattern "
              "(`/wavegate revoke AGENT PATTERN…`), or a PR number (`/wavegate revoke #N`).",
    "allow": "`/wavegate allow` takes one PR number: `/wavegate allow #N — reason`, or `/wavegate allow` "
             "alone on the PR itself.",
}


def command_help(command: Command | None = None, allow_role: str = "maintain") -> str:
    """The help: every command with what it does and the role it needs. ``command`` is the
    command not understood (its ``usage`` or ``suggestion`` leads the reply), None for the bare
    list."""
    lines: list[str] = []
    if command is not None:
        if command.usage in _USAGE:
            lines += [_USAGE[command.usage], ""]
        else:
            lines += [f"Wavegate did not understand {code(command.raw or '/wavegate')}."]
            if command.suggestion:
                lines[-1] += f" Did you mean `/wavegate {command.suggestion}`?"
            lines += [""]
    lines += ["Commands (one per line, in a comment on the dispatch issue or on a PR of the plan):", ""]
    lines += [f"- `{usage}`: {what}" for usage, what in _HELP]
    lines += ["", f"`allow` and `revoke #N` need the {code(allow_role)} role (setting `allow_role`); "
              "the others need write permission. A reason goes after `—` (or ` -- `)."]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- refusals


def permission_refused(login: str, auth: Authorization) -> str:
    """Reply to a command the sender may not run: names the role needed and the role GitHub
    reports for ``login``."""
    stronger = ROLES[max(role_rank(auth.needed), 1):]
    return (
        f"@{login}, {code(auth.command.raw or '/wavegate')} needs {auth.needed} permission on this "
        f"repository (the {join_names([code(r) for r in stronger])} role), and GitHub reports {code(auth.role)} "
        "for you, so nothing changed. Ask someone with that permission to run it.\n"
    )


def _problem_items(problems: Sequence[Problem]) -> list[str]:
    lines = []
    for p in problems:
        fix = f" — *fix:* {p.fix}" if p.fix else ""
        lines.append(f"- {p.message}{fix}")
    return fit_lines(lines, 20_000)


def amend_refused(refused: AmendRefused, plan: Plan | None = None) -> str:
    """Reply to a grant or revoke that was not made: what stood in the way (the overlaps with
    their witnesses, the plan's problems, an unknown agent) and that nothing changed."""
    change = refused.change
    verb = "grant" if change.action == "grant" else "revoke"
    what = f"`/wavegate {verb} {change.agent} {' '.join(change.patterns)}`"
    if refused.reason == "unknown-agent":
        names = ", ".join(code(n) for n in refused.agents)
        return f"There is no agent {code(change.agent)} in this plan, so nothing changed. Agents: {names}.\n"
    if refused.reason == "not-editable":
        return (f"Wavegate could not apply {what} to the plan without changing more than the territory of "
                f"{code(change.agent)}, so nothing changed. Edit the plan in the issue by hand.\n")
    head = {
        "preflight": f"{what} was refused and nothing changed: the amended plan fails the pre-flight.",
        "plan-problems": f"{what} was refused and nothing changed: the amended plan would not be valid.",
        "plan-invalid": f"{what} was refused and nothing changed: the plan in the issue has problems; "
                              "fix them first.",
    }[refused.reason]
    lines = [head, ""]
    if refused.overlaps:
        lines += ["Agents that may run at the same time would share files:", "", *_problem_items(refused.overlaps)]
        others = [p for p in refused.problems if p.code != "overlap"]
        if others:
            lines += ["", "Other problems:", "", *_problem_items(others)]
        lines += ["", "Grant a narrower pattern, or move the work to the agent that owns these files."]
    else:
        lines += _problem_items(refused.problems)
    return "\n".join(lines) + "\n"


def amend_nothing_to_do(amended: Amended) -> str:
    """Reply to a grant whose patterns the territory holds already, or a revoke of patterns it
    does not hold: nothing changed."""
    change = amended.change
    patterns = join_names([code(p) for p in amended.already])
    if change.action == "grant":
        return f"{patterns} {'is' if len(amended.already) == 1 else 'are'} already in the territory of {code(change.agent)}; nothing changed.\n"
    return f"{patterns} {'is' if len(amended.already) == 1 else 'are'} not in the territory of {code(change.agent)}; nothing changed.\n"


def allow_needs_pr() -> str:
    """Reply to a bare ``/wavegate allow`` on the dispatch issue, where there is no PR to mean."""
    return ("`/wavegate allow` alone works on the PR itself. On the dispatch issue, name the PR: "
            "`/wavegate allow #N — reason`.\n")


def no_allowance(pr: int) -> str:
    """Reply to ``/wavegate revoke #N`` for a PR without an active allowance."""
    return f"PR #{pr} has no allowance, so there was nothing to revoke.\n"


def no_such_pr(pr: int) -> str:
    """Reply to ``/wavegate allow #N`` naming no PR of this repository."""
    return f"There is no pull request #{pr} in this repository, so nothing was allowed.\n"


def not_in_a_plan(command: Command) -> str:
    """Reply to a plan command on a PR that belongs to no plan: only allowances work there."""
    return (f"This pull request belongs to no dispatch plan, so {code(command.raw or '/wavegate')} has "
            "nothing to act on. Comment it on the dispatch issue; here only `/wavegate allow` and "
            "`/wavegate revoke #N` work.\n")


def unknown_agent(agent: str, plan: Plan) -> str:
    """Reply to ``/wavegate relaunch AGENT`` (or another command) naming no agent of the plan."""
    names = ", ".join(code(n) for n in plan.names)
    return f"There is no agent {code(agent)} in this plan, so nothing happened. Agents: {names}.\n"


# --------------------------------------------------------------------------- after a change


def territory_changed_comment(amended: Amended, issue: int) -> str:
    """The comment on the agent's PR after a grant or revoke: what changed, who and why, and
    that the dispatch prompt and every open PR's territory check follow the amended plan."""
    change = amended.change
    agent = amended.plan.agent(change.agent)
    if change.action == "grant":
        head = f"➕ @{change.by} granted {code(change.agent)} {join_names([code(p) for p in amended.added])}"
    else:
        head = f"➖ @{change.by} revoked {join_names([code(p) for p in amended.removed])} from {code(change.agent)}"
    lines = [head + (f": {quoted(change.reason)}" if change.reason else "") + f" (plan in #{issue}).", ""]
    if agent is not None:
        lines += ["Territory now:", "", *fit_lines([f"- {code(p)}" for p in agent.territory], 8_000)]
    lines += ["", f"This PR's description (the dispatch prompt) follows the amended plan, and `{TERRITORY_CHECK}` "
              "was run again on every open PR of the plan."]
    return "\n".join(lines) + "\n"


def grant_note_yaml(by: str, reason: str | None) -> str:
    """The YAML comment text a grant writes after each pattern (without ``# ``)."""
    return f"granted by @{by}" + (f": {reason}" if reason else "")


def grant_note_prose(by: str, reason: str | None) -> str:
    """The note a grant writes after each pattern of a prose plan's ``Authorized files:``."""
    return f"({grant_note_yaml(by, reason)})"


def grant_command(agent: str, patterns: Sequence[str]) -> str:
    """``/wavegate grant AGENT PATTERN…`` for a scope expansion; patterns with spaces go in
    backticks (the parser reads them back whole)."""
    words = [f"`{p}`" if any(c.isspace() for c in p) else p for p in patterns]
    return " ".join(["/wavegate grant", agent, *words])


def expansion_patterns(items: Sequence[str]) -> tuple[str, ...]:
    """The path each scope expansion item names: its first word (backticks and a trailing ``:``
    or ``,`` dropped) when it looks like a path (holds ``/`` or ``.``); items naming none are
    left out. ``- `src/x.py` — needed for the parser`` names ``src/x.py``."""
    out: list[str] = []
    for item in items:
        words = item.split()
        word = words[0].strip("`*_").rstrip(":,;") if words else ""
        if ("/" in word or "." in word) and word not in out:
            out.append(word)
    return tuple(out)


def grant_line(agent: str, patterns: Sequence[str]) -> str:
    """The dashboard's ready-to-paste grant line for a scope expansion: the command as inline code
    with a few words around it."""
    return f"To grant it: {code(grant_command(agent, patterns))}"


# --------------------------------------------------------------------------- territory check


def allowance_title(allowance: Allowance, count: int) -> str:
    """The territory check's title on an allowed PR."""
    if count == 0:
        return f"Allowed by @{allowance.by}: touches no active territory"
    return f"Allowed by @{allowance.by}: {plural(count, 'path')} in active territories pass"


def allowance_note(allowance: Allowance, paths: Sequence[PathVerdict], agent: str | None = None,
                   strict: bool = False) -> str:
    """The territory check's note on an allowed PR: who allowed it and why, and every path that
    would fail without the allowance (``paths``: the verdict's offending paths)."""
    why = f": {quoted(allowance.reason)}" if allowance.reason else ""
    lines = [f"✅ **Allowed by @{allowance.by}{why}** ({utc(allowance.at)}): this PR passes "
             f"`{TERRITORY_CHECK}` while it touches active territories, until `/wavegate revoke #{allowance.pr}`."]
    if paths:
        lines += ["", f"Without the allowance, {plural(len(paths), 'path')} would fail:", ""]
        lines += fit_lines([path_line(p, agent, strict) for p in paths], 40_000)
    else:
        lines += ["", "No path of this PR would fail without it."]
    return "\n".join(lines) + "\n"


def plan_version_line(version: PlanVersion) -> str:
    """The summary line of every check run naming the plan version it judged."""
    edited = f" (issue edited {utc(version.edited_at)})" if version.edited_at else ""
    return f"Plan version {code(version.plan_hash)}{edited}."


def versioned(out: CheckOutput, version: PlanVersion | None) -> CheckOutput:
    """``out`` stating the plan version it judged: the ``plan_version_line`` ends its summary and
    ``external_id`` carries ``version.external_id`` (``out`` unchanged when ``version`` is None)."""
    if version is None:
        return out
    summary = out.summary.rstrip("\n") + "\n\n" + plan_version_line(version) + "\n"
    return replace(out, summary=summary, external_id=version.external_id)


def allowed_territory_output(out: CheckOutput, verdict: TerritoryVerdict, allowance: Allowance) -> CheckOutput:
    """The ``wavegate/territory`` output of a PR with an active ``allowance``: a success titled
    ``allowance_title`` whose summary starts with ``allowance_note`` (every path that would fail
    without it); failure annotations become warnings, so reviewers still see them in the diff."""
    offending = verdict.offending
    notes = tuple(replace(a, annotation_level="warning") if a.annotation_level == "failure" else a
                  for a in out.annotations)
    summary = allowance_note(allowance, offending, verdict.agent, verdict.strict) + "\n" + out.summary
    return replace(out, conclusion=Conclusion.SUCCESS.value, title=allowance_title(allowance, len(offending)),
                   summary=summary, annotations=notes)


# --------------------------------------------------------------------------- dashboard

_ACTION_WORDS = {
    AuditAction.AMENDMENT: "plan edited",
    AuditAction.GRANT: "grant",
    AuditAction.REVOKE: "revoke",
    AuditAction.ALLOWANCE: "allowance",
    AuditAction.ALLOWANCE_REVOKED: "allowance revoked",
    AuditAction.SKIP: "skip",
    AuditAction.CANCEL: "cancel",
    AuditAction.RELAUNCH: "relaunch",
    AuditAction.ADOPT: "adopt",
}


def _what(e: AuditEntry) -> str:
    items = ", ".join(cell(i) for i in e.items) + (f" and {e.more} more" if e.more else "")
    if e.action in (AuditAction.GRANT, AuditAction.REVOKE):
        return f"{cell(e.agent or '?')}: {items}"
    if e.action in (AuditAction.ALLOWANCE, AuditAction.ALLOWANCE_REVOKED):
        return f"#{e.pr}"
    if e.action is AuditAction.AMENDMENT:
        return f"agents changed: {items}" if items else "no agent changed"
    if e.action is AuditAction.ADOPT:
        return f"plan {items}" if items else "proposed plan"
    if e.action is AuditAction.RELAUNCH and e.agent:
        return cell(e.agent)
    return items or "the plan"


def _row(e: AuditEntry) -> str:
    why = quoted(e.why).replace("|", "\\|") if e.why else "—"
    return f"| {utc(e.at)} | @{e.by} | {_ACTION_WORDS[e.action]} | {_what(e)} | {why} |"


def audit_table(history: Sequence[AuditEntry]) -> str:
    """The dashboard's history: a table (when, who, action, what, why), newest first; entries past
    the 20th are folded in a ``<details>`` block. Empty string for no history."""
    if not history:
        return ""
    shown, folded = split_shown(history)
    head = ["| when | who | action | what | why |", "|---|---|---|---|---|"]
    lines = [*head, *(_row(e) for e in shown)]
    if folded:
        lines += ["", f"<details><summary>{plural(len(folded), 'older entry', 'older entries')}</summary>", "",
                  *head, *(_row(e) for e in folded), "", "</details>"]
    return "\n".join(lines) + "\n"


def allowances_list(allowances: Sequence[Allowance]) -> str:
    """The dashboard's list of active allowances (PR, who, when, why, how to end it). Empty string
    when there are none."""
    active = active_allowances(allowances)
    lines = [f"- #{a.pr}: allowed by @{a.by} ({utc(a.at)})" + (f": {quoted(a.reason)}" if a.reason else "")
             + f" — end it with `/wavegate revoke #{a.pr}`" for a in active]
    return "\n".join(lines) + "\n" if lines else ""


def command_title(command: Command) -> str:
    """The short name of a command for logs and summaries: ``grant api``, ``allow #12``."""
    if command.verb in (Verb.GRANT, Verb.REVOKE):
        return f"{command.verb} {command.agent}"
    if command.verb in (Verb.ALLOW, Verb.REVOKE_ALLOWANCE):
        return f"{command.verb} #{command.pr}" if command.pr else str(command.verb)
    return str(command.verb)
