"""The ``wavegate`` command line on the reference plans (DESIGN §5, §6)."""

from __future__ import annotations

import json
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
        assert f"`{pattern}` — `{owner}` (wave" in constraints  # earlier agents: context
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


# --------------------------------------------------------------------------- stdin, --version, --json, typos


def block(yaml_text: str) -> str:
    return f"```yaml dispatch\n{yaml_text}\n```\n"


TYPOS = block("agents:\n  - name: a\n    territory: [servce/, service/webhok.py, Docs/]")


@pytest.fixture
def service_checkout(tmp_path) -> Path:
    for name in ("service/webhook.py", "service/routes.py", "docs/design.md", "README.md"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("", encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "-A"], check=True)
    return tmp_path


def test_check_and_prompt_read_standard_input():
    body = (PLANS / CONSOLIDATED[0]).read_text(encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "-"], input=body)
    assert result.exit_code == 0 and "Pre-flight passed" in result.output
    result = CliRunner().invoke(main, ["prompt", "-", "testing"], input=body)
    assert result.exit_code == 0 and "### Scope" in result.output


def test_version():
    result = run("--version")
    assert result.exit_code == 0 and result.output.startswith("wavegate ")


def test_typos_are_warnings_with_did_you_mean_and_exit_0(service_checkout):
    result = CliRunner().invoke(main, ["check", "-", "--repo", str(service_checkout)], input=TYPOS)
    assert result.exit_code == 0, result.output
    assert "3 warnings" in result.output and "Pre-flight passed" in result.output
    for wrong, right in (("servce/", "service/"), ("service/webhok.py", "service/webhook.py"), ("Docs/", "docs/")):
        assert f"`{wrong}` matches no file of the repository; did you mean `{right}`?" in result.output


def test_check_json_has_a_versioned_shape(service_checkout):
    result = CliRunner().invoke(main, ["check", "-", "--json", "--repo", str(service_checkout)], input=TYPOS)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert (doc["format"], doc["version"], doc["passed"]) == ("wavegate-check", 1, True)
    assert doc["plan"]["agents"][0]["territory"] == ["servce/", "service/webhok.py", "Docs/"]
    assert [w["suggestion"] for w in doc["warnings"]] == ["service/", "service/webhook.py", "docs/"]
    assert doc["problems"] == []


def test_check_json_of_a_refused_plan_exits_1():
    result = run("check", PLANS / FIRST[0], "--json")
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert doc["passed"] is False and doc["plan"]["agents"][0]["name"] == "security"
    assert {p["code"] for p in doc["problems"]} == {"overlap"}


def test_repo_config_is_read_from_the_checkout_unless_config_is_given(service_checkout, tmp_path_factory):
    (service_checkout / ".github").mkdir()
    (service_checkout / ".github" / "wavegate.yml").write_text("protected: [docs/]\n", encoding="utf-8")
    body = block("agents:\n  - name: a\n    territory: [docs/]")
    result = CliRunner().invoke(main, ["check", "-", "--repo", str(service_checkout)], input=body)
    assert result.exit_code == 1 and "`docs/` (protected)" in result.output
    other = tmp_path_factory.mktemp("config") / "wavegate.yml"
    other.write_text("protected: []\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "-", "--repo", str(service_checkout), "--config", str(other)],
                                input=body)
    assert result.exit_code == 0, result.output


def test_prompt_reads_the_checkouts_settings_unless_config_is_given(service_checkout, tmp_path_factory):
    (service_checkout / ".github").mkdir()
    (service_checkout / ".github" / "wavegate.yml").write_text("protected: [docs/x/]\nbranch_prefix: agents\n",
                                                                encoding="utf-8")
    body = block("agents:\n  - name: a\n    territory: [docs/]")
    result = CliRunner().invoke(main, ["prompt", "-", "a", "--issue", "4", "--repo", str(service_checkout)], input=body)
    assert result.exit_code == 0, result.output
    assert "- `docs/` except `docs/x/`" in result.output and "`agents/4/a`" in result.output
    other = tmp_path_factory.mktemp("config") / "wavegate.yml"
    other.write_text("protected: []\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["prompt", "-", "a", "--repo", str(service_checkout), "--config", str(other)],
                                input=body)
    assert result.exit_code == 0 and "- `docs/`\n" in result.output and "`wavegate/1/a`" in result.output


@pytest.mark.parametrize("name", ["globs-by-extension.md", "exclusions.md", "nested-waves.md"])
def test_plans_as_coordinators_write_them_pass(name):
    result = run("check", PLANS / name)
    assert result.exit_code == 0, result.output
    assert "Pre-flight passed" in result.output


def test_exceptions_show_in_the_prompt():
    result = run("prompt", PLANS / "exclusions.md", "api")
    assert "- `lib/` except `lib/generated/`" in result.output
    result = run("prompt", PLANS / "exclusions.md", "src")
    assert "- `src/` except `src/gen/`" in result.output


def test_the_wave_one_prompt_of_nested_folders_does_not_contradict_itself():
    out = run("prompt", PLANS / "nested-waves.md", "core").output
    assert "`lib/`" not in out.split("DO NOT MODIFY:")[1].split("Other agents'")[0]
    assert "- `lib/` — `followup` (wave 2, after you); where it meets your `lib/core/`, your scope wins" in out


def test_a_nested_glob_is_refused_with_a_plausible_or_a_real_witness(tmp_path):
    result = run("check", PLANS / "nested-glob.md")
    assert result.exit_code == 1 and "src/api/a.py (through `src/**/*.py` and `src/api/`)" in result.output
    for name in ("src/api/routes.py", "src/main.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("", encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "-A"], check=True)
    result = run("check", PLANS / "nested-glob.md", "--repo", tmp_path)
    assert result.exit_code == 1 and "src/api/routes.py" in result.output and "a.py" not in result.output


def test_the_typo_plan_warns_about_each_pattern(service_checkout):
    result = run("check", PLANS / "typos.md", "--repo", service_checkout)
    assert result.exit_code == 0, result.output
    for wrong, right in (("servce/", "service/"), ("service/webhok.py", "service/webhook.py"), ("Docs/", "docs/")):
        assert f"`{wrong}` matches no file of the repository; did you mean `{right}`?" in result.output
