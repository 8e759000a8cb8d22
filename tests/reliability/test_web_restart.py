"""The web process killed and restarted while the agents push: the deliveries GitHub could not hand
over are recovered by the redelivery sweeper (``REDELIVERY_SWEEP=1``, which asks GitHub's
``POST /app/hook/deliveries/{id}/attempts``) when it is on, and by the periodic reconcile
(``RECONCILE_INTERVAL=5``) when it is off. Redis database 14."""

import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest

from demo.stack import Stack

from .harness import DB_OTHER, assert_same_end_state, deliveries, judge, play, redis_url

pytestmark = pytest.mark.reliability
DOWN = 4.0


@pytest.mark.parametrize("sweep", [True, False], ids=["sweeper-on", "sweeper-off"])
def test_web_restarted_under_load(clean, record, sweep):
    workdir = Path(tempfile.mkdtemp(prefix="wavegate-rel-web-"))
    env = {"RECONCILE_INTERVAL": "5", "REDELIVERY_SWEEP": "1" if sweep else "0"}
    with Stack(workdir, redis_url=redis_url(DB_OTHER), extra_env=env) as stack:

        def restart():
            stack.kill("web", signal.SIGKILL)
            time.sleep(DOWN)
            stack.start_web()

        repo = f"acme/web-restart-{'sweep' if sweep else 'reconcile'}"
        result = play(stack, repo, on={"pushed": restart})
        if sweep:
            time.sleep(12)  # let one more sweep run: it is what this scenario measures
            stack.drain(30)
        listed = deliveries(stack)
    failed = {d["guid"] for d in listed if not d.get("redelivery") and not 200 <= (d.get("status_code") or 0) < 300}
    recovered = {d["guid"] for d in listed if d.get("redelivery") and 200 <= (d.get("status_code") or 0) < 300}
    result = judge(result, clean)
    result.notes.append(f"{len(failed)} deliveries failed, {len(failed & recovered)} redelivered")
    record(f"web restarted under load (sweeper {'on' if sweep else 'off'})", result)
    assert failed, "no delivery failed while the web process was down: the scenario did not exercise it"
    if sweep:
        assert failed <= recovered, f"not redelivered: {sorted(failed - recovered)}"
    else:
        assert not recovered
    assert_same_end_state(result)
    shutil.rmtree(workdir, ignore_errors=True)
