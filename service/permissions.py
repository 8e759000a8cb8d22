"""The GitHub App permissions Wavegate's GitHub calls and webhook subscriptions need, from GitHub's
"Permissions required for GitHub Apps" reference. ``app.yml`` must grant at least these; a test
derives the REST requests from ``service/gh/`` and checks them against ``ENDPOINTS`` and the
manifest.

Access levels are ordered ``read`` < ``write`` (GitHub's manifest accepts only these two values;
``write`` implies ``read``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

LEVELS = {"read": 1, "write": 2}

# (method, REST path as GitHub documents it) → (permission, access). Paths use GitHub's
# placeholders; ``{owner}/{repo}`` is one segment pair.
ENDPOINTS: dict[tuple[str, str], tuple[str, str]] = {
    ("GET", "/repos/{owner}/{repo}"): ("metadata", "read"),
    ("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission"): ("metadata", "read"),
    ("GET", "/repos/{owner}/{repo}/issues"): ("issues", "read"),
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}"): ("issues", "read"),
    ("PATCH", "/repos/{owner}/{repo}/issues/{issue_number}"): ("issues", "write"),
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments"): ("issues", "read"),
    ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments"): ("issues", "write"),
    ("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}"): ("issues", "read"),
    ("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}"): ("issues", "write"),
    ("POST", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions"): ("issues", "write"),
    ("GET", "/repos/{owner}/{repo}/contents/{path}"): ("contents", "read"),
    ("GET", "/repos/{owner}/{repo}/git/ref/{ref}"): ("contents", "read"),
    ("GET", "/repos/{owner}/{repo}/git/matching-refs/{ref}"): ("contents", "read"),
    ("GET", "/repos/{owner}/{repo}/git/trees/{tree_sha}"): ("contents", "read"),
    ("GET", "/repos/{owner}/{repo}/git/commits/{commit_sha}"): ("contents", "read"),
    ("POST", "/repos/{owner}/{repo}/git/commits"): ("contents", "write"),
    ("POST", "/repos/{owner}/{repo}/git/refs"): ("contents", "write"),
    ("GET", "/repos/{owner}/{repo}/compare/{basehead}"): ("contents", "read"),
    ("GET", "/repos/{owner}/{repo}/pulls"): ("pull_requests", "read"),
    ("POST", "/repos/{owner}/{repo}/pulls"): ("pull_requests", "write"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}"): ("pull_requests", "read"),
    ("PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}"): ("pull_requests", "write"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files"): ("pull_requests", "read"),
    # GitHub documents update-branch under pull requests: write (it also writes the head branch).
    ("PUT", "/repos/{owner}/{repo}/pulls/{pull_number}/update-branch"): ("pull_requests", "write"),
    ("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs"): ("checks", "read"),
    ("POST", "/repos/{owner}/{repo}/check-runs"): ("checks", "write"),
    ("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}"): ("checks", "write"),
    # Launching agents (DESIGN §3.8); the coding agent's assignment is sent with the operator's user
    # token (COPILOT_USER_TOKEN), never the installation's, so it is not in this table.
    ("POST", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches"): ("actions", "write"),
    ("GET", "/repos/{owner}/{repo}/actions/runs"): ("actions", "read"),
    ("GET", "/repos/{owner}/{repo}/actions/runs/{run_id}"): ("actions", "read"),
    # Installation-level listing: available to every installation token (metadata).
    ("GET", "/installation/repositories"): ("metadata", "read"),
    # App-level endpoints, called with the App's JWT: no installation permission.
    ("GET", "/app"): ("", ""),
    ("GET", "/app/installations"): ("", ""),
    ("GET", "/app/hook/deliveries"): ("", ""),
    ("POST", "/app/hook/deliveries/{delivery_id}/attempts"): ("", ""),
}

# Each ``GitHubPort`` operation (and App-level function of ``service.gh.app``) → the endpoints it
# may call, including those of the operations it calls in turn.
OPERATIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "repository": (("GET", "/repos/{owner}/{repo}"),),
    "get_issue": (("GET", "/repos/{owner}/{repo}/issues/{issue_number}"),),
    "open_issues": (("GET", "/repos/{owner}/{repo}/issues"),),
    "permission": (("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission"),),
    "file_text": (("GET", "/repos/{owner}/{repo}/contents/{path}"),),
    "branch_sha": (("GET", "/repos/{owner}/{repo}/git/ref/{ref}"),),
    "branch_heads": (("GET", "/repos/{owner}/{repo}/git/matching-refs/{ref}"),),
    "tree": (("GET", "/repos/{owner}/{repo}/git/trees/{tree_sha}"),),
    "create_branch": (("GET", "/repos/{owner}/{repo}/git/commits/{commit_sha}"),
                      ("POST", "/repos/{owner}/{repo}/git/commits"),
                      ("POST", "/repos/{owner}/{repo}/git/refs"),
                      ("GET", "/repos/{owner}/{repo}/git/ref/{ref}")),
    "find_pull": (("GET", "/repos/{owner}/{repo}/pulls"),),
    "open_pulls": (("GET", "/repos/{owner}/{repo}/pulls"),),
    "recent_pulls": (("GET", "/repos/{owner}/{repo}/pulls"),),
    "get_pull": (("GET", "/repos/{owner}/{repo}/pulls/{pull_number}"),),
    "create_pull": (("GET", "/repos/{owner}/{repo}/pulls"), ("POST", "/repos/{owner}/{repo}/pulls")),
    "pull_changes": (("GET", "/repos/{owner}/{repo}/pulls/{pull_number}"),
                     ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files"),
                     ("GET", "/repos/{owner}/{repo}/compare/{basehead}"),
                     ("GET", "/repos/{owner}/{repo}/git/trees/{tree_sha}")),
    "merge_base": (("GET", "/repos/{owner}/{repo}/compare/{basehead}"),),
    "contains": (("GET", "/repos/{owner}/{repo}/compare/{basehead}"),),
    "check_runs": (("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs"),),
    "create_check_run": (("POST", "/repos/{owner}/{repo}/check-runs"),
                         ("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}")),
    "update_check_run": (("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}"),),
    "comments": (("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),),
    "get_comment": (("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),),
    "create_comment": (("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),),
    "edit_comment": (("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),),
    "add_reaction": (("POST", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions"),),
    "edit_pull_body": (("PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}"),),
    "update_branch": (("PUT", "/repos/{owner}/{repo}/pulls/{pull_number}/update-branch"),),
    "close_issue": (("PATCH", "/repos/{owner}/{repo}/issues/{issue_number}"),),
    "edit_issue_body": (("PATCH", "/repos/{owner}/{repo}/issues/{issue_number}"),),
    "dispatch_workflow": (("POST", "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches"),),
    "workflow_runs": (("GET", "/repos/{owner}/{repo}/actions/runs"),),
    "get_workflow_run": (("GET", "/repos/{owner}/{repo}/actions/runs/{run_id}"),),
    "assign_agent": (),  # the operator's user token, not the installation's
    "app_installations": (("GET", "/app/installations"), ("GET", "/installation/repositories")),
    "list_failed_deliveries": (("GET", "/app/hook/deliveries"),),
    "redeliver": (("POST", "/app/hook/deliveries/{delivery_id}/attempts"),),
}

# The permission GitHub requires before it lets an App subscribe to an event.
EVENT_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "issues": ("issues",),
    "issue_comment": ("issues", "pull_requests"),  # either one
    "pull_request": ("pull_requests",),
    "merge_group": ("merge_queues",),
    "check_run": ("checks",),
    "check_suite": ("checks",),
    "workflow_run": ("actions",),
}
# Needed only where launching agents is configured (``launch:`` in a repository's settings): the
# start-up check reports them as a launch warning, not as a broken registration.
LAUNCH_PERMISSIONS = frozenset({"actions"})
LAUNCH_EVENTS = frozenset({"workflow_run"})
# Delivered to every App holding ``checks`` (no subscription needed, none possible).
IMPLIED_EVENTS = frozenset({"check_run", "check_suite"})

_PLACEHOLDER = re.compile(r"\{[^}/]*\}")


def _shape(path: str) -> str:
    return _PLACEHOLDER.sub("{}", path)


def endpoint_for(method: str, path: str) -> tuple[str, str] | None:
    """The ``ENDPOINTS`` key matching ``method`` and ``path``, where ``path`` may carry any
    placeholder names (``{}``, ``{repo}`` standing for ``{owner}/{repo}``), or None.

    ``/repos/{repo}/…`` (one placeholder for ``owner/name``) matches ``/repos/{owner}/{repo}/…``;
    ``/git/ref/heads/{branch}`` matches ``/git/ref/{ref}`` (``git/matching-refs`` alike);
    ``/compare/{a}...{b}`` matches ``/compare/{basehead}``."""
    shape = _shape(path.split("?", 1)[0])
    shape = re.sub(r"^/repos/\{\}(?=/|$)", "/repos/{}/{}", shape)
    shape = shape.replace("/git/ref/heads/{}", "/git/ref/{}").replace("/git/matching-refs/heads/{}",
                                                                      "/git/matching-refs/{}")
    shape = shape.replace("{}...{}", "{}")
    for key in ENDPOINTS:
        if key[0] == method.upper() and _shape(key[1]) == shape:
            return key
    return None


def required(operations: Iterable[str] | None = None) -> dict[str, str]:
    """``{permission: access}`` the named ``operations`` (default: all of ``OPERATIONS``) need,
    the highest access per permission. Raises ``KeyError`` for an unknown operation."""
    needed: dict[str, str] = {}
    for name in OPERATIONS if operations is None else operations:
        for key in OPERATIONS[name]:
            permission, access = ENDPOINTS[key]
            if permission and LEVELS[access] > LEVELS.get(needed.get(permission, ""), 0):
                needed[permission] = access
    return needed


def missing_permissions(granted: Mapping[str, str], needed: Mapping[str, str]) -> list[str]:
    """``permission: access`` strings of ``needed`` that ``granted`` (a manifest's
    ``default_permissions``) does not cover (absent, or ``read`` where ``write`` is needed)."""
    return [f"{p}: {a}" for p, a in sorted(needed.items())
            if LEVELS.get(str(granted.get(p, "")), 0) < LEVELS[a]]
