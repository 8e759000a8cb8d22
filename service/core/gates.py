"""The plan as a DAG (waves + ``after``) and the wave gate of each agent (DESIGN §3.4).

Life cycle of an agent: waiting → unlocked → merged; a dependency closed unmerged blocks it until
reopened or skipped; ``/wavegate cancel`` turns every gate into cancelled (success with a note).
"""

from __future__ import annotations

from collections.abc import Mapping

from .model import AgentPR, GateDecision, Plan


def dependencies(plan: Plan) -> dict[str, frozenset[str]]:
    """Direct dependencies: every agent of an earlier wave plus ``after``."""
    raise NotImplementedError


def transitive_dependencies(plan: Plan) -> dict[str, frozenset[str]]:
    """Everything each agent waits for, directly or through others."""
    raise NotImplementedError


def find_cycle(plan: Plan) -> tuple[str, ...] | None:
    """Agent names forming an ``after`` cycle (first repeated at the end), or None."""
    raise NotImplementedError


def concurrent_pairs(plan: Plan) -> list[tuple[str, str]]:
    """Pairs of agents that may run at the same time (neither depends on the other), plan order."""
    raise NotImplementedError


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
    """
    raise NotImplementedError
