"""The ``wavegate`` command line (DESIGN §5): run the pre-flight on a dispatch issue saved as a
file (or ``-`` for standard input), and print an agent's dispatch prompt, without GitHub.

Exit codes: 0 the plan is valid (warnings do not count), 1 it has problems, 2 usage error
(click's convention; a missing or unreadable file is a usage error too).
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import click

from .core import markers, report
from .core.config import parse_config
from .core.model import Plan, PlanCheck, PlanWarning, Problem, RepoConfig, count_problems
from .core.plan import check_plan
from .core.report_json import check_json

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_ISSUE = click.Path(exists=True, dir_okay=False, path_type=Path, allow_dash=True)
CONFIG_IN_REPO = Path(".github") / "wavegate.yml"


def _version() -> str:
    try:
        return metadata.version("wavegate")
    except metadata.PackageNotFoundError:  # running from a checkout that is not installed
        return "unknown"


def _read(path: Path, what: str) -> str:
    # newline="" keeps \r\n as the web editor sends it, so reported line numbers match the issue;
    # standard input is read as bytes for the same reason.
    try:
        if str(path) == "-":
            return sys.stdin.buffer.read().decode("utf-8")
        with path.open(encoding="utf-8", newline="") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as error:
        source = "standard input" if str(path) == "-" else path
        raise click.BadParameter(f"cannot read {source}: {error}", param_hint=what) from error


def _config(path: Path | None, repo: Path | None = None) -> RepoConfig:
    """The settings of ``--config``, else of ``REPO/.github/wavegate.yml`` when it exists, else
    the defaults."""
    if path is None and repo is not None and (repo / CONFIG_IN_REPO).is_file():
        path = repo / CONFIG_IN_REPO
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


def _print_problems(problems: list[Problem] | list[PlanWarning], header: str) -> None:
    click.echo(header)
    for line in report.problems_text(problems).splitlines():
        click.echo(f"  {line}")


def _print_warnings(warnings: tuple[PlanWarning, ...]) -> None:
    if warnings:
        _print_problems(list(warnings), report.warnings_header(len(warnings)))


def _plan_or_exit(issue: Path, config: RepoConfig, repo_paths: list[str]) -> tuple[Plan, PlanCheck]:
    found = check_plan(_read(issue, "ISSUE"), config, repo_paths)
    if found.passed and found.plan is not None:
        return found.plan, found
    problems = list(found.problems)
    _print_problems(problems, f"Pre-flight failed: {_count(problems)}; nothing would be dispatched.")
    _print_warnings(found.warnings)
    sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), "--version", prog_name="wavegate", message="%(prog)s %(version)s")
def main() -> None:
    """Wavegate: dispatch plans for parallel agents, checked before anything is created."""


@main.command()
@click.argument("issue", type=_ISSUE)
@click.option("--repo", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A git checkout: its tracked files are preferred as overlap witnesses, patterns matching "
                   "none of them are warned about, and its .github/wavegate.yml is read unless --config is given.")
@click.option("--config", "config_file", type=_FILE, help="A wavegate.yml with the repository settings.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the plan, every problem and every warning as JSON (shape: docs/design.md, §5).")
def check(issue: Path, repo: Path | None, config_file: Path | None, as_json: bool) -> None:
    """Run the pre-flight on ISSUE (a dispatch issue body saved as a file, or - for standard input):
    print the plan by wave, every problem and every warning. Exit 0 when the plan is valid
    (warnings allowed), 1 when it has problems."""
    config = _config(config_file, repo)
    repo_paths = _tracked_files(repo) if repo else []
    if as_json:
        found = check_plan(_read(issue, "ISSUE"), config, repo_paths)
        click.echo(json.dumps(check_json(found), ensure_ascii=False, indent=2))
        sys.exit(0 if found.passed else 1)
    plan, found = _plan_or_exit(issue, config, repo_paths)
    click.echo(report.plan_text(plan), nl=False)
    _print_warnings(found.warnings)
    click.echo("Pre-flight passed: no two concurrent agents share a file.")


@main.command()
@click.argument("issue", type=_ISSUE)
@click.argument("agent")
@click.option("--issue", "number", type=click.IntRange(min=1), default=1, show_default=True,
              help="The dispatch issue number shown in the prompt and its branch name.")
@click.option("--repo", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A git checkout: its .github/wavegate.yml is read unless --config is given, and the "
                   "pre-flight runs against its tracked files, as `check --repo` does.")
@click.option("--config", "config_file", type=_FILE, help="A wavegate.yml with the repository settings.")
def prompt(issue: Path, agent: str, number: int, repo: Path | None, config_file: Path | None) -> None:
    """Print AGENT's dispatch prompt (its PR body) from the plan in ISSUE (a file, or - for
    standard input)."""
    config = _config(config_file, repo)
    plan, _ = _plan_or_exit(issue, config, _tracked_files(repo) if repo else [])
    if plan.agent(agent) is None:
        raise click.BadParameter(
            f"no agent {agent!r} in the plan; agents: {', '.join(plan.names)}", param_hint="AGENT"
        )
    click.echo(report.dispatch_prompt(plan, agent, number, markers.plan_hash(plan), config), nl=False)


def _register_subcommands() -> None:
    """Plan synthesis (``service.cli_plan``) and the local fleet's commands (``service.cli_local``)
    join the group; imported here, after ``main`` exists, because they reuse this module's readers."""
    from .cli_local import LOCAL_COMMANDS
    from .cli_plan import plan_command

    for command in (plan_command, *LOCAL_COMMANDS):
        main.add_command(command)


_register_subcommands()

if __name__ == "__main__":  # pragma: no cover
    main()
