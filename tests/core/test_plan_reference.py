"""The reference scenario (DESIGN §6): the lesson's first territorial map fails the pre-flight on
every contested file; the consolidated plan passes; YAML and prose give the same plans."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from service.core.gates import concurrent_pairs
from service.core.model import Plan
from service.core.plan import parse_plan, preflight

PLANS = Path(__file__).resolve().parents[1] / "fixtures" / "plans"
REPO_FILES = (PLANS / "reference-repo-files.txt").read_text(encoding="utf-8").split()
FORMS = ["yaml", "prose"]

# What the lesson's lists make contested: files listed by two agents of the same wave.
CONTESTED = {
    "broker/api/directives.py": {"security", "performance"},
    "broker/safety/halt_store.py": {"architecture", "performance"},
    "broker/core/dispatcher.py": {"architecture", "performance"},
}


def body(name: str, form: str) -> str:
    return (PLANS / f"reference-{name}.{form}.md").read_text(encoding="utf-8")


def meaning(p: Plan) -> Plan:
    return dataclasses.replace(p, form="", agents=tuple(dataclasses.replace(a, line=None) for a in p.agents))


def test_repo_files_are_the_reference_layout():
    for path in ["broker/api/auth.py", "broker/api/kill_switch.py", "broker/api/escalations.py",
                 "broker/api/directives.py", "broker/main.py", "broker/safety/kill_switch.py",
                 "broker/safety/halt_store.py", "broker/core/dispatcher.py", "scripts/okr_sentinel_metrics.py",
                 "scripts/heartbeat-bridge.py"]:
        assert path in REPO_FILES
    assert any(p.startswith("tests/unit/") for p in REPO_FILES)


@pytest.mark.parametrize("form", FORMS)
def test_first_plan_is_the_lessons_map(form):
    p = parse_plan(body("first", form))
    assert isinstance(p, Plan) and p.form == form
    assert p.names == ("security", "architecture", "testing", "performance")
    assert p.waves == (1,)
    assert p.agent("testing").territory == ("tests/", "tests/unit/test_message_pipeline.py",
                                            "tests/unit/test_kill_switch_api.py")
    assert "P0: SQL injection via f-string (okr_sentinel_metrics.py:36-40)" in p.agent("security").findings


@pytest.mark.parametrize("form", FORMS)
def test_first_plan_fails_preflight_naming_every_contested_file(form):
    problems = preflight(body("first", form), repo_paths=REPO_FILES)
    assert isinstance(problems, list)
    assert {p.code for p in problems} == {"overlap"}
    named: dict[str, set[str]] = {}
    for p in problems:
        agents = set(re.match(r"`([a-z-]+)` and `([a-z-]+)`", p.message).groups())
        for path in REPO_FILES:
            if re.search(rf"(?<![\w/]){re.escape(path)}(?![\w/])", p.message):
                named.setdefault(path, set()).update(agents)
    assert named == CONTESTED
    # The same pair of agents is reported once, with both of its files.
    assert len(problems) == 2


@pytest.mark.parametrize("form", FORMS)
def test_consolidated_plan_passes(form):
    p = preflight(body("consolidated", form), repo_paths=REPO_FILES)
    assert isinstance(p, Plan), p
    assert [(a.name, a.wave, a.after) for a in p.agents] == [
        ("security", 1, ()), ("architecture", 1, ()), ("arch-perf", 2, ()), ("testing", 2, ("arch-perf",)),
    ]
    assert "broker/api/directives.py" not in p.agent("security").territory
    assert "broker/api/directives.py" in p.agent("arch-perf").territory
    # wave-2 arch-perf shares broker/safety/halt_store.py with wave-1 architecture: allowed, sequential
    assert concurrent_pairs(p) == [("security", "architecture")]


@pytest.mark.parametrize("name", ["first", "consolidated"])
def test_yaml_and_prose_forms_are_the_same_plan(name):
    y, p = parse_plan(body(name, "yaml")), parse_plan(body(name, "prose"))
    assert isinstance(y, Plan) and isinstance(p, Plan)
    assert (y.form, p.form) == ("yaml", "prose")
    assert meaning(y) == meaning(p)


@pytest.mark.parametrize("name", ["first", "consolidated"])
@pytest.mark.parametrize("form", FORMS)
def test_crlf_bodies_give_the_same_plan(name, form):
    assert parse_plan(body(name, form).replace("\n", "\r\n")) == parse_plan(body(name, form))
