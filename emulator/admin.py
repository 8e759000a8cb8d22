"""The ``/_emulator/`` admin API: what GitHub has no REST API for (apps, repos from a file tree,
installations, users, deliveries, merge queue, faults, request log, state snapshots), plus the App
manifest flow (``POST /settings/apps/new`` and ``POST /app-manifests/{code}/conversions``)."""

from __future__ import annotations

import json
import secrets
import time
from urllib.parse import urlencode

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, redirect, request

from .agents import parse_config
from .core import Emulator
from .gitrepo import GitRepo, Signature
from .rest import ApiError, answer, json_body, not_found
from .state import DEFAULT_EVENTS, DEFAULT_PERMISSIONS, App, Installation, Repo, now_iso
from .workflows import advance

PREFIX = "/_emulator"


def register(app: Flask, emu: Emulator) -> None:
    """Add the admin routes to ``app``."""
    st = emu.state
    pl = emu.payloads

    def make_app(body: dict) -> App:
        app_id = int(body.get("id") or st.next_id())
        slug = body.get("slug") or f"app-{app_id}"
        a = App(id=app_id, slug=slug, name=body.get("name") or slug, public_key=body["public_key"],
                webhook_url=body.get("webhook_url"), webhook_secret=body.get("webhook_secret"),
                events=list(body.get("events") or DEFAULT_EVENTS),
                permissions=dict(body["permissions"] if body.get("permissions") is not None else DEFAULT_PERMISSIONS),
                client_id=body.get("client_id") or f"Iv1.{secrets.token_hex(8)}",
                client_secret=body.get("client_secret") or secrets.token_hex(20), hook_id=st.next_id())
        st.apps[app_id] = a
        st.ensure_user(a.owner)
        return a

    @app.post(f"{PREFIX}/apps")
    def create_app():
        body = json_body()
        if not body.get("public_key"):
            raise ApiError(422, "public_key is required")
        with st.lock:
            return answer(pl.app(make_app(body)) | {"webhook_url": body.get("webhook_url")}, 201)

    @app.patch(f"{PREFIX}/apps/<int:app_id>")
    def update_app(app_id):
        body = json_body()
        with st.lock:
            a = st.apps.get(app_id)
            if a is None:
                raise not_found()
            for key in ("webhook_url", "webhook_secret", "events", "permissions", "public_key", "name"):
                if key in body:
                    setattr(a, key, body[key])
            return answer(pl.app(a) | {"webhook_url": a.webhook_url})

    @app.post(f"{PREFIX}/repos")
    def create_repo():
        body = json_body()
        owner, name = body.get("owner"), body.get("name")
        if not owner or not name:
            raise ApiError(422, "owner and name are required")
        with st.lock:
            full = f"{owner}/{name}"
            if full in st.repos:
                raise ApiError(422, "name already exists on this account")
            st.ensure_user(owner)
            rid = st.next_id()
            git = GitRepo(st.data_dir / f"{owner}__{name}__{rid}.git")
            default = body.get("default_branch") or "main"
            git.init(default)
            files = body.get("files") or {"README.md": f"# {name}\n"}
            blobs = git.write_blobs([t.encode() if isinstance(t, str) else bytes(t) for t in files.values()])
            changes = [(p, "100644", sha) for p, sha in zip(files, blobs, strict=True)]
            tree = git.build_tree(None, changes)
            sig = Signature(owner, f"{owner}@users.noreply.emulator", now_iso())
            sha = git.commit_tree(tree, [], "Initial commit", sig)
            git.update_ref(f"refs/heads/{default}", sha)
            repo = Repo(id=rid, owner=owner, name=name, default_branch=default, git=git,
                        required_checks=list(body.get("required_checks",
                                                      ["wavegate/territory", "wavegate/wave-gate"])),
                        merge_queue=bool(body.get("merge_queue", False)),
                        tree_truncate_at=body.get("tree_truncate_at"))
            st.repos[full] = repo
            return answer(pl.repo(repo), 201)

    @app.patch(f"{PREFIX}/repos/<owner>/<name>")
    def update_repo(owner, name):
        body = json_body()
        with st.lock:
            repo = st.repos.get(f"{owner}/{name}")
            if repo is None:
                raise not_found()
            for key in ("required_checks", "merge_queue", "tree_truncate_at"):
                if key in body:
                    setattr(repo, key, body[key])
            return answer(pl.repo(repo))

    @app.post(f"{PREFIX}/installations")
    def create_installation():
        body = json_body()
        with st.lock:
            a = st.apps.get(int(body.get("app_id", 0)))
            if a is None:
                raise ApiError(422, "unknown app_id")
            repos = list(body.get("repos") or [])
            missing = [r for r in repos if r not in st.repos]
            if missing:
                raise ApiError(422, f"unknown repositories: {missing}")
            account = body.get("account") or (repos[0].split("/")[0] if repos else a.owner)
            inst = Installation(int(body.get("id") or st.next_id()), a.id, repos, account)
            st.installations[inst.id] = inst
            return answer({"id": inst.id, "app_id": a.id, "repos": repos, "account": account}, 201)

    @app.post(f"{PREFIX}/users")
    def create_user():
        body = json_body()
        if not body.get("login"):
            raise ApiError(422, "login is required")
        with st.lock:
            user = st.ensure_user(body["login"], body.get("permissions") or {})
            return answer({"login": user.login, "id": user.id, "token": user.token,
                           "permissions": user.permissions}, 201)

    # -- deliveries -----------------------------------------------------------------------------
    @app.get(f"{PREFIX}/deliveries")
    def deliveries():
        items = [d.summary() for d in emu.sender.deliveries]
        if request.args.get("event"):
            items = [d for d in items if d["event"] == request.args["event"]]
        return answer(items)

    @app.get(f"{PREFIX}/deliveries/<int:did>")
    def delivery(did):
        d = emu.sender.get(did)
        if d is None:
            raise not_found()
        return answer(d.summary() | {"payload": d.payload, "headers": d.headers})

    @app.post(f"{PREFIX}/deliveries/<int:did>/redeliver")
    def redeliver(did):
        d = emu.sender.redeliver(did)
        if d is None:
            raise not_found()
        return answer(d.summary(), 202)

    @app.post(f"{PREFIX}/webhooks/hold")
    def hold():
        emu.sender.hold()
        return answer({"holding": True})

    @app.post(f"{PREFIX}/webhooks/release")
    def release():
        body = json_body()
        n = emu.sender.release(body.get("order", "fifo"), body.get("seed"), body.get("window"))
        return answer({"released": n})

    @app.post(f"{PREFIX}/webhooks/config")
    def webhook_config():
        body = json_body()
        return answer(emu.sender.configure(body.get("duplicate"), body.get("shuffle_window"), body.get("seed")))

    @app.post(f"{PREFIX}/webhooks/drain")
    def drain():
        # scripted agents first: their runs and pushes cause more deliveries
        body = json_body()
        timeout = float(body.get("timeout", 10))
        started = time.monotonic()
        ok = emu.agents.wait(timeout) and emu.sender.drain(max(0.0, timeout - (time.monotonic() - started)))
        return answer({"drained": ok}, 200 if ok else 504)

    # -- scripted agents and workflow runs -------------------------------------------------------
    @app.put(f"{PREFIX}/repos/<owner>/<name>/agents")
    def set_agents(owner, name):
        config = parse_config(json_body())
        with st.lock:
            if f"{owner}/{name}" not in st.repos:
                raise not_found()
            emu.agents.settings[f"{owner}/{name}"] = config
        return answer(config)

    @app.get(f"{PREFIX}/repos/<owner>/<name>/agents")
    def agents_log(owner, name):
        full = f"{owner}/{name}"
        return answer({"settings": emu.agents.settings.get(full), "runs": emu.agents.log.get(full, [])})

    @app.patch(f"{PREFIX}/repos/<owner>/<name>/actions/runs/<int:run_id>")
    def move_run(owner, name, run_id):
        body = json_body()
        with st.lock:
            repo = st.repos.get(f"{owner}/{name}")
            run = repo.workflow_runs.get(run_id) if repo else None
            if run is None:
                raise not_found()
            try:
                advance(emu, repo, run, body.get("status"), body.get("conclusion"))
            except ValueError as exc:
                raise ApiError(422, str(exc)) from exc
            return answer(pl.workflow_run(repo, run))

    # -- merge queue ----------------------------------------------------------------------------
    @app.post(f"{PREFIX}/repos/<owner>/<name>/merge-queue")
    def enqueue(owner, name):
        body = json_body()
        with st.lock:
            repo = st.repos.get(f"{owner}/{name}")
            if repo is None:
                raise not_found()
            entry = emu.merge_queue.add(repo, int(body.get("number", 0)))
            return answer(entry, 201)

    @app.post(f"{PREFIX}/repos/<owner>/<name>/pulls/<int:number>/ready")
    def ready_for_review(owner, name, number):
        # GitHub toggles draft state only through GraphQL (markPullRequestReadyForReview /
        # convertPullRequestToDraft); this stands in for those mutations
        body = json_body()
        with st.lock:
            repo = st.repos.get(f"{owner}/{name}")
            issue = repo.issues.get(number) if repo else None
            if issue is None or "pull" not in issue:
                raise not_found()
            draft = not body.get("ready", True)
            if issue["pull"]["draft"] != draft:
                issue["pull"]["draft"] = draft
                issue["updated_at"] = now_iso()
                emu.emit(repo, "pull_request", "converted_to_draft" if draft else "ready_for_review", {
                    "number": number, "pull_request": pl.pull(repo, emu.refresh_pull(repo, issue), "webhook")},
                    actor=None)
            return answer(pl.pull(repo, issue))

    @app.get(f"{PREFIX}/repos/<owner>/<name>/merge-queue")
    def queue(owner, name):
        repo = st.repos.get(f"{owner}/{name}")
        if repo is None:
            raise not_found()
        return answer(list(repo.queue))

    # -- faults and request log -----------------------------------------------------------------
    @app.post(f"{PREFIX}/faults")
    def set_faults():
        try:
            cfg = emu.faults.configure(json_body())
        except (ValueError, TypeError) as exc:
            raise ApiError(422, str(exc)) from exc
        return answer(cfg.__dict__, 201)

    @app.delete(f"{PREFIX}/faults")
    def clear_faults():
        emu.faults.clear()
        return answer(None, 204)

    @app.get(f"{PREFIX}/faults")
    def get_faults():
        return answer(emu.faults.summary())

    @app.get(f"{PREFIX}/tokens")
    def tokens():
        # every credential issued so far (installation and user tokens), for secret scans
        with st.lock:
            return answer({"installation": sorted(st.tokens), "user": sorted(st.user_tokens)})

    @app.get(f"{PREFIX}/requests")
    def requests_log():
        return answer(list(emu.request_log))

    @app.delete(f"{PREFIX}/requests")
    def clear_requests():
        emu.request_log.clear()
        return answer(None, 204)

    @app.get(f"{PREFIX}/state/<owner>/<name>")
    def snapshot(owner, name):
        with st.lock:
            repo = st.repos.get(f"{owner}/{name}")
            if repo is None:
                raise not_found()
            return answer(state_snapshot(repo))

    # -- manifest flow --------------------------------------------------------------------------
    @app.post("/settings/apps/new")
    def manifest_form():
        raw = request.form.get("manifest")
        try:
            manifest = json.loads(raw or "")
        except ValueError as exc:
            raise ApiError(422, "Invalid manifest") from exc
        if not manifest.get("url") or not manifest.get("redirect_url"):
            raise ApiError(422, "Invalid manifest: url and redirect_url are required")
        code = secrets.token_hex(10)
        st.manifest_codes[code] = manifest
        args = {"code": code}
        if request.args.get("state"):
            args["state"] = request.args["state"]
        sep = "&" if "?" in manifest["redirect_url"] else "?"
        return redirect(f"{manifest['redirect_url']}{sep}{urlencode(args)}", 302)

    @app.post("/app-manifests/<code>/conversions")
    def manifest_conversion(code):
        manifest = st.manifest_codes.pop(code, None)
        if manifest is None:
            raise not_found()
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
        public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        secret = secrets.token_hex(20)
        events = list(manifest.get("default_events") or DEFAULT_EVENTS)
        name = manifest.get("name") or "app"
        slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
        with st.lock:
            a = make_app({"slug": slug, "name": name, "public_key": public,
                          "webhook_url": (manifest.get("hook_attributes") or {}).get("url"),
                          "webhook_secret": secret, "events": events,
                          "permissions": manifest.get("default_permissions") or {}})
            out = pl.app(a)
        out.update(pem=pem, webhook_secret=secret, client_id=a.client_id, client_secret=a.client_secret)
        return answer(out, 201)


def state_snapshot(repo: Repo) -> dict:
    """A JSON snapshot of a repository for end-state comparison (orders are creation order indexes)."""
    branches = {r[len("refs/heads/"):]: s for r, s in repo.git.refs("refs/heads/").items()}
    pulls, issues = [], []
    for n in sorted(repo.issues):
        i = repo.issues[n]
        if "pull" in i:
            pr = i["pull"]
            pulls.append({"number": n, "title": i["title"], "head": pr["head_ref"], "base": pr["base_ref"],
                          "state": i["state"], "merged": pr["merged"],
                          "merged_order": repo.merge_order.index(n) if n in repo.merge_order else None,
                          "head_sha": pr["head_sha"], "body": i["body"], "labels": list(i["labels"])})
        else:
            issues.append({"number": n, "title": i["title"], "state": i["state"], "state_reason": i["state_reason"],
                           "labels": list(i["labels"]), "body": i["body"],
                           "comments": [{"id": c["id"], "user": c["user"], "body": c["body"]}
                                        for c in sorted(repo.comments.values(), key=lambda c: c["id"])
                                        if c["issue"] == n]})
    runs: dict[str, list] = {}
    for r in sorted(repo.check_runs.values(), key=lambda r: r["id"]):
        runs.setdefault(r["head_sha"], []).append({
            "id": r["id"], "name": r["name"], "status": r["status"], "conclusion": r["conclusion"],
            "title": r["output"].get("title"), "created_order": r["order"], "app_id": r["app_id"]})
    return {"branches": branches, "pulls": pulls, "issues": issues, "check_runs": runs,
            "merge_order": list(repo.merge_order), "merge_queue": [e["number"] for e in repo.queue],
            "counts": {"branches": len(branches), "pulls": len(pulls), "issues": len(issues),
                       "comments": len(repo.comments), "check_runs": len(repo.check_runs),
                       "check_suites": len(repo.check_suites)}}
