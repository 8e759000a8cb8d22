"""``wavegate worktrees``, ``wavegate guard`` and ``wavegate merge``: a local fleet of agents, one
git worktree each, held to the same territories as the App, without GitHub (docs/local-fleet.md).

Exit codes: 0 done, 1 refused (a commit, push or merge outside the rules, a worktree step
refused), 2 usage error; ``guard --tool-input`` exits 2 to refuse an edit, as agent CLIs expect
of a pre-tool hook. Imports stay inside the commands: ``guard`` runs on every commit and every
agent edit: its hooks run ``python -m service.local guard``, which starts without click.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # imported lazily at run time: the guard starts on every commit
    from .core.report_local import HookOutcome

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_DIR = click.Path(exists=True, file_okay=False, path_type=Path)


def _fleet(issue_file: Path, repo: Path, into: Path | None, issue: int, config_file: Path | None, base: str | None):
    """The plan (pre-flight passed, else exit 1 with the problems) placed in ``repo``."""
    from .cli import _config, _plan_or_exit, _tracked_files
    from .core.report_local import unknown_base
    from .local import git
    from .local.worktrees import Fleet

    try:
        root = git.toplevel(repo)
    except git.GitError as error:
        raise click.BadParameter(f"{repo} is not a git checkout: {error}", param_hint="--repo") from None
    config = _config(config_file)
    plan, _found = _plan_or_exit(issue_file, config, _tracked_files(root))
    branch = base or plan.base or _current_branch(root)
    if not git.ok(root, "rev-parse", "--verify", "--quiet", f"{branch}^{{commit}}"):
        raise click.UsageError(unknown_base(branch))
    into = into or root.parent / f"{root.name}-wavegate-{issue}"
    return Fleet(root, into.resolve(), issue, branch, plan, config)


def _current_branch(root: Path) -> str:
    from .core.report_local import no_base_named
    from .local import git

    try:
        return git.text(root, "symbolic-ref", "--short", "HEAD")
    except git.GitError:
        raise click.UsageError(no_base_named()) from None


def _wave_agents(fleet, wave: int | None, default_open: bool):
    from .core.report_local import no_open_wave, no_such_wave
    from .local.worktrees import open_wave

    if wave is None and default_open:
        wave = open_wave(fleet.repo, fleet)
        if wave is None:
            raise click.UsageError(no_open_wave())
    if wave is not None and wave not in fleet.plan.waves:
        raise click.UsageError(no_such_wave(wave, fleet.plan.waves))
    return [a for a in fleet.plan.agents if wave is None or a.wave == wave]


_common = [
    click.option("--repo", type=_DIR, default=Path("."), show_default=True, help="The repository (any checkout of it)."),
    click.option("--issue", "number", type=click.IntRange(min=1), default=1, show_default=True,
                 help="The dispatch issue number, as in the App's branch names wavegate/<issue>/<agent>."),
    click.option("--config", "config_file", type=_FILE, help="A wavegate.yml with the repository settings."),
    click.option("--base", help="The base branch when the plan names none [default: the checked-out branch]."),
]


def _with_common(command):
    for option in reversed(_common):
        command = option(command)
    return command


@click.command()
@click.argument("issue", type=_FILE)
@click.option("--wave", type=click.IntRange(min=1), help="The wave [default: the first not merged yet; "
              "with --remove: every wave].")
@click.option("--into", type=click.Path(file_okay=False, path_type=Path),
              help="Where the worktrees go, one folder per agent [default: ../<repo>-wavegate-<issue>].")
@click.option("--remove", is_flag=True, help="Remove the worktrees instead (their branches are kept).")
@click.option("--force", is_flag=True, help="With --remove: also remove worktrees with uncommitted work, discarding it.")
@_with_common
def worktrees(issue: Path, wave: int | None, into: Path | None, remove: bool, force: bool, repo: Path,
              number: int, config_file: Path | None, base: str | None) -> None:
    """One git worktree per agent of a wave of the plan in ISSUE, on the agent's branch, with its
    dispatch prompt in .wavegate/PROMPT.md and hooks that refuse commits and pushes outside its
    territory. Idempotent: a second run reuses what exists."""
    from .core.report_local import worktrees_text
    from .local import worktrees as local
    from .local.git import GitError

    fleet = _fleet(issue, repo, into, number, config_file, base)
    agents = _wave_agents(fleet, wave, default_open=not remove)
    hooks: list[HookOutcome] = []
    try:
        if remove:
            outcomes = local.remove(fleet, agents, force)
        else:
            outcomes, hooks = local.create(fleet, agents)
    except GitError as error:
        raise click.ClickException(str(error)) from None
    click.echo(worktrees_text(outcomes, hooks, fleet.base, local.guard_command()), nl=False)
    refused = [o.refused for o in outcomes] + [h.refused for h in hooks]
    sys.exit(1 if any(refused) else 0)


def _target(plan_file: Path | None, agent: str | None, config_file: Path | None):
    """Whom to judge: ``.wavegate/`` of the worktree around the current directory, overridden
    by ``--plan`` / ``--agent`` / ``--config``."""
    from .local import git, state
    from .local.guard import Target

    found = None
    try:
        found = state.read(Path.cwd())
    except state.FleetStateError as error:
        if plan_file is None or agent is None:
            raise click.UsageError(str(error)) from None
    try:
        root = found.root if found else git.toplevel(Path.cwd())
    except git.GitError as error:
        raise click.UsageError(f"{Path.cwd()} is not a git checkout: {error}") from None
    config = found.config if found else None
    if config_file is not None or config is None:
        from .cli import _config

        config = _config(config_file)
    plan = found.plan if found and plan_file is None else _parse_plan(plan_file)
    name = agent or (found.agent if found else "")
    if plan.agent(name) is None:
        raise click.UsageError(f"no agent {name!r} in the plan; agents: {', '.join(plan.names)}")
    return Target(root, name, plan, config, found.base if found else None)


def _parse_plan(plan_file: Path | None):
    from .cli import _print_problems, _read
    from .core.model import Plan
    from .core.plan import parse_plan

    assert plan_file is not None
    result = parse_plan(_read(plan_file, "--plan"))
    if isinstance(result, Plan):
        return result
    _print_problems(result, f"{plan_file} has no valid plan:")
    sys.exit(2)


@click.command()
@click.option("--plan", "plan_file", type=_FILE, help="The plan [default: the worktree's .wavegate/ snapshot].")
@click.option("--agent", help="The agent [default: the worktree's agent].")
@click.option("--config", "config_file", type=_FILE, help="A wavegate.yml with the repository settings.")
@click.option("--hook", type=click.Choice(["pre-commit", "pre-push"]), default="pre-commit", show_default=True,
              help="What to check: the staged changes, or the commits git is about to push (refs on stdin).")
@click.option("--tool-input", "tool_input", metavar="FILE|-",
              help="Check a coding agent's pending edit instead: its pre-tool hook JSON (- for stdin).")
@click.argument("hook_args", nargs=-1, required=False)
def guard(plan_file: Path | None, agent: str | None, config_file: Path | None, hook: str,
          tool_input: str | None, hook_args: tuple[str, ...]) -> None:
    """Refuse changes outside the agent's territory, naming each path and its owner: the staged
    changes (pre-commit hook), the commits being pushed (pre-push hook), or a coding agent's
    pending edit (--tool-input -). Exit 1 when a commit or push is refused, 2 when an edit is."""
    del hook_args  # what git passes a pre-push hook (the remote's name and URL); the refs come on stdin
    from .local import guard as local
    from .local.git import GitError

    target = _target(plan_file, agent, config_file)
    try:
        if tool_input is not None:
            raw = sys.stdin.buffer.read() if tool_input == "-" else Path(tool_input).read_bytes()
            code, text = local.verdict_for_edit(target, raw, Path.cwd())
        else:
            code, text = local.verdict_for_hook(target, hook, sys.stdin.read() if hook == "pre-push" else "")
    except (GitError, OSError) as error:
        from .core.report_local import guard_failed

        code, text = (2 if tool_input is not None else 1), guard_failed(str(error))
    click.echo(text, err=True, nl=False)
    sys.exit(code)


@click.command()
@click.argument("issue", type=_FILE)
@click.option("--wave", type=click.IntRange(min=1), required=True, help="The wave to merge.")
@_with_common
def merge(issue: Path, wave: int, repo: Path, number: int, config_file: Path | None, base: str | None) -> None:
    """Merge the agent branches of wave N into the base, in plan order, in the working tree that
    has the base checked out: a branch that crosses another agent's territory, or whose
    dependencies are not merged, is refused; the first conflict stops the run, naming the branch."""
    from .core.report_local import merge_text
    from .local.git import GitError
    from .local.merge import MergeRefused, merge_wave

    fleet = _fleet(issue, repo, None, number, config_file, base)
    _wave_agents(fleet, wave, default_open=False)
    try:
        steps = merge_wave(fleet, wave)
    except (MergeRefused, GitError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(merge_text(wave, fleet.base, steps), nl=False)
    sys.exit(1 if any(s.refused and s.action != "already-merged" for s in steps) else 0)


LOCAL_COMMANDS = (worktrees, guard, merge)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """The local fleet commands alone (what the fleet's git hooks run)."""


for _command in LOCAL_COMMANDS:
    main.add_command(_command)

if __name__ == "__main__":
    main()
