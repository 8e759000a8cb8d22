"""Every text of the setup page (``service.setup_page``), the page that registers the GitHub App
with GitHub's manifest flow: the page itself with the permissions and events the manifest asks
for, the refusals (no setup token, closed once registered, ``PUBLIC_URL`` missing), the warning
for an address GitHub cannot reach, the outcome of the callback and the next steps. HTML, every
value escaped. Pinned by ``tests/golden/setup-page.html``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

from .model import CHECK_NAMES

_DOCUMENT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:42em;margin:3em auto;padding:0 1em}}
button{{font-size:1em;padding:.5em 1em}}code{{background:#f3f3f3;padding:0 .2em}}
.warning{{border-left:4px solid #d29922;padding:.2em 1em;background:#fff8c5}}</style></head>
<body><h1>{title}</h1>
{body}
</body></html>
"""


@dataclass(frozen=True)
class Page:
    """A rendered page: ``status`` is the HTTP status it is served with."""

    title: str
    body: str
    status: int = 200

    def html(self) -> str:
        """The whole HTML document."""
        return _DOCUMENT.format(title=escape(self.title), body=self.body)


def _c(text: object) -> str:
    return f"<code>{escape(str(text))}</code>"


def forbidden() -> Page:
    """No setup token, or a wrong one (403)."""
    return Page("Setup token required", (
        "<p>This page registers a GitHub App and writes its credentials, so it only opens with the "
        "link the web process printed in its log when it started (event <code>setup_link</code>, "
        "<code>/setup?token=…</code>; it works until the App is registered or the process restarts).</p>"), 403)


def closed() -> Page:
    """The App is registered: the page is gone for good (404)."""
    return Page("Not found", "<p>Wavegate is registered; the setup page is closed. Restart the web and worker "
                "processes if they still run without the App's credentials.</p>", 404)


def needs_public_url() -> Page:
    """``PUBLIC_URL`` is not set: the flow is not offered (the webhook URL would be a guess)."""
    return Page("Set PUBLIC_URL first", (
        "<p>GitHub needs the address it will send webhooks to, and this service does not take it from the "
        "request's <code>Host</code> header (anyone can send any). Set <code>PUBLIC_URL</code> to the "
        "address GitHub reaches this service at (for example <code>https://wavegate.example.com</code>), "
        "restart the web process and open the new link from its log.</p>"))


def unreachable_warning(public_url: str, why: str) -> str:
    """The warning shown when ``public_url`` is a loopback or private address (``why`` says which)."""
    return (f'<div class="warning"><p><strong>GitHub cannot reach {_c(public_url)}</strong>: {escape(why)}. '
            "Its webhook deliveries would all fail. For local development, forward them through a webhook "
            "relay: create a channel on <a href=\"https://smee.io\">smee.io</a> and run <code>smee --url "
            "https://smee.io/&lt;channel&gt; --target http://127.0.0.1:8000/webhook</code>, or use "
            "<code>gh webhook forward</code>; set <code>PUBLIC_URL</code> to the relay's address.</p></div>")


def _permissions(manifest: Mapping[str, Any]) -> str:
    rows = "".join(f"<li>{_c(name)}: {escape(str(access))}</li>"
                   for name, access in (manifest.get("default_permissions") or {}).items())
    events = "".join(f"<li>{_c(name)}</li>" for name in manifest.get("default_events") or [])
    return (f"<h2>Permissions the App asks for</h2><ul>{rows}</ul>"
            f"<h2>Events it subscribes to</h2><ul>{events}</ul>"
            "<p>GitHub also delivers <code>check_run</code> and <code>check_suite</code> events to every App "
            "with the checks permission.</p>")


def next_steps(install_url: str | None = None) -> str:
    """What to do once the App exists: restart, install it, require both checks pinned to it."""
    install = (f'<a href="{escape(install_url)}">Install the App</a>' if install_url
               else "Install the App (its page on GitHub, <em>Install App</em>)")
    checks = " and ".join(_c(name) for name in CHECK_NAMES)
    return ("<h2>Next steps</h2><ol>"
            "<li><strong>Restart</strong> the web and worker processes: they read the credentials at start.</li>"
            f"<li>{install} on the repositories whose plans it gates.</li>"
            f"<li>In each repository's branch protection or ruleset, make both checks {checks} required, "
            "with the App as their expected source (<em>pinned to the App</em>), so no other App or workflow "
            "can report them.</li></ol>")


def form(manifest: Mapping[str, Any], *, github_web_url: str, public_url: str, action: str, manifest_json: str,
         env_file: str, warning: str | None) -> Page:
    """The registration page: the form posting ``manifest_json`` to ``action`` (GitHub)."""
    body = (f"{warning or ''}<p>Register the Wavegate GitHub App on {_c(github_web_url)}. GitHub will send its "
            f"webhooks to {_c(public_url.rstrip('/') + '/webhook')}.</p>"
            f'<form action="{escape(action)}" method="post">'
            f'<input type="hidden" name="manifest" value="{escape(manifest_json)}">'
            '<button type="submit">Register the GitHub App</button></form>'
            f"<p>The App's id, private key and webhook secret will be written to {_c(env_file)} "
            "(readable by its owner only); then this page closes for good.</p>"
            f"{_permissions(manifest)}{next_steps()}")
    return Page("Set up Wavegate", body)


def state_refused() -> Page:
    """The callback's ``state`` was not issued by this setup page (403)."""
    return Page("Setup link expired", "<p>This request did not come from this service's setup page. Open the "
                "setup link from the web process's log again.</p>", 403)


def no_code() -> Page:
    """GitHub's redirect carried no usable ``code`` (400)."""
    return Page("No code from GitHub", "<p>GitHub sent no code. Open the setup link from the log again.</p>", 400)


def conversion_failed(reason: str) -> Page:
    """GitHub refused or could not be asked to convert the code (502)."""
    return Page("GitHub did not register the App",
                f"<p>{escape(reason[:200])}</p><p>Open the setup link from the log again.</p>", 502)


def registered(app: Mapping[str, Any], env_file: str) -> Page:
    """The App was created and its credentials written."""
    name = app.get("name") or app.get("slug") or ""
    install = f"{app.get('html_url') or ''}/installations/new"
    return Page("Wavegate is registered", (
        f"<p>GitHub App <strong>{escape(str(name))}</strong> (id {escape(str(app.get('id')))}) was created. "
        f"Its id, private key and webhook secret are in {_c(env_file)}. This page is now closed.</p>"
        f"{next_steps(install)}"))
