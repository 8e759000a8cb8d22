"""The setup page drives GitHub's manifest flow against the emulator: page → the browser's form post
to ``/settings/apps/new`` → 302 back with ``code`` and ``state`` → conversion → ``.env`` (0600)."""

from __future__ import annotations

import html
import json
import os
import re
import stat
import subprocess
import sys
import time
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
import yaml

from service.registration import STATE_COOKIE, manifest_for, registration_url, write_env_file
from service.settings import Settings, SetupSettings, read_env_file
from service.setup_access import forget, shared_token, token_path
from service.webhook import create_app
from tests.conftest import ROOT
from tests.goldens import assert_golden

PUBLIC = "https://wavegate.example.test"


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    from emulator import server

    running = server.start(data_dir=str(tmp_path_factory.mktemp("github")))
    yield running
    running.stop()


@pytest.fixture
def setup_settings(emulator, tmp_path) -> SetupSettings:
    return SetupSettings(github_web_url=emulator.url, github_api_url=emulator.url, public_url=PUBLIC,
                         env_file=tmp_path / "conf" / ".env")


@pytest.fixture
def client(setup_settings):
    yield create_app(setup_settings).test_client()
    forget(token_path(setup_settings.env_file))


def link(settings: SetupSettings) -> str:
    """The setup link's path, as the web process logs it (this process shares the server's token)."""
    token, _made = shared_token(token_path(settings.env_file))
    return f"/setup?token={token.value}"


def read_form(page: str) -> tuple[str, str]:
    """(form action, manifest JSON) as a browser would read them from the page."""
    action = re.search(r'<form action="([^"]+)" method="post">', page)
    manifest = re.search(r'<input type="hidden" name="manifest" value="([^"]*)">', page)
    assert action and manifest, page
    return html.unescape(action.group(1)), html.unescape(manifest.group(1))


def browser_registers(client, emulator, settings) -> requests.Response:
    """GET the page, post its form to the emulator like a browser, return GitHub's redirect."""
    page = client.get(link(settings))
    assert page.status_code == 200
    action, manifest = read_form(page.get_data(as_text=True))
    redirect = requests.post(action, data={"manifest": manifest}, allow_redirects=False, timeout=10)
    assert redirect.status_code == 302, redirect.text
    return redirect


def callback_path(location: str) -> str:
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}" == PUBLIC and parts.path == "/setup/callback"
    return f"{parts.path}?{parts.query}"


def test_the_page_posts_app_yml_to_githubs_manifest_flow(client, setup_settings, emulator):
    response = client.get(link(setup_settings))
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    action, raw = read_form(response.get_data(as_text=True))
    assert action.startswith(f"{emulator.url}/settings/apps/new?state=")
    state = parse_qs(urlsplit(action).query)["state"][0]
    assert len(state) >= 32
    cookie = response.headers["Set-Cookie"]
    assert f"{STATE_COOKIE}={state}" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" in cookie  # PUBLIC_URL is https
    manifest = json.loads(raw)
    app_yml = yaml.safe_load((ROOT / "app.yml").read_text())
    assert manifest["hook_attributes"] == {"url": f"{PUBLIC}/webhook", "active": True}
    assert manifest["redirect_url"] == f"{PUBLIC}/setup/callback"
    for key in ("name", "default_permissions", "default_events", "public", "url"):
        assert manifest[key] == app_yml[key]


def test_registration_writes_the_credentials_to_an_owner_only_env_file(client, setup_settings, emulator):
    # Another variable already in .env is kept.
    setup_settings.env_file.parent.mkdir(parents=True)
    setup_settings.env_file.write_text("REDIS_URL=redis://r:6379/0\n")
    setup_settings.env_file.chmod(0o644)
    redirect = browser_registers(client, emulator, setup_settings)
    done = client.get(callback_path(redirect.headers["Location"]))
    assert done.status_code == 200, done.get_data(as_text=True)
    page = done.get_data(as_text=True)
    assert "<strong>Restart</strong>" in page and "/installations/new" in page and "wavegate/wave-gate" in page

    assert stat.S_IMODE(setup_settings.env_file.stat().st_mode) == 0o600
    values = read_env_file(setup_settings.env_file)
    assert values["REDIS_URL"] == "redis://r:6379/0"
    assert set(values) == {"REDIS_URL", "APP_ID", "APP_SLUG", "PRIVATE_KEY", "WEBHOOK_SECRET"}
    assert "\n" not in values["PRIVATE_KEY"] and "-----BEGIN" in values["PRIVATE_KEY"]
    settings = Settings.from_env(values)  # the restarted process's settings
    assert isinstance(settings, Settings) and settings.app_slug == "wavegate"

    # The App GitHub created has the manifest's permissions and events, our webhook URL and the
    # secret now in .env; the key in .env authenticates as it.
    registered = emulator.emulator.state.apps[settings.app_id]
    app_yml = yaml.safe_load((ROOT / "app.yml").read_text())
    assert registered.permissions == app_yml["default_permissions"]
    assert registered.events == app_yml["default_events"]
    assert registered.webhook_url == f"{PUBLIC}/webhook"
    assert registered.webhook_secret == settings.webhook_secrets[0]
    now = int(time.time())
    token = jwt.encode({"iat": now - 60, "exp": now + 540, "iss": str(settings.app_id)}, settings.private_key,
                       algorithm="RS256")
    app = requests.get(f"{emulator.url}/app", headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
    assert app["id"] == settings.app_id and app["permissions"] == app_yml["default_permissions"]

    # Once registered, the page is closed for good, token or not.
    for path in ("/", link(setup_settings), "/setup", callback_path(redirect.headers["Location"])):
        again = client.get(path)
        assert again.status_code == 404 and "<form" not in again.get_data(as_text=True)


@pytest.mark.parametrize("tamper", ["wrong state", "no cookie", "no state"])
def test_a_callback_without_the_pages_state_is_refused(client, setup_settings, emulator, tamper):
    redirect = browser_registers(client, emulator, setup_settings)
    path = callback_path(redirect.headers["Location"])
    if tamper == "wrong state":
        path = re.sub(r"state=[^&]+", "state=forged", path)
    elif tamper == "no state":
        path = re.sub(r"&?state=[^&]+", "", path)
    else:
        client.delete_cookie(STATE_COOKIE, path="/setup/callback")
    response = client.get(path)
    assert response.status_code == 403
    assert not setup_settings.env_file.exists()


def test_a_used_code_is_refused_by_github_and_nothing_is_written(client, setup_settings, emulator):
    redirect = browser_registers(client, emulator, setup_settings)
    path = callback_path(redirect.headers["Location"])
    code = parse_qs(urlsplit(path).query)["code"][0]
    assert requests.post(f"{emulator.url}/app-manifests/{code}/conversions", timeout=10).status_code == 201
    response = client.get(path)
    assert response.status_code == 502 and "404" in response.get_data(as_text=True)
    assert not setup_settings.env_file.exists()


def test_setup_mode_serves_no_webhooks(client):
    assert client.get("/livez").status_code == 200
    assert client.get("/readyz").status_code == 503
    assert client.post("/webhook", data=b"{}", headers={"X-GitHub-Event": "ping"}).status_code == 503
    assert client.get("/metrics").status_code == 200


@pytest.mark.parametrize(("env", "web_url"), [
    ({}, "https://github.com"),
    ({"GHE_HOST": "ghe.example.com"}, "https://ghe.example.com"),
    ({"GITHUB_WEB_URL": "http://127.0.0.1:9/"}, "http://127.0.0.1:9"),
])
def test_setup_settings_without_credentials(env, web_url, tmp_path):
    settings = Settings.from_env({"ENV_FILE": str(tmp_path / "x.env"), **env}, allow_setup=True)
    assert isinstance(settings, SetupSettings)
    assert settings.github_web_url == web_url and settings.env_file == tmp_path / "x.env"
    assert registration_url(settings, "S") == f"{web_url}/settings/apps/new?state=S"


def test_organization_registration_url():
    settings = SetupSettings(github_org="octo-org")
    assert registration_url(settings, "S") == "https://github.com/organizations/octo-org/settings/apps/new?state=S"


def test_partial_credentials_are_still_an_error():
    from service.errors import ConfigError

    with pytest.raises(ConfigError, match="APP_ID"):
        Settings.from_env({"WEBHOOK_SECRET": "x"}, allow_setup=True)


def test_the_web_entry_point_starts_in_setup_mode_and_logs_the_setup_link(tmp_path):
    # Two app processes of one server (same parent: this test) share the token; the link is in the log.
    code = ("from service.webhook import create_app; c = create_app().test_client(); import sys; "
            "r = c.get(sys.argv[1]); print(r.status_code, 'settings/apps/new' in r.get_data(as_text=True))")
    env = {"PATH": "/usr/bin:/bin", "ENV_FILE": str(tmp_path / ".env"), "PUBLIC_URL": "https://wavegate.example.com"}
    try:
        first = subprocess.run([sys.executable, "-c", code, "/"], cwd=ROOT, capture_output=True, text=True,
                               timeout=60, env=env)
        assert first.returncode == 0, first.stderr
        assert first.stdout.split() == ["403", "False"]
        logged = [json.loads(line) for line in first.stderr.splitlines() if '"setup_link"' in line]
        assert len(logged) == 1 and "problem" not in logged[0]
        url = logged[0]["link"]
        assert url.startswith("https://wavegate.example.com/setup?token=") and len(url.split("=", 1)[1]) >= 32
        second = subprocess.run([sys.executable, "-c", code, url.removeprefix("https://wavegate.example.com")],
                                cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)
        assert second.stdout.split() == ["200", "True"], second.stderr
        assert url in second.stderr
    finally:
        forget(token_path(tmp_path / ".env", parent=os.getpid()))


def test_env_file_is_owner_only_even_with_a_permissive_umask(tmp_path):

    old = os.umask(0)
    try:
        path = write_env_file(tmp_path / ".env", {"APP_ID": "1", "PRIVATE_KEY": "a\nb"})
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == "APP_ID='1'\nPRIVATE_KEY='a\\nb'\n"
    write_env_file(path, {"APP_ID": "2"})
    assert read_env_file(path) == {"PRIVATE_KEY": "a\\nb", "APP_ID": "2"}


def test_manifest_for_keeps_app_yml_and_points_at_this_service():
    manifest = manifest_for({"name": "W", "hook_attributes": {"url": "https://old", "active": True}},
                            "http://h:8000/")
    assert manifest == {"name": "W", "hook_attributes": {"url": "http://h:8000/webhook", "active": True},
                        "redirect_url": "http://h:8000/setup/callback"}


# ------------------------------------------------------------------ who may open the page


def setup_client(tmp_path, public_url: str | None, **settings):
    values = SetupSettings(github_web_url="https://github.com", public_url=public_url,
                           env_file=tmp_path / ".env", **settings)
    return create_app(values).test_client(), values


@pytest.fixture
def cleanup(tmp_path):
    yield
    forget(token_path(tmp_path / ".env"))


@pytest.mark.parametrize("path", ["/", "/setup", "/setup?token=", "/setup?token=wrong",
                                  "/?token=wrong", "/setup?token[]=x"])
def test_without_the_token_the_page_is_403(tmp_path, cleanup, path):
    client, _settings = setup_client(tmp_path, PUBLIC)
    response = client.get(path)
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "<form" not in page and "setup_link" in page and "settings/apps/new" not in page


def test_a_token_of_another_length_or_case_is_403(tmp_path, cleanup):
    client, settings = setup_client(tmp_path, PUBLIC)
    path = link(settings)
    token = path.split("=", 1)[1]
    for forged in (path[:-1], path + "x", f"/setup?token={token.swapcase()}", path.replace("token=", "token= ")):
        assert client.get(forged).status_code == 403, forged
    assert client.get(path).status_code == 200


def test_once_credentials_exist_every_setup_route_is_404(tmp_path, cleanup):
    client, settings = setup_client(tmp_path, PUBLIC)
    path = link(settings)
    assert client.get(path).status_code == 200
    write_env_file(settings.env_file, {"APP_ID": "12"})
    for route in (path, "/", "/setup", "/setup/callback?code=c&state=s"):
        response = client.get(route)
        assert response.status_code == 404 and "<form" not in response.get_data(as_text=True)


def test_the_webhook_url_comes_from_public_url_never_the_host_header(tmp_path, cleanup):
    client, settings = setup_client(tmp_path, "https://wavegate.example.com")
    response = client.get(link(settings), headers={"Host": "evil.example.net", "X-Forwarded-Host": "evil.example.net"})
    page = response.get_data(as_text=True)
    assert "evil" not in page
    _action, raw = read_form(page)
    manifest = json.loads(raw)
    assert manifest["hook_attributes"]["url"] == "https://wavegate.example.com/webhook"
    assert manifest["redirect_url"] == "https://wavegate.example.com/setup/callback"
    assert 'class="warning"' not in page


def test_without_public_url_the_page_refuses_to_start_the_flow(tmp_path, cleanup):
    client, settings = setup_client(tmp_path, None)
    response = client.get(link(settings), headers={"Host": "evil.example.net"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "<form" not in page and "Set PUBLIC_URL" in page
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize(("public_url", "why"), [
    ("http://127.0.0.1:8000", "loopback"),
    ("http://localhost:8000", "local-only"),
    ("http://[::1]:8000", "loopback"),
    ("http://192.168.1.20", "private"),
    ("http://10.0.0.5:8000", "private"),
    ("http://wavegate:8000", "not a public domain name"),
    ("https://wavegate.internal", "local-only"),
])
def test_a_loopback_or_private_public_url_is_warned_about(tmp_path, cleanup, public_url, why):
    client, settings = setup_client(tmp_path, public_url)
    page = client.get(link(settings)).get_data(as_text=True)
    assert 'class="warning"' in page and "GitHub cannot reach" in page and why in page
    assert "smee.io" in page and "gh webhook forward" in page
    assert "<form" in page  # a warning, not a refusal: a relay can forward to it


@pytest.mark.parametrize(("public_url", "secure"), [("https://wavegate.example.com", True),
                                                    ("http://127.0.0.1:8000", False)])
def test_the_state_cookie_flags(tmp_path, cleanup, public_url, secure):
    client, settings = setup_client(tmp_path, public_url)
    cookie = client.get(link(settings), headers={"X-Forwarded-Proto": "https"}).headers["Set-Cookie"]
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "samesite", "path"} <= flags and "SameSite=Lax" in cookie and "Path=/setup/callback" in cookie
    assert ("secure" in flags) is secure


def test_the_page_lists_the_manifests_permissions_events_and_next_steps(tmp_path, cleanup):
    client, settings = setup_client(tmp_path, "https://wavegate.example.com")
    page = client.get(link(settings)).get_data(as_text=True)
    app_yml = yaml.safe_load((ROOT / "app.yml").read_text())
    _action, raw = read_form(page)
    assert json.loads(raw)["default_permissions"] == app_yml["default_permissions"]
    for name, access in app_yml["default_permissions"].items():
        assert f"<li><code>{name}</code>: {access}</li>" in page
    for name in app_yml["default_events"]:
        assert f"<li><code>{name}</code></li>" in page
    assert "Install the App" in page and "required" in page and "pinned to the App" in page
    assert "<code>wavegate/territory</code> and <code>wavegate/wave-gate</code>" in page


def test_the_setup_page_matches_its_golden_file(tmp_path, cleanup):
    from service.core import report_setup

    manifest = {"default_permissions": {"checks": "write", "metadata": "read"}, "default_events": ["issues"]}
    page = report_setup.form(manifest, github_web_url="https://github.com", public_url="http://127.0.0.1:8000",
                             action="https://github.com/settings/apps/new?state=S", manifest_json='{"name": "W"}',
                             env_file="/config/.env",
                             warning=report_setup.unreachable_warning("http://127.0.0.1:8000",
                                                                      "127.0.0.1 is a loopback address"))
    assert_golden("setup-page", page.html(), suffix=".html")


@pytest.mark.parametrize("name", ["forbidden", "closed"])
def test_the_setup_refusals_match_their_golden_files(name):
    from service.core import report_setup

    page = getattr(report_setup, name)()
    assert_golden(f"setup-{name}", page.html(), suffix=".html")
