"""Read a dispatch plan from an issue body (fenced ``dispatch`` YAML or prose headings) and run the
pre-flight (DESIGN §2). Problems are values, never exceptions.

Two stages: the form's reader (``plan_yaml`` or ``plan_prose``) reads structure and types into a
draft; ``_meaning`` checks names, waves, ``after`` and pattern syntax. A plan is returned only when
both found nothing; otherwise every problem is returned at once, sorted by line.
"""

from __future__ import annotations

import re

from . import gates, patterns
from .config import ref_problem
from .model import Agent, Plan, Problem
from .plan_draft import (
    MAX_AGENTS,
    MAX_FINDING_LENGTH,
    MAX_PATTERNS,
    MAX_WAVE,
    AgentDraft,
    PlanDraft,
    too_long_finding,
    too_many_agents,
    too_many_patterns,
)
from .plan_prose import first_agent_heading, has_agent_headings, read_prose_plan
from .plan_source import Fence, body_lines, fences
from .plan_yaml import read_yaml_plan

MAX_BODY_BYTES = 256 * 1024

NAME_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
MAX_NAME_LENGTH = 64
MAX_PROBLEMS = 100  # a dashboard cannot usefully list more; the rest are counted

NO_PLAN_FIX = (
    "add a fenced block whose info string contains `dispatch`, like ```` ```yaml dispatch ````, holding "
    "`agents:` with name, territory and optionally wave, after, findings, do_not_modify; or write "
    "one heading `Agent: NAME` per agent followed by the lists `Authorized files:`, "
    "`Findings to fix:` and `Do not modify:`"
)


def parse_plan(body: str | None) -> Plan | list[Problem]:
    """Structure, then meaning (names, waves, after, pattern syntax). No overlap analysis.

    ``body`` is the issue body as GitHub sends it (None for an empty body). Returns the frozen
    ``Plan`` (``form`` ``"yaml"`` or ``"prose"``) or a non-empty list of ``Problem`` sorted by
    line (problems without a line first). Never raises, whatever ``body`` holds. Line numbers are
    1-based lines of ``body`` (``\\r\\n`` and ``\\n`` give the same numbers).

    Work is bounded by the body's limits (``plan_draft``: 100 agents, 1,000 patterns, 10,000 YAML
    values): a plan past one is refused with that problem, located at the first item past
    the limit, before the checks whose cost grows with its size. A second dispatch block is a
    problem (``several-dispatch-blocks``) on its opening line.
    """
    try:
        return _parse(body)
    except Exception as exc:  # a reader bug must not take the service down with it
        return [Problem("internal", f"the plan could not be read ({type(exc).__name__})",
                        "simplify the plan, and report this issue body to the maintainers")]


def _parse(body: str | None) -> Plan | list[Problem]:
    draft, problems = read_draft(body)
    if problems or draft is None:
        return sorted_problems(problems)
    return build_plan(draft)


def read_draft(body: str | None) -> tuple[PlanDraft | None, list[Problem]]:
    """The plan as read (None when there is no plan to read) and every structural and meaning
    problem, unsorted. May raise on a reader bug (``parse_plan`` catches it)."""
    if body is None or not body.strip():
        return None, [_no_plan()]
    size = len(body.encode("utf-8", "surrogatepass"))
    if size > MAX_BODY_BYTES:
        return None, [Problem("body-too-large",
                              f"the issue body is {size:,} bytes; a plan may be at most {MAX_BODY_BYTES:,}",
                              "shorten the issue body; move long findings into linked issues")]
    lines = body_lines(body)
    blocks = [f for f in fences(lines) if f.is_dispatch]
    if blocks:
        draft = read_yaml_plan(blocks[0])
        # DESIGN §2.1: the first dispatch block holds the plan. A second one is refused rather than
        # ignored: its author most likely expects it to count (a plan split in two, or an edit
        # appended below the original).
        draft.problems += [_second_block(blocks[0], f) for f in blocks[1:2]]
        if (heading := first_agent_heading(lines)) is not None:
            draft.problems.append(_prose_beside_block(blocks[0], heading))
    elif has_agent_headings(lines):
        draft = read_prose_plan(lines)
    else:
        return None, [_no_plan()]
    return draft, draft.problems + _meaning(draft)


# (agent, field, pattern as written) → the 1-based line of that list item.
PatternLines = dict[tuple[str, str, str], int]


def pattern_lines(draft: PlanDraft) -> PatternLines:
    """Where each pattern of a draft was written, for problems located on the pattern's line."""
    out: PatternLines = {}
    for a in draft.agents:
        for field in ("territory", "do_not_modify"):
            for item in getattr(a, field):
                if a.name and item.line:
                    out.setdefault((a.name, field, item.value), item.line)
    return out


def sorted_problems(problems: list[Problem]) -> list[Problem]:
    """Problems by line (those without a line first), at most ``MAX_PROBLEMS``: the last one
    then says how many more there are."""
    out = sorted(problems, key=lambda p: (p.line or 0, p.agent or "", p.code))
    if len(out) > MAX_PROBLEMS:
        more = len(out) - MAX_PROBLEMS + 1
        out = out[: MAX_PROBLEMS - 1] + [Problem(
            "too-many-problems", f"… and {more} more problems", "fix the ones above and save again", more=more)]
    return out


def _second_block(first: Fence, other: Fence) -> Problem:
    return Problem("several-dispatch-blocks",
                   f"a second dispatch block: only the first one (line {first.open_line}) is read as the plan",
                   "merge the blocks into one, or remove the word `dispatch` from the second block's "
                   "first line", None, None, other.open_line)


def _prose_beside_block(block: Fence, heading_line: int) -> Problem:
    # Two plans in one issue, like two blocks: the author most likely expects both to count.
    return Problem("several-plans",
                   f"an `Agent:` heading beside the dispatch block (line {block.open_line}): only the block "
                   "is read as the plan, so the agents written as headings would be left out",
                   "move these agents into the dispatch block, or write the whole plan as headings",
                   None, None, heading_line)


def _no_plan() -> Problem:
    return Problem("no-plan", "no dispatch plan found: no ```` ```dispatch ```` block and no "
                   "`Agent: NAME` heading", NO_PLAN_FIX)


def build_plan(draft: PlanDraft) -> Plan:
    """The frozen ``Plan`` of a draft (meant for a draft without problems)."""
    agents = tuple(
        Agent(
            name=a.name or "",
            territory=tuple(i.value for i in a.territory),
            wave=a.wave,
            after=tuple(dict.fromkeys(i.value for i in a.after)),
            findings=tuple(a.findings),
            do_not_modify=tuple(i.value for i in a.do_not_modify),
            branch=a.branch,
            line=a.line,
            launch=a.launch,
        )
        for a in draft.agents
    )
    return Plan(agents=agents, base=draft.base, strict=draft.strict, form=draft.form)


# --------------------------------------------------------------------------- stage 2: meaning


def _meaning(draft: PlanDraft) -> list[Problem]:
    out: list[Problem] = []
    agents = draft.agents
    if len(agents) > MAX_AGENTS:
        out.append(too_many_agents(agents[MAX_AGENTS].line))
    items = [i for a in agents for i in (*a.territory, *a.do_not_modify)]
    if len(items) > MAX_PATTERNS:
        out.append(too_many_patterns(sorted(items, key=lambda i: i.line or 0)[MAX_PATTERNS].line))
    if out:
        # A plan over the limits is refused before the checks whose cost grows with its size
        # (the wave and `after` graph is quadratic in the number of agents).
        return out
    if draft.base is not None and (why := ref_problem(draft.base)):
        out.append(Problem("invalid-branch", f"`base` `{draft.base}` is not a valid branch name: {why}",
                           "write the name of an existing branch", None, "base", draft.base_line))
    out += _names(agents)
    for a in agents:
        out += _agent_fields(a)
    out += _waves(agents)
    out += _after(agents)
    return out


def _names(agents: list[AgentDraft]) -> list[Problem]:
    out: list[Problem] = []
    seen: dict[str, AgentDraft] = {}
    for a in agents:
        if a.name is None:
            if "name" not in a.broken:
                out.append(Problem("missing-name", "an agent has no `name`",
                                   "add `name: …` with lower-case letters, digits and `-`", None, "name", a.line))
            continue
        if not NAME_RE.fullmatch(a.name) or len(a.name) > MAX_NAME_LENGTH:
            out.append(Problem(
                "invalid-name", f"agent name `{a.name}` is not valid: names are lower-case letters, digits "
                f"and `-`, start with a letter or digit, at most {MAX_NAME_LENGTH} characters",
                f"rename it, e.g. `{_slug(a.name)}`", a.name, "name", a.line))
        if a.name in seen:
            out.append(Problem("duplicate-name", f"two agents are named `{a.name}` (lines {seen[a.name].line} "
                               f"and {a.line})", "give every agent its own name", a.name, "name", a.line))
        else:
            seen[a.name] = a
    return out


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    return slug[:MAX_NAME_LENGTH] or "agent-1"


def _agent_fields(a: AgentDraft) -> list[Problem]:
    out: list[Problem] = []
    if not a.territory and "territory" not in a.broken:
        out.append(Problem("empty-territory", "`territory` is required and must be non-empty",
                           "list the paths this agent may change under `territory:`",
                           a.name, "territory", a.field_lines.get("territory") or a.line))
    elif a.territory and all(patterns.is_exclusion(i.value) for i in a.territory):
        out.append(Problem("empty-territory", "`territory` lists only exclusions; `!` entries remove paths "
                           "from the paths listed beside them", "list the paths this agent may change, "
                           "then the `!` exceptions", a.name, "territory", a.territory[0].line or a.line))
    if "wave" not in a.broken and a.wave < 1:
        out.append(Problem("invalid-wave", f"`wave` is {a.wave}; waves start at 1",
                           "use wave 1 for agents that start at once", a.name, "wave", a.wave_line or a.line))
    elif "wave" not in a.broken and a.wave > MAX_WAVE:
        # The number itself is not repeated: it may be 20 digits long (``bounded_wave`` capped it).
        out.append(Problem("invalid-wave", f"`wave` is larger than {MAX_WAVE}: waves are numbered 1, 2, 3 … "
                           f"without gaps and a plan has at most {MAX_AGENTS} agents",
                           "number the waves 1, 2, 3 … in the order the agents may merge",
                           a.name, "wave", a.wave_line or a.line))
    if a.branch is not None and (why := ref_problem(a.branch)):
        out.append(Problem("invalid-branch", f"`branch` `{a.branch}` is not a valid branch name: {why}",
                           "choose another branch name, or remove `branch` for the default",
                           a.name, "branch", a.branch_line))
    out += _pattern_problems(a)
    out += _finding_problems(a)
    return out


def _finding_problems(a: AgentDraft) -> list[Problem]:
    """Findings are quoted in the dispatch prompt: one finding's length is bounded (their number
    is bounded by the block's value limit and the body's size)."""
    lines = a.finding_lines + [None] * (len(a.findings) - len(a.finding_lines))
    long = next((i for i, f in enumerate(a.findings) if len(f) > MAX_FINDING_LENGTH), None)
    if long is None:
        return []
    return [too_long_finding(a.name, lines[long] or a.field_lines.get("findings") or a.line)]


def _pattern_problems(a: AgentDraft) -> list[Problem]:
    out: list[Problem] = []
    for field, check, fix in (("territory", patterns.entry_problem, patterns.entry_fix),
                              ("do_not_modify", patterns.pattern_problem, patterns.pattern_fix)):
        for item in getattr(a, field):
            why = check(item.value)
            if why:
                out.append(Problem("invalid-pattern", f"`{field}` pattern `{item.value}`: {why}",
                                   fix(item.value), a.name, field, item.line))
    return out


def _waves(agents: list[AgentDraft]) -> list[Problem]:
    """One problem per gap in the wave numbers, naming the missing range. Work grows with the
    number of agents, never with the wave numbers (those past ``MAX_WAVE`` are refused apart)."""
    waves = sorted({a.wave for a in agents if "wave" not in a.broken and 1 <= a.wave <= MAX_WAVE})
    out: list[Problem] = []
    for before, later in zip([0, *waves], waves, strict=False):
        if later - before < 2:
            continue
        first = next(a for a in agents if a.wave == later and "wave" not in a.broken)
        missing = f"wave {before + 1}" if later - before == 2 else f"waves {before + 1}–{later - 1}"
        out.append(Problem("wave-gap", f"wave {later} has no {missing} before it",
                           "number the waves 1, 2, 3 … without gaps", first.name, "wave",
                           first.wave_line or first.line))
    return out


def _after(agents: list[AgentDraft]) -> list[Problem]:
    out: list[Problem] = []
    by_name: dict[str, AgentDraft] = {}
    for a in agents:
        if a.name:
            by_name.setdefault(a.name, a)
    # Agents sharing a name (a problem of its own) share one node: the `after` entries of both
    # count, so a cycle through either is reported too.
    kept: dict[str, tuple[str, ...]] = {}
    for a in agents:
        if a.name is None:
            continue
        ok: list[str] = []
        for item in a.after:
            other = by_name.get(item.value)
            if item.value == a.name:
                out.append(Problem("after-self", f"`{a.name}` is listed in its own `after`",
                                   "remove it from `after`", a.name, "after", item.line))
            elif other is None:
                out.append(Problem("after-unknown", f"`after` names `{item.value}`, which is not an agent "
                                   "of this plan", "use the name of an agent of this plan",
                                   a.name, "after", item.line))
            elif "wave" not in a.broken and "wave" not in other.broken and other.wave > a.wave:
                out.append(Problem(
                    "after-later-wave", f"`{a.name}` (wave {a.wave}) is after `{other.name}`, which is in a "
                    f"later wave ({other.wave})", f"move `{a.name}` to wave {other.wave} or later, or "
                    "remove the dependency", a.name, "after", item.line))
            else:
                ok.append(item.value)
        kept[a.name] = (*kept.get(a.name, ()), *ok)
    graph = Plan(agents=tuple(
        Agent(name=n, territory=(), wave=by_name[n].wave, after=kept[n]) for n in kept
    ))
    cycle = gates.find_cycle(graph)
    if cycle:
        out.append(Problem("after-cycle", "`after` forms a cycle: " + " → ".join(cycle),
                           "remove one of these `after` entries", cycle[0], "after",
                           _after_line(agents, cycle[0], cycle[1])))
    return out


def _after_line(agents: list[AgentDraft], name: str, other: str) -> int | None:
    """The line of the `after` entry of ``name`` that names ``other`` (a cycle's first step);
    the agent's own line when the step comes from waves, not from `after`."""
    for a in agents:
        if a.name == name:
            found = next((i.line for i in a.after if i.value == other and i.line), None)
            if found:
                return found
    return next((a.line for a in agents if a.name == name), None)


# --------------------------------------------------------------------------- pre-flight

# The pre-flight lives in ``plan_check`` (it needs this module's reader); re-exported here so
# ``plan.preflight`` stays where callers import it from.
from .plan_check import check_plan, preflight  # noqa: E402

__all__ = ["check_plan", "parse_plan", "preflight", "read_draft"]
