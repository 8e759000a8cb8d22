"""Case check-rerun-requested.md: both re-run buttons, an empty ``pull_requests`` array and an
unknown SHA."""

import logging

from service.core.model import GATE_CHECK, TERRITORY_CHECK
from service.usecases import rerun_checks

from .fakes import REPO, cf, dispatched, plan_body

OLD = """
strict: true
agents:
  - {name: api, territory: [/services/api/]}
  - {name: web, wave: 2, territory: [/apps/web/]}
"""
NEW = OLD.replace("[/services/api/]", "[/services/api/, /services/shared/]")


def _fake():
    fake = dispatched(plan_body(OLD), files=["services/api/a.py", "services/shared/util.py"])
    s20 = fake.push(20, [cf("services/api/a.py"), cf("services/shared/util.py")])
    from service.usecases import check_pull
    check_pull(fake, REPO, 20, s20)
    assert fake.latest(s20, TERRITORY_CHECK).conclusion == "failure"
    fake.edit_issue(42, body=plan_body(NEW))  # the issues.edited delivery was lost
    fake.calls.clear()
    return fake, s20


def test_check_run_rerequested_creates_a_new_run():
    fake, s20 = _fake()
    old = fake.latest(s20, TERRITORY_CHECK)
    rerun_checks(fake, REPO, s20, (20,), check_name=TERRITORY_CHECK)
    new = fake.latest(s20, TERRITORY_CHECK)
    assert new.id != old.id and new.conclusion == "success"
    assert fake.count("write", "create_check_run") == 1


def test_check_suite_rerequested_with_empty_pull_requests():
    fake, s20 = _fake()
    rerun_checks(fake, REPO, s20, ())
    assert fake.count("read", "open_pulls") == 1
    assert fake.latest(s20, TERRITORY_CHECK).conclusion == "success"
    gate = fake.latest(s20, GATE_CHECK)
    assert gate.conclusion == "success" and len(fake.runs_on(s20, GATE_CHECK)) == 2


def test_unknown_sha_writes_nothing(caplog):
    fake, _ = _fake()
    with caplog.at_level(logging.INFO):
        assert rerun_checks(fake, REPO, "9" * 40, ()) == "no open PR"
    assert fake.count("write") == 0
    assert "no open PR has that head" in caplog.text


def test_payload_pr_with_another_head_is_not_written():
    fake, s20 = _fake()
    rerun_checks(fake, REPO, "8" * 40, (20,))
    assert fake.count("write") == 0
