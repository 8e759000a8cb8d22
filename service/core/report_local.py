"""The local fleet's outcome records and every text it shows: ``wavegate worktrees``,
``wavegate guard`` (commit, push and pre-edit hooks) and ``wavegate merge``.

Pure: the records are filled by ``service.local`` from git and rendered here. Texts are plain
Markdown-flavoured text for a terminal or for a coding agent reading a refused edit; the
documents among them are pinned by ``tests/golden/local-*.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .model import PathKind, PathVerdict, TerritoryVerdict
from .report_format import code, join_names, plural

FLEET_DIR = ".wavegate"
HOOK_MARKER = "# wavegate fleet hook"
LIST_LIMIT = 50


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class WorktreeOutcome:
    """What ``wavegate worktrees`` did for one agent.

    ``action``: ``created`` (new branch from the base), ``attached`` (existing branch, new
    worktree), ``reused`` (worktree already there), ``removed``, ``absent`` (nothing to remove),
    or a refusal: ``path-taken`` (``detail`` = what occupies the path), ``branch-elsewhere``
    (``detail`` = the worktree that has the branch checked out), ``dirty`` (``detail`` = how
    many uncommitted paths), ``git-failed`` (``detail`` = git's message).
    """

    agent: str
    wave: int
    branch: str
    path: str
    action: str
    detail: str = ""

    @property
    def refused(self) -> bool:
        return self.action not in {"created", "attached", "reused", "removed", "absent"}


@dataclass(frozen=True)
class HookOutcome:
    """One git hook of the fleet: ``installed``, ``current`` (already ours) or ``foreign`` (a
    hook that is not Wavegate's is in the way and was left alone)."""

    name: str
    path: str
    action: str

    @property
    def refused(self) -> bool:
        return self.action == "foreign"


@dataclass(frozen=True)
class GuardResult:
    """``wavegate guard``'s decision for one commit, push or pending edit.

    ``mode``: ``commit``, ``push`` or ``edit``. ``verdict`` is the core's territory verdict over
    the repository paths; ``outside`` the paths that lie in another working tree of the
    repository (another agent's worktree or the main checkout); ``fleet_files`` the paths under
    ``.wavegate/``, which only ``wavegate worktrees`` writes.
    """

    agent: str
    mode: str
    verdict: TerritoryVerdict
    territory: tuple[str, ...] = ()
    outside: tuple[str, ...] = ()
    fleet_files: tuple[str, ...] = ()

    @property
    def refused(self) -> bool:
        return bool(self.verdict.offending or self.outside or self.fleet_files)


@dataclass(frozen=True)
class MergeStep:
    """What ``wavegate merge`` did with one agent's branch, in plan order.

    ``action``: ``merged``, ``already-merged``, ``missing`` (no branch), ``waiting``
    (``waiting_on`` = dependencies not merged into the base), ``crossing`` (``verdict`` says
    which paths), ``conflict`` (``files`` = the conflicting paths; the merge was aborted and the
    run stopped), ``failed`` (git refused before merging anything: ``detail`` says why) or
    ``not-tried`` (after a conflict or a failure).
    """

    agent: str
    branch: str
    action: str
    waiting_on: tuple[str, ...] = ()
    verdict: TerritoryVerdict | None = None
    files: tuple[str, ...] = ()
    detail: str = ""

    @property
    def refused(self) -> bool:
        return self.action not in {"merged", "already-merged"}


# --------------------------------------------------------------------------- worktrees


_WORKTREE_ACTION = {
    "created": "created, new branch {branch} from {base}",
    "attached": "created on the existing branch {branch}",
    "reused": "already there, on {branch}",
    "removed": "removed (branch {branch} kept)",
    "absent": "no worktree to remove",
    "path-taken": "refused: {path} is already taken ({detail}); move it away or choose another --into",
    "branch-elsewhere": "refused: {branch} is checked out in {detail}; remove that worktree or check out "
                        "another branch there",
    "dirty": "refused: {detail} uncommitted; commit them, or remove with --force to discard them",
    "git-failed": "refused: git said: {detail}",
}

_HOOK_ACTION = {
    "installed": "installed",
    "current": "already installed",
    "foreign": "NOT installed: another hook is there; add this line near its top: {line}",
}


def worktrees_text(
    outcomes: Sequence[WorktreeOutcome], hooks: Sequence[HookOutcome], base: str, hook_line: str
) -> str:
    """The report of ``wavegate worktrees`` (or ``--remove``): one line per agent with its
    worktree, then the hooks. ``base`` is the branch new agent branches start from;
    ``hook_line`` the command a foreign hook should run to guard the fleet."""
    lines = []
    for o in outcomes:
        what = _WORKTREE_ACTION.get(o.action, o.action).format(
            branch=code(o.branch), base=code(base), path=o.path, detail=o.detail)
        lines.append(f"- {code(o.agent)} (wave {o.wave}) {o.path}: {what}")
    for h in hooks:
        line = code(f'{hook_line} --hook {h.name} "$@" || exit 1')
        lines.append(f"- {h.name} hook {h.path}: " + _HOOK_ACTION[h.action].format(line=line))
    created = [o for o in outcomes if o.action in {"created", "attached", "reused"}]
    if created:
        lines += ["", f"Each worktree has its dispatch prompt in {FLEET_DIR}/PROMPT.md; commits and pushes "
                      "there are checked against its territory."]
    refused = sum(o.refused for o in outcomes) + sum(h.refused for h in hooks)
    if refused:
        lines += ["", f"{plural(refused, 'step')} refused; nothing else was changed for them."]
    return "\n".join(lines) + "\n"


def start_message(agent: str, issue: int) -> str:
    """The message of the empty commit every agent branch starts with (the App's own words when
    it creates the branch on GitHub)."""
    return f"Start {agent} (dispatch #{issue})"


# --------------------------------------------------------------------------- guard


def _path_reason(v: PathVerdict) -> str:
    if v.kind is PathKind.CROSSING:
        return f"territory of {code(v.owner or '?')}"
    if v.kind is PathKind.FORBIDDEN and v.source == "protected":
        return f"protected by the repository settings ({code(v.rule or '')})"
    if v.kind is PathKind.FORBIDDEN:
        return f"on your DO-NOT-MODIFY list ({code(v.rule or '')})"
    return "no agent owns it, and the plan is strict"


def _offending_lines(result: GuardResult) -> list[str]:
    lines = [f"- {v.path}: {_path_reason(v)}" for v in result.verdict.offending]
    lines += [f"- {p}: in another working tree of this repository" for p in result.outside]
    lines += [f"- {p}: one of the fleet's own files, written only by `wavegate worktrees`"
              for p in result.fleet_files]
    if len(lines) > LIST_LIMIT:
        lines = lines[:LIST_LIMIT] + [f"- … and {len(lines) - LIST_LIMIT} more"]
    return lines


_GUARD_HEAD = {
    "commit": "Wavegate refused this commit: {n} outside the territory of {agent}:",
    "push": "Wavegate refused this push: the commits being pushed change {n} outside the territory of {agent}:",
    "edit": "Wavegate refused this edit: {agent} may not change {n}:",
}

_GUARD_FIX = {
    "commit": "Unstage them (`git restore --staged PATH`) and leave them to their owners.",
    "push": "Move those changes out of the branch (for example `git rebase -i` and drop them) and leave "
            "them to their owners.",
    "edit": "Leave these files to their owners and continue with your own scope.",
}

_EXPANSIONS = ("Record what they need under a `## Scope expansions` heading in SCOPE-EXPANSIONS.md "
               "(always allowed) instead of changing them.")


def guard_refused(result: GuardResult) -> str:
    """Why a commit, push or edit was refused: every offending path with its owner (or why it is
    forbidden), the agent's territory, and what to do instead. Plain text."""
    offending = len(result.verdict.offending) + len(result.outside) + len(result.fleet_files)
    head = _GUARD_HEAD[result.mode].format(n=plural(offending, "path"), agent=code(result.agent))
    lines = [head, *_offending_lines(result), ""]
    if result.territory:
        lines.append(f"Your territory: {', '.join(code(p) for p in result.territory)}.")
    lines += [_GUARD_FIX[result.mode], _EXPANSIONS]
    return "\n".join(lines) + "\n"


def guard_notice(result: GuardResult) -> str:
    """A one-line notice for accepted changes that include paths no agent owns (non-strict
    plans), or ``""``."""
    unowned = result.verdict.notices
    if not unowned:
        return ""
    shown = join_names([p.path for p in unowned], limit=5)
    return f"Wavegate: {plural(len(unowned), 'path')} no agent owns ({shown}); allowed because the plan is not strict.\n"


def guard_unreadable(what: str, why: str) -> str:
    """The pending edit (or hook input) could not be read: the edit is refused, never let through."""
    return (f"Wavegate refused this edit: it could not read {what} ({why}). Nothing was changed; "
            "check how `wavegate guard --tool-input -` is wired into the agent (docs/local-fleet.md).\n")


def guard_failed(why: str) -> str:
    """The guard could not decide (no fleet state, git failed …): the change is refused."""
    return f"Wavegate refused this change: the territory check could not run: {why}\n"


def not_a_fleet_worktree(start: str) -> str:
    """``wavegate guard`` without ``--plan``/``--agent`` outside a fleet worktree."""
    return (f"{start} is not inside a worktree made by `wavegate worktrees` (no {FLEET_DIR}/fleet.json "
            "above it); pass --plan ISSUE.md and --agent NAME")


def wrong_branch(path: str, agent: str, expected: str | None, checked_out: str | None, owner: str | None) -> str:
    """``fleet.json`` names an agent whose branch is not the one checked out in the worktree
    (the file was edited, or the branch switched): the guard refuses to judge."""
    here = f"branch `{checked_out}` is checked out" if checked_out else "no branch is checked out (detached HEAD)"
    meant = f" (the branch of agent `{owner}`)" if owner else ""
    wanted = f"agent `{agent}` works on branch `{expected}`" if expected else f"the plan has no agent `{agent}`"
    return (f"{path} does not match this worktree: {wanted}, but {here}{meant}; check out the agent's "
            "branch, or run `wavegate worktrees` again to rewrite the worktree's state")


def stale_snapshot(path: str) -> str:
    """The plan snapshot of a worktree does not match its recorded hash."""
    return (f"{path} was changed after `wavegate worktrees` wrote it; run `wavegate worktrees` again "
            "to refresh the plan")


# --------------------------------------------------------------------------- merge


def _step_line(step: MergeStep) -> str:
    who = f"{code(step.agent)} ({code(step.branch)})"
    if step.action == "merged":
        return f"- {who}: merged"
    if step.action == "already-merged":
        return f"- {who}: already merged"
    if step.action == "missing":
        return f"- {who}: refused, the branch does not exist"
    if step.action == "waiting":
        return f"- {who}: refused, waits for {join_names([code(a) for a in step.waiting_on])} to merge first"
    if step.action == "crossing":
        assert step.verdict is not None
        paths = [f"{v.path} ({_path_reason(v)})" for v in step.verdict.offending]
        return f"- {who}: refused, it changes {plural(len(paths), 'path')} outside its territory: " + \
            join_names(paths, limit=10)
    if step.action == "conflict":
        return f"- {who}: CONFLICT in {join_names(step.files, limit=10) or 'the merge'}; the merge was " \
               "aborted and the run stopped here"
    if step.action == "failed":
        return f"- {who}: git could not merge it ({step.detail}); the run stopped here"
    return f"- {who}: not tried (the run stopped before it)"


def merge_text(wave: int, base: str, steps: Sequence[MergeStep]) -> str:
    """The report of ``wavegate merge --wave N``: one line per agent of the wave in plan order,
    then a summary."""
    lines = [f"Wave {wave} into {code(base)}:", *(_step_line(s) for s in steps), ""]
    merged = sum(s.action == "merged" for s in steps)
    refused = sum(s.refused for s in steps)
    if not steps:
        lines.append(f"Wave {wave} has no agents.")
    elif refused:
        lines.append(f"{plural(merged, 'branch', 'branches')} merged, {refused} refused or not tried.")
    else:
        lines.append(f"Wave {wave} is merged: {plural(merged, 'branch', 'branches')} merged now.")
    return "\n".join(lines) + "\n"


def merge_message(agent: str, wave: int, branch: str) -> str:
    """The merge commit's message for one agent branch."""
    return f"Merge wave {wave} agent {agent} ({branch})"


def no_base_checkout(base: str) -> str:
    return (f"no working tree of this repository has {base} checked out; check it out in one "
            "(for example `git switch " + base + "` in the main checkout) and run again")


def base_dirty(base: str, path: str) -> str:
    return f"the working tree {path} (on {base}) has uncommitted changes; commit or stash them first"


def no_base_named() -> str:
    return "the plan names no base and the checkout is on no branch (a detached HEAD); pass --base BRANCH"


def unknown_base(base: str) -> str:
    return f"the base branch {base} does not exist in this repository"


def no_open_wave() -> str:
    return "every agent's branch is already merged into the base; pass --wave N to choose a wave"


def no_such_wave(wave: int, waves: Sequence[int]) -> str:
    return f"the plan has no wave {wave}; its waves: {', '.join(map(str, waves))}"
