"""Scripted agents: what runs when a workflow is dispatched on the emulator (an admin control).

``PUT /_emulator/repos/{owner}/{repo}/agents`` sets, per repository, which dispatched workflow
starts a scripted agent and what each agent does. Every run of that workflow then goes
requested → in_progress → completed on a background thread (``step_seconds`` apart): the agent
named by the dispatch input ``agent`` (else the one keyed by the input ``branch``, else ``*``)
commits its ``files`` (path → contents; None deletes) to the branch in the input ``branch`` and the
run concludes ``success``; a script with another ``conclusion`` (e.g. ``failure``) pushes nothing.
A run with no matching script stays queued, as a run waiting for a runner does on GitHub.
"""

from __future__ import annotations

import threading
import time

from flask import Flask

from .core import Emulator
from .gitrepo import Signature
from .rest import ApiError
from .state import Repo, now_iso
from .workflows import CONCLUSIONS, advance

PUSHER = "github-actions[bot]"


def parse_config(body: dict) -> dict:
    """A repository's scripted-agent settings from an admin request body; ApiError(422) naming
    the first bad field. Shape: ``{"workflow": "file.yml" | null (every workflow), "step_seconds":
    0.05, "agents": {"<agent>" | "*": {"files": {path: text | null}, "message": str,
    "conclusion": "success" | "failure" | ...}}}``."""
    agents = body.get("agents")
    if not isinstance(agents, dict) or not agents:
        raise ApiError(422, "agents must be an object of agent name -> script")
    for name, script in agents.items():
        if not isinstance(script, dict):
            raise ApiError(422, f"agents.{name} must be an object")
        files = script.get("files", {})
        if not isinstance(files, dict) or not all(v is None or isinstance(v, str) for v in files.values()):
            raise ApiError(422, f"agents.{name}.files must map paths to text (or null to delete)")
        if script.get("conclusion", "success") not in CONCLUSIONS:
            raise ApiError(422, f"agents.{name}.conclusion must be one of {', '.join(CONCLUSIONS)}")
    step = body.get("step_seconds", 0.05)
    if not isinstance(step, (int, float)) or not 0 <= step <= 60:
        raise ApiError(422, "step_seconds must be a number from 0 to 60")
    workflow = body.get("workflow")
    if workflow is not None and not isinstance(workflow, str):
        raise ApiError(422, "workflow must be a workflow file name or null")
    return {"workflow": workflow, "step_seconds": float(step), "agents": agents}


class ScriptedAgents:
    """Scripted-agent settings per repository, the runs they played (``log``), and their threads."""

    def __init__(self, emu: Emulator, app: Flask):
        self.emu = emu
        self.app = app
        self.settings: dict[str, dict] = {}
        self.log: dict[str, list[dict]] = {}
        self.active = 0
        self.cond = threading.Condition()

    def script_for(self, repo: Repo, run: dict) -> tuple[str, dict] | None:
        """(agent key, script) for ``run``, or None when no scripted agent takes it."""
        config = self.settings.get(repo.full_name)
        if config is None or config["workflow"] not in (None, run["path"].rsplit("/", 1)[-1]):
            return None
        inputs = run["inputs"]
        for key in (inputs.get("agent"), inputs.get("branch"), "*"):
            if key in config["agents"]:
                return key, config["agents"][key]
        return None

    def start(self, repo: Repo, run: dict) -> bool:
        """Play ``run`` on a background thread when a script takes it; True when one does."""
        found = self.script_for(repo, run)
        if found is None:
            return False
        with self.cond:
            self.active += 1
        step = self.settings[repo.full_name]["step_seconds"]
        threading.Thread(target=self._play, args=(repo, run, *found, step), daemon=True,
                         name=f"agent-{run['id']}").start()
        return True

    def wait(self, timeout: float) -> bool:
        """Wait until no scripted agent is running; False on timeout."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.active:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
        return True

    def _play(self, repo: Repo, run: dict, key: str, script: dict, step: float) -> None:
        entry = {"run_id": run["id"], "agent": key, "branch": run["inputs"].get("branch"), "pushed": None,
                 "conclusion": None, "reason": None}
        try:
            with self.app.app_context():
                time.sleep(step)
                with self.emu.state.lock:
                    advance(self.emu, repo, run, "in_progress")
                time.sleep(step)
                with self.emu.state.lock:
                    self._finish(repo, run, script, entry)
        finally:
            with self.cond:
                self.log.setdefault(repo.full_name, []).append(entry)
                self.active -= 1
                self.cond.notify_all()

    def _finish(self, repo: Repo, run: dict, script: dict, entry: dict) -> None:
        conclusion = script.get("conclusion", "success")
        branch = entry["branch"]
        head = repo.git.ref_sha(f"refs/heads/{branch}") if isinstance(branch, str) and branch else None
        if conclusion == "success" and head is None:
            conclusion, entry["reason"] = "failure", f"no branch {branch!r} to push to (dispatch input 'branch')"
        if conclusion == "success" and script.get("files"):
            entry["pushed"] = self._push(repo, branch, head, script)
        entry["conclusion"] = conclusion
        advance(self.emu, repo, run, "completed", conclusion)

    def _push(self, repo: Repo, branch: str, head: str, script: dict) -> str:
        """Commit the script's files on top of ``head`` and move ``branch`` there (as a push does)."""
        git = repo.git
        files = script["files"]
        texts = [v for v in files.values() if v is not None]
        blobs = iter(git.write_blobs([t.encode() for t in texts]))
        changes = [(path, "100644", None if text is None else next(blobs)) for path, text in files.items()]
        tree = git.build_tree(git.commit_info(head)["tree"], changes)
        sig = Signature(PUSHER, "41898282+github-actions[bot]@users.noreply.github.com", now_iso())
        sha = git.commit_tree(tree, [head], script.get("message") or "Scripted agent's change", sig)
        with self.emu.acting_as(PUSHER):
            self.emu.set_ref(repo, f"refs/heads/{branch}", sha)
        return sha
