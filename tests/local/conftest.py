"""A temporary git repository with a dispatch plan beside it, and git isolated from the machine's
configuration (identity set, no global or system config)."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from service.cli import main

PLAN = """Two agents in wave 1, one in wave 2.

```yaml dispatch
base: main
agents:
  - name: api
    territory: [src/api/]
  - name: docs
    territory: [docs/]
  - name: readme
    wave: 2
    territory: [README.md]
```
"""

FILES = {
    "src/api/auth.py": "def authenticate(request):\n    return True\n",
    "docs/guide.md": "# Guide\n\n## Install\n",
    "README.md": "# Project\n",
    "setup.cfg": "[metadata]\n",
}

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Fleet Test", "GIT_AUTHOR_EMAIL": "fleet@example.com",
    "GIT_COMMITTER_NAME": "Fleet Test", "GIT_COMMITTER_EMAIL": "fleet@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
    return done


@dataclass
class Fleet:
    """The repository, the plan file beside it, and where the worktrees go."""

    repo: Path
    plan: Path
    into: Path

    def wavegate(self, *args: str, cwd: Path | None = None, stdin: str | None = None) -> Result:
        """``wavegate ARGS`` (the real click group) run from ``cwd`` (default: the repository)."""
        before = Path.cwd()
        os.chdir(cwd or self.repo)
        try:
            return CliRunner().invoke(main, [str(a) for a in args], input=stdin)
        finally:
            os.chdir(before)

    def worktree(self, agent: str) -> Path:
        return self.into / agent

    def write(self, agent: str, path: str, text: str) -> None:
        target = self.worktree(agent) / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def make_repo(root: Path, plan: str = PLAN) -> Fleet:
    repo = root / "repo"
    for path, text in FILES.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text, encoding="utf-8")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Initial files")
    issue = root / "ISSUE.md"
    issue.write_text(plan, encoding="utf-8")
    return Fleet(repo, issue, root / "fleet")


@pytest.fixture
def git_env(monkeypatch, tmp_path):
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))


@pytest.fixture
def fleet(tmp_path, git_env) -> Fleet:
    """A repository with the plan, and the wave-1 worktrees of dispatch issue #7 created."""
    made = make_repo(tmp_path)
    result = made.wavegate("worktrees", made.plan, "--issue", "7", "--into", made.into)
    assert result.exit_code == 0, result.output
    return made
