"""``wavegate merge --wave N``: the wave's agent branches merged into the base in plan order,
each one first judged like the App judges its PR: the wave gate (``gates.evaluate``: every
dependency merged into the base) and the territory check over the merge-base diff
(``classify_agent_pr``). A refused branch is skipped; the first conflict aborts that merge and
stops the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..core import gates
from ..core.model import AgentPR, ChangedFile, ChangeSet, PrState
from ..core.report_local import MergeStep, base_dirty, merge_message, no_base_checkout
from ..core.territory import classify_agent_pr
from . import git
from .worktrees import Fleet


class MergeRefused(Exception):
    """The run cannot start (no working tree on the base, or one with uncommitted changes)."""


@dataclass(frozen=True)
class Checkout:
    """The working tree where the base branch is checked out: merges happen there."""

    path: Path
    base: str


def base_checkout(fleet: Fleet) -> Checkout:
    """The working tree that has the base checked out, clean. Raises ``MergeRefused``."""
    path = next((p for p, b in git.worktrees(fleet.repo) if b == fleet.base), None)
    if path is None:
        raise MergeRefused(no_base_checkout(fleet.base))
    if git.status_count(path):
        raise MergeRefused(base_dirty(fleet.base, str(path)))
    return Checkout(path, fleet.base)


def branch_states(fleet: Fleet, where: Path) -> dict[str, AgentPR]:
    """Each agent's branch as the gate sees a PR: MERGED when its tip is in the base, OPEN when
    the branch exists, MISSING otherwise."""
    out = {}
    for agent in fleet.plan.agents:
        branch = fleet.branch(agent)
        if not git.branch_exists(where, branch):
            state = PrState.MISSING
        elif git.is_ancestor(where, branch, fleet.base):
            state = PrState.MERGED
        else:
            state = PrState.OPEN
        out[agent.name] = AgentPR(agent.name, state=state)
    return out


def _judge(fleet: Fleet, where: Path, name: str, prs: dict[str, AgentPR]) -> MergeStep | None:
    """A refusal for one branch, or None when it may merge."""
    agent = fleet.plan.agent(name)
    assert agent is not None
    branch = fleet.branch(agent)
    state = prs[name].state
    if state is PrState.MISSING:
        return MergeStep(name, branch, "missing")
    if state is PrState.MERGED:
        return MergeStep(name, branch, "already-merged")
    gate = gates.evaluate(fleet.plan, prs)[name]
    if not gate.allowed:
        waiting = tuple(d.agent for d in (*gate.blocked_by, *gate.waiting_on))
        return MergeStep(name, branch, "waiting", waiting_on=waiting)
    changed = git.paths(where, "diff", "--name-only", "--no-renames", "-z", f"{fleet.base}...{branch}")
    verdict = classify_agent_pr(fleet.plan, name, ChangeSet(tuple(ChangedFile(p) for p in changed)), prs, fleet.config)
    if verdict.offending:
        return MergeStep(name, branch, "crossing", verdict=verdict)
    return None


def _merge(where: Path, name: str, wave: int, branch: str) -> MergeStep:
    done = git.run(where, "merge", "--no-ff", "--no-edit", "-m", merge_message(name, wave, branch), branch, check=False)
    if done.returncode == 0:
        return MergeStep(name, branch, "merged")
    conflicted = tuple(git.paths(where, "diff", "--name-only", "--diff-filter=U", "-z"))
    if not conflicted:  # git refused before merging anything (no identity, a hook, …)
        return MergeStep(name, branch, "failed", detail=done.stderr.decode("utf-8", "replace").strip())
    git.run(where, "merge", "--abort", check=False)
    return MergeStep(name, branch, "conflict", files=conflicted)


def merge_wave(fleet: Fleet, wave: int) -> list[MergeStep]:
    """Merge wave ``wave`` into the base, in plan order. Raises ``MergeRefused`` when no clean
    working tree has the base checked out."""
    where = base_checkout(fleet).path
    prs = branch_states(fleet, where)
    steps: list[MergeStep] = []
    members = [a for a in fleet.plan.agents if a.wave == wave]
    for i, agent in enumerate(members):
        refusal = _judge(fleet, where, agent.name, prs)
        step = refusal or _merge(where, agent.name, wave, fleet.branch(agent))
        steps.append(step)
        if step.action == "merged":
            prs[agent.name] = AgentPR(agent.name, state=PrState.MERGED)
        if step.action in {"conflict", "failed"}:
            steps += [MergeStep(a.name, fleet.branch(a), "not-tried") for a in members[i + 1:]]
            break
    return steps

