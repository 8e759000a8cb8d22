"""A dispatch issue whose body lists findings but holds no plan gets a proposed plan on its
dashboard; ``/wavegate adopt`` writes it into the body. The pure decisions for both. No I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

from .findings import read_findings
from .model import RepoConfig
from .plan_prose import has_agent_headings
from .plan_source import body_lines, fences
from .synthesis import DEFAULT_AGENTS, propose
from .synthesis_records import Proposal
from .synthesis_refs import RepoFacts


def has_plan(body: str | None) -> bool:
    """True when ``body`` holds a plan in either form (a ``dispatch`` fence or an ``Agent:``
    heading), valid or not: such a body is the coordinator's plan, never replaced by a proposal."""
    if not body:
        return False
    lines = body_lines(body)
    return any(f.is_dispatch for f in fences(lines)) or has_agent_headings(lines)


def names_files(body: str | None) -> bool:
    """True when a list item of ``body`` names a file an agent could own (a reference without a
    problem): only then is a proposal worth reading the repository's files for."""
    return bool(body) and any(r.problem is None for f in read_findings(body or "") for r in f.references)


def issue_proposal(body: str | None, *, tracked: Sequence[str] = (), config: RepoConfig = RepoConfig(),
                   limit: int = DEFAULT_AGENTS) -> Proposal | None:
    """The proposal for a dispatch issue's ``body``, or None when there is nothing to propose:
    the body holds a plan, or none of its list items names a file.

    ``tracked``: the base tree's files (references are resolved against them when given). The
    proposal may still carry no plan (``ok`` False) when it would not pass the pre-flight; the
    dashboard then says why (``report_synthesis.proposal_dashboard``).
    """
    if not body or has_plan(body):
        return None
    repo = RepoFacts(tuple(tracked)) if tracked else None
    proposal = propose(body, limit=limit, repo=repo, config=config)
    return proposal if proposal.agents else None


def adopted_body(body: str, proposal: Proposal, marker: str = "") -> str:
    """``body`` with the proposal's plan block appended (``/wavegate adopt``); the findings list
    stays above it, and ``marker`` (a hidden HTML comment, ``markers.adopted_marker``) follows
    the block when given. Raises ``ValueError`` for a proposal without a plan."""
    if not proposal.ok:
        raise ValueError("the proposal has no plan that passed the pre-flight")
    newline = "\r\n" if "\r\n" in body else "\n"
    block = proposal.block.replace("\n", newline)
    tail = (block.rstrip() + newline + marker + newline) if marker else block
    return body.rstrip() + newline + newline + tail
