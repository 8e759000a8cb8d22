"""The local fleet end to end in a temporary git repository: worktrees for a two-agent wave, the
commit and push hooks refusing paths outside the territory (naming the owner), wave-ordered
merges refusing crossing and waiting branches, and removal with and without ``--force``."""

from __future__ import annotations

import json
from pathlib import Path

from service.core import markers, report
from service.core.plan import parse_plan

from .conftest import Fleet, git, make_repo


def test_worktrees_put_each_agent_of_the_open_wave_on_the_apps_branch(fleet: Fleet):
    plan = parse_plan(fleet.plan.read_text())
    for name in ("api", "docs"):
        tree = fleet.worktree(name)
        assert git(tree, "branch", "--show-current").stdout.strip() == f"wavegate/7/{name}"
        prompt = report.dispatch_prompt(plan, name, 7, markers.plan_hash(plan))
        assert (tree / ".wavegate" / "PROMPT.md").read_text() == prompt
        # One empty commit on the base, as the App starts a branch; .wavegate/ is not git's business.
        assert git(tree, "log", "-1", "--format=%s").stdout.strip() == f"Start {name} (dispatch #7)"
        assert git(tree, "diff", "--name-only", "main...HEAD").stdout == ""
        assert git(tree, "status", "--porcelain").stdout == ""
    assert not fleet.worktree("readme").exists()  # wave 2 is not open yet


def test_a_second_run_reuses_every_worktree(fleet: Fleet):
    head = git(fleet.worktree("api"), "rev-parse", "HEAD").stdout
    again = fleet.wavegate("worktrees", fleet.plan, "--issue", "7", "--into", fleet.into)
    assert again.exit_code == 0, again.output
    assert again.output.count("already there") == 2
    assert "pre-commit hook" in again.output and "already installed" in again.output
    assert git(fleet.worktree("api"), "rev-parse", "HEAD").stdout == head


def test_the_commit_hook_refuses_a_path_of_another_agent_naming_it(fleet: Fleet):
    tree = fleet.worktree("api")
    fleet.write("api", "docs/guide.md", "# Guide\n\n## Installing\n")
    fleet.write("api", "src/api/auth.py", "def authenticate(request):\n    return False\n")
    git(tree, "add", "-A")
    refused = git(tree, "commit", "-q", "-m", "Cross into docs", check=False)
    assert refused.returncode == 1
    assert "docs/guide.md: territory of `docs`" in refused.stderr
    assert "src/api/auth.py" not in refused.stderr
    git(tree, "restore", "--staged", "docs/guide.md")
    accepted = git(tree, "commit", "-q", "-m", "Refuse every request", check=False)
    assert accepted.returncode == 0, accepted.stderr
    assert git(tree, "log", "-1", "--name-only", "--format=").stdout.split() == ["src/api/auth.py"]


def test_the_commit_hook_refuses_protected_and_forbidden_paths(fleet: Fleet):
    tree = fleet.worktree("docs")
    fleet.write("docs", ".github/workflows/ci.yml", "on: push\n")
    git(tree, "add", "-A")
    refused = git(tree, "commit", "-q", "-m", "Touch CI", check=False)
    assert refused.returncode == 1
    assert ".github/workflows/ci.yml: protected by the repository settings" in refused.stderr


def test_a_hand_edited_agent_in_the_fleet_state_is_refused(fleet: Fleet):
    tree = fleet.worktree("api")
    state = tree / ".wavegate" / "fleet.json"
    record = json.loads(state.read_text())
    state.write_text(json.dumps({**record, "agent": "docs"}))
    fleet.write("api", "docs/guide.md", "# Guide\n\n## Installing\n")
    git(tree, "add", "-A")
    refused = git(tree, "commit", "-q", "-m", "Cross into docs as docs", check=False)
    assert refused.returncode == 1
    assert "agent `docs` works on branch `wavegate/7/docs`, but branch `wavegate/7/api` is checked out " \
           "(the branch of agent `api`)" in refused.stderr
    state.write_text(json.dumps({**record, "issue": 8}))
    refused = git(tree, "commit", "-q", "-m", "Cross into docs under another issue", check=False)
    assert refused.returncode == 1 and "works on branch `wavegate/8/api`" in refused.stderr


def test_a_worktree_switched_to_another_agents_branch_is_refused(fleet: Fleet):
    tree = fleet.worktree("api")
    git(tree, "checkout", "-q", "-b", "wavegate/7/other")
    fleet.write("api", "src/api/auth.py", "def authenticate(request):\n    return False\n")
    git(tree, "add", "-A")
    refused = git(tree, "commit", "-q", "-m", "Own change on a stray branch", check=False)
    assert refused.returncode == 1 and "branch `wavegate/7/other` is checked out" in refused.stderr


def test_unowned_paths_pass_with_a_notice_when_the_plan_is_not_strict(fleet: Fleet):
    tree = fleet.worktree("docs")
    fleet.write("docs", "setup.cfg", "[metadata]\nname = x\n")
    git(tree, "add", "-A")
    done = git(tree, "commit", "-q", "-m", "Name the package", check=False)
    assert done.returncode == 0, done.stderr
    assert "no agent owns (setup.cfg)" in done.stderr


def test_the_push_hook_checks_every_commit_being_pushed(fleet: Fleet, tmp_path):
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(fleet.repo, "push", "-q", str(remote), "main")
    tree = fleet.worktree("api")
    fleet.write("api", "src/api/auth.py", "def authenticate(request):\n    return False\n")
    git(tree, "commit", "-q", "-am", "Own change")
    fleet.write("api", "docs/guide.md", "# Guide\n")
    git(tree, "commit", "-q", "--no-verify", "-am", "Crossing, past the commit hook")
    refused = git(tree, "push", "-q", str(remote), "HEAD", check=False)
    assert refused.returncode != 0
    assert "docs/guide.md: territory of `docs`" in refused.stderr
    assert "src/api/auth.py" not in refused.stderr
    git(tree, "reset", "-q", "--hard", "HEAD~1")
    accepted = git(tree, "push", "-q", str(remote), "HEAD", check=False)
    assert accepted.returncode == 0, accepted.stderr


def _commit(fleet: Fleet, agent: str, path: str, text: str, verify: bool = True) -> None:
    fleet.write(agent, path, text)
    git(fleet.worktree(agent), "add", "-A")
    git(fleet.worktree(agent), "commit", "-q", *([] if verify else ["--no-verify"]), "-m", f"Change {path}")


def test_merge_wave_1_merges_in_plan_order_and_refuses_a_crossing_branch(fleet: Fleet):
    _commit(fleet, "api", "src/api/auth.py", "def authenticate(request):\n    return False\n")
    _commit(fleet, "docs", "src/api/auth.py", "# stolen\n", verify=False)
    result = fleet.wavegate("merge", fleet.plan, "--wave", "1", "--issue", "7")
    assert result.exit_code == 1, result.output
    assert "`api` (`wavegate/7/api`): merged" in result.output
    assert "`docs` (`wavegate/7/docs`): refused" in result.output
    assert "src/api/auth.py (territory of `api`)" in result.output
    assert (fleet.repo / "src/api/auth.py").read_text().endswith("return False\n")
    assert git(fleet.repo, "log", "-1", "--format=%s").stdout.strip() == "Merge wave 1 agent api (wavegate/7/api)"
    again = fleet.wavegate("merge", fleet.plan, "--wave", "1", "--issue", "7")
    assert "`api` (`wavegate/7/api`): already merged" in again.output


def test_merge_refuses_a_branch_whose_dependencies_are_not_merged(fleet: Fleet):
    opened = fleet.wavegate("worktrees", fleet.plan, "--issue", "7", "--into", fleet.into, "--wave", "2")
    assert opened.exit_code == 0, opened.output
    _commit(fleet, "readme", "README.md", "# Project, renamed\n")
    result = fleet.wavegate("merge", fleet.plan, "--wave", "2", "--issue", "7")
    assert result.exit_code == 1
    assert "`readme` (`wavegate/7/readme`): refused, waits for `api` and `docs` to merge first" in result.output
    assert (fleet.repo / "README.md").read_text() == "# Project\n"
    for agent in ("api", "docs"):
        _commit(fleet, agent, {"api": "src/api/x.py", "docs": "docs/x.md"}[agent], "x\n")
    assert fleet.wavegate("merge", fleet.plan, "--wave", "1", "--issue", "7").exit_code == 0
    merged = fleet.wavegate("merge", fleet.plan, "--wave", "2", "--issue", "7")
    assert merged.exit_code == 0, merged.output
    assert (fleet.repo / "README.md").read_text() == "# Project, renamed\n"


def test_merge_stops_at_the_first_conflict_naming_the_branch(fleet: Fleet):
    _commit(fleet, "api", "src/api/auth.py", "def authenticate(request):\n    return False\n")
    _commit(fleet, "docs", "docs/guide.md", "# Guide\n\n## Installing\n")
    (fleet.repo / "src/api/auth.py").write_text("def authenticate(request):\n    return None\n")
    git(fleet.repo, "commit", "-q", "-am", "Hotfix on the base")
    result = fleet.wavegate("merge", fleet.plan, "--wave", "1", "--issue", "7")
    assert result.exit_code == 1
    assert "`api` (`wavegate/7/api`): CONFLICT in src/api/auth.py" in result.output
    assert "`docs` (`wavegate/7/docs`): not tried" in result.output
    assert git(fleet.repo, "status", "--porcelain").stdout == ""  # the merge was aborted


def test_merge_needs_the_base_checked_out_and_clean(fleet: Fleet):
    (fleet.repo / "README.md").write_text("dirty\n")
    result = fleet.wavegate("merge", fleet.plan, "--wave", "1", "--issue", "7")
    assert result.exit_code == 1
    assert "has uncommitted changes" in result.output


def test_remove_refuses_uncommitted_work_unless_forced(fleet: Fleet):
    fleet.write("api", "src/api/draft.py", "pass\n")
    args = ("worktrees", fleet.plan, "--issue", "7", "--into", fleet.into, "--remove")
    refused = fleet.wavegate(*args)
    assert refused.exit_code == 1
    assert "`api` (wave 1)" in refused.output and "refused: 1 path uncommitted" in refused.output
    assert fleet.worktree("api").exists() and not fleet.worktree("docs").exists()
    forced = fleet.wavegate(*args, "--force")
    assert forced.exit_code == 0, forced.output
    assert not fleet.worktree("api").exists()
    assert git(fleet.repo, "branch", "--list", "wavegate/7/*").stdout.split() == ["wavegate/7/api", "wavegate/7/docs"]
    assert len(git(fleet.repo, "worktree", "list").stdout.splitlines()) == 1


def test_a_path_taken_by_something_else_is_refused_and_left_alone(tmp_path, git_env):
    made = make_repo(tmp_path)
    (made.into / "api").mkdir(parents=True)
    (made.into / "api" / "notes.txt").write_text("mine\n")
    result = made.wavegate("worktrees", made.plan, "--into", made.into)
    assert result.exit_code == 1
    assert "refused: " + str(made.into / "api") + " is already taken" in result.output
    assert (made.into / "api" / "notes.txt").read_text() == "mine\n"
    assert (made.into / "docs" / ".wavegate" / "PROMPT.md").exists()


def test_a_foreign_hook_is_left_alone_and_reported(tmp_path, git_env):
    made = make_repo(tmp_path)
    hook = made.repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nexit 0\n")
    result = made.wavegate("worktrees", made.plan, "--into", made.into)
    assert result.exit_code == 1
    assert "pre-commit hook" in result.output and "NOT installed" in result.output
    assert hook.read_text() == "#!/bin/sh\nexit 0\n"


def test_a_plan_with_problems_creates_nothing(tmp_path, git_env):
    made = make_repo(tmp_path, plan="```yaml dispatch\nagents:\n  - name: a\n    territory: [docs/]\n"
                                   "  - name: b\n    territory: [docs/guide.md]\n```\n")
    result = made.wavegate("worktrees", made.plan, "--into", made.into)
    assert result.exit_code == 1
    assert result.output.startswith("Pre-flight failed")
    assert not Path(made.into).exists()
