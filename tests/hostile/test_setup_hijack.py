"""Attempts to take over the setup page (GitHub's manifest flow) of a service that is not yet
registered: whoever completes the flow writes their App's credentials into the operator's ``.env``.
None of them reaches GitHub's conversion or writes anything."""

from __future__ import annotations

import os
import threading
from urllib.parse import parse_qs, urlsplit

import pytest

from service import registration
from service.settings import SetupSettings, read_env_file
from service.setup_access import SetupToken, forget, shared_token, token_path
from service.webhook import create_app

PUBLIC = "https://wavegate.example.com"


@pytest.fixture
def target(tmp_path, monkeypatch):
    """(client, settings, conversions): the page of an unregistered service; ``conversions`` lists
    the codes it asked GitHub to convert (none of these attacks may get there)."""
    conversions: list[str] = []

    def convert(api_url, code, **kwargs):
        conversions.append(code)
        return {"id": 666, "slug": "evil", "pem": "-----BEGIN RSA PRIVATE KEY-----\nx\n-----END RSA PRIVATE KEY-----",
                "webhook_secret": "evil-secret", "html_url": "https://github.com/apps/evil"}

    monkeypatch.setattr(registration, "convert", convert)
    settings = SetupSettings(public_url=PUBLIC, env_file=tmp_path / ".env")
    yield create_app(settings).test_client(), settings, conversions
    forget(token_path(settings.env_file))


def the_token(settings: SetupSettings) -> str:
    return shared_token(token_path(settings.env_file))[0].value


def test_an_attacker_with_their_own_state_and_cookie_is_refused(target):
    # The state check alone was CSRF protection: a client chooses its own cookies.
    client, settings, conversions = target
    client.set_cookie(registration.STATE_COOKIE, "attacker-state", path=registration.CALLBACK_PATH)
    response = client.get("/setup/callback?code=attackers-code&state=attacker-state")
    assert response.status_code == 403
    assert conversions == [] and not settings.env_file.exists()


def test_a_state_signed_with_another_token_is_refused(target):
    client, settings, conversions = target
    forged = SetupToken("a-token-of-another-server-0123456789abcdef").sign_state()
    client.set_cookie(registration.STATE_COOKIE, forged, path=registration.CALLBACK_PATH)
    assert client.get(f"/setup/callback?code=c0de&state={forged}").status_code == 403
    assert conversions == [] and not settings.env_file.exists()


def test_a_valid_state_without_its_cookie_is_refused(target):
    # A state leaked from the page (a shoulder, a proxy log) is not enough without the browser's cookie.
    client, settings, conversions = target
    page = client.get(f"/setup?token={the_token(settings)}")
    state = parse_qs(urlsplit(page.get_data(as_text=True).split('action="')[1].split('"')[0]
                              .replace("&amp;", "&")).query)["state"][0]
    client.delete_cookie(registration.STATE_COOKIE, path=registration.CALLBACK_PATH)
    assert client.get(f"/setup/callback?code=c0de&state={state}").status_code == 403
    assert conversions == []


def test_the_token_never_appears_in_a_page_or_cookie(target):
    client, settings, _conversions = target
    token = the_token(settings)
    for response in (client.get("/setup"), client.get(f"/setup?token={token}")):
        assert token not in response.get_data(as_text=True)
        assert token not in response.headers.get("Set-Cookie", "")


def test_after_registration_the_flow_cannot_be_run_again(target):
    client, settings, conversions = target
    token = the_token(settings)
    page = client.get(f"/setup?token={token}")
    action = page.get_data(as_text=True).split('action="')[1].split('"')[0].replace("&amp;", "&")
    state = parse_qs(urlsplit(action).query)["state"][0]
    assert client.get(f"/setup/callback?code=first&state={state}").status_code == 200
    assert read_env_file(settings.env_file)["APP_ID"] == "666" and conversions == ["first"]
    # Same browser, same token, a second code: closed for good.
    assert client.get(f"/setup?token={token}").status_code == 404
    assert client.get(f"/setup/callback?code=second&state={state}").status_code == 404
    assert conversions == ["first"]
    assert not token_path(settings.env_file).exists()  # the shared token is gone too


@pytest.mark.parametrize("plant", ["world-readable file", "symlink"])
def test_a_token_file_planted_by_someone_else_is_not_trusted(tmp_path, plant):
    settings = SetupSettings(public_url=PUBLIC, env_file=tmp_path / ".env")
    path = token_path(settings.env_file)
    planted = "planted-token-known-to-the-attacker-0123456789"
    try:
        if plant == "symlink":
            decoy = tmp_path / "decoy"
            decoy.write_text(planted)
            decoy.chmod(0o600)
            path.symlink_to(decoy)
        else:
            path.write_text(planted)
            path.chmod(0o644)
        client = create_app(settings).test_client()
        assert client.get(f"/setup?token={planted}").status_code == 403
    finally:
        forget(path)


def test_processes_of_one_server_share_one_token(tmp_path):
    path = token_path(tmp_path / ".env")
    results: list[tuple[SetupToken, bool]] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        results.append(shared_token(path))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len({token.value for token, _made in results}) == 1
        assert sum(made for _token, made in results) == 1
        assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    finally:
        forget(path)
