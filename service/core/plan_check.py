"""The pre-flight (DESIGN §2.3): ``parse_plan`` plus the Non-Overlapping File Test on effective
territories, every problem and warning of a plan in one run.

An agent's effective territory is its positive patterns minus its ``!`` exclusions, its own
DO-NOT-MODIFY list and the repository's protected list. Two agents that may run at the same time
must have disjoint effective territories; an effective territory must not be empty. Overlaps are
looked for even when the plan has structural problems, among the agents that could be read.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import replace

from . import gates, patterns, plan_typos
from .model import Agent, Overlap, Plan, PlanCheck, PlanWarning, Problem, RepoConfig
from .plan import MAX_PROBLEMS, NAME_RE, PatternLines, build_plan, pattern_lines, read_draft, sorted_problems
from .plan_draft import AgentDraft, PlanDraft
from .report_problems import (
    Witness,
    empty_territory,
    internal_problem,
    overlap_counted,
    overlap_problem,
    removed_pattern,
    too_complex_exclusions,
    too_complex_pair,
)

MAX_WITNESSES_SHOWN = 3
# Problems after which the plan is not looked at any further: its size alone is the problem.
_STOPPING = frozenset({"no-plan", "body-too-large", "too-many-agents", "too-many-patterns", "plan-too-large",
                       "internal"})


def check_plan(
    body: str | None,
    config: RepoConfig = RepoConfig(),
    repo_paths: Sequence[str] = (),
) -> PlanCheck:
    """Every problem and warning of the plan in ``body``, at once.

    Args: ``body`` the issue body; ``config`` the repository settings (protected list);
    ``repo_paths`` the base tree's tracked files (repository-relative POSIX), preferred as overlap
    witnesses and used to warn about patterns that match no file (empty: no such warnings).
    Returns a ``PlanCheck``: ``plan`` set when the plan could be read (problems or not),
    ``problems`` sorted by line (structural ones together with overlaps among the agents that
    could be read), ``warnings`` sorted by line. Never raises.
    """
    try:
        return _check(body, config, list(repo_paths))
    except Exception as exc:  # a bug must not take the service down with it
        return PlanCheck(None, (internal_problem(type(exc).__name__),))


def preflight(
    body: str | None,
    config: RepoConfig = RepoConfig(),
    repo_paths: Sequence[str] = (),
) -> Plan | list[Problem]:
    """``check_plan`` in its original shape: the plan when there is no problem at all (warnings
    do not count), else the list of problems. Never raises."""
    found = check_plan(body, config, repo_paths)
    return found.plan if found.passed and found.plan is not None else list(found.problems)


def _check(body: str | None, config: RepoConfig, repo_paths: list[str]) -> PlanCheck:
    draft, problems = read_draft(body)
    if draft is None or any(p.code in _STOPPING for p in problems):
        return PlanCheck(None, tuple(sorted_problems(problems)))
    plan = build_plan(draft) if not problems else _readable_part(draft)
    lines = pattern_lines(draft)
    territory_problems, warnings = _territories(plan, config, repo_paths, lines)
    # A pattern its exclusions remove entirely is warned about once, not also as a typo.
    removed = {(w.agent, w.pattern) for w in warnings}
    warnings += [w for w in plan_typos.typo_warnings(plan, repo_paths, lines) if (w.agent, w.pattern) not in removed]
    return PlanCheck(
        None if problems else plan,
        tuple(sorted_problems(problems + territory_problems)),
        tuple(sorted(warnings, key=lambda w: (w.line or 0, w.agent or ""))),
    )


def _readable_part(draft: PlanDraft) -> Plan:
    """The agents of a plan with problems whose names, waves and ``after`` could be read, for an
    overlap analysis alongside the structural problems (invalid patterns are skipped later)."""
    seen: set[str] = set()
    kept: list[AgentDraft] = []
    for a in draft.agents:
        if a.name and a.name not in seen and NAME_RE.fullmatch(a.name) and not a.broken & {"wave", "after"} \
                and a.wave >= 1:
            seen.add(a.name)
            kept.append(a)
    plan = build_plan(PlanDraft(draft.form, kept, draft.base, draft.base_line, draft.strict))
    agents = (replace(a, after=tuple(n for n in a.after if n in seen and n != a.name)) for a in plan.agents)
    return replace(plan, agents=tuple(agents))


def effective(agent: Agent, config: RepoConfig) -> tuple[str, ...]:
    """The agent's territory entries with everything it excludes written as ``!`` entries: its
    own ``!`` entries, its DO-NOT-MODIFY list and the protected list."""
    extra = (*agent.do_not_modify, *config.protected)
    return (*agent.territory, *(f"!{p}" for p in extra if p and not p.startswith("!")))


def _territories(plan: Plan, config: RepoConfig, repo_paths: list[str],
                 lines: PatternLines) -> tuple[list[Problem], list[PlanWarning]]:
    problems: list[Problem] = []
    warnings: list[PlanWarning] = []
    budget = patterns.Budget()
    for a in plan.agents:
        found, removed = _emptied(a, config, budget, lines)
        problems += found
        warnings += removed
    problems += _overlaps(plan, config, repo_paths, budget, lines)
    return problems, warnings


def _emptied(agent: Agent, config: RepoConfig, budget: patterns.Budget,
             lines: PatternLines) -> tuple[list[Problem], list[PlanWarning]]:
    """An empty effective territory is a problem; a pattern removed entirely is a warning."""
    scope = patterns.split_territory(agent.territory)[0]
    if not scope:
        return [], []
    try:
        removed = patterns.empty_patterns(effective(agent, config), budget)
    except patterns.TooComplex as exc:
        return [too_complex_exclusions(exc, agent, lines.get((agent.name, "territory", exc.patterns[0])))], []
    where = [(p, lines.get((agent.name, "territory", p)) or agent.line) for p, _ in removed]
    sources = [tuple((e, _source(agent, config, e)) for e in by) for _, by in removed]
    if len(removed) == len(scope):
        return [empty_territory(agent, sources, where[0][1])], []
    return [], [removed_pattern(agent, p, line, by) for (p, line), by in zip(where, sources, strict=True)]


def _source(agent: Agent, config: RepoConfig, excluded: str) -> str:
    if f"!{excluded}" in agent.territory:
        return "excluded"
    return "do_not_modify" if excluded in agent.do_not_modify else "protected"


def _overlaps(plan: Plan, config: RepoConfig, repo_paths: list[str], budget: patterns.Budget,
              lines: PatternLines) -> list[Problem]:
    # Compared in NFC: `résumé.md` written precomposed and decomposed are two byte strings, so two
    # files to GitHub, but one name to a macOS checkout and to any reader; owned by two agents at
    # once they are an overlap (DESIGN §2.3 / docs/design.md, "Unicode spellings").
    territories = {a.name: tuple(unicodedata.normalize("NFC", e) for e in effective(a, config)) for a in plan.agents}
    repo_paths = [unicodedata.normalize("NFC", p) for p in repo_paths]
    try:
        overlaps = patterns.find_overlaps(territories, gates.concurrent_pairs(plan), repo_paths, budget)
        # Only the first MAX_PROBLEMS overlaps by line are worded: naming every contested file of
        # 4,950 pairs costs seconds, and the rest are counted.
        place = {o: _line(plan, o, lines) for o in overlaps}
        overlaps.sort(key=lambda o: (place[o], o.agent_a))
        return [_worded(plan, o, territories, repo_paths, budget, place[o]) if i < MAX_PROBLEMS
                else overlap_counted(o, place[o]) for i, o in enumerate(overlaps)]
    except patterns.TooComplex as exc:  # past one pair's or the pre-flight's limit: refuse, never guess
        return [too_complex_pair(plan, exc)]


def _line(plan: Plan, o: Overlap, lines: PatternLines) -> int:
    agent = plan.agent(o.agent_a)
    return lines.get((o.agent_a, "territory", o.pattern_a)) or (agent.line if agent else None) or 0


def _worded(plan: Plan, o: Overlap, territories: dict[str, tuple[str, ...]], repo_paths: list[str],
            budget: patterns.Budget, line: int) -> Problem:
    a, b = plan.agent(o.agent_a), plan.agent(o.agent_b)
    assert a is not None and b is not None
    ta, tb = territories[a.name], territories[b.name]
    shown, more = _contested(ta, tb, repo_paths)
    if not shown:
        try:
            shown = _shortest_witnesses(ta, tb, budget) or [Witness(o.witnesses[0], o.pattern_a, o.pattern_b)]
        except patterns.TooComplex as exc:
            raise exc.between(a.name, b.name) from None
        more = max(len(shown) - MAX_WITNESSES_SHOWN, 0)
    return overlap_problem(a, b, shown[:MAX_WITNESSES_SHOWN], more, line or None)


def _contested(ta: Sequence[str], tb: Sequence[str], repo_paths: list[str]) -> tuple[list[Witness], int]:
    """Every real file both territories hold (the Non-Overlapping File Test is about files),
    each with the patterns of both sides that reach it; at most ``MAX_WITNESSES_SHOWN`` shown."""
    if not repo_paths:
        return [], 0
    rx_a, rx_b = patterns.territory_regex(ta), patterns.territory_regex(tb)
    contested = [p for p in repo_paths if rx_a.fullmatch(p) and rx_b.fullmatch(p)]
    shown = [Witness(p, _first(ta, p), _first(tb, p)) for p in contested[:MAX_WITNESSES_SHOWN]]
    return shown, len(contested) - len(shown)


def _shortest_witnesses(ta: Sequence[str], tb: Sequence[str], budget: patterns.Budget) -> list[Witness]:
    # Pairs with a literal side (a file or folder) name the contested files and cost little; two
    # wildcard patterns are represented by the one witness the overlap search already found.
    (pos_a, ex_a), (pos_b, ex_b) = patterns.split_territory(ta), patterns.split_territory(tb)
    excluded = tuple(dict.fromkeys(ex_a + ex_b))
    shown: list[Witness] = []
    for pa in pos_a:
        for pb in pos_b:
            if not (_literal(pa) or _literal(pb)):
                continue
            witness = budget.compare(pa, pb, excluded)
            if witness is not None and witness not in {w.path for w in shown}:
                shown.append(Witness(witness, pa, pb))
    return shown


def _literal(pattern: str) -> bool:
    return "*" not in pattern and "?" not in pattern


def _first(territory: Sequence[str], path: str) -> str:
    positive = patterns.split_territory(territory)[0]
    return next((p for p in positive if patterns.matches(p, path)), positive[0])
