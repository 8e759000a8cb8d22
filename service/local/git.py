"""The one way the local fleet runs git: ``git -C DIR ARGS`` without a shell, bytes in and out,
errors as ``GitError`` carrying git's own message."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

TIMEOUT_S = 120


class GitError(Exception):
    """git could not be run, or exited non-zero; the message is git's stderr (or the reason it
    could not start), never the environment."""

    def __init__(self, message: str, returncode: int | None = None) -> None:
        super().__init__(message)
        self.returncode = returncode


def run(cwd: Path | str, *args: str, stdin: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    """``git -C cwd args…``; raises ``GitError`` on a non-zero exit when ``check`` (else returns
    the completed process), and when git cannot be started or runs past ``TIMEOUT_S`` seconds."""
    try:
        done = subprocess.run(["git", "-C", str(cwd), *args], input=stdin, capture_output=True,
                              timeout=TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise GitError(f"cannot run git: {error}") from None
    if check and done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip() or f"git {args[0]} exited with {done.returncode}"
        raise GitError(message, done.returncode)
    return done


def text(cwd: Path | str, *args: str) -> str:
    """git's standard output as text, trailing newline removed."""
    return run(cwd, *args).stdout.decode("utf-8", "replace").rstrip("\n")


def paths(cwd: Path | str, *args: str) -> list[str]:
    """The NUL-separated paths a ``-z`` git command prints (``diff --name-only -z`` …)."""
    out = run(cwd, *args).stdout.decode("utf-8", "surrogateescape")
    return [p for p in out.split("\0") if p]


def ok(cwd: Path | str, *args: str) -> bool:
    """True when git exits 0 (``merge-base --is-ancestor``, ``show-ref --verify`` …)."""
    return run(cwd, *args, check=False).returncode == 0


def toplevel(cwd: Path | str) -> Path:
    """The root of the working tree containing ``cwd``."""
    return Path(text(cwd, "rev-parse", "--show-toplevel"))


def current_branch(cwd: Path | str) -> str | None:
    """The branch checked out in the working tree at ``cwd``, also while a rebase has detached
    HEAD (git keeps the branch's name in ``rebase-merge/`` or ``rebase-apply/head-name``);
    None on a detached HEAD outside a rebase."""
    done = run(cwd, "symbolic-ref", "--quiet", "HEAD", check=False)
    ref = done.stdout.decode("utf-8", "surrogateescape").strip() if done.returncode == 0 else ""
    for folder in ("rebase-merge", "rebase-apply"):
        if ref:
            break
        head_name = Path(text(cwd, "rev-parse", "--path-format=absolute", "--git-path", f"{folder}/head-name"))
        ref = head_name.read_text(encoding="utf-8").strip() if head_name.is_file() else ""
    return ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else None


def branch_exists(cwd: Path | str, branch: str) -> bool:
    return ok(cwd, "show-ref", "--verify", "--quiet", f"refs/heads/{branch}")


def is_ancestor(cwd: Path | str, commit: str, of: str) -> bool:
    """``commit`` is reachable from ``of`` (already merged into it)."""
    return ok(cwd, "merge-base", "--is-ancestor", commit, of)


def worktrees(cwd: Path | str) -> list[tuple[Path, str | None]]:
    """Every working tree of the repository as ``(path, branch or None)``, the main one first
    (``git worktree list --porcelain``; a detached HEAD has no branch)."""
    out: list[tuple[Path, str | None]] = []
    for block in text(cwd, "worktree", "list", "--porcelain").split("\n\n"):
        fields = dict(line.partition(" ")[::2] for line in block.splitlines() if line)
        if "worktree" in fields:
            ref = fields.get("branch", "")
            out.append((Path(fields["worktree"]), ref.removeprefix("refs/heads/") if ref else None))
    return out


def status_count(cwd: Path | str) -> int:
    """How many paths ``git status --porcelain`` lists (modified, staged or untracked)."""
    return len([p for p in paths(cwd, "status", "--porcelain", "-z") if p])


def common_path(cwd: Path | str, name: str) -> Path:
    """``git rev-parse --git-path NAME`` as an absolute path (honours ``core.hooksPath`` for
    ``hooks``)."""
    found = Path(text(cwd, "rev-parse", "--git-path", name))
    return found if found.is_absolute() else (Path(cwd) / found)


def rev_list(cwd: Path | str, include: str, exclude: Sequence[str]) -> list[str]:
    """Non-merge commits reachable from ``include`` and from none of ``exclude``."""
    out = text(cwd, "rev-list", "--no-merges", include, *(f"^{e}" for e in exclude))
    return out.split() if out else []
