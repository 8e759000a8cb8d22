"""The RQ worker SIGKILLed at a random moment during a dispatch or an unlock, then restarted: the
end state is a clean run's. A job killed mid-way leaves its per-plan lock and its RQ registry entry
behind; the redelivery of nothing (GitHub does not resend) means only the periodic reconcile or a
later event can finish the work, so this proves those paths heal it."""

import random
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest

from demo.stack import Stack

from .harness import CLEAN_REPO, PrivateRedis, assert_same_end_state, judge, play, redis_url

pytestmark = pytest.mark.reliability
SEEDS = range(10)  # × 2 moments: 20 SIGKILLs per run
MOMENTS = {
    # the transcript line after which the kill is armed, and the window (s) it falls in
    "dispatch": ("edited the plan", 3.0),
    "unlock": ("merged #@2", 2.0),
}


@pytest.fixture(scope="module")
def stack():
    """A stack of its own on a private redis-server (killed jobs leave locks and registry entries
    behind; they must not leak into other scenarios), so this module can also run beside the
    others."""
    workdir = Path(tempfile.mkdtemp(prefix="wavegate-rel-kill-"))
    server = PrivateRedis(workdir)
    server.start()
    try:
        with Stack(workdir, redis_url=redis_url(0, server.port), extra_env={"RECONCILE_INTERVAL": "5"}) as running:
            yield running
    finally:
        server.stop()
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def clean(stack):
    return play(stack, CLEAN_REPO).snapshot


def kill_and_restart(stack, seed: int, window: float):
    rng = random.Random(seed)
    delay = rng.uniform(0, window)

    def hook():
        time.sleep(delay)
        stack.kill("worker-0", signal.SIGKILL)
        time.sleep(rng.uniform(0.2, 1.5))
        stack.start_worker(0)

    return hook, delay


def run_killed(stack, clean, record, moment: str, seed: int):
    marker, window = MOMENTS[moment]
    hook, delay = kill_and_restart(stack, seed, window)
    result = judge(play(stack, f"acme/kill-{moment}-{seed}", on={marker: hook}), clean)
    record(f"worker SIGKILL during {moment}", result)
    assert_same_end_state(result)


@pytest.mark.reliability_ci
def test_worker_killed_once_during_a_dispatch(stack, clean, record):
    """The CI form: one seed."""
    run_killed(stack, clean, record, "dispatch", seed=1000)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("moment", sorted(MOMENTS))
def test_worker_killed_at_random_points(stack, clean, record, moment, seed):
    run_killed(stack, clean, record, moment, seed)
