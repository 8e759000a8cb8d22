"""Case merge-queue-checks.md: both checks concluded on the merge-group commit; the gate looks at
``base_sha``."""

from service.core.model import CHECK_NAMES, GATE_CHECK, TERRITORY_CHECK
from service.usecases import check_merge_group

from .fakes import REPO, cf, dispatched, plan_body

PLAN = """
agents:
  - {name: api, territory: [/services/api/]}
  - {name: web, wave: 2, territory: [/apps/web/]}
"""
M1, M2, M3 = "1" * 40, "2" * 40, "3" * 40


def _ref(n, sha):
    return f"refs/heads/gh-readonly-queue/main/pr-{n}-{sha}"


def test_merge_queue_sequence():
    fake = dispatched(plan_body(PLAN), files=["services/api/a.py", "apps/web/b.tsx"])
    s20 = fake.push(20, [cf("services/api/a.py")])
    s21 = fake.push(21, [cf("apps/web/b.tsx")])
    b0 = fake.branches["main"]
    untouched = {r.id: r for r in fake.runs.values()}

    check_merge_group(fake, REPO, M1, b0, _ref(21, s21))
    terr, gate = fake.latest(M1, TERRITORY_CHECK), fake.latest(M1, GATE_CHECK)
    assert (terr.status, terr.conclusion) == ("completed", "success")
    assert (gate.status, gate.conclusion) == ("completed", "failure")
    assert "wave 1" in gate.title and "#20 api" in gate.title

    check_merge_group(fake, REPO, M2, b0, _ref(20, s20))
    assert [fake.latest(M2, n).conclusion for n in CHECK_NAMES] == ["success", "success"]

    fake.merge(20)
    b1 = fake.branches["main"]
    check_merge_group(fake, REPO, M3, b1, _ref(21, s21))
    assert [fake.latest(M3, n).conclusion for n in CHECK_NAMES] == ["success", "success"]
    # a merge not contained in the group's base does not count
    check_merge_group(fake, REPO, "4" * 40, b0, _ref(21, s21))
    assert fake.latest("4" * 40, GATE_CHECK).conclusion == "failure"
    for run in fake.runs.values():
        assert run.status == "completed" or run.head_sha not in (M1, M2, M3)
    for rid, run in untouched.items():
        assert fake.runs[rid] == run


def test_group_of_a_pr_in_no_plan_gets_non_agent_rules():
    fake = dispatched(plan_body(PLAN), files=["docs/a.md"])
    n = fake.open_pull("feature/docs", files=[cf("docs/a.md")])
    check_merge_group(fake, REPO, M1, fake.branches["main"], _ref(n, fake.pulls[n].head_sha))
    assert [fake.latest(M1, c).conclusion for c in CHECK_NAMES] == ["success", "success"]


def test_duplicate_delivery_writes_once():
    fake = dispatched(plan_body(PLAN), files=["services/api/a.py"])
    s20 = fake.push(20, [cf("services/api/a.py")])
    for _ in range(2):
        check_merge_group(fake, REPO, M2, fake.branches["main"], _ref(20, s20))
    assert len(fake.runs_on(M2)) == 2
