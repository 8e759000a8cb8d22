"""Every user-facing text Wavegate writes: dispatch prompts, check-run outputs, the dashboard,
comments and pre-flight problem lists. Pinned by golden files under ``tests/golden/``.

GitHub limits honoured here: check-run ``summary`` and ``text`` under 60 KB (bytes), titles under
255 characters; annotations are all returned (at most 1,000) and the adapter sends them 50 a
request. The check-run texts live in ``report_checks``, the dashboard and problem lists in
``report_dashboard``; this module re-exports them so callers import one module.
"""

from __future__ import annotations

from collections.abc import Mapping

from .commands import Command
from .model import GATE_CHECK, AgentPR, GateDecision, Plan
from .report_checks import (
    direct_dependencies,
    error_output,
    gate_output,
    merge_group_territory_output,
    non_agent_gate_output,
    queued_output,
    territory_output,
)
from .report_dashboard import (
    dashboard,
    dividend,
    hidden_state,
    problems_markdown,
    problems_text,
    warnings_header,
)
from .report_format import agent_pr, code, fit_title, join_names, plural
from .report_prompt import SCOPE_RULE, dispatch_prompt

__all__ = [
    "SCOPE_RULE",
    "api_failure_notice",
    "command_ack",
    "command_help",
    "dashboard",
    "direct_dependencies",
    "dispatch_prompt",
    "dividend",
    "error_output",
    "gate_output",
    "hidden_state",
    "merge_group_territory_output",
    "missing_permission_notice",
    "non_agent_gate_output",
    "permission_refused",
    "plan_text",
    "pr_title",
    "problems_markdown",
    "problems_text",
    "queued_output",
    "removed_agent_comment",
    "skip_unknown_agent",
    "territory_output",
    "unlock_comment",
    "warnings_header",
]

def pr_title(issue: int, agent: str, plan: Plan) -> str:
    """Title of an agent PR, e.g. ``[wave 1] security — dispatch #12`` (≤ 255 characters)."""
    found = plan.agent(agent)
    wave = found.wave if found else 1
    return fit_title(f"[wave {wave}] {agent} — dispatch #{issue}")


def plan_text(plan: Plan) -> str:
    """The plan by wave, plain text, for ``wavegate check``: a header line, then per wave
    ``wave 1: security (5 patterns), architecture (1 pattern)`` and one indented line per agent
    listing its territory."""
    waves = plan.waves
    settings = []
    if plan.base:
        settings.append(f"base {plan.base}")
    if plan.strict is not None:
        settings.append("strict" if plan.strict else "not strict")
    head = f"{plural(len(plan.agents), 'agent')} in {plural(len(waves), 'wave')} ({plan.form} form"
    lines = [head + "".join(f", {s}" for s in settings) + ")"]
    width = max((len(a.name) for a in plan.agents), default=0)
    for wave in waves:
        members = [a for a in plan.agents if a.wave == wave]
        listed = []
        for a in members:
            extra = f", after {', '.join(a.after)}" if a.after else ""
            listed.append(f"{a.name} ({plural(len(a.territory), 'pattern')}{extra})")
        lines.append(f"wave {wave}: {', '.join(listed)}")
        for a in members:
            lines.append(f"  {a.name.ljust(width)}  {', '.join(a.territory)}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- comments


def unlock_comment(
    decision: GateDecision,
    plan: Plan,
    *,
    prs: Mapping[str, AgentPR] | None = None,
    updated_from: str | None = None,
) -> str:
    """The comment on a PR that just unlocked, naming the merged dependencies ("wave 1 merged:
    #20 api, #21 worker"). ``prs`` maps agent → PR for the numbers; ``updated_from`` names the
    base branch when Wavegate updated the PR's branch from it."""
    deps = direct_dependencies(plan, decision.agent)
    names = [agent_pr(n, prs[n].number) if prs and n in prs else n for n in deps]
    waves = sorted({a.wave for a in plan.agents if a.name in deps})
    label = ", ".join(f"wave {w}" for w in waves) if waves else "its dependencies"
    lines = [f"🔓 **Unlocked:** {label} merged: {', '.join(names)}." if names else "🔓 **Unlocked.**", ""]
    lines.append(f"Agent {code(decision.agent)} (wave {decision.wave}) may merge now: `{GATE_CHECK}` passes.")
    if updated_from:
        lines += ["", f"Wavegate updated this branch from {code(updated_from)}, so the checks ran on the merged work."]
    return "\n".join(lines) + "\n"


def removed_agent_comment(agent: str, issue: int) -> str:
    """The comment on the PR of an agent an amendment removed from the plan."""
    return (
        f"Agent {code(agent)} was removed from the dispatch plan in #{issue}, so `{GATE_CHECK}` now fails "
        "on this PR. Close it, or add the agent back to the plan in the issue.\n"
    )


def permission_refused(login: str, permission: str, action: str) -> str:
    """Polite refusal for a sender without write permission. ``permission`` is what GitHub reports
    for ``login`` (``read``, ``none`` …); ``action`` what was asked, as a verb or noun phrase
    (``dispatch this plan``, ``a /wavegate command``)."""
    return (
        f"@{login}, Wavegate acts only for people with write permission on this repository (maintain and "
        f"admin work too), and GitHub reports {code(permission)} for you, so it did not go ahead with: {action}. "
        "Ask someone with write access to do it.\n"
    )


def command_help(unknown: str | None = None) -> str:
    """Short help reply listing the commands; ``unknown`` is the command line not understood."""
    lines = [f"Wavegate did not understand {code(unknown)}." if unknown else "Wavegate commands:", ""]
    if unknown:
        lines += ["Commands (comment them on the dispatch issue, one per line):", ""]
    lines += [
        "- `/wavegate refresh`: re-read the plan, the PRs and their checks, and update what changed",
        "- `/wavegate skip AGENT`: treat an agent as done for the wave gate",
        "- `/wavegate cancel`: stop gating this plan (its checks pass with a note)",
    ]
    return "\n".join(lines) + "\n"


def command_ack(command: Command) -> str:
    """Reply to an accepted command (refresh, skip, cancel); ``command_help`` for any other."""
    if command.verb == "refresh":
        return "🔄 Refreshing: Wavegate re-reads the plan, the PRs and their checks, and updates what changed.\n"
    if command.verb == "skip":
        names = join_names([code(n) for n in command.args])
        verb = "is" if len(command.args) == 1 else "are"
        return f"⏭️ {names} {verb} skipped: the wave gate treats {'it' if verb == 'is' else 'them'} as done.\n"
    if command.verb == "cancel":
        return (
            "⏹️ Plan cancelled: Wavegate no longer gates its PRs (their checks pass with a note). "
            "Nothing was closed or deleted.\n"
        )
    return command_help(command.raw or None)


def skip_unknown_agent(agent: str, plan: Plan) -> str:
    """Reply to ``/wavegate skip AGENT`` naming no agent of the plan; lists the agents."""
    names = ", ".join(code(n) for n in plan.names)
    return f"There is no agent {code(agent)} in this plan, so nothing was skipped. Agents: {names}.\n"


def missing_permission_notice(request: str, permission: str) -> str:
    """Dashboard notice for a request GitHub refused for lack of an App permission, e.g.
    "GitHub refused `POST /repos/o/r/pulls`: the App needs `pull_requests: write`"."""
    return (
        f"GitHub refused {code(request)}: the App needs {code(permission)}. An owner can grant it in the "
        "App's installation settings; then comment `/wavegate refresh`."
    )


def api_failure_notice(what: str, job_id: str | None = None) -> str:
    """Dashboard notice after the last retry of a job failed; ``what`` is a short phrase."""
    job = f" (job {code(job_id)})" if job_id else ""
    return (
        f"Wavegate could not {what} after several retries{job}. It tries again on the next event and on "
        "the periodic reconcile; comment `/wavegate refresh` to retry now."
    )
