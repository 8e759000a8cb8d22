"""Check runs of other apps (DESIGN §3.7): a run another app posts under one of our names is
neither read as ours nor overwritten; ours is still written and kept current on that head."""

from dataclasses import replace

from service.core.model import GATE_CHECK, TERRITORY_CHECK
from service.usecases import check_pull

from .fakes import REPO, cf, dispatched, plan_body

PLAN = """
agents:
  - {name: api, territory: [/services/api/]}
  - {name: web, wave: 2, territory: [/apps/web/]}
"""


def test_a_same_named_run_of_another_app_is_ignored():
    fake = dispatched(plan_body(PLAN))
    sha = fake.push(21, [cf("services/api/x.py")])
    check_pull(fake, REPO, 21, sha)
    ours = fake.latest(sha, TERRITORY_CHECK)
    assert ours.conclusion == "failure"
    # another app posts a green run with our name, newer than ours
    impostor = replace(ours, id=99999, conclusion="success", status="completed", title="all good",
                       app_slug="other-app", annotations_count=0)
    fake.runs[impostor.id] = impostor
    fake.calls.clear()
    check_pull(fake, REPO, 21, sha)  # our verdict is unchanged: nothing to write
    assert fake.count("write") == 0
    # our verdict changes: ours is written, the other app's run is left as it was
    fake.pull_files[(21, sha)] = [cf("apps/web/ok.tsx")]
    check_pull(fake, REPO, 21, sha)
    assert fake.runs[99999] == impostor
    mine = [r for r in fake.runs_on(sha, TERRITORY_CHECK) if r.app_slug == "wavegate"]
    assert mine[-1].conclusion == "success"
    assert fake.latest(sha, GATE_CHECK).app_slug == "wavegate"
