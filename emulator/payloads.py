"""JSON bodies of REST responses and webhook payloads, built from GitHub's published examples.

Every object starts as a deep copy of one of GitHub's published examples (so it carries every field
the schemas require; the examples are package data in ``emulator/github/``, whose ``SOURCES.json``
names each file's origin and licence), its URLs are re-pointed at the emulator, and real values are filled in.
"""

from __future__ import annotations

import base64
import calendar
import copy
import functools
import json
import time
from pathlib import Path

from .state import App, Installation, Repo, State, now_iso

# GitHub's recorded payloads, installed with the package (pyproject package-data)
FIXTURES = Path(__file__).resolve().parent / "github"
GITHUB_HOSTS = ("https://api.github.com", "https://uploads.github.com", "https://github.com")


@functools.cache
def _rest_example(operation: str, status: str) -> dict:
    doc = json.loads((FIXTURES / "rest" / f"{operation}.json").read_text())
    examples = doc["responses"][status]["content"]["application/json"]["examples"]
    return next(iter(examples.values()))["value"]


@functools.cache
def _webhook_example(event: str, name: str) -> dict:
    return json.loads((FIXTURES / "webhooks" / event / f"{name}.json").read_text())


def rest_template(operation: str, status: str = "200", key: str | None = None) -> dict:
    """A deep copy of the first response example of ``operation`` (``key``: a sub-object of it)."""
    value = _rest_example(operation, status)
    if isinstance(value, list):
        value = value[0]
    return copy.deepcopy(value[key] if key else value)


def webhook_template(event: str, name: str, key: str | None = None) -> dict:
    """A deep copy of a webhook example payload (``key``: one of its top-level objects)."""
    value = _webhook_example(event, name)
    return copy.deepcopy(value[key] if key else value)


def node_id(kind: str, ident: int) -> str:
    """An opaque GraphQL-style node id, as GitHub's legacy ids look (base64 of ``0NN:KindID``)."""
    raw = f"0{len(kind):02d}:{kind}{ident}"
    return base64.b64encode(raw.encode()).decode().rstrip("=")


def _replace_strings(obj, pairs: list[tuple[str, str]]):
    if isinstance(obj, str):
        for old, new in pairs:
            if old:
                obj = obj.replace(old, new)
        return obj
    if isinstance(obj, dict):
        return {k: _replace_strings(v, pairs) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_replace_strings(v, pairs) for v in obj]
    return obj


def host_pairs(base: str) -> list[tuple[str, str]]:
    """Replacements that re-point github.com URLs at the emulator ``base`` (scheme://host:port)."""
    return [(h, base) for h in GITHUB_HOSTS]


def overlay(template: dict, values: dict, strict: bool) -> dict:
    """``template`` updated with ``values``; ``strict`` drops keys the template does not have."""
    out = dict(template)
    for k, v in values.items():
        if strict and k not in template:
            continue
        out[k] = v
    return out


def _time_like(template_value, iso: str):
    # push-style payloads carry unix timestamps where others carry ISO strings; keep the template's type
    if isinstance(template_value, int) and not isinstance(template_value, bool):
        return calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ"))
    return iso


class Payloads:
    """Builds REST and webhook JSON for the objects in ``state``."""

    def __init__(self, state: State):
        self.state = state

    @property
    def base(self) -> str:
        return self.state.base_url

    # -- accounts -------------------------------------------------------------------------------
    def user(self, login: str) -> dict:
        """simple-user JSON for ``login`` (a ``[bot]`` login gives a Bot account)."""
        tmpl = webhook_template("pull_request", "opened", "sender")
        out = _replace_strings(tmpl, [(f"/{tmpl['login']}", f"/{login}")] + host_pairs(self.base))
        if login.endswith("[bot]"):
            app = next((a for a in self.state.apps.values() if f"{a.slug}[bot]" == login), None)
            uid = app.id + 10_000_000 if app else 1
            out.update(login=login, id=uid, node_id=node_id("Bot", uid), type="Bot")
        else:
            user = self.state.ensure_user(login)
            out.update(login=login, id=user.id, node_id=node_id("User", user.id), type=user.type)
        out["avatar_url"] = f"{self.base}/avatars/{login}"
        return out

    def actor(self, actor) -> dict:
        """The sender of an action: the user, or ``<slug>[bot]`` when an installation token acted."""
        if actor.kind == "user":
            return self.user(actor.login)
        app = self.state.apps[actor.app_id]
        return self.user(f"{app.slug}[bot]")

    def actor_login(self, actor) -> str:
        if actor.kind == "user":
            return actor.login
        return f"{self.state.apps[actor.app_id].slug}[bot]"

    def app(self, app: App) -> dict:
        """The ``integration`` JSON of an App (GET /app)."""
        tmpl = rest_template("apps.get-authenticated")
        tmpl = _replace_strings(tmpl, [(f"/{tmpl['slug']}", f"/{app.slug}")] + host_pairs(self.base))
        tmpl.update(
            id=app.id, slug=app.slug, node_id=node_id("App", app.id), name=app.name, owner=self.user(app.owner),
            description="", external_url=f"{self.base}/apps/{app.slug}", html_url=f"{self.base}/apps/{app.slug}",
            created_at=app.created_at, updated_at=app.created_at, permissions=dict(app.permissions),
            events=list(app.events), installations_count=sum(
                1 for i in self.state.installations.values() if i.app_id == app.id),
        )
        tmpl.pop("client_secret", None)
        tmpl.pop("webhook_secret", None)
        tmpl.pop("pem", None)
        tmpl["client_id"] = app.client_id
        return tmpl

    def installation(self, inst: Installation) -> dict:
        """The installation JSON (GET /repos/{o}/{r}/installation, GET /app/installations)."""
        app = self.state.apps[inst.app_id]
        tmpl = rest_template("apps.get-repo-installation")
        base = self.base
        tmpl.update(
            id=inst.id, account=self.user(inst.account), app_id=app.id, app_slug=app.slug,
            target_id=self.state.ensure_user(inst.account).id, target_type="User",
            repository_selection="selected", permissions=dict(app.permissions), events=list(app.events),
            access_tokens_url=f"{base}/app/installations/{inst.id}/access_tokens",
            repositories_url=f"{base}/installation/repositories",
            html_url=f"{base}/settings/installations/{inst.id}", created_at=inst.created_at,
            updated_at=inst.created_at, single_file_name=None, suspended_at=None, suspended_by=None,
        )
        return tmpl

    def installation_lite(self, inst: Installation) -> dict:
        return {"id": inst.id, "node_id": node_id("Installation", inst.id)}

    # -- repositories ---------------------------------------------------------------------------
    def repo(self, repo: Repo, kind: str = "rest", role: str | None = "admin") -> dict:
        """Repository JSON; ``kind`` is rest (full-repository), webhook, or pr (a pull's head/base repo)."""
        if kind == "webhook":
            tmpl = webhook_template("pull_request", "opened", "repository")
        elif kind == "pr":
            tmpl = rest_template("pulls.get", key="head")["repo"]
        else:
            tmpl = rest_template("repos.get")
            for key in ("parent", "source", "template_repository", "organization"):
                tmpl.pop(key, None)
        tmpl = _replace_strings(tmpl, [(tmpl["full_name"], repo.full_name)] + host_pairs(self.base))
        host = self.base.split("://", 1)[-1]
        values = {
            "id": repo.id, "node_id": node_id("Repository", repo.id), "name": repo.name,
            "full_name": repo.full_name, "owner": self.user(repo.owner), "private": False,
            "description": None, "fork": False, "homepage": None, "language": None, "default_branch": repo.default_branch,
            "created_at": _time_like(tmpl.get("created_at"), repo.created_at),
            "updated_at": repo.created_at, "pushed_at": _time_like(tmpl.get("pushed_at"), repo.pushed_at),
            "git_url": f"git://{host}/{repo.full_name}.git", "ssh_url": f"git@{host}:{repo.full_name}.git",
            "clone_url": f"{self.base}/{repo.full_name}.git", "svn_url": f"{self.base}/{repo.full_name}",
            "mirror_url": None, "archived": False, "disabled": False, "visibility": "public", "topics": [],
            "license": None, "is_template": False, "size": 0, "open_issues_count": sum(
                1 for i in repo.issues.values() if i["state"] == "open"),
            "allow_merge_commit": True, "allow_squash_merge": True, "allow_rebase_merge": True,
        }
        values["open_issues"] = values["open_issues_count"]
        if kind == "rest" and role:
            rank = {"read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}.get(role, 0)
            values["permissions"] = {"admin": rank >= 5, "maintain": rank >= 4, "push": rank >= 3,
                                     "triage": rank >= 2, "pull": rank >= 1}
        out = overlay(tmpl, values, strict=kind != "rest")
        if kind == "webhook" and "custom_properties" in out:
            out["custom_properties"] = {}
        return out

    def label(self, repo: Repo, name: str) -> dict:
        """Label JSON for ``name`` in ``repo``."""
        lab = repo.labels[name]
        return {
            "id": lab["id"], "node_id": node_id("Label", lab["id"]), "name": name,
            "url": f"{self.base}/repos/{repo.full_name}/labels/{name}", "color": lab.get("color", "ededed"),
            "default": False, "description": lab.get("description"),
        }

    # -- issues and pulls -----------------------------------------------------------------------
    def _number_pairs(self, repo: Repo, tmpl: dict) -> list[tuple[str, str]]:
        old = tmpl.get("repository_url") or tmpl["url"].rsplit("/", 2)[0]
        old_full = old.split("/repos/", 1)[1]
        return [(old_full, repo.full_name), (f"/{tmpl['number']}", "/{NUMBER}")] + host_pairs(self.base)

    def issue(self, repo: Repo, issue: dict, kind: str = "rest") -> dict:
        """Issue JSON (REST ``issue`` or webhook ``issue``); pulls carry a ``pull_request`` key."""
        tmpl = (webhook_template("issues", "opened", "issue") if kind == "webhook"
                else rest_template("issues.get"))
        tmpl = _replace_strings(tmpl, self._number_pairs(repo, tmpl))
        tmpl = _replace_strings(tmpl, [("{NUMBER}", str(issue["number"]))])
        n = issue["number"]
        values = {
            "id": issue["id"], "node_id": node_id("Issue", issue["id"]), "number": n,
            "title": issue["title"], "body": issue["body"], "state": issue["state"],
            "state_reason": issue.get("state_reason"), "user": self.user(issue["user"]),
            "labels": [self.label(repo, name) for name in issue["labels"]], **self._assignees(issue),
            "milestone": None, "locked": False, "active_lock_reason": None,
            "comments": sum(1 for c in repo.comments.values() if c["issue"] == n),
            "closed_at": issue["closed_at"], "created_at": issue["created_at"], "updated_at": issue["updated_at"],
            "closed_by": self.user(issue["closed_by"]) if issue.get("closed_by") else None,
            "author_association": "OWNER" if issue["user"] == repo.owner else "CONTRIBUTOR",
            "reactions": self._reactions(repo, ("issue", n), tmpl.get("reactions")),
        }
        out = overlay(tmpl, values, strict=kind == "webhook")
        if "pull" in issue:
            base = f"{self.base}/repos/{repo.full_name}/pulls/{n}"
            html = f"{self.base}/{repo.full_name}/pull/{n}"
            out["pull_request"] = {"url": base, "html_url": html, "diff_url": html + ".diff",
                                   "patch_url": html + ".patch", "merged_at": issue["pull"]["merged_at"]}
        else:
            out.pop("pull_request", None)
        return out

    def _assignees(self, issue: dict) -> dict:
        logins = issue.get("assignees", [])
        return {"assignee": self.user(logins[0]) if logins else None, "assignees": [self.user(x) for x in logins]}

    def _reactions(self, repo: Repo, key, tmpl) -> dict:
        counts = {"+1": 0, "-1": 0, "laugh": 0, "hooray": 0, "confused": 0, "heart": 0, "rocket": 0, "eyes": 0}
        url = f"{self.base}/repos/{repo.full_name}/issues/{key[1]}/reactions" if key[0] == "issue" else \
            f"{self.base}/repos/{repo.full_name}/issues/comments/{key[1]}/reactions"
        for r in repo.reactions.get(key, []):
            counts[r["content"]] = counts.get(r["content"], 0) + 1
        return {"url": url, "total_count": sum(counts.values()), **counts}

    def pull(self, repo: Repo, issue: dict, kind: str = "rest") -> dict:
        """Pull request JSON with head/base, merge state and diff statistics computed by git."""
        tmpl = (webhook_template("pull_request", "opened", "pull_request") if kind == "webhook"
                else rest_template("pulls.get"))
        pr = issue["pull"]
        n = issue["number"]
        pairs = self._number_pairs(repo, tmpl)
        tmpl = _replace_strings(tmpl, pairs + [(tmpl["head"]["sha"], pr["head_sha"])])
        tmpl = _replace_strings(tmpl, [("{NUMBER}", str(n))])
        stats = pr.get("stats") or {}
        values = {
            "id": issue["pr_id"], "node_id": node_id("PullRequest", issue["pr_id"]), "number": n,
            "state": issue["state"], "locked": False, "title": issue["title"], "user": self.user(issue["user"]),
            "body": issue["body"], "labels": [self.label(repo, name) for name in issue["labels"]],
            "milestone": None, "active_lock_reason": None, "created_at": issue["created_at"],
            "updated_at": issue["updated_at"], "closed_at": issue["closed_at"], "merged_at": pr["merged_at"],
            "merge_commit_sha": pr.get("merge_commit_sha"), **self._assignees(issue),
            "requested_reviewers": [], "requested_teams": [],
            "head": self._branch_ref(repo, pr["head_ref"], pr["head_sha"], tmpl["head"], kind),
            "base": self._branch_ref(repo, pr["base_ref"], pr["base_sha"], tmpl["base"], kind),
            "author_association": "OWNER" if issue["user"] == repo.owner else "CONTRIBUTOR",
            "auto_merge": None, "draft": pr["draft"], "merged": pr["merged"],
            "mergeable": stats.get("mergeable"), "rebaseable": stats.get("mergeable"),
            "mergeable_state": stats.get("mergeable_state", "unknown"),
            "merged_by": self.user(pr["merged_by"]) if pr.get("merged_by") else None,
            "comments": sum(1 for c in repo.comments.values() if c["issue"] == n), "review_comments": 0,
            "maintainer_can_modify": False, "commits": stats.get("commits", 0),
            "additions": stats.get("additions", 0), "deletions": stats.get("deletions", 0),
            "changed_files": stats.get("changed_files", 0),
        }
        return overlay(tmpl, values, strict=kind == "webhook")

    def _branch_ref(self, repo: Repo, ref: str, sha: str, tmpl: dict, kind: str) -> dict:
        out = dict(tmpl)
        out.update(label=f"{repo.owner}:{ref}", ref=ref, sha=sha, user=self.user(repo.owner),
                   repo=self.repo(repo, "webhook" if kind == "webhook" else "pr"))
        return out

    def comment(self, repo: Repo, comment: dict, kind: str = "rest") -> dict:
        """Issue comment JSON."""
        tmpl = (webhook_template("issue_comment", "created", "comment") if kind == "webhook"
                else rest_template("issues.create-comment", "201"))
        tmpl = _replace_strings(tmpl, host_pairs(self.base))
        n, cid = comment["issue"], comment["id"]
        values = {
            "id": cid, "node_id": node_id("IssueComment", cid),
            "url": f"{self.base}/repos/{repo.full_name}/issues/comments/{cid}",
            "html_url": f"{self.base}/{repo.full_name}/issues/{n}#issuecomment-{cid}",
            "issue_url": f"{self.base}/repos/{repo.full_name}/issues/{n}", "body": comment["body"],
            "user": self.user(comment["user"]), "created_at": comment["created_at"],
            "updated_at": comment["updated_at"],
            "author_association": "OWNER" if comment["user"] == repo.owner else "CONTRIBUTOR",
            "performed_via_github_app": None, "reactions": self._reactions(repo, ("comment", cid), None),
        }
        return overlay(tmpl, values, strict=kind == "webhook")

    # -- checks ---------------------------------------------------------------------------------
    def check_pull_requests(self, repo: Repo, sha: str) -> list[dict]:
        """The ``pull_requests`` of a check run/suite: open same-repo PRs whose head is ``sha``."""
        out = []
        for issue in repo.issues.values():
            pr = issue.get("pull")
            if pr and issue["state"] == "open" and pr["head_sha"] == sha:
                mini = {"id": repo.id, "url": f"{self.base}/repos/{repo.full_name}", "name": repo.name}
                out.append({
                    "url": f"{self.base}/repos/{repo.full_name}/pulls/{issue['number']}", "id": issue["pr_id"],
                    "number": issue["number"], "head": {"ref": pr["head_ref"], "sha": pr["head_sha"], "repo": mini},
                    "base": {"ref": pr["base_ref"], "sha": pr["base_sha"], "repo": mini},
                })
        return out

    def check_suite(self, repo: Repo, suite: dict, kind: str = "rest") -> dict:
        """check_suite JSON."""
        tmpl = webhook_template("check_suite", "requested", "check_suite")
        tmpl = _replace_strings(tmpl, host_pairs(self.base))
        app = self.state.apps[suite["app_id"]]
        values = {
            "id": suite["id"], "node_id": node_id("CheckSuite", suite["id"]), "head_branch": suite["head_branch"],
            "head_sha": suite["head_sha"], "status": suite["status"], "conclusion": suite["conclusion"],
            "url": f"{self.base}/repos/{repo.full_name}/check-suites/{suite['id']}", "before": suite.get("before"),
            "after": suite["head_sha"], "pull_requests": self.check_pull_requests(repo, suite["head_sha"]),
            "app": self.app_for_payload(app, tmpl.get("app")), "created_at": suite["created_at"],
            "updated_at": suite["updated_at"], "latest_check_runs_count": sum(
                1 for r in repo.check_runs.values() if r["suite_id"] == suite["id"]),
            "check_runs_url": f"{self.base}/repos/{repo.full_name}/check-suites/{suite['id']}/check-runs",
            "rerequestable": True, "runs_rerequestable": True,
        }
        info = repo.git.commit_info(suite["head_sha"])
        values["head_commit"] = {
            "id": info["sha"], "tree_id": info["tree"], "message": info["message"], "timestamp": info["committer"]["date"],
            "author": {"name": info["author"]["name"], "email": info["author"]["email"]},
            "committer": {"name": info["committer"]["name"], "email": info["committer"]["email"]},
        }
        values["repository"] = self.repo(repo, "pr")
        return overlay(tmpl, values, strict=kind == "webhook")

    def app_for_payload(self, app: App, tmpl: dict | None) -> dict:
        full = self.app(app)
        if tmpl is None:
            return full
        return overlay(_replace_strings(tmpl, host_pairs(self.base)), full, strict=True)

    def check_run(self, repo: Repo, run: dict, kind: str = "rest") -> dict:
        """check_run JSON; ``output.annotations_count`` counts every appended annotation."""
        tmpl = (webhook_template("check_run", "created", "check_run") if kind == "webhook"
                else rest_template("checks.create", "201"))
        tmpl = _replace_strings(tmpl, host_pairs(self.base))
        app = self.state.apps[run["app_id"]]
        rid = run["id"]
        suite = repo.check_suites[run["suite_id"]]
        out_tmpl = tmpl["output"]
        output = overlay(out_tmpl, {
            "title": run["output"].get("title"), "summary": run["output"].get("summary"),
            "text": run["output"].get("text"), "annotations_count": len(run["annotations"]),
            "annotations_url": f"{self.base}/repos/{repo.full_name}/check-runs/{rid}/annotations",
        }, strict=kind == "webhook")
        values = {
            "id": rid, "node_id": node_id("CheckRun", rid), "head_sha": run["head_sha"], "name": run["name"],
            "external_id": run.get("external_id") or "", "details_url": run.get("details_url") or "",
            "url": f"{self.base}/repos/{repo.full_name}/check-runs/{rid}",
            "html_url": f"{self.base}/{repo.full_name}/runs/{rid}", "status": run["status"],
            "conclusion": run["conclusion"], "started_at": run["started_at"], "completed_at": run["completed_at"],
            "output": output, "app": self.app_for_payload(app, tmpl.get("app") if kind == "webhook" else None),
            "pull_requests": self.check_pull_requests(repo, run["head_sha"]),
        }
        if kind == "webhook":
            values["check_suite"] = overlay(tmpl["check_suite"], {
                k: v for k, v in self.check_suite(repo, suite, "webhook").items() if k in tmpl["check_suite"]
            }, strict=True)
            values["check_suite"]["app"] = self.app_for_payload(app, tmpl["check_suite"].get("app"))
        else:
            values["check_suite"] = {"id": suite["id"]}
        return overlay(tmpl, values, strict=kind == "webhook")

    # -- actions --------------------------------------------------------------------------------
    def workflow(self, repo: Repo, wf: dict) -> dict:
        """workflow JSON (the ``workflow`` of a ``workflow_run`` webhook; REST's ``workflow``)."""
        tmpl = webhook_template("workflow_run", "requested", "workflow")
        return overlay(tmpl, {
            "id": wf["id"], "node_id": node_id("Workflow", wf["id"]), "name": wf["name"], "path": wf["path"],
            "state": "active", "created_at": wf["created_at"], "updated_at": wf["created_at"],
            "url": f"{self.base}/repos/{repo.full_name}/actions/workflows/{wf['id']}",
            "html_url": f"{self.base}/{repo.full_name}/blob/{repo.default_branch}/{wf['path']}",
            "badge_url": f"{self.base}/{repo.full_name}/workflows/{wf['name']}/badge.svg",
        }, strict=True)

    def workflow_run(self, repo: Repo, run: dict) -> dict:
        """workflow-run JSON, the same for REST answers and ``workflow_run`` webhooks (the webhook
        schema allows no field the REST one lacks)."""
        tmpl = _replace_strings(webhook_template("workflow_run", "requested", "workflow_run"), host_pairs(self.base))
        api, rid = f"{self.base}/repos/{repo.full_name}/actions/runs/{run['id']}", run["id"]
        info = repo.git.commit_info(run["head_sha"])
        lite = overlay(tmpl["repository"], self.repo(repo, "pr"), strict=True)
        return overlay(tmpl, {
            "id": rid, "node_id": node_id("WorkflowRun", rid), "name": run["name"],
            "display_title": run["display_title"], "path": run["path"], "event": "workflow_dispatch",
            "head_branch": run["head_branch"], "head_sha": run["head_sha"], "run_number": run["run_number"],
            "run_attempt": 1, "status": run["status"], "conclusion": run["conclusion"],
            "workflow_id": run["workflow_id"], "check_suite_id": run["check_suite_id"],
            "check_suite_node_id": node_id("CheckSuite", run["check_suite_id"]),
            "url": api, "html_url": f"{self.base}/{repo.full_name}/actions/runs/{rid}",
            "jobs_url": f"{api}/jobs", "logs_url": f"{api}/logs", "artifacts_url": f"{api}/artifacts",
            "cancel_url": f"{api}/cancel", "rerun_url": f"{api}/rerun", "previous_attempt_url": None,
            "check_suite_url": f"{self.base}/repos/{repo.full_name}/check-suites/{run['check_suite_id']}",
            "workflow_url": f"{self.base}/repos/{repo.full_name}/actions/workflows/{run['workflow_id']}",
            "created_at": run["created_at"], "updated_at": run["updated_at"], "run_started_at": run["created_at"],
            "actor": self.user(run["actor"]), "triggering_actor": self.user(run["actor"]), "pull_requests": [],
            "head_commit": {
                "id": info["sha"], "tree_id": info["tree"], "message": info["message"],
                "timestamp": _z(info["committer"]["date"]),
                "author": {"name": info["author"]["name"], "email": info["author"]["email"]},
                "committer": {"name": info["committer"]["name"], "email": info["committer"]["email"]}},
            "repository": lite, "head_repository": lite,
        }, strict=True)

    # -- commits --------------------------------------------------------------------------------
    def git_commit(self, repo: Repo, sha: str) -> dict:
        """git-commit JSON (GET/POST /git/commits)."""
        info = repo.git.commit_info(sha)
        base = f"{self.base}/repos/{repo.full_name}"
        return {
            "sha": sha, "node_id": node_id("Commit", int(sha[:7], 16)), "url": f"{base}/git/commits/{sha}",
            "html_url": f"{self.base}/{repo.full_name}/commit/{sha}",
            "author": info["author"] | {"date": _z(info["author"]["date"])},
            "committer": info["committer"] | {"date": _z(info["committer"]["date"])},
            "message": info["message"], "tree": {"sha": info["tree"], "url": f"{base}/git/trees/{info['tree']}"},
            "parents": [{"sha": p, "url": f"{base}/git/commits/{p}",
                         "html_url": f"{self.base}/{repo.full_name}/commit/{p}"} for p in info["parents"]],
            "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None},
        }

    def commit(self, repo: Repo, sha: str, files: list[dict] | None = None) -> dict:
        """commit JSON (GET /commits/{ref}, compare's commits), ``files`` included when given."""
        gc = self.git_commit(repo, sha)
        base = f"{self.base}/repos/{repo.full_name}"
        out = {
            "url": f"{base}/commits/{sha}", "sha": sha, "node_id": gc["node_id"],
            "html_url": gc["html_url"], "comments_url": f"{base}/commits/{sha}/comments",
            "commit": {
                "url": gc["url"], "author": gc["author"], "committer": gc["committer"], "message": gc["message"],
                "comment_count": 0, "tree": gc["tree"], "verification": gc["verification"],
            },
            "author": None, "committer": None,
            "parents": [{"sha": p["sha"], "url": f"{base}/commits/{p['sha']}", "html_url": p["html_url"]}
                        for p in gc["parents"]],
        }
        if files is not None:
            out["files"] = files
            adds = sum(f["additions"] for f in files)
            dels = sum(f["deletions"] for f in files)
            out["stats"] = {"additions": adds, "deletions": dels, "total": adds + dels}
        return out

    def diff_entry(self, repo: Repo, entry, ref: str) -> dict:
        """diff-entry JSON for one changed file (status, previous_filename for renames)."""
        base = f"{self.base}/repos/{repo.full_name}"
        out = {
            "sha": entry.sha, "filename": entry.filename, "status": entry.status,
            "additions": entry.additions, "deletions": entry.deletions, "changes": entry.additions + entry.deletions,
            "blob_url": f"{self.base}/{repo.full_name}/blob/{ref}/{entry.filename}",
            "raw_url": f"{self.base}/{repo.full_name}/raw/{ref}/{entry.filename}",
            "contents_url": f"{base}/contents/{entry.filename}?ref={ref}",
        }
        if entry.previous_filename:
            out["previous_filename"] = entry.previous_filename
        return out

    def ref(self, repo: Repo, ref: str, sha: str) -> dict:
        """git-ref JSON."""
        return {
            "ref": ref, "node_id": node_id("Ref", abs(hash(ref)) % 10**9),
            "url": f"{self.base}/repos/{repo.full_name}/git/{ref}",
            "object": {"type": "commit", "sha": sha, "url": f"{self.base}/repos/{repo.full_name}/git/commits/{sha}"},
        }

    def webhook(self, event: str, action: str | None, body: dict, inst: Installation, repo: Repo | None,
                sender: dict) -> dict:
        """A full webhook payload: ``action`` first, then ``body``, repository, sender, installation."""
        out: dict = {"action": action} if action else {}
        out.update(body)
        if repo is not None:
            out["repository"] = self.repo(repo, "webhook")
        out["sender"] = sender
        out["installation"] = self.installation_lite(inst)
        return out


def _z(date: str) -> str:
    # git prints +00:00; GitHub writes Z
    return date.replace("+00:00", "Z")


__all__ = ["Payloads", "rest_template", "webhook_template", "node_id", "now_iso"]
