"""The setup page: registers the GitHub App from ``app.yml`` with GitHub's manifest flow, in the
spirit of Probot's, while the web process runs without App credentials (setup mode). Who may open
it and its routes: ``service.setup_page``; its texts: ``service.core.report_setup``.

1. ``GET /setup?token=…`` (the link printed in the log) serves a form that posts
   ``manifest=<JSON>`` to ``<GitHub web URL>/settings/apps/new?state=<signed>`` (or
   ``…/organizations/<org>/settings/apps/new``). The manifest is ``app.yml`` with
   ``hook_attributes.url`` set to ``PUBLIC_URL/webhook`` and ``redirect_url`` to
   ``PUBLIC_URL/setup/callback``. The same ``state`` goes into an HttpOnly, SameSite=Lax cookie.
2. GitHub shows the person the App to create, creates it and redirects the browser to
   ``redirect_url?code=<code>&state=<state>`` (the code is valid for one hour, once).
3. ``GET /setup/callback`` refuses a ``state`` this page did not sign or that does not match the
   cookie (so no one else can make this service adopt an App of theirs), then
   ``POST /app-manifests/{code}/conversions`` (no authentication) returns the App's ``id``,
   ``slug``, ``pem`` and ``webhook_secret``, which are written to the ``.env`` file with mode 0600.
   The page closes for good; the process must then be restarted.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import requests
from flask import Blueprint

from .settings import SetupSettings

log = logging.getLogger(__name__)
STATE_COOKIE = "wavegate_setup_state"
CALLBACK_PATH = "/setup/callback"


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


def blueprint(settings: SetupSettings) -> Blueprint:
    """The setup page's routes (``GET /setup``, ``GET /``, ``GET /setup/callback``) for ``settings``,
    guarded by the setup token: see ``service.setup_page``."""
    from .setup_page import blueprint as guarded

    return guarded(settings)
