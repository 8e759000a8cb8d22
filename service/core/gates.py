"""The plan as a DAG (waves + ``after``) and the wave gate of each agent (DESIGN §3.4).

Life cycle of an agent: waiting → unlocked → merged; a dependency closed unmerged blocks it until
reopened or skipped; ``/wavegate cancel`` turns every gate into cancelled (success with a note).

Order of precedence in ``evaluate``: cancelled, removed, own PR merged, skipped, then the
dependencies (blocked before waiting before unlocked). A skipped dependency counts as merged; a
dependency whose PR is missing or open is waited for. Functions here take a validated plan; names
in ``after`` that are not agents of the plan are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .model import AgentPR, Dependency, GateDecision, GateState, Plan, PrState


def dependencies(plan: Plan) -> dict[str, frozenset[str]]:
    """Direct dependencies: every agent of an earlier wave plus ``after``.

    Returns agent name → names it depends on directly, for every agent of ``plan``.
    """
    names = set(plan.names)
    return {
        a.name: frozenset(
            {b.name for b in plan.agents if b.wave < a.wave} | {n for n in a.after if n in names}
        )
        for a in plan.agents
    }


def transitive_dependencies(plan: Plan) -> dict[str, frozenset[str]]:
    """Everything each agent waits for, directly or through others.

    An agent appears in its own set only when it is on a cycle (which a validated plan never has).
    """
    direct = dependencies(plan)
    out: dict[str, frozenset[str]] = {}
    for name in direct:
        seen: set[str] = set()
        stack = list(direct[name])
        while stack:
            n = stack.pop()
            if n not in seen:
                seen.add(n)
                stack.extend(direct[n])
        out[name] = frozenset(seen)
    return out


def find_cycle(plan: Plan) -> tuple[str, ...] | None:
    """Agent names forming an ``after`` cycle (first repeated at the end), or None.

    Waves and ``after`` are searched together, so ``after`` pointing at a later wave that depends
    back shows up too; ``a after a`` gives ``("a", "a")``. Deterministic: plan order.
    """
    direct = dependencies(plan)
    order = {n: i for i, n in enumerate(plan.names)}
    state: dict[str, int] = {}  # 1 on the current path, 2 finished

    for start in plan.names:
        if state.get(start):
            continue
        path: list[str] = [start]
        state[start] = 1
        iters = [iter(sorted(direct[start], key=order.__getitem__))]
        while iters:
            nxt = next(iters[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                iters.pop()
                continue
            if state.get(nxt) == 1:
                return (*path[path.index(nxt):], nxt)
            if not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                iters.append(iter(sorted(direct[nxt], key=order.__getitem__)))
    return None


def concurrent_pairs(plan: Plan) -> list[tuple[str, str]]:
    """Pairs of agents that may run at the same time (neither depends on the other), plan order.

    Each pair ``(a, b)`` has ``a`` before ``b`` in the plan.
    """
    deps = transitive_dependencies(plan)
    names = plan.names
    return [
        (a, b)
        for i, a in enumerate(names)
        for b in names[i + 1:]
        if a not in deps[b] and b not in deps[a]
    ]


def evaluate(
    plan: Plan,
    prs: Mapping[str, AgentPR],
    skipped: frozenset[str] = frozenset(),
    cancelled: bool = False,
    removed: frozenset[str] = frozenset(),
) -> dict[str, GateDecision]:
    """The gate of every agent in ``plan`` (plus ``removed`` agents, which get REMOVED).

    ``prs`` maps agent name to its PR (missing entries count as not opened). For a merge group,
    pass PR states where MERGED means merged into the group's base.

    BLOCKED lists in ``blocked_by`` every dependency (direct or transitive) closed without merging
    and not skipped. WAITING lists in ``waiting_on`` the direct dependencies not yet merged; when
    those have all merged but one of theirs has not (a merge that bypassed the gate), the
    transitive ones instead, so a waiting gate always names whom it waits for. Both are ordered by
    wave, then plan order. A removed agent that is no longer in the plan has wave 0.
    """
    view = _GateView(plan, prs, skipped)
    out: dict[str, GateDecision] = {}
    for a in plan.agents:
        if cancelled:
            out[a.name] = GateDecision(a.name, a.wave, GateState.CANCELLED)
        elif a.name in removed:
            out[a.name] = GateDecision(a.name, a.wave, GateState.REMOVED)
        else:
            out[a.name] = view.decide(a.name, a.wave)
    for name in sorted(removed - set(plan.names)):
        state = GateState.CANCELLED if cancelled else GateState.REMOVED
        out[name] = GateDecision(name, 0, state)
    return out


class _GateView:
    """One plan's dependencies and PR states, for deciding its agents' gates."""

    def __init__(self, plan: Plan, prs: Mapping[str, AgentPR], skipped: frozenset[str]) -> None:
        self.direct = dependencies(plan)
        self.trans = transitive_dependencies(plan)
        self.order = {n: i for i, n in enumerate(plan.names)}
        self.waves = {a.name: a.wave for a in plan.agents}
        self.prs, self.skipped = prs, skipped

    def pr(self, name: str) -> AgentPR:
        return self.prs.get(name) or AgentPR(agent=name)

    def ordered(self, names: Iterable[str]) -> tuple[Dependency, ...]:
        """Dependencies by wave, then plan order."""
        deps = []
        for n in sorted(names, key=lambda n: (self.waves[n], self.order[n])):
            p = self.pr(n)
            deps.append(Dependency(agent=n, wave=self.waves[n], number=p.number, state=p.state))
        return tuple(deps)

    def done(self, name: str) -> bool:
        return name in self.skipped or self.pr(name).state is PrState.MERGED

    def decide(self, name: str, wave: int) -> GateDecision:
        """Merged, skipped, then blocked before waiting before unlocked."""
        if self.pr(name).state is PrState.MERGED:
            return GateDecision(name, wave, GateState.MERGED)
        if name in self.skipped:
            return GateDecision(name, wave, GateState.SKIPPED)
        closed = [n for n in self.trans[name] if n not in self.skipped and self.pr(n).state is PrState.CLOSED]
        if closed:
            return GateDecision(name, wave, GateState.BLOCKED, blocked_by=self.ordered(closed))
        pending = [n for n in self.direct[name] if not self.done(n)] or [
            n for n in self.trans[name] if not self.done(n)
        ]
        if pending:
            return GateDecision(name, wave, GateState.WAITING, waiting_on=self.ordered(pending))
        return GateDecision(name, wave, GateState.UNLOCKED)
