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
from .markers import branch_name, pr_marker
from .model import GATE_CHECK, TERRITORY_CHECK, AgentPR, GateDecision, Plan, RepoConfig
from .report_checks import (
    direct_dependencies,
    error_output,
    gate_output,
    merge_group_territory_output,
    non_agent_gate_output,
    queued_output,
    territory_output,
)
from .report_dashboard import dashboard, dividend, hidden_state, problems_markdown, problems_text
from .report_format import agent_pr, code, fit_title, join_names, plural

__all__ = [
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
]

SCOPE_RULE = (
    "Out-of-scope discoveries: do not fix them in place, even when the fix looks small; the file "
    "may belong to another agent, and a fix there becomes a merge conflict. Record each one under a "
    "`## Scope expansions` heading in this PR's description, or in `SCOPE-EXPANSIONS.md` (the "
    "territory check exempts that file), and continue with your assigned scope."
)


def pr_title(issue: int, agent: str, plan: Plan) -> str:
    """Title of an agent PR, e.g. ``[wave 1] security — dispatch #12`` (≤ 255 characters)."""
    found = plan.agent(agent)
    wave = found.wave if found else 1
    return fit_title(f"[wave {wave}] {agent} — dispatch #{issue}")


def _item(text: str) -> str:
    # Findings are verbatim; continuation lines are indented so they stay inside the list item.
    first, *rest = text.splitlines() or [""]
    return "\n".join([f"- {first}", *(f"  {line}" if line else "" for line in rest)])


def _dependency_sentence(plan: Plan, agent: str) -> str:
    me = plan.agent(agent)
    assert me is not None
    earlier: dict[int, list[str]] = {}
    for a in plan.agents:
        if a.wave < me.wave:
            earlier.setdefault(a.wave, []).append(code(a.name))
    parts = [f"wave {w} ({', '.join(names)})" for w, names in sorted(earlier.items())]
    extra = [code(n) for n in me.after if not any(a.name == n and a.wave < me.wave for a in plan.agents)]
    if extra:
        parts.append(join_names(extra))
    if not parts:
        return (
            f"Dependencies: none. You are in wave {me.wave}; this PR may merge as soon as its checks pass "
            f"(`{GATE_CHECK}` and `{TERRITORY_CHECK}`)."
        )
    return (
        f"Dependencies: you are in wave {me.wave} and start after these have merged: {join_names(parts)}. "
        f"`{GATE_CHECK}` keeps this PR from merging until then; `{TERRITORY_CHECK}` checks every push "
        "against your territory."
    )


def dispatch_prompt(
    plan: Plan, agent: str, issue: int, plan_hash: str, config: RepoConfig = RepoConfig()
) -> str:
    """The agent's PR body (DESIGN §3.2): scope, findings, constraints (own list, every other
    agent's territory named by agent, protected list), the scope-expansion rule, then the
    hidden marker ``<!-- wavegate issue=N agent=NAME plan=HASH -->``.

    ``issue`` is the dispatch issue number; the branch shown follows ``config.branch_prefix``.
    Patterns another agent shares verbatim with this one are left out of DO NOT MODIFY (the
    agents run one after the other). Raises ``KeyError`` when ``agent`` is not in ``plan``.
    """
    me = plan.agent(agent)
    if me is None:
        raise KeyError(agent)
    own = set(me.territory)
    lines = [
        f"## Dispatch: {code(me.name)} · wave {me.wave}",
        "",
        f"You are agent {code(me.name)} of the dispatch plan in #{issue}. Work on branch "
        f"{code(branch_name(issue, me, config.branch_prefix))}: every push to it is checked against the scope below.",
        "",
        "### Scope",
        "",
        "AUTHORIZED FILES (gitignore patterns anchored at the repository root; `dir/` covers everything below it):",
        "",
        *(f"- {code(p)}" for p in me.territory),
        "",
        "### Findings",
        "",
        *([_item(f) for f in me.findings] or ["None listed."]),
        "",
        "### Constraints",
        "",
        "DO NOT MODIFY:",
        "",
    ]
    forbidden: list[str] = [f"- {code(p)} — your own DO-NOT-MODIFY list" for p in me.do_not_modify]
    owners: dict[str, list[str]] = {}
    for other in plan.agents:
        if other.name == me.name:
            continue
        for p in other.territory:
            if p not in own:
                owners.setdefault(p, []).append(f"{code(other.name)} (wave {other.wave})")
    forbidden += [f"- {code(p)} — owned by {join_names(names)}" for p, names in owners.items()]
    forbidden += [f"- {code(p)} — protected by the repository settings" for p in config.protected]
    lines += forbidden or ["- nothing beyond your scope: still change only the files of your scope"]
    lines.append("")
    deps = direct_dependencies(plan, me.name)
    if deps and owners:
        lines += [
            "Where another agent's pattern above also covers a path of your scope, your scope wins: the agents you depend on "
            "merge before you start.",
            "",
        ]
    lines += [SCOPE_RULE, "", _dependency_sentence(plan, me.name), "", pr_marker(issue, me.name, plan_hash), ""]
    return "\n".join(lines)


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
