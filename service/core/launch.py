"""Launching agents (DESIGN §3.8): settings, the decision of whom to start now, the hidden record
that makes a launch happen once, the state of each agent's run, and the shapes of the requests.

Pure: the use case reads GitHub (PRs, check runs, gates, launch comments, workflow runs), calls
the functions here, and writes what they decide. Every user-facing word lives in
``report_launch``; the records here carry codes and facts only.

Settings. ``launch:`` in ``.github/wavegate.yml`` and the per-agent ``launch:`` of a plan read
the same way: a mapping with ``via`` (``none`` | ``workflow`` | ``comment`` | ``copilot``),
``workflow`` (the workflow file, e.g. ``wavegate-agent.yml``, or its numeric id) and ``comment``
(the mention that starts an agent, e.g. ``@claude``); a ``via`` value alone (``launch: none``)
is shorthand for ``{via: none}``. An agent's settings are laid over the repository's
(``effective``): an agent saying ``{via: comment}`` uses the repository's ``comment``.

Exactly once. Each launch is recorded in a comment on the agent's PR carrying
``<!-- wavegate:launch {json} -->`` (``launch_marker``): agent, plan hash, via, attempt, and
once the call answered ``done`` with the run id. The protocol the use case follows:

1. Post the record comment *before* the launch call, not done (an intent: ``intent``).
2. Make the launch call (workflow dispatch or copilot assignment).
3. Edit the record comment: done, with the run id returned (``confirm``).

Via comment the launch *is* a comment: the mention, the dispatch prompt and the marker are posted
in one write (``report_launch.launch_comment``), so it is recorded exactly when it happens.

A duplicate, late or reordered delivery, a worker killed anywhere, or a wiped Redis then finds
the intent (step 1 done) and never calls again: at most one launch per attempt. Two jobs that
both wrote an intent for one attempt (a lost per-plan lock) re-read the comments after step 1
and only the writer of the first one (``first_claim``) goes on to step 2. A kill between
steps 1 and 2 leaves an intent that never gets a run; ``launch_state`` reports it once
``NO_RUN_AFTER`` has passed, and ``/wavegate relaunch AGENT`` starts the next attempt. A kill
between 2 and 3 leaves a run with no recorded id: ``match_run`` finds it among the
``workflow_run`` events of the agent's branch created after the intent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from yaml.nodes import MappingNode, Node, ScalarNode

from . import yamlnodes as yn
from .gates import dependencies
from .model import AgentPR, GateDecision, GateState, Plan, Problem, PrState

LAUNCH_KEYS = ("via", "workflow", "comment")
NO_RUN_AFTER = timedelta(minutes=10)  # a launch with no run after this long is reported
COPILOT_TOKEN_ENV = "COPILOT_USER_TOKEN"
COPILOT_ASSIGNEE = "copilot-swe-agent[bot]"
MAX_WORKFLOW_INPUTS = 25  # GitHub's limit for workflow_dispatch inputs
MAX_INPUT_CHARS = 65_535  # GitHub's limit for one workflow_dispatch input value
MAX_MENTION_CHARS = 100

# A workflow is named by its file name (GitHub looks it up under .github/workflows/) or its id.
_WORKFLOW_FILE = re.compile(r"^[A-Za-z0-9_.-]+\.ya?ml$")
_WORKFLOW_ID = re.compile(r"^[1-9][0-9]{0,18}$")


class Via(StrEnum):
    NONE = "none"
    WORKFLOW = "workflow"  # POST .../actions/workflows/{workflow}/dispatches
    COMMENT = "comment"  # a comment on the agent's PR: the mention, then the dispatch prompt
    COPILOT = "copilot"  # POST .../issues/{n}/assignees with agent_assignment (user token only)


@dataclass(frozen=True)
class LaunchSettings:
    """How agents are started. ``workflow`` / ``comment`` are None when not given; an agent's
    settings given as ``{via: comment}`` take them from the repository's (``effective``)."""

    via: Via = Via.NONE
    workflow: str | None = None
    comment: str | None = None


NO_LAUNCH = LaunchSettings()


# --------------------------------------------------------------------------- settings


class _Bad(Exception):
    def __init__(self, code: str, message: str, fix: str, node: Node, field: str):
        super().__init__(message)
        self.problem = (code, message, fix, node, field)


def parse_agent_launch(value: Node | str | None, line: int | None, *, agent: str | None = None,
                       line_of: Callable[[Node], int | None] | None = None) -> LaunchSettings | list[Problem]:
    """An agent's ``launch:`` from a plan: a YAML node (``none``, ``workflow`` or a mapping of
    ``LAUNCH_KEYS``) or, from the prose form, a plain string (``none``, ``workflow``).

    ``line`` is the 1-based line of the value in the issue body; ``line_of`` maps a node to its
    issue line (defaults to ``line`` for every problem); ``agent`` names the agent in problems.
    A missing ``workflow`` / ``comment`` is not a problem here: the repository's may supply it
    (see ``launch_problems``). Never raises.
    """
    where = line_of or (lambda _node: line)
    if isinstance(value, str) or value is None:
        value = ScalarNode(yn.STR_TAG if value is not None else yn.NULL_TAG, value or "")
        where = lambda _node: line  # noqa: E731 - a made-up node has no line of its own
    got = _read(value, where, complete=False)
    if isinstance(got, list):
        return [replace(p, agent=agent) for p in got]
    return got


def read_config_launch(node: Node) -> LaunchSettings | list[Problem]:
    """The ``launch:`` section of ``.github/wavegate.yml`` (``node`` composed from the whole file,
    so its lines are the file's). ``via: workflow`` needs ``workflow``, ``via: comment`` needs
    ``comment``. Problems carry ``field`` (``launch`` or ``launch.<key>``) and the 1-based line."""
    return _read(node, lambda n: yn.line_of(n) + 1, complete=True)


def _read(node: Node, line_of: Callable[[Node], int | None], *, complete: bool) -> LaunchSettings | list[Problem]:
    try:
        if isinstance(node, MappingNode):
            settings = _mapping(node)
        else:
            settings = LaunchSettings(via=_via(node, "launch"))
        if complete and (missing := _missing_key(settings)):
            raise _Bad("invalid-setting", missing[0], missing[1], node, "launch")
    except _Bad as bad:
        code, message, fix, where, field = bad.problem
        return [Problem(code, message, fix, field=field, line=line_of(where))]
    return settings


def _mapping(node: MappingNode) -> LaunchSettings:
    items, bad = yn.entries(node)
    if bad:
        what, _ = bad[0]
        raise _Bad("duplicate-key" if what.startswith("duplicate") else "wrong-type", f"`launch`: {what}",
                   "keep one of them", node, "launch")
    values: dict[str, object] = {}
    for e in items:
        if e.key not in LAUNCH_KEYS:
            message, fix = yn.unknown_key_message(e.key, LAUNCH_KEYS)
            raise _Bad("unknown-key", f"`launch`: {message}", fix, e.key_node, f"launch.{e.key}")
        values[e.key] = {"via": _via, "workflow": _workflow, "comment": _mention}[e.key](e.value, f"launch.{e.key}")
    if "via" not in values:
        raise _Bad("invalid-setting", "`launch` needs `via`", "add `via: workflow`, `via: comment`, "
                   "`via: copilot` or `via: none`", node, "launch")
    return LaunchSettings(**values)  # type: ignore[arg-type]


def _via(node: Node, field: str) -> Via:
    text = yn.as_str(node)
    if text is None and yn.as_bool(node) is False:
        text = "none"  # `via: no` / `launch: off` read as YAML 1.1 false: the intent is plain
    if text is None:
        raise _Bad("wrong-type", f"`{field}` must be one of none, workflow, comment, copilot, not {yn.kind(node)}",
                   f"write e.g. `{field}: workflow`", node, field)
    choices = [v.value for v in Via]
    if text.strip() not in choices:
        guess, _ = yn.suggest(text, choices)
        hint = f"; did you mean `{guess}`?" if guess else ""
        raise _Bad("invalid-setting", f"`{field}` `{text}` is not a way to start agents{hint}",
                   "use one of `none`, `workflow`, `comment`, `copilot`", node, field)
    return Via(text.strip())


def _workflow(node: Node, field: str) -> str:
    text = yn.as_str(node)
    if text is None or not text.strip():
        raise _Bad("wrong-type", f"`{field}` must name a workflow file, not {yn.kind(node)}",
                   f"write e.g. `{field}: wavegate-agent.yml`", node, field)
    name = text.strip()
    if not (_WORKFLOW_FILE.match(name) or _WORKFLOW_ID.match(name)):
        raise _Bad("invalid-setting", f"`{field}` `{name}` is neither a workflow file name nor a workflow id",
                   "give the file name under .github/workflows/ (e.g. `wavegate-agent.yml`), without its folder",
                   node, field)
    return name


def _mention(node: Node, field: str) -> str:
    text = yn.as_str(node)
    if text is None or not text.strip():
        raise _Bad("wrong-type", f"`{field}` must be the mention that starts an agent, not {yn.kind(node)}",
                   f"write e.g. `{field}: \"@claude\"` (quoted: YAML reads a leading @ as reserved)", node, field)
    mention = text.strip()
    if "\n" in mention or len(mention) > MAX_MENTION_CHARS:
        raise _Bad("invalid-setting", f"`{field}` must be one line of at most {MAX_MENTION_CHARS} characters",
                   "write only the mention, e.g. `\"@claude\"`; the dispatch prompt follows it", node, field)
    return mention


def _missing_key(settings: LaunchSettings) -> tuple[str, str] | None:
    """(message, fix) when ``settings`` cannot start anything for want of a key, else None."""
    if settings.via is Via.WORKFLOW and not settings.workflow:
        return ("`launch` says `via: workflow` but names no `workflow`",
                "add `workflow: wavegate-agent.yml` (a workflow with `on: workflow_dispatch` on the default branch)")
    if settings.via is Via.COMMENT and not settings.comment:
        return ("`launch` says `via: comment` but names no `comment`",
                "add `comment: \"@claude\"` (the mention that starts your agent)")
    return None


def effective(repo: LaunchSettings | None, agent: LaunchSettings | None = None) -> LaunchSettings:
    """The settings one agent is started with: the agent's ``via`` when it says one, with its
    ``workflow`` / ``comment`` falling back to the repository's; the repository's otherwise;
    ``NO_LAUNCH`` when neither says anything."""
    base = repo or NO_LAUNCH
    if agent is None:
        return base
    return LaunchSettings(via=agent.via, workflow=agent.workflow or base.workflow,
                          comment=agent.comment or base.comment)


def launch_problems(plan: Plan, repo: LaunchSettings | None,
                    overrides: Mapping[str, LaunchSettings]) -> list[Problem]:
    """A problem per agent whose effective settings lack the key their ``via`` needs (an agent
    saying ``{via: workflow}`` in a repository that names no workflow). ``overrides`` maps agent
    name to the ``launch`` the plan gives it. Code ``invalid-setting``, field ``launch``."""
    out = []
    for a in plan.agents:
        if a.name in overrides and (missing := _missing_key(effective(repo, overrides[a.name]))):
            out.append(Problem("invalid-setting", missing[0], missing[1], agent=a.name, field="launch", line=a.line))
    return out


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class LaunchRecord:
    """One launch, as recorded in a hidden marker on the agent's PR.

    ``attempt`` is 1 for the launch when the wave opened, then 2, 3 … for each ``/wavegate
    relaunch``; ``command`` is the id of the relaunch command's comment (so a redelivered
    command starts nothing more). ``done`` is set once the launch call answered, with its
    ``run_id`` when GitHub returned one (via workflow). Via comment the record sits in the launch
    comment itself, which is written in one step: it is done as soon as it exists. ``at`` is when
    the record was first written (UTC). ``comment`` is the id of the PR comment holding the marker,
    filled in by the reader.
    """

    agent: str
    plan_hash: str
    via: Via
    attempt: int = 1
    done: bool = False
    run_id: int | None = None
    command: int | None = None
    at: datetime | None = None
    comment: int | None = None


_LAUNCH_MARKER = re.compile(r"<!--\s*wavegate:launch\s+(?P<json>\{.*?\})\s*-->", re.DOTALL)
_ID_FIELDS = {"attempt": "attempt", "run": "run_id", "command": "command"}


def launch_marker(record: LaunchRecord) -> str:
    """``<!-- wavegate:launch {"agent":…,"attempt":1,"plan":…,"via":"workflow","run":123} -->``.
    Keys: agent, plan, via, attempt, at (ISO 8601 UTC) and, when set, done, run, command.
    ``<``, ``>`` and ``--`` are escaped so no value can close the comment."""
    data: dict[str, object] = {"agent": record.agent, "plan": record.plan_hash, "via": record.via.value,
                               "attempt": record.attempt}
    for key, attr in _ID_FIELDS.items():
        if key != "attempt" and getattr(record, attr) is not None:
            data[key] = getattr(record, attr)
    if record.done:
        data["done"] = True
    if record.at is not None:
        data["at"] = record.at.strftime("%Y-%m-%dT%H:%M:%SZ")
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("--", "-\\u002d")
    return f"<!-- wavegate:launch {text} -->"


def parse_launch_markers(body: str | None, *, comment: int | None = None) -> tuple[LaunchRecord, ...]:
    """Every well-formed launch record in a comment body, in order; malformed ones are left out
    (a comment is editable by anyone who can comment, so callers keep only comments written by
    the App). ``comment`` is the id of the comment the body belongs to. Never raises."""
    if not body:
        return ()
    out = []
    for match in _LAUNCH_MARKER.finditer(body):
        try:
            data = json.loads(match["json"])
        except (ValueError, RecursionError):
            continue
        record = _record(data, comment) if isinstance(data, dict) else None
        if record is not None:
            out.append(record)
    return tuple(out)


def _record(data: dict, comment: int | None) -> LaunchRecord | None:
    agent, digest, via = data.get("agent"), data.get("plan"), data.get("via")
    if not (isinstance(agent, str) and agent and isinstance(digest, str) and via in {v.value for v in Via}):
        return None
    ids: dict[str, int | None] = {}
    for key, attr in _ID_FIELDS.items():
        value = data.get(key)
        if value is not None and (type(value) is not int or value < 1):
            return None
        ids[attr] = value
    at = None
    if isinstance(data.get("at"), str):
        try:
            at = datetime.fromisoformat(data["at"].replace("Z", "+00:00"))
        except ValueError:
            return None
    done = data.get("done") is True or via == Via.COMMENT.value
    return LaunchRecord(agent=agent, plan_hash=digest, via=Via(via), attempt=ids.pop("attempt") or 1,
                        done=done, at=at, comment=comment, **ids)


def first_claim(records: Iterable[LaunchRecord], agent: str, attempt: int) -> LaunchRecord | None:
    """The record that owns an attempt: of the agent's records for ``attempt``, the one in the
    comment with the lowest id (GitHub's comment ids grow with time), or None. The job that wrote
    it makes the launch call; any other writer of the same attempt stops."""
    mine = [r for r in records if r.agent == agent and r.attempt == attempt and r.comment is not None]
    return min(mine, key=lambda r: r.comment or 0, default=None)


def latest(records: Iterable[LaunchRecord], agent: str) -> LaunchRecord | None:
    """The agent's record with the highest attempt (the first one written on a tie), or None."""
    best = None
    for r in records:
        if r.agent == agent and (best is None or r.attempt > best.attempt):
            best = r
    return best


def intent(decision: LaunchDecision, plan_hash: str, at: datetime, *, command: int | None = None) -> LaunchRecord:
    """The record to write before making the launch ``decision`` asks for (step 1): not done,
    no run id. ``command`` is the relaunch command's comment id, if a command asked for it."""
    return LaunchRecord(agent=decision.agent, plan_hash=plan_hash, via=decision.settings.via,
                        attempt=decision.attempt, at=at, command=command)


def confirm(record: LaunchRecord, run_id: int | None = None) -> LaunchRecord:
    """The record once the launch call answered (step 3), with the run id GitHub returned."""
    return replace(record, done=True, run_id=run_id if run_id is not None else record.run_id)


# --------------------------------------------------------------------------- decisions


class Why(StrEnum):
    """Why an agent is started now, or not yet. ``start`` and ``relaunch`` start it."""

    START = "start"
    RELAUNCH = "relaunch"
    LAUNCHED = "launched"  # a record exists: never again for this attempt
    NOT_CONFIGURED = "not-configured"  # via none
    INCOMPLETE = "incomplete"  # via workflow / comment without its key
    NO_TOKEN = "no-token"  # via copilot without COPILOT_USER_TOKEN
    CANCELLED = "cancelled"
    SKIPPED = "skipped"
    REMOVED = "removed"
    MERGED = "merged"  # its PR merged before any launch
    CLOSED = "closed"  # its PR was closed without merging
    NO_PR = "no-pr"
    BLOCKED = "blocked"  # a dependency closed without merging
    WAITING = "waiting"  # for wave ``wave``
    NO_CHECKS = "no-checks"  # its check runs do not both exist yet
    NOT_UPDATED = "not-updated"  # update_branches on, branch not yet updated from the base


@dataclass(frozen=True)
class AgentFacts:
    """What GitHub says about one agent's PR, for launching. ``checks``: both Wavegate check runs
    exist on the PR's head. ``branch_updated``: the head contains the base branch's head (the
    update from the base, when ``update_branches`` is on, is done)."""

    pr: AgentPR
    checks: bool = False
    branch_updated: bool = False


@dataclass(frozen=True)
class LaunchDecision:
    """Whether to start one agent now (``start``), with the settings and attempt to use, and why.

    ``wave`` is the wave waited for (``WAITING``); ``record`` the latest launch record
    (``LAUNCHED``, or the one a relaunch follows); ``blocked_by`` the closed dependency
    (``BLOCKED``); ``missing`` what an ``INCOMPLETE`` setting lacks (``workflow`` or ``comment``).
    """

    agent: str
    why: Why
    settings: LaunchSettings = NO_LAUNCH
    attempt: int = 1
    wave: int | None = None
    record: LaunchRecord | None = None
    blocked_by: str | None = None
    missing: str | None = None

    @property
    def start(self) -> bool:
        return self.why in (Why.START, Why.RELAUNCH)


_GATE_STOPS = {GateState.CANCELLED: Why.CANCELLED, GateState.SKIPPED: Why.SKIPPED,
               GateState.REMOVED: Why.REMOVED, GateState.MERGED: Why.MERGED}


def decide_launches(plan: Plan, gates: Mapping[str, GateDecision], facts: Mapping[str, AgentFacts],
                    records: Sequence[LaunchRecord], *, repo: LaunchSettings | None,
                    overrides: Mapping[str, LaunchSettings] | None = None, update_branches: bool = True,
                    copilot_token: bool = False) -> tuple[LaunchDecision, ...]:
    """One decision per agent of ``plan``, in plan order; ``start`` ones are to be launched now.

    ``gates`` is ``gates.evaluate(...)`` for the plan (cancelled and skipped are read from it);
    ``facts`` maps agent name to its PR facts (missing: no PR yet); ``records`` are the launch
    records found on the agents' PRs (any plan hash: an amended plan does not start an agent
    twice); ``repo`` the repository's ``launch`` settings and ``overrides`` the plan's per-agent
    ones; ``copilot_token`` whether the operator configured ``COPILOT_USER_TOKEN``.

    An agent with no dependency starts once its PR and both check runs exist; one with
    dependencies once its gate is unlocked and, with ``update_branches``, its branch contains the
    base head. Any record of the agent means ``LAUNCHED``; only ``relaunch_decision`` starts more.
    """
    deps = dependencies(plan)
    out = []
    for a in plan.agents:
        settings = effective(repo, (overrides or {}).get(a.name))
        base = LaunchDecision(agent=a.name, why=Why.START, settings=settings)
        held = _hold(base, gates.get(a.name), facts.get(a.name), latest(records, a.name), copilot_token)
        if held is None and deps.get(a.name):
            held = _hold_dependent(base, facts[a.name], update_branches)
        out.append(held or base)
    return tuple(out)


def _hold(base: LaunchDecision, gate: GateDecision | None, facts: AgentFacts | None,
          record: LaunchRecord | None, copilot_token: bool) -> LaunchDecision | None:
    """Why ``base`` cannot start now, or None. Checked in the order a reader wants the reason:
    configuration first, then what was done, then what is awaited."""
    stop = _setting_hold(base, copilot_token)
    if stop is not None and base.settings.via is Via.NONE:
        return stop
    if record is not None:
        return replace(base, why=Why.LAUNCHED, record=record, attempt=record.attempt)
    if gate is not None and gate.state in _GATE_STOPS:
        return replace(base, why=_GATE_STOPS[gate.state])
    stop = stop or _pr_hold(base, facts) or _gate_hold(base, gate)
    if stop is None and facts is not None and not facts.checks:
        return replace(base, why=Why.NO_CHECKS)
    return stop


def _pr_hold(base: LaunchDecision, facts: AgentFacts | None) -> LaunchDecision | None:
    pr = facts.pr if facts else None
    if pr is None or pr.state is PrState.MISSING:
        return replace(base, why=Why.NO_PR)
    if pr.state is not PrState.OPEN:
        return replace(base, why=Why.MERGED if pr.state is PrState.MERGED else Why.CLOSED)
    return None


def _gate_hold(base: LaunchDecision, gate: GateDecision | None) -> LaunchDecision | None:
    if gate is not None and gate.state is GateState.BLOCKED:
        return replace(base, why=Why.BLOCKED, blocked_by=gate.blocked_by[0].agent if gate.blocked_by else None)
    if gate is not None and gate.state is GateState.WAITING:
        waves = [d.wave for d in gate.waiting_on]
        return replace(base, why=Why.WAITING, wave=min(waves) if waves else None)
    return None


def _setting_hold(base: LaunchDecision, copilot_token: bool) -> LaunchDecision | None:
    s = base.settings
    if s.via is Via.NONE:
        return replace(base, why=Why.NOT_CONFIGURED)
    if s.via is Via.WORKFLOW and not s.workflow:
        return replace(base, why=Why.INCOMPLETE, missing="workflow")
    if s.via is Via.COMMENT and not s.comment:
        return replace(base, why=Why.INCOMPLETE, missing="comment")
    if s.via is Via.COPILOT and not copilot_token:
        return replace(base, why=Why.NO_TOKEN)
    return None


def _hold_dependent(base: LaunchDecision, facts: AgentFacts, update_branches: bool) -> LaunchDecision | None:
    # The wave's reason to exist: a later agent starts from its dependencies' merged work.
    if update_branches and not facts.branch_updated:
        return replace(base, why=Why.NOT_UPDATED)
    return None


def relaunch_decision(agent: str, command: int, records: Sequence[LaunchRecord], *,
                      settings: LaunchSettings, gate: GateDecision | None, facts: AgentFacts | None,
                      copilot_token: bool = False) -> LaunchDecision:
    """What ``/wavegate relaunch AGENT`` (comment id ``command``) does: start attempt N+1 after
    the latest record (1 when none), whatever the wave gate says (a person asked for it), unless
    the settings cannot start it, the plan is cancelled, the agent skipped or removed, or its PR
    is not open. A record already carrying ``command`` means the command was done (``LAUNCHED``)."""
    for r in records:
        if r.agent == agent and r.command == command:
            return LaunchDecision(agent=agent, why=Why.LAUNCHED, settings=settings, attempt=r.attempt, record=r)
    previous = latest(records, agent)
    base = LaunchDecision(agent=agent, why=Why.RELAUNCH, settings=settings, record=previous,
                          attempt=previous.attempt + 1 if previous else 1)
    stop = _setting_hold(base, copilot_token)
    if stop is None and gate is not None and gate.state in _GATE_STOPS and gate.state is not GateState.MERGED:
        stop = replace(base, why=_GATE_STOPS[gate.state])
    return stop or _pr_hold(base, facts) or base


# --------------------------------------------------------------------------- runs


class RunState(StrEnum):
    """An agent's launch and run state on the dashboard."""

    WAITING = "waiting"  # for wave N (LaunchState.wave)
    NOT_STARTED = "not-started"  # with the decision's reason
    STARTED = "started"  # launched; no run seen yet, or the run is queued
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"  # the run concluded failure, cancelled, timed out …
    NO_RUN = "no-run"  # launched NO_RUN_AFTER ago and still no run


# GitHub's run conclusions that mean the agent did not finish its work.
FAILED_CONCLUSIONS = frozenset({"failure", "cancelled", "timed_out", "startup_failure", "action_required", "stale"})


@dataclass(frozen=True)
class WorkflowRun:
    """The fields of a GitHub workflow run (REST ``workflow-run`` / ``workflow_run`` webhook) that
    launching reads. ``status``: requested, queued, pending, waiting, in_progress or completed;
    ``conclusion`` set once completed. Times are UTC."""

    id: int
    status: str
    conclusion: str | None = None
    head_branch: str | None = None
    event: str = "workflow_dispatch"
    created_at: datetime | None = None
    run_started_at: datetime | None = None
    updated_at: datetime | None = None
    html_url: str | None = None
    display_title: str | None = None  # the run's ``run-name``: ``wavegate AGENT on BRANCH (PR #N)``

    @property
    def span(self) -> tuple[datetime, datetime] | None:
        """(start, end) once completed: ``run_started_at`` (else ``created_at``) to ``updated_at``,
        which GitHub sets when the run completes. None before, or without times."""
        start = self.run_started_at or self.created_at
        if self.status != "completed" or start is None or self.updated_at is None:
            return None
        return start, max(start, self.updated_at)

    @property
    def seconds(self) -> float | None:
        """The run's duration once completed (``span``), else None."""
        span = self.span
        return (span[1] - span[0]).total_seconds() if span else None


@dataclass(frozen=True)
class LaunchState:
    """One agent's launch state for the dashboard, with what explains it: the decision (reason,
    wave waited for), the latest record, the run (link, duration) and, for ``NO_RUN``, how long
    since the launch (``waited``, seconds)."""

    agent: str
    state: RunState
    decision: LaunchDecision
    run: WorkflowRun | None = None
    waited: float | None = None

    @property
    def record(self) -> LaunchRecord | None:
        return self.decision.record


def launch_state(decision: LaunchDecision, run: WorkflowRun | None, now: datetime) -> LaunchState:
    """The dashboard state of one agent from its decision (``decide_launches``) and the run
    matched to its latest record (``match_run``; None when none is known). ``now`` is the time of
    the reading (UTC): a workflow launch done or intended ``NO_RUN_AFTER`` ago with no run is
    ``NO_RUN``."""
    state = LaunchState(agent=decision.agent, state=RunState.NOT_STARTED, decision=decision, run=run)
    if decision.why is Why.WAITING:
        return replace(state, state=RunState.WAITING)
    if decision.why is not Why.LAUNCHED or decision.record is None:
        return replace(state, state=RunState.STARTED) if decision.start else state
    if run is not None:
        return replace(state, state=_run_state(run))
    record = decision.record
    if record.via is Via.WORKFLOW and record.at is not None and now - record.at >= NO_RUN_AFTER:
        return replace(state, state=RunState.NO_RUN, waited=(now - record.at).total_seconds())
    return replace(state, state=RunState.STARTED)


def _run_state(run: WorkflowRun) -> RunState:
    if run.status == "completed":
        return RunState.FAILED if run.conclusion in FAILED_CONCLUSIONS else RunState.FINISHED
    return RunState.RUNNING if run.status == "in_progress" else RunState.STARTED


def match_run(record: LaunchRecord, runs: Iterable[WorkflowRun], branch: str) -> WorkflowRun | None:
    """The run of ``record``: the one with its ``run_id``; without an id (a 204 answer, or a
    worker killed before it stored the id), the earliest ``workflow_dispatch`` run created at or
    after the record whose ``display_title`` (the workflow's ``run-name``, ``wavegate AGENT on
    BRANCH (PR #N)`` in the shipped workflows) names the agent's ``branch``. A dispatched run's
    ``head_branch`` is the branch it was dispatched on (the default branch), so it cannot tell
    agents apart. None when no run fits."""
    runs = list(runs)
    if record.run_id is not None:
        return next((r for r in runs if r.id == record.run_id), None)
    fits = [r for r in runs if r.event == "workflow_dispatch" and names_branch(r.display_title, branch)
            and (record.at is None or r.created_at is None or r.created_at >= record.at - _CLOCK_SKEW)]
    return min(fits, key=lambda r: (r.created_at.timestamp() if r.created_at else float("inf"), r.id),
               default=None)


def names_branch(title: str | None, branch: str) -> bool:
    """Whether a run title (``run-name``) names ``branch`` as a whole word (``… on BRANCH …``)."""
    return bool(title) and re.search(rf"(?<![\w/.-]){re.escape(branch)}(?![\w/.-])", title or "") is not None


_RUN_PR = re.compile(r"\(PR #([0-9]{1,9})\)\s*$")


def run_pull(display_title: str | None) -> int | None:
    """The agent PR a run names in its ``run-name`` (``wavegate AGENT on BRANCH (PR #N)``, as
    the workflows in ``deploy/agents/`` name their runs), or None for any other run."""
    match = _RUN_PR.search(display_title or "")
    return int(match[1]) if match else None


_CLOCK_SKEW = timedelta(seconds=5)  # the record's time is the worker's clock, the run's GitHub's


def failed_run(state: LaunchState) -> bool:
    """True when the agent's run failed: its PR gets a comment and the dashboard a notice (once
    per run: the comment carries ``run_failed_marker``)."""
    return state.state is RunState.FAILED


def run_failed_marker(run_id: int) -> str:
    """``<!-- wavegate:run-failed 123 -->``: the hidden mark of the failed-run comment."""
    return f"<!-- wavegate:run-failed {int(run_id)} -->"


def failed_runs_reported(bodies: Iterable[str | None]) -> frozenset[int]:
    """The run ids whose failure was already commented on, from PR comment bodies."""
    found: set[int] = set()
    for body in bodies:
        found.update(int(m) for m in re.findall(r"<!--\s*wavegate:run-failed\s+([0-9]{1,19})\s*-->", body or ""))
    return frozenset(found)


# --------------------------------------------------------------------------- request shapes


def dispatch_request(*, default_branch: str, issue: int, agent: str, pr: int, branch: str,
                     plan_hash: str) -> dict[str, object]:
    """The body of ``POST /repos/{owner}/{repo}/actions/workflows/{workflow}/dispatches``
    (GitHub REST "Create a workflow dispatch event"): ``ref`` is the default branch (the workflow
    file is read there, never from the agent's branch), ``inputs`` carry ids only (the workflow
    reads the prompt from the PR body), as strings, and ``return_run_details: true`` asks for the
    200 answer with ``workflow_run_id`` (GitHub changelog 2026-02-19). Raises ``ValueError`` past
    GitHub's limits (25 inputs, 65,535 characters a value)."""
    inputs = {"issue": str(issue), "agent": agent, "pr": str(pr), "branch": branch, "plan_hash": plan_hash}
    if len(inputs) > MAX_WORKFLOW_INPUTS or any(len(v) > MAX_INPUT_CHARS for v in inputs.values()):
        raise ValueError("workflow_dispatch inputs exceed GitHub's limits")
    return {"ref": default_branch, "inputs": inputs, "return_run_details": True}


def dispatched_run_id(answer: Mapping[str, object] | None) -> int | None:
    """The run id in a dispatch answer: the 200 body's ``workflow_run_id`` (with ``run_url`` and
    ``html_url``); None for the 204 answer (no body) or a body without a usable id."""
    value = (answer or {}).get("workflow_run_id")
    return value if type(value) is int and value > 0 else None


def copilot_assignment(*, repository: str, branch: str, prompt: str) -> dict[str, object]:
    """The body of ``POST /repos/{owner}/{repo}/issues/{pr}/assignees`` that hands the agent's PR
    to GitHub's coding agent (GitHub REST "Add assignees", ``agent_assignment``, changelog
    2025-12-03): ``target_repo`` ``owner/name``, ``base_branch`` the agent's branch (the PR the
    coding agent opens is based on it, so it counts as this agent's work) and the dispatch prompt
    as ``custom_instructions``. GitHub accepts it only with a user token."""
    return {
        "assignees": [COPILOT_ASSIGNEE],
        "agent_assignment": {"target_repo": repository, "base_branch": branch, "custom_instructions": prompt},
    }


# --------------------------------------------------------------------------- installation


def needed_permissions(settings: Iterable[LaunchSettings]) -> dict[str, str]:
    """The installation permissions and events launching needs beyond Wavegate's own, for the
    settings in use (the repository's and every agent override): via workflow needs
    ``actions: write`` (dispatch) and, for any launch that has a run, the ``workflow_run`` event.
    Keys are permission names, plus ``event:workflow_run``; values the access level."""
    vias = {s.via for s in settings}
    if Via.WORKFLOW in vias:
        return {"actions": "write", "event:workflow_run": "subscribed"}
    return {}


def missing_permissions(needed: Mapping[str, str], granted: Mapping[str, str],
                        events: Iterable[str]) -> tuple[str, ...]:
    """Which of ``needed`` (``needed_permissions``) the installation lacks, sorted: a permission
    granted below the level needed (``granted`` as GitHub's installation ``permissions`` object,
    ``read`` < ``write`` < ``admin``) or an event missing from ``events`` (its ``events`` list).
    Entries read ``actions: write`` and ``event workflow_run``."""
    rank = {"read": 1, "write": 2, "admin": 3}
    subscribed = set(events)
    out = []
    for name, level in needed.items():
        if name.startswith("event:"):
            if name[len("event:"):] not in subscribed:
                out.append(f"event {name[len('event:'):]}")
        elif rank.get(granted.get(name, ""), 0) < rank[level]:
            out.append(f"{name}: {level}")
    return tuple(sorted(out))
