"""``wavegate plan`` on the Principal Broker findings, against a real git checkout with history."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.cli import main
from service.cli_plan import commit_files

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FINDINGS = FIXTURES / "findings" / "principal-broker.md"
FILES = (FIXTURES / "plans" / "reference-repo-files.txt").read_text(encoding="utf-8").split()


def run(*args) -> object:
    return CliRunner().invoke(main, [str(a) for a in args])


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
                   check=True, capture_output=True)


def commit(root: Path, paths: list[str], message: str) -> None:
    for name in paths:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(message + "\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    """The reference repository, whose history changed the halt store and the directives together."""
    root = tmp_path_factory.mktemp("broker")
    git(root, "init", "-q")
    commit(root, FILES, "import")
    for i in range(3):
        commit(root, ["broker/safety/halt_store.py", "broker/api/directives.py"], f"connections {i}")
    commit(root, ["broker/api/auth.py"], "auth")
    return root


def test_the_proposal_passes_wavegate_check(checkout, tmp_path):
    result = run("plan", FINDINGS, "--repo", checkout)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("```yaml dispatch\n")
    issue = tmp_path / "issue.md"
    issue.write_text(result.output, encoding="utf-8")
    checked = run("check", issue, "--repo", checkout)
    assert checked.exit_code == 0, checked.output
    assert checked.output.endswith("Pre-flight passed: no two concurrent agents share a file.\n")


def test_the_checkout_resolves_references_and_keeps_files_changed_together(checkout):
    result = run("plan", FINDINGS, "--repo", checkout)
    out = result.output
    assert "references checked against the checkout" in out
    assert ("`broker/api/directives.py` and `broker/safety/halt_store.py` changed together in 4 commits"
            in out)
    assert "`tests/unit/test_kill_switch_api.py` is not a tracked file; kept (the agent may create it); did you mean" in out
    for path in ("broker/safety/halt_store.py", "broker/core/dispatcher.py", "broker/api/directives.py"):
        assert f"- `{path}`: findings from " in out


def test_json(checkout):
    result = run("plan", FINDINGS, "--repo", checkout, "--agents", "2", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["ok"] and data["plan"].startswith("```yaml dispatch")
    assert [(a["name"], a["wave"], a["after"]) for a in data["agents"]] == [
        ("security", 1, []), ("architecture", 1, []), ("arch-perf", 2, []), ("testing", 2, ["arch-perf"])]
    assert data["unplaced"] == [] and len(data["findings"]) == 18


def test_findings_without_files_propose_nothing(tmp_path):
    findings = tmp_path / "f.md"
    findings.write_text("- make it faster\n- make it safer\n", encoding="utf-8")
    result = run("plan", findings)
    assert result.exit_code == 1
    assert result.output.startswith("No plan proposed: no finding names a file an agent can own")


@pytest.mark.parametrize("args, message", [
    (["--agents", "0"], "0 is not in the range"),
    (["--repo", "."], "not a git checkout"),
])
def test_usage_errors(args, message, tmp_path):
    if args[0] == "--repo":
        args = ["--repo", tmp_path]
    result = run("plan", FINDINGS, *args)
    assert result.exit_code == 2 and message in result.output


def test_a_repository_without_commits_has_no_history(tmp_path):
    git(tmp_path, "init", "-q")
    assert commit_files(tmp_path) == ()


def test_history_lists_each_commits_files(checkout):
    history = commit_files(checkout)
    assert history[0] == ("broker/api/auth.py",)
    assert set(history[1]) == {"broker/safety/halt_store.py", "broker/api/directives.py"}
    assert len(history) == 5
