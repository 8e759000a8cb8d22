"""The reference scenario (DESIGN §6), step by step, with a readable transcript.

Every expected outcome is checked; a missed one raises ``ScenarioFailed`` naming it.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from pathlib import Path

from github import Github, GithubException, InputGitTreeElement

from .stack import ROOT, Stack, wait_until

REPO = "acme/broker"
PLANS = ROOT / "tests" / "fixtures" / "plans"
TERRITORY = "wavegate/territory"
GATE = "wavegate/wave-gate"
WAIT = 90.0

FILES = {
    "README.md": "# Principal Broker\n",
    "broker/__init__.py": "",
    "broker/main.py": "def main():\n    return 'broker'\n",
    "broker/api/__init__.py": "",
    "broker/api/auth.py": "def check(token):\n    return bool(token)\n",
    "broker/api/kill_switch.py": "def resume():\n    return True\n",
    "broker/api/escalations.py": "def list_escalations(state=None):\n    return []\n",
    "broker/api/directives.py": "def directives(db):\n    return db.connect()\n",
    "broker/safety/__init__.py": "",
    "broker/safety/kill_switch.py": "class KillSwitch:\n    def _revoke_all_tokens(self):\n        pass\n",
    "broker/safety/halt_store.py": "def store(db):\n    return db.connect()\n",
    "broker/core/__init__.py": "",
    "broker/core/dispatcher.py": "def dispatch(client=None):\n    return client\n",
    "scripts/okr_sentinel_metrics.py": "QUERY = 'SELECT 1'\n",
    "scripts/heartbeat-bridge.py": "DAEMON = 'heartbeat'\n",
    "tests/unit/__init__.py": "",
    "tests/unit/test_smoke.py": "def test_smoke():\n    assert True\n",
    ".github/workflows/ci.yml": "on: [push]\n",
}


class ScenarioFailed(AssertionError):
    """An expected outcome of the scenario did not happen."""


@dataclass
class Transcript:
    """Prints each line as it happens and keeps it for the transcript file."""

    lines: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    quiet: bool = False

    def say(self, who: str, text: str) -> None:
        line = f"[{time.monotonic() - self.started:6.1f}s] {who:<12} {text}"
        self.lines.append(line)
        if not self.quiet:
            print(line, flush=True)

    def step(self, title: str) -> None:
        self.lines.append("")
        self.lines.append(f"== {title}")
        if not self.quiet:
            print(f"\n== {title}", flush=True)


def expect(condition, message: str) -> None:
    if not condition:
        raise ScenarioFailed(message)


@dataclass
class Scenario:
    stack: Stack
    out: Transcript
    repo: str = REPO
    result: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.stack.create_repo(self.repo, FILES, required_checks=[TERRITORY, GATE])
        self.coordinator = self.stack.user("coordinator", self.repo, "admin").get_repo(self.repo)
        self.agents: dict[str, object] = {}

    # ------------------------------------------------------------------ reads
    def checks(self, sha: str) -> dict[str, object]:
        """The newest run of each of our checks on ``sha``."""
        runs = {}
        for run in self.coordinator.get_commit(sha).get_check_runs():
            if run.name not in runs or run.id > runs[run.name].id:
                runs[run.name] = run
        return runs

    def pr_by_branch(self) -> dict[str, object]:
        return {pr.head.ref: pr for pr in self.coordinator.get_pulls(state="all")}

    def dashboard(self, issue) -> str | None:
        for comment in issue.get_comments():
            if "<!-- wavegate dashboard -->" in comment.body:
                return comment.body
        return None

    def settled(self, number: int, want: dict[str, str]) -> object:
        """Wait until PR ``number``'s current head carries runs whose conclusion (or status)
        matches ``want`` ({check name: conclusion or status}); returns the runs."""

        def ok():
            pr = self.coordinator.get_pull(number)
            runs = self.checks(pr.head.sha)
            if all(name in runs and (runs[name].conclusion or runs[name].status) == value
                   for name, value in want.items()):
                return pr, runs
            return None

        return wait_until(ok, WAIT, f"#{number} to show {want}")

    # ------------------------------------------------------------------ writes
    def push(self, who: str, branch: str, changes: dict[str, str | None], message: str) -> str:
        """Commit ``changes`` ({path: new text, or None to delete}) on ``branch`` as ``who``."""
        gh: Github = self.agents.setdefault(who, self.stack.user(who, self.repo, "write"))
        repo = gh.get_repo(self.repo)
        ref = repo.get_git_ref(f"heads/{branch}")
        head = repo.get_git_commit(ref.object.sha)
        elements = [
            InputGitTreeElement(path, "100644", "blob", sha=None) if text is None
            else InputGitTreeElement(path, "100644", "blob",
                                     sha=repo.create_git_blob(base64.b64encode(text.encode()).decode(), "base64").sha)
            for path, text in changes.items()
        ]
        tree = repo.create_git_tree(elements, base_tree=head.tree)
        commit = repo.create_git_commit(message, tree, [head])
        ref.edit(commit.sha)
        self.out.say(who, f"pushed {commit.sha[:7]} to {branch}: {message}")
        return commit.sha

    def closed_with_dividend(self, issue) -> str:
        """Step 5: wait for Wavegate to close the dispatch issue and put the parallelism dividend
        on its dashboard; the dashboard's text."""
        self.out.step("5. Done")
        wait_until(lambda: self.coordinator.get_issue(issue.number).state == "closed", WAIT,
                   "the dispatch issue to close")
        self.out.say("wavegate", f"closed #{issue.number} as completed")
        return wait_until(lambda: (b := self.dashboard(issue)) and "dividend" in b.lower() and b, WAIT,
                          "the dashboard's parallelism dividend")

    def merge(self, number: int, quiet: bool = False) -> bool:
        pr = self.coordinator.get_pull(number)
        try:
            pr.merge(merge_method="merge", sha=pr.head.sha)
        except GithubException as exc:
            message = (exc.data or {}).get("message", str(exc)) if isinstance(exc.data, dict) else str(exc)
            if not quiet:
                self.out.say("github", f"merge of #{number} refused ({exc.status}): {message}")
            return False
        self.out.say("coordinator", f"merged #{number} ({pr.head.ref})")
        return True

    def merge_when_green(self, number: int) -> bool:
        """Merge as a person would once both checks are green: Wavegate may update the branch
        right after unlocking it, moving the head, so a refusal is retried on the new head."""

        def attempt():
            self.settled(number, {TERRITORY: "success", GATE: "success"})
            return self.merge(number, quiet=True)

        return bool(wait_until(attempt, WAIT, f"#{number} to merge once green", interval=0.3))

    # ------------------------------------------------------------------ the story
    def run(self) -> dict:
        first = (PLANS / "reference-first.yaml.md").read_text()
        consolidated = (PLANS / "reference-consolidated.yaml.md").read_text()

        self.out.step("1. The lesson's territorial map, as written: four agents in one wave")
        issue = self.coordinator.create_issue("Principal Broker: audit fixes", body=first)
        issue.add_to_labels("dispatch")
        self.out.say("coordinator", f"opened #{issue.number} with the first plan and labelled it `dispatch`")
        board = wait_until(lambda: (b := self.dashboard(issue)) and "pre-flight failed" in b.lower() and b, WAIT,
                           "the dashboard to list the pre-flight problems")
        problems = [line[2:].replace("**", "") for line in board.splitlines() if line.startswith("- **")]
        expect(problems, "the dashboard lists no problem")
        for line in problems:
            self.out.say("wavegate", line.split(" — ")[0])
        for path in ("broker/api/directives.py", "broker/core/dispatcher.py", "broker/safety/halt_store.py"):
            expect(any(path in line for line in problems), f"the pre-flight does not name {path}")
        branches = [ref.ref for ref in self.coordinator.get_git_matching_refs("heads/wavegate/")]
        expect(not branches, f"pre-flight failed but branches were created: {branches}")
        self.out.say("wavegate", "pre-flight failed: nothing was created")

        self.out.step("2. The coordinator consolidates: two waves, four agents")
        issue.edit(body=consolidated)
        self.out.say("coordinator", "edited the plan: wave 1 security + architecture; wave 2 arch-perf + testing")
        prs = wait_until(lambda: (p := {b: pr for b, pr in self.pr_by_branch().items()
                                        if b.startswith(f"wavegate/{issue.number}/")}) and len(p) == 4 and p,
                         WAIT, "four agent PRs")
        by_agent = {branch.rsplit("/", 1)[1]: pr.number for branch, pr in prs.items()}
        for agent in ("security", "architecture", "arch-perf", "testing"):
            expect(agent in by_agent, f"no PR for agent {agent}: {sorted(by_agent)}")
        for agent, number in by_agent.items():
            _, runs = self.settled(number, {TERRITORY: "success"})
            wait_until(lambda n=number: GATE in self.checks(self.coordinator.get_pull(n).head.sha), WAIT,
                       f"the gate on #{number}")
            runs = self.checks(self.coordinator.get_pull(number).head.sha)
            self.out.say("wavegate", f"#{number} {agent}: territory {runs[TERRITORY].conclusion}; "
                                     f"gate: {runs[GATE].output.title}")

        self.out.step("3. Agents push; testing strays into arch-perf's territory, then reverts")
        self.push("agent-security", f"wavegate/{issue.number}/security",
                  {"broker/api/auth.py": "def check(token):\n    return token == 'secret'\n"}, "P0: real token check")
        self.push("agent-arch", f"wavegate/{issue.number}/architecture",
                  {"broker/safety/kill_switch.py": "class KillSwitch:\n    def _revoke_all_tokens(self):\n"
                                                   "        return 'revoked'\n"}, "implement _revoke_all_tokens")
        self.push("agent-perf", f"wavegate/{issue.number}/arch-perf",
                  {"broker/core/dispatcher.py": "CLIENT = object()\n\ndef dispatch(client=CLIENT):\n    return client\n"},
                  "shared HTTP client in dispatcher")
        testing = by_agent["testing"]
        self.push("agent-testing", f"wavegate/{issue.number}/testing",
                  {"tests/unit/test_message_pipeline.py": "def test_pipeline():\n    assert True\n",
                   "broker/core/dispatcher.py": "def dispatch(client=None):\n    return client or 'stub'\n"},
                  "tests for the pipeline (and a 'quick fix' in the dispatcher)")
        _, runs = self.settled(testing, {TERRITORY: "failure"})
        title = runs[TERRITORY].output.title
        expect("arch-perf" in title or "arch-perf" in (runs[TERRITORY].output.summary or ""),
               f"the crossing does not name arch-perf: {title}")
        self.out.say("wavegate", f"#{testing} territory failure: {title}")
        self.push("agent-testing", f"wavegate/{issue.number}/testing",
                  {"broker/core/dispatcher.py": FILES["broker/core/dispatcher.py"]}, "revert the dispatcher change")
        _, runs = self.settled(testing, {TERRITORY: "success"})
        self.out.say("wavegate", f"#{testing} territory {runs[TERRITORY].conclusion}: {runs[TERRITORY].output.title}")

        self.out.step("4. Waves merge in order")
        arch_perf = by_agent["arch-perf"]
        self.settled(arch_perf, {TERRITORY: "success", GATE: "in_progress"})
        expect(not self.merge(arch_perf), "a wave-2 PR merged while wave 1 was open")
        merges: list[int] = []
        for agent in ("security", "architecture"):
            expect(self.merge_when_green(by_agent[agent]), f"wave-1 PR of {agent} could not merge")
            merges.append(by_agent[agent])
        _, runs = self.settled(arch_perf, {TERRITORY: "success", GATE: "success"})
        self.out.say("wavegate", f"#{arch_perf} arch-perf unlocked: {runs[GATE].output.title}")
        _, runs = self.settled(testing, {GATE: "in_progress"})
        self.out.say("wavegate", f"#{testing} testing still waits: {runs[GATE].output.title}")
        expect(not self.merge(testing), "testing merged before arch-perf")
        expect(self.merge_when_green(arch_perf), "arch-perf could not merge once unlocked")
        merges.append(arch_perf)
        _, runs = self.settled(testing, {TERRITORY: "success", GATE: "success"})
        self.out.say("wavegate", f"#{testing} testing unlocked: {runs[GATE].output.title}")
        expect(self.merge_when_green(testing), "testing could not merge once unlocked")
        merges.append(testing)

        board = self.closed_with_dividend(issue)
        self.result = {"issue": issue.number, "prs": by_agent, "merge_order": merges, "dashboard": board}
        return self.result


def write_outputs(folder: Path, out: Transcript, result: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "transcript.txt").write_text("\n".join(out.lines) + "\n")
    if result.get("dashboard"):
        (folder / "dashboard.md").write_text(result["dashboard"])
