"""Hostile issue bodies for the plan parser, and the property every body must satisfy.

``bodies()`` draws random text, YAML bombs (anchors and aliases that expand exponentially), deep
nesting, huge lists, unicode (astral, right-to-left, combining, lone surrogates) and control
characters, inside and outside a ```` ```yaml dispatch ```` fence and as the prose form.
``check_body(body)`` runs ``parse_plan`` and asserts: no exception, under 1 s, no ``internal``
problem (the parser's own safety net), and a line on every problem except the ones about the body
as a whole (DESIGN §2.3: "with the line in the issue body where possible").
"""

from __future__ import annotations

import os
import time

from hypothesis import strategies as st

from service.core.model import Plan, Problem
from service.core.plan import parse_plan

LIMIT = 1.0  # seconds per body
# problems about the body or the plan as a whole: no single line is theirs
WHOLE_BODY = {"no-plan", "body-too-large", "too-many-problems"}
MAX_EXAMPLES = int(os.environ.get("WAVEGATE_HYPOTHESIS_MAX", "300"))

_nasty_chars = st.sampled_from(["\x00", "\x07", "\x1b[31m", "\r", "\r\n", "\u202e", "\ufeff", "\t",
                                "e\u0301", "\U0001f600", "```", "~~~", ":", "- ", "&a", "*a",
                                "!!python/object:os.system", "{", "[", "]", "}", "#", "'", '"', "|", ">"])
# Lone surrogates and the line breaks YAML knows but GitHub does not (NEL, LS, PS) have tests of
# their own (test_plan_parser_hostile.py): each shows a product bug.
_text = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x85\u2028\u2029"), max_size=400)
_mixed = st.lists(st.one_of(_text, _nasty_chars), max_size=60).map("".join)


def fence(inner: str, info: str = "yaml dispatch") -> str:
    return f"Plan:\n\n```{info}\n{inner}\n```\n"


def bomb(levels: int, width: int) -> str:
    lines = ["a0: &a0 [\"lol\"]"]
    for i in range(1, levels):
        refs = ", ".join(f"*a{i - 1}" for _ in range(width))
        lines.append(f"a{i}: &a{i} [{refs}]")
    lines.append(f"agents:\n  - name: x\n    territory: *a{levels - 1}")
    return "\n".join(lines)


def deep(depth: int, kind: str) -> str:
    if kind == "flow":
        return "agents: " + "[" * depth + "]" * depth
    if kind == "block":
        return "agents:\n" + "".join("  " * i + "- \n" for i in range(depth))
    return "agents: " + "{a: " * depth + "1" + "}" * depth


def huge_list(n: int, item: str) -> str:
    agents = "\n".join(f"  - name: a{i}\n    territory: [{item}{i}/]" for i in range(n))
    return f"agents:\n{agents}"


def _agent_yaml(name: str, pattern: str, extra: str) -> str:
    return f"agents:\n  - name: {name}\n    territory: [{pattern!r}]\n    {extra}"


_yamlish = st.one_of(
    st.builds(bomb, st.integers(2, 12), st.integers(2, 12)),
    st.builds(deep, st.integers(10, 5000), st.sampled_from(["flow", "block", "map"])),
    st.builds(huge_list, st.integers(50, 5_000), st.sampled_from(["src/", "a" * 200, "*", "**/"])),
    st.builds(_agent_yaml, _mixed, _mixed, _mixed),
    _mixed,
)
_prose = st.builds(lambda name, files, tail: f"## Agent: {name}\nAuthorized files:\n- {files}\n{tail}",
                   _mixed, _mixed, _mixed)


def bodies() -> st.SearchStrategy[str]:
    """Issue bodies as GitHub could send them (any text), weighted towards hostile plans."""
    return st.one_of(
        _mixed,
        _yamlish.map(fence),
        st.tuples(_yamlish, st.sampled_from(["dispatch", "yaml dispatch", "yml  dispatch x", "dispatch\x00"]))
        .map(lambda t: fence(t[0], t[1])),
        _prose,
        st.tuples(_mixed, _yamlish).map(lambda t: t[0] + "\n" + fence(t[1]) + t[0]),
    )


def check_body(body: str) -> Plan | list[Problem]:
    """Assert the parser's contract on ``body``; return what it returned."""
    started = time.perf_counter()
    result = parse_plan(body)
    elapsed = time.perf_counter() - started
    assert elapsed < LIMIT, f"parse_plan took {elapsed:.2f} s on a {len(body)}-character body"
    assert isinstance(result, Plan) or (isinstance(result, list) and result), result
    if isinstance(result, list):
        for problem in result:
            assert isinstance(problem, Problem)
            assert problem.code != "internal", problem
            if problem.code not in WHOLE_BODY:
                assert problem.line is not None, problem
                assert 1 <= problem.line <= body.count("\n") + body.count("\r") + 1, problem
    return result
