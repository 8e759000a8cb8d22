"""Launching with real processes (emulator, web, RQ worker, Redis): a two-wave plan with
``launch: {via: workflow, workflow: agent.yml}`` and the emulator's scripted agents. Each agent's
workflow is dispatched exactly once when its wave opens (also with every delivery sent twice), a
failed run shows on the dashboard and on the agent's PR, and ``/wavegate relaunch`` starts one more."""

import signal
import threading
from collections import Counter
from datetime import datetime

import pytest

from demo.launched import WORK, LaunchedScenario
from demo.scenario import GATE, PLANS, TERRITORY, Transcript
from demo.stack import wait_until

from .conftest import running_stack

pytestmark = pytest.mark.e2e
LAUNCH_RECORD = "<!-- wavegate:launch "
FAILED_RUN = "ended: **failure**"


@pytest.fixture(scope="module")
def stack(request):
    yield from running_stack(request, "wavegate-e2e-launch-")


def play(stack, repo: str) -> LaunchedScenario:
    scenario = LaunchedScenario(stack, Transcript(quiet=True), repo=repo)
    scenario.run()
    stack.drain(30)
    return scenario


def scripted_runs(stack, repo: str) -> list[dict]:
    return stack.admin("GET", f"/_emulator/repos/{repo}/agents")["runs"]


def comments(scenario: LaunchedScenario, number: int) -> list[str]:
    return [c.body for c in scenario.coordinator.get_issue(number).get_comments()]


def merged_at(scenario: LaunchedScenario, number: int) -> datetime:
    return scenario.coordinator.get_pull(number).merged_at


def run_created(scenario: LaunchedScenario, run_id: int) -> datetime:
    return scenario.coordinator.get_workflow_run(run_id).created_at


@pytest.fixture(scope="module")
def clean(stack):
    return play(stack, "acme/launch")


def assert_each_agent_started_once_per_wave(scenario: LaunchedScenario) -> None:
    runs = scenario.result["runs"]
    prs = scenario.result["prs"]
    # security ran twice: once at dispatch, once more on `/wavegate relaunch security`.
    assert Counter(r["agent"] for r in runs) == {"security": 2, "architecture": 1, "arch-perf": 1, "testing": 1}
    assert all(r["conclusion"] == "success" and r["pushed"] for r in runs)
    issue = scenario.result["issue"]
    assert {r["agent"]: r["branch"] for r in runs} == {a: f"wavegate/{issue}/{a}" for a in WORK}
    # One launch record per start, on the agent's own PR.
    records = {agent: sum(LAUNCH_RECORD in body for body in comments(scenario, number))
               for agent, number in prs.items()}
    assert records == {"security": 2, "architecture": 1, "arch-perf": 1, "testing": 1}
    # Wave 2 started only after the last wave-1 merge; testing only after arch-perf's.
    first = {r["agent"]: r["run_id"] for r in reversed(runs)}
    last_wave_1 = max(merged_at(scenario, prs["security"]), merged_at(scenario, prs["architecture"]))
    assert run_created(scenario, first["arch-perf"]) >= last_wave_1
    assert run_created(scenario, first["testing"]) >= merged_at(scenario, prs["arch-perf"])


def test_two_waves_start_each_agent_exactly_once(clean):
    assert_each_agent_started_once_per_wave(clean)
    board = clean.result["dashboard"]
    launches = [line for line in board.splitlines() if line.startswith("- `") and "via workflow" in line]
    assert len(launches) == 4 and all("finished" in line for line in launches)
    assert "attempt 2" in next(line for line in launches if line.startswith("- `security`"))


@pytest.mark.parametrize("config", [{"duplicate": 2}, {"shuffle_window": 5, "seed": 7}],
                         ids=["every-delivery-twice", "reordered-within-5"])
def test_duplicated_or_reordered_deliveries_still_start_each_agent_exactly_once(stack, clean, config):
    repo = f"acme/launch-{'dup' if 'duplicate' in config else 'shuffled'}"
    stack.admin("POST", "/_emulator/webhooks/config", json=config)
    try:
        scenario = play(stack, repo)
    finally:
        stack.admin("POST", "/_emulator/webhooks/config", json={"duplicate": 1, "shuffle_window": 1})
    assert_each_agent_started_once_per_wave(scenario)


def kill_worker_during_first_dispatch(stack) -> threading.Thread:
    """The first workflow dispatch the App sends is held 3 s by the emulator (a ``slow`` fault; the
    run is still created, as on GitHub when the answer is lost); the RQ worker is SIGKILLed while
    it waits for the answer, then restarted."""
    stack.admin("POST", "/_emulator/faults", json={
        "rate": 1.0, "kinds": ["slow"], "slow_seconds": 3, "max_counts": {"slow": 1}, "only": "app",
        "methods": ["POST"], "path_regex": r"/actions/workflows/.+/dispatches$", "seed": 1})

    def killer():
        wait_until(lambda: stack.admin("GET", "/_emulator/faults")["counts"].get("slow"), 60,
                   "the first dispatch to be in flight", interval=0.05)
        stack.kill("worker-0", signal.SIGKILL)
        stack.start_worker(0)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    return thread


def test_worker_killed_mid_launch_still_starts_each_agent_exactly_once(stack, clean):
    killer = kill_worker_during_first_dispatch(stack)
    try:
        scenario = play(stack, "acme/launch-killed")
        fired = stack.admin("GET", "/_emulator/faults")["counts"]
    finally:
        killer.join(5)
        stack.admin("DELETE", "/_emulator/faults")
    assert fired == {"slow": 1} and not killer.is_alive()
    assert_each_agent_started_once_per_wave(scenario)


def test_a_failed_run_shows_on_the_dashboard_and_the_pr_and_relaunch_starts_one_more(stack):
    scenario = LaunchedScenario(stack, Transcript(quiet=True), repo="acme/launch-fail", work=WORK,
                                failing=("security",))
    issue = scenario.coordinator.create_issue("audit fixes", body=(PLANS / "reference-consolidated.yaml.md").read_text())
    issue.add_to_labels("dispatch")
    security = scenario.agent_prs(issue)["security"]

    wait_until(lambda: any(FAILED_RUN in body for body in comments(scenario, security)), 60,
               "the failed-run comment on security's PR")
    board = wait_until(lambda: (b := scenario.dashboard(issue)) and "failed" in b and b, 60,
                       "the failed run on the dashboard")
    assert "❌ failed" in next(line for line in board.splitlines() if line.startswith("- `security`"))
    [failed] = [r for r in scripted_runs(stack, "acme/launch-fail") if r["agent"] == "security"]
    assert (failed["conclusion"], failed["pushed"]) == ("failure", None)

    scenario.failing = ()
    scenario.script(WORK)
    issue.create_comment("/wavegate relaunch security")
    scenario.work_pushed("security", runs=2, say=False)
    stack.drain(30)
    runs = Counter(r["agent"] for r in scripted_runs(stack, "acme/launch-fail"))
    assert runs["security"] == 2
    assert sum(FAILED_RUN in body for body in comments(scenario, security)) == 1


def test_a_pr_based_on_an_agents_branch_gets_that_agents_checks(stack):
    """A PR opened against an agent's branch (as GitHub's coding agent opens one) is that agent's
    work: both checks, with the agent's territory."""
    scenario = LaunchedScenario(stack, Transcript(quiet=True), repo="acme/launch-based", work=WORK)
    issue = scenario.coordinator.create_issue("audit fixes", body=(PLANS / "reference-consolidated.yaml.md").read_text())
    issue.add_to_labels("dispatch")
    scenario.agent_prs(issue)
    base = f"wavegate/{issue.number}/security"
    head = scenario.coordinator.get_branch(base).commit.sha
    scenario.coordinator.create_git_ref("refs/heads/copilot/security-work", head)
    scenario.push("copilot-swe-agent", "copilot/security-work",
                  {"broker/api/escalations.py": "def list_escalations(state='open'):\n    return []\n"}, "inside")
    pr = scenario.coordinator.create_pull(title="security work", body="work", base=base, head="copilot/security-work")

    _, runs = scenario.settled(pr.number, {TERRITORY: "success"})
    wait_until(lambda: GATE in scenario.checks(scenario.coordinator.get_pull(pr.number).head.sha), 60,
               "the wave gate on the PR based on security's branch")
    scenario.push("copilot-swe-agent", "copilot/security-work",
                  {"broker/core/dispatcher.py": "def dispatch(client=None):\n    return 1\n"}, "outside")
    _, runs = scenario.settled(pr.number, {TERRITORY: "failure"})
    assert "arch-perf" in runs[TERRITORY].output.title + (runs[TERRITORY].output.summary or "")
