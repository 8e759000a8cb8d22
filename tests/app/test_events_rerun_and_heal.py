"""Re-run buttons with an empty ``pull_requests``, merge groups dropped, and self-healing: the
periodic reconcile reaches the state the lost deliveries would have, and the redelivery sweeper
is off unless switched on."""

import pytest

from service.core.model import CHECK_NAMES, GATE_CHECK, TERRITORY_CHECK
from service.gh import app as github
from service.routes import Skip, route
from service.usecases import check_pull, pull_closed, reconcile_repository, rerun_checks
from service.usecases import plan as dispatch
from workers import context

from .conftest import make_settings
from .fakes import REPO, cf, dispatched, plan_body
from .test_jobs import calls, fast_forward, work  # noqa: F401  (the fixture and helpers of the job tests)

PLAN = """
agents:
  - {name: api, territory: [/services/api/]}
  - {name: worker, territory: [/services/worker/]}
  - {name: web, wave: 2, territory: [/apps/web/]}
"""


@pytest.fixture(autouse=True)
def _no_sleep(monkeypatch):
    monkeypatch.setattr(dispatch, "sleep", lambda s: None)


def _fake():
    fake = dispatched(plan_body(PLAN), files=["services/api/a.py", "services/worker/w.py", "apps/web/b.tsx"])
    for n, path in ((20, "services/api/a.py"), (21, "services/worker/w.py"), (22, "apps/web/b.tsx")):
        check_pull(fake, REPO, n, fake.push(n, [cf(path)]))
    fake.calls.clear()
    return fake


def test_check_run_rerequested_with_empty_pull_requests_finds_the_pr_by_its_head():
    fake = _fake()
    sha = fake.pulls[22].head_sha
    before = {n: len(fake.runs_on(sha, n)) for n in CHECK_NAMES}
    rerun_checks(fake, REPO, sha, (), check_name=GATE_CHECK)
    assert fake.count("read", "open_pulls") == 1
    assert len(fake.runs_on(sha, GATE_CHECK)) == before[GATE_CHECK] + 1  # a new run of that name only
    assert len(fake.runs_on(sha, TERRITORY_CHECK)) == before[TERRITORY_CHECK]
    assert fake.latest(sha, GATE_CHECK).title == "waiting for wave 1: #20 api, #21 worker"


def test_merge_group_destroyed_enqueues_nothing_and_so_writes_nothing():
    payload = {"action": "destroyed", "reason": "dequeued", "installation": {"id": 1},
               "repository": {"full_name": "o/r"}, "sender": {"login": "maintainer-1"},
               "merge_group": {"head_sha": "1" * 40, "head_ref": "refs/heads/gh-readonly-queue/main/pr-20-a",
                               "base_sha": "2" * 40}}
    assert isinstance(route("merge_group", payload, make_settings()), Skip)


def _end_state(fake):
    return ({n: (p.state, p.merged, [(fake.latest(p.head_sha, c).status, fake.latest(p.head_sha, c).conclusion,
                                     fake.latest(p.head_sha, c).title) for c in CHECK_NAMES])
             for n, p in fake.pulls.items()},
            {n: len(fake.comments_on(n)) for n in (20, 21, 22)}, fake.issues[42].state)


def test_periodic_reconcile_after_lost_merge_events_reaches_the_delivered_end_state():
    delivered, lost = _fake(), _fake()
    for n in (20, 21):
        delivered.merge(n)
        pull_closed(delivered, REPO, n)
        lost.merge(n)  # neither pull_request.closed arrives
    reconcile_repository(lost, REPO)
    assert _end_state(lost) == _end_state(delivered)
    assert lost.latest(lost.pulls[22].head_sha, GATE_CHECK).conclusion == "success"


def test_redelivery_sweeper_is_off_by_default(conn, queue, calls, settings, monkeypatch):  # noqa: F811
    from service import queueing

    assert make_settings().redelivery_sweep is False
    monkeypatch.setattr(context, "settings", lambda: settings)
    monkeypatch.setattr(github, "app_installations", lambda s, **kw: [], raising=False)
    listed: list = []
    monkeypatch.setattr(github, "list_failed_deliveries", lambda s, **kw: listed.append(1) or [], raising=False)
    queueing.arm_periodic(queue, 300)
    fast_forward(queue)
    work(queue)
    assert listed == []
