"""``wavegate worktrees``: one git worktree per agent of a wave, on the branch the App would
open (``markers.branch_name``), from the plan's base, with the agent's dispatch prompt and the
fleet's git hooks; ``--remove`` takes them away again. Both are idempotent.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..core import markers
from ..core.model import Agent, Plan, RepoConfig
from ..core.report import dispatch_prompt
from ..core.report_local import FLEET_DIR, HOOK_MARKER, HookOutcome, WorktreeOutcome, start_message
from . import git, state

HOOKS = ("pre-commit", "pre-push")
EXCLUDE_LINE = f"/{FLEET_DIR}/"


@dataclass(frozen=True)
class Fleet:
    """A plan placed in a repository: where worktrees go, which issue number names the branches,
    the base branch and the repository settings."""

    repo: Path
    into: Path
    issue: int
    base: str
    plan: Plan
    config: RepoConfig

    def branch(self, agent: Agent) -> str:
        return markers.branch_name(self.issue, agent, self.config.branch_prefix)

    def path(self, agent: Agent) -> Path:
        return self.into / agent.name


def guard_command() -> str:
    """The command the fleet's hooks run: this interpreter and the lean entry point
    (``service/local/__main__.py``), so a commit never pays for the App's imports."""
    return f'"{sys.executable}" -m service.local guard'


def _hook_script(name: str) -> str:
    hook_arg = f" --hook {name}"
    return (f"#!/bin/sh\n{HOOK_MARKER} ({name}): keeps each agent's worktree inside its territory.\n"
            f"[ -f {FLEET_DIR}/{state.STATE_FILE} ] || exit 0\n"
            f'exec {guard_command()}{hook_arg} "$@"\n')


def install_hooks(repo: Path) -> list[HookOutcome]:
    """The fleet's pre-commit and pre-push hooks in the repository's hooks folder (shared by
    every worktree; ``core.hooksPath`` honoured). They act only in a worktree with
    ``.wavegate/fleet.json``. A hook that is not Wavegate's is left alone and reported."""
    folder = git.common_path(repo, "hooks")
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name in HOOKS:
        path = folder / name
        script = _hook_script(name)
        if path.exists() and HOOK_MARKER not in path.read_text(encoding="utf-8", errors="replace"):
            out.append(HookOutcome(name, str(path), "foreign"))
            continue
        action = "current" if path.exists() and path.read_text(encoding="utf-8") == script else "installed"
        path.write_text(script, encoding="utf-8")
        path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        out.append(HookOutcome(name, str(path), action))
    return out


def exclude_fleet_folder(repo: Path) -> None:
    """``/.wavegate/`` in the repository's ``info/exclude``. git reads that file only from the
    common git directory (a linked worktree's own ``$GIT_DIR/info/exclude`` is ignored, checked
    with git 2.39), so the one entry serves every worktree and the main checkout."""
    path = git.common_path(repo, "info/exclude")
    path.parent.mkdir(parents=True, exist_ok=True)
    current = path.read_text(encoding="utf-8") if path.exists() else ""
    if EXCLUDE_LINE not in current.splitlines():
        path.write_text(current + ("" if current.endswith("\n") or not current else "\n") + EXCLUDE_LINE + "\n",
                        encoding="utf-8")


def _place(fleet: Fleet, agent: Agent, existing: dict[Path, str | None]) -> WorktreeOutcome:
    branch, path = fleet.branch(agent), fleet.path(agent)
    here = existing.get(Path(os.path.realpath(path)), "absent")
    where = next((p for p, b in existing.items() if b == branch), None)

    def outcome(action: str, detail: str = "") -> WorktreeOutcome:
        return WorktreeOutcome(agent.name, agent.wave, branch, str(path), action, detail)

    if here == branch:
        return outcome("reused")
    if here != "absent":
        return outcome("path-taken", f"a worktree on {here or 'a detached HEAD'}")
    if where is not None:
        return outcome("branch-elsewhere", str(where))
    if path.exists() and any(path.iterdir()):
        return outcome("path-taken", "a folder that is not a worktree")
    try:
        if git.branch_exists(fleet.repo, branch):
            git.run(fleet.repo, "worktree", "add", "--quiet", str(path), branch)
            return outcome("attached")
        start = _start_commit(fleet, agent)
        git.run(fleet.repo, "worktree", "add", "--quiet", "-b", branch, str(path), start)
    except git.GitError as error:
        return outcome("git-failed", str(error))
    return outcome("created")


def _start_commit(fleet: Fleet, agent: Agent) -> str:
    """One empty commit on the base, as the App starts every agent branch: the branch then differs
    from the base until it is merged, so "merged" always means merged (``git commit-tree``: no
    checkout and no hooks involved)."""
    tree = git.text(fleet.repo, "rev-parse", f"{fleet.base}^{{tree}}")
    message = start_message(agent.name, fleet.issue)
    return git.text(fleet.repo, "commit-tree", tree, "-p", fleet.base, "-m", message)


def _existing(repo: Path) -> dict[Path, str | None]:
    return {Path(os.path.realpath(p)): b for p, b in git.worktrees(repo)}


def create(fleet: Fleet, agents: Sequence[Agent]) -> tuple[list[WorktreeOutcome], list[HookOutcome]]:
    """A worktree per agent (reused when already there), each with its ``.wavegate/`` state and
    dispatch prompt; then the shared exclude entry and hooks."""
    exclude_fleet_folder(fleet.repo)
    fleet.into.mkdir(parents=True, exist_ok=True)
    existing = _existing(fleet.repo)
    digest = markers.plan_hash(fleet.plan)
    outcomes = []
    for agent in agents:
        done = _place(fleet, agent, existing)
        if not done.refused:
            prompt = dispatch_prompt(fleet.plan, agent.name, fleet.issue, digest, fleet.config)
            state.write(Path(done.path), agent.name, fleet.issue, fleet.base, fleet.plan, fleet.config, prompt)
        outcomes.append(done)
    return outcomes, install_hooks(fleet.repo)


def remove(fleet: Fleet, agents: Sequence[Agent], force: bool) -> list[WorktreeOutcome]:
    """Remove each agent's worktree (wherever it is checked out); its branch is kept. A worktree
    with uncommitted work is refused unless ``force``, which discards that work."""
    existing = _existing(fleet.repo)
    outcomes = []
    for agent in agents:
        branch = fleet.branch(agent)
        path = next((p for p, b in existing.items() if b == branch), None)
        if path is None:
            outcomes.append(WorktreeOutcome(agent.name, agent.wave, branch, str(fleet.path(agent)), "absent"))
            continue
        outcomes.append(_remove_one(fleet.repo, agent, branch, path, force))
    git.run(fleet.repo, "worktree", "prune")
    return outcomes


def _remove_one(repo: Path, agent: Agent, branch: str, path: Path, force: bool) -> WorktreeOutcome:
    def outcome(action: str, detail: str = "") -> WorktreeOutcome:
        return WorktreeOutcome(agent.name, agent.wave, branch, str(path), action, detail)

    try:
        dirty = git.status_count(path)
        if dirty and not force:
            return outcome("dirty", f"{dirty} path{'s' if dirty != 1 else ''}")
        git.run(repo, "worktree", "remove", *(["--force"] if force else []), str(path))
    except git.GitError as error:
        return outcome("git-failed", str(error))
    return outcome("removed")


def open_wave(repo: Path, fleet: Fleet) -> int | None:
    """The first wave with an agent whose branch is missing or not merged into the base."""
    for wave in fleet.plan.waves:
        for agent in (a for a in fleet.plan.agents if a.wave == wave):
            branch = fleet.branch(agent)
            if not git.branch_exists(repo, branch) or not git.is_ancestor(repo, branch, fleet.base):
                return wave
    return None
