"""The ``wavegate`` command line (DESIGN §5): run the pre-flight on a dispatch issue saved as a
file, and print an agent's dispatch prompt, without GitHub.

Exit codes: 0 the plan is valid, 1 it has problems, 2 usage error (click's convention; a missing
or unreadable file is a usage error too).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click

from .core import markers, report
from .core.config import parse_config
from .core.model import Plan, Problem, RepoConfig, count_problems
from .core.plan import preflight

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _read(path: Path, what: str) -> str:
    # newline="" keeps \r\n as the web editor sends it, so reported line numbers match the issue.
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise click.BadParameter(f"cannot read {path}: {error}", param_hint=what) from error


def _config(path: Path | None) -> RepoConfig:
    if path is None:
        return RepoConfig()
    result = parse_config(_read(path, "--config"), path=str(path))
    if isinstance(result, RepoConfig):
        return result
    _print_problems(result, f"{path} has {_count(result)}:")
    sys.exit(1)


def _tracked_files(repo: Path) -> list[str]:
    """Tracked files of a git checkout (``git -C REPO ls-files -z``), repository-relative."""
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), "ls-files", "-z"], capture_output=True, check=False, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise click.BadParameter(f"cannot run git: {error}", param_hint="--repo") from error
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip() or f"git exited with {done.returncode}"
        raise click.BadParameter(f"{repo} is not a git checkout: {message}", param_hint="--repo")
    return [p for p in done.stdout.decode("utf-8", "replace").split("\0") if p]


def _count(problems: list[Problem]) -> str:
    total = count_problems(problems)
    return f"{total} problem" + ("" if total == 1 else "s")


def _print_problems(problems: list[Problem], header: str) -> None:
    click.echo(header)
    for line in report.problems_text(problems).splitlines():
        click.echo(f"  {line}")


def _plan_or_exit(issue: Path, config: RepoConfig, repo_paths: list[str]) -> Plan:
    result = preflight(_read(issue, "ISSUE"), config, repo_paths)
    if isinstance(result, Plan):
        return result
    _print_problems(result, f"Pre-flight failed: {_count(result)}; nothing would be dispatched.")
    sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Wavegate: dispatch plans for parallel agents, checked before anything is created."""


@main.command()
@click.argument("issue", type=_FILE)
@click.option("--repo", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A git checkout whose tracked files are preferred as overlap witnesses.")
@click.option("--config", "config_file", type=_FILE, help="A wavegate.yml with the repository settings.")
def check(issue: Path, repo: Path | None, config_file: Path | None) -> None:
    """Run the pre-flight on ISSUE (a dispatch issue body saved as a file): print the plan by wave
    and every problem. Exit 0 when the plan is valid, 1 when it has problems."""
    config = _config(config_file)
    repo_paths = _tracked_files(repo) if repo else []
    plan = _plan_or_exit(issue, config, repo_paths)
    click.echo(report.plan_text(plan), nl=False)
    click.echo("Pre-flight passed: no two concurrent agents share a file.")


@main.command()
@click.argument("issue", type=_FILE)
@click.argument("agent")
@click.option("--issue", "number", type=click.IntRange(min=1), default=1, show_default=True,
              help="The dispatch issue number shown in the prompt and its branch name.")
@click.option("--config", "config_file", type=_FILE, help="A wavegate.yml with the repository settings.")
def prompt(issue: Path, agent: str, number: int, config_file: Path | None) -> None:
    """Print AGENT's dispatch prompt (its PR body) from the plan in ISSUE."""
    config = _config(config_file)
    plan = _plan_or_exit(issue, config, [])
    if plan.agent(agent) is None:
        raise click.BadParameter(
            f"no agent {agent!r} in the plan; agents: {', '.join(plan.names)}", param_hint="AGENT"
        )
    click.echo(report.dispatch_prompt(plan, agent, number, markers.plan_hash(plan), config), nl=False)


if __name__ == "__main__":  # pragma: no cover
    main()
from .cli_local import LOCAL_COMMANDS  # noqa: E402, I001  (the local fleet: worktrees, guard, merge)
for _command in LOCAL_COMMANDS: main.add_command(_command)  # noqa: E701
from .cli_plan import plan_command; main.add_command(plan_command)  # noqa: E402, E702, I001
