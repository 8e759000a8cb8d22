"""Classify a PR's changed paths against the plan: own, exempt, crossing, forbidden, unowned
(agent PRs) or crossing / free (any other PR). DESIGN §3.3."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .model import AgentPR, ChangeSet, Plan, RepoConfig, TerritoryVerdict


class PlanMatcher:
    """One combined matcher per plan: which agents own a path, without looping over patterns."""

    def __init__(self, plan: Plan, config: RepoConfig = RepoConfig()) -> None:
        raise NotImplementedError

    def owners(self, path: str) -> tuple[str, ...]:
        """Names of the agents whose territory matches ``path``, in plan order."""
        raise NotImplementedError


def classify_agent_pr(
    plan: Plan,
    agent: str,
    changes: ChangeSet,
    prs: Mapping[str, AgentPR],
    config: RepoConfig = RepoConfig(),
    matcher: PlanMatcher | None = None,
) -> TerritoryVerdict:
    """The territory verdict for ``agent``'s PR. Both sides of renames and copies count, every
    status counts (removed included). A truncated change set fails closed."""
    raise NotImplementedError


def classify_other_pr(
    active: Sequence[tuple[Plan, Mapping[str, AgentPR]]],
    changes: ChangeSet,
) -> TerritoryVerdict:
    """The verdict for a PR that is no agent's (forks included): failure when a path is in the
    territory of an agent whose PR has not merged (skipped and cancelled agents are left out by
    the caller), success otherwise."""
    raise NotImplementedError
