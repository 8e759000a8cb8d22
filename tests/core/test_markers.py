"""Branch names, the plan hash and the hidden markers that keep Wavegate's state in GitHub."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.core import markers
from service.core.model import Agent, Plan

PLAN = Plan(
    agents=(
        Agent("api", ("/services/api/",), findings=("F-1",), line=3),
        Agent("web", ("/apps/web/",), wave=2, do_not_modify=("/db/schema.sql",), line=7),
    ),
    strict=True,
)


@pytest.mark.parametrize(
    "agent, prefix, expected",
    [
        (Agent("docs", ("docs/",)), "wavegate", "wavegate/42/docs"),
        (Agent("docs", ("docs/",)), "agents/", "agents/42/docs"),
        (Agent("security", ("a",), branch="security/p0-auth"), "wavegate", "security/p0-auth"),
    ],
)
def test_branch_name(agent, prefix, expected):
    assert markers.branch_name(42, agent, prefix) == expected


def test_plan_hash_is_short_hex_and_ignores_form_and_lines():
    digest = markers.plan_hash(PLAN)
    assert re.fullmatch(r"[0-9a-f]{12}", digest)
    moved = replace(PLAN, form="prose", agents=tuple(replace(a, line=None) for a in PLAN.agents))
    assert markers.plan_hash(moved) == digest


@pytest.mark.parametrize(
    "changed",
    [
        replace(PLAN, agents=PLAN.agents[::-1]),  # plan order is part of the meaning
        replace(PLAN, strict=None),
        replace(PLAN, base="release"),
        replace(PLAN, agents=(replace(PLAN.agents[0], territory=("/services/",)), PLAN.agents[1])),
        replace(PLAN, agents=(replace(PLAN.agents[0], findings=("F-2",)), PLAN.agents[1])),
        replace(PLAN, agents=(PLAN.agents[0], replace(PLAN.agents[1], wave=1))),
        replace(PLAN, agents=(PLAN.agents[0], replace(PLAN.agents[1], after=("api",)))),
        replace(PLAN, agents=(PLAN.agents[0], replace(PLAN.agents[1], branch="x/y"))),
    ],
)
def test_plan_hash_changes_with_the_meaning(changed):
    assert markers.plan_hash(changed) != markers.plan_hash(PLAN)


@pytest.mark.parametrize(
    "body, expected",
    [
        ("text\n<!-- wavegate issue=12 agent=testing plan=abcdef012345 -->\n", markers.PrMarker(12, "testing", "abcdef012345")),
        ("<!--wavegate   issue = 3\nagent=arch-perf  plan=ABC -->", markers.PrMarker(3, "arch-perf", "abc")),
        ("<!-- wavegate plan=abc agent=web issue=9 -->", markers.PrMarker(9, "web", "abc")),
        ("<!-- wavegate dashboard -->", None),
        ("<!-- wavegate issue=x agent=web plan=abc -->", None),
        ("<!-- wavegate issue=1 agent=web -->", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_pr_marker(body, expected):
    assert markers.parse_pr_marker(body) == expected


def test_pr_marker_round_trip():
    assert markers.parse_pr_marker(markers.pr_marker(42, "docs", "0123abcd4567")) == markers.PrMarker(
        42, "docs", "0123abcd4567"
    )


@pytest.mark.parametrize(
    "body, expected",
    [
        ("<!-- wavegate dashboard -->\n## Wavegate", True),
        ("\n  <!-- wavegate dashboard -->…", True),
        ("> <!-- wavegate dashboard -->", False),
        ("a comment", False),
        (None, False),
    ],
)
def test_is_dashboard(body, expected):
    assert markers.is_dashboard(body) is expected


def test_state_marker_round_trip_with_hostile_strings():
    state = {"skipped": ["a-->b", "<!--", "--!>", "x---y"], "cancelled": True, "n": -1, "note": "ü ✓ \\--"}
    marker = markers.state_marker(state)
    inner = marker[len("<!--") : -len("-->")]
    assert "--" not in inner and "<" not in inner and ">" not in inner
    assert markers.parse_state_marker(f"before\n{marker}\nafter") == state


@pytest.mark.parametrize(
    "body",
    [None, "", "no marker", "<!-- wavegate-state {not json} -->", "<!-- wavegate-state [1, 2] -->",
     "<!-- wavegate-state " + "[" * 100_000 + " -->", "<!-- wavegate-state {\"a\": 1"],
)
def test_parse_state_marker_never_raises(body):
    assert markers.parse_state_marker(body) == {}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=8,
)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(), json_values, max_size=5))
def test_state_marker_round_trips_any_json(state):
    marker = markers.state_marker(state)
    assert markers.parse_state_marker("x " + marker + " y") == state
    assert marker.count("-->") == 1 and marker.endswith("-->")


@pytest.mark.parametrize(
    "ref, expected",
    [
        ("refs/heads/gh-readonly-queue/main/pr-21-" + "a" * 40, 21),
        ("refs/heads/gh-readonly-queue/release/1.x/pr-7-0123abc", 7),
        ("refs/heads/gh-readonly-queue/main/pr-21-S21", 21),
        ("refs/heads/main", None),
        ("refs/heads/gh-readonly-queue/main/pr-x-abc", None),
        ("refs/heads/gh-readonly-queue/main/pr-0-abc", None),
        ("", None),
        (None, None),
    ],
)
def test_merge_group_pr(ref, expected):
    assert markers.merge_group_pr(ref) == expected
