"""The routing table: which webhook (event, action) triggers which job, with which primitive
arguments. Events are triggers, not data (DESIGN §4): a route extracts only ids, numbers and SHAs;
the job re-reads everything else from GitHub.

| event · action | job | decision it can change |
|---|---|---|
| issues labeled / unlabeled / opened / reopened / edited / closed | reconcile_plan | whether the issue is a dispatch issue (the label name comes from the repo's `.github/wavegate.yml`, so the job decides), the pre-flight, branches, PRs, both checks on every plan PR, dashboard |
| issue_comment created (dispatch issue or PR), body contains `/wavegate` | handle_command | refresh / skip / cancel / grant / revoke / allow: plan edit, checks of the plan's PRs, dashboard |
| pull_request opened / synchronize / reopened / ready_for_review / converted_to_draft / edited (base changed) | check_pull | territory verdict and gate of that PR on its current head |
| pull_request closed | pull_closed | gates of the other PRs of the same plan (unlocks), dashboard, closing the issue |
| check_run rerequested (one of our check names) | rerun_checks | that check on that SHA |
| check_suite rerequested | rerun_checks | both checks on that SHA |
| merge_group checks_requested | check_merge_group | both checks on the merge-group commit |
| merge_group destroyed | (none) | nothing to undo: checks on a group commit die with it |
| workflow_run requested / in_progress / completed (a dispatched run naming an agent PR) | follow_run | that agent's launch state on the dashboard, a failed run's comment |

Filters applied before the table (DESIGN §3.7): events without ``installation`` (not an App
delivery), events whose sender is the App's own bot (except ``rerequested``: a person pressed a
button on our run, or GitHub re-sent a request), and ``check_run``/``check_suite`` events of
another App.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import jobspec
from .core.launch import run_pull
from .core.model import CHECK_NAMES
from .jobspec import JOBS, Route, work_key  # noqa: F401  (re-exported for the table's readers)
from .settings import Settings

COMMAND_PREFIX = "/wavegate"

Extractor = Callable[[dict[str, Any], Settings], "dict[str, Any] | str"]


@dataclass(frozen=True)
class Skip:
    """No job. ``status`` is 204 for an event the table does not route, 200 for a routed event a
    filter ignored; ``reason`` is logged and, for 200, returned to GitHub's delivery log."""

    status: int
    reason: str


def _login(payload: dict[str, Any]) -> str | None:
    sender = payload.get("sender") or {}
    return sender.get("login")


def _issue_plan(payload: dict[str, Any], settings: Settings) -> dict[str, Any] | str:
    issue = payload.get("issue") or {}
    if issue.get("pull_request"):
        return "issue event for a pull request"
    action = payload.get("action")
    labels = issue.get("labels")
    # Only a labelled issue can be a dispatch issue; unlabeled/closed must still reach the job
    # (it may have to stop gating a plan whose label was just removed).
    if action in ("opened", "edited", "reopened", "labeled") and isinstance(labels, list) and not labels:
        return "issue has no label"
    return {"issue": int(issue["number"]), "sender": _login(payload), "reason": f"issues.{action}"}


def _command(payload: dict[str, Any], settings: Settings) -> dict[str, Any] | str:
    issue = payload.get("issue") or {}
    comment = payload.get("comment") or {}
    if COMMAND_PREFIX not in (comment.get("body") or ""):
        return "comment without /wavegate"
    # On a PR the number is the PR's (GitHub sends PR conversation comments as issue_comment):
    # the job finds whether it is a PR of a plan.
    return {"issue": int(issue["number"]), "comment_id": int(comment["id"]), "sender": _login(payload)}


def _pull(payload: dict[str, Any], settings: Settings) -> dict[str, Any] | str:
    pr = payload.get("pull_request") or {}
    if payload.get("action") == "edited" and "base" not in (payload.get("changes") or {}):
        return "pull request edited without a base change"
    number = int(pr.get("number") or payload["number"])
    return {"number": number, "head_sha": (pr.get("head") or {}).get("sha")}


def _pull_closed(payload: dict[str, Any], settings: Settings) -> dict[str, Any] | str:
    pr = payload.get("pull_request") or {}
    return {"number": int(pr.get("number") or payload["number"])}


def _foreign_app(obj: dict[str, Any], settings: Settings) -> str | None:
    app = obj.get("app") or {}
    if app.get("id") is not None:
        return None if int(app["id"]) == settings.app_id else f"belongs to app {app['id']}"
    if app.get("slug") and app["slug"] != settings.app_slug:
        return f"belongs to app {app['slug']}"
    return None


def _check_run(payload: dict[str, Any], settings: Settings) -> dict[str, Any] | str:
    run = payload.get("check_run") or {}
    if run.get("name") not in CHECK_NAMES:
        return f"check run {run.get('name')!r} is not ours"
    numbers = [int(p["number"]) for p in run.get("pull_requests") or [] if p.get("number") is not None]
    return {"head_sha": run["head_sha"], "pr_numbers": numbers, "check_name": run["name"]}


def _check_suite(payload: dict[str, Any], settings: Settings) -> dict[str, Any] | str:
    suite = payload.get("check_suite") or {}
    numbers = [int(p["number"]) for p in suite.get("pull_requests") or [] if p.get("number") is not None]
    return {"head_sha": suite["head_sha"], "pr_numbers": numbers, "check_name": None}


def _merge_group(payload: dict[str, Any], settings: Settings) -> dict[str, Any] | str:
    group = payload.get("merge_group") or {}
    return {"head_sha": group["head_sha"], "base_sha": group["base_sha"], "head_ref": group["head_ref"]}


def _workflow_run(payload: dict[str, Any], settings: Settings) -> dict[str, Any] | str:
    # A dispatched run's head_branch is the default branch: the agent PR is named in the run's
    # run-name (display_title), as the workflows in deploy/agents/ write it.
    run = payload.get("workflow_run") or {}
    if run.get("event") != "workflow_dispatch":
        return f"workflow run of a {run.get('event')} event"
    number = run_pull(run.get("display_title"))
    if number is None:
        return "workflow run names no agent PR"
    return {"run_id": int(run["id"]), "number": number}


@dataclass(frozen=True)
class Rule:
    job: str
    extract: Extractor
    coalesce: Callable[[int, str, dict[str, Any]], str | None] = lambda inst, repo, kw: None


_ISSUES = Rule(JOBS + "reconcile_plan", _issue_plan,
               lambda i, r, kw: jobspec.plan_key(i, r, kw["issue"], kw.get("sender")))
_PULL = Rule(JOBS + "check_pull", _pull, lambda i, r, kw: jobspec.pull_key(i, r, kw["number"]))
_RERUN_RUN = Rule(JOBS + "rerun_checks", _check_run,
                  lambda i, r, kw: jobspec.rerun_key(i, r, kw["head_sha"], kw["check_name"]))
_RERUN_SUITE = Rule(JOBS + "rerun_checks", _check_suite, lambda i, r, kw: jobspec.rerun_key(i, r, kw["head_sha"], None))

TABLE: dict[tuple[str, str], Rule | None] = {
    **{("issues", a): _ISSUES for a in ("labeled", "unlabeled", "opened", "reopened", "edited", "closed")},
    ("issue_comment", "created"): Rule(JOBS + "handle_command", _command),
    **{("pull_request", a): _PULL for a in ("opened", "synchronize", "reopened", "ready_for_review",
                                            "converted_to_draft", "edited")},
    ("pull_request", "closed"): Rule(JOBS + "pull_closed", _pull_closed,
                                     lambda i, r, kw: jobspec.closed_key(i, r, kw["number"])),
    ("check_run", "rerequested"): _RERUN_RUN,
    ("check_suite", "rerequested"): _RERUN_SUITE,
    ("merge_group", "checks_requested"): Rule(JOBS + "check_merge_group", _merge_group,
                                              lambda i, r, kw: jobspec.group_key(i, r, kw["head_sha"])),
    ("merge_group", "destroyed"): None,
    **{("workflow_run", a): Rule(JOBS + "follow_run", _workflow_run,
                                 lambda i, r, kw: jobspec.run_key(i, r, kw["number"]))
       for a in ("requested", "in_progress", "completed")},
}


def route(event: str, payload: dict[str, Any], settings: Settings) -> Route | Skip:
    """Decide what a verified delivery of ``event`` (the ``X-GitHub-Event`` header) triggers.

    Returns a ``Route`` whose kwargs always include ``installation_id`` and ``repo`` (full name),
    or a ``Skip``. Never raises on a well-formed GitHub payload; a payload missing a field the
    route needs is a ``Skip`` (200) naming the field.
    """
    action = payload.get("action") or ""
    rule = TABLE.get((event, action))
    if rule is None:
        return Skip(204, f"{event}.{action} is not routed" if action else f"{event} is not routed")
    installation = (payload.get("installation") or {}).get("id")
    if installation is None:
        return Skip(200, "no installation: not an App delivery")
    repo = (payload.get("repository") or {}).get("full_name")
    if not repo:
        return Skip(200, "no repository")
    # A run the App dispatched has the App as its sender: still a run to follow.
    if _login(payload) == settings.bot_login and action != "rerequested" and event != "workflow_run":
        return Skip(200, "own event")
    if event in ("check_run", "check_suite"):
        foreign = _foreign_app(payload.get(event) or {}, settings)
        if foreign:
            return Skip(200, f"{event} {foreign}")
    try:
        kwargs = rule.extract(payload, settings)
    except (KeyError, TypeError, ValueError) as exc:
        return Skip(200, f"payload lacks {exc}")
    if isinstance(kwargs, str):
        return Skip(200, kwargs)
    kwargs = {"installation_id": int(installation), "repo": repo, **kwargs}
    return Route(rule.job, kwargs, rule.coalesce(int(installation), repo, kwargs))
