"""The plan parser under generated hostile bodies (see ``bodies.py``): a few hundred examples
here; ``make reliability`` runs ≥ 10,000 (tests/reliability/test_hostile_bulk.py)."""

import time

import pytest
from hypothesis import HealthCheck, given, settings

from service.core.plan import check_plan

from .bodies import LIMIT, MAX_EXAMPLES, bodies, bomb, check_body, deep, fence, huge_list


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


# --------------------------------------------------------------------------- numbers and sizes a plan controls
# Each number or size written in a plan is bounded before any work proportional to it: the parser
# and the whole pre-flight (``check_plan``, what `wavegate check` and the App run) stay fast and
# give a few located problems.


def _checked(body: str) -> list:
    result = check_body(body)
    assert isinstance(result, list)
    started = time.perf_counter()
    found = check_plan(body)
    assert time.perf_counter() - started < LIMIT
    assert not found.passed and all(p.code != "internal" for p in found.problems)
    return result


@pytest.mark.parametrize("wave", ["99999999999999999999", "1000000", "9" * 5000, "101"])
def test_a_huge_wave_is_one_problem(wave):
    got = _checked(fence(f"agents:\n  - {{name: a, territory: [a/], wave: {wave}}}\n  - {{name: b, territory: [b/]}}"))
    assert [p.code for p in got] in (["invalid-wave"], ["wrong-type"])


@pytest.mark.parametrize("wave", ["99999999999999999999", "9" * 5000, "²"])
def test_a_huge_or_odd_prose_wave_is_one_problem(wave):
    got = _checked(f"## Agent: a (wave {wave})\nAuthorized files: a/\n\n## Agent: b\nAuthorized files: b/\n")
    assert [p.code for p in got] in (["invalid-wave"], ["wrong-type"])


def test_gaps_between_many_waves_are_one_problem_each():
    agents = "".join(f"  - {{name: a{i}, territory: [d{i}/], wave: {i * 2 + 1}}}\n" for i in range(50))
    got = _checked(fence("agents:\n" + agents))
    assert [p.code for p in got] == ["wave-gap"] * 49


def test_a_huge_finding_is_refused():
    got = _checked(fence("agents:\n  - name: a\n    territory: [a/]\n    findings: ['" + "x" * 200_000 + "']"))
    assert [(p.code, p.line) for p in got] == [("finding-too-long", 7)]


def test_a_prose_finding_of_many_continuation_lines_is_refused_fast():
    body = "## Agent: a\nAuthorized files: a/\nFindings to fix:\n- start\n" + "  more\n" * 36_000
    got = _checked(body)
    assert [(p.code, p.line) for p in got] == [("finding-too-long", 4)]


def test_many_findings_stay_fast():
    items = "".join(f"      - f{i}\n" for i in range(9_000))
    result = check_body(fence("agents:\n  - name: a\n    territory: [a/]\n    findings:\n" + items))
    assert len(result.agents[0].findings) == 9_000


def test_a_huge_after_list_stays_fast():
    names = ", ".join(["b"] * 9_000)
    got = _checked(fence(f"agents:\n  - {{name: a, territory: [a/], after: [{names}]}}\n  - {{name: b, territory: [b/], after: [a]}}"))
    assert "after-cycle" in [p.code for p in got]


def test_a_huge_prose_after_list_stays_fast():
    names = ", ".join(f"x{i}" for i in range(20_000))
    got = _checked(f"## Agent: a (after {names})\nAuthorized files: a/\n")
    assert {p.code for p in got} == {"after-unknown", "too-many-problems"}
