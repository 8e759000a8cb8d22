"""Every text of ``wavegate plan``: the proposed plan block, the explanation a coordinator checks,
the folded dashboard section for an issue with findings but no plan, and the JSON shape.
Pinned by the golden files ``tests/golden/synthesis-*.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

import yaml

from .findings import Finding
from .report_dashboard import problems_text
from .report_format import MAX_BODY_BYTES, code, fit_lines, join_names, nbytes, plural
from .synthesis_records import Consolidation, Move, Proposal, ProposedAgent, Sharing, Together
from .synthesis_refs import Notice

ADOPT_COMMAND = "/wavegate adopt"
PROPOSAL_MARKER = "<!-- wavegate proposal -->"
FOLDER_NOTES = {
    "own-wave": (" To keep the plan within its pattern limit, a folder is written for an agent's files "
                 "whenever no other agent of its wave references a file in it."),
    "none": " Every territory lists files, not folders: with folders the plan would not pass the pre-flight.",
}
MAX_LISTED = 200  # explanation lines per section; the rest are counted


def plan_block(agents: Sequence[ProposedAgent], findings: Sequence[Finding]) -> str:
    """The ```` ```yaml dispatch ```` block of a proposal: per agent its name, wave, ``after``,
    territory and findings (verbatim), ready to paste into a dispatch issue."""
    data = {"agents": [_agent_data(a, findings) for a in agents]}
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=4096)
    return f"```yaml dispatch\n{text}```\n"


def _agent_data(agent: ProposedAgent, findings: Sequence[Finding]) -> dict:
    data: dict = {"name": agent.name, "wave": agent.wave}
    if agent.after:
        data["after"] = list(agent.after)
    data["territory"] = list(agent.territory)
    data["findings"] = [findings[n - 1].text for n in agent.findings]
    return data


# --------------------------------------------------------------------------- explanation


def proposal_text(proposal: Proposal) -> str:
    """What ``wavegate plan`` prints: the plan block, then how it was made; or, when no plan
    passed the pre-flight or no finding names a file, why no plan is proposed."""
    if not proposal.ok:
        return refusal(proposal)
    parts = [proposal.block, "## How this plan was made", "", summary(proposal), "", *agents_table(proposal)]
    parts += explanation(proposal)
    return "\n".join(parts).rstrip("\n") + "\n"


def summary(proposal: Proposal) -> str:
    """``15 findings → 4 agents in 2 waves (at most 2 agents per wave; references checked
    against the checkout). The pre-flight passed: …``"""
    placed = len(proposal.findings) - len(proposal.unplaced)
    checked = "references checked against the checkout" if proposal.repo else "references taken as written"
    return (f"{plural(placed, 'finding')} → {plural(len(proposal.agents), 'agent')} in "
            f"{plural(len(proposal.waves), 'wave')} (at most {plural(proposal.limit, 'agent')} per wave; "
            f"{checked}). The pre-flight passed: no two agents that may run at the same time share a file."
            + FOLDER_NOTES.get(proposal.folders, ""))


def agents_table(proposal: Proposal) -> list[str]:
    lines = ["| wave | agent | findings | territory |", "|---|---|---|---|"]
    for a in proposal.agents:
        after = f" (after {', '.join(a.after)})" if a.after else ""
        lines.append(f"| {a.wave} | `{a.name}`{after} | {len(a.findings)} | "
                     f"{', '.join(code(p) for p in a.territory).replace('|', chr(92) + '|')} |")
    return lines + [""]


def explanation(proposal: Proposal) -> list[str]:
    """The explanation's sections, each only when it has something to say."""
    sections = [
        ("Shared files", [consolidation_line(c) for c in proposal.consolidations]
         + [sharing_line(s) for s in proposal.sharings]),
        ("Later waves", [move_line(m, proposal) for m in proposal.moves]),
        ("Merged to fit the agent limit", [merge_line(a, proposal.limit) for a in proposal.agents if a.parts > 1]),
        ("Changed together", [together_line(t) for t in proposal.together]),
        ("References to check", [notice_line(n, proposal) for n in proposal.notices]),
        ("Unplaced findings", [unplaced_line(proposal.finding(n)) for n in proposal.unplaced]),
    ]
    out: list[str] = []
    for title, lines in sections:
        if lines:
            out += [f"### {title}", "", *_capped(lines), ""]
    return out


def _capped(lines: list[str]) -> list[str]:
    if len(lines) <= MAX_LISTED:
        return lines
    return lines[: MAX_LISTED - 1] + [f"- … and {len(lines) - MAX_LISTED + 1:,} more"]


def consolidation_line(c: Consolidation) -> str:
    """``- `halt_store.py`: findings from architecture and performance → consolidated into
    `arch-perf` (wave 2)``"""
    return (f"- {code(c.path)}: findings from {join_names([x.lower() for x in c.categories])} → "
            f"consolidated into `{c.agent}` (wave {c.wave})")


def sharing_line(s: Sharing) -> str:
    owners = ", then ".join(f"`{name}` in wave {wave}" for wave, name in s.owners)
    return (f"- {code(s.path)}: {owners}; each wave starts from the previous wave's merge, "
            "so agents of different waves may share a file")


def _finding_ref(f: Finding) -> str:
    text = f.text if len(f.text) <= 80 else f.text[:79].rstrip() + "…"
    return f"finding {f.number} (line {f.line}) “{text}”"


def move_line(m: Move, proposal: Proposal) -> str:
    f = proposal.finding(m.finding)
    if m.reason == "testing":
        was = f" instead of its priority's wave {m.priority_wave}" if m.priority_wave else ""
        waits = f"; `{m.agent}` waits for {join_names([f'`{a}`' for a in m.after])}" if m.after else ""
        return (f"- {_finding_ref(f)}: wave {m.wave}{was}, in `{m.agent}`: tests run after "
                f"the code they test{waits}")
    return f"- {_finding_ref(f)}: wave {m.wave}, in `{m.agent}`: a finding without a priority goes to the last wave"


def merge_line(a: ProposedAgent, limit: int) -> str:
    return (f"- `{a.name}` (wave {a.wave}): {a.parts} groups of findings that share no file, merged to stay "
            f"within {plural(limit, 'agent')} per wave (smallest first, preferring a shared folder, "
            "then a shared category)")


def together_line(t: Together) -> str:
    return (f"- {code(t.path_a)} and {code(t.path_b)} changed together in {t.commits} commits → kept in "
            f"one agent, `{t.agent}`")


def notice_line(n: Notice, proposal: Proposal) -> str:
    f = proposal.finding(n.finding)
    where = f"finding {f.number} (line {f.line})"
    options = join_names([code(s) for s in n.suggestions])
    if n.kind == "missing":
        hint = f"; did you mean {options}?" if n.suggestions else ""
        return f"- {where}: {code(n.reference)} is not a tracked file; kept (the agent may create it){hint}"
    if n.kind == "ambiguous":
        return f"- {where}: {code(n.reference)} names {len(n.suggestions)} tracked files: {options}; all are in the territory"
    if n.kind == "no-match":
        return f"- {where}: {code(n.reference)} matches no tracked file; kept as written"
    if n.kind == "protected":
        return f"- {where}: {code(n.reference)} is protected ({options}); no agent may own it, left out"
    return f"- {where}: {code(n.reference)} cannot be a territory pattern: {n.suggestions[0]}; left out"


def unplaced_line(f: Finding) -> str:
    return f"- line {f.line}: {f.text} (no file an agent can own: place it by hand)"


def refusal(proposal: Proposal) -> str:
    """Why no plan is proposed, then the references and unplaced findings."""
    if not proposal.agents:
        head = (f"No plan proposed: no finding names a file an agent can own ({plural(len(proposal.findings), 'finding')} "
                "read; write paths such as `src/api/auth.py:46-51`, one finding per list item).")
        lines = [head, ""]
    else:
        lines = ["No plan proposed: the proposal would not pass the pre-flight, so it is not shown.", ""]
        lines += [f"  {line}" for line in problems_text(list(proposal.problems)).splitlines()] + [""]
    return "\n".join(lines + explanation(proposal)).rstrip("\n") + "\n"


# --------------------------------------------------------------------------- dashboard


def proposal_dashboard(proposal: Proposal, limit: int = MAX_BODY_BYTES // 2) -> str:
    """The dashboard section for a dispatch issue with findings but no plan: the proposal folded
    in ``<details>``, with how to adopt it; a proposal over ``limit`` bytes shows the summary and
    the agents only. Marked with ``PROPOSAL_MARKER``."""
    if not proposal.ok:
        body = refusal(proposal)
        return f"{PROPOSAL_MARKER}\n### No plan proposed from the findings\n\n{body}"
    title = (f"Proposed plan: {plural(len(proposal.agents), 'agent')} in {plural(len(proposal.waves), 'wave')} "
             f"from {plural(len(proposal.findings), 'finding')}")
    adopt = (f"This issue lists findings but no dispatch plan. Comment `{ADOPT_COMMAND}` (write permission) to "
             "write this plan into the issue body; it is then dispatched as usual.")
    inner = proposal_text(proposal)
    if nbytes(inner) > limit:
        kept = fit_lines(agents_table(proposal), limit // 2, "\n… and {n} more rows")
        inner = (summary(proposal) + "\n\n" + "\n".join(kept) + "\n\nThe full plan is too long to show here; "
                 f"`{ADOPT_COMMAND}` writes it into the issue body, or run `wavegate plan` on the findings.\n")
    return f"{PROPOSAL_MARKER}\n<details><summary>{title}</summary>\n\n{adopt}\n\n{inner}\n</details>\n"


def adopt_has_plan(login: str) -> str:
    """Reply to ``/wavegate adopt`` on an issue whose body already holds a plan."""
    return (f"@{login}, this issue already holds a dispatch plan, so `{ADOPT_COMMAND}` wrote nothing: the plan in "
            "the body is the one Wavegate dispatches. To use the proposal instead, replace the plan in the body by hand.\n")


def adopt_nothing(login: str, proposal: Proposal | None) -> str:
    """Reply to ``/wavegate adopt`` when there is no proposed plan to write: no finding names a
    file, or the proposal would not pass the pre-flight (its dashboard section says why)."""
    why = ("no list item of the issue body names a file an agent can own (write paths such as "
           "`src/api/auth.py:46-51`, one finding per list item)") if proposal is None or not proposal.agents else \
        "the plan proposed from the findings would not pass the pre-flight (the dashboard says why)"
    return f"@{login}, there is no proposed plan to adopt, so `{ADOPT_COMMAND}` wrote nothing: {why}.\n"


# --------------------------------------------------------------------------- JSON


def proposal_data(proposal: Proposal) -> dict:
    """The proposal as JSON-ready data (``wavegate plan --json``): ``ok``, ``plan`` (the block),
    ``agents``, ``consolidations``, ``sharings``, ``moves``, ``together``, ``notices``,
    ``unplaced`` (finding numbers and lines) and ``problems``."""
    return {
        "ok": proposal.ok,
        "limit": proposal.limit,
        "plan": proposal.block or None,
        "agents": [{"name": a.name, "wave": a.wave, "after": list(a.after), "territory": list(a.territory),
                    "findings": list(a.findings), "categories": list(a.categories), "testing": a.tests}
                   for a in proposal.agents],
        "findings": [{"number": f.number, "line": f.line, "text": f.text, "priority": f.priority,
                      "category": f.category, "references": [r.path for r in f.references]}
                     for f in proposal.findings],
        "consolidations": [asdict(c) for c in proposal.consolidations],
        "sharings": [{"path": s.path, "owners": [{"wave": w, "agent": n} for w, n in s.owners]}
                     for s in proposal.sharings],
        "moves": [asdict(m) for m in proposal.moves],
        "together": [asdict(t) for t in proposal.together],
        "notices": [asdict(n) for n in proposal.notices],
        "unplaced": list(proposal.unplaced),
        "problems": [asdict(p) for p in proposal.problems],
        "explanation": proposal_text(proposal),
    }
