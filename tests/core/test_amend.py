"""Grants and revokes as edits of the dispatch issue body (DESIGN §3.5)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from service.core.amend import Action, Amended, AmendRefused, Refusal, TerritoryChange, amend, amend_checked
from service.core.patterns import pattern_problem
from service.core.plan import parse_plan


def grant(agent, *patterns, by="alice", reason="needs it"):
    return TerritoryChange(Action.GRANT, agent, patterns, by, reason)


def revoke(agent, *patterns, by="alice"):
    return TerritoryChange(Action.REVOKE, agent, patterns, by)


BLOCK = """Intro text.

```yaml dispatch
agents:
  - name: api
    territory:
      - services/api/   # the service
      - "lib/x.py"
  - name: web
    wave: 2
    territory: [apps/web/, apps/shared/]
  - {name: cli, territory: cli/}
```

Notes below the plan.
"""

PROSE = """# Dispatch

## Agent: api (wave 1)
Authorized files:
- `services/api/` (API only)
- lib/x.py

Findings to fix:
- P0 thing

## Agent: web (wave 2)
**Authorized files:** apps/web/, `apps/shared/`

## Agent: cli
Authorized files:
1. cli/
"""

INDENTED = """Plan:
  ```yaml dispatch
  agents:
    - name: api
      territory:
        - services/api/
  ```
"""


@pytest.mark.parametrize(("body", "change", "territory", "changed_lines"), [
    (BLOCK, grant("api", "docs/api.md"), ("services/api/", "lib/x.py", "docs/api.md"),
     ["      - docs/api.md  # granted by @alice: needs it"]),
    (BLOCK, grant("api", "a.py", "yes"), ("services/api/", "lib/x.py", "a.py", "yes"),
     ["      - a.py  # granted by @alice: needs it", '      - "yes"  # granted by @alice: needs it']),
    (BLOCK, grant("web", "apps/more/", reason=None), ("apps/web/", "apps/shared/", "apps/more/"),
     ["    territory: [apps/web/, apps/shared/, apps/more/]  # granted by @alice"]),
    (BLOCK, grant("cli", "tools/"), ("cli/", "tools/"),
     ["  - {name: cli, territory: [cli/, tools/]}  # granted by @alice: needs it"]),
    (BLOCK, revoke("api", "/lib/x.py"), ("services/api/",), []),
    (BLOCK, revoke("api", "services/api/"), ("lib/x.py",), []),
    (BLOCK, revoke("web", "apps/web/"), ("apps/shared/",), ["    territory: [apps/shared/]"]),
    (BLOCK, revoke("web", "apps/shared/"), ("apps/web/",), ["    territory: [apps/web/]"]),
    (INDENTED, grant("api", "x/"), ("services/api/", "x/"), ["        - x/  # granted by @alice: needs it"]),
    (PROSE, grant("api", "docs/a b.md"), ("services/api/", "lib/x.py", "docs/a b.md"),
     ["- `docs/a b.md` (granted by @alice: needs it)"]),
    (PROSE, grant("web", "apps/z/"), ("apps/web/", "apps/shared/", "apps/z/"),
     ["- `apps/z/` (granted by @alice: needs it)"]),
    (PROSE, grant("cli", "tools/"), ("cli/", "tools/"), ["2. `tools/` (granted by @alice: needs it)"]),
    (PROSE, revoke("api", "lib/x.py"), ("services/api/",), []),
    (PROSE, revoke("web", "apps/web/"), ("apps/shared/",), ["**Authorized files:** `apps/shared/`"]),
    (PROSE, revoke("web", "apps/shared/"), ("apps/web/",), ["**Authorized files:** apps/web/"]),
])
def test_edits(body, change, territory, changed_lines):
    for text in (body, body.replace("\n", "\r\n")):
        result = amend_checked(text, change)
        assert isinstance(result, Amended), result
        assert result.changed
        assert result.plan.agent(change.agent).territory == territory
        assert parse_plan(result.body) == result.plan
        old, new = text.splitlines(), result.body.splitlines()
        assert [line for line in new if line not in old] == changed_lines
        assert ("\r\n" in result.body) == ("\r\n" in text)
        assert "\n" not in result.body.replace("\r\n", "") or "\r\n" not in text  # no mixed endings


def test_everything_outside_the_territory_is_kept_byte_for_byte():
    result = amend(BLOCK, grant("api", "docs/"))
    assert result.body.startswith(BLOCK[: BLOCK.index('      - "lib/x.py"\n')])
    assert result.body.endswith(BLOCK[BLOCK.index("  - name: web"):])


@pytest.mark.parametrize(("body", "change", "reason", "in_reply"), [
    (BLOCK, grant("nobody", "x/"), Refusal.UNKNOWN_AGENT, None),
    ("no plan here", grant("api", "x/"), Refusal.PLAN_INVALID, "no-plan"),
    (BLOCK.replace("{name: cli, territory: cli/}", "{name: cli, territory: [cli/]}"), revoke("cli", "cli/"),
     Refusal.PLAN_PROBLEMS, "empty-territory"),
    (BLOCK, grant("api", "bad//x"), Refusal.PLAN_PROBLEMS, "invalid-pattern"),
    (PROSE, grant("api", "a`b"), Refusal.NOT_EDITABLE, None),
])
def test_refusals_change_nothing(body, change, reason, in_reply):
    result = amend_checked(body, change)
    assert isinstance(result, AmendRefused) and result.reason is reason
    if in_reply:
        assert in_reply in [p.code for p in result.problems]
    if reason is Refusal.UNKNOWN_AGENT:
        assert result.agents == ("api", "web", "cli")


def test_a_grant_onto_a_concurrent_agent_is_refused_with_witnesses():
    result = amend_checked(BLOCK, grant("cli", "services/api/handlers.py", "tools/"))
    assert isinstance(result, AmendRefused) and result.reason is Refusal.PREFLIGHT
    (overlap,) = result.overlaps
    assert {overlap.agent} <= {"api", "cli"} and "services/api/handlers.py" in overlap.message


def test_a_grant_onto_a_later_wave_passes_and_witnesses_prefer_real_files():
    # web runs in wave 2, after api: sharing a file with it is allowed
    assert isinstance(amend_checked(BLOCK, grant("web", "services/api/")), Amended)
    refused = amend_checked(BLOCK, grant("cli", "services/"), repo_paths=["services/api/main.py"])
    assert "services/api/main.py" in refused.overlaps[0].message


@pytest.mark.parametrize(("change", "already"), [
    (grant("api", "services/api/", "/lib/x.py"), ("services/api/", "/lib/x.py")),
    (revoke("api", "nope/"), ("nope/",)),
])
def test_nothing_to_do_keeps_the_body(change, already):
    result = amend_checked(BLOCK, change)
    assert isinstance(result, Amended) and not result.changed
    assert result.body == BLOCK and result.already == already


def test_revoke_reports_what_was_not_there():
    result = amend(BLOCK, revoke("api", "lib/x.py", "nope/"))
    assert result.removed == ("lib/x.py",) and result.already == ("nope/",)


# --------------------------------------------------------------------------- properties

SEGMENT = st.from_regex(r"[a-z][a-z0-9_.-]{0,6}", fullmatch=True)
PATTERN = st.builds(lambda parts, slash: "/".join(parts) + ("/" if slash else ""),
                    st.lists(SEGMENT, min_size=1, max_size=3), st.booleans())
TRICKY = st.sampled_from(["yes", "no", "null", "true", "1.0", "123", "x #y", "a: b", "~", "on", "docs/my notes.md"])
ANY_PATTERN = st.one_of(PATTERN, TRICKY).filter(lambda p: pattern_problem(p) is None)


def _yaml_body(territories, style, newline):
    lines = ["Intro", "", "```yaml dispatch", "agents:"]
    for index, territory in enumerate(territories):
        name = f"a{index}"
        lines.append(f"  - name: {name}")
        if style == "flow":
            lines.append("    territory: [" + ", ".join(f'"{p}"' for p in territory) + "]")
        else:
            lines.append("    territory:")
            lines += [f'      - "{p}"' for p in territory]
        lines.append(f"    wave: {index + 1}")
    lines += ["```", "", "Tail"]
    return newline.join(lines) + newline


def _prose_body(territories, newline):
    lines = ["# Plan", ""]
    for index, territory in enumerate(territories):
        lines += [f"## Agent: a{index} (wave {index + 1})", "Authorized files:"]
        lines += [f"- `{p}`" for p in territory]
        lines += [""]
    return newline.join(lines)


BODIES = st.tuples(
    st.lists(st.lists(ANY_PATTERN, min_size=1, max_size=4, unique=True), min_size=1, max_size=3),
    st.sampled_from(["block", "flow", "prose"]),
    st.sampled_from(["\n", "\r\n"]),
)


def _body(territories, style, newline):
    return _prose_body(territories, newline) if style == "prose" else _yaml_body(territories, style, newline)


def _outside_change(old, new):
    """The old body's text before and after the one region the edit replaced."""
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    end = 0
    while end < min(len(old), len(new)) - start and old[-1 - end] == new[-1 - end]:
        end += 1
    return start, len(old) - end


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(BODIES, st.data())
def test_grant_yields_exactly_old_union_new(spec, data):
    territories, style, newline = spec
    body = _body(territories, style, newline)
    plan = parse_plan(body)
    assume(not isinstance(plan, list))
    target = data.draw(st.integers(0, len(territories) - 1))
    new = data.draw(st.lists(ANY_PATTERN, min_size=1, max_size=3, unique=True))
    reason = data.draw(st.one_of(st.none(), st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")),
                                                    min_size=1, max_size=20).map(str.strip).filter(bool)))
    result = amend(body, grant(f"a{target}", *new, reason=reason))
    assert isinstance(result, Amended), result
    old = plan.agent(f"a{target}").territory
    assert result.plan.agent(f"a{target}").territory == old + tuple(p for p in new if p.lstrip("/") not in old)
    start, end = _outside_change(body, result.body)
    lines = body[:start].count(newline), body[:end].count(newline)
    first_item = body.split(newline).index(f"## Agent: a{target} (wave {target + 1})" if style == "prose"
                                            else f"  - name: a{target}")
    assert start == end or first_item <= lines[0] <= lines[1] <= first_item + len(old) + 3


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(BODIES, st.data())
def test_revoke_yields_exactly_old_minus_removed(spec, data):
    territories, style, newline = spec
    body = _body(territories, style, newline)
    plan = parse_plan(body)
    assume(not isinstance(plan, list))
    target = data.draw(st.integers(0, len(territories) - 1))
    old = plan.agent(f"a{target}").territory
    assume(len(old) > 1)
    gone = data.draw(st.lists(st.sampled_from(old), min_size=1, max_size=len(old) - 1, unique=True))
    result = amend(body, revoke(f"a{target}", *gone))
    assert isinstance(result, Amended), result
    assert result.plan.agent(f"a{target}").territory == tuple(p for p in old if p not in gone)
    others = [a for a in plan.agents if a.name != f"a{target}"]
    assert [result.plan.agent(a.name).territory for a in others] == [a.territory for a in others]


@settings(max_examples=100, deadline=None)
@given(BODIES, st.data())
def test_grant_then_revoke_restores_a_list_body(spec, data):
    territories, style, newline = spec
    assume(style != "flow")  # a flow list keeps the grant's comment at the end of its line
    body = _body(territories, style, newline)
    assume(not isinstance(parse_plan(body), list))
    new = data.draw(st.lists(PATTERN, min_size=1, max_size=3, unique=True))
    assume(not set(new) & {p for t in territories for p in t})
    granted = amend(body, grant("a0", *new))
    assert isinstance(granted, Amended)
    revoked = amend(granted.body, revoke("a0", *new))
    assert isinstance(revoked, Amended) and revoked.body == body


def test_a_pattern_named_twice_is_granted_once():
    result = amend(BLOCK, grant("cli", "y/", "/y/", "z", "y/", "/cli/"))
    assert (result.added, result.already) == (("y/", "z"), ("/cli/",))
    assert result.plan.agent("cli").territory == ("cli/", "y/", "z")


LAYOUTS = {
    "indentless list": "```yaml dispatch\nagents:\n- name: api\n  territory:\n  - a/\n  - b/ # c\n\n- name: web\n"
                       "  wave: 2\n  territory: [w/]\n```\n",
    "tildes, unicode, key order": "Überblick ✓ — plan\n~~~ yaml dispatch\nagents:\n  - territory:\n      - \"é/\"\n"
                                  "      - b/\n    name: api\n~~~\n```\nother\n```\n",
    "dash alone on its line": "```dispatch\nagents:\n  - name: api\n    territory:\n      -\n        a/\n      - b/\n```\n",
    "flow list over lines": "```dispatch\nagents:\n  - name: api\n    territory: [\n      a/,\n      b/,\n    ]\n```\n",
    "no final newline": "```dispatch\nagents:\n  - name: api\n    territory:\n      - a/\n      - b/\n```",
}


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_every_layout_can_be_granted_and_revoked(name):
    body = LAYOUTS[name]
    old = parse_plan(body).agent("api").territory
    granted = amend(body, grant("api", "n/"))
    assert granted.plan.agent("api").territory == (*old, "n/")
    revoked = amend(granted.body, revoke("api", "b/"))
    assert revoked.plan.agent("api").territory == (*[p for p in old if p != "b/"], "n/")
    assert granted.body.split("agents:")[0] == body.split("agents:")[0]
