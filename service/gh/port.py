"""``GitHubPort``: every read and write the use cases make on GitHub, returning records only.
``PyGithubPort`` (``client``) implements it; ``tests/app/fakes.py`` keeps an in-memory one."""

from __future__ import annotations

from typing import Protocol

from ..core.launch import WorkflowRun
from ..core.model import ChangeSet, CheckOutput
from ..records import CheckRunData, CommentData, IssueData, PullData, RepoData, TreeData


class GitHubPort(Protocol):
    """Operations the use cases need, returning core types only. ``repo`` is ``owner/name``.

    Errors are ``service.errors`` types: ``NotFound`` (404), ``Conflict`` (409/422),
    ``PermissionDenied`` (403 "Resource not accessible by integration"), ``RateLimited`` and
    ``TransientGitHubError`` (retry later).
    """

    bot_login: str | None  # the App's own account, e.g. ``wavegate[bot]``

    def repository(self, repo: str) -> RepoData:
        """Reads the repository (default branch): ``GET /repos/{repo}``."""

    def get_issue(self, repo: str, number: int) -> IssueData:
        """Reads one issue: ``GET /repos/{repo}/issues/{n}``; ``NotFound`` when absent."""

    def open_issues(self, repo: str, label: str) -> list[IssueData]:
        """Reads every open issue carrying ``label``, PRs left out: ``GET /repos/{repo}/issues``."""

    def permission(self, repo: str, login: str) -> str:
        """Reads ``login``'s role (admin, maintain, write, triage, read or none):
        ``GET /repos/{repo}/collaborators/{login}/permission``."""

    def file_text(self, repo: str, path: str, ref: str | None = None) -> str | None:
        """Reads a file's UTF-8 text at ``ref``, None when absent: ``GET /repos/{repo}/contents/{path}``."""

    def branch_sha(self, repo: str, branch: str) -> str | None:
        """Reads a branch's head SHA, None when absent: ``GET /repos/{repo}/git/ref/heads/{branch}``."""

    def branch_heads(self, repo: str, prefix: str) -> dict[str, str]:
        """Reads branch → head SHA for every branch under ``prefix``:
        ``GET /repos/{repo}/git/matching-refs/heads/{prefix}``."""

    def tree(self, repo: str, sha: str) -> TreeData:
        """Reads a recursive tree (mode, type and SHA per path, submodules included; ``truncated``
        as GitHub says): ``GET /repos/{repo}/git/trees/{sha}?recursive=1``."""

    def create_branch(self, repo: str, branch: str, base_sha: str, *, tree_sha: str | None = None,
                      message: str = "") -> str:
        """Writes a branch holding one empty commit on ``base_sha``: ``POST /git/commits`` then
        ``POST /git/refs``; returns the new head SHA; ``Conflict`` when the branch exists."""

    def find_pull(self, repo: str, head_branch: str) -> PullData | None:
        """Reads the PR whose head is ``head_branch`` of this repository (open first, forks never):
        ``GET /repos/{repo}/pulls?head=…``."""

    def open_pulls(self, repo: str) -> list[PullData]:
        """Reads every open PR: ``GET /repos/{repo}/pulls?state=open`` (all pages)."""

    def recent_pulls(self, repo: str) -> list[PullData]:
        """Reads the newest 100 PRs in any state, one request: ``GET /repos/{repo}/pulls?state=all``."""

    def get_pull(self, repo: str, number: int) -> PullData:
        """Reads one PR (``merged``, ``changed_files``): ``GET /repos/{repo}/pulls/{n}``."""

    def create_pull(self, repo: str, base: str, head: str, title: str, body: str, *,
                    look_first: bool = True) -> PullData:
        """Writes a PR (after looking for one of ``head`` unless ``look_first`` is False):
        ``POST /repos/{repo}/pulls``; an existing one is returned, never duplicated."""

    def pull_changes(self, repo: str, pull: PullData, *, base_sha: str | None = None,
                     known: ChangeSet | None = None) -> ChangeSet:
        """Reads every path a PR changes: ``GET /pulls/{n}/files``, or past GitHub's 3,000-file cap
        the two trees compared (``source`` says which)."""

    def merge_base(self, repo: str, base: str, head: str) -> str:
        """Reads the merge base SHA: ``GET /repos/{repo}/compare/{base}...{head}``."""

    def contains(self, repo: str, commit: str, container: str) -> bool:
        """Reads whether ``commit`` is an ancestor of ``container``: ``GET /compare/{commit}...{container}``."""

    def check_runs(self, repo: str, sha: str) -> list[CheckRunData]:
        """Reads every check run on ``sha``: ``GET /repos/{repo}/commits/{sha}/check-runs`` (all pages)."""

    def create_check_run(self, repo: str, sha: str, output: CheckOutput,
                         external_id: str | None = None) -> CheckRunData:
        """Writes a check run on ``sha``: ``POST /repos/{repo}/check-runs``."""

    def update_check_run(self, repo: str, run: CheckRunData, output: CheckOutput) -> CheckRunData:
        """Writes a check run's new output: ``PATCH /repos/{repo}/check-runs/{id}``."""

    def comments(self, repo: str, issue: int) -> list[CommentData]:
        """Reads an issue's or PR's comments, oldest first: ``GET /repos/{repo}/issues/{n}/comments``."""

    def get_comment(self, repo: str, comment_id: int) -> CommentData:
        """Reads one comment: ``GET /repos/{repo}/issues/comments/{id}``."""

    def create_comment(self, repo: str, issue: int, body: str) -> CommentData:
        """Writes a comment: ``POST /repos/{repo}/issues/{n}/comments``."""

    def edit_comment(self, repo: str, comment_id: int, body: str) -> CommentData:
        """Writes a comment's new body: ``PATCH /repos/{repo}/issues/comments/{id}``."""

    def add_reaction(self, repo: str, comment_id: int, content: str) -> None:
        """Writes a reaction: ``POST /repos/{repo}/issues/comments/{id}/reactions``."""

    def edit_pull_body(self, repo: str, number: int, body: str) -> PullData:
        """Writes a PR's body only: ``PATCH /repos/{repo}/pulls/{n}``."""

    def update_branch(self, repo: str, number: int, expected_head_sha: str) -> None:
        """Writes a merge of the base into the PR's branch: ``PUT /repos/{repo}/pulls/{n}/update-branch``;
        ``Conflict`` when the head moved or the merge conflicts."""

    def close_issue(self, repo: str, number: int) -> None:
        """Writes ``state: closed`` (completed): ``PATCH /repos/{repo}/issues/{n}``."""

    def edit_issue_body(self, repo: str, number: int, body: str) -> IssueData:
        """Writes an issue's body only: ``PATCH /repos/{repo}/issues/{n}``."""

    def dispatch_workflow(self, repo: str, workflow: str, body: dict[str, object]) -> dict[str, object] | None:
        """Writes a workflow dispatch: ``POST /repos/{repo}/actions/workflows/{workflow}/dispatches``;
        the run details GitHub answered (200), or None (204)."""

    def workflow_runs(self, repo: str, *, event: str = "workflow_dispatch") -> list[WorkflowRun]:
        """Reads the newest runs of ``event``: ``GET /repos/{repo}/actions/runs?event=…`` (first page)."""

    def get_workflow_run(self, repo: str, run_id: int) -> WorkflowRun:
        """Reads one run: ``GET /repos/{repo}/actions/runs/{run_id}``; ``NotFound`` when gone."""

    def assign_agent(self, repo: str, number: int, body: dict[str, object], *, token: str) -> None:
        """Writes an assignment of GitHub's coding agent with ``agent_assignment``, with the
        operator's user ``token`` (never an installation token; never logged):
        ``POST /repos/{repo}/issues/{n}/assignees``."""
