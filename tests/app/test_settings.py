"""Settings: read once from the environment; a missing or malformed value is one clear line naming
the variable; secrets never in repr/str."""

from __future__ import annotations

import base64
import subprocess
import sys

import pytest

from service.errors import ConfigError
from service.settings import Settings
from tests.conftest import ROOT

from .conftest import FAKE_PEM

BASE = {"APP_ID": "12345", "PRIVATE_KEY": FAKE_PEM, "WEBHOOK_SECRET": "s3cr3t-value"}


def env(**changes) -> dict[str, str]:
    values = {**BASE, **changes}
    return {k: v for k, v in values.items() if v is not None}


def test_minimal_environment_gives_the_defaults():
    s = Settings.from_env(env())
    assert (s.app_id, s.webhook_secrets, s.github_api_url, s.ghe_host) == (
        12345, ("s3cr3t-value",), "https://api.github.com", None)
    assert (s.redis_url, s.log_level, s.dry_run, s.app_slug, s.bot_login) == (
        "redis://127.0.0.1:6379/0", "INFO", False, "wavegate", "wavegate[bot]")
    assert (s.reconcile_interval, s.redelivery_sweep, s.queue_name) == (300, False, "wavegate")
    assert s.private_key.startswith("-----BEGIN RSA PRIVATE KEY-----\n")


@pytest.mark.parametrize(("changes", "attribute", "value"), [
    ({"GHE_HOST": "github.example.com"}, "github_api_url", "https://github.example.com/api/v3"),
    ({"GHE_HOST": "github.example.com", "GITHUB_API_URL": "http://127.0.0.1:9000/"}, "github_api_url",
     "http://127.0.0.1:9000"),
    ({"WEBHOOK_SECRET": "new, old"}, "webhook_secrets", ("new", "old")),
    ({"WAVEGATE_DRY_RUN": "yes"}, "dry_run", True),
    ({"WAVEGATE_DRY_RUN": "0"}, "dry_run", False),
    ({"REDELIVERY_SWEEP": "true"}, "redelivery_sweep", True),
    ({"RECONCILE_INTERVAL": "60"}, "reconcile_interval", 60),
    ({"APP_SLUG": "my-gate"}, "bot_login", "my-gate[bot]"),
    ({"LOG_LEVEL": "debug"}, "log_level", "DEBUG"),
    ({"QUEUE_NAME": "wg-high"}, "queue_name", "wg-high"),
    ({"REDIS_URL": "rediss://:pw@redis:6380/2"}, "redis_url", "rediss://:pw@redis:6380/2"),
    ({"PRIVATE_KEY": FAKE_PEM.strip().replace("\n", "\\n")}, "private_key", FAKE_PEM),
    ({"PRIVATE_KEY": base64.b64encode(FAKE_PEM.encode()).decode()}, "private_key", FAKE_PEM),
])
def test_values(changes, attribute, value):
    assert getattr(Settings.from_env(env(**changes)), attribute) == value


def test_private_key_path(tmp_path):
    key = tmp_path / "app.pem"
    key.write_text(FAKE_PEM)
    assert Settings.from_env(env(PRIVATE_KEY=None, PRIVATE_KEY_PATH=str(key))).private_key == FAKE_PEM


@pytest.mark.parametrize(("changes", "names"), [
    ({"APP_ID": None}, "APP_ID"),
    ({"APP_ID": "abc"}, "APP_ID"),
    ({"APP_ID": "-3"}, "APP_ID"),
    ({"PRIVATE_KEY": None}, "PRIVATE_KEY or PRIVATE_KEY_PATH"),
    ({"PRIVATE_KEY": "not a key"}, "PRIVATE_KEY"),
    ({"PRIVATE_KEY": None, "PRIVATE_KEY_PATH": "/nonexistent/key.pem"}, "PRIVATE_KEY_PATH"),
    ({"WEBHOOK_SECRET": None}, "WEBHOOK_SECRET"),
    ({"WEBHOOK_SECRET": "a,,b"}, "WEBHOOK_SECRET"),
    ({"WEBHOOK_SECRET": "a,b,c"}, "WEBHOOK_SECRET"),
    ({"GHE_HOST": "https://ghe.example.com/"}, "GHE_HOST"),
    ({"GITHUB_API_URL": "api.github.com"}, "GITHUB_API_URL"),
    ({"REDIS_URL": "http://localhost:6379"}, "REDIS_URL"),
    ({"LOG_LEVEL": "loud"}, "LOG_LEVEL"),
    ({"WAVEGATE_DRY_RUN": "maybe"}, "WAVEGATE_DRY_RUN"),
    ({"REDELIVERY_SWEEP": "2"}, "REDELIVERY_SWEEP"),
    ({"RECONCILE_INTERVAL": "0"}, "RECONCILE_INTERVAL"),
    ({"RECONCILE_INTERVAL": "5m"}, "RECONCILE_INTERVAL"),
    ({"APP_SLUG": "Wave Gate"}, "APP_SLUG"),
    ({"QUEUE_NAME": "a b"}, "QUEUE_NAME"),
])
def test_bad_settings_are_one_line_naming_the_variable(changes, names):
    with pytest.raises(ConfigError) as info:
        Settings.from_env(env(**changes))
    message = str(info.value)
    assert message.startswith(names) and "\n" not in message


def test_secrets_are_not_in_repr_or_str():
    s = Settings.from_env(env(WEBHOOK_SECRET="topsecret-1,topsecret-0", REDIS_URL="redis://:redispw@r:6379/0"))
    for text in (repr(s), str(s), f"{s}"):
        assert "topsecret" not in text and "PRIVATE KEY" not in text and "redispw" not in text
        assert "12345" in text
    assert {"topsecret-1", "topsecret-0", "redispw"} <= set(s.secret_values)


@pytest.mark.parametrize("command", [
    [sys.executable, "-m", "workers", "--burst"],
    [sys.executable, "-c", "from service.webhook import create_app; create_app()"],
])
def test_entry_points_stop_with_one_line_and_no_traceback(command):
    result = subprocess.run(command, cwd=ROOT, env={"PATH": "/usr/bin:/bin", "WEBHOOK_SECRET": "x"},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "APP_ID" in lines[0] and "Traceback" not in result.stderr


def test_the_env_file_fills_in_what_the_environment_lacks(tmp_path, monkeypatch):
    from service.settings import process_environment, read_env_file

    path = tmp_path / ".env"
    path.write_text("# written by the setup page\nexport APP_ID='77'\nLOG_LEVEL=\"debug\"\n\nnot a line\n")
    assert read_env_file(path) == {"APP_ID": "77", "LOG_LEVEL": "debug"}
    monkeypatch.setenv("ENV_FILE", str(path))
    monkeypatch.setenv("LOG_LEVEL", "ERROR")
    merged = process_environment()
    assert merged["APP_ID"] == "77" and merged["LOG_LEVEL"] == "ERROR"  # the environment wins
    assert read_env_file(tmp_path / "missing") == {}


@pytest.mark.parametrize("url", [
    "https://a.example.com/x?y=1",
    "https://a.example.com/x#frag",
    "https://a.example.com/?",
    "https://user:secret-pw@a.example.com",
    "wavegate.example.com",
    "javascript:alert(1)",
])
def test_a_public_url_that_cannot_take_the_webhook_path_is_refused_in_one_line(url, tmp_path):
    # PUBLIC_URL + "/webhook" becomes the App's webhook URL: a query, a fragment or credentials
    # would end up inside it (or in the App's settings on GitHub).
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"PUBLIC_URL": url, "ENV_FILE": str(tmp_path / ".env")}, allow_setup=True)
    message = str(info.value)
    assert message.startswith("PUBLIC_URL") and "\n" not in message and "secret-pw" not in message
