"""``wavegate guard``: the paths a commit, a push or a pending edit would change, judged by the
core's territory classification for the worktree's agent (``classify_agent_pr``, the same
verdict as the App's ``wavegate/territory`` check: forbidden → own → crossing → unowned).

Kept lean on purpose (it runs on every commit and every agent edit): it imports the core's
model and territory matcher, never the plan parser, unless ``--plan`` names a file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..core.model import ChangedFile, ChangeSet, Plan, RepoConfig
from ..core.report_local import FLEET_DIR, GuardResult
from ..core.territory import classify_agent_pr
from . import git
from .hooks import PendingEdit

ZERO_SHA = frozenset("0")


@dataclass(frozen=True)
class Target:
    """Whom a guard run judges: the agent, its plan and settings, the worktree root, and the
    base branch (for pushes: commits already on it are not the agent's)."""

    root: Path
    agent: str
    plan: Plan
    config: RepoConfig
    base: str | None = None


def judge(target: Target, mode: str, paths: Iterable[str], outside: Sequence[str] = (),
          fleet_files: Sequence[str] = ()) -> GuardResult:
    """The decision for repository-relative ``paths`` (each counted once) plus the paths already
    found in another working tree or under ``.wavegate/``. Raises ``KeyError`` when the agent
    is not in the plan."""
    files = tuple(ChangedFile(p) for p in dict.fromkeys(paths))
    verdict = classify_agent_pr(target.plan, target.agent, ChangeSet(files), {}, target.config)
    agent = target.plan.agent(target.agent)
    territory = agent.territory if agent else ()
    return GuardResult(target.agent, mode, verdict, territory, tuple(outside), tuple(fleet_files))


def staged(target: Target) -> GuardResult:
    """The staged changes (``git diff --cached``), both sides of a rename counted (``--no-renames``
    lists a move as a deletion and an addition)."""
    return judge(target, "commit", git.paths(target.root, "diff", "--cached", "--name-only", "--no-renames", "-z"))


def _is_zero(sha: str) -> bool:
    return set(sha) <= ZERO_SHA


def pushed(target: Target, refs: str) -> GuardResult:
    """The changes of every non-merge commit being pushed. ``refs`` is what git hands the
    pre-push hook on stdin: lines ``<local ref> <local sha> <remote ref> <remote sha>``; a
    deleted ref pushes nothing, a new one pushes what the base does not have."""
    found: list[str] = []
    base_known = bool(target.base) and git.ok(target.root, "rev-parse", "--verify", "--quiet", f"{target.base}^{{commit}}")
    for line in refs.splitlines():
        fields = line.split()
        if len(fields) != 4 or _is_zero(fields[1]):
            continue
        # The remote's tip may be unknown here (pushed by someone else, not fetched): the base
        # still bounds the commits, and git would then refuse the push as non-fast-forward.
        known_remote = not _is_zero(fields[3]) and git.ok(target.root, "cat-file", "-e", f"{fields[3]}^{{commit}}")
        exclude = [fields[3]] if known_remote else []
        if base_known:
            exclude.append(str(target.base))
        found += git.paths(target.root, "log", "--no-merges", "--format=", "--name-only", "--no-renames", "-z",
                           fields[1], *(f"^{e}" for e in exclude))
    return judge(target, "push", found)


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def edit(target: Target, pending: PendingEdit, cwd: Path) -> GuardResult:
    """A pending edit: each path made repository-relative to the worktree root. A path in another
    working tree of the repository (another agent's worktree, the main checkout) or under
    ``.wavegate/`` is refused; a path outside every working tree is no repository change."""
    root = Path(os.path.realpath(target.root))
    base = Path(pending.cwd) if pending.cwd else cwd
    inside: list[str] = []
    outside: list[str] = []
    fleet: list[str] = []
    others: list[Path] | None = None
    for raw in pending.paths:
        path = Path(os.path.realpath(base / raw))
        if _within(path, root):
            rel = path.relative_to(root).as_posix()
            (fleet if _within(Path(rel), Path(FLEET_DIR)) else inside).append(rel)
            continue
        if others is None:
            others = [Path(os.path.realpath(p)) for p, _ in git.worktrees(root)]
        if any(_within(path, other) for other in others if other != root):
            outside.append(str(path))
    return judge(target, "edit", inside, outside, fleet)


def verdict_for_hook(target: Target, hook: str, refs: str = "") -> tuple[int, str]:
    """Run as git's ``pre-commit`` or ``pre-push`` hook: ``(exit code, text for stderr)``; 1 and
    the refusal when a path is outside the territory, else 0 and a notice (or nothing)."""
    from ..core.report_local import guard_notice, guard_refused

    result = pushed(target, refs) if hook == "pre-push" else staged(target)
    if result.refused:
        return 1, guard_refused(result)
    return 0, guard_notice(result)


def verdict_for_edit(target: Target, raw: bytes, cwd: Path) -> tuple[int, str]:
    """Run as a coding agent's pre-tool hook on its JSON input: ``(exit code, text for
    stderr)``; 2 and the reason (which the agent reads) when the edit is refused or its input
    cannot be read, else 0 and nothing."""
    from ..core.report_local import guard_refused, guard_unreadable
    from .hooks import HookInputError, parse

    try:
        pending = parse(raw)
    except HookInputError as error:
        return 2, guard_unreadable("the pending edit", str(error))
    result = edit(target, pending, cwd)
    return (2, guard_refused(result)) if result.refused else (0, "")
