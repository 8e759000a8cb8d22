"""The ``wavegate`` command line on the reference plans (DESIGN §5, §6)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.cli import main

PLANS = Path(__file__).resolve().parent / "fixtures" / "plans"
FIRST = ["reference-first.yaml.md", "reference-first.prose.md"]
CONSOLIDATED = ["reference-consolidated.yaml.md", "reference-consolidated.prose.md"]
# The files two agents of the first plan both claim, with the agents that claim them.
CONTESTED = {
    "broker/api/directives.py": ("security", "performance"),
    "broker/core/dispatcher.py": ("architecture", "performance"),
    "broker/safety/halt_store.py": ("architecture", "performance"),
}


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    """A git checkout holding the reference repository's files."""
    root = tmp_path_factory.mktemp("broker")
    for name in (PLANS / "reference-repo-files.txt").read_text(encoding="utf-8").split():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("", encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    return root


def problem_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("  line ")]


@pytest.mark.parametrize("name", FIRST)
def test_first_plan_with_the_checkout_names_every_contested_file(name, checkout):
    result = run("check", PLANS / name, "--repo", checkout)
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Pre-flight failed")
    for path, agents in CONTESTED.items():
        naming = [line for line in problem_lines(result.output) if path in line]
        assert any(all(f"`{a}`" in line for a in agents) for line in naming), f"{path}:\n{result.output}"


@pytest.mark.parametrize("name", FIRST)
def test_first_plan_alone_names_every_contested_file(name):
    # Without a checkout each meeting pattern pair contributes its shortest common path, so
    # territories of literal files name every contested file.
    result = run("check", PLANS / name)
    assert result.exit_code == 1, result.output
    for path, agents in CONTESTED.items():
        naming = [line for line in problem_lines(result.output) if path in line]
        assert any(all(f"`{a}`" in line for a in agents) for line in naming), f"{path}:\n{result.output}"


def test_yaml_and_prose_first_plans_give_the_same_problems():
    def problems(name):
        out = run("check", PLANS / name).output
        return sorted(line.split(":", 1)[1] for line in problem_lines(out))

    assert problems(FIRST[0]) == problems(FIRST[1])


@pytest.mark.parametrize("name", CONSOLIDATED)
def test_consolidated_plan_passes_and_prints_the_waves(name, checkout):
    result = run("check", PLANS / name, "--repo", checkout)
    assert result.exit_code == 0, result.output
    assert "wave 1: security (5 patterns), architecture (1 pattern)" in result.output
    assert "wave 2: arch-perf (4 patterns), testing (1 pattern, after arch-perf)" in result.output


def test_yaml_and_prose_consolidated_plans_print_the_same_waves():
    yaml, prose = (run("check", PLANS / n).output.replace("(prose form)", "(yaml form)") for n in CONSOLIDATED)
    assert yaml == prose


@pytest.mark.parametrize("name", CONSOLIDATED)
def test_prompt_prints_the_three_parts(name):
    result = run("prompt", PLANS / name, "testing", "--issue", "12")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.index("### Scope") < out.index("### Findings") < out.index("### Constraints")
    assert "- `tests/`" in out.split("### Findings")[0]
    constraints = out.split("DO NOT MODIFY:")[1]
    for owner, pattern in (
        ("security", "broker/api/auth.py"),
        ("architecture", "broker/safety/"),
        ("arch-perf", "broker/core/dispatcher.py"),
    ):
        assert f"`{pattern}` — owned by `{owner}`" in constraints
    assert "`wavegate/12/testing`" in out
    assert "<!-- wavegate issue=12 agent=testing plan=" in out


def test_prompts_of_both_forms_are_equal():
    yaml, prose = (run("prompt", PLANS / n, "security").output for n in CONSOLIDATED)
    assert yaml == prose


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["prompt", PLANS / CONSOLIDATED[0], "nobody"], "security, architecture, arch-perf, testing"),
        (["check", PLANS / "missing.md"], "does not exist"),
        (["check"], "Missing argument"),
        (["bogus"], "No such command"),
        (["check", PLANS / CONSOLIDATED[0], "--repo", PLANS], "not a git checkout"),
    ],
)
def test_usage_errors_exit_2(args, fragment, tmp_path):
    if "--repo" in args:
        args = [*args[:-1], tmp_path]  # a folder that is no git checkout
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert fragment in result.output


def test_prompt_of_an_invalid_plan_exits_1():
    result = run("prompt", PLANS / FIRST[0], "security")
    assert result.exit_code == 1 and "Pre-flight failed" in result.output


def test_config_protected_list_reaches_the_prompt(tmp_path):
    config = tmp_path / "wavegate.yml"
    config.write_text("protected:\n  - deploy/prod/\n", encoding="utf-8")
    result = run("prompt", PLANS / CONSOLIDATED[0], "testing", "--config", config)
    assert result.exit_code == 0, result.output
    assert "`deploy/prod/` — protected by the repository settings" in result.output


def test_config_problems_name_the_file_given(tmp_path):
    config = tmp_path / "bad.yml"
    config.write_text("label: ''\n", encoding="utf-8")
    result = run("check", PLANS / CONSOLIDATED[0], "--config", config)
    assert result.exit_code == 1
    assert f"{config}: `label` is empty" in result.output
    assert ".github/wavegate.yml" not in result.output


NEAR_MISS = (PLANS / "near-miss.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_near_miss_keys_are_listed_with_their_lines(newline, tmp_path):
    issue = tmp_path / "issue.md"
    issue.write_bytes(NEAR_MISS.replace("\n", newline).encode("utf-8"))
    result = run("check", issue)
    assert result.exit_code == 1, result.output
    lines = problem_lines(result.output)
    for expected in (
        "line 7: api: do-not-modify: unknown key `do-not-modify`; did you mean `do_not_modify`?",
        "line 10: web: Wave: unknown key `Wave`; did you mean `wave`?",
        "line 14: cli: teritory: unknown key `teritory`; did you mean `territory`?",
        "line 13: cli: territory: `territory` is required",
    ):
        assert any(line.strip().startswith(expected) for line in lines), result.output
