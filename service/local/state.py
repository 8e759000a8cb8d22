"""What a fleet worktree knows about itself, in its ``.wavegate/`` folder (ignored by git):

- ``fleet.json``: the agent, the dispatch issue number, the base branch, the repository settings
  and the plan hash;
- ``plan.json``: the validated plan as ``wavegate worktrees`` read it, so ``wavegate guard``
  needs no YAML parsing and no pre-flight (it checks the snapshot against the hash);
- ``PROMPT.md``: the agent's dispatch prompt, exactly as the App would open its PR with.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from ..core.markers import branch_name, plan_hash
from ..core.model import Agent, Plan, RepoConfig
from ..core.report_local import FLEET_DIR, not_a_fleet_worktree, stale_snapshot, wrong_branch
from . import git

STATE_FILE = "fleet.json"
PLAN_FILE = "plan.json"
PROMPT_FILE = "PROMPT.md"
# The repository settings a fleet uses (the guard's protected list and strict default, branch
# names); the App's other settings (label, launching agents …) have no local meaning.
CONFIG_FIELDS = ("protected", "strict", "branch_prefix")


class FleetStateError(Exception):
    """No fleet state where one was expected, or a damaged one; the message says what to do."""


@dataclass(frozen=True)
class FleetState:
    """One worktree's agent and the plan it was made from. ``root`` is the worktree root."""

    root: Path
    agent: str
    issue: int
    base: str
    plan: Plan
    config: RepoConfig


def _tuples(record: dict) -> dict:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in record.items()}


def plan_to_json(plan: Plan) -> dict:
    return asdict(plan)


def plan_from_json(data: dict) -> Plan:
    """The ``Plan`` of ``plan_to_json``; raises ``KeyError``/``TypeError`` on another shape."""
    agents = tuple(Agent(**_tuples(a)) for a in data["agents"])
    return Plan(agents=agents, base=data["base"], strict=data["strict"], form=data["form"])


def write(root: Path, agent: str, issue: int, base: str, plan: Plan, config: RepoConfig, prompt: str) -> None:
    """Write (or refresh) ``root/.wavegate/``: state, plan snapshot and dispatch prompt."""
    folder = root / FLEET_DIR
    folder.mkdir(exist_ok=True)
    settings = {key: getattr(config, key) for key in CONFIG_FIELDS}
    state = {"agent": agent, "issue": issue, "base": base, "plan_hash": plan_hash(plan), "config": settings}
    (folder / STATE_FILE).write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    (folder / PLAN_FILE).write_text(json.dumps(plan_to_json(plan), indent=1) + "\n", encoding="utf-8")
    (folder / PROMPT_FILE).write_text(prompt, encoding="utf-8")


def find_root(start: Path) -> Path | None:
    """The nearest directory at or above ``start`` holding ``.wavegate/fleet.json``."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / FLEET_DIR / STATE_FILE).is_file():
            return folder
    return None


def read(start: Path) -> FleetState:
    """The fleet state of the worktree containing ``start``. Raises ``FleetStateError`` when
    there is none, or when the plan snapshot no longer matches its recorded hash."""
    root = find_root(start)
    if root is None:
        raise FleetStateError(not_a_fleet_worktree(str(start)))
    folder = root / FLEET_DIR
    try:
        state = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
        plan = plan_from_json(json.loads((folder / PLAN_FILE).read_text(encoding="utf-8")))
        config = RepoConfig(**_tuples({key: state["config"][key] for key in CONFIG_FIELDS}))
        found = FleetState(root, state["agent"], int(state["issue"]), state["base"], plan, config)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise FleetStateError(f"{folder} cannot be read ({error}); run `wavegate worktrees` again") from None
    if plan_hash(plan) != state.get("plan_hash"):
        raise FleetStateError(stale_snapshot(str(folder / PLAN_FILE)))
    _check_branch(found)
    return found


def _check_branch(found: FleetState) -> None:
    """The agent ``fleet.json`` names must be the one whose branch (the App's name for it:
    ``branch_name``) is checked out here: a hand-edited agent or issue number is refused, since
    the worktree's branch is not changed by editing a file. Raises ``FleetStateError``."""
    try:
        checked_out = git.current_branch(found.root)
    except git.GitError as error:
        raise FleetStateError(f"{found.root} is not a git checkout: {error}") from None
    prefix = found.config.branch_prefix
    agent = found.plan.agent(found.agent)
    expected = branch_name(found.issue, agent, prefix) if agent else None
    if checked_out is None or checked_out != expected:
        owner = next((a.name for a in found.plan.agents if branch_name(found.issue, a, prefix) == checked_out), None)
        raise FleetStateError(wrong_branch(str(found.root / FLEET_DIR / STATE_FILE), found.agent, expected,
                                           checked_out, owner))
