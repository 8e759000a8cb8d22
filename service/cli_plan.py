"""``wavegate plan FINDINGS.md [--repo PATH] [--agents N] [--json]``: propose a dispatch plan from a
list of findings (DESIGN §5). The git I/O lives here; the proposal is ``core.synthesis``.

Exit codes: 0 a plan is proposed (it passed the pre-flight), 1 no plan (no finding names a file,
or the proposal would not pass the pre-flight: the reasons are printed), 2 usage error.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click

from .core import report_synthesis
from .core.synthesis import DEFAULT_AGENTS, propose
from .core.synthesis_refs import RepoFacts

# Co-change history read from the repository: the newest commits, merges left out (a merge lists
# the files of a whole branch, which says nothing about which files belong together).
HISTORY_COMMITS = 2000
GIT_TIMEOUT_S = 60


def _git(repo: Path, *args: str) -> bytes:
    """``git -C REPO ARGS`` stdout; a usage error (exit 2) naming the repository if git fails."""
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False,
                              timeout=GIT_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise click.BadParameter(f"cannot run git: {error}", param_hint="--repo") from error
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip() or f"git exited with {done.returncode}"
        raise click.BadParameter(f"{repo}: {message}", param_hint="--repo")
    return done.stdout


def commit_files(repo: Path, limit: int = HISTORY_COMMITS) -> tuple[tuple[str, ...], ...]:
    """The files each of the newest ``limit`` non-merge commits changed (``git log --name-only``),
    newest first. A repository without commits has no history (empty tuple)."""
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "--verify", "-q", "HEAD"],
                          capture_output=True, check=False, timeout=GIT_TIMEOUT_S)
    if head.returncode != 0:
        return ()
    out = _git(repo, "log", "--no-merges", "--no-renames", "--name-only", "-z", "--format=%x01", f"-n{limit}")
    commits = []
    for chunk in out.decode("utf-8", "replace").split("\x01"):
        files = tuple(p.strip("\n") for p in chunk.split("\0") if p.strip("\n"))
        if files:
            commits.append(files)
    return tuple(commits)


def repo_facts(repo: Path) -> RepoFacts:
    """Tracked files (``git ls-files``) and co-change history of the checkout at ``repo``."""
    from .cli import _tracked_files  # the one reader of tracked files, shared with `wavegate check`

    return RepoFacts(tuple(_tracked_files(repo)), commit_files(repo))


@click.command("plan")
@click.argument("findings", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--repo", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="A git checkout: references are checked against its tracked files, and files "
                   "its history changes together are kept in one agent.")
@click.option("--agents", "limit", type=click.IntRange(min=1, max=25), default=DEFAULT_AGENTS,
              show_default=True, help="At most this many agents per wave.")
@click.option("--json", "as_json", is_flag=True, help="Print the proposal as JSON.")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A wavegate.yml whose protected paths no agent may own.")
def plan_command(findings: Path, repo: Path | None, limit: int, as_json: bool, config_file: Path | None) -> None:
    """Propose a dispatch plan from FINDINGS (a Markdown list of findings with file references):
    agents, territories and waves, checked by the pre-flight, with an explanation. Exit 0 when a
    plan is proposed, 1 when none can be."""
    from .cli import _config, _read

    config = _config(config_file)
    facts = repo_facts(repo) if repo else None
    proposal = propose(_read(findings, "FINDINGS"), limit=limit, repo=facts, config=config)
    if as_json:
        click.echo(json.dumps(report_synthesis.proposal_data(proposal), indent=2, ensure_ascii=False))
    else:
        click.echo(report_synthesis.proposal_text(proposal), nl=False)
    sys.exit(0 if proposal.ok else 1)
