"""Case secondary-rate-limit.md (use-case side): a rate-limited create is retried by the next run,
which looks before re-creating; a real permission error is named on the dashboard. The wait rule
and the 403 mapping are pinned against HTTP in test_github_adapter.py."""

import pytest

from service.core.model import CHECK_NAMES
from service.errors import PermissionDenied, RateLimited
from service.gh.pacing import LocalPacer
from service.usecases import reconcile_plan

from .fakes import REPO, FakeClock, FakeGitHub, plan_body

PLAN = "agents:\n" + "\n".join(f"  - {{name: a{i}, territory: [/mod/a{i}/]}}" for i in range(1, 9))


def _fake():
    fake = FakeGitHub(files=[f"mod/a{i}/x.py" for i in range(1, 9)])
    fake.roles["maintainer-1"] = "write"
    fake.add_issue(42, plan_body(PLAN))
    return fake


@pytest.mark.parametrize("created_anyway", [False, True])
def test_limited_create_is_retried_without_duplicates(created_anyway):
    fake = _fake()
    fake.fail("create_pull", RateLimited("POST /repos/o/r/pulls: 403 secondary", retry_after=60.0),
              skip=4, after_effect=created_anyway)
    with pytest.raises(RateLimited) as info:
        reconcile_plan(fake, REPO, 42, sender="maintainer-1")
    assert info.value.retry_after == 60.0
    assert fake.comments_on(42) == []  # no permission complaint
    reconcile_plan(fake, REPO, 42, sender="maintainer-1")  # the rescheduled job
    assert sorted(fake.pulls) == list(range(20, 28))
    assert sorted(p.head_ref for p in fake.pulls.values()) == [f"wavegate/42/a{i}" for i in range(1, 9)]
    for p in fake.pulls.values():
        assert [len(fake.runs_on(p.head_sha, n)) for n in CHECK_NAMES] == [1, 1]
    assert len(fake.comments_on(42)) == 1
    assert fake.count("write", "create_pull") == 8 + (0 if created_anyway else 1)


def test_permission_error_is_named_on_the_dashboard():
    fake = _fake()
    fake.fail("create_pull", PermissionDenied("403", request="POST /repos/o/r/pulls",
                                              permission="pull_requests: write"))
    assert reconcile_plan(fake, REPO, 42, sender="maintainer-1") == "permission missing"
    body = fake.comments_on(42)[0].body
    assert "POST /repos/o/r/pulls" in body and "pull_requests: write" in body
    assert fake.count("write", "create_pull") == 1  # not retried


def test_pacer_spaces_writes_of_one_installation():
    clock = FakeClock()
    slept = clock.slept
    pacer = LocalPacer(80, clock=clock, sleep=clock.sleep)
    for _ in range(81):
        with pacer.write("1"):
            pass
    assert clock.now >= 60.0 and len(slept) == 80
    with pacer.write("2"):  # another installation is not held back
        pass
    assert len(slept) == 80


def test_local_pacer_pauses_an_installation():
    clock = FakeClock()
    slept = clock.slept
    pacer = LocalPacer(80, clock=clock, sleep=clock.sleep)
    pacer.pause("1", 5.0)
    pacer.pause("1", 1.0)
    assert pacer.wait_pause("2", 30) == 0.0 and slept == []
    assert pacer.wait_pause("1", 3) == 5.0 and slept == []  # too long to sleep out
    assert pacer.wait_pause("1", 30) == 0.0 and slept == [5.0]
