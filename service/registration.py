"""The setup page: registers the GitHub App from ``app.yml`` with GitHub's manifest flow, in the
spirit of Probot's, while the web process runs without App credentials (setup mode).

1. ``GET /`` serves a form that posts ``manifest=<JSON>`` to
   ``<GitHub web URL>/settings/apps/new?state=<random>`` (or
   ``…/organizations/<org>/settings/apps/new``). The manifest is ``app.yml`` with
   ``hook_attributes.url`` set to ``<this service>/webhook`` and ``redirect_url`` to
   ``<this service>/setup/callback``. The same ``state`` goes into an HttpOnly, SameSite=Lax cookie.
2. GitHub shows the person the App to create, creates it and redirects the browser to
   ``redirect_url?code=<code>&state=<state>`` (the code is valid for one hour, once).
3. ``GET /setup/callback`` refuses a ``state`` that does not match the cookie (so another site
   cannot make this service adopt an App of theirs), then ``POST /app-manifests/{code}/conversions``
   (no authentication) returns the App's ``id``, ``slug``, ``pem`` and ``webhook_secret``, which are
   written to the ``.env`` file with mode 0600. The process must then be restarted.
"""

from __future__ import annotations

import contextlib
import copy
import hmac
import json
import logging
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests
import yaml
from flask import Blueprint, Response, request
from markupsafe import escape

from .logs import event
from .settings import SetupSettings, read_env_file

log = logging.getLogger(__name__)
STATE_COOKIE = "wavegate_setup_state"
CALLBACK_PATH = "/setup/callback"
_CODE = re.compile(r"[A-Za-z0-9_-]{1,100}")
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Wavegate setup</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:42em;margin:3em auto;padding:0 1em}}
button{{font-size:1em;padding:.5em 1em}}code{{background:#f3f3f3;padding:0 .2em}}</style></head>
<body><h1>{title}</h1>
{body}
</body></html>
"""


def manifest_for(manifest: Mapping[str, Any], base_url: str) -> dict[str, Any]:
    """A copy of ``manifest`` (``app.yml``'s mapping) whose webhook points at
    ``<base_url>/webhook`` and whose ``redirect_url`` is ``<base_url>/setup/callback``."""
    out = copy.deepcopy(dict(manifest))
    base = base_url.rstrip("/")
    out["hook_attributes"] = {**(out.get("hook_attributes") or {}), "url": f"{base}/webhook"}
    out["redirect_url"] = f"{base}{CALLBACK_PATH}"
    return out


def registration_url(settings: SetupSettings, state: str) -> str:
    """Where the form posts: ``<web>/settings/apps/new?state=…``, or the organization's
    ``<web>/organizations/<org>/settings/apps/new?state=…`` when ``GITHUB_ORG`` is set."""
    owner = f"/organizations/{settings.github_org}" if settings.github_org else ""
    return f"{settings.github_web_url}{owner}/settings/apps/new?state={state}"


def convert(api_url: str, code: str, *, timeout: float = 30.0) -> dict[str, Any]:
    """``POST <api_url>/app-manifests/{code}/conversions`` (no authentication; GitHub answers 201
    with the App, including ``pem``, ``webhook_secret``, ``client_id`` and ``client_secret``).
    Raises ``ValueError`` naming GitHub's status and message on any other answer, and
    ``requests.RequestException`` when GitHub cannot be reached."""
    response = requests.post(f"{api_url.rstrip('/')}/app-manifests/{code}/conversions", timeout=timeout,
                             headers={"Accept": "application/vnd.github+json",
                                      "X-GitHub-Api-Version": "2022-11-28"})
    if response.status_code != 201:
        try:
            message = response.json().get("message", "")
        except ValueError:
            message = ""
        raise ValueError(f"GitHub answered {response.status_code} {message}".strip())
    return response.json()


def _env_value(value: str) -> str:
    # Single quotes: shells, docker compose and honcho all take the text literally. The PEM's
    # newlines become \n escapes, which Settings turns back into newlines.
    text = str(value).replace("\r\n", "\n").replace("\n", "\\n")
    if "'" in text:
        raise ValueError("a value with a single quote cannot be written to .env")
    return f"'{text}'"


def write_env_file(path: str | os.PathLike[str], values: Mapping[str, str]) -> Path:
    """Set ``values`` in the ``.env`` file at ``path``: existing lines for other variables are
    kept, lines for these are replaced. The file is replaced atomically and is mode 0600 (owner
    read/write only), whatever the umask. Returns the path."""
    target = Path(path)
    kept: list[str] = []
    with contextlib.suppress(FileNotFoundError):
        for line in target.read_text(encoding="utf-8").splitlines():
            name = line.split("=", 1)[0].strip().removeprefix("export ").strip()
            if name not in values:
                kept.append(line)
    lines = kept + [f"{name}={_env_value(value)}" for name, value in values.items()]
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    return target


def credentials(app: Mapping[str, Any]) -> dict[str, str]:
    """The ``.env`` variables for a converted App: ``APP_ID``, ``APP_SLUG``, ``PRIVATE_KEY``,
    ``WEBHOOK_SECRET``."""
    return {"APP_ID": str(app["id"]), "APP_SLUG": str(app.get("slug") or ""), "PRIVATE_KEY": app["pem"],
            "WEBHOOK_SECRET": str(app["webhook_secret"])}


def _page(title: str, body: str, status: int = 200) -> Response:
    return Response(_PAGE.format(title=escape(title), body=body), status=status,
                    content_type="text/html; charset=utf-8",
                    headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY",
                             "Referrer-Policy": "no-referrer"})


def blueprint(settings: SetupSettings) -> Blueprint:
    """The setup page's routes (``GET /``, ``GET /setup/callback``) for ``settings``."""
    bp = Blueprint("setup", __name__)
    bp.add_url_rule("/", "start", lambda: _start(settings), methods=["GET"])
    bp.add_url_rule(CALLBACK_PATH, "callback", lambda: _callback(settings), methods=["GET"])
    return bp


def _registered(settings: SetupSettings) -> bool:
    return bool(read_env_file(settings.env_file).get("APP_ID"))


def _start(settings: SetupSettings) -> Response:
    """``GET /``: the form that posts the manifest to GitHub, with a state cookie."""
    if _registered(settings):
        return _page("Wavegate is registered",
                     f"<p>{escape(str(settings.env_file))} holds the App's credentials. "
                     "Restart the process to start serving webhooks.</p>")
    manifest = yaml.safe_load(settings.manifest_path.read_text(encoding="utf-8"))
    base = settings.public_url or request.host_url.rstrip("/")
    state = secrets.token_urlsafe(24)
    action = registration_url(settings, state)
    body = (f"<p>Register the Wavegate GitHub App on <code>{escape(settings.github_web_url)}</code>. "
            f"GitHub will send its webhooks to <code>{escape(base)}/webhook</code>.</p>"
            f'<form action="{escape(action)}" method="post">'
            f'<input type="hidden" name="manifest" value="{escape(json.dumps(manifest_for(manifest, base)))}">'
            "<button type=\"submit\">Register the GitHub App</button></form>"
            f"<p>The App's id, private key and webhook secret will be written to "
            f"<code>{escape(str(settings.env_file))}</code> (readable by its owner only).</p>")
    response = _page("Set up Wavegate", body)
    response.set_cookie(STATE_COOKIE, state, max_age=3600, path=CALLBACK_PATH, httponly=True,
                        samesite="Lax", secure=request.is_secure)
    return response


def _callback(settings: SetupSettings) -> Response:
    """``GET /setup/callback``: state checked, the code converted, the credentials written."""
    state = request.args.get("state", "")
    expected = request.cookies.get(STATE_COOKIE, "")
    if not state or not expected or not hmac.compare_digest(state.encode(), expected.encode()):
        event(log, "setup_rejected", logging.WARNING, reason="state mismatch")
        return _page("Setup link expired", '<p>The request did not come from this setup page. '
                     '<a href="/">Start again</a>.</p>', 400)
    code = request.args.get("code", "")
    if not _CODE.fullmatch(code):
        return _page("No code from GitHub", '<p>GitHub sent no code. <a href="/">Start again</a>.</p>', 400)
    if _registered(settings):
        return _page("Wavegate is already registered", "<p>Restart the process.</p>", 409)
    try:
        app = convert(settings.github_api_url, code)
        values = credentials(app)
    except (ValueError, KeyError, requests.RequestException) as exc:
        event(log, "setup_failed", logging.ERROR, reason=str(exc)[:200])
        return _page("GitHub did not register the App",
                     f'<p>{escape(str(exc)[:200])}</p><p><a href="/">Start again</a>.</p>', 502)
    write_env_file(settings.env_file, values)
    event(log, "app_registered", app_id=app.get("id"), app_slug=app.get("slug"),
          env_file=str(settings.env_file))
    return _registered_page(settings, app)


def _registered_page(settings: SetupSettings, app: Mapping[str, Any]) -> Response:
    install = f"{app.get('html_url') or ''}/installations/new"
    response = _page("Wavegate is registered", (
        f"<p>GitHub App <strong>{escape(app.get('name') or app.get('slug') or '')}</strong> "
        f"(id {escape(str(app['id']))}) was created. Its id, private key and webhook secret are in "
        f"<code>{escape(str(settings.env_file))}</code>.</p>"
        "<p><strong>Restart the process</strong> (web and workers) to start serving webhooks, then "
        f'<a href="{escape(install)}">install the App</a> on your repositories.</p>'))
    response.delete_cookie(STATE_COOKIE, path=CALLBACK_PATH)
    return response
