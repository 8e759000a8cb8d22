"""Read a dispatch plan from an issue body (fenced ``dispatch`` YAML or prose headings) and run the
pre-flight (DESIGN §2). Problems are values, never exceptions.

Two stages: the form's reader (``plan_yaml`` or ``plan_prose``) reads structure and types into a
draft; ``_meaning`` checks names, waves, ``after`` and pattern syntax. A plan is returned only when
both found nothing; otherwise every problem is returned at once, sorted by line.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from . import gates, patterns
from .config import ref_problem
from .model import Agent, Overlap, Plan, Problem, RepoConfig
from .plan_draft import MAX_AGENTS, MAX_PATTERNS, AgentDraft, PlanDraft, too_many_agents, too_many_patterns
from .plan_prose import has_agent_headings, read_prose_plan
from .plan_source import Fence, body_lines, fences
from .plan_yaml import read_yaml_plan

MAX_BODY_BYTES = 256 * 1024

NAME_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
MAX_NAME_LENGTH = 64
MAX_WITNESSES_SHOWN = 10
MAX_PROBLEMS = 100  # a dashboard cannot usefully list more; the rest are counted

NO_PLAN_FIX = (
    "add a fenced block whose info string contains `dispatch` (```` ```yaml dispatch ````) with "
    "`agents:` (name, territory, and optionally wave, after, findings, do_not_modify), or write "
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
    if body is None or not body.strip():
        return [_no_plan()]
    size = len(body.encode("utf-8", "surrogatepass"))
    if size > MAX_BODY_BYTES:
        return [Problem("body-too-large",
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
    elif has_agent_headings(lines):
        draft = read_prose_plan(lines)
    else:
        return [_no_plan()]
    problems = draft.problems + _meaning(draft)
    return _sorted(problems) if problems else _build(draft)


def _sorted(problems: list[Problem]) -> list[Problem]:
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


def _no_plan() -> Problem:
    return Problem("no-plan", "no dispatch plan found: no ```` ```dispatch ```` block and no "
                   "`Agent: NAME` heading", NO_PLAN_FIX)


def _build(draft: PlanDraft) -> Plan:
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
                                   "add `name: …` (lower-case letters, digits and `-`)", None, "name", a.line))
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
                           a.name, "territory", a.line))
    if "wave" not in a.broken and a.wave < 1:
        out.append(Problem("invalid-wave", f"`wave` is {a.wave}; waves start at 1",
                           "use wave 1 for agents that start at once", a.name, "wave", a.wave_line or a.line))
    if a.branch is not None and (why := ref_problem(a.branch)):
        out.append(Problem("invalid-branch", f"`branch` `{a.branch}` is not a valid branch name: {why}",
                           "choose another branch name, or remove `branch` for the default",
                           a.name, "branch", a.branch_line))
    for field in ("territory", "do_not_modify"):
        for item in getattr(a, field):
            why = patterns.pattern_problem(item.value)
            if why:
                out.append(Problem("invalid-pattern", f"`{field}` pattern `{item.value}`: {why}",
                                   patterns.pattern_fix(item.value), a.name, field, item.line))
    return out


def _waves(agents: list[AgentDraft]) -> list[Problem]:
    waves = sorted({a.wave for a in agents if "wave" not in a.broken and a.wave >= 1})
    out: list[Problem] = []
    for k in range(1, waves[-1] if waves else 1):
        if k in waves:
            continue
        later = next(w for w in waves if w > k)
        first = next(a for a in agents if a.wave == later and "wave" not in a.broken)
        out.append(Problem("wave-gap", f"wave {later} has no wave {k} before it",
                           "number the waves 1, 2, 3 … without gaps", first.name, "wave",
                           first.wave_line or first.line))
    return out


def _after(agents: list[AgentDraft]) -> list[Problem]:
    out: list[Problem] = []
    by_name = {a.name: a for a in agents if a.name}
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
        kept[a.name] = tuple(ok)
    graph = Plan(agents=tuple(
        Agent(name=n, territory=(), wave=by_name[n].wave, after=kept[n]) for n in kept
    ))
    cycle = gates.find_cycle(graph)
    if cycle:
        first = by_name[cycle[0]]
        out.append(Problem("after-cycle", "`after` forms a cycle: " + " → ".join(cycle),
                           "remove one of these `after` entries", first.name, "after", first.line))
    return out


# --------------------------------------------------------------------------- pre-flight


def preflight(
    body: str | None,
    config: RepoConfig = RepoConfig(),
    repo_paths: Sequence[str] = (),
) -> Plan | list[Problem]:
    """``parse_plan`` plus the Non-Overlapping File Test: overlaps between concurrent agents
    (with witnesses, ``repo_paths`` preferred), territory vs own DO-NOT-MODIFY and vs protected.
    Returns the plan only when there is no problem at all.

    ``repo_paths`` are the base tree's file paths (repository-relative POSIX). One ``overlap``
    problem per concurrent pair, on the first agent, naming every contested real file (or the
    shortest possible path when no real file is contested). Overlap analysis runs only on a plan
    without parse problems. Never raises.
    """
    plan = parse_plan(body)
    if isinstance(plan, list):
        return plan
    try:
        problems = _preflight(plan, config, list(repo_paths))
    except Exception as exc:
        problems = [Problem("internal", f"the pre-flight could not run ({type(exc).__name__})",
                            "simplify the plan, and report this issue body to the maintainers")]
    return _sorted(problems) if problems else plan


def _preflight(plan: Plan, config: RepoConfig, repo_paths: list[str]) -> list[Problem]:
    out: list[Problem] = []
    territories = {a.name: a.territory for a in plan.agents}
    try:
        budget = patterns.Budget()
        overlaps = patterns.find_overlaps(territories, gates.concurrent_pairs(plan), repo_paths, budget)
        # Only the first MAX_PROBLEMS problems by line are shown (``_sorted``): the overlaps past
        # them are counted, not worded; naming every contested file of 4,950 pairs costs seconds.
        lines = {a.name: (a.line or 0, a.name) for a in plan.agents}
        overlaps.sort(key=lambda o: lines[o.agent_a])
        out += [_overlap_problem(plan, o, repo_paths, budget) if i < MAX_PROBLEMS else _overlap_counted(o, lines[o.agent_a][0])
                for i, o in enumerate(overlaps)]
    except patterns.TooComplex as exc:  # past one pair's or the pre-flight's limit: refuse, never guess
        out.append(_too_complex_pair(plan, exc))
    for a in plan.agents:
        checks = [("territory-vs-do-not-modify", a.do_not_modify, "do_not_modify",
                   "its own DO-NOT-MODIFY pattern", "remove the path from one of the two lists"),
                  ("protected", config.protected, "territory", "the repository's protected pattern",
                   "narrow the territory so that it leaves out the protected paths "
                   "(`protected` in .github/wavegate.yml)")]
        for code, others, field, what, fix in checks:
            if not others:
                continue
            try:
                hit = patterns.overlap(a.territory, others, repo_paths)
            except patterns.TooComplex as exc:
                out.append(_too_complex(exc, a, what))
                continue
            if hit:
                out.append(Problem(
                    code, f"territory pattern `{hit[0]}` of `{a.name}` overlaps {what} `{hit[1]}` "
                    f"(e.g. {_paths(hit[2])})", fix, a.name, field, a.line))
    return out


TOO_COMPLEX_FIX = ("use fewer `*` and `**` in {patterns} (a literal folder such as `src/api/` "
                   "compares at once)")


def _limit(exc: patterns.TooComplex) -> str:
    return "within the pre-flight's limit" if exc.budget_spent else "within the limit of one comparison"


def _at(agent: Agent) -> str:
    return f"`{agent.name}` (line {agent.line})" if agent.line else f"`{agent.name}`"


def _too_complex_pair(plan: Plan, exc: patterns.TooComplex) -> Problem:
    """The pair of agents, and the pair of their patterns, whose comparison ran past a limit."""
    pa, pb = exc.patterns
    a, b = (plan.agent(n) for n in exc.agents) if exc.agents else (None, None)
    if a is None or b is None:
        return Problem("pattern-too-complex",
                       f"the territories are too complex to compare {_limit(exc)}: `{pa}` against `{pb}`",
                       TOO_COMPLEX_FIX.format(patterns=f"`{pa}` and `{pb}`"), None, "territory")
    return Problem("pattern-too-complex",
                   f"the territories of {_at(a)} and {_at(b)} are too complex to compare {_limit(exc)}: "
                   f"`{pa}` of `{a.name}` against `{pb}` of `{b.name}`",
                   TOO_COMPLEX_FIX.format(patterns=f"`{pa}` and `{pb}`"), a.name, "territory", a.line)


def _too_complex(exc: patterns.TooComplex, agent: Agent, what: str) -> Problem:
    pa, pb = exc.patterns
    return Problem("pattern-too-complex",
                   f"territory pattern `{pa}` of {_at(agent)} is too complex to compare with {what} `{pb}` "
                   f"{_limit(exc)}", TOO_COMPLEX_FIX.format(patterns=f"`{pa}` and `{pb}`"),
                   agent.name, "territory", agent.line)


def _overlap_problem(plan: Plan, o: Overlap, repo_paths: list[str], budget: patterns.Budget) -> Problem:
    a, b = plan.agent(o.agent_a), plan.agent(o.agent_b)
    assert a is not None and b is not None
    # find_overlaps names one meeting pattern pair; the message names every contested real file
    # (the Non-Overlapping File Test is about files), with the patterns of each side behind it.
    contested: list[str] = []
    if repo_paths:
        rx_a, rx_b = patterns.compile_patterns(a.territory), patterns.compile_patterns(b.territory)
        contested = [p for p in repo_paths if rx_a.fullmatch(p) and rx_b.fullmatch(p)]
    if contested:
        shown = [_via(p, _first(a.territory, p), _first(b.territory, p)) for p in contested[:MAX_WITNESSES_SHOWN]]
        more = len(contested) - len(shown)
        files = ", ".join(shown) + (f" and {more} more" if more > 0 else "")
    else:
        # No repository files: one shortest witness per meeting pattern pair, so literal file
        # territories name every contested file, not only the first.
        try:
            shown = _shortest_witnesses(a.territory, b.territory, budget)
        except patterns.TooComplex as exc:
            raise exc.between(a.name, b.name) from None
        shown = shown or [_via(_paths(o.witnesses), o.pattern_a, o.pattern_b)]
        files = ", ".join(shown[:MAX_WITNESSES_SHOWN])
        if len(shown) > MAX_WITNESSES_SHOWN:
            files += f" and {len(shown) - MAX_WITNESSES_SHOWN} more"
    waves = f"wave {a.wave}" if a.wave == b.wave else f"waves {a.wave} and {b.wave}"
    return Problem(
        "overlap",
        f"`{a.name}` and `{b.name}` may run at the same time ({waves}, neither after the other) and "
        f"both territories contain {files}",
        f"move the file into one agent's territory, or put the agents in different waves "
        f"(or add `after: [{a.name}]` to `{b.name}`)",
        a.name, "territory", a.line,
    )


def _overlap_counted(o: Overlap, line: int) -> Problem:
    return Problem("overlap", f"`{o.agent_a}` and `{o.agent_b}` overlap", "", o.agent_a, "territory", line or None)


def _shortest_witnesses(territory_a: Sequence[str], territory_b: Sequence[str],
                        budget: patterns.Budget) -> list[str]:
    # Pairs with a literal side (a file or folder) name the contested files and cost little; two
    # wildcard patterns are represented by the one witness the overlap search already found.
    shown: list[str] = []
    for pa in territory_a:
        for pb in territory_b:
            if not (_literal(pa) or _literal(pb)):
                continue
            witness = budget.compare(pa, pb)
            if witness is not None:
                text = _via(witness, pa, pb)
                if text not in shown:
                    shown.append(text)
    return shown


def _literal(pattern: str) -> bool:
    return "*" not in pattern and "?" not in pattern


def _via(path: str, pattern_a: str, pattern_b: str) -> str:
    if pattern_a.lstrip("/") == path == pattern_b.lstrip("/"):
        return path
    return f"{path} (through `{pattern_a}` and `{pattern_b}`)"


def _first(territory: Sequence[str], path: str) -> str:
    return next((p for p in territory if patterns.matches(p, path)), territory[0])


def _paths(paths: Sequence[str]) -> str:
    return ", ".join(paths) if paths else "a common path"
