"""Unlock side effects are level-triggered (DESIGN §3.4): an unlocked agent PR gets its comment and
its branch update whatever the previous run managed before it stopped; update-branch is tried at
most once per (PR, base head), and a 422 is not an error."""

import pytest

from service.core.model import GATE_CHECK
from service.errors import Conflict, TransientGitHubError
from service.usecases import handle_command, pull_closed, reconcile_plan, reconcile_repository
from service.usecases import plan as dispatch

from .fakes import REPO, cf, dispatched, plan_body

PLAN = """
agents:
  - {name: api, territory: [/services/api/]}
  - {name: web, wave: 2, territory: [/apps/web/]}
"""


@pytest.fixture(autouse=True)
def _no_sleep(monkeypatch):
    monkeypatch.setattr(dispatch, "sleep", lambda s: None)


def _fake():
    fake = dispatched(plan_body(PLAN), files=["services/api/a.py", "apps/web/b.tsx"])
    fake.push(20, [cf("services/api/a.py")])
    fake.push(21, [cf("apps/web/b.tsx")])
    reconcile_plan(fake, REPO, 42)
    fake.calls.clear()
    return fake


def _unlock_comments(fake, number=21):
    return [c for c in fake.comments_on(number) if "wavegate-unlocked" in c.body]


def test_worker_killed_after_the_gate_turned_green_still_updates_and_comments():
    fake = _fake()
    s21 = fake.pulls[21].head_sha
    fake.merge(20)
    fake.fail("update_branch", TransientGitHubError("killed"))
    with pytest.raises(TransientGitHubError):
        pull_closed(fake, REPO, 20)
    assert fake.latest(s21, GATE_CHECK).conclusion == "success"  # green, but no update, no comment
    assert fake.pulls[21].head_sha == s21 and _unlock_comments(fake) == []

    pull_closed(fake, REPO, 20)  # the retry (or the periodic reconcile) sees a green gate already
    assert fake.pulls[21].head_sha != s21
    assert len(_unlock_comments(fake)) == 1
    assert fake.latest(fake.pulls[21].head_sha, GATE_CHECK).conclusion == "success"


def test_worker_killed_before_the_comment_comments_once_on_the_next_pass():
    fake = _fake()
    fake.merge(20)
    fake.fail("create_comment", TransientGitHubError("killed"), skip=0)
    with pytest.raises(TransientGitHubError):
        pull_closed(fake, REPO, 20)
    assert _unlock_comments(fake) == []
    reconcile_repository(fake, REPO)
    reconcile_repository(fake, REPO)
    assert len(_unlock_comments(fake)) == 1
    assert fake.count("write", "update_branch") == 1


def test_update_branch_at_most_once_per_base_head_and_422_is_not_an_error():
    fake = _fake()
    fake.merge(20)
    fake.fail("update_branch", Conflict("PUT update-branch: 422 merge conflict"), times=10)
    assert "dispatched" in pull_closed(fake, REPO, 20)  # no exception
    assert len(_unlock_comments(fake)) == 1
    for _ in range(3):
        reconcile_repository(fake, REPO)
    assert fake.count("write", "update_branch") == 1  # no loop on the same base head
    # the base moves: one more attempt for the new base head
    other = fake.open_pull("fix/docs", files=[cf("docs/a.md", "added")])
    fake.merge(other)
    reconcile_repository(fake, REPO)
    reconcile_repository(fake, REPO)
    assert fake.count("write", "update_branch") == 2


def test_head_that_contains_the_base_is_not_updated():
    fake = _fake()
    cid = fake.add_comment(42, "/wavegate skip api")
    handle_command(fake, REPO, 42, cid, "maintainer-1")  # unlocked by a skip: the base did not move
    assert fake.count("write", "update_branch") == 0
    assert len(_unlock_comments(fake)) == 1
    assert fake.latest(fake.pulls[21].head_sha, GATE_CHECK).conclusion == "success"


def test_no_update_when_update_branches_is_off_but_the_comment_still_comes():
    fake = _fake()
    fake.config_text = "update_branches: false\n"
    fake.merge(20)
    pull_closed(fake, REPO, 20)
    reconcile_repository(fake, REPO)
    assert fake.count("write", "update_branch") == 0
    assert len(_unlock_comments(fake)) == 1


def test_a_repeat_reads_no_comments_once_the_memo_records_them():
    fake = _fake()
    fake.merge(20)
    pull_closed(fake, REPO, 20)
    fake.calls.clear()
    reconcile_repository(fake, REPO)
    assert fake.count("write") == 0
    assert fake.count("read", "comments") == 1  # the dashboard only
    assert fake.count("read", "contains") == 0


def test_a_closed_pr_reconciles_its_plan_reading_the_plan_once():
    fake = _fake()
    fake.merge(20)
    pull_closed(fake, REPO, 20)
    tally = fake.tally()
    # the closed PR's job found its plan (issue, config, dashboard, PRs) and hands it over
    assert (tally[("read", "get_issue")], tally[("read", "file_text")]) == (1, 1), tally
    assert tally[("read", "recent_pulls")] == 1, tally  # the plan's PRs: one list, not one per job step
    assert len(_unlock_comments(fake)) == 1
