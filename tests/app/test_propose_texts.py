"""The texts of a dispatch issue with findings but no plan, pinned by the golden files
``tests/golden/synthesis-issue-dashboard.md`` and ``synthesis-adopt-replies.md`` (``UPDATE_GOLDEN=1``
rewrites them): the dashboard showing the proposal, and the replies to ``/wavegate adopt`` when it
writes nothing."""

from __future__ import annotations

import os
from pathlib import Path

from service.core import report_synthesis
from service.usecases import reconcile_plan

from .fakes import REPO
from .test_propose import FINDINGS, dashboard, setup

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def golden(name: str, text: str) -> None:
    """``text`` equals ``tests/golden/<name>.md`` (``UPDATE_GOLDEN=1`` rewrites it)."""
    path = GOLDEN / f"{name}.md"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path.name}: run with UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


def test_dashboard_with_a_proposal():
    fake = setup(FINDINGS)
    reconcile_plan(fake, REPO, 42, sender="maintainer-1")
    golden("synthesis-issue-dashboard", dashboard(fake))


def test_adopt_replies():
    replies = [report_synthesis.adopt_has_plan("maintainer-1"),
               report_synthesis.adopt_nothing("maintainer-1", None)]
    golden("synthesis-adopt-replies", "\n---\n\n".join(replies))
