"""Case out-of-order-events.md: a verdict is bound to the head SHA it was computed for."""

from service import usecases as actions
from service.core.model import GATE_CHECK, TERRITORY_CHECK
from service.usecases import check_pull, checks

from .fakes import REPO, cf, dispatched, plan_body

PLAN = """
agents:
  - {name: api, territory: [/services/api/]}
  - {name: web, wave: 2, territory: [/apps/web/]}
"""


def test_handled_in_reverse_order_end_on_s3():
    fake = dispatched(plan_body(PLAN), files=["services/api/x.py"])
    s1 = fake.pulls[21].head_sha
    s2 = fake.push(21, [cf("apps/web/a.tsx")])
    s3 = fake.push(21, [cf("apps/web/a.tsx"), cf("services/api/x.py")])
    assert check_pull(fake, REPO, 21, s3) != "stale"  # G-b first
    assert check_pull(fake, REPO, 21, s2) == "stale"  # then G-a: dropped
    assert fake.runs_on(s2) == []
    run = fake.latest(s3, TERRITORY_CHECK)
    assert run.conclusion == "failure" and "#20" in run.summary
    gate = fake.latest(s3, GATE_CHECK)
    assert gate.status == "in_progress" and gate.title == "waiting for wave 1: #20 api"
    # the dispatch job's late write for S1 is dropped: S1 is no longer the head
    before = len(fake.runs)
    assert checks.post(fake, REPO, s1, [], number=21) == 0
    from service.core import report
    out = report.queued_output(TERRITORY_CHECK)
    assert checks.post(fake, REPO, s1, [out], number=21) is None
    assert len(fake.runs) == before
    assert len(fake.runs_on(s3, TERRITORY_CHECK)) == 1


def test_race_head_moves_between_read_and_write(monkeypatch):
    fake = dispatched(plan_body(PLAN), files=["services/api/x.py"])
    s2 = fake.push(21, [cf("apps/web/a.tsx")])
    real = fake.pull_changes

    def push_meanwhile(repo, pull, **kwargs):
        changes = real(repo, pull, **kwargs)
        if pull.head_sha == s2:
            fake.push(21, [cf("apps/web/a.tsx"), cf("services/api/x.py")])
        return changes

    monkeypatch.setattr(fake, "pull_changes", push_meanwhile)
    assert actions.check_pull(fake, REPO, 21, s2) == "stale"
    s3 = fake.pulls[21].head_sha
    assert fake.runs_on(s2) == [] and fake.runs_on(s3) == []
