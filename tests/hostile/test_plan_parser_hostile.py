"""The plan parser under generated hostile bodies (see ``bodies.py``): a few hundred examples
here; ``make reliability`` runs ≥ 10,000 (tests/reliability/test_hostile_bulk.py)."""

import pytest
from hypothesis import HealthCheck, given, settings

from .bodies import MAX_EXAMPLES, bodies, bomb, check_body, deep, fence, huge_list


@settings(max_examples=MAX_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(bodies())
def test_parse_plan_never_raises_stays_fast_and_locates_problems(body):
    check_body(body)


@pytest.mark.parametrize("body", [
    fence(bomb(30, 30)),
    fence(deep(100_000, "flow")),
    fence(deep(20_000, "map")),
    fence(deep(3_000, "block")),
    fence("agents:\n" + "  - {name: a, territory: [x]}\n" * 20_000),
    "x" * (256 * 1024 + 1),
    "\x00" * 200_000,
    "```yaml dispatch\n" + "- " * 50_000,
    "## Agent: a\nAuthorized files:\n" + "- src/a.py\n" * 30_000,
    "```yaml dispatch\n" + "\t" + "!!binary |\n  " + "A" * 100_000 + "\n```",
    fence("agents:\n  - name: a\n    territory: [" + "a," * 120_000 + "]"),
    fence("agents:\n  - name: a\n    territory: [a/]\n" + "".join(f"    k{i}: 1\n" for i in range(15_000))),
    fence("agents:\n  - name: a\n    territory: [a/]\n    findings: [" + "{a: 1}," * 35_000 + "]"),
], ids=["bomb-30x30", "flow-100k", "map-20k", "block-3k", "20k-duplicates", "over-256KiB",
        "nul-200k", "dashes-50k", "prose-30k-files", "binary-tag", "120k-patterns", "15k-keys",
        "35k-mappings"])
def test_extreme_bodies(body):
    result = check_body(body)
    assert isinstance(result, list), "an extreme body should not give a plan"


def test_a_plan_of_five_thousand_agents_is_refused_within_a_second():
    """213 KB, under the 256 KiB body limit: the agent limit (100) must be decided fast."""
    check_body(fence(huge_list(5_000, "src/")))


def test_a_lone_surrogate_gives_a_located_problem():
    check_body(fence("agents:\n  - name: a\ud800\n    territory: [src/]"))


def test_yaml_problem_lines_follow_githubs_line_breaks():
    body = "x\nPlan:\n\n```yaml dispatch\nagents:\n  - name: #c\n    territory: ['']\n    \x85p\tp}\x85\x85\n```\nz"
    result = check_body(body)
    assert isinstance(result, list)
