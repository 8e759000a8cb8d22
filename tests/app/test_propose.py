"""A dispatch issue with findings but no plan (the proposal on the dashboard, ``/wavegate adopt``)
and typo warnings on the dashboard, against the fake GitHub port."""

from __future__ import annotations

import pytest

from service.core import markers
from service.core.report_synthesis import PROPOSAL_MARKER
from service.core.synthesis_issue import names_files
from service.usecases import handle_command, reconcile_plan

from .fakes import REPO, FakeGitHub, plan_body

FILES = ["service/app.py", "src/api/auth.py", "src/api/routes.py", "src/core/engine.py", "docs/guide.md", "tests/test_api.py"]
FINDINGS = """Audit of the service.

## Security
- P0: auth middleware accepts any non-empty token (`src/api/auth.py:46-51`)

## Performance
- P1: the engine recomputes every route on each request (`src/core/engine.py`)
"""
NO_REFERENCES = "Things to look at:\n\n- the service feels slow\n- the docs are thin\n"


def setup(body: str, *, roles: dict[str, str] | None = None) -> FakeGitHub:
    """A fake holding ``FILES`` on its default branch and dispatch issue 42 with ``body``."""
    fake = FakeGitHub(files=FILES)
    fake.roles.update({"maintainer-1": "write", **(roles or {})})
    fake.add_issue(42, body)
    return fake


def dashboard(fake: FakeGitHub) -> str:
    found = [c.body for c in fake.comments_on(42) if markers.is_dashboard(c.body)]
    assert len(found) == 1
    return found[0]


def adopt(fake: FakeGitHub, user: str = "maintainer-1", cid: int | None = None) -> tuple[int, str]:
    cid = cid if cid is not None else fake.add_comment(42, "/wavegate adopt", user=user)
    return cid, handle_command(fake, REPO, 42, cid, user)


# --------------------------------------------------------------------------- the proposal


def test_findings_without_a_plan_get_the_proposal_instead_of_problems():
    fake = setup(FINDINGS)
    assert reconcile_plan(fake, REPO, 42, sender="maintainer-1") == "plan proposed"
    body = dashboard(fake)
    assert PROPOSAL_MARKER in body and "<details><summary>Proposed plan: 2 agents" in body
    assert "/wavegate adopt" in body and "```yaml dispatch" in body
    assert "### Problems" not in body
    assert not fake.pulls and fake.count("write", "create_branch") == 0


def test_the_proposal_reads_the_base_tree_once():
    fake = setup(FINDINGS)
    reconcile_plan(fake, REPO, 42, sender="maintainer-1")
    assert fake.count("read", "tree") == 1 and fake.count("read", "branch_sha") == 1


def test_a_second_reconcile_writes_nothing():
    fake = setup(FINDINGS)
    reconcile_plan(fake, REPO, 42, sender="maintainer-1")
    fake.calls.clear()
    reconcile_plan(fake, REPO, 42, sender="maintainer-1")
    assert fake.count("write") == 0


def test_a_body_without_file_references_keeps_the_no_plan_problems():
    fake = setup(NO_REFERENCES)
    assert reconcile_plan(fake, REPO, 42, sender="maintainer-1") == "plan problems"
    body = dashboard(fake)
    assert "### Problems" in body and PROPOSAL_MARKER not in body
    assert fake.count("read", "tree") == 0  # nothing to resolve: the base tree is not read


def test_a_body_with_a_broken_plan_gets_its_problems_not_a_proposal():
    fake = setup(FINDINGS + "\n```yaml dispatch\nagents: [\n```\n")
    assert reconcile_plan(fake, REPO, 42, sender="maintainer-1") == "plan problems"
    assert PROPOSAL_MARKER not in dashboard(fake)
    assert fake.count("read", "tree") == 0


# --------------------------------------------------------------------------- /wavegate adopt


def test_adopt_writes_the_plan_into_the_body_and_dispatches():
    fake = setup(FINDINGS)
    reconcile_plan(fake, REPO, 42, sender="maintainer-1")
    cid, outcome = adopt(fake)
    body = fake.issues[42].body
    assert body.startswith(FINDINGS.rstrip()) and "```yaml dispatch" in body
    assert markers.adopted_marker(cid) in body
    assert fake.count("write", "edit_issue_body") == 1
    assert len(fake.pulls) == 2 and "2 dispatched" in outcome
    assert (cid, "+1") in fake.reactions
    assert PROPOSAL_MARKER not in dashboard(fake)


def test_a_duplicate_delivery_of_adopt_writes_the_body_once():
    fake = setup(FINDINGS)
    cid, _ = adopt(fake)
    body, replies = fake.issues[42].body, len(fake.comments_on(42))
    fake.calls.clear()
    adopt(fake, cid=cid)  # the same comment delivered again
    assert fake.issues[42].body == body
    assert fake.count("write", "edit_issue_body") == 0 and fake.count("write", "create_pull") == 0
    assert len(fake.comments_on(42)) == replies  # no refusal for the duplicate


def test_adopt_by_a_reader_is_refused_naming_the_role():
    fake = setup(FINDINGS, roles={"reader": "read"})
    adopt(fake, user="reader")
    reply = fake.comments_on(42)[-1].body
    assert "@reader" in reply and "`read`" in reply and "write permission" in reply
    assert fake.issues[42].body == FINDINGS and fake.count("write", "edit_issue_body") == 0


def test_adopt_on_a_body_with_a_plan_is_refused():
    body = plan_body("agents:\n  - {name: api, territory: [src/api/]}", intro=FINDINGS)
    fake = setup(body)
    adopt(fake)
    replies = [c.body for c in fake.comments_on(42) if not markers.is_dashboard(c.body)]
    assert any("already holds a dispatch plan" in r for r in replies)
    assert fake.issues[42].body == body and fake.count("write", "edit_issue_body") == 0


def test_adopt_with_nothing_to_adopt_is_refused():
    fake = setup(NO_REFERENCES)
    cid, _ = adopt(fake)
    replies = [c.body for c in fake.comments_on(42) if not markers.is_dashboard(c.body) and c.id != cid]
    assert any("no proposed plan to adopt" in r for r in replies)
    assert fake.issues[42].body == NO_REFERENCES and not fake.pulls
    assert (cid, "+1") not in fake.reactions


# --------------------------------------------------------------------------- typo warnings


TYPO_PLAN = """
agents:
  - {name: api, territory: [src/api/, servce/]}
  - {name: docs, territory: [Docs/]}
"""


def test_typo_warnings_are_shown_and_the_plan_still_dispatches():
    fake = setup(plan_body(TYPO_PLAN))
    outcome = reconcile_plan(fake, REPO, 42, sender="maintainer-1")
    assert "2 dispatched" in outcome and len(fake.pulls) == 2
    body = dashboard(fake)
    assert "### Warnings (2)" in body
    assert "`servce/`" in body and "did you mean `service/`" in body  # the did-you-mean from the base tree
    assert "`Docs/`" in body and "did you mean `docs/`" in body


def test_warnings_stay_on_the_dashboard_of_a_plan_with_problems():
    plan = TYPO_PLAN + "  - {name: web, territory: [src/]}\n"
    fake = setup(plan_body(plan))
    assert reconcile_plan(fake, REPO, 42, sender="maintainer-1") == "pre-flight problems"
    body = dashboard(fake)
    assert "### Problems" in body and "### Warnings" in body and not fake.pulls


@pytest.mark.parametrize("plan", ["agents:\n  - {name: api, territory: [src/api/]}\n"])
def test_no_warnings_section_when_every_pattern_matches(plan):
    fake = setup(plan_body(plan))
    reconcile_plan(fake, REPO, 42, sender="maintainer-1")
    assert "### Warnings" not in dashboard(fake)


@pytest.mark.parametrize(("body", "expect"), [
    (FINDINGS, True),
    (NO_REFERENCES, False),
    ("- P0: the helper in `../outside.py` is wrong\n", False),  # a reference no agent can own
    ("- P2: tidy up src/core/engine.py\n", True),
    ("", False),
])
def test_only_a_body_naming_files_is_worth_a_proposal(body, expect):
    assert names_files(body) is expect
