"""The reference scenario (DESIGN §6) with real processes: emulator, gunicorn, an RQ worker and
Redis. GitHub's end state is asserted, then compared with runs whose deliveries were duplicated or
reordered: the same end state, and no object twice."""

from collections import Counter

import pytest

from demo.scenario import Scenario, Transcript

from .conftest import running_stack
from .end_state import duplicates, normalise

pytestmark = pytest.mark.e2e
AGENTS = ("security", "architecture", "arch-perf", "testing")


@pytest.fixture(scope="module")
def stack(request):
    yield from running_stack(request, "wavegate-e2e-")


def play(stack, repo: str) -> tuple[Scenario, dict]:
    scenario = Scenario(stack, Transcript(quiet=True), repo=repo)
    scenario.run()
    stack.drain(30)
    return scenario, stack.snapshot(repo)


def pr_comment_kinds(scenario: Scenario, snapshot: dict) -> dict[int, Counter]:
    kinds = {}
    for pr in snapshot["pulls"]:
        bodies = [c.body for c in scenario.coordinator.get_issue(pr["number"]).get_comments()]
        kinds[pr["number"]] = Counter("unlock" if "wavegate-unlocked" in b else "other" for b in bodies)
    return kinds


@pytest.fixture(scope="module")
def clean(stack):
    return play(stack, "acme/broker")


def test_reference_scenario_end_state(clean):
    scenario, snapshot = clean
    issue, prs = scenario.result["issue"], scenario.result["prs"]

    assert sorted(b for b in snapshot["branches"] if b.startswith("wavegate/")) == sorted(
        f"wavegate/{issue}/{a}" for a in AGENTS)
    agent_prs = [p for p in snapshot["pulls"] if p["head"].startswith(f"wavegate/{issue}/")]
    assert len(agent_prs) == 4 and all(p["merged"] for p in agent_prs)

    # Merge order: wave 1 (either order), then arch-perf, then testing (after: [arch-perf]).
    order = snapshot["merge_order"]
    assert set(order[:2]) == {prs["security"], prs["architecture"]}
    assert order[2:] == [prs["arch-perf"], prs["testing"]]

    # Both checks concluded success on every PR's final head.
    checks = normalise(snapshot)["checks"]
    for number in prs.values():
        assert checks[f"#{number} head"] == (("wavegate/territory", "success"), ("wavegate/wave-gate", "success"))

    # The stray push of `testing` failed its territory check on that head, naming arch-perf.
    failing = [r for runs in snapshot["check_runs"].values() for r in runs
               if r["name"] == "wavegate/territory" and r["conclusion"] == "failure"]
    assert len(failing) == 1 and "arch-perf" in failing[0]["title"]

    [dispatch_issue] = [i for i in snapshot["issues"] if i["number"] == issue]
    assert (dispatch_issue["state"], dispatch_issue["state_reason"]) == ("closed", "completed")
    dashboards = [c for c in dispatch_issue["comments"] if "<!-- wavegate dashboard -->" in c["body"]]
    assert len(dashboards) == 1
    assert "State: done" in dashboards[0]["body"] and "dividend" in dashboards[0]["body"].lower()

    # Wave-1 PRs are never told they unlocked; a wave-2 PR at most once (a PR merged the moment it
    # turned green may be merged before the comment is due, and then needs none).
    kinds = pr_comment_kinds(scenario, snapshot)
    unlocks = {a: kinds[prs[a]]["unlock"] for a in AGENTS}
    assert unlocks["security"] == unlocks["architecture"] == 0
    assert unlocks["arch-perf"] <= 1 and unlocks["testing"] <= 1
    assert duplicates(snapshot) == []


@pytest.mark.parametrize("config", [{"duplicate": 2}, {"shuffle_window": 5, "seed": 7}],
                         ids=["every-delivery-twice", "reordered-within-5"])
def test_duplicated_or_reordered_deliveries_reach_the_clean_end_state(stack, clean, config):
    clean_scenario, clean_snapshot = clean
    repo = f"acme/broker-{'dup' if 'duplicate' in config else 'shuffled'}"
    stack.admin("POST", "/_emulator/webhooks/config", json=config)
    try:
        scenario, snapshot = play(stack, repo)
    finally:
        stack.admin("POST", "/_emulator/webhooks/config", json={"duplicate": 1, "shuffle_window": 1})

    assert normalise(snapshot) == normalise(clean_snapshot)
    assert duplicates(snapshot) == []
    assert all(kinds["unlock"] <= 1 for kinds in pr_comment_kinds(scenario, snapshot).values())
