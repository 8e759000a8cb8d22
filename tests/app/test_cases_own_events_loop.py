"""Case own-events-loop.md (use-case side): the dispatch job itself posts both checks on every PR
it opens, and the job that updates a branch follows the head move, so ignoring the app's own
events loses nothing."""

import pytest

from service.core.model import CHECK_NAMES, GATE_CHECK
from service.usecases import check_pull, pull_closed, reconcile_plan
from service.usecases import plan as dispatch

from .fakes import REPO, FakeGitHub, cf, dispatched, plan_body


@pytest.fixture(autouse=True)
def _no_sleep(monkeypatch):
    monkeypatch.setattr(dispatch, "sleep", lambda s: None)


def test_dispatch_posts_both_checks_on_the_new_pr():
    fake = FakeGitHub(files=["tools/cli/main.py"], first_number=22)
    fake.roles["maintainer-1"] = "write"
    fake.add_issue(43, plan_body("agents:\n  - {name: cli, territory: [/tools/cli/]}"))
    reconcile_plan(fake, REPO, 43, sender="maintainer-1")
    pr = fake.pull_by_branch("wavegate/43/cli")
    assert pr.number == 22
    assert [fake.latest(pr.head_sha, n).conclusion for n in CHECK_NAMES] == ["success", "success"]


def test_own_sender_skips_the_permission_check_and_other_bots_do_not():
    fake = FakeGitHub(files=[])
    fake.add_issue(43, plan_body("agents:\n  - {name: cli, territory: [/tools/cli/]}"))
    reconcile_plan(fake, REPO, 43, sender="wavegate[bot]")
    assert fake.count("read", "permission") == 0 and len(fake.pulls) == 1
    fake2 = FakeGitHub(files=[])
    fake2.add_issue(43, plan_body("agents:\n  - {name: cli, territory: [/tools/cli/]}"))
    reconcile_plan(fake2, REPO, 43, sender="other-app[bot]")
    assert fake2.count("read", "permission") == 1 and fake2.pulls == {}
    assert "other-app[bot]" in fake2.comments_on(43)[0].body


def test_branch_update_is_followed_to_the_new_head():
    plan = "agents:\n  - {name: api, territory: [/services/api/]}\n  - {name: web, wave: 2, territory: [/apps/web/]}"
    fake = dispatched(plan_body(plan), files=["services/api/a.py"])
    fake.push(20, [cf("services/api/a.py")])
    s21 = fake.push(21, [cf("apps/web/a.tsx", "added")])
    check_pull(fake, REPO, 21, s21)
    fake.merge(20)
    pull_closed(fake, REPO, 20)
    s21u = fake.pulls[21].head_sha
    assert s21u != s21  # G-l5 (the synchronize Wavegate caused) is ignored: nothing else runs
    assert [fake.latest(s21u, n).conclusion for n in CHECK_NAMES] == ["success", "success"]
    assert fake.latest(s21, GATE_CHECK).conclusion == "success"


def test_head_that_does_not_move_is_left_to_the_reconcile(monkeypatch):
    plan = "agents:\n  - {name: api, territory: [/services/api/]}\n  - {name: web, wave: 2, territory: [/apps/web/]}"
    fake = dispatched(plan_body(plan), files=["services/api/a.py"])
    s21 = fake.push(21, [cf("apps/web/a.tsx", "added")])
    check_pull(fake, REPO, 21, s21)
    fake.merge(20)
    real_update = fake.update_branch
    monkeypatch.setattr(fake, "update_branch", lambda repo, n, sha: fake._write("update_branch"))
    pull_closed(fake, REPO, 20)
    assert fake.count("read", "get_pull") >= dispatch.FOLLOW_ATTEMPTS
    monkeypatch.setattr(fake, "update_branch", real_update)
    assert fake.pulls[21].head_sha == s21
    assert fake.latest(s21, GATE_CHECK).conclusion == "success"
