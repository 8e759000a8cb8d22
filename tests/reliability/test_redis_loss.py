"""Redis loses everything mid-plan, or stops answering for 30 s while deliveries arrive.

DESIGN §1: Redis holds only the job queue and short-lived caches, so wiping it loses nothing.
The flush uses FLUSHDB on the stack's own database (14): the Redis server is shared with other
test suites on other databases, so FLUSHALL is never sent. The outage needs a Redis that can be
stopped: a private ``redis-server`` on a free port, started and stopped by the test.
"""

import shutil
import tempfile
import time
from pathlib import Path

import pytest
import redis

from demo.stack import Stack, wait_until

from .harness import DB_OTHER, PrivateRedis, assert_same_end_state, deliveries, judge, play, redis_url

pytestmark = pytest.mark.reliability
OUTAGE = 30.0
HEALING_ENV = {"RECONCILE_INTERVAL": "5", "REDELIVERY_SWEEP": "1"}


@pytest.fixture(scope="module")
def flushed_stack():
    workdir = Path(tempfile.mkdtemp(prefix="wavegate-rel-flush-"))
    with Stack(workdir, redis_url=redis_url(DB_OTHER), extra_env=HEALING_ENV) as running:
        yield running
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.mark.parametrize(("moment", "marker"), [("dispatch", "edited the plan"), ("unlock", "merged #@2")])
def test_redis_flushed_mid_plan(flushed_stack, clean, record, moment, marker):
    def flush():
        time.sleep(0.5)
        redis.Redis.from_url(flushed_stack.redis_url).flushdb()

    result = judge(play(flushed_stack, f"acme/flush-{moment}", on={marker: flush}), clean)
    record(f"Redis FLUSHDB during {moment}", result)
    assert_same_end_state(result)


def test_redis_down_for_thirty_seconds_while_deliveries_arrive(clean, record):
    """Redis stops while the agents push; the web edge answers 503, GitHub records failed
    deliveries, the redelivery sweeper asks for them again once Redis is back (a restarted Redis
    without persistence starts empty). A worker that exits on the outage is restarted, as a
    process supervisor would."""
    workdir = Path(tempfile.mkdtemp(prefix="wavegate-rel-down-"))
    server = PrivateRedis(workdir)
    server.start()
    notes: list[str] = []
    stack = Stack(workdir, redis_url=redis_url(0, server.port), extra_env=HEALING_ENV)
    try:
        stack.start()

        def outage():
            server.stop()
            time.sleep(OUTAGE)
            server.start()
            if stack.procs["worker-0"].poll() is not None:
                notes.append("worker exited during the outage; restarted")
                stack.start_worker(0)

        result = play(stack, "acme/redis-down", on={"pushed": outage}, wait=OUTAGE + 90)
        failed = [d for d in deliveries(stack) if d.get("status_code") == 503]
        result = judge(result, clean)
        result.notes += notes + [f"{len(failed)} deliveries answered 503"]
        record("Redis down 30 s", result)
        assert failed, "no delivery arrived during the outage: the scenario did not exercise it"
        assert_same_end_state(result)
        shutil.rmtree(workdir, ignore_errors=True)
    finally:
        stack.stop()
        server.stop()


def test_the_periodic_reconcile_survives_a_flush(flushed_stack):
    """``RECONCILE_INTERVAL=5``: within four intervals of a FLUSHDB a ``reconcile_all`` must run
    again, or lost deliveries are never healed."""
    from demo.stack import log_lines

    connection = redis.Redis.from_url(flushed_stack.redis_url)
    wait_until(lambda: connection.get("wavegate:periodic"), 30, "the periodic chain to be armed")
    connection.flushdb()
    seen = len(log_lines(flushed_stack.workdir))
    time.sleep(1)
    wait_until(lambda: [line for line in log_lines(flushed_stack.workdir)[seen:] if '"periodic_run"' in line],
               20, "a reconcile_all after the flush")
