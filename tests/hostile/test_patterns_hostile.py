"""Patterns built to blow up the regex or the automaton construction (many ``**``, long runs and
alternations of ``*`` and ``?``): each is refused as a problem or decided, within 1 s, by the
pattern checks, the matcher and the pre-flight overlap test (DESIGN §2.3, §2.4)."""

import time

import pytest

from service.core.patterns import matches, pattern_problem
from service.core.plan import preflight

LIMIT = 1.0
BLOWUPS = {
    "many-doublestars": "/".join(["**"] * 60),
    "doublestar-a-chain": "/".join(["**", "a"] * 40),
    "star-runs": "*a" * 120,
    "question-runs": "?" * 250,
    "star-question-mix": "*?" * 120,
    "segments-of-stars": "/".join(["*?*"] * 60),
    "long-literal-then-stars": "a" * 200 + "*" * 50,
    "max-length": ("*?/" * 90)[:256],
    "over-max-length": "a" * 257,
    "doublestar-star-alternation": "/".join(["**", "*", "?*"] * 25)[:256],
}
EVIL_PATH = "/".join(["a"] * 200) + "/" + "a" * 300


def timed(fn, *args):
    started = time.perf_counter()
    value = fn(*args)
    elapsed = time.perf_counter() - started
    assert elapsed < LIMIT, f"{fn.__name__} took {elapsed:.2f} s"
    return value


@pytest.mark.parametrize("pattern", list(BLOWUPS.values()), ids=list(BLOWUPS))
def test_matcher_decides_fast_or_refuses(pattern):
    problem = timed(pattern_problem, pattern)
    if problem is None:
        assert timed(matches, pattern, EVIL_PATH) in (True, False)
        assert timed(matches, pattern, "a/b") in (True, False)


def plan_body(a: str, b: str) -> str:
    return ("```yaml dispatch\nagents:\n"
            f"  - name: one\n    territory: [{a!r}]\n"
            f"  - name: two\n    territory: [{b!r}]\n```\n")


@pytest.mark.parametrize("pattern", list(BLOWUPS.values()), ids=list(BLOWUPS))
@pytest.mark.parametrize("other", ["**", "a/**/*a", "*" * 40 + "?", "/".join(["*"] * 60)],
                         ids=["all", "a-doublestar", "star-run", "sixty-segments"])
def test_overlap_is_decided_or_refused_within_a_second(pattern, other):
    result = timed(preflight, plan_body(pattern, other), )
    if isinstance(result, list):
        assert all(p.code != "internal" for p in result), result
        assert all(p.message for p in result)


def dense_plan(shared: list[str]) -> str:
    """100 agents in one wave, each with nine shared patterns and one of its own: 4,950
    concurrent pairs, every one of them overlapping."""
    items = ", ".join(repr(p) for p in shared)
    return "```yaml dispatch\nagents:\n" + "".join(
        f"  - name: a{i}\n    territory: [{items}, 'own{i}/']\n" for i in range(100)) + "```\n"


@pytest.mark.parametrize("shared", [["x"] * 9, [f"x{j}" for j in range(9)], [f"x*{j}" for j in range(9)],
                                    [f"**/y{j}" for j in range(9)]],
                         ids=["same-file", "nine-files", "nine-wildcards", "nine-doublestars"])
def test_a_plan_of_a_hundred_overlapping_agents_is_judged_within_a_second(shared):
    result = timed(preflight, dense_plan(shared))
    assert isinstance(result, list) and len(result) == 100
    assert [p.code for p in result[:99]] == ["overlap"] * 99 and result[-1].code == "too-many-problems"
    assert result[0].agent == "a0" and "`a0` and `a1`" in result[0].message
    assert all("may run at the same time" in p.message and p.fix for p in result[:99])


def excluding_body(entries: list[str], other: str) -> str:
    return ("```yaml dispatch\nagents:\n"
            f"  - name: one\n    territory: [{', '.join(repr(e) for e in entries)}]\n"
            f"  - name: two\n    territory: [{other!r}]\n```\n")


@pytest.mark.parametrize(
    "entries",
    [
        ["**", *(f"!**/*{c}*/**" for c in "abcdefgh")],  # eight wildcard-heavy exclusions of everything
        ["**", "!**"],
        ["src/", "!"],
        ["src/", "!!src/"],
        ["src/", "!../src"],
        ["src/", "! src/"],
        ["**/*a*b*c*/**", *(f"!**/*{c}?/**" for c in "xyz")],
    ],
    ids=["many-exclusions", "exclude-all", "bare-bang", "double-bang", "dotdot", "space", "wild-minus-wild"],
)
def test_exclusions_are_decided_or_refused_within_a_second(entries):
    result = timed(preflight, excluding_body(entries, "**/*.py"))
    if isinstance(result, list):
        assert all(p.code != "internal" and p.message for p in result), result
