"""The dispatch prompt (DESIGN §3.2): an agent's PR body, which never contradicts itself.

Its scope shows what the territory leaves out inside each pattern (``src/`` except
``src/generated/``). Only the agents that may run at the same time are forbidden outright under
DO NOT MODIFY; the agents before and after it are listed as context, and a pattern of theirs that
also covers this agent's scope says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from . import gates, patterns
from .markers import branch_name, pr_marker
from .model import GATE_CHECK, TERRITORY_CHECK, Agent, Plan, RepoConfig
from .report_checks import direct_dependencies
from .report_format import code, join_names

SCOPE_RULE = (
    "Out-of-scope discoveries: do not fix them in place, even when the fix looks small; the file "
    "may belong to another agent, and a fix there becomes a merge conflict. Record each one under a "
    "`## Scope expansions` heading in this PR's description, or in `SCOPE-EXPANSIONS.md` (the "
    "territory check exempts that file), and continue with your assigned scope."
)
SCOPE_HEAD = ("AUTHORIZED FILES (patterns anchored at the repository root; `dir/` covers everything below it, "
              "`*.py` names the files of one folder):")
CONTEXT_HEAD = ("Other agents' territories, for context: they run before or after you, not beside you; outside your "
                "own scope, leave their files alone:")


def dispatch_prompt(
    plan: Plan, agent: str, issue: int, plan_hash: str, config: RepoConfig = RepoConfig()
) -> str:
    """The agent's PR body (DESIGN §3.2): scope with its exceptions, findings, constraints (own
    list, the territories of the agents running beside it, protected list), the other agents'
    territories as context, the scope-expansion rule, then the hidden marker
    ``<!-- wavegate issue=N agent=NAME plan=HASH -->``.

    ``issue`` is the dispatch issue number; the branch shown follows ``config.branch_prefix``.
    Raises ``KeyError`` when ``agent`` is not in ``plan``.
    """
    me = plan.agent(agent)
    if me is None:
        raise KeyError(agent)
    lines = [
        f"## Dispatch: {code(me.name)} · wave {me.wave}",
        "",
        f"You are agent {code(me.name)} of the dispatch plan in #{issue}. Work on branch "
        f"{code(branch_name(issue, me, config.branch_prefix))}: every push to it is checked against the scope below.",
        "",
        *_scope(me, config),
        "### Findings",
        "",
        *([_item(f) for f in me.findings] or ["None listed."]),
        "",
        *_constraints(plan, me, config),
        SCOPE_RULE,
        "",
        _dependency_sentence(plan, me.name),
        "",
        pr_marker(issue, me.name, plan_hash),
        "",
    ]
    return "\n".join(lines)


def _item(text: str) -> str:
    # Findings are verbatim; continuation lines are indented so they stay inside the list item.
    first, *rest = text.splitlines() or [""]
    return "\n".join([f"- {first}", *(f"  {line}" if line else "" for line in rest)])


def _scope(me: Agent, config: RepoConfig) -> list[str]:
    excluded = (*me.exclusions, *config.protected)
    removed = _removed(me, config)
    kept = [p for p in patterns.split_territory(me.territory)[0] if p not in removed]
    return ["### Scope", "", SCOPE_HEAD, "",
            *(f"- {_with_exceptions(p, excluded)}" for p in kept), ""]


def _removed(me: Agent, config: RepoConfig) -> dict[str, tuple[str, ...]]:
    """The territory patterns of ``me`` that its exclusions, DO-NOT-MODIFY list and the protected
    list remove entirely (they authorize nothing), each with what removes it. A comparison past
    its limit counts as not removed: the pre-flight refuses such a plan anyway."""
    excluded = dict.fromkeys((*me.exclusions, *config.protected))
    entries = (*patterns.split_territory(me.territory)[0], *(f"!{e}" for e in excluded if e))
    try:
        return dict(patterns.empty_patterns(entries))
    except patterns.TooComplex:
        return {}


def _reason(me: Agent, pattern: str, excluded: str, config: RepoConfig) -> str:
    which = "" if excluded == pattern else f" ({code(excluded)})"
    if f"!{excluded}" in me.territory:
        return f"excluded in your territory{which}"
    if excluded in me.do_not_modify:
        return f"on your own DO-NOT-MODIFY list{which}"
    return f"protected by the repository settings{which}"


def _removed_lines(me: Agent, config: RepoConfig) -> list[str]:
    """A territory pattern removed entirely authorizes nothing: it is listed here, with why."""
    return [f"- {code(p)} — listed in your territory, but all of it is "
            f"{join_names([_reason(me, p, e, config) for e in by])}"
            for p, by in _removed(me, config).items()]


def _with_exceptions(pattern: str, excluded: Sequence[str]) -> str:
    """``pattern`` in code, followed by the exclusions that take paths out of it."""
    inside = [e for e in dict.fromkeys(excluded)
              if patterns.pattern_problem(e) is None and patterns.overlap([pattern], [e]) is not None]
    return code(pattern) + (f" except {join_names([code(e) for e in inside])}" if inside else "")


def _constraints(plan: Plan, me: Agent, config: RepoConfig) -> list[str]:
    deps = gates.transitive_dependencies(plan)
    beside = [a for a in plan.agents if a.name != me.name and me.name not in deps[a.name]
              and a.name not in deps[me.name]]
    removed = _removed(me, config)
    forbidden = _removed_lines(me, config)
    forbidden += [f"- {code(p)} — your own DO-NOT-MODIFY list" for p in me.do_not_modify if p not in removed]
    forbidden += [f"- {text} — owned by {join_names(names)}" for text, names in _owned(beside, me, {}).items()]
    forbidden += [f"- {code(p)} — protected by the repository settings" for p in config.protected if p not in removed]
    lines = ["### Constraints", "", "DO NOT MODIFY:", "",
             *(forbidden or ["- nothing beyond your scope: still change only the files of your scope"]), ""]
    others = [a for a in plan.agents if a.name != me.name and a not in beside]
    context = _owned(others, me, deps)
    if context:
        lines += [CONTEXT_HEAD, "", *(f"- {text} — {join_names(names)}" for text, names in context.items()), ""]
    return lines


def _owned(agents: Sequence[Agent], me: Agent, deps: Mapping[str, frozenset[str]]) -> dict[str, list[str]]:
    """Each pattern of ``agents`` (with its exceptions) → who holds it, ``owned by`` style when
    ``deps`` is empty, else with "before you" / "after you" and a note when it covers ``me``'s
    scope. Patterns ``me`` holds verbatim are left out (the agents run one after the other)."""
    own = set(patterns.split_territory(me.territory)[0])
    mine = tuple(me.territory)
    out: dict[str, list[str]] = {}
    for other in agents:
        when = "" if not deps else (", before you" if other.name in deps[me.name] else ", after you")
        for p in patterns.split_territory(other.territory)[0]:
            if p in own:
                continue
            label = f"{code(other.name)} (wave {other.wave}{when})"
            covered = _covered(p, other, mine) if deps else []
            if covered:
                label += f"; where it meets your {join_names([code(c) for c in covered])}, your scope wins"
            out.setdefault(_with_exceptions(p, other.exclusions), []).append(label)
    return out


def _covered(pattern: str, other: Agent, mine: Sequence[str]) -> list[str]:
    """The patterns of this agent's scope that ``pattern`` of ``other`` also covers."""
    theirs = (pattern, *(f"!{e}" for e in other.exclusions))
    scope, excluded = patterns.split_territory(mine)
    return [p for p in scope if patterns.overlap(theirs, (p, *(f"!{e}" for e in excluded))) is not None]


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


__all__ = ["SCOPE_RULE", "direct_dependencies", "dispatch_prompt"]
