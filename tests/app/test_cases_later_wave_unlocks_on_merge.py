"""Case later-wave-unlocks-on-merge.md: a merge re-evaluates the plan's other PRs."""

import pytest

from service.core.model import GATE_CHECK, TERRITORY_CHECK
from service.usecases import check_pull, pull_closed, reconcile_repository
from service.usecases import plan as dispatch

from .fakes import REPO, cf, dispatched, plan_body

PLAN = """
agents:
  - {name: api,    territory: [/services/api/]}
  - {name: worker, territory: [/services/worker/]}
  - {name: web,    wave: 2, territory: [/apps/web/]}
"""
OTHER = """
agents:
  - {name: docs, territory: [/docs/]}
"""


@pytest.fixture(autouse=True)
def _no_sleep(monkeypatch):
    monkeypatch.setattr(dispatch, "sleep", lambda s: None)


def _fake(config=None):
    fake = dispatched(plan_body(PLAN), files=["services/api/a.py", "services/worker/w.py", "apps/web/b.tsx"],
                      config=config)
    fake.add_issue(50, plan_body(OTHER))
    from service.usecases import reconcile_plan
    reconcile_plan(fake, REPO, 50)
    fake.push(20, [cf("services/api/a.py")])
    fake.push(21, [cf("services/worker/w.py")])
    s22 = fake.push(22, [cf("apps/web/b.tsx")])
    for n in (20, 21, 22, 23):
        check_pull(fake, REPO, n)
    assert fake.pulls[23].head_ref == "wavegate/50/docs"
    assert fake.latest(s22, GATE_CHECK).title == "waiting for wave 1: #20 api, #21 worker"
    fake.calls.clear()
    return fake, s22


def _writes_on(fake, before, number):
    p = fake.pulls[number]
    return [r for r in fake.runs.values() if r.id not in before and r.head_sha == p.head_sha]


def test_second_merge_unlocks_with_update_branch_and_one_comment():
    fake, s22 = _fake()
    runs_before = {rid: r for rid, r in fake.runs.items()}
    fake.merge(20)
    pull_closed(fake, REPO, 20)
    gate = fake.latest(s22, GATE_CHECK)
    assert gate.status == "in_progress" and gate.title == "waiting for wave 1: #21 worker"
    assert "#20 merged" in fake.comments_on(42)[0].body

    fake.merge(21)
    pull_closed(fake, REPO, 21)
    assert fake.count("write", "update_branch") == 1
    assert fake.latest(s22, GATE_CHECK).conclusion == "success"
    new_head = fake.pulls[22].head_sha
    assert new_head != s22
    assert [fake.latest(new_head, n).conclusion for n in (TERRITORY_CHECK, GATE_CHECK)] == ["success", "success"]
    unlock = [c for c in fake.comments_on(22)]
    assert len(unlock) == 1 and "#20" in unlock[0].body and "#21" in unlock[0].body
    # only this plan's PRs: #23 (issue #50) got no write, merged PRs' runs unchanged
    assert _writes_on(fake, runs_before, 23) == []
    for n in (20, 21, 23):
        for rid, r in runs_before.items():
            if r.head_sha == fake.pulls[n].head_sha:
                assert fake.runs[rid] == r
    # a repeat changes nothing and never comments twice
    fake.calls.clear()
    pull_closed(fake, REPO, 21)
    assert fake.count("write") == 0


def test_without_update_branches():
    fake, s22 = _fake(config="update_branches: false\n")
    fake.merge(20)
    fake.merge(21)
    pull_closed(fake, REPO, 21)
    assert fake.count("write", "update_branch") == 0
    assert fake.pulls[22].head_sha == s22
    assert fake.latest(s22, GATE_CHECK).conclusion == "success"


def test_lost_delivery_is_healed_by_the_periodic_reconcile():
    fake, s22 = _fake()
    fake.merge(20)
    fake.merge(21)  # neither close event arrives
    reconcile_repository(fake, REPO)
    new_head = fake.pulls[22].head_sha
    assert fake.latest(new_head, GATE_CHECK).conclusion == "success"
    assert len(fake.comments_on(22)) == 1
