"""The dependency graph and the wave gate (DESIGN §3.4; cases later-wave-unlocks-on-merge,
reopened-pr, merge-queue-checks)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.core.gates import concurrent_pairs, dependencies, evaluate, find_cycle, transitive_dependencies
from service.core.model import Agent, AgentPR, Dependency, GateState, Plan, PrState


def make_plan(*specs: tuple[str, int] | tuple[str, int, tuple[str, ...]]) -> Plan:
    return Plan(agents=tuple(Agent(s[0], (f"{s[0]}/",), wave=s[1], after=s[2] if len(s) > 2 else ())
                             for s in specs))


# The lesson's consolidated plan: two agents in wave 1, two in wave 2, testing after arch-perf.
REFERENCE = make_plan(("security", 1), ("architecture", 1), ("arch-perf", 2), ("testing", 2, ("arch-perf",)))
# later-wave-unlocks-on-merge.md
CASE = make_plan(("api", 1), ("worker", 1), ("web", 2))


def pr(agent: str, number: int, state: PrState) -> AgentPR:
    return AgentPR(agent=agent, number=number, state=state)


def test_dependencies():
    assert dependencies(REFERENCE) == {
        "security": frozenset(),
        "architecture": frozenset(),
        "arch-perf": frozenset({"security", "architecture"}),
        "testing": frozenset({"security", "architecture", "arch-perf"}),
    }


def test_transitive_dependencies_go_through_after_and_waves():
    p = make_plan(("a", 1), ("b", 2), ("c", 2, ("b",)), ("d", 2, ("c",)), ("e", 3))
    t = transitive_dependencies(p)
    assert t["d"] == {"a", "b", "c"}
    assert t["e"] == {"a", "b", "c", "d"}
    assert t["b"] == {"a"}


@pytest.mark.parametrize(
    "plan, cycle",
    [
        (REFERENCE, None),
        (make_plan(("a", 1, ("b",)), ("b", 1, ("a",))), ("a", "b", "a")),
        (make_plan(("a", 1, ("a",))), ("a", "a")),
        (make_plan(("x", 1), ("a", 1, ("c",)), ("b", 1, ("a",)), ("c", 1, ("b",))), ("a", "c", "b", "a")),
        # after pointing to a later wave that depends back through the wave order
        (make_plan(("a", 1, ("b",)), ("b", 2)), ("a", "b", "a")),
        (make_plan(("a", 1), ("b", 1, ("a", "zzz"))), None),
    ],
    ids=["none", "pair", "self", "three", "through-waves", "unknown-name-ignored"],
)
def test_find_cycle(plan, cycle):
    assert find_cycle(plan) == cycle


@pytest.mark.parametrize(
    "plan, pairs",
    [
        (REFERENCE, [("security", "architecture")]),
        (CASE, [("api", "worker")]),
        (make_plan(("a", 1), ("b", 1), ("c", 1, ("a",))), [("a", "b"), ("b", "c")]),
        (make_plan(("a", 1)), []),
    ],
)
def test_concurrent_pairs(plan, pairs):
    assert concurrent_pairs(plan) == pairs


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 3), st.sets(st.integers(0, 5), max_size=2)), min_size=1, max_size=6))
def test_concurrent_pairs_are_exactly_the_unordered_pairs(specs):
    names = [f"a{i}" for i in range(len(specs))]
    plan = Plan(agents=tuple(
        Agent(names[i], ("x/",), wave=w, after=tuple(names[j] for j in sorted(after) if j < i and specs[j][0] <= w))
        for i, (w, after) in enumerate(specs)
    ))
    t = transitive_dependencies(plan)
    expected = [(a, b) for a, b in itertools.combinations(names, 2) if a not in t[b] and b not in t[a]]
    assert concurrent_pairs(plan) == expected
    for a, b in expected:
        assert plan.agent(a).wave == plan.agent(b).wave


# --------------------------------------------------------------------------- evaluate


def test_later_wave_unlocks_as_wave_one_merges():
    prs = {"api": pr("api", 20, PrState.OPEN), "worker": pr("worker", 21, PrState.OPEN),
           "web": pr("web", 22, PrState.OPEN)}
    start = evaluate(CASE, prs)
    assert start["web"].state is GateState.WAITING
    assert start["web"].waiting_on == (Dependency("api", 1, 20, PrState.OPEN),
                                       Dependency("worker", 1, 21, PrState.OPEN))
    assert start["api"].state is GateState.UNLOCKED and start["api"].allowed

    prs["api"] = pr("api", 20, PrState.MERGED)
    after_one = evaluate(CASE, prs)
    assert after_one["web"].waiting_on == (Dependency("worker", 1, 21, PrState.OPEN),)
    assert after_one["api"].state is GateState.MERGED

    prs["worker"] = pr("worker", 21, PrState.MERGED)
    done = evaluate(CASE, prs)
    assert done["web"].state is GateState.UNLOCKED and done["web"].allowed
    assert done["web"].waiting_on == () and done["web"].blocked_by == ()


def test_closed_unmerged_dependency_blocks_until_reopened():
    closed = evaluate(make_plan(("api", 1), ("web", 2)), {"api": pr("api", 20, PrState.CLOSED),
                                                          "web": pr("web", 21, PrState.OPEN)})
    assert closed["web"].state is GateState.BLOCKED and not closed["web"].allowed
    assert closed["web"].blocked_by == (Dependency("api", 1, 20, PrState.CLOSED),)
    reopened = evaluate(make_plan(("api", 1), ("web", 2)), {"api": pr("api", 20, PrState.OPEN)})
    assert reopened["web"].state is GateState.WAITING
    assert reopened["web"].waiting_on == (Dependency("api", 1, 20, PrState.OPEN),)


@pytest.mark.parametrize(
    "states, skipped, cancelled, removed, expected",
    [
        # nothing opened yet: wave 1 free, the rest waiting on PRs that do not exist yet
        ({}, set(), False, set(), {"security": "unlocked", "architecture": "unlocked",
                                   "arch-perf": "waiting", "testing": "waiting"}),
        # wave 1 merged: arch-perf unlocks, testing still waits for arch-perf
        ({"security": "merged", "architecture": "merged"}, set(), False, set(),
         {"security": "merged", "architecture": "merged", "arch-perf": "unlocked", "testing": "waiting"}),
        ({"security": "merged", "architecture": "merged", "arch-perf": "merged"}, set(), False, set(),
         {"arch-perf": "merged", "testing": "unlocked"}),
        # a skipped dependency counts as done, even when its PR was closed
        ({"security": "closed", "architecture": "merged"}, {"security"}, False, set(),
         {"security": "skipped", "arch-perf": "unlocked", "testing": "waiting"}),
        # a closed dependency blocks transitively
        ({"security": "closed", "architecture": "merged"}, set(), False, set(),
         {"arch-perf": "blocked", "testing": "blocked", "architecture": "merged", "security": "unlocked"}),
        # cancel wins over everything
        ({"security": "closed"}, set(), True, set(),
         {"security": "cancelled", "architecture": "cancelled", "arch-perf": "cancelled", "testing": "cancelled"}),
        # removed wins over merged
        ({"testing": "merged"}, set(), False, {"testing"}, {"testing": "removed"}),
        # an agent's own merge wins over skip
        ({"security": "merged"}, {"security"}, False, set(), {"security": "merged"}),
        # a closed PR of the agent itself does not block the agent's own gate
        ({"security": "closed"}, set(), False, set(), {"security": "unlocked"}),
    ],
    ids=["fresh", "wave1-merged", "arch-perf-merged", "skip", "blocked", "cancel", "removed", "own-merge",
         "own-closed"],
)
def test_gate_states(states, skipped, cancelled, removed, expected):
    prs = {a: pr(a, 10 + i, PrState(states[a])) for i, a in enumerate(REFERENCE.names) if a in states}
    got = evaluate(REFERENCE, prs, skipped=frozenset(skipped), cancelled=cancelled, removed=frozenset(removed))
    assert {a: got[a].state.value for a in expected} == expected


def test_blocked_lists_every_closed_dependency_by_wave_then_plan_order():
    plan = make_plan(("b", 1), ("a", 1), ("c", 2), ("d", 3))
    got = evaluate(plan, {"a": pr("a", 2, PrState.CLOSED), "b": pr("b", 1, PrState.CLOSED),
                          "c": pr("c", 3, PrState.CLOSED)})
    assert [d.agent for d in got["d"].blocked_by] == ["b", "a", "c"]


def test_waiting_names_direct_dependencies_with_missing_prs():
    got = evaluate(REFERENCE, {"security": pr("security", 12, PrState.MERGED),
                               "architecture": pr("architecture", 13, PrState.MERGED)})
    assert got["testing"].waiting_on == (Dependency("arch-perf", 2, None, PrState.MISSING),)


def test_waiting_falls_back_to_transitive_dependencies():
    # b merged around the gate while a is still open: c must still say whom it waits for.
    plan = make_plan(("a", 1), ("b", 1, ("a",)), ("c", 1, ("b",)))
    got = evaluate(plan, {"a": pr("a", 1, PrState.OPEN), "b": pr("b", 2, PrState.MERGED)})
    assert got["c"].state is GateState.WAITING
    assert got["c"].waiting_on == (Dependency("a", 1, 1, PrState.OPEN),)


def test_removed_agents_outside_the_plan_get_a_decision():
    got = evaluate(CASE, {}, removed=frozenset({"old"}))
    assert got["old"].state is GateState.REMOVED and got["old"].wave == 0 and not got["old"].allowed
    assert set(got) == {"api", "worker", "web", "old"}
    assert evaluate(CASE, {}, removed=frozenset({"old"}), cancelled=True)["old"].state is GateState.CANCELLED


def test_merge_group_view_uses_states_merged_into_the_group_base():
    # merge-queue-checks.md: #21 web is queued while #20 api is not merged into the base.
    got = evaluate(make_plan(("api", 1), ("web", 2)), {"api": pr("api", 20, PrState.OPEN),
                                                       "web": pr("web", 21, PrState.OPEN)})
    assert not got["web"].allowed
    assert got["web"].waiting_on == (Dependency("api", 1, 20, PrState.OPEN),)
