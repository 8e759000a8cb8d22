"""Plan parsing (both forms), validation and pre-flight: DESIGN §2.1–2.3 and the cases
plan-near-miss-keys.md and dot-paths-in-territory.md."""

from __future__ import annotations

import dataclasses
import re
import time
from textwrap import dedent

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.core import yamlnodes
from service.core.model import Agent, Plan, Problem, RepoConfig, count_problems
from service.core.plan import MAX_BODY_BYTES, check_plan, parse_plan, preflight
from service.core.plan_draft import MAX_YAML_VALUES
from tests.conftest import CASES


def block(yaml_text: str, info: str = "yaml dispatch", fence: str = "```") -> str:
    return f"{fence}{info}\n{dedent(yaml_text).strip()}\n{fence}\n"


def problems(body: str | None, **kwargs) -> list[Problem]:
    result = preflight(body, **kwargs) if kwargs else parse_plan(body)
    assert isinstance(result, list), f"expected problems, got {result}"
    assert result, "a refused plan carries at least one problem"
    return result


def plan(body: str, **kwargs) -> Plan:
    result = preflight(body, **kwargs) if kwargs else parse_plan(body)
    assert isinstance(result, Plan), f"expected a plan, got {result}"
    return result


def codes(body: str) -> list[str]:
    return [p.code for p in problems(body)]


def meaning(p: Plan) -> Plan:
    """The plan without where and how it was written."""
    return dataclasses.replace(p, form="", agents=tuple(dataclasses.replace(a, line=None) for a in p.agents))


VALID = block("""
    agents:
      - name: api
        territory: [/services/api/]
      - name: web
        wave: 2
        territory: [/apps/web/]
""")


@pytest.fixture(params=["libyaml", "pure-python"])
def loader(request, monkeypatch):
    """Run a test with PyYAML's libyaml binding and with its pure-Python fallback."""
    if request.param == "pure-python":
        monkeypatch.setattr(yamlnodes, "_CLoader", None)
    elif yamlnodes._CLoader is None:
        pytest.skip("PyYAML was built without libyaml")
    return request.param


# --------------------------------------------------------------------------- the near-miss case


def near_miss_body() -> str:
    text = (CASES / "plan-near-miss-keys.md").read_text(encoding="utf-8")
    return re.search(r"````markdown\n(.*?)````", text, re.DOTALL).group(1)


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_near_miss_keys_are_all_refused_with_their_lines(newline, loader):
    body = near_miss_body().replace("\n", newline)
    got = problems(body)
    assert [(p.agent, p.line, p.code, p.field) for p in got] == [
        ("api", 7, "unknown-key", "do-not-modify"),
        ("web", 10, "unknown-key", "Wave"),
        ("cli", 13, "empty-territory", "territory"),
        ("cli", 14, "unknown-key", "teritory"),
    ]
    assert got[0].message == "unknown key `do-not-modify`; did you mean `do_not_modify`?"
    assert got[1].message == "unknown key `Wave`; did you mean `wave`? (keys are case-sensitive)"
    assert got[2].message == "`territory` is required and must be non-empty"
    assert got[3].message == "unknown key `teritory`; did you mean `territory`?"
    assert all(p.fix for p in got)


def test_near_miss_plan_once_fixed_keeps_what_the_keys_say():
    fixed = (near_miss_body().replace("do-not-modify", "do_not_modify").replace("Wave", "wave")
             .replace("teritory", "territory"))
    p = plan(fixed)
    assert p.agent("api").do_not_modify == ("/db/schema.sql",)
    assert p.agent("web").wave == 2
    assert p.agent("cli").territory == ("/tools/cli/",)
    assert [a.line for a in p.agents] == [5, 9, 13]


@pytest.mark.parametrize(
    "yaml_text, message",
    [
        ("stict: true\nagents: [{name: api, territory: [a/]}]", "unknown key `stict`; did you mean `strict`?"),
        ("agent:\n  - {name: api, territory: [a/]}", "unknown key `agent`; did you mean `agents`?"),
        ("agents:\n  - {name: api, territory: [a/]}\n  - {name: web, wave: 2, afer: [api], territory: [b/]}",
         "unknown key `afer`; did you mean `after`?"),
        ("agents:\n  - {name: api, owner: team-a, territory: [a/]}", "unknown key `owner`"),
        ("Agents:\n  - {name: api, territory: [a/]}",
         "unknown key `Agents`; did you mean `agents`? (keys are case-sensitive)"),
        ("agents:\n  - {name: api, Territory: [a/], territory: [a/]}",
         "unknown key `Territory`; did you mean `territory`? (keys are case-sensitive)"),
    ],
    ids=["stict", "agent", "afer", "owner", "Agents", "Territory"],
)
def test_near_miss_variants(yaml_text, message):
    got = problems(block(yaml_text))
    assert [p.message for p in got] == [message]
    assert {p.code for p in got} == {"unknown-key"}
    if "owner" in message:
        assert "did you mean" not in got[0].message and "`territory`" in got[0].fix


# --------------------------------------------------------------------------- finding the plan


@pytest.mark.parametrize(
    "body",
    [
        block("agents: [{name: api, territory: [a/]}]", info="dispatch"),
        block("agents: [{name: api, territory: [a/]}]", info="yaml dispatch"),
        block("agents: [{name: api, territory: [a/]}]", info=" {.yaml dispatch}"),
        block("agents: [{name: api, territory: [a/]}]", info="yml Dispatch", fence="~~~"),
        block("agents: [{name: api, territory: [a/]}]", fence="````"),
        "Intro\n\n```python\nprint('no')\n```\n\n" + block("agents: [{name: api, territory: [a/]}]"),
        "   ```yaml dispatch\n   agents:\n     - name: api\n       territory: [a/]\n   ```\n",
    ],
    ids=["dispatch", "yaml-dispatch", "attribute", "tilde", "long-fence", "after-other-block", "indented"],
)
def test_the_dispatch_block_is_found(body):
    p = plan(body)
    assert p.form == "yaml" and p.names == ("api",) and p.agent("api").territory == ("a/",)


def test_a_second_dispatch_block_is_a_problem_on_its_line():
    """The first block holds the plan (DESIGN §2.1); a second is refused, not silently ignored."""
    body = "Plan:\n\n" + block("agents: [{name: one, territory: [a/]}]") + "\nLater:\n" + block(
        "agents: [{name: two, territory: [b/]}]") + "\n" + block("agents: []")
    (p,) = problems(body)
    assert (p.code, p.line) == ("several-dispatch-blocks", 8)
    assert "(line 3)" in p.message


def test_the_first_dispatch_blocks_problems_come_with_the_second_one():
    body = block("agents: [{name: One, territory: [a/]}]") + "\n" + block("agents: [{name: two, territory: [b/]}]")
    assert [(p.code, p.line) for p in problems(body)] == [("invalid-name", 2), ("several-dispatch-blocks", 5)]


def test_a_block_that_only_mentions_dispatch_in_another_word_is_not_a_second_plan():
    body = block("agents: [{name: one, territory: [a/]}]") + "\n```text dispatch-log\nx\n```\n"
    assert plan(body).names == ("one",)


def test_a_dispatch_fence_inside_another_block_is_content():
    inner = block("agents: [{name: inner, territory: [a/]}]")
    body = f"````markdown\n{inner}````\n\n" + block("agents: [{name: outer, territory: [b/]}]")
    assert plan(body).names == ("outer",)


@pytest.mark.parametrize(
    "body",
    [None, "", "   \n", "Just some words about the work.", "```yaml\nagents: []\n```",
     "```dispatcher\nagents: [{name: a, territory: [a/]}]\n```", "## Agents\n- api\n"],
    ids=["none", "empty", "blank", "prose", "yaml-without-dispatch", "dispatcher-word", "no-agent-heading"],
)
def test_no_plan_is_one_problem_explaining_both_forms(body):
    got = problems(body)
    assert [p.code for p in got] == ["no-plan"]
    assert "dispatch" in got[0].fix and "Agent: NAME" in got[0].fix and "Authorized files:" in got[0].fix


def test_an_unclosed_dispatch_block_is_refused():
    got = problems("```yaml dispatch\nagents: [{name: api, territory: [a/]}]\n")
    assert [(p.code, p.line) for p in got] == [("unclosed-block", 1)]


# --------------------------------------------------------------------------- stage 1: structure


@pytest.mark.parametrize(
    "yaml_text, code, field, line",
    [
        ("agents:\n  - name: api\n    wave: two\n    territory: [a/]", "wrong-type", "wave", 4),
        ("agents:\n  - name: api\n    wave: true\n    territory: [a/]", "wrong-type", "wave", 4),
        ("agents:\n  - name: api\n    wave: 1.5\n    territory: [a/]", "wrong-type", "wave", 4),
        ("agents:\n  - name: api\n    wave:\n    territory: [a/]", "wrong-type", "wave", 4),
        ("strict: maybe\nagents: [{name: api, territory: [a/]}]", "wrong-type", "strict", 2),
        ("strict: 'true'\nagents: [{name: api, territory: [a/]}]", "wrong-type", "strict", 2),
        ("base: [main]\nagents: [{name: api, territory: [a/]}]", "wrong-type", "base", 2),
        ("agents:\n  - name: api\n    territory: 'a/, b/'", "wrong-type", "territory", 4),
        ("agents:\n  - name: api\n    territory: {a: b}", "wrong-type", "territory", 4),
        ("agents:\n  - name: api\n    territory:\n      - [a/]", "wrong-type", "territory", 5),
        ("agents:\n  - name: api\n    territory: [a/]\n    findings:\n      - P0: auth bypass",
         "wrong-type", "findings", 6),
        ("agents:\n  - name: api\n    territory: [a/]\n    after: true", "wrong-type", "after", 5),
        ("agents:\n  - name: [api]\n    territory: [a/]", "wrong-type", "name", 3),
        ("agents:\n  - name: api\n    territory: [a/]\n    territory: [b/]", "duplicate-key", None, 5),
        ("agents:\n  - name: api\n    territory:", "empty-territory", "territory", 4),
        ("agents:\n  - name: api\n    territory: []", "empty-territory", "territory", 4),
        ("agents:\n  - name: api", "empty-territory", "territory", 3),
        ("agents: {api: {territory: [a/]}}", "wrong-type", "agents", 2),
        ("agents:\n  - api", "wrong-type", "agents", 3),
        ("agents: []", "no-agents", "agents", 2),
        ("base: main", "no-agents", "agents", 2),
        ("- name: api\n  territory: [a/]", "no-agents", None, 2),
        ("agents:\n  - name: api\n\tterritory: [a/]", "yaml-syntax", None, 4),
        ("agents:\n  - name: api\n   territory: [a/]", "yaml-syntax", None, 4),
        ("agents:\n  - name: api\n    territory: [a/\n  - name: web", "yaml-syntax", None, 5),
        ("agents: [{name: api, territory: [a/]}]\n---\nagents: []", "yaml-syntax", None, 3),
    ],
)
def test_structure_problems(yaml_text, code, field, line, loader):
    got = problems(block(yaml_text))
    assert (code, field, line) in [(p.code, p.field, p.line) for p in got], got


def test_findings_written_as_yaml_mappings_get_a_quoting_hint():
    got = problems(block("agents:\n  - name: api\n    territory: [a/]\n    findings:\n      - P0: auth bypass"))
    assert "quote" in got[0].fix


@pytest.mark.parametrize(
    "yaml_text, expected",
    [
        ("agents: [{name: api, territory: tests/}]", Agent("api", ("tests/",), line=2)),
        ("agents:\n  - name: api\n    territory: [a/]\n    findings:\n    after:\n    do_not_modify:",
         Agent("api", ("a/",), line=3)),
        ("agents: [{name: api, territory: [a/], findings: P0}]", Agent("api", ("a/",), findings=("P0",), line=2)),
        ("agents: [{name: '12', territory: [a/], branch: team/api}]",
         Agent("12", ("a/",), branch="team/api", line=2)),
        ("agents: [{name: api, wave: 0x1, territory: [a/]}]", Agent("api", ("a/",), line=2)),
    ],
    ids=["one-string-territory", "empty-optional-lists", "one-string-finding", "branch", "hex-wave"],
)
def test_accepted_shorthands(yaml_text, expected, loader):
    assert plan(block(yaml_text)).agents == (expected,)


@pytest.mark.parametrize(
    "yaml_text, strict, base",
    [("strict: true", True, None), ("strict: false", False, None), ("strict: yes", True, None),
     ("base: release/2.x", None, "release/2.x"), ("", None, None)],
)
def test_top_level_settings(yaml_text, strict, base):
    p = plan(block(yaml_text + "\nagents: [{name: api, territory: [a/]}]"))
    assert (p.strict, p.base) == (strict, base)


def test_never_a_default_for_an_unreadable_key():
    # A wave that cannot be read must not become wave 1: the whole plan is refused.
    assert isinstance(parse_plan(block("agents:\n  - {name: api, wave: '2', territory: [a/]}")), list)


# --------------------------------------------------------------------------- stage 2: meaning


TWO = "agents:\n  - {{name: api, territory: [a/]{a}}}\n  - {{name: web, territory: [b/]{b}}}"


@pytest.mark.parametrize(
    "yaml_text, code, agent, line",
    [
        (TWO.format(a="", b="").replace("web", "api"), "duplicate-name", "api", 4),
        (TWO.format(a="", b="").replace("web", "Web"), "invalid-name", "Web", 4),
        (TWO.format(a="", b="").replace("web", "web_ui"), "invalid-name", "web_ui", 4),
        (TWO.format(a="", b="").replace("web", "-web"), "invalid-name", "-web", 4),
        (TWO.format(a="", b="").replace("web", "w" * 65), "invalid-name", "w" * 65, 4),
        ("agents:\n  - {territory: [a/]}", "missing-name", None, 3),
        (TWO.format(a=", wave: 0", b=""), "invalid-wave", "api", 3),
        (TWO.format(a=", wave: -1", b=""), "invalid-wave", "api", 3),
        (TWO.format(a="", b=", wave: 3"), "wave-gap", "web", 4),
        (TWO.format(a=", wave: 2", b=", wave: 2"), "wave-gap", "api", 3),
        (TWO.format(a="", b=", after: [cli]"), "after-unknown", "web", 4),
        (TWO.format(a="", b=", after: [web]"), "after-self", "web", 4),
        (TWO.format(a=", after: [web]", b=", wave: 2"), "after-later-wave", "api", 3),
        (TWO.format(a=", after: [web]", b=", after: [api]"), "after-cycle", "api", 3),
        (TWO.format(a=", branch: 'bad..name'", b=""), "invalid-branch", "api", 3),
        ("base: 'a b'\n" + TWO.format(a="", b=""), "invalid-branch", None, 2),
        (TWO.format(a="", b="").replace("[b/]", "['../b']"), "invalid-pattern", "web", 4),
            (TWO.format(a="", b="").replace("[b/]", "['!b/']"), "empty-territory", "web", 4),
            (TWO.format(a="", b="").replace("[b/]", "[b/, '!../b']"), "invalid-pattern", "web", 4),
            (TWO.format(a="", b=", do_not_modify: ['!x']"), "invalid-pattern", "web", 4),
        (TWO.format(a="", b="").replace("[b/]", "['b/[ab].py']"), "invalid-pattern", "web", 4),
        (TWO.format(a="", b="").replace("[b/]", "['b\\\\c']"), "invalid-pattern", "web", 4),
        (TWO.format(a="", b="").replace("[b/]", "['']"), "invalid-pattern", "web", 4),
        (TWO.format(a="", b="").replace("[b/]", f"['{'b' * 257}']"), "invalid-pattern", "web", 4),
        (TWO.format(a="", b=", do_not_modify: ['../x']"), "invalid-pattern", "web", 4),
    ],
)
def test_meaning_problems(yaml_text, code, agent, line):
    got = problems(block(yaml_text))
    assert (code, agent, line) in [(p.code, p.agent, p.line) for p in got], got
    assert all(p.message and p.fix for p in got)


@pytest.mark.parametrize(
    "waves, expected",
    [
        ((1, 3), ["wave 3 has no wave 2 before it"]),
        ((1, 5), ["wave 5 has no waves 2–4 before it"]),
        ((2, 9), ["wave 2 has no wave 1 before it", "wave 9 has no waves 3–8 before it"]),
        ((1, 100), ["wave 100 has no waves 2–99 before it"]),
    ],
)
def test_missing_waves_are_one_problem_per_gap_with_its_range(waves, expected):
    a, b = waves
    got = problems(block(TWO.format(a=f", wave: {a}", b=f", wave: {b}")))
    assert [p.message for p in got if p.code == "wave-gap"] == expected


@pytest.mark.parametrize("wave", ["101", "1000000", "99999999999999999999", "0x7fffffffffffffff"])
def test_a_wave_past_the_agent_limit_is_one_problem(wave):
    got = problems(block(TWO.format(a=f", wave: {wave}", b="")))
    assert [(p.code, p.agent, p.line) for p in got] == [("invalid-wave", "api", 3)]
    assert "larger than 100" in got[0].message and wave not in got[0].message


def test_a_cycle_is_reported_on_the_after_line():
    body = block("agents:\n  - name: a\n    territory: [a/]\n    after:\n      - b\n"
                 "  - name: b\n    territory: [b/]\n    after: [a]")
    (cycle,) = [p for p in problems(body) if p.code == "after-cycle"]
    assert (cycle.agent, cycle.line) == ("a", 6)


def test_a_cycle_through_a_duplicated_name_is_reported_beside_the_duplicate():
    body = block("agents:\n  - {name: a, territory: [a/], after: [b]}\n  - {name: b, territory: [b/], after: [a]}\n"
                 "  - {name: a, territory: [c/]}")
    got = {p.code for p in problems(body)}
    assert {"duplicate-name", "after-cycle"} <= got


def test_cycle_message_names_the_agents_in_order():
    body = block("agents:\n  - {name: a, territory: [a/], after: [c]}\n  - {name: b, territory: [b/], after: [a]}\n"
                 "  - {name: c, territory: [c/], after: [b]}")
    (cycle,) = [p for p in problems(body) if p.code == "after-cycle"]
    assert "a → c → b → a" in cycle.message


def test_pattern_problems_are_on_the_line_of_the_item():
    body = block("agents:\n  - name: api\n    territory:\n      - a/\n      - ../b\n")
    (p,) = problems(body)
    assert (p.code, p.line, p.field) == ("invalid-pattern", 6, "territory")


def test_all_problems_at_once_sorted_by_line():
    body = block("agents:\n  - {name: B, territory: [a/]}\n  - {name: ok, wave: 3, territory: []}\n"
                 "  - {name: x, teritory: [c/]}")
    got = problems(body)
    lines = [p.line for p in got]
    assert lines == sorted(lines)
    assert {p.code for p in got} >= {"invalid-name", "empty-territory", "wave-gap", "unknown-key"}


def test_after_and_waves_build_the_plan():
    p = plan(block("agents:\n  - {name: a, territory: [a/]}\n  - {name: b, territory: [b/], after: [a, a]}"))
    assert p.agent("b").after == ("a",)


# --------------------------------------------------------------------------- limits and hostile input


def test_too_many_agents_points_at_the_first_agent_past_the_limit():
    agents = "\n".join(f"  - {{name: a{i}, territory: [d{i}/]}}" for i in range(101))
    (p,) = problems(block("agents:\n" + agents))
    assert (p.code, p.line, p.field) == ("too-many-agents", 103, "agents")


def test_a_hundred_agents_are_allowed():
    agents = "\n".join(f"  - {{name: a{i}, territory: [d{i}/]}}" for i in range(100))
    assert len(plan(block("agents:\n" + agents)).agents) == 100


def test_too_many_prose_agents():
    body = "".join(f"## Agent: a{i}\nAuthorized files:\n- d{i}/\n" for i in range(101))
    (p,) = problems(body)
    assert (p.code, p.line) == ("too-many-agents", 301)


def test_too_many_patterns_points_at_the_first_pattern_past_the_limit():
    agents = "\n".join(
        f"  - name: a{i}\n    territory: [{', '.join(f'd{i}/f{j}' for j in range(101))}]" for i in range(10)
    )
    (p,) = problems(block("agents:\n" + agents))
    assert (p.code, p.line) == ("too-many-patterns", 22)  # agent a9's territory line


def test_a_block_of_too_many_values_is_refused_where_the_limit_is_passed():
    body = block("agents:\n  - name: a\n    territory: [a/]\n    findings:\n" + "      - x\n" * 20_000)
    (p,) = problems(body)
    # 11 values up to `findings:`'s list, one per item from line 6 on
    assert (p.code, p.line) == ("plan-too-large", 6 + MAX_YAML_VALUES - 11)


def test_problems_are_capped():
    # 100 agents with four problems each: invalid name, wave 0, an unknown key, no territory
    body = block("agents:\n" + "".join(f"  - {{name: A{i}, wave: 0, foo: 1}}\n" for i in range(100)))
    got = problems(body)
    assert len(got) == 100 and got[-1].code == "too-many-problems" and "301 more" in got[-1].message
    assert got[-1].more == 301 and count_problems(got) == 99 + 301  # what headers and the dashboard say


def test_a_large_plan_parses_fast():
    agents = "".join(
        f"  - name: a{i}\n    territory: [{', '.join(f'd{i}/f{j}.py' for j in range(10))}]\n"
        f"    findings: [{', '.join(repr('x' * 200) for _ in range(5))}]\n" for i in range(100)
    )
    start = time.perf_counter()
    assert len(plan(block("agents:\n" + agents)).agents) == 100
    assert time.perf_counter() - start < 2


def test_body_over_256_kib_is_refused_before_parsing():
    body = block("agents: [{name: api, territory: [a/]}]") + "x" * MAX_BODY_BYTES
    assert codes(body) == ["body-too-large"]
    assert isinstance(parse_plan("é" * (MAX_BODY_BYTES // 2 - 200) + "\n" + VALID), Plan)


BILLION_LAUGHS = """
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
agents: [{name: api, territory: *i}]
"""


@pytest.mark.parametrize(
    "body, code",
    [
        (block(BILLION_LAUGHS), "yaml-alias"),
        (block("agents: " + "[" * 100 + "]" * 100), "yaml-too-deep"),
        (block("agents: " + "{a: " * 100 + "}" * 100), "yaml-too-deep"),
        (block("agents: " + "[" * 5000 + "]" * 5000), "yaml-"),
        (block("agents:\n" + "".join("  " * i + "- \n" for i in range(1, 200))), "yaml-too-deep"),
        (block("agents: [{name: api, territory: !!python/object:os.system [a/]}]"), "yaml-tag"),
        (block("agents: !!binary aGVsbG8=\n"), "yaml-tag"),
        (block("agents: [{name: api, territory: [\"a\x1f/\"]}]"), "yaml-syntax"),
    ],
    ids=["billion-laughs", "deep-flow", "deep-flow-mapping", "very-deep-flow", "deep-block", "python-tag", "binary-tag", "control-char"],
)
def test_hostile_yaml_becomes_problems_quickly(body, code, loader):
    start = time.perf_counter()
    got = problems(body)
    assert time.perf_counter() - start < 2
    assert [p.code for p in got if p.code.startswith(code)], got


_PROSEISH = st.lists(st.sampled_from([
    "## Agent: a", "# agent: b (wave 2)", "### Agent: c (after a, b)", "Authorized files:", "**Do not modify**",
    "Findings to fix", "- x/", "* `y`", "1. z", "   more", "```", "~~~ dispatch", "", "## Other", "(wave x)",
]), max_size=30).map("\n".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=400), _PROSEISH))
def test_parse_plan_never_raises_on_any_text(text):
    result = parse_plan(text)
    assert isinstance(result, Plan) or (result and all(isinstance(p, Problem) for p in result))
    if isinstance(result, list):
        assert all(p.code != "internal" for p in result), result


_YAMLISH = st.text(alphabet=st.sampled_from(list("agents:-[]{},&*!|>'\" \n\t#name territorywave1a/")), max_size=300)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300), _YAMLISH))
def test_parse_plan_never_raises_inside_a_dispatch_fence(text):
    result = parse_plan("```yaml dispatch\n" + text + "\n```\n")
    assert isinstance(result, Plan) or (result and all(isinstance(p, Problem) for p in result))
    if isinstance(result, list):
        assert all(p.code != "internal" for p in result), result


# --------------------------------------------------------------------------- prose form


PROSE = """\
Some context about the audit.

## Agent: security

Authorized files:
- `broker/api/auth.py`
- scripts/ (both scripts)

Findings to fix:
1. P0: Auth middleware accepts any non-empty token (auth.py:46-51)
2) P0: SQL injection
   via f-string

DO NOT MODIFY
* `broker/main.py` (architecture owns this)

## Agent: `testing` (wave 2) (after security)

**authorized files:** tests/, docs/testing.md

```text
## Agent: not-an-agent
```

## Notes

- this list belongs to no agent
"""


def test_prose_plan():
    p = plan(PROSE)
    assert p.form == "prose"
    assert p.agents == (
        Agent("security", ("broker/api/auth.py", "scripts/"), wave=1,
              findings=("P0: Auth middleware accepts any non-empty token (auth.py:46-51)",
                        "P0: SQL injection via f-string"),
              do_not_modify=("broker/main.py",), line=3),
        Agent("testing", ("tests/", "docs/testing.md"), wave=2, after=("security",), line=17),
    )


def test_prose_line_numbers_are_the_same_with_crlf():
    assert plan(PROSE.replace("\n", "\r\n")) == plan(PROSE)


@pytest.mark.parametrize(
    "heading, wave, after",
    [
        ("# Agent: web", 1, ()),
        ("###### agent: web (wave 3)", 3, ()),
        ("## Agent: web (after api, cli)", 1, ("api", "cli")),
        ("## Agent: web (wave 3, after api and cli)", 3, ("api", "cli")),
        ("## Agent: web (after `api`) (wave 3)", 3, ("api",)),
        ("## **Agent:** web (Wave: 3)", 3, ()),
    ],
)
def test_prose_headings(heading, wave, after):
    head = "## Agent: api\nAuthorized files: a/\n## Agent: cli\nAuthorized files: c/\n"
    mid = "## Agent: x2\nAuthorized files: x/\n" if wave == 3 else ""
    body = head + mid.replace("x2", "mid").replace("## Agent: mid", "## Agent: mid (wave 2)") + heading + "\nAuthorized files:\n- w/\n"
    a = plan(body).agent("web")
    assert (a.wave, a.after, a.territory) == (wave, after, ("w/",))


@pytest.mark.parametrize(
    "body, code, line",
    [
        ("## Agent: api\nAuthorised files:\n- a/\n", "unknown-key", 2),
        ("## Agent: api\nFindings to fixx:\n- x\nAuthorized files: a/\n", "unknown-key", 2),
        ("## Agent: api\n", "empty-territory", 1),
        ("## Agent: api (wave two)\nAuthorized files: a/\n", "wrong-type", 1),
        ("## Agent: api (P0)\nAuthorized files: a/\n", "malformed-heading", 1),
        ("## Agent: two words\nAuthorized files: a/\n", "malformed-heading", 1),
        ("## Agent: api\nAuthorized files: ../a\n", "invalid-pattern", 2),
        ("## Agent: api\nAuthorized files: a/\n## Agent: api\nAuthorized files: b/\n", "duplicate-name", 3),
        ("## Agent: web (wave 2)\nAuthorized files: a/\n", "wave-gap", 1),
    ],
)
def test_prose_problems(body, code, line):
    assert (code, line) in [(p.code, p.line) for p in problems(body)]


def test_prose_section_ends_at_a_heading_of_the_same_level():
    body = "## Agent: api\nAuthorized files:\n- a/\n## Other\nAuthorized files:\n- b/\n"
    assert plan(body).agent("api").territory == ("a/",)


def test_yaml_and_prose_give_the_same_plan():
    yaml_body = block("""
        agents:
          - name: security
            territory: [broker/api/auth.py, scripts/]
            findings: ["P0: token check"]
            do_not_modify: [broker/main.py]
          - name: testing
            wave: 2
            after: [security]
            territory: [tests/]
    """)
    prose_body = ("## Agent: security\nAuthorized files:\n- `broker/api/auth.py`\n- `scripts/`\n"
                  "Findings to fix:\n- P0: token check\nDo not modify:\n- `broker/main.py`\n\n"
                  "## Agent: testing (wave 2) (after security)\nAuthorized files:\n- tests/\n")
    y, p = plan(yaml_body), plan(prose_body)
    assert (y.form, p.form) == ("yaml", "prose")
    assert meaning(y) == meaning(p)


def test_a_dispatch_block_beside_agent_headings_is_two_plans():
    body = "## Agent: prose-one\nAuthorized files: a/\n\n" + block("agents: [{name: yaml-one, territory: [b/]}]")
    (p,) = problems(body)
    assert (p.code, p.line) == ("several-plans", 1)
    assert "line 4" in p.message and p.fix


def test_an_agent_heading_inside_a_code_block_is_not_a_second_plan():
    body = "```md\n## Agent: example\n```\n" + block("agents: [{name: yaml-one, territory: [b/]}]")
    assert plan(body).names == ("yaml-one",)


# --------------------------------------------------------------------------- pre-flight


def overlap_body(x: str, y: str, extra: str = "") -> str:
    return block(f"agents:\n  - {{name: x, territory: [{x}]}}\n  - {{name: y, territory: [{y}]{extra}}}")


@pytest.mark.parametrize(
    "x, y, repo_paths, witness",
    [
        ("/config/", "/config/.secrets/", ["README.md", "config/.secrets/db.env"], "config/.secrets/db.env"),
        ("/config/", "/config/.secrets/", [], "config/.secrets/"),
        ('"config/**"', '"config/*/.env"', [], "config/a/.env"),
        ("src/", '"**/*.py"', ["src/app/main.py", "tools/x.py"], "src/app/main.py"),
    ],
    ids=["real-file", "shortest-path", "globs", "any-depth"],
)
def test_overlap_between_concurrent_agents(x, y, repo_paths, witness):
    got = problems(overlap_body(x, y), repo_paths=repo_paths, config=RepoConfig(protected=()))
    assert [(p.code, p.agent, p.field, p.line) for p in got] == [("overlap", "x", "territory", 3)]
    assert "`x` and `y`" in got[0].message and witness in got[0].message
    assert "different waves" in got[0].fix


@pytest.mark.parametrize("extra", [", wave: 2", ", after: [x]"], ids=["later-wave", "after"])
def test_agents_that_run_one_after_the_other_may_share_files(extra):
    assert plan(overlap_body("src/", "src/main.py", extra), repo_paths=["src/main.py"]).names == ("x", "y")


def test_overlap_message_names_every_contested_file_and_pattern():
    body = block("agents:\n  - {name: x, territory: [a/, b.py]}\n  - {name: y, territory: ['**/*.py']}")
    (p,) = problems(body, repo_paths=["a/one.py", "a/two.txt", "b.py", "c.py"], config=RepoConfig(protected=()))
    assert "a/one.py (through `a/` and `**/*.py`)" in p.message
    assert "b.py (through `b.py` and `**/*.py`)" in p.message
    assert "two.txt" not in p.message and "c.py" not in p.message


def test_every_overlapping_pair_is_reported():
    body = block("agents:\n  - {name: a, territory: [s/]}\n  - {name: b, territory: [s/x]}\n"
                 "  - {name: c, territory: [s/y]}\n  - {name: d, territory: [t/]}")
    got = problems(body, repo_paths=[])
    assert [p.message.split(" may")[0] for p in got] == ["`a` and `b`", "`a` and `c`"]


@pytest.mark.parametrize(
    "territory, config",
    [
        (".github/", RepoConfig()),
        ("'**/ci.yml'", RepoConfig()),
        ("secrets/", RepoConfig(protected=("secrets/keys/",))),
    ],
)
def test_protected_paths_are_subtracted_from_a_territory(territory, config):
    assert plan(block(f"agents: [{{name: x, territory: [{territory}]}}]"), config=config).names == ("x",)


@pytest.mark.parametrize(
    "yaml_text, message",
    [
        ("agents: [{name: x, territory: [.github/workflows/]}]",
         "`x`'s territory is empty once `.github/workflows/` (protected) is removed"),
        ("agents: [{name: x, territory: [src/gen/], do_not_modify: [src/]}]",
         "`x`'s territory is empty once `src/` (its DO-NOT-MODIFY) is removed"),
        ("agents: [{name: x, territory: [src/gen/, '!src/']}]",
         "`x`'s territory is empty once `src/` (excluded with `!`) is removed"),
    ],
)
def test_a_territory_emptied_by_what_it_excludes_is_refused(yaml_text, message):
    (p,) = problems(block(yaml_text), config=RepoConfig())
    assert (p.code, p.agent, p.field, p.line) == ("empty-territory", "x", "territory", 2)
    assert p.message == message


def test_a_pattern_its_exclusions_remove_entirely_is_a_warning():
    found = check_plan(block("agents: [{name: x, territory: [src/, .github/workflows/ci.yml]}]"))
    assert found.passed
    (w,) = found.warnings
    assert (w.code, w.agent, w.line) == ("pattern-removed", "x", 2)
    assert "`.github/workflows/ci.yml`" in w.message and "(protected)" in w.message


def test_protected_list_may_be_empty():
    assert plan(block("agents: [{name: x, territory: [.github/]}]"), config=RepoConfig(protected=()))


def test_own_do_not_modify_is_an_exception_inside_the_territory():
    body = block("agents: [{name: x, territory: [src/], do_not_modify: [src/generated/]}]")
    assert plan(body, repo_paths=["src/generated/a.py", "src/b.py"]).names == ("x",)


def test_exclusions_let_another_agent_of_the_same_wave_take_the_folder():
    body = block("agents:\n  - {name: x, territory: [src/, '!src/gen/']}\n  - {name: y, territory: [src/gen/]}")
    assert plan(body, repo_paths=["src/gen/a.py", "src/b.py"]).names == ("x", "y")


def test_a_nested_folder_pattern_is_refused_with_a_plausible_witness():
    body = block("agents:\n  - {name: x, territory: ['src/**/*.py']}\n  - {name: y, territory: [src/api/]}")
    (p,) = problems(body, repo_paths=[])
    assert "src/api/a.py (through `src/**/*.py` and `src/api/`)" in p.message
    (p,) = problems(body, repo_paths=["src/api/routes.py", "src/api/README.md"])
    assert "src/api/routes.py" in p.message and "README" not in p.message


def test_extension_globs_of_two_agents_are_disjoint():
    body = block("agents:\n  - name: py\n    territory: ['**/*.py']\n  - name: docs\n    territory: ['**/*.md']")
    assert plan(body).names == ("py", "docs")


def test_the_overlap_problem_is_on_the_line_of_the_offending_pattern():
    body = block("agents:\n  - name: x\n    territory:\n      - a/\n      - b/\n  - name: y\n    territory: [b/c]")
    (p,) = problems(body, repo_paths=[])
    assert (p.code, p.line) == ("overlap", 6)
    assert "(" not in p.fix


def test_overlaps_come_with_the_structural_problems():
    body = block("agents:\n  - {name: x, territory: [a/]}\n  - {name: y, territory: [a/], wave: two}\n"
                 "  - {name: z, territory: [a/b], findngs: [f]}")
    got = problems(body, repo_paths=["a/b"])
    assert sorted(p.code for p in got) == ["overlap", "unknown-key", "wrong-type"]
    (o,) = [p for p in got if p.code == "overlap"]
    assert "`x` and `z`" in o.message


def test_an_agent_whose_wave_could_not_be_read_is_left_out_of_the_overlap_analysis():
    body = block("agents:\n  - {name: x, territory: [a/]}\n  - {name: y, territory: [a/], wave: two}")
    assert [p.code for p in problems(body, repo_paths=["a/b"])] == ["wrong-type"]


def test_preflight_passes_a_clean_plan():
    p = plan(VALID, config=RepoConfig(), repo_paths=["services/api/a.py", "apps/web/b.ts"])
    assert p.names == ("api", "web")


def test_a_plan_of_many_wildcard_heavy_patterns_is_refused_within_the_preflight_budget():
    """Patterns like ``**/*1*x*y*/**/q0?*.py`` compare slowly (no literal prefix to tell them
    apart); the pre-flight spends a bounded amount of search and then refuses the plan with a
    clear problem instead of occupying a worker for minutes."""
    import time

    from service.core import patterns

    lines = ["```yaml dispatch", "agents:"]
    for i in range(100):
        lines += [f"  - name: a{i}", "    territory:"]
        lines += [f'      - "**/*{i}*x*y*/**/q{j}?*.py"' for j in range(10)]
    body = "\n".join([*lines, "```", ""])
    patterns.shortest_common_path.cache_clear()
    patterns.SEARCH_COST.clear()
    started = time.process_time()
    result = preflight(body, RepoConfig(protected=()))
    assert time.process_time() - started < 60
    assert isinstance(result, list)
    assert any(p.code == "pattern-too-complex" and "too complex" in p.message for p in result)


# --------------------------------------------------------------------------- too complex: who and what


TWO_WILDCARD_AGENTS = block("""
    agents:
      - name: left
        territory: ["src/**/*a*b*/x?.py"]
      - name: right
        territory: ["src/**/*c*d*/?y.py"]
""")


def _fresh_comparisons():
    from service.core import patterns

    patterns.shortest_common_path.cache_clear()
    patterns.SEARCH_COST.clear()


def test_a_spent_preflight_budget_names_both_agents_their_lines_and_patterns(monkeypatch):
    from service.core import patterns

    _fresh_comparisons()
    monkeypatch.setattr(patterns, "MAX_PREFLIGHT_STATES", 1)
    (p,) = problems(TWO_WILDCARD_AGENTS, config=RepoConfig(protected=()))
    assert p.code == "pattern-too-complex"
    assert (p.agent, p.field, p.line) == ("left", "territory", 3)
    assert "`left` (line 3) and `right` (line 5)" in p.message
    assert "`src/**/*a*b*/x?.py` of `left` against `src/**/*c*d*/?y.py` of `right`" in p.message
    assert "pre-flight's limit" in p.message
    assert "`src/**/*a*b*/x?.py` and `src/**/*c*d*/?y.py`" in p.fix
    _fresh_comparisons()


def test_a_pair_past_the_limit_of_one_comparison_names_both_agents_and_patterns(monkeypatch):
    from service.core import patterns

    _fresh_comparisons()
    monkeypatch.setattr(patterns, "MAX_PRODUCT_STATES", 2)
    (p,) = problems(TWO_WILDCARD_AGENTS, config=RepoConfig(protected=()))
    assert p.code == "pattern-too-complex" and p.line == 3
    assert "`left` (line 3) and `right` (line 5)" in p.message
    assert "limit of one comparison" in p.message and "`src/**/*c*d*/?y.py`" in p.message
    _fresh_comparisons()


def test_a_territory_too_complex_to_compare_with_its_do_not_modify_names_both_patterns(monkeypatch):
    from service.core import patterns

    _fresh_comparisons()
    monkeypatch.setattr(patterns, "MAX_PRODUCT_STATES", 2)
    body = block("""
        agents:
          - name: solo
            territory: ["src/**/*a*b*/x?.py"]
            do_not_modify: ["src/**/*c*d*/?y.py"]
    """)
    (p,) = problems(body, config=RepoConfig(protected=()))
    assert (p.code, p.agent, p.line) == ("pattern-too-complex", "solo", 4)
    assert "territory pattern `src/**/*a*b*/x?.py` of `solo` (line 3)" in p.message
    assert "what its territory excludes" in p.message
    _fresh_comparisons()


def test_a_pattern_with_too_many_wildcards_gets_a_fix_about_wildcards():
    body = block('agents:\n  - {name: x, territory: ["*a*a*a*a*a*a*a*a*a"]}')
    (p,) = problems(body)
    assert p.code == "invalid-pattern" and "9 wildcards; at most 8" in p.message
    assert "wildcards" in p.fix and "folder" in p.fix
    assert "relative to the repository root" not in p.fix


@pytest.mark.parametrize(
    "body",
    [
        None,
        "no plan here",
        block("agents:\n  - {name: Bad Name, territory: ['../x', '*a*a*a*a*a*a*a*a*a', '" + "x" * 257 + "']}"),
        block("agents:\n  - {territory: [a/]}\n  - {name: y, territory: [.github/workflows/]}"),
        block("agents:\n  - {name: x, territory: [a/], wave: two, findngs: [f]}\n  - {name: y, territory: [a/b]}"),
        block("agents:\n  - {name: x, territory: [a/]}\n  - {name: y, territory: [a/]}\n  - {name: z, territory: [a/]}"),
        block("agents:\n  - {name: x, territory: [a/], after: [x, nobody]}\n  - {name: y, territory: [b/], wave: 3}"),
        block("agents:\n  - name: x\n    territory:\n      - !src/gen/"),
    ],
)
def test_fix_texts_hold_no_parentheses_outside_code(body):
    """Problem lists show a fix as ``(fix: …)``: a parenthesis in the fix would nest."""
    found = preflight(body, RepoConfig(), ["a/b"])
    assert isinstance(found, list) and found
    for p in found:
        assert "(" not in re.sub(r"`+[^`]*`+", "", p.fix), p


# --------------------------------------------------------------------------- warnings and witnesses against a tree

TREE = ["service/a.py", "service/b.py", "service/c.py", "service/d.py", "service/e.py", "scripts/x.sh"]


def test_an_overlap_shows_three_witnesses_and_names_the_patterns_once():
    body = block("agents:\n  - {name: perf, territory: ['**/*.py']}\n  - {name: api, territory: [service/]}")
    (p,) = check_plan(body, repo_paths=TREE).problems
    assert ("both territories contain service/a.py, service/b.py, service/c.py and 2 more "
            "(through `**/*.py` and `service/`)") in p.message
    assert p.message.count("through") == 1


@pytest.mark.parametrize(
    "entries, expected",
    [
        ("territory: [service/, '!scripts/vendored/']", []),
        ("territory: [service/], do_not_modify: [nothere/]", []),
        ("territory: [service/, '!scrips/']", ["`!scrips/` excludes no file of the repository; did you mean `!scripts/`?"]),
        ("territory: [service/], do_not_modify: [scrips/x.sh]",
         ["`scrips/x.sh` protects no file of the repository; did you mean `scripts/x.sh`?"]),
        ("territory: [service/, servce/a.py]",
         ["pattern `servce/a.py` matches no file of the repository; did you mean `service/a.py`?"]),
    ],
)
def test_exclusions_matching_no_file_warn_only_about_a_likely_typo(entries, expected):
    found = check_plan(block(f"agents:\n  - {{name: api, {entries}}}"), repo_paths=TREE)
    assert [w.message for w in found.warnings] == expected
    assert all("is to create it" not in w.fix for w in found.warnings if w.pattern != "servce/a.py")
    assert all(f"`{w.field}` pattern" not in w.message for w in found.warnings)


def test_two_unicode_spellings_of_one_path_owned_by_two_agents_overlap():
    nfc, nfd = "docs/r\u00e9sum\u00e9.md", "docs/re\u0301sume\u0301.md"
    body = block(f"agents:\n  - {{name: a, territory: ['{nfc}']}}\n  - {{name: b, territory: ['{nfd}']}}")
    for tree in ([], [nfd]):
        assert [p.code for p in check_plan(body, repo_paths=tree).problems] == ["overlap"]
