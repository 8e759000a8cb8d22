"""The Redis pacer shares one write budget across worker processes: one write at a time per
installation, at most N in any sliding window, bursts below the budget not delayed."""

import threading

import pytest
import redis

from service.gh.pacing import RedisPacer
from tests.app.fakes import FakeClock
from tests.redisdb import redis_url

URL = redis_url(11)


@pytest.fixture
def conn():
    r = redis.Redis.from_url(URL)
    try:
        r.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis")
    for key in r.scan_iter("test:pace*"):
        r.delete(key)
    return r


def test_a_burst_below_the_budget_is_not_delayed(conn):
    clock = FakeClock(1_000_000.0)
    pacer = RedisPacer(conn, per_minute=5, clock=clock, sleep=clock.sleep, prefix="test:pace")
    for _ in range(5):
        with pacer.write("1"):
            pass
    assert clock.slept == []


def test_the_next_write_waits_for_the_window(conn):
    clock = FakeClock(1_000_000.0)
    pacer = RedisPacer(conn, per_minute=3, clock=clock, sleep=clock.sleep, prefix="test:pace")
    for _ in range(3):
        with pacer.write("1"):
            clock.now += 1
    with pacer.write("1"):
        pass
    assert clock.slept and sum(clock.slept) == pytest.approx(57.0)


def test_installations_have_separate_budgets(conn):
    clock = FakeClock(1_000_000.0)
    pacer = RedisPacer(conn, per_minute=1, clock=clock, sleep=clock.sleep, prefix="test:pace")
    with pacer.write("1"):
        pass
    with pacer.write("2"):
        pass
    assert clock.slept == []


def test_writes_of_one_installation_go_one_at_a_time(conn):
    pacer = RedisPacer(conn, per_minute=1000, prefix="test:pace")
    inside, peak, guard = [0], [0], threading.Lock()

    def write():
        with pacer.write("1"):
            with guard:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            threading.Event().wait(0.02)
            with guard:
                inside[0] -= 1

    threads = [threading.Thread(target=write) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 1


def test_a_pause_holds_every_process_of_the_installation(conn):
    """Two pacers stand for two worker processes: a pause set by one is seen by the other."""
    clock = FakeClock(1_000_000.0)
    one = RedisPacer(conn, clock=clock, sleep=clock.sleep, prefix="test:pace")
    other = RedisPacer(redis.Redis.from_url(URL), clock=clock, sleep=clock.sleep, prefix="test:pace")
    one.pause("1", 2.0)
    assert other.paused_for("1") == pytest.approx(2.0)
    assert other.paused_for("2") == 0.0  # another installation is not paused
    assert other.wait_pause("1", longest=30) == 0.0
    assert clock.slept == [pytest.approx(2.0)]
    assert other.paused_for("1") == 0.0


def test_the_later_pause_wins_and_a_long_one_is_not_slept(conn):
    clock = FakeClock(1_000_000.0)
    pacer = RedisPacer(conn, clock=clock, sleep=clock.sleep, prefix="test:pace")
    pacer.pause("1", 120.0)
    pacer.pause("1", 2.0)  # a shorter pause does not cut the longer one short
    assert pacer.wait_pause("1", longest=30) == pytest.approx(120.0)
    assert clock.slept == []
    assert 0 < conn.ttl("test:pace:pause:1") <= 121  # the key goes when the pause ends
