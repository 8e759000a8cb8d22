"""``reconcile_plan``: dispatch of the reference plan with its API budget, permission, amendments,
closing when done."""

from pathlib import Path

import pytest

from service.core.model import CHECK_NAMES, GATE_CHECK, TERRITORY_CHECK
from service.usecases import check_pull, pull_closed, reconcile_plan
from service.usecases import plan as dispatch

from .fakes import REPO, FakeGitHub, cf, dispatched, plan_body

PLANS = Path(__file__).resolve().parents[1] / "fixtures" / "plans"


@pytest.fixture(autouse=True)
def _no_sleep(monkeypatch):
    monkeypatch.setattr(dispatch, "sleep", lambda s: None)


def _reference():
    files = (PLANS / "reference-repo-files.txt").read_text().split()
    fake = FakeGitHub(files=files, first_number=12)
    fake.roles["maintainer-1"] = "admin"
    fake.add_issue(7, (PLANS / "reference-consolidated.yaml.md").read_text())
    return fake


def test_reference_dispatch_and_budget():
    fake = _reference()
    reconcile_plan(fake, REPO, 7, sender="maintainer-1")
    heads = {p.head_ref: p for p in fake.pulls.values()}
    assert sorted(heads) == ["wavegate/7/arch-perf", "wavegate/7/architecture", "wavegate/7/security",
                             "wavegate/7/testing"]
    # wave order: wave 1 PRs get the lower numbers
    assert heads["wavegate/7/security"].number < heads["wavegate/7/arch-perf"].number
    for p in fake.pulls.values():
        assert [len(fake.runs_on(p.head_sha, n)) for n in CHECK_NAMES] == [1, 1]
        assert fake.latest(p.head_sha, TERRITORY_CHECK).conclusion == "success"
    assert fake.latest(heads["wavegate/7/testing"].head_sha, GATE_CHECK).status == "in_progress"
    reads, writes = fake.count("read"), fake.count("write")
    # per agent: empty commit, ref, PR, two check runs (5 writes), no read: the plan's PRs come
    # from one list and its branches from one listing, and a branch this run created needs no
    # head re-read; plus issue, config, comments, permission, repository, base ref, base tree
    # (7 reads) and the dashboard (1 write)
    assert (reads, writes) == (2 + 7, 4 * 5 + 1), fake.tally()
    fake.calls.clear()
    reconcile_plan(fake, REPO, 7, sender="maintainer-1")
    assert fake.count("write") == 0


def test_sender_without_write_permission_creates_nothing():
    fake = _reference()
    fake.roles["drive-by"] = "triage"
    reconcile_plan(fake, REPO, 7, sender="drive-by")
    assert fake.pulls == {} and set(fake.branches) == {"main"}
    [dash] = fake.comments_on(7)
    assert "drive-by" in dash.body and "triage" in dash.body


def test_closed_or_unlabelled_issue_is_left_alone():
    fake = _reference()
    fake.edit_issue(7, state="closed")
    assert reconcile_plan(fake, REPO, 7) == "not an open dispatch issue"
    assert fake.count("write") == 0


def test_config_label_and_problems():
    fake = _reference()
    fake.config_text = "label: waves\n"
    assert reconcile_plan(fake, REPO, 7) == "not an open dispatch issue"
    fake.edit_issue(7, labels=("waves",))
    reconcile_plan(fake, REPO, 7)
    assert len(fake.pulls) == 4
    fake2 = _reference()
    fake2.config_text = "protectd: []\n"
    reconcile_plan(fake2, REPO, 7)
    assert fake2.pulls == {} and "protectd" in fake2.comments_on(7)[0].body


PLAN = """
agents:
  - {name: api, territory: [/services/api/]}
  - {name: web, wave: 2, territory: [/apps/web/]}
"""


def test_invalid_edit_after_dispatch_leaves_work_untouched():
    fake = dispatched(plan_body(PLAN))
    fake.edit_issue(42, body=plan_body(PLAN.replace("territory: [/apps/web/]", "teritory: [/apps/web/]")))
    reconcile_plan(fake, REPO, 42, sender="maintainer-1")
    assert fake.count("write") == 1 and fake.count("write", "edit_comment") == 1
    body = fake.comments_on(42)[0].body
    assert "teritory" in body and "#20" in body and "#21" in body
    fake.edit_issue(42, body=plan_body(PLAN))
    reconcile_plan(fake, REPO, 42, sender="maintainer-1")
    assert sorted(fake.pulls) == [20, 21]


def test_amendment_adds_and_removes_agents():
    fake = dispatched(plan_body(PLAN + "  - {name: cli, territory: [/tools/cli/]}\n"))
    cli = fake.pull_by_branch("wavegate/42/cli")
    fake.edit_issue(42, body=plan_body(PLAN + "  - {name: docs, territory: [/docs/]}\n"))
    reconcile_plan(fake, REPO, 42, sender="maintainer-1")
    assert fake.pull_by_branch("wavegate/42/docs") is not None
    gate = fake.latest(cli.head_sha, GATE_CHECK)
    assert gate.conclusion == "failure" and "removed" in gate.title
    [comment] = fake.comments_on(cli.number)
    assert "#42" in comment.body
    dash = fake.comments_on(42)[0].body
    assert "docs" in dash and "amendment" in dash.lower()
    fake.calls.clear()
    reconcile_plan(fake, REPO, 42, sender="maintainer-1")
    assert fake.count("write") == 0 and len(fake.comments_on(cli.number)) == 1


def test_everything_merged_closes_the_issue():
    fake = dispatched(plan_body(PLAN), files=["services/api/a.py"])
    fake.merge(20)
    pull_closed(fake, REPO, 20)
    fake.merge(21)
    assert pull_closed(fake, REPO, 21) == "done; issue closed"
    assert fake.issues[42].state == "closed"
    assert "done" in fake.comments_on(42)[0].body.lower()


def test_everything_merged_without_closing():
    fake = dispatched(plan_body(PLAN), config="close_issue_when_done: false\n")
    fake.merge(20)
    fake.merge(21)
    pull_closed(fake, REPO, 21)
    assert fake.issues[42].state == "open" and fake.count("write", "close_issue") == 0


def test_out_of_territory_push_then_revert():
    fake = _reference()
    reconcile_plan(fake, REPO, 7, sender="maintainer-1")
    testing = fake.pull_by_branch("wavegate/7/testing")
    arch_perf = fake.pull_by_branch("wavegate/7/arch-perf")
    bad = fake.push(testing.number, [cf("tests/unit/test_x.py", "added"), cf("broker/core/dispatcher.py")])
    check_pull(fake, REPO, testing.number, bad)
    run = fake.latest(bad, TERRITORY_CHECK)
    assert run.conclusion == "failure" and "arch-perf" in run.title and f"#{arch_perf.number}" in run.title
    good = fake.push(testing.number, [cf("tests/unit/test_x.py", "added")])
    check_pull(fake, REPO, testing.number, good)
    assert fake.latest(good, TERRITORY_CHECK).conclusion == "success"
