"""What ``GitHubPort`` returns beyond ``service.core.model``: plain frozen snapshots of GitHub
objects, holding only the fields the use cases read. Times are UTC ``datetime`` objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .core.model import CheckOutput


@dataclass(frozen=True)
class RepoData:
    """``GET /repos/{o}/{r}``: ``full_name`` and ``default_branch``."""

    full_name: str
    default_branch: str


@dataclass(frozen=True)
class IssueData:
    """An issue (never a PR). ``state`` is ``open`` or ``closed``; ``labels`` their names."""

    number: int
    title: str
    body: str | None
    state: str
    labels: tuple[str, ...] = ()
    user: str | None = None


@dataclass(frozen=True)
class PullData:
    """A pull request. ``head_repo`` / ``base_repo`` are ``owner/name`` full names (``head_repo``
    is None when the fork was deleted); ``merged`` follows ``merged_at`` (list payloads carry no
    ``merged`` field). ``changed_files`` is None when the payload did not carry it (lists).
    ``draft`` is informational: both checks are posted on drafts too (a draft is still checked,
    so marking it ready never waits for a fresh event)."""

    number: int
    state: str
    head_ref: str
    head_sha: str
    base_ref: str
    head_repo: str | None
    base_repo: str
    title: str = ""
    body: str | None = None
    merged: bool = False
    merged_at: datetime | None = None
    merge_commit_sha: str | None = None
    created_at: datetime | None = None
    changed_files: int | None = None
    user: str | None = None
    draft: bool = False

    @property
    def same_repo(self) -> bool:
        """True when head and base are the same repository (never for forks)."""
        return self.head_repo is not None and self.head_repo == self.base_repo


@dataclass(frozen=True)
class CheckRunData:
    """One check run as listed on a ref. ``app_slug`` names the app that created it."""

    id: int
    name: str
    head_sha: str
    status: str
    conclusion: str | None
    title: str | None = None
    summary: str | None = None
    text: str | None = None
    app_slug: str | None = None
    annotations_count: int = 0
    external_id: str | None = None  # the plan version it judged (``core.version``)

    def shows(self, out: CheckOutput) -> bool:
        """True when this run already shows ``out`` (status, conclusion, title, summary, text, the
        annotation count and, when ``out`` names one, the plan version in ``external_id``), so
        PATCHing it would change nothing."""
        return (
            (out.external_id is None or self.external_id == out.external_id)
            and self.status == out.status
            and (self.conclusion or None) == (out.conclusion or None)
            and (self.title or "") == (out.title or "")
            and (self.summary or "") == (out.summary or "")
            and (self.text or "") == (out.text or "")
            and self.annotations_count == len(out.annotations)
        )


@dataclass(frozen=True)
class CommentData:
    """An issue or PR conversation comment."""

    id: int
    body: str
    user: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class TreeData:
    """A recursive git tree: blob paths with their blob SHAs, and GitHub's ``truncated`` flag
    (set beyond 100,000 entries or 7 MB)."""

    sha: str
    blobs: dict[str, str] = field(default_factory=dict, hash=False, compare=True)
    truncated: bool = False


@dataclass(frozen=True)
class Delivery:
    """One App webhook delivery from ``GET /app/hook/deliveries``."""

    id: int
    guid: str
    event: str
    status_code: int
    redelivery: bool = False
    delivered_at: datetime | None = None
