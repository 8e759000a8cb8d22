"""GitHub App endpoints: GET /app, installations, installation tokens, App hook deliveries."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, request

from .auth import mint_installation_token
from .core import Emulator
from .rest import ApiError, answer, json_body, not_found, paginate


def register(app: Flask, emu: Emulator) -> None:
    """Add the App routes to ``app``."""
    st = emu.state

    def jwt_app():
        actor = emu.actor
        if actor.kind != "jwt":
            raise ApiError(401, "A JSON web token could not be decoded")
        return st.apps[actor.app_id]

    @app.get("/app")
    def get_app():
        return answer(emu.payloads.app(jwt_app()))

    @app.get("/app/installations")
    def list_installations():
        a = jwt_app()
        items = [emu.payloads.installation(i) for i in st.installations.values() if i.app_id == a.id]
        page, headers = paginate(items, st.base_url)
        return answer(page, headers=headers)

    @app.post("/app/installations/<int:iid>/access_tokens")
    def access_token(iid):
        a = jwt_app()
        inst = st.installations.get(iid)
        if inst is None or inst.app_id != a.id:
            raise not_found()
        body = json_body()
        perms = body.get("permissions") or dict(a.permissions)
        for k, v in perms.items():
            if a.permissions and a.permissions.get(k) not in (v, "write", "admin"):
                raise ApiError(422, "The permissions requested are not granted to this installation.")
        tok = mint_installation_token(st, iid, perms)
        expires = datetime.fromtimestamp(tok.expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return answer({"token": tok.token, "expires_at": expires, "permissions": perms,
                       "repository_selection": "selected"}, 201)

    @app.get("/installation/repositories")
    def installation_repositories():
        actor = emu.actor
        if actor.kind != "app":
            raise ApiError(403, "You must authenticate with an installation access token.")
        inst = st.installations[actor.installation_id]
        repos = [emu.payloads.repo(st.repos[n]) for n in inst.repos if n in st.repos]
        page, headers = paginate(repos, st.base_url)
        return answer({"total_count": len(repos), "repository_selection": "selected", "repositories": page},
                      headers=headers)

    @app.get("/repos/<owner>/<name>/installation")
    def repo_installation(owner, name):
        a = jwt_app()
        inst = st.installation_for(a.id, f"{owner}/{name}")
        if inst is None:
            raise not_found()
        return answer(emu.payloads.installation(inst))

    @app.get("/app/hook/deliveries")
    def hook_deliveries():
        a = jwt_app()
        items = [d for d in reversed(emu.sender.deliveries) if d.app_id == a.id]
        try:
            per_page = max(1, min(int(request.args.get("per_page", 30)), 100))
        except ValueError:
            per_page = 30
        cursor = request.args.get("cursor")
        if cursor:
            items = [d for d in items if d.id < int(cursor)]
        page = items[:per_page]
        headers = {}
        if len(items) > per_page:
            headers["Link"] = (f'<{st.base_url}/app/hook/deliveries?per_page={per_page}&cursor={page[-1].id}>; '
                               'rel="next"')
        return answer([_delivery_json(d) for d in page], headers=headers)

    @app.get("/app/hook/deliveries/<int:did>")
    def hook_delivery(did):
        a = jwt_app()
        d = emu.sender.get(did)
        if d is None or d.app_id != a.id:
            raise not_found()
        out = _delivery_json(d)
        out["url"] = a.webhook_url
        out["request"] = {"headers": d.headers, "payload": d.payload}
        out["response"] = {"headers": {}, "payload": d.error}
        return answer(out)

    @app.post("/app/hook/deliveries/<int:did>/attempts")
    def hook_redeliver(did):
        a = jwt_app()
        d = emu.sender.get(did)
        if d is None or d.app_id != a.id:
            raise not_found()
        emu.sender.redeliver(did)
        return answer({}, 202)


def _delivery_json(d) -> dict:
    status = "OK" if d.status_code and d.status_code < 300 else ("pending" if d.state != "done" else "failed")
    return {"id": d.id, "guid": d.guid, "delivered_at": d.delivered_at or d.payload.get("created_at") or
            datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "redelivery": d.redelivery,
            "duration": d.duration or 0, "status": status, "status_code": d.status_code or 0, "event": d.event,
            "action": d.action, "installation_id": d.installation_id, "repository_id": d.repository_id}
