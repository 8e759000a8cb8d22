"""In-memory state of the emulated GitHub: apps, installations, users, tokens and repositories.

Git data lives in real bare repositories; everything else (issues, pulls, comments, check runs) lives
here. One process-wide re-entrant lock (``State.lock``) serialises every change.
"""

from __future__ import annotations

import itertools
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from .gitrepo import GitRepo

DEFAULT_EVENTS = ["issues", "issue_comment", "pull_request", "merge_group", "check_run", "check_suite",
                  "workflow_run"]
DEFAULT_PERMISSIONS = {"checks": "write", "contents": "write", "issues": "write", "pull_requests": "write",
                       "metadata": "read", "merge_queues": "read", "actions": "write"}
ROLE_RANK = {"read": 1, "triage": 2, "write": 3, "maintain": 4, "admin": 5}


def now_iso(ts: float | None = None) -> str:
    """ISO 8601 UTC timestamp with a ``Z`` suffix and whole seconds, as GitHub writes them."""
    return datetime.fromtimestamp(ts if ts is not None else time.time(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class App:
    id: int
    slug: str
    name: str
    public_key: str
    webhook_url: str | None
    webhook_secret: str | None
    events: list[str]
    permissions: dict[str, str]
    owner: str = "emulator-owner"
    client_id: str = ""
    client_secret: str = ""
    created_at: str = field(default_factory=now_iso)
    hook_id: int = 0


@dataclass
class Installation:
    id: int
    app_id: int
    repos: list[str]
    account: str
    created_at: str = field(default_factory=now_iso)


@dataclass
class User:
    id: int
    login: str
    token: str
    permissions: dict[str, str]
    type: str = "User"


@dataclass
class Token:
    token: str
    installation_id: int
    expires_at: float
    permissions: dict[str, str]
    uses: int = 0  # requests authenticated with it


@dataclass
class Repo:
    id: int
    owner: str
    name: str
    default_branch: str
    git: GitRepo
    required_checks: list[str]
    merge_queue: bool
    tree_truncate_at: int | None
    created_at: str = field(default_factory=now_iso)
    pushed_at: str = field(default_factory=now_iso)
    next_number: int = 1
    issues: dict[int, dict] = field(default_factory=dict)  # issues and pulls share numbers
    comments: dict[int, dict] = field(default_factory=dict)
    labels: dict[str, dict] = field(default_factory=dict)
    check_runs: dict[int, dict] = field(default_factory=dict)
    check_suites: dict[int, dict] = field(default_factory=dict)
    queue: list[dict] = field(default_factory=list)  # merge queue entries
    merge_order: list[int] = field(default_factory=list)
    reactions: dict[tuple, list] = field(default_factory=dict)  # ("issue"|"comment", id) -> reactions
    workflows: dict[str, dict] = field(default_factory=dict)  # ".github/workflows/<file>" -> workflow
    workflow_runs: dict[int, dict] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass(frozen=True)
class Actor:
    """Who made a request: ``kind`` is "user", "app" (installation token) or "jwt" (the App itself)."""

    kind: str
    login: str | None = None
    app_id: int | None = None
    installation_id: int | None = None

    @property
    def label(self) -> str:
        if self.kind == "user":
            return f"user:{self.login}"
        if self.kind == "app":
            return f"app:{self.app_id}"
        return "jwt"


class State:
    """Every object of the emulated GitHub; guard mutations with ``with state.lock``."""

    def __init__(self, data_dir: str | None = None):
        self.lock = threading.RLock()
        self._tmp = None
        if data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="emulator-")
            data_dir = self._tmp.name
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.base_url = ""
        self._ids = itertools.count(1000)
        self.apps: dict[int, App] = {}
        self.installations: dict[int, Installation] = {}
        self.users: dict[str, User] = {}
        self.user_tokens: dict[str, str] = {}
        self.tokens: dict[str, Token] = {}
        self.repos: dict[str, Repo] = {}
        self.manifest_codes: dict[str, dict] = {}
        self.order = itertools.count(1)  # global creation order for snapshots

    def next_id(self) -> int:
        """A fresh integer id, unique across all object kinds."""
        return next(self._ids)

    def ensure_user(self, login: str, permissions: dict[str, str] | None = None, type_: str = "User") -> User:
        """The user ``login``, created on first use (with a fresh token)."""
        user = self.users.get(login)
        if user is None:
            user = User(self.next_id(), login, "ghu_" + secrets.token_hex(18), {}, type_)
            self.users[login] = user
            self.user_tokens[user.token] = login
        if permissions:
            user.permissions.update(permissions)
        return user

    def role(self, login: str, full_name: str) -> str | None:
        """The user's role on a repository (admin/maintain/write/triage/read), None without access."""
        repo = self.repos.get(full_name)
        if repo and repo.owner == login:
            return "admin"
        user = self.users.get(login)
        return user.permissions.get(full_name) if user else None

    def installation_for(self, app_id: int, full_name: str) -> Installation | None:
        """The installation of app ``app_id`` covering repository ``full_name``."""
        for inst in self.installations.values():
            if inst.app_id == app_id and full_name in inst.repos:
                return inst
        return None

    def installations_of_repo(self, full_name: str) -> list[Installation]:
        """Every installation covering ``full_name``."""
        return [i for i in self.installations.values() if full_name in i.repos]
