"""The setup page's routes, guarded: ``GET /setup`` (and ``GET /``) and ``GET /setup/callback``.

- Open only while the App is unconfigured: once ``.env`` holds ``APP_ID`` (or this process wrote
  it) every route answers 404, for good.
- Only with the setup token (``service.setup_access``; valid until registration or a restart), printed at start in the log line
  ``setup_link`` with the link ``PUBLIC_URL/setup?token=…``; without it, or with a wrong one, 403.
- The webhook and callback URLs come only from ``PUBLIC_URL``, never from the request's ``Host``
  header; without it the page says to set it and offers no form. A loopback or private
  ``PUBLIC_URL`` gets a warning (GitHub cannot deliver there) suggesting a webhook relay.
- The manifest flow's ``state`` is signed with the token and kept in an ``HttpOnly``,
  ``SameSite=Lax`` cookie, ``Secure`` when ``PUBLIC_URL`` is https; the callback needs both.
- The page lists the manifest's permissions and events (the manifest it posts: one owner) and the
  next steps. Every text is in ``service.core.report_setup``.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import requests
import yaml
from flask import Blueprint, Response, request

from . import registration
from .core import report_setup as text
from .logs import event
from .settings import SetupSettings, read_env_file
from .setup_access import SetupToken, forget, reach, shared_token, token_path

log = logging.getLogger(__name__)
SETUP_PATH = "/setup"
_CODE = re.compile(r"[A-Za-z0-9_-]{1,100}")  # GitHub's manifest code


def respond(page: text.Page) -> Response:
    """``page`` as an uncacheable, unframeable HTML response."""
    return Response(page.html(), status=page.status, content_type="text/html; charset=utf-8",
                    headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"})


def setup_link(settings: SetupSettings, token: SetupToken) -> str:
    """``PUBLIC_URL/setup?token=…`` (just the path when ``PUBLIC_URL`` is not set)."""
    return f"{(settings.public_url or '').rstrip('/')}{SETUP_PATH}?token={token.value}"


def announce(settings: SetupSettings, token: SetupToken) -> None:
    """Log the setup link (the one place the token is shown) and what the page will warn about."""
    fields: dict[str, Any] = {"link": setup_link(settings, token)}
    if not settings.public_url:
        fields["problem"] = "PUBLIC_URL is not set: the page will not start the registration"
    elif not (where := reach(settings.public_url)).public:
        fields["problem"] = f"GitHub cannot reach PUBLIC_URL: {where.why}"
    event(log, "setup_link", logging.WARNING, **fields)


def _form(settings: SetupSettings, token: SetupToken) -> Response:
    if not settings.public_url:
        return respond(text.needs_public_url())
    manifest = yaml.safe_load(settings.manifest_path.read_text(encoding="utf-8"))
    state = token.sign_state()
    where = reach(settings.public_url)
    page = text.form(manifest, github_web_url=settings.github_web_url, public_url=settings.public_url,
                     action=registration.registration_url(settings, state),
                     manifest_json=json.dumps(registration.manifest_for(manifest, settings.public_url)),
                     env_file=str(settings.env_file),
                     warning=None if where.public else text.unreachable_warning(settings.public_url, where.why))
    response = respond(page)
    response.set_cookie(registration.STATE_COOKIE, state, max_age=3600, path=registration.CALLBACK_PATH,
                        httponly=True, samesite="Lax", secure=settings.public_url.startswith("https://"))
    return response


def _register(settings: SetupSettings, code: str) -> tuple[text.Page, bool]:
    """Convert ``code`` and write the credentials: (page, registered)."""
    try:
        app = registration.convert(settings.github_api_url, code)
        values = registration.credentials(app)
    except (ValueError, KeyError, requests.RequestException) as exc:
        event(log, "setup_failed", logging.ERROR, reason=str(exc)[:200])
        return text.conversion_failed(str(exc)), False
    registration.write_env_file(settings.env_file, values)
    event(log, "app_registered", app_id=app.get("id"), app_slug=app.get("slug"), env_file=str(settings.env_file))
    return text.registered(app, str(settings.env_file)), True


def blueprint(settings: SetupSettings, token: SetupToken | None = None) -> Blueprint:
    """The guarded setup routes for ``settings``. ``token`` defaults to this server's shared token
    (made or read now, and announced in the log)."""
    path = token_path(settings.env_file)
    if token is None:
        token, _made = shared_token(path)
    announce(settings, token)
    bp = Blueprint("setup", __name__)
    done = {"registered": False}

    def closed() -> bool:
        done["registered"] = done["registered"] or bool(read_env_file(settings.env_file).get("APP_ID"))
        return done["registered"]

    @bp.get("/")
    @bp.get(SETUP_PATH)
    def start() -> Response:
        if closed():
            return respond(text.closed())
        if not token.matches(request.args.get("token")):
            event(log, "setup_rejected", logging.WARNING, reason="no or wrong setup token")
            return respond(text.forbidden())
        return _form(settings, token)

    @bp.get(registration.CALLBACK_PATH)
    def callback() -> Response:
        if closed():
            return respond(text.closed())
        state = request.args.get("state", "")
        cookie = request.cookies.get(registration.STATE_COOKIE, "")
        if not token.state_valid(state) or not SetupToken(cookie).matches(state):
            event(log, "setup_rejected", logging.WARNING, reason="state not issued by this page")
            return respond(text.state_refused())
        code = request.args.get("code", "")
        if not _CODE.fullmatch(code):
            return respond(text.no_code())
        page, done["registered"] = _register(settings, code)
        if done["registered"]:
            forget(path)
        response = respond(page)
        response.delete_cookie(registration.STATE_COOKIE, path=registration.CALLBACK_PATH)
        return response

    return bp
