"""The plan version a check run judged: the plan hash and the time the issue body holding that
plan was last edited (DESIGN §3.5: every check run states the plan version it judged).

A check run carries it twice: a line in its summary (``report_commands.plan_version_line``) and
its ``external_id`` (``PlanVersion.external_id``). Writers compare the ``external_id`` of the run
on GitHub with the current one, so a plan edit rewrites each check once even when the verdict is
unchanged, and a reader can tell which plan a green check belongs to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

_EXTERNAL_ID = re.compile(r"plan-(?P<hash>[0-9a-f]{6,64})(?:@(?P<at>\d{8}T\d{6}Z))?")
_STAMP = "%Y%m%dT%H%M%SZ"


@dataclass(frozen=True)
class PlanVersion:
    """``plan_hash`` (``markers.plan_hash``, 12 lowercase hex) and ``edited_at``: when the issue
    body holding the plan was last edited (UTC, whole seconds; None when unknown)."""

    plan_hash: str
    edited_at: datetime | None = None

    @property
    def external_id(self) -> str:
        """``plan-<hash>@<YYYYMMDDTHHMMSSZ>`` (``plan-<hash>`` without a time): at most 33
        characters, ASCII, stable for one version."""
        if self.edited_at is None:
            return f"plan-{self.plan_hash}"
        return f"plan-{self.plan_hash}@{self.edited_at.strftime(_STAMP)}"


def plan_version(plan_hash: str, edited_at: datetime | None) -> PlanVersion:
    """The version of plan ``plan_hash`` as the body edited at ``edited_at`` holds it (naive times
    are taken as UTC; sub-second parts dropped, since GitHub's timestamps have none)."""
    if edited_at is not None:
        edited_at = edited_at.replace(tzinfo=UTC) if edited_at.tzinfo is None else edited_at.astimezone(UTC)
        edited_at = edited_at.replace(microsecond=0)
    return PlanVersion(plan_hash.lower(), edited_at)


def parse_external_id(text: str | None) -> PlanVersion | None:
    """The version in a check run's ``external_id``, or None when it holds none (another
    writer's id, an older run without one). Never raises."""
    match = _EXTERNAL_ID.fullmatch(text or "")
    if match is None:
        return None
    at = None
    if match["at"]:
        try:
            at = datetime.strptime(match["at"], _STAMP).replace(tzinfo=UTC)
        except ValueError:
            return None
    return PlanVersion(match["hash"], at)
