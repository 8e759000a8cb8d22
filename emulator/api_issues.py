"""Issues, labels, comments and reactions. Pull requests share issue numbers and appear in issue lists."""

from __future__ import annotations

from flask import Flask, request

from .core import Emulator
from .rest import ApiError, answer, json_body, not_found, paginate
from .state import now_iso


def register(app: Flask, emu: Emulator) -> None:
    """Add issue routes to ``app``."""
    st = emu.state
    pl = emu.payloads

    def get_issue(repo, number: int) -> dict:
        issue = repo.issues.get(number)
        if issue is None:
            raise not_found()
        return issue

    def ensure_label(repo, name: str) -> None:
        if name not in repo.labels:
            repo.labels[name] = {"id": st.next_id(), "color": "ededed", "description": None}

    def emit_issue(repo, issue, action: str, extra: dict | None = None) -> None:
        if "pull" in issue:
            body = {"number": issue["number"], "pull_request": pl.pull(repo, emu.refresh_pull(repo, issue), "webhook")}
            body.update(extra or {})
            emu.emit(repo, "pull_request", action, body)
        else:
            body = {"issue": pl.issue(repo, issue, "webhook")}
            body.update(extra or {})
            emu.emit(repo, "issues", action, body)

    def set_labels(repo, issue, names: list[str]) -> None:
        old = list(issue["labels"])
        for n in names:
            ensure_label(repo, n)
        issue["labels"] = list(dict.fromkeys(names))
        issue["updated_at"] = now_iso()
        for n in old:
            if n not in issue["labels"]:
                emit_issue(repo, issue, "unlabeled", {"label": pl.label(repo, n)})
        for n in issue["labels"]:
            if n not in old:
                emit_issue(repo, issue, "labeled", {"label": pl.label(repo, n)})

    def label_names(body) -> list[str]:
        raw = body.get("labels", []) if isinstance(body, dict) else body
        names = []
        for item in raw or []:
            names.append(item["name"] if isinstance(item, dict) else str(item))
        return names

    @app.get("/repos/<owner>/<name>/issues")
    def list_issues(owner, name):
        repo = emu.repo(owner, name, permission="issues")
        state = request.args.get("state", "open")
        labels = [x for x in request.args.get("labels", "").split(",") if x]
        items = [i for i in repo.issues.values() if state == "all" or i["state"] == state]
        items = [i for i in items if all(lab in i["labels"] for lab in labels)]
        reverse = request.args.get("direction", "desc") != "asc"
        key = request.args.get("sort", "created")
        items.sort(key=lambda i: (i["updated_at"] if key == "updated" else "", i["number"]), reverse=reverse)
        page, headers = paginate(items, st.base_url)
        return answer([pl.issue(repo, emu.refresh_pull(repo, i) if "pull" in i else i) for i in page], headers=headers)

    @app.post("/repos/<owner>/<name>/issues")
    def create_issue(owner, name):
        repo = emu.repo(owner, name, "read", permission="issues")
        body = json_body()
        if not body.get("title"):
            raise ApiError(422, "Validation Failed", [{"resource": "Issue", "field": "title", "code": "missing_field"}])
        with st.lock:
            number = repo.next_number
            repo.next_number += 1
            ts = now_iso()
            issue = {"id": st.next_id(), "number": number, "title": body["title"], "body": body.get("body"),
                     "state": "open", "state_reason": None, "labels": [], "user": emu.actor_login(),
                     "created_at": ts, "updated_at": ts, "closed_at": None, "closed_by": None,
                     "order": next(st.order)}
            repo.issues[number] = issue
            emu.emit(repo, "issues", "opened", {"issue": pl.issue(repo, issue, "webhook")})
            names = label_names(body)
            if names:
                set_labels(repo, issue, names)
        return answer(pl.issue(repo, issue), 201,
                      {"Location": f"{st.base_url}/repos/{repo.full_name}/issues/{number}"})

    @app.get("/repos/<owner>/<name>/issues/<int:number>")
    def show_issue(owner, name, number):
        repo = emu.repo(owner, name, permission="issues")
        issue = get_issue(repo, number)
        return answer(pl.issue(repo, issue))

    @app.patch("/repos/<owner>/<name>/issues/<int:number>")
    def update_issue(owner, name, number):
        repo = emu.repo(owner, name, "triage", permission="issues")
        body = json_body()
        with st.lock:
            issue = get_issue(repo, number)
            changes = {}
            for key in ("title", "body"):
                if key in body and body[key] != issue[key]:
                    changes[key] = {"from": issue[key]}
                    issue[key] = body[key]
            if changes:
                issue["updated_at"] = now_iso()
                emit_issue(repo, issue, "edited", {"changes": changes})
            if "labels" in body:
                set_labels(repo, issue, label_names(body))
            if "state" in body and body["state"] != issue["state"]:
                if body["state"] not in ("open", "closed"):
                    raise ApiError(422, "Validation Failed")
                if "pull" in issue and issue["pull"]["merged"]:
                    raise ApiError(422, "Cannot reopen a merged pull request")
                issue["state"] = body["state"]
                issue["updated_at"] = now_iso()
                if body["state"] == "closed":
                    issue["closed_at"] = issue["updated_at"]
                    issue["closed_by"] = emu.actor_login()
                    issue["state_reason"] = None if "pull" in issue else body.get("state_reason") or "completed"
                    emit_issue(repo, issue, "closed")
                    if "pull" in issue:
                        emu.dequeue(repo, number, "dequeued")
                else:
                    issue["closed_at"] = None
                    issue["closed_by"] = None
                    issue["state_reason"] = None if "pull" in issue else "reopened"
                    emit_issue(repo, issue, "reopened")
            elif "state_reason" in body and issue["state"] == "closed":
                issue["state_reason"] = body["state_reason"]
        return answer(pl.issue(repo, issue))

    @app.get("/repos/<owner>/<name>/issues/<int:number>/labels")
    def list_labels(owner, name, number):
        repo = emu.repo(owner, name, permission="issues")
        issue = get_issue(repo, number)
        return answer([pl.label(repo, n) for n in issue["labels"]])

    @app.post("/repos/<owner>/<name>/issues/<int:number>/labels")
    def add_labels(owner, name, number):
        repo = emu.repo(owner, name, "triage", permission="issues")
        body = json_body() if request.get_data()[:1] != b"[" else {"labels": request.get_json()}
        with st.lock:
            issue = get_issue(repo, number)
            set_labels(repo, issue, issue["labels"] + label_names(body))
        return answer([pl.label(repo, n) for n in issue["labels"]])

    @app.put("/repos/<owner>/<name>/issues/<int:number>/labels")
    def replace_labels(owner, name, number):
        repo = emu.repo(owner, name, "triage", permission="issues")
        body = json_body() if request.get_data()[:1] != b"[" else {"labels": request.get_json()}
        with st.lock:
            issue = get_issue(repo, number)
            set_labels(repo, issue, label_names(body))
        return answer([pl.label(repo, n) for n in issue["labels"]])

    @app.delete("/repos/<owner>/<name>/issues/<int:number>/labels/<path:label>")
    def remove_label(owner, name, number, label):
        repo = emu.repo(owner, name, "triage", permission="issues")
        with st.lock:
            issue = get_issue(repo, number)
            if label not in issue["labels"]:
                raise ApiError(404, "Label does not exist")
            set_labels(repo, issue, [n for n in issue["labels"] if n != label])
        return answer([pl.label(repo, n) for n in issue["labels"]])

    # -- comments -------------------------------------------------------------------------------
    def emit_comment(repo, comment, action: str, extra: dict | None = None) -> None:
        issue = repo.issues[comment["issue"]]
        body = {"issue": pl.issue(repo, issue, "webhook"), "comment": pl.comment(repo, comment, "webhook")}
        body.update(extra or {})
        emu.emit(repo, "issue_comment", action, body)

    @app.get("/repos/<owner>/<name>/issues/<int:number>/comments")
    def list_comments(owner, name, number):
        repo = emu.repo(owner, name, permission="issues")
        get_issue(repo, number)
        items = sorted((c for c in repo.comments.values() if c["issue"] == number), key=lambda c: c["id"])
        page, headers = paginate(items, st.base_url)
        return answer([pl.comment(repo, c) for c in page], headers=headers)

    @app.post("/repos/<owner>/<name>/issues/<int:number>/comments")
    def create_comment(owner, name, number):
        repo = emu.repo(owner, name, "read", permission="issues")
        body = json_body()
        if not isinstance(body.get("body"), str) or not body["body"]:
            raise ApiError(422, "Validation Failed", [{"resource": "IssueComment", "field": "body",
                                                        "code": "missing_field"}])
        with st.lock:
            get_issue(repo, number)
            ts = now_iso()
            comment = {"id": st.next_id(), "issue": number, "body": body["body"], "user": emu.actor_login(),
                       "created_at": ts, "updated_at": ts, "order": next(st.order)}
            repo.comments[comment["id"]] = comment
            emit_comment(repo, comment, "created")
        return answer(pl.comment(repo, comment), 201,
                      {"Location": f"{st.base_url}/repos/{repo.full_name}/issues/comments/{comment['id']}"})

    def get_comment(repo, cid: int) -> dict:
        comment = repo.comments.get(cid)
        if comment is None:
            raise not_found()
        return comment

    @app.get("/repos/<owner>/<name>/issues/comments/<int:cid>")
    def show_comment(owner, name, cid):
        repo = emu.repo(owner, name, permission="issues")
        return answer(pl.comment(repo, get_comment(repo, cid)))

    @app.patch("/repos/<owner>/<name>/issues/comments/<int:cid>")
    def edit_comment(owner, name, cid):
        repo = emu.repo(owner, name, "read", permission="issues")
        body = json_body()
        if not isinstance(body.get("body"), str):
            raise ApiError(422, "Validation Failed")
        with st.lock:
            comment = get_comment(repo, cid)
            actor = emu.actor
            if actor.kind == "user" and comment["user"] != actor.login and \
                    st.role(actor.login, repo.full_name) in ("read", None):
                raise ApiError(403, "You must have triage access to edit this comment")
            old = comment["body"]
            comment["body"] = body["body"]
            comment["updated_at"] = now_iso()
            if old != body["body"]:
                emit_comment(repo, comment, "edited", {"changes": {"body": {"from": old}}})
        return answer(pl.comment(repo, comment))

    @app.delete("/repos/<owner>/<name>/issues/comments/<int:cid>")
    def delete_comment(owner, name, cid):
        repo = emu.repo(owner, name, "read", permission="issues")
        with st.lock:
            comment = get_comment(repo, cid)
            actor = emu.actor
            if actor.kind == "user" and comment["user"] != actor.login and \
                    st.role(actor.login, repo.full_name) in ("read", None):
                raise ApiError(403, "You must have triage access to delete this comment")
            emit_comment(repo, comment, "deleted")
            del repo.comments[cid]
        return answer(None, 204)

    @app.post("/repos/<owner>/<name>/issues/<int:number>/assignees")
    def add_assignees(owner, name, number):
        repo = emu.repo(owner, name, "read", permission="issues")
        body = json_body()
        assignment = agent_assignment(body, emu.actor, repo)
        logins = body.get("assignees") or []
        if not isinstance(logins, list) or not all(isinstance(x, str) for x in logins):
            raise ApiError(422, "Invalid request.\n\nFor 'properties/assignees', it is not an array of strings.")
        with st.lock:
            issue = get_issue(repo, number)
            current = issue.setdefault("assignees", [])
            # GitHub silently ignores people without access; the coding agent needs an agent_assignment
            for login in logins:
                allowed = st.role(login, repo.full_name) or (assignment is not None and login in CODING_AGENTS)
                if allowed and login not in current:
                    current.append(login)
                    issue["updated_at"] = now_iso()
                    emit_issue(repo, issue, "assigned", {"assignee": pl.user(login)})
            if assignment is not None:
                issue["agent_assignment"] = assignment
        return answer(pl.issue(repo, issue), 201)

    @app.post("/repos/<owner>/<name>/issues/comments/<int:cid>/reactions")
    def add_reaction(owner, name, cid):
        repo = emu.repo(owner, name, "read", permission="issues")
        body = json_body()
        content = body.get("content")
        if content not in ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes"):
            raise ApiError(422, "Validation Failed")
        with st.lock:
            get_comment(repo, cid)
            login = emu.actor_login()
            existing = next((r for r in repo.reactions.get(("comment", cid), [])
                             if r["user"] == login and r["content"] == content), None)
            if existing:
                return answer(_reaction(pl, existing))
            r = {"id": st.next_id(), "user": login, "content": content, "created_at": now_iso()}
            repo.reactions.setdefault(("comment", cid), []).append(r)
        return answer(_reaction(pl, r), 201)


# the logins GitHub's coding agent is assigned under (REST and GraphQL spellings)
CODING_AGENTS = ("copilot-swe-agent[bot]", "Copilot")
AGENT_ASSIGNMENT_FIELDS = ("target_repo", "base_branch", "custom_instructions", "custom_agent", "model")


def agent_assignment(body: dict, actor, repo) -> dict | None:
    """The request's ``agent_assignment`` (GitHub changelog, 2025-12-03), checked; None when absent.

    GitHub starts its coding agent only for a user token: an installation token gets 403
    "Resource not accessible by integration". Unknown or non-string fields and a missing
    ``base_branch`` give 422."""
    value = body.get("agent_assignment")
    if value is None:
        return None
    if actor.kind != "user":
        raise ApiError(403, "Resource not accessible by integration")
    if not isinstance(value, dict) or any(k not in AGENT_ASSIGNMENT_FIELDS or not isinstance(v, str)
                                          for k, v in value.items()):
        raise ApiError(422, "Invalid request.\n\nFor 'properties/agent_assignment', fields must be strings among "
                       + ", ".join(AGENT_ASSIGNMENT_FIELDS) + ".")
    branch = value.get("base_branch")
    if branch and repo.git.ref_sha(f"refs/heads/{branch}") is None:
        raise ApiError(422, f"base_branch {branch!r} does not exist")
    return dict(value)


def _reaction(pl, r: dict) -> dict:
    from .payloads import node_id

    return {"id": r["id"], "node_id": node_id("Reaction", r["id"]), "user": pl.user(r["user"]),
            "content": r["content"], "created_at": r["created_at"]}
