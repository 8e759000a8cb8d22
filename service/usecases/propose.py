"""A dispatch issue with findings but no plan: the plan proposed from them (shown on the
dashboard by the plan reconcile) and ``/wavegate adopt``, which writes it into the issue body.

Fetch → decide → write, idempotently: the base tree is read once per proposal (the tracked paths
the findings' references resolve against), ``service.core.synthesis_issue`` decides, and adopt
writes the body only when the body holds no plan and no earlier delivery of the same comment did.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..core import markers, report_synthesis
from ..core.model import RepoConfig
from ..core.synthesis_issue import adopted_body, has_plan, issue_proposal, names_files
from ..core.synthesis_records import Proposal
from ..gh import GitHubPort
from ..records import IssueData


def tracked_paths(gh: GitHubPort, repo: str) -> tuple[str, ...]:
    """The files of the default branch's tree (``GET /repos/{repo}``, its ref, ``GET
    /git/trees/{sha}?recursive=1``: three reads, answered 304 and uncharged when nothing
    changed), sorted; empty when the branch does not exist yet."""
    sha = gh.branch_sha(repo, gh.repository(repo).default_branch)
    return tuple(sorted(gh.tree(repo, sha).blobs)) if sha else ()


def proposal_for(gh: GitHubPort, repo: str, issue: IssueData, cfg: RepoConfig) -> Proposal | None:
    """The plan proposed for ``issue`` from the findings in its body, with references resolved
    against the default branch's files; None (and no read) when the body holds a plan or no
    list item names a file. A proposal that would not pass the pre-flight comes back with ``ok``
    False."""
    if not issue.body or has_plan(issue.body) or not names_files(issue.body):
        return None
    return issue_proposal(issue.body, tracked=tracked_paths(gh, repo), config=cfg)


def proposal_section(gh: GitHubPort, repo: str, issue: IssueData, cfg: RepoConfig) -> tuple[str, str] | None:
    """(outcome line, the dashboard's folded proposal section) for an issue with findings but no
    plan, or None when there is nothing to propose (the "no plan" problems stand)."""
    proposal = proposal_for(gh, repo, issue, cfg)
    if proposal is None:
        return None
    outcome = "plan proposed" if proposal.ok else "no plan proposed"
    return outcome, report_synthesis.proposal_dashboard(proposal)


@dataclass(frozen=True)
class Adoption:
    """What ``/wavegate adopt`` did: ``issue`` as it now is, ``wrote`` whether this run wrote the
    body, ``reply`` the answer to post (None when there is nothing to say)."""

    issue: IssueData
    wrote: bool
    reply: str | None


def adopt(gh: GitHubPort, repo: str, issue: IssueData, cfg: RepoConfig, comment_id: int,
          sender: str) -> Adoption:
    """``/wavegate adopt`` in comment ``comment_id`` by ``sender`` (whose write permission the
    caller checked): the proposal's plan block appended to the issue body with
    ``markers.adopted_marker`` below it (``PATCH /issues/{n}``). A body that already carries this
    comment's marker (a duplicate delivery) is left alone without a reply; a body with a plan, or
    without a proposal that passed the pre-flight, is refused with a reply saying why."""
    body = issue.body or ""
    marker = markers.adopted_marker(comment_id)
    if marker in body:
        return Adoption(issue, False, None)
    if has_plan(body):
        return Adoption(issue, False, report_synthesis.adopt_has_plan(sender))
    proposal = proposal_for(gh, repo, issue, cfg)
    if proposal is None or not proposal.ok:
        return Adoption(issue, False, report_synthesis.adopt_nothing(sender, proposal))
    new_body = adopted_body(body, proposal, marker)
    gh.edit_issue_body(repo, issue.number, new_body)
    return Adoption(replace(issue, body=new_body), True, None)
