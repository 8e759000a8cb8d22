"""Who may use the setup page, and whether GitHub can reach the address it registers.

- ``SetupToken``: a token, valid until the App is registered, made when the web process starts in setup mode and printed in its
  log (``setup_link``: ``PUBLIC_URL/setup?token=…``). The processes of one server (granian or
  gunicorn workers, same parent process) share it through a file of their own in the temporary
  directory (mode 0600, created atomically, refused if another user owns it), so the link works
  whichever process answers; a restarted server makes a new one. Comparisons are constant-time.
- The manifest flow's ``state`` is signed with the token: the callback accepts only a state this
  page issued to a holder of the token (a matching cookie alone is not enough: a client sets its
  own cookies).
- ``reach``: whether ``PUBLIC_URL`` names a loopback, private, link-local or local-only host, which
  GitHub cannot deliver webhooks to.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import ipaddress
import os
import secrets
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

TOKEN_BYTES = 24
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa", ".test", ".invalid")


@dataclass(frozen=True)
class SetupToken:
    """The setup page's token (``value``: URL-safe text)."""

    value: str = ""

    def matches(self, given: str | None) -> bool:
        """True when ``given`` is the token (constant-time; False for None or empty)."""
        return bool(given) and hmac.compare_digest((given or "").encode(), self.value.encode())

    def sign_state(self) -> str:
        """A fresh manifest-flow ``state``: ``<nonce>.<HMAC-SHA256(token, nonce)>``."""
        nonce = secrets.token_urlsafe(24)
        return f"{nonce}.{self._mac(nonce)}"

    def state_valid(self, state: str | None) -> bool:
        """True when ``state`` was made by ``sign_state`` with this token."""
        nonce, _, mac = (state or "").partition(".")
        return bool(nonce and mac) and hmac.compare_digest(mac.encode(), self._mac(nonce).encode())

    def _mac(self, nonce: str) -> str:
        return hmac.new(self.value.encode(), nonce.encode(), hashlib.sha256).hexdigest()


def token_path(env_file: Path, directory: str | None = None, parent: int | None = None) -> Path:
    """Where the processes of this server share the token: one file per user, parent process
    (``parent``, default this process's parent) and ``.env`` file, in ``directory`` (default: the
    temporary directory)."""
    key = hashlib.sha256(str(Path(env_file).resolve()).encode()).hexdigest()[:12]
    parent = os.getppid() if parent is None else parent
    return Path(directory or tempfile.gettempdir()) / f"wavegate-setup-{os.getuid()}-{parent}-{key}.token"


def _read_own(path: Path) -> str | None:
    """The token in ``path`` if it is a regular file of this user, mode 0600, else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, encoding="ascii") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) != 0o600:
            return None
        value = handle.read().strip()
    return value if len(value) >= 32 else None


def shared_token(path: Path) -> tuple[SetupToken, bool]:
    """(the token of this server, whether this process made it). The first process writes a new
    token to ``path`` (write a private file, then link it into place: it appears complete or not at
    all); the others read it. A file that is not this user's own is never trusted: the process then
    keeps a token of its own."""
    existing = _read_own(path)
    if existing:
        return SetupToken(existing), False
    value = secrets.token_urlsafe(TOKEN_BYTES)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(value)
        os.link(temp, path)
    except FileExistsError:
        existing = _read_own(path)  # another process was first
        return (SetupToken(existing), False) if existing else (SetupToken(value), True)
    except OSError:
        return SetupToken(value), True
    finally:
        with contextlib.suppress(OSError):
            os.unlink(temp)
    return SetupToken(value), True


def forget(path: Path) -> None:
    """Remove the shared token (the App is registered)."""
    with contextlib.suppress(OSError):
        os.unlink(path)


def forget_server_token(server_pid: int) -> None:
    """Remove the token the processes of the server ``server_pid`` shared (their parent: granian's
    or gunicorn's main process), for the ``.env`` file of this environment. Called as the server
    stops: a restart makes a new token, so the file is then a dead secret."""
    from .settings import env_file_path

    forget(token_path(env_file_path(os.environ), parent=server_pid))


@dataclass(frozen=True)
class Reach:
    """Whether GitHub can deliver to ``url``: ``public`` False with ``why`` when it cannot."""

    url: str
    public: bool
    why: str = ""


def reach(url: str) -> Reach:
    """Classify ``url``'s host without a DNS look-up: an IP literal that is loopback, private,
    link-local or otherwise not global; ``localhost``; a name with no dot (a container or host
    name); a special-use suffix (``.local``, ``.internal``, ``.test`` …)."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None:
        if address.is_loopback:
            return Reach(url, False, f"{host} is a loopback address, this machine only")
        if not address.is_global:
            return Reach(url, False, f"{host} is a private or link-local address")
        return Reach(url, True)
    if host == "localhost" or host.endswith(_LOCAL_SUFFIXES):
        return Reach(url, False, f"{host} is a local-only name")
    if "." not in host:
        return Reach(url, False, f"{host or 'the host'} is not a public domain name")
    return Reach(url, True)
