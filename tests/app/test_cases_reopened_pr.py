"""Case reopened-pr.md: ``reopened`` is handled like ``opened`` on the new head; an unmerged close
fails the dependants' gate."""

from service.core.model import GATE_CHECK, TERRITORY_CHECK
from service.usecases import check_pull, pull_closed

from .fakes import REPO, cf, dispatched, plan_body

PLAN = """
agents:
  - {name: api, territory: [/services/api/]}
  - {name: web, wave: 2, territory: [/apps/web/]}
"""


def test_close_then_reopen_on_a_new_head():
    fake = dispatched(plan_body(PLAN), files=["services/api/a.py"])
    s20 = fake.push(20, [cf("services/api/a.py")])
    s21 = fake.push(21, [cf("apps/web/b.tsx", "added")])
    check_pull(fake, REPO, 20, s20)
    check_pull(fake, REPO, 21, s21)
    assert fake.latest(s21, GATE_CHECK).status == "in_progress"

    fake.close(20)  # G-o1
    pull_closed(fake, REPO, 20)
    gate = fake.latest(s21, GATE_CHECK)
    assert gate.conclusion == "failure"
    assert "reopen #20" in gate.summary and "/wavegate skip api" in gate.summary
    assert "#20 closed" in fake.comments_on(42)[0].body

    s20b = fake.push(20, [cf("services/api/a.py"), cf("apps/web/x.tsx", "added")])
    fake.reopen(20)  # G-o2, handled like opened
    check_pull(fake, REPO, 20, s20b)
    terr = fake.latest(s20b, TERRITORY_CHECK)
    assert terr.conclusion == "failure" and "#21" in terr.summary
    assert fake.latest(s20b, GATE_CHECK).conclusion == "success"
    assert fake.latest(s20, TERRITORY_CHECK).conclusion == "success"  # not carried over
    gate = fake.latest(s21, GATE_CHECK)
    assert gate.status == "in_progress" and gate.title == "waiting for wave 1: #20 api"
    assert "#20 open" in fake.comments_on(42)[0].body
