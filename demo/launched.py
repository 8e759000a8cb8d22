"""The reference scenario with launching on: Wavegate starts every agent itself and chains the waves.

The repository carries ``launch: {via: workflow, workflow: agent.yml}`` and the emulator plays a
scripted agent for each dispatched run (``PUT /_emulator/repos/{o}/{r}/agents``): after the plan is
dispatched nobody pushes by hand. Wave-1 agents are started by Wavegate and push their work; one of
them strays into another agent's territory, the crossing is caught, its script is corrected and
``/wavegate relaunch`` starts it once more; each PR is merged once its agent's work is in and both
checks are green; wave 2 is started by Wavegate as its gate opens; the dividend is shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .scenario import FILES, GATE, PLANS, TERRITORY, WAIT, Scenario, expect
from .stack import wait_until

WORKFLOW = "agent.yml"
# The shipped agent workflows' run-name: Wavegate follows a run to its PR through it.
AGENT_WORKFLOW = """name: wavegate agent
run-name: "wavegate ${{ inputs.agent }} on ${{ inputs.branch }} (PR #${{ inputs.pr }})"
on:
  workflow_dispatch:
    inputs:
      issue: {required: true}
      agent: {required: true}
      pr: {required: true}
      branch: {required: true}
      plan_hash: {required: false}
jobs:
  agent:
    runs-on: ubuntu-latest
    steps:
      - run: echo "the agent works on ${{ inputs.branch }}"
"""
LAUNCH_SETTINGS = f"launch:\n  via: workflow\n  workflow: {WORKFLOW}\n"
LAUNCH_FILES = {**FILES, ".github/workflows/agent.yml": AGENT_WORKFLOW, ".github/wavegate.yml": LAUNCH_SETTINGS}
ARCH_PERF_DISPATCHER = "CLIENT = object()\n\ndef dispatch(client=CLIENT):\n    return client\n"
STRAY = {"broker/safety/__init__.py": "# a 'quick fix' outside my territory\n"}

# What each scripted agent commits when its run succeeds ({path: text}).
WORK = {
    "security": {"broker/api/auth.py": "def check(token):\n    return token == 'secret'\n"},
    "architecture": {"broker/safety/kill_switch.py": "class KillSwitch:\n    def _revoke_all_tokens(self):\n"
                                                     "        return 'revoked'\n"},
    "arch-perf": {"broker/core/dispatcher.py": ARCH_PERF_DISPATCHER},
    "testing": {"tests/unit/test_message_pipeline.py": "def test_pipeline():\n    assert True\n"},
}
AGENTS = tuple(WORK)


def agent_scripts(work: dict[str, dict], step_seconds: float, failing: tuple[str, ...] = ()) -> dict:
    """The emulator's scripted-agent settings: each agent commits its ``work`` (or fails)."""
    agents = {name: ({"conclusion": "failure"} if name in failing
                     else {"files": files, "message": f"{name}: the fix"}) for name, files in work.items()}
    return {"workflow": WORKFLOW, "step_seconds": step_seconds, "agents": agents}


@dataclass
class LaunchedScenario(Scenario):
    """The story with Wavegate starting the agents; ``run()`` returns the issue, the PRs, the merge
    order, the final dashboard and ``runs`` (the emulator's log of scripted runs)."""

    step_seconds: float = 0.2
    work: dict = field(default_factory=lambda: {**WORK, "security": {**WORK["security"], **STRAY}})
    failing: tuple[str, ...] = ()  # agents whose runs fail (push nothing)

    def __post_init__(self) -> None:
        self.stack.create_repo(self.repo, LAUNCH_FILES, required_checks=[TERRITORY, GATE])
        self.coordinator = self.stack.user("coordinator", self.repo, "admin").get_repo(self.repo)
        self.agents = {}
        self.script(self.work)

    # ------------------------------------------------------------------ the emulator's agents
    def script(self, work: dict) -> None:
        self.stack.admin("PUT", f"/_emulator/repos/{self.repo}/agents",
                         json=agent_scripts(work, self.step_seconds, self.failing))

    def runs(self) -> list[dict]:
        """The scripted runs so far: ``[{run_id, agent, branch, pushed, conclusion, reason}]``."""
        return self.stack.admin("GET", f"/_emulator/repos/{self.repo}/agents")["runs"]

    def runs_of(self, agent: str) -> list[dict]:
        return [r for r in self.runs() if r["agent"] == agent]

    def started(self, agent: str) -> None:
        """Wait until Wavegate has started ``agent`` (a scripted run of it exists)."""
        wait_until(lambda: self.runs_of(agent), WAIT, f"Wavegate to start {agent}")

    def work_pushed(self, agent: str, runs: int = 1, say: bool = True) -> str:
        """Wait until ``agent``'s ``runs``-th run completed and pushed; its commit SHA."""
        def done():
            mine = self.runs_of(agent)
            return len(mine) >= runs and mine[runs - 1]["pushed"]

        sha = wait_until(done, WAIT, f"{agent}'s run {runs} to push its work")
        if say:
            self.out.say(agent, f"run {runs} pushed {sha[:7]}")
        return sha

    def merge_after_work(self, agent: str, number: int, runs: int = 1) -> None:
        self.work_pushed(agent, runs, say=agent != "security")
        expect(self.merge_when_green(number), f"{agent}'s PR could not merge once green")

    # ------------------------------------------------------------------ the story
    def run(self) -> dict:
        issue = self.refused_then_consolidated()
        by_agent = self.agent_prs(issue)
        self.crossing_caught_and_fixed(issue, by_agent)
        merges = self.waves(by_agent)
        return self.done(issue, by_agent, merges)

    def refused_then_consolidated(self):
        self.out.step("1. The lesson's territorial map, as written: four agents in one wave")
        issue = self.coordinator.create_issue("Principal Broker: audit fixes",
                                              body=(PLANS / "reference-first.yaml.md").read_text())
        issue.add_to_labels("dispatch")
        board = wait_until(lambda: (b := self.dashboard(issue)) and "pre-flight failed" in b.lower() and b, WAIT,
                           "the dashboard to list the pre-flight problems")
        for line in [line[2:].replace("**", "") for line in board.splitlines() if line.startswith("- **")]:
            self.out.say("wavegate", line.split(" — ")[0])
        expect(not list(self.coordinator.get_git_matching_refs("heads/wavegate/")),
               "pre-flight failed but branches were created")
        expect(not self.runs(), "an agent was started for a refused plan")
        self.out.say("wavegate", "pre-flight failed: nothing was created, no agent started")

        self.out.step("2. The coordinator consolidates: two waves, four agents; Wavegate starts wave 1")
        issue.edit(body=(PLANS / "reference-consolidated.yaml.md").read_text())
        self.out.say("coordinator", "edited the plan: wave 1 security + architecture; wave 2 arch-perf + testing")
        return issue

    def agent_prs(self, issue) -> dict[str, int]:
        prs = wait_until(lambda: (p := {b: pr for b, pr in self.pr_by_branch().items()
                                        if b.startswith(f"wavegate/{issue.number}/")}) and len(p) == 4 and p,
                         WAIT, "four agent PRs")
        by_agent = {branch.rsplit("/", 1)[1]: pr.number for branch, pr in prs.items()}
        expect(sorted(by_agent) == sorted(AGENTS), f"agent PRs: {sorted(by_agent)}")
        started = wait_until(lambda: (s := {r["agent"] for r in self.runs()}) >= {"security", "architecture"} and s,
                             WAIT, "Wavegate to start the wave-1 agents")
        expect(started == {"security", "architecture"}, f"agents started at dispatch: {sorted(started)}")
        self.out.say("wavegate", "started security and architecture (workflow agent.yml); "
                                 "arch-perf and testing wait for wave 1")
        return by_agent

    def crossing_caught_and_fixed(self, issue, by_agent: dict[str, int]) -> None:
        self.out.step("3. security strays into architecture's territory; its agent is relaunched")
        security = by_agent["security"]
        self.work_pushed("security")
        _, runs = self.settled(security, {TERRITORY: "failure"})
        title = runs[TERRITORY].output.title
        expect("architecture" in title or "architecture" in (runs[TERRITORY].output.summary or ""),
               f"the crossing does not name architecture: {title}")
        self.out.say("wavegate", f"#{security} territory failure: {title}")
        self.script({**self.work, "security": {**WORK["security"], "broker/safety/__init__.py": ""}})
        issue.create_comment("/wavegate relaunch security")
        self.out.say("coordinator", "corrected security's instructions and commented `/wavegate relaunch security`")
        self.work_pushed("security", runs=2)
        _, runs = self.settled(security, {TERRITORY: "success"})
        self.out.say("wavegate", f"#{security} territory {runs[TERRITORY].conclusion}: {runs[TERRITORY].output.title}")

    def waves(self, by_agent: dict[str, int]) -> list[int]:
        self.out.step("4. Wave 1 merges; Wavegate starts wave 2 as each gate opens")
        self.merge_after_work("security", by_agent["security"], runs=2)
        expect(not self.runs_of("arch-perf"), "arch-perf was started before wave 1 merged")
        self.merge_after_work("architecture", by_agent["architecture"])
        self.started("arch-perf")
        self.out.say("wavegate", "started arch-perf once wave 1 merged and its branch was updated")
        expect(not self.runs_of("testing"), "testing was started before arch-perf merged")
        self.merge_after_work("arch-perf", by_agent["arch-perf"])
        self.started("testing")
        self.out.say("wavegate", "started testing once arch-perf merged")
        self.merge_after_work("testing", by_agent["testing"])
        return [by_agent[a] for a in ("security", "architecture", "arch-perf", "testing")]

    def done(self, issue, by_agent: dict[str, int], merges: list[int]) -> dict:
        board = self.closed_with_dividend(issue)
        for line in board.splitlines():
            if "dividend" in line.lower():
                self.out.say("wavegate", line.strip())
        self.result = {"issue": issue.number, "prs": by_agent, "merge_order": merges, "dashboard": board,
                       "runs": self.runs()}
        return self.result
