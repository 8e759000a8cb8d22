"""Names and hidden markers that tie GitHub objects back to a plan: branches, PR and dashboard
markers, the plan hash and the dashboard's hidden state."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .model import Agent, Plan

DASHBOARD_MARKER = "<!-- wavegate dashboard -->"


@dataclass(frozen=True)
class PrMarker:
    issue: int
    agent: str
    plan_hash: str


def branch_name(issue: int, agent: Agent, prefix: str = "wavegate") -> str:
    """The agent's branch: its explicit ``branch`` or ``<prefix>/<issue>/<name>``."""
    raise NotImplementedError


def plan_hash(plan: Plan) -> str:
    """A short (12 hex) stable hash of the plan's meaning (not its formatting or form)."""
    raise NotImplementedError


def pr_marker(issue: int, agent: str, plan_hash: str) -> str:
    """``<!-- wavegate issue=N agent=NAME plan=HASH -->``."""
    raise NotImplementedError


def parse_pr_marker(body: str | None) -> PrMarker | None:
    """The marker in a PR body, or None."""
    raise NotImplementedError


def is_dashboard(body: str | None) -> bool:
    """True when a comment body is a Wavegate dashboard."""
    raise NotImplementedError


def state_marker(state: Mapping[str, Any]) -> str:
    """A hidden HTML comment carrying JSON-safe dashboard state (skipped, cancelled, …)."""
    raise NotImplementedError


def parse_state_marker(body: str | None) -> dict[str, Any]:
    """The state carried by ``state_marker`` in a body, or ``{}``; never raises."""
    raise NotImplementedError


def merge_group_pr(head_ref: str | None) -> int | None:
    """The PR number in a merge group head ref ``refs/heads/gh-readonly-queue/<base>/pr-<N>-<sha>``."""
    raise NotImplementedError
