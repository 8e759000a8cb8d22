"""Every user-facing text Wavegate writes: dispatch prompts, check-run outputs, the dashboard,
comments and pre-flight problem lists. Pinned by golden files under ``tests/golden/``.

GitHub limits honoured here: check-run ``summary`` and ``text`` under 60 KB (bytes), titles under
255 characters; annotations are all returned and the adapter sends them 50 a request.
"""

from __future__ import annotations

from collections.abc import Sequence

from .model import (
    CheckOutput,
    DashboardState,
    GateDecision,
    Plan,
    Problem,
    RepoConfig,
    TerritoryVerdict,
)


def pr_title(issue: int, agent: str, plan: Plan) -> str:
    """Title of an agent PR, e.g. ``[wave 1] security — dispatch #12``."""
    raise NotImplementedError


def dispatch_prompt(
    plan: Plan, agent: str, issue: int, plan_hash: str, config: RepoConfig = RepoConfig()
) -> str:
    """The agent's PR body (DESIGN §3.2): scope, findings, constraints (own list, every other
    agent's territory named by agent, protected list), the scope-expansion rule, then the
    hidden marker ``<!-- wavegate issue=N agent=NAME plan=HASH -->``."""
    raise NotImplementedError


def queued_output(name: str) -> CheckOutput:
    """A ``queued`` check run (posted before the verdict is known)."""
    raise NotImplementedError


def territory_output(verdict: TerritoryVerdict) -> CheckOutput:
    """``wavegate/territory``: one-line title, summary table grouped by kind, one annotation per
    offending path (notice-level for unowned paths of non-strict plans)."""
    raise NotImplementedError


def gate_output(decision: GateDecision, plan: Plan | None = None) -> CheckOutput:
    """``wavegate/wave-gate``: success, in_progress ("waiting for wave 1: #12 security, …"), or
    failure with the way out (``reopen #12``, or ``/wavegate skip security``)."""
    raise NotImplementedError


def non_agent_gate_output() -> CheckOutput:
    """``wavegate/wave-gate`` for a PR that is no agent's: success."""
    raise NotImplementedError


def error_output(name: str, what: str, job_id: str | None = None) -> CheckOutput:
    """A check run saying what failed (after the last retry), with the job id; conclusion
    failure for the territory check (fail closed) and the gate alike."""
    raise NotImplementedError


def dashboard(state: DashboardState) -> str:
    """The dashboard comment (starts with the dashboard marker): state, problems, Mermaid
    flowchart by wave coloured by state, the agent table, scope expansions, amendments, and once
    done the parallelism dividend."""
    raise NotImplementedError


def problems_markdown(problems: Sequence[Problem]) -> str:
    """Pre-flight problems as a Markdown list for the dashboard."""
    raise NotImplementedError


def problems_text(problems: Sequence[Problem]) -> str:
    """Pre-flight problems as plain text for the CLI, one per line with its line number."""
    raise NotImplementedError


def plan_text(plan: Plan) -> str:
    """The plan by wave, plain text, for ``wavegate check``."""
    raise NotImplementedError


def unlock_comment(decision: GateDecision, plan: Plan) -> str:
    """The comment on a PR that just unlocked (names the merged dependencies)."""
    raise NotImplementedError


def removed_agent_comment(agent: str, issue: int) -> str:
    """The comment on the PR of an agent an amendment removed from the plan."""
    raise NotImplementedError


def permission_refused(login: str, permission: str, action: str) -> str:
    """Polite refusal for a sender without write permission (``action``: dispatch, a command)."""
    raise NotImplementedError


def command_help(unknown: str | None = None) -> str:
    """Short help reply listing the commands."""
    raise NotImplementedError
