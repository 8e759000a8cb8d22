"""Posting Wavegate's two check runs on a commit, idempotently and never on a superseded head.

GitHub shows only the newest run of each name on a commit, so a run is written only when its
content changes, and only while the commit is still the PR's head: a verdict computed for one SHA
must never land on another, and a newer ``queued``/``success`` run would hide a failure.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ..core import report_commands
from ..core.audit import Allowance
from ..core.model import CHECK_NAMES, CheckOutput, TerritoryVerdict
from ..core.version import PlanVersion
from ..gh import GitHubPort
from ..records import CheckRunData

log = logging.getLogger(__name__)


def our_runs(gh: GitHubPort, runs: Sequence[CheckRunData]) -> dict[str, CheckRunData]:
    """The newest run (highest id) of each Wavegate check name among ``runs``, ours only (runs of
    another app that happen to share a name are ignored)."""
    bot = gh.bot_login or ""
    slug = bot[: -len("[bot]")] if bot.endswith("[bot]") else None
    latest: dict[str, CheckRunData] = {}
    for run in runs:
        if run.name not in CHECK_NAMES:
            continue
        if slug and run.app_slug and run.app_slug != slug:
            continue
        if run.name not in latest or run.id > latest[run.name].id:
            latest[run.name] = run
    return latest


def post(gh: GitHubPort, repo: str, sha: str, outputs: Sequence[CheckOutput], *,
         number: int | None = None, runs: Sequence[CheckRunData] | None = None,
         new_runs: bool = False) -> int | None:
    """Make the runs on ``sha`` show ``outputs``; returns the number of runs written, or None when
    the work was dropped because PR ``number`` no longer has head ``sha``.

    ``runs`` are the runs already read for ``sha`` (read here when None). A run is created when
    none of that name exists, when ``new_runs`` (a re-run request), when the old run carries
    annotations (a PATCH would append to them) or is completed while the new output is not;
    otherwise it is PATCHed, and only when its content differs. Just before writing, the PR head is re-read (``number`` given) and the write dropped
    if it moved.
    """
    if not sha:
        raise ValueError("check runs need a head SHA")
    if runs is None:
        runs = gh.check_runs(repo, sha)
    latest = our_runs(gh, runs)
    todo = [(out, latest.get(out.name)) for out in outputs
            if new_runs or out.name not in latest or not latest[out.name].shows(out)]
    if not todo:
        return 0
    if number is not None:
        head = gh.get_pull(repo, number).head_sha
        if head != sha:
            log.info("dropping check runs for #%s: head moved from %s to %s", number, sha[:12], head[:12])
            return None
    for out, run in todo:
        # A new run (GitHub shows the newest of a name) when PATCHing would misbehave: annotations
        # append, and a completed run is not reopened as in_progress.
        reopen = run is not None and run.status == "completed" and out.status != "completed"
        if run is None or new_runs or run.annotations_count or reopen:
            gh.create_check_run(repo, sha, out)
        else:
            gh.update_check_run(repo, run, out)
    return len(todo)


def judged(territory_out: CheckOutput, gate_out: CheckOutput, verdict: TerritoryVerdict,
           version: PlanVersion | None, allowance: Allowance | None) -> list[CheckOutput]:
    """Both outputs of one PR as posted: the territory verdict passed under an active
    ``allowance`` (still listing every path it lets through), and both stating the plan
    ``version`` they judged (summary line and ``external_id``; None for a PR of no plan)."""
    if allowance is not None:
        territory_out = report_commands.allowed_territory_output(territory_out, verdict, allowance)
    return [report_commands.versioned(territory_out, version), report_commands.versioned(gate_out, version)]
