"""Case duplicate-delivery.md: the same labelled event twice, an unlabel and a re-label create
nothing twice; a 422 "Reference already exists" reuses the branch."""

import pytest

from service.core.model import CHECK_NAMES
from service.errors import Conflict
from service.usecases import reconcile_plan

from .fakes import API_WEB_PLAN as PLAN
from .fakes import REPO, FakeGitHub, plan_body


def _fake():
    fake = FakeGitHub(files=["services/api/a.py"])
    fake.roles["maintainer-1"] = "write"
    fake.add_issue(42, plan_body(PLAN))
    return fake


def _assert_end_state(fake):
    assert sorted(b for b in fake.branches if b != "main") == ["wavegate/42/api", "wavegate/42/web"]
    assert sorted(fake.pulls) == [20, 21]
    assert len(fake.comments_on(42)) == 1
    for p in fake.pulls.values():
        for name in CHECK_NAMES:
            assert len(fake.runs_on(p.head_sha, name)) == 1


def test_both_copies_reach_workers():
    fake = _fake()
    reconcile_plan(fake, REPO, 42, sender="maintainer-1")
    fake.calls.clear()
    reconcile_plan(fake, REPO, 42, sender="maintainer-1")
    _assert_end_state(fake)
    assert fake.count("write") == 0


def test_unlabel_then_relabel():
    fake = _fake()
    reconcile_plan(fake, REPO, 42, sender="maintainer-1")
    fake.edit_issue(42, labels=())
    fake.calls.clear()
    assert "not" in reconcile_plan(fake, REPO, 42, sender="maintainer-1")
    assert fake.count("write") == 0
    fake.edit_issue(42, labels=("dispatch",))
    reconcile_plan(fake, REPO, 42, sender="maintainer-1")
    assert fake.count("write") == 0
    _assert_end_state(fake)


def test_branch_already_exists_is_reused():
    fake = _fake()
    # another worker created the branch between our look and our create
    base = fake.branches["main"]
    original = fake.branch_sha

    def racing_branch_sha(repo, branch):
        sha = original(repo, branch)
        if branch == "wavegate/42/api" and sha is None:
            fake.branches[branch] = fake._commit(fake.commits[base].tree, (base,))
        return sha

    fake.branch_sha = racing_branch_sha
    reconcile_plan(fake, REPO, 42, sender="maintainer-1")
    _assert_end_state(fake)


def test_failed_create_comment_never_duplicates_on_retry():
    fake = _fake()
    fake.fail("create_comment", Conflict("422"), after_effect=True)
    with pytest.raises(Conflict):
        reconcile_plan(fake, REPO, 42, sender="maintainer-1")
    reconcile_plan(fake, REPO, 42, sender="maintainer-1")
    _assert_end_state(fake)
