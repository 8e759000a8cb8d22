"""The use cases: what a user does or GitHub asks, one module each.

The layer's one rule: fetch through the port (``service.gh.GitHubPort``) → decide with the core
(``service.core``, pure) → write through the port, idempotently. Every use case re-reads current
state (events are triggers, not data), so running one twice writes nothing the second time.

- ``plan``: reconcile a dispatch plan (pre-flight, branches, PRs, checks, gates, unlocks, dashboard);
- ``pulls``: check a PR, a PR closed, re-runs, merge groups, the periodic pass, failure reports;
- ``commands``: ``/wavegate`` commands;
- ``context``: reading a plan's live state;
- ``checks``: posting the two check runs;
- ``launch``: starting agents when their wave opens, following their runs.

The jobs (``workers.jobs``) call only the names below.
"""

from .commands import handle_command
from .launch import follow_run
from .plan import reconcile_plan
from .pulls import (
    check_merge_group,
    check_pull,
    pull_closed,
    reconcile_repository,
    report_failure,
    rerun_checks,
)

__all__ = ["check_merge_group", "check_pull", "follow_run", "handle_command", "pull_closed", "reconcile_plan",
           "reconcile_repository", "report_failure", "rerun_checks"]
