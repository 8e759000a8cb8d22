"""``pull_request`` events beyond opened/synchronize (issue "Events and states"): ``edited`` with
``changes.base``, drafts, force-pushes in both directions, and fork PRs named like an agent."""

import pytest

from service.core.model import CHECK_NAMES, GATE_CHECK, TERRITORY_CHECK
from service.usecases import check_pull, pull_closed, reconcile_plan

from .fakes import REPO, FakeGitHub, cf, dispatched, plan_body

PLAN = """
agents:
  - {name: api, territory: [/services/api/]}
  - {name: web, wave: 2, territory: [/apps/web/]}
"""


@pytest.fixture
def fake():
    f = dispatched(plan_body(PLAN), files=["services/api/a.py", "docs/a.md"])
    f.branches["release"] = f.branches["main"]
    return f


def test_edited_base_is_re_evaluated_against_the_new_base(fake):
    n = fake.open_pull("fix/docs", base="release", files=[cf("docs/a.md")])
    sha = fake.pulls[n].head_sha
    check_pull(fake, REPO, n, sha)
    assert fake.latest(sha, TERRITORY_CHECK).conclusion == "success"
    # retargeted to main: GitHub's file list for the same head now includes api's file
    fake.retarget(n, "main", [cf("docs/a.md"), cf("services/api/a.py")])
    check_pull(fake, REPO, n, sha)
    run = fake.latest(sha, TERRITORY_CHECK)
    assert run.conclusion == "failure" and "#20" in run.summary


def test_drafts_are_checked_and_ready_for_review_changes_nothing(fake):
    """Decision: a draft PR gets both checks like any other (converted_to_draft re-posts the same
    verdict), so ready_for_review never waits on a fresh event."""
    fake.pulls[21].draft = True
    sha = fake.push(21, [cf("apps/web/b.tsx", "added")])
    check_pull(fake, REPO, 21, sha)  # synchronize on a draft
    assert [fake.latest(sha, c) is not None for c in CHECK_NAMES] == [True, True]
    assert fake.latest(sha, TERRITORY_CHECK).conclusion == "success"
    fake.pulls[21].draft = False
    fake.calls.clear()
    check_pull(fake, REPO, 21, sha)  # ready_for_review: same content, no write
    assert fake.count("write") == 0


def test_force_push_never_carries_a_verdict_either_way(fake):
    bad = fake.push(21, [cf("services/api/a.py")])
    good = fake.push(21, [cf("apps/web/b.tsx", "added")], sha="f" * 40)  # force-push replaces bad
    assert check_pull(fake, REPO, 21, bad) == "stale"  # old SHA's event after the force-push
    assert fake.runs_on(bad) == [] and fake.runs_on(good) == []
    check_pull(fake, REPO, 21, good)
    assert fake.latest(good, TERRITORY_CHECK).conclusion == "success"
    assert fake.runs_on(bad) == []  # the new verdict is not written onto the old SHA
    # force-push back to the old commit: its verdict is computed anew from its own files
    fake.pulls[21].head_sha = bad
    check_pull(fake, REPO, 21, bad)
    assert fake.latest(bad, TERRITORY_CHECK).conclusion == "failure"
    assert fake.latest(good, TERRITORY_CHECK).conclusion == "success"


def test_fork_named_like_an_agent_branch_is_never_the_agent(fake):
    body = "<!-- wavegate issue=42 agent=api plan=000000000000 -->"
    n = fake.open_pull("wavegate/42/api", fork=True, files=[cf("docs/a.md")], body=body)
    sha = fake.pulls[n].head_sha
    check_pull(fake, REPO, n, sha)
    assert fake.latest(sha, TERRITORY_CHECK).conclusion == "success"  # a non-agent verdict
    assert fake.latest(sha, GATE_CHECK).title == "Not an agent PR: no wave to wait for"
    # merging the fork does not count as api's merge, and its close re-evaluates no plan
    fake.merge(n)
    assert pull_closed(fake, REPO, n) == f"#{n}: in no active plan"
    reconcile_plan(fake, REPO, 42)
    assert fake.latest(fake.pulls[21].head_sha, GATE_CHECK).status == "in_progress"


def test_fork_opened_before_dispatch_is_not_adopted():
    fake = FakeGitHub(files=["services/api/a.py"])
    fake.roles["maintainer-1"] = "write"
    fake.add_issue(42, plan_body(PLAN))
    fork = fake.open_pull("wavegate/42/api", fork=True, files=[cf("services/api/a.py")])
    reconcile_plan(fake, REPO, 42, sender="maintainer-1")
    own = [p for p in fake.pulls.values() if p.head_ref == "wavegate/42/api" and p.head_repo == REPO]
    assert len(own) == 1 and own[0].number != fork
    assert fake.runs_on(fake.pulls[fork].head_sha) == []
    assert f"#{own[0].number}" in fake.comments_on(42)[0].body
