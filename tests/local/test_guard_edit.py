"""``wavegate guard --tool-input -`` on the recorded pre-tool hook inputs of Claude Code and Codex
(``tests/fixtures/hooks/``): an edit inside the agent's territory passes (exit 0, silent), one
outside is refused with exit 2 and a message naming the owner, as both CLIs expect."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.local import hooks

from .conftest import Fleet

HOOKS = Path(__file__).resolve().parents[1] / "fixtures" / "hooks"
RECORDED_ROOT = "/home/user/project"

# fixture → (the agent whose territory holds every edited path, the paths as the repo names them)
EDITS = {
    "claude-code-write.json": ("api", ("src/api/tokens.py",)),
    "claude-code-edit.json": ("docs", ("docs/guide.md",)),
    "claude-code-multiedit.json": ("api", ("src/api/auth.py",)),
    "claude-code-notebookedit.json": ("docs", ("docs/notebooks/latency.ipynb",)),
    "codex-apply-patch-update.json": ("api", ("src/api/auth.py",)),
    "codex-apply-patch-add-move.json": ("docs", ("docs/tokens.md", "docs/guide.md", "docs/install.md")),
    "codex-bash-heredoc-patch.json": ("api", ("src/api/auth.py",)),
}
NOT_EDITS = ["claude-code-bash.json", "codex-bash.json"]
OTHER = {"api": "docs", "docs": "api"}


def recorded(name: str, root: Path) -> str:
    """The recorded hook input with its project root moved to ``root``."""
    return (HOOKS / name).read_text(encoding="utf-8").replace(RECORDED_ROOT, str(root))


def test_every_recorded_example_has_a_case_and_a_source():
    names = {p.name for p in HOOKS.glob("*.json")}
    assert names == set(EDITS) | set(NOT_EDITS)
    sources = (HOOKS / "SOURCES.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in sources for name in names)


@pytest.mark.parametrize("name", sorted(EDITS))
def test_parse_reads_every_path_the_edit_changes(name):
    pending = hooks.parse(recorded(name, Path("/r")))
    relative = tuple(str(Path(p)).removeprefix("/r/") for p in pending.paths)
    assert relative == EDITS[name][1]


@pytest.mark.parametrize("name", NOT_EDITS)
def test_tools_that_edit_no_file_have_no_paths(name):
    assert hooks.parse(recorded(name, Path("/r"))).paths == ()


@pytest.mark.parametrize("name", sorted(EDITS))
def test_an_edit_inside_the_territory_passes(fleet: Fleet, name):
    owner = EDITS[name][0]
    tree = fleet.worktree(owner)
    result = fleet.wavegate("guard", "--tool-input", "-", cwd=tree, stdin=recorded(name, tree))
    assert result.exit_code == 0, result.output
    assert result.output == ""


@pytest.mark.parametrize("name", sorted(EDITS))
def test_an_edit_outside_the_territory_is_refused_naming_the_owner(fleet: Fleet, name):
    owner, paths = EDITS[name]
    tree = fleet.worktree(OTHER[owner])
    result = fleet.wavegate("guard", "--tool-input", "-", cwd=tree, stdin=recorded(name, tree))
    assert result.exit_code == 2
    assert result.output.startswith(f"Wavegate refused this edit: `{OTHER[owner]}` may not change")
    for path in paths:
        assert f"- {path}: territory of `{owner}`" in result.output


@pytest.mark.parametrize("name", NOT_EDITS)
def test_a_tool_call_that_edits_no_file_passes(fleet: Fleet, name):
    tree = fleet.worktree("api")
    assert fleet.wavegate("guard", "--tool-input", "-", cwd=tree, stdin=recorded(name, tree)).exit_code == 0


def _write(path: Path, cwd: Path) -> str:
    return json.dumps({"hook_event_name": "PreToolUse", "cwd": str(cwd), "tool_name": "Write",
                       "tool_input": {"file_path": str(path), "content": "x"}})


def test_an_edit_in_another_agents_worktree_is_refused(fleet: Fleet):
    tree = fleet.worktree("api")
    target = fleet.worktree("docs") / "src" / "api" / "auth.py"  # own path, but someone else's checkout
    result = fleet.wavegate("guard", "--tool-input", "-", cwd=tree, stdin=_write(target, tree))
    assert result.exit_code == 2
    assert "in another working tree of this repository" in result.output


def test_the_fleet_files_are_refused_and_files_outside_the_repository_pass(fleet: Fleet, tmp_path):
    tree = fleet.worktree("api")
    refused = fleet.wavegate("guard", "--tool-input", "-", cwd=tree, stdin=_write(tree / ".wavegate/fleet.json", tree))
    assert refused.exit_code == 2
    assert ".wavegate/fleet.json: one of the fleet's own files" in refused.output
    scratch = tmp_path / "scratch" / "notes.md"
    assert fleet.wavegate("guard", "--tool-input", "-", cwd=tree, stdin=_write(scratch, tree)).exit_code == 0


def test_a_relative_path_counts_from_the_hook_cwd(fleet: Fleet):
    tree = fleet.worktree("api")
    edit = json.dumps({"cwd": str(tree / "src"), "tool_name": "Write",
                       "tool_input": {"file_path": "../docs/guide.md", "content": "x"}})
    result = fleet.wavegate("guard", "--tool-input", "-", cwd=tree, stdin=edit)
    assert result.exit_code == 2
    assert "- docs/guide.md: territory of `docs`" in result.output


@pytest.mark.parametrize("raw, why", [
    ("not json", "not JSON"),
    ("[]", "not a JSON object"),
    ('{"tool_input": {}}', "`tool_name` is missing"),
    ('{"tool_name": "Write", "tool_input": "x"}', "`tool_input` is missing or not an object"),
    ('{"tool_name": "Edit", "tool_input": {"old_string": "a"}}', "`tool_input.file_path` of Edit is missing"),
    ('{"tool_name": "apply_patch", "tool_input": {}}', "the patch text (`tool_input.command`) of apply_patch is missing"),
    ('{"tool_name": "apply_patch", "tool_input": {"command": "hello"}}', "the patch names no file"),
])
def test_unreadable_input_refuses_the_edit_and_says_why(fleet: Fleet, raw, why):
    result = fleet.wavegate("guard", "--tool-input", "-", cwd=fleet.worktree("api"), stdin=raw)
    assert result.exit_code == 2
    assert result.output.startswith("Wavegate refused this edit: it could not read the pending edit")
    assert why in result.output


def test_outside_a_fleet_worktree_the_guard_asks_for_plan_and_agent(fleet: Fleet):
    result = fleet.wavegate("guard", "--tool-input", "-", cwd=fleet.repo, stdin="{}")
    assert result.exit_code == 2
    assert "is not inside a worktree made by `wavegate worktrees`" in result.output


def test_plan_and_agent_can_be_given_explicitly(fleet: Fleet):
    edit = _write(fleet.repo / "docs" / "guide.md", fleet.repo)
    args = ("guard", "--plan", fleet.plan, "--tool-input", "-")
    assert fleet.wavegate(*args, "--agent", "docs", stdin=edit).exit_code == 0
    refused = fleet.wavegate(*args, "--agent", "api", stdin=edit)
    assert refused.exit_code == 2 and "territory of `docs`" in refused.output
    unknown = fleet.wavegate(*args, "--agent", "nobody", stdin=edit)
    assert unknown.exit_code == 2 and "no agent 'nobody' in the plan; agents: api, docs, readme" in unknown.output


def test_a_tampered_plan_snapshot_is_refused(fleet: Fleet):
    tree = fleet.worktree("api")
    snapshot = tree / ".wavegate" / "plan.json"
    snapshot.write_text(snapshot.read_text().replace('"docs/"', '"src/"'))
    result = fleet.wavegate("guard", "--tool-input", "-", cwd=tree, stdin=_write(tree / "docs/guide.md", tree))
    assert result.exit_code == 2
    assert "was changed after `wavegate worktrees` wrote it" in result.output


def test_the_hook_command_itself_refuses_with_exit_2_and_the_reason_on_stderr(fleet: Fleet):
    import subprocess
    import sys

    tree = fleet.worktree("docs")
    done = subprocess.run([sys.executable, "-m", "service.local", "guard", "--tool-input", "-"], cwd=tree,
                          input=recorded("codex-apply-patch-update.json", tree), capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stdout == ""
    assert "- src/api/auth.py: territory of `api`" in done.stderr


def test_the_hook_entry_hands_other_forms_to_the_guard_command(fleet: Fleet):
    import subprocess
    import sys

    edit = _write(fleet.repo / "docs" / "guide.md", fleet.repo)
    argv = [sys.executable, "-m", "service.local", "guard", "--plan", str(fleet.plan), "--agent", "api",
            "--tool-input", "-"]
    done = subprocess.run(argv, cwd=fleet.repo, input=edit, capture_output=True, text=True)
    assert done.returncode == 2
    assert "- docs/guide.md: territory of `docs`" in done.stderr


def test_the_hook_entry_refuses_outside_a_fleet_worktree(fleet: Fleet):
    import subprocess
    import sys

    argv = [sys.executable, "-m", "service.local", "guard", "--tool-input", "-"]
    done = subprocess.run(argv, cwd=fleet.repo, input="{}", capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.startswith("Wavegate refused this change: the territory check could not run:")


def test_the_settings_given_to_worktrees_reach_the_guard(tmp_path, git_env):
    from .conftest import make_repo

    made = make_repo(tmp_path)
    settings = tmp_path / "wavegate.yml"
    settings.write_text("protected: [setup.cfg]\nstrict: true\nbranch_prefix: fleet\n"
                        "launch:\n  via: comment\n  comment: \"@agent\"\n")
    created = made.wavegate("worktrees", made.plan, "--into", made.into, "--config", settings)
    assert created.exit_code == 0, created.output
    assert "new branch `fleet/1/api`" in created.output
    tree = made.worktree("api")
    for path, reason in (("setup.cfg", "protected by the repository settings"),
                         ("Makefile", "no agent owns it, and the plan is strict")):
        result = made.wavegate("guard", "--tool-input", "-", cwd=tree, stdin=_write(tree / path, tree))
        assert result.exit_code == 2, result.output
        assert f"- {path}: {reason}" in result.output
