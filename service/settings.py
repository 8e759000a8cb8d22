"""Process settings, read once from the environment (``Settings.from_env()``).

Variable names follow Probot where one exists (``APP_ID``, ``PRIVATE_KEY`` / ``PRIVATE_KEY_PATH``,
``WEBHOOK_SECRET``, ``GHE_HOST``, ``LOG_LEVEL``). A missing or malformed value raises
``ConfigError`` whose message is one line naming the variable; secrets never appear in ``repr``.

Values come from the process environment, then from the ``.env`` file (``ENV_FILE``, default
``.env`` in the working directory; the environment wins), which the setup page writes.

Setup mode: ``Settings.from_env(allow_setup=True)`` returns a ``SetupSettings`` when none of the
App's credentials (``APP_ID``, ``PRIVATE_KEY``/``PRIVATE_KEY_PATH``, ``WEBHOOK_SECRET``) is set, so
the web process can serve the page that registers the App. A partial set is still an error.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .errors import ConfigError

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_WEB_URL = "https://github.com"
DEFAULT_ENV_FILE = ".env"
CREDENTIALS = ("APP_ID", "PRIVATE_KEY", "PRIVATE_KEY_PATH", "WEBHOOK_SECRET")
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_SLUG = "wavegate"
DEFAULT_QUEUE = "wavegate"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]*")
_HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?")
_QUEUE = re.compile(r"[A-Za-z0-9_.:-]+")
_ENV_LINE = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*")
_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.+-----END [A-Z ]*PRIVATE KEY-----", re.S)


@dataclass(frozen=True)
class Settings:
    """Everything a web or worker process needs to know about its deployment.

    ``webhook_secrets`` holds one secret, or two while a secret is being rotated (GitHub signs
    with the new one as soon as it is saved; deliveries signed with the old one may still be
    redelivered). ``github_api_url`` is the REST base URL (``https://HOST/api/v3`` on GHES).
    ``reconcile_interval`` is in seconds.
    """

    app_id: int
    private_key: str = field(repr=False)
    webhook_secrets: tuple[str, ...] = field(repr=False)
    github_api_url: str = DEFAULT_API_URL
    ghe_host: str | None = None
    redis_url: str = field(default=DEFAULT_REDIS_URL, repr=False)
    log_level: str = "INFO"
    dry_run: bool = False
    app_slug: str = DEFAULT_SLUG
    reconcile_interval: int = 300
    redelivery_sweep: bool = False
    queue_name: str = DEFAULT_QUEUE
    # A user token for starting GitHub's coding agent (launch via copilot): GitHub accepts the
    # assignment only from a user. Never logged: it is registered with the log scrubber.
    copilot_user_token: str | None = field(default=None, repr=False)

    @property
    def bot_login(self) -> str:
        """The login GitHub gives the App's own account in ``sender.login`` (``<slug>[bot]``)."""
        return f"{self.app_slug}[bot]"

    @property
    def secret_values(self) -> tuple[str, ...]:
        """Every secret string this process holds, for the log scrubber."""
        values = [*self.webhook_secrets, self.private_key, self.copilot_user_token or ""]
        password = urlsplit(self.redis_url).password
        if password:
            values.append(password)
        return tuple(v for v in values if v)

    def __str__(self) -> str:
        return repr(self)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *,
                 allow_setup: bool = False) -> Settings | SetupSettings:
        """Read and validate the settings from ``environ`` (default: ``os.environ`` over the
        ``ENV_FILE`` file's values).

        Raises ``ConfigError`` with a one-line message naming the first missing or malformed
        variable. ``PRIVATE_KEY`` may be the PEM text, the PEM with ``\\n`` escapes (as in a
        one-line ``.env`` file) or its base64 encoding; ``PRIVATE_KEY_PATH`` names a PEM file.
        With ``allow_setup`` and no App credential at all, returns ``SetupSettings`` instead.
        """
        env = process_environment() if environ is None else environ
        if allow_setup and not any(_get(env, name) for name in CREDENTIALS):
            return SetupSettings.from_env(env)
        return cls(
            app_id=_app_id(env),
            private_key=_private_key(env),
            webhook_secrets=_webhook_secrets(env),
            github_api_url=_api_url(env),
            ghe_host=_ghe_host(env),
            redis_url=_redis_url(env),
            log_level=_log_level(env),
            dry_run=_bool(env, "WAVEGATE_DRY_RUN", False),
            app_slug=_slug(env),
            reconcile_interval=_positive_int(env, "RECONCILE_INTERVAL", 300),
            redelivery_sweep=_bool(env, "REDELIVERY_SWEEP", False),
            queue_name=_queue_name(env),
            copilot_user_token=_get(env, "COPILOT_USER_TOKEN") or None,
        )


@dataclass(frozen=True)
class SetupSettings:
    """The web process before the App exists: where GitHub's manifest flow lives and where the
    credentials it returns are written.

    ``github_web_url``: ``GITHUB_WEB_URL``, else ``https://GHE_HOST``, else ``https://github.com``
    (the form posts to ``<github_web_url>/settings/apps/new``, or
    ``…/organizations/<GITHUB_ORG>/settings/apps/new``). ``github_api_url`` receives the
    ``POST /app-manifests/{code}/conversions``. ``public_url`` (``PUBLIC_URL``) is the address
    GitHub and browsers reach this service at; None takes it from each request.
    ``env_file`` (``ENV_FILE``) receives the credentials, mode 0600.
    """

    github_web_url: str = DEFAULT_WEB_URL
    github_api_url: str = DEFAULT_API_URL
    github_org: str | None = None
    public_url: str | None = None
    env_file: Path = Path(DEFAULT_ENV_FILE)
    manifest_path: Path = field(default_factory=lambda: Path(__file__).resolve().parents[1] / "app.yml")
    log_level: str = "INFO"
    secret_values: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> SetupSettings:
        """Read the setup-mode settings from ``environ``. Raises ``ConfigError`` naming a
        malformed variable."""
        web = _get(environ, "GITHUB_WEB_URL")
        host = _ghe_host(environ)
        if web:
            _check_url("GITHUB_WEB_URL", web)
        else:
            web = f"https://{host}" if host else DEFAULT_WEB_URL
        public = _get(environ, "PUBLIC_URL")
        if public:
            _check_public_url(public)
        org = _get(environ, "GITHUB_ORG")
        if org and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]*", org):
            raise ConfigError(f"GITHUB_ORG must be an organization login, got {org[:40]!r}")
        manifest = _get(environ, "APP_MANIFEST")
        return cls(github_web_url=web.rstrip("/"), github_api_url=_api_url(environ), github_org=org or None,
                   public_url=public.rstrip("/") or None, env_file=env_file_path(environ),
                   log_level=_log_level(environ),
                   **({"manifest_path": Path(manifest)} if manifest else {}))  # type: ignore[arg-type]


def env_file_path(environ: Mapping[str, str] | None = None) -> Path:
    """The ``.env`` file: ``ENV_FILE``, default ``.env`` in the working directory."""
    env = os.environ if environ is None else environ
    return Path(_get(env, "ENV_FILE") or DEFAULT_ENV_FILE)


def read_env_file(path: str | os.PathLike[str]) -> dict[str, str]:
    """``KEY=VALUE`` lines of a ``.env`` file (``#`` comments, blank lines and an ``export``
    prefix allowed; one pair of surrounding single or double quotes removed, escapes kept as
    written). A missing or unreadable file gives ``{}``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    values = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _ENV_LINE.fullmatch(line)
        if match:
            value = match.group(2)
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            values[match.group(1)] = value
    return values


def process_environment() -> dict[str, str]:
    """``os.environ`` over the values of the ``.env`` file (``env_file_path()``)."""
    return {**read_env_file(env_file_path()), **os.environ}


def _check_url(name: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{name} must be an http(s) URL, got {url[:80]!r}")


def _check_public_url(url: str) -> None:
    """``PUBLIC_URL`` becomes the App's webhook and callback addresses by appending paths: a query,
    a fragment or credentials in it would end up inside them (``…?y=1/webhook``) or in the App's
    settings on GitHub."""
    _check_url("PUBLIC_URL", url)
    parts = urlsplit(url)
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise ConfigError(f"PUBLIC_URL must have no query or fragment (paths are appended to it), got {url[:80]!r}")
    if parts.username is not None or parts.password is not None:
        raise ConfigError("PUBLIC_URL must not hold a user or password: it is written into the App's webhook URL")


def _get(env: Mapping[str, str], name: str) -> str:
    return (env.get(name) or "").strip()


def _app_id(env: Mapping[str, str]) -> int:
    raw = _get(env, "APP_ID")
    if not raw:
        raise ConfigError("APP_ID is not set: give the GitHub App's numeric id")
    if not raw.isdigit() or int(raw) <= 0:
        raise ConfigError(f"APP_ID must be a positive integer, got {raw[:40]!r}")
    return int(raw)


def _private_key(env: Mapping[str, str]) -> str:
    text = env.get("PRIVATE_KEY") or ""
    name = "PRIVATE_KEY"
    if not text.strip():
        path = _get(env, "PRIVATE_KEY_PATH")
        if not path:
            raise ConfigError("PRIVATE_KEY or PRIVATE_KEY_PATH is not set: give the App's PEM private key")
        name = "PRIVATE_KEY_PATH"
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"PRIVATE_KEY_PATH cannot be read ({type(exc).__name__}): {path}") from None
    text = text.strip()
    if "-----BEGIN" not in text:
        with contextlib.suppress(binascii.Error, ValueError):
            text = base64.b64decode(text, validate=True).decode("utf-8").strip()
    text = text.replace("\\n", "\n")
    if not _PEM.search(text):
        raise ConfigError(f"{name} is not a PEM private key (expected -----BEGIN ... PRIVATE KEY-----)")
    return text + "\n"


def _webhook_secrets(env: Mapping[str, str]) -> tuple[str, ...]:
    raw = env.get("WEBHOOK_SECRET") or ""
    if not raw.strip():
        raise ConfigError("WEBHOOK_SECRET is not set: give the App's webhook secret")
    # A comma separates the current secret from the previous one during rotation; a secret
    # that itself contains a comma cannot be used.
    secrets = tuple(part.strip() for part in raw.split(","))
    if any(not s for s in secrets) or len(secrets) > 2:
        raise ConfigError("WEBHOOK_SECRET must be one secret, or two separated by one comma during rotation")
    return secrets


def _ghe_host(env: Mapping[str, str]) -> str | None:
    host = _get(env, "GHE_HOST")
    if not host:
        return None
    if not _HOST.fullmatch(host):
        raise ConfigError(f"GHE_HOST must be a host name such as github.example.com, got {host[:60]!r}")
    return host


def _api_url(env: Mapping[str, str]) -> str:
    url = _get(env, "GITHUB_API_URL")
    if url:
        _check_url("GITHUB_API_URL", url)
        return url.rstrip("/")
    host = _ghe_host(env)
    return f"https://{host}/api/v3" if host else DEFAULT_API_URL


def _redis_url(env: Mapping[str, str]) -> str:
    url = _get(env, "REDIS_URL") or DEFAULT_REDIS_URL
    if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError("REDIS_URL must start with redis://, rediss:// or unix://")
    return url


def _log_level(env: Mapping[str, str]) -> str:
    level = (_get(env, "LOG_LEVEL") or "INFO").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(f"LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL, got {level[:20]!r}")
    return level


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    if name not in env:
        return default
    raw = _get(env, name).lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false (1/0, yes/no, on/off), got {raw[:20]!r}")


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = _get(env, name)
    if not raw:
        return default
    if not raw.isdigit() or int(raw) <= 0:
        raise ConfigError(f"{name} must be a positive number of seconds, got {raw[:20]!r}")
    return int(raw)


def _slug(env: Mapping[str, str]) -> str:
    slug = _get(env, "APP_SLUG") or DEFAULT_SLUG
    if not _SLUG.fullmatch(slug):
        raise ConfigError(f"APP_SLUG must be the App's slug (lowercase letters, digits, -), got {slug[:40]!r}")
    return slug


def _queue_name(env: Mapping[str, str]) -> str:
    name = _get(env, "QUEUE_NAME") or DEFAULT_QUEUE
    if not _QUEUE.fullmatch(name):
        raise ConfigError(f"QUEUE_NAME may contain only letters, digits and _ . : -, got {name[:40]!r}")
    return name
