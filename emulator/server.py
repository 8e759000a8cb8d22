"""The emulator's WSGI application and its in-process runner.

Every REST answer carries GitHub's headers (``X-RateLimit-*``, ``X-GitHub-Request-Id``, ``ETag`` on
GETs; a matching ``If-None-Match`` gives 304, which does not count against the rate limit). Requests
are logged and may be hit by injected faults (see ``faults.py``).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import socket
import threading
import time
import uuid
from dataclasses import dataclass

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException
from werkzeug.serving import make_server

from . import admin, api_actions, api_apps, api_checks, api_issues, api_pulls, api_repos
from .agents import ScriptedAgents
from .auth import AuthError, authenticate, expire_token, first_use
from .core import Emulator
from .faults import Faults
from .mergequeue import MergeQueue
from .rest import DOCS, ApiError, answer
from .state import State

RATE_LIMIT = 5000
# routes that are the emulator's own (admin controls, the App-manifest form), not GitHub's REST API
OWN_ROUTES = ("/_emulator", "/settings/apps/new", "/static/")
# GitHub still answers the old ref listing (PyGithub's ``get_git_refs`` calls it), but its OpenAPI
# description documents only ``git/matching-refs``; these routes are served and not described.
UNDESCRIBED = {("GET", "/repos/{}/{}/git/refs"), ("GET", "/repos/{}/{}/git/refs/{}")}
UNLOCKED = ("/_emulator/webhooks/drain",)
SECONDARY_MESSAGE = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."


def create_app(state: State | None = None) -> tuple[Flask, Emulator]:
    """Build the Flask application and its Emulator (state, payloads, webhook sender)."""
    state = state or State()
    emu = Emulator(state)
    emu.faults = Faults()
    emu.merge_queue = MergeQueue(emu)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024 * 1024
    app.url_map.strict_slashes = False

    @app.before_request
    def before():
        g.start = time.monotonic()
        g.actor = None
        g.fail_after = None
        g.fault = None
        g.locked = False
        g.request_id = uuid.uuid4().hex[:8].upper() + ":" + uuid.uuid4().hex[:6].upper()
        if not state.base_url:
            state.base_url = request.host_url.rstrip("/")
        admin_path = request.path.startswith("/_emulator") or request.path.startswith(
            ("/settings/apps/new", "/app-manifests/"))
        if not admin_path:
            try:
                g.actor = authenticate(state, request.headers.get("Authorization"))
            except AuthError as exc:
                return answer({"message": exc.message, "documentation_url": DOCS}, exc.status)
            kind = emu.faults.pick(request.method, request.path, g.actor.kind if g.actor else None,
                                   fresh_token=first_use(state, request.headers.get("Authorization")))
            if kind:
                g.fault = kind
                resp = inject(kind)
                if resp is not None:
                    return resp
        if request.path not in UNLOCKED:
            state.lock.acquire()
            g.locked = True
        return None

    def inject(kind: str) -> Response | None:
        cfg = emu.faults.config
        if cfg.apply_then_fail and kind in ("502", "secondary_403", "secondary_403_retry_after"):
            g.fail_after = kind  # perform the request, then answer with the fault
            return None
        if kind == "reset":
            sock = request.environ.get("werkzeug.socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            return Response(b"", status=502)
        if kind == "slow":
            time.sleep(cfg.slow_seconds)
            return None
        if kind == "expired_token_401":
            auth = request.headers.get("Authorization", "")
            expire_token(state, auth.partition(" ")[2].strip())
            return answer({"message": "Bad credentials", "documentation_url": DOCS}, 401)
        return fault_response(kind)

    def fault_response(kind: str) -> Response:
        if kind in ("secondary_403", "secondary_403_retry_after"):
            # quota is left (X-RateLimit-Remaining > 0): only the secondary limit was hit
            retry_after = emu.faults.config.retry_after if emu.faults.config else 1
            headers = {"Retry-After": str(retry_after)} if kind == "secondary_403_retry_after" else {}
            return answer({"message": SECONDARY_MESSAGE, "documentation_url": DOCS}, 403, headers)
        return answer({"message": "Server Error"}, 502)

    @app.teardown_request
    def teardown(_exc):
        if getattr(g, "locked", False):
            g.locked = False
            state.lock.release()

    @app.after_request
    def after(resp: Response):
        actor = getattr(g, "actor", None)
        if getattr(g, "fail_after", None):
            resp = fault_response(g.fail_after)
        conditional = False
        if request.method == "GET" and resp.status_code == 200 and not request.path.startswith("/_emulator"):
            etag = 'W/"' + hashlib.sha256(resp.get_data()).hexdigest()[:40] + '"'
            resp.headers["ETag"] = etag
            inm = request.headers.get("If-None-Match")
            if inm and etag in [t.strip() for t in inm.split(",")]:
                resp = Response(status=304, headers={"ETag": etag})
                conditional = True
        if not request.path.startswith("/_emulator"):
            key = actor.label if actor else f"ip:{request.remote_addr}"
            hour = int(time.time() // 3600)
            used_key = f"{key}:{hour}"
            if not conditional:
                emu.rate[used_key] = emu.rate.get(used_key, 0) + 1
            used = emu.rate.get(used_key, 0)
            resp.headers["X-RateLimit-Limit"] = str(RATE_LIMIT)
            resp.headers["X-RateLimit-Remaining"] = str(max(0, RATE_LIMIT - used))
            resp.headers["X-RateLimit-Reset"] = str((hour + 1) * 3600)
            resp.headers["X-RateLimit-Used"] = str(used)
            resp.headers["X-RateLimit-Resource"] = "core"
            resp.headers["X-GitHub-Media-Type"] = "github.v3; format=json"
            resp.headers["X-GitHub-Request-Id"] = getattr(g, "request_id", "0")
            emu.request_seq += 1
            elapsed = time.monotonic() - getattr(g, "start", time.monotonic())
            now = time.time()
            emu.request_log.append({
                "seq": emu.request_seq, "method": request.method, "path": request.path,
                "query": request.query_string.decode(), "status": resp.status_code,
                "actor": actor.label if actor else None,
                "installation": actor.installation_id if actor else None, "conditional": conditional,
                "duration": round(elapsed, 4), "started": round(now - elapsed, 4), "at": round(now, 4),
                "fault": getattr(g, "fault", None)})
        return resp

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError):
        return answer(exc.body(), exc.status, exc.headers)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = 404 if exc.code == 405 else exc.code or 500
        return answer({"message": "Not Found" if status == 404 else exc.name, "documentation_url": DOCS}, status)

    api_apps.register(app, emu)
    api_repos.register(app, emu)
    api_issues.register(app, emu)
    api_pulls.register(app, emu)
    api_checks.register(app, emu)
    api_actions.register(app, emu)
    admin.register(app, emu)
    emu.agents = ScriptedAgents(emu, app)
    app.extensions["emulator"] = emu
    return app, emu


def github_operations(app: Flask) -> list[tuple[str, str]]:
    """Every GitHub REST operation ``app`` serves, as sorted ``(METHOD, path)`` pairs in OpenAPI's
    template style with every parameter written ``{}`` (``/repos/{}/{}/pulls/{}``); a route ending in
    ``/`` (an empty ``path`` or ``ref``) is the same operation as its ``{}`` form. ``UNDESCRIBED``
    routes are left out."""
    out = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(OWN_ROUTES):
            continue
        path = re.sub(r"<[^>]+>", "{}", rule.rule)
        path = path + "{}" if path.endswith("/") else path
        out.update((method, path) for method in rule.methods - {"HEAD", "OPTIONS"})
    return sorted(out - UNDESCRIBED)


@dataclass
class Running:
    """A started emulator: ``url`` (scheme://host:port), ``emulator`` (its state), ``stop()``."""

    url: str
    emulator: Emulator
    _server: object
    _thread: threading.Thread

    def stop(self) -> None:
        """Stop serving and stop the webhook sender."""
        self._server.shutdown()
        self._thread.join(timeout=5)
        self.emulator.sender.stop()


def start(host: str = "127.0.0.1", port: int = 0, data_dir: str | None = None) -> Running:
    """Serve the emulator from a background thread (threaded werkzeug server); returns at once.

    ``port`` 0 picks a free port; ``data_dir`` None keeps the git repositories in a temporary folder.
    """
    state = State(data_dir)
    app, emu = create_app(state)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server(host, port, app, threaded=True)
    # bodies carry absolute URLs; a wildcard bind address is not one a client can use
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else ("[::1]" if host == "::" else host)
    state.base_url = f"http://{shown}:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="emulator-http",
                              daemon=True)
    thread.start()
    return Running(state.base_url, emu, server, thread)
