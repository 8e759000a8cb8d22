"""The dashboard comment on a dispatch issue (DESIGN §3.6) and pre-flight problem lists.

GitHub caps a comment body at 65,536 characters; lists are cut to keep the body under 60 KB.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .audit import encode_allowances, encode_audit
from .dividend import dividend as agent_dividend
from .markers import DASHBOARD_MARKER, state_marker
from .model import (
    AgentRow,
    Amendment,
    DashboardState,
    GateState,
    PlanWarning,
    Problem,
    PrState,
    count_problems,
)
from .report_commands import allowances_list, audit_table, expansion_patterns, grant_line
from .report_format import (
    MAX_BODY_BYTES,
    agent_pr,
    cell,
    code,
    duration,
    fit_body,
    fit_lines,
    iso,
    nbytes,
    plural,
    pr_ref,
    utc,
)
from .report_launch import dividend_text, launch_lines

# Mermaid classes, one per state a node can be in.
_CLASS_STYLES = {
    "merged": "fill:#8250df,stroke:#6639ba,color:#ffffff",
    "unlocked": "fill:#2da44e,stroke:#1a7f37,color:#ffffff",
    "waiting": "fill:#eaeef2,stroke:#8c959f,color:#24292f",
    "blocked": "fill:#cf222e,stroke:#a40e26,color:#ffffff",
    "skipped": "fill:#bf8700,stroke:#9a6700,color:#ffffff",
    "cancelled": "fill:#6e7781,stroke:#57606a,color:#ffffff",
    "removed": "fill:#ffebe9,stroke:#cf222e,color:#82071e",
}
_CHECK_WORDS = {"success": "✅ passed", "failure": "❌ failed", "neutral": "➖ neutral", None: "⏳ pending"}


# --------------------------------------------------------------------------- problems


def _problem_place(p: Problem | PlanWarning) -> list[str]:
    parts = []
    if p.line is not None:
        parts.append(f"line {p.line}")
    if p.agent:
        parts.append(p.agent)
    if p.field:
        parts.append(p.field)
    return parts


def problems_markdown(problems: Sequence[Problem] | Sequence[PlanWarning]) -> str:
    """Pre-flight problems as a Markdown list for the dashboard, in the given order: agent, field,
    line, what is wrong, and how to fix it. Empty string for no problems; cut with "… and N more"
    beyond 40 KB. Warnings (``PlanWarning``) are listed the same way."""
    lines = []
    for p in problems:
        where = []
        if p.agent:
            where.append(f"agent {code(p.agent)}")
        if p.field:
            where.append(f"field {code(p.field)}")
        if p.line is not None:
            where.append(f"line {p.line}")
        place = f"**{', '.join(where)}:** " if where else "**plan:** "
        fix = f" — *fix:* {p.fix}" if p.fix else ""
        lines.append(f"- {place}{p.message}{fix}")
    return "\n".join(fit_lines(lines, 40_000)) + ("\n" if lines else "")


def problems_text(problems: Sequence[Problem] | Sequence[PlanWarning]) -> str:
    """Pre-flight problems as plain text for the CLI, one per line:
    ``line 14: cli: territory: unknown key `teritory`; did you mean `territory`?`` followed by
    `` (fix: …)`` when the problem says how to fix it. Empty string for no problems. Warnings
    (``PlanWarning``) are listed the same way."""
    lines = []
    for p in problems:
        place = ": ".join(_problem_place(p)) or "plan"
        fix = f" (fix: {p.fix})" if p.fix else ""
        lines.append(f"{place}: {p.message}{fix}")
    return "\n".join(lines) + ("\n" if lines else "")


def warnings_header(count: int) -> str:
    """The line above the CLI's warning list."""
    return f"{plural(count, 'warning')}; nothing is blocked, but check {'it' if count == 1 else 'them'}:"


# --------------------------------------------------------------------------- state


def _done(row: AgentRow, state: DashboardState) -> bool:
    return row.pr.state is PrState.MERGED or row.agent in state.skipped


def node_state(row: AgentRow, state: DashboardState) -> str:
    """The state an agent is shown in: merged, skipped, cancelled, removed, blocked, unlocked or
    waiting (also for an agent whose PR is not opened yet)."""
    if row.pr.state is PrState.MERGED:
        return "merged"
    if row.agent in state.skipped:
        return "skipped"
    if state.cancelled:
        return "cancelled"
    gate = row.gate.state if row.gate else None
    if gate is GateState.REMOVED:
        return "removed"
    if gate is GateState.BLOCKED or row.pr.state is PrState.CLOSED:
        return "blocked"
    if gate in (GateState.UNLOCKED, GateState.MERGED, GateState.SKIPPED, GateState.CANCELLED):
        return "unlocked"
    return "waiting"


def state_line(state: DashboardState) -> str:
    """``pre-flight failed``, ``cancelled``, ``done``, ``in progress``, ``dispatched`` or
    ``not dispatched``."""
    if state.cancelled:
        return "cancelled"
    if not state.rows:
        return "pre-flight failed" if state.problems else "not dispatched"
    if all(_done(r, state) for r in state.rows):
        return "done"
    if any(_done(r, state) for r in state.rows):
        return "in progress"
    return "dispatched"


def _amendment_state(a: Amendment) -> dict[str, Any]:
    return {
        "old_hash": a.old_hash,
        "new_hash": a.new_hash,
        "added": list(a.added),
        "removed": list(a.removed),
        "changed": list(a.changed),
        "at": iso(a.at),
    }


def hidden_state(state: DashboardState) -> dict[str, Any]:
    """What the dashboard carries in its hidden state marker, so the plan's state lives in GitHub:
    ``plan_hash``, ``skipped`` (sorted names), ``cancelled``, ``dispatched_at`` (ISO 8601 UTC or
    None), ``amendments`` (list of dicts: old_hash, new_hash, added, removed, changed, at) and
    ``prs`` (agent → PR number, opened PRs only)."""
    return {
        "plan_hash": state.plan_hash,
        "skipped": sorted(state.skipped),
        "cancelled": state.cancelled,
        "dispatched_at": iso(state.dispatched_at),
        "amendments": [_amendment_state(a) for a in state.amendments],
        "prs": {r.agent: r.pr.number for r in state.rows if r.pr.number},
        **_steering_state(state),
    }


def _steering_state(state: DashboardState) -> dict[str, Any]:
    """``audit`` and ``allowances`` (``audit.encode_*``), present only once there are some, so a
    plan nobody steered keeps the state it always had."""
    out: dict[str, Any] = {}
    if state.audit:
        out["audit"] = encode_audit(state.audit)
    if state.allowances:
        out["allowances"] = encode_allowances(state.allowances)
    return out


# --------------------------------------------------------------------------- sections


# Agents side by side in one row of a wave before the row wraps: a 60-agent plan stays about
# 1,200 px wide at GitHub's comment width.
ROW_WIDTH = 8


def flowchart_rows(state: DashboardState) -> dict[int, list[list[str]]]:
    """The flowchart's layout: wave → rows of agent names (plan order, at most ``ROW_WIDTH``
    per row). Agents of rows but not of the plan (removed by an amendment) come last."""
    rows = {r.agent: r for r in state.rows}
    plan = state.plan
    waves: dict[int, list[str]] = {}
    for name in _names(state):
        agent = plan.agent(name) if plan else None
        waves.setdefault(agent.wave if agent else rows[name].wave, []).append(name)
    return {w: [members[i:i + ROW_WIDTH] for i in range(0, len(members), ROW_WIDTH)]
            for w, members in sorted(waves.items())}


def _names(state: DashboardState) -> list[str]:
    plan = state.plan
    names = [a.name for a in plan.agents] if plan else []
    return names + [r.agent for r in state.rows if plan is None or plan.agent(r.agent) is None]


def _flowchart(state: DashboardState) -> list[str]:
    """A Mermaid flowchart, waves top to bottom; inside a wave, invisible links (``~~~``) stack
    its rows so no row holds more than ``ROW_WIDTH`` agents."""
    layout = flowchart_rows(state)
    rows = {r.agent: r for r in state.rows}
    ids = {name: f"a{i}" for i, name in enumerate(_names(state))}
    lines = ["```mermaid", "flowchart TB"]
    for wave, wave_rows in layout.items():
        lines.append(f'  subgraph w{wave}["wave {wave}"]')
        for name in (n for row in wave_rows for n in row):
            row = rows.get(name)
            label = name + (f"<br/>{pr_ref(row.pr.number)} · {node_state(row, state)}" if row else "")
            lines.append(f'    {ids[name]}["{label}"]')
        lines += [f"    {ids[upper[0]]} ~~~ {ids[lower[0]]}" for upper, lower in zip(wave_rows, wave_rows[1:], strict=False)]
        lines.append("  end")
    ordered = list(layout)
    lines += [f"  w{before} --> w{after}" for before, after in zip(ordered, ordered[1:], strict=False)]
    for agent in state.plan.agents if state.plan else ():
        lines += [f"  {ids[dep]} --> {ids[agent.name]}" for dep in agent.after if dep in ids]
    return lines + _classes(state, ids) + ["```"]


def _classes(state: DashboardState, ids: dict[str, str]) -> list[str]:
    rows = {r.agent: r for r in state.rows}
    lines = [f"  classDef {cls} {style}" for cls, style in _CLASS_STYLES.items()]
    by_class: dict[str, list[str]] = {}
    for name, node in ids.items():
        row = rows.get(name)
        by_class.setdefault(node_state(row, state) if row else "waiting", []).append(node)
    return lines + [f"  class {','.join(by_class[cls])} {cls}" for cls in _CLASS_STYLES if by_class.get(cls)]


def _territory_summary(patterns: Sequence[str]) -> str:
    shown = ", ".join(cell(p) for p in patterns[:3])
    return shown + (f" +{len(patterns) - 3} more" if len(patterns) > 3 else "")


def _pr_cell(row: AgentRow) -> str:
    if row.pr.number is None:
        return "—"
    word = {PrState.OPEN: "open", PrState.MERGED: "merged", PrState.CLOSED: "closed", PrState.MISSING: ""}[row.pr.state]
    return f"#{row.pr.number} {word}".rstrip()


def _gate_cell(row: AgentRow, state: DashboardState) -> str:
    shown = node_state(row, state)
    gate = row.gate
    if gate is not None and shown == "waiting" and gate.waiting_on:
        return "waiting for " + ", ".join(agent_pr(d.agent, d.number) for d in gate.waiting_on)
    if gate is not None and shown == "blocked" and gate.blocked_by:
        return "blocked by " + ", ".join(agent_pr(d.agent, d.number) for d in gate.blocked_by)
    return shown


def _table(state: DashboardState) -> list[str]:
    lines = [
        "| agent | wave | territory | PR | territory check | gate | opened | merged |",
        "|---|---:|---|---|---|---|---|---|",
    ]
    for r in state.rows:
        lines.append(
            f"| {code(r.agent)} | {r.wave} | {_territory_summary(r.territory)} | {_pr_cell(r)} | "
            f"{_territory_cell(r)} | {_gate_cell(r, state)} | "
            f"{utc(r.pr.opened_at)} | {utc(r.pr.merged_at)} |"
        )
    return lines


def _territory_cell(row: AgentRow) -> str:
    # Only open PRs are re-checked; a closed or merged PR's verdict is history, not pending.
    if row.territory_conclusion is None and row.pr.state in (PrState.MERGED, PrState.CLOSED):
        return "—"
    if row.territory_conclusion is None and row.pr.state is PrState.MISSING:
        return "— (no PR yet)"
    return _CHECK_WORDS.get(row.territory_conclusion, row.territory_conclusion or "")


def _expansions(state: DashboardState) -> list[str]:
    lines: list[str] = []
    for r in state.rows:
        if r.scope_expansions:
            lines += ["", f"**{code(r.agent)}** ({pr_ref(r.pr.number)}):", ""]
            lines += fit_lines([f"- {' '.join(item.split())}" for item in r.scope_expansions], 4_000)
            wanted = expansion_patterns(r.scope_expansions)
            if wanted:
                lines += ["", grant_line(r.agent, wanted)]
    return lines


def _amendments(state: DashboardState) -> list[str]:
    lines = []
    for a in state.amendments:
        changes = []
        for word, names in (("added", a.added), ("removed", a.removed), ("changed", a.changed)):
            if names:
                changes.append(f"{word} {', '.join(code(n) for n in names)}")
        when = f" ({utc(a.at)})" if a.at else ""
        lines.append(f"- plan {code(a.old_hash)} → {code(a.new_hash)}{when}: {'; '.join(changes) or 'no agent changed'}")
    return lines


def work_dividend(state: DashboardState) -> str | None:
    """The parallelism dividend from agents' work time (``state.work``: each run's span, or
    launch to last push), once every agent merged or was skipped; None before."""
    d = agent_dividend(state.dispatched_at, state.work)
    return dividend_text(d).rstrip("\n") if d else None


def _steering(state: DashboardState) -> list[str]:
    """The allowances and the history sections (none when empty)."""
    lines: list[str] = []
    allowed = allowances_list(state.allowances)
    if allowed:
        lines += ["", "### Allowances", "", allowed.rstrip("\n")]
    history = audit_table(state.audit)
    if history:
        lines += ["", "### History", "", history.rstrip("\n")]
    return lines


def dividend(state: DashboardState) -> str | None:
    """The parallelism dividend once every agent has merged or was skipped: the sum of per-agent
    durations (PR opened → merged) against the wall clock from dispatch to the last merge, with
    their ratio. None before that, or when times are missing."""
    if not state.rows or not all(_done(r, state) for r in state.rows) or state.dispatched_at is None:
        return None
    spans = [
        (r.pr.merged_at - r.pr.opened_at).total_seconds()
        for r in state.rows
        if r.pr.state is PrState.MERGED and r.pr.opened_at and r.pr.merged_at
    ]
    merges = [r.pr.merged_at for r in state.rows if r.pr.state is PrState.MERGED and r.pr.merged_at]
    if not spans or not merges:
        return None
    work = sum(spans)
    wall = (max(merges) - state.dispatched_at).total_seconds()
    text = (
        f"**Parallelism dividend:** {plural(len(spans), 'agent')} worked {duration(work)} in total "
        f"(each PR from opened to merged); the wall clock from dispatch to the last merge was {duration(wall)}"
    )
    if wall > 0:
        saved = work - wall
        text += f" — {work / wall:.1f}× parallel"
        if saved > 0:
            text += f", {duration(saved)} saved against merging one after another"
    return text + "."


_EXPLAIN = {
    "pre-flight failed": "Nothing was created. Edit the plan in this issue and save: the pre-flight runs again.",
    "cancelled": "The plan was cancelled with `/wavegate cancel`: its checks pass with a note and no PR is held back.",
    "done": "Every agent has merged or was skipped.",
    "not dispatched": "No plan was dispatched yet.",
}


def _head(s: DashboardState) -> list[str]:
    """Title, state facts, the explanation of the state and the notice."""
    lines = [DASHBOARD_MARKER, state_marker(hidden_state(s)), f"## Wavegate · dispatch #{s.issue}", ""]
    status = state_line(s)
    facts = [f"**State: {status}**"]
    if s.rows:
        merged = sum(1 for r in s.rows if r.pr.state is PrState.MERGED)
        facts.append(f"{merged} of {plural(len(s.rows), 'agent')} merged")
    if s.plan_hash:
        facts.append(f"plan {code(s.plan_hash)}")
    lines.append(" · ".join(facts))
    explain = _EXPLAIN.get(status)
    if s.rows and s.problems and not s.cancelled:
        explain = "The latest edit of the plan has problems, so the dispatched plan stays in force until they are fixed."
    if explain:
        lines += ["", explain]
    if s.notice:
        lines += ["", "> [!WARNING]", *(f"> {line}" if line else ">" for line in s.notice.splitlines())]
    return lines


def _findings(s: DashboardState) -> list[str]:
    """Pre-flight problems, then warnings (which block nothing)."""
    lines: list[str] = []
    if s.problems:
        lines += ["", f"### Problems ({count_problems(s.problems):,})", "", problems_markdown(s.problems).rstrip()]
    if s.warnings:
        lines += ["", f"### Warnings ({len(s.warnings):,})", "",
                  "These block nothing (agents may create new files); check them all the same.", "",
                  problems_markdown(s.warnings).rstrip()]
    return lines


def dashboard(state: DashboardState) -> str:
    """The dashboard comment (starts with the dashboard marker, then the hidden state marker of
    ``hidden_state``): state, notice, pre-flight problems and warnings, a Mermaid flowchart of the
    agents by wave coloured by state, the agent table, scope expansions, amendments, and once done
    the parallelism dividend. Under 60 KB of UTF-8."""
    s = state
    lines = _head(s) + _findings(s)
    if s.proposal:
        lines += ["", s.proposal.rstrip("\n")]
    if (s.plan is not None and s.plan.agents) or s.rows:
        lines += ["", "### Waves", "", *_flowchart(s)]
    if s.rows:
        lines += ["", "### Agents", "", *_table(s)]
    expansions = _expansions(s)
    if expansions:
        lines += ["", "### Scope expansions", *expansions]
    if s.amendments:
        lines += ["", "### Plan amendments", "", *_amendments(s)]
    launches = launch_lines(s.launches)
    if launches:
        lines += ["", launches.rstrip("\n")]
    lines += _steering(s)
    gain = work_dividend(s) if s.work else dividend(s)
    if gain:
        lines += ["", gain]
    lines += ["", ("<sub>Commands (on this issue or a PR of the plan): `/wavegate refresh` · `/wavegate skip AGENT` · "
               "`/wavegate cancel` · `/wavegate grant AGENT PATTERN…` · `/wavegate revoke AGENT PATTERN…` · "
               "`/wavegate allow #N` · `/wavegate revoke #N` · `/wavegate relaunch AGENT` · `/wavegate adopt`</sub>")]
    body = "\n".join(lines) + "\n"
    return body if nbytes(body) <= MAX_BODY_BYTES else fit_body(body)
