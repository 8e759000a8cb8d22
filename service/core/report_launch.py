"""Every user-facing text of launching agents (DESIGN §3.8): the dashboard's launch column and
lines, the launch comment (via comment) and the launch record comment, the failed-run comment,
the "no run after 10 minutes" notice and the parallelism dividend. Pinned by
``tests/golden/launch-*.md``.

GitHub caps a comment body at 65,536 characters: the dispatch prompt in a launch comment is cut
to fit, and the hidden marker is always kept.
"""

from __future__ import annotations

from collections.abc import Sequence

from .dividend import Dividend, WorkSource
from .launch import (
    COPILOT_TOKEN_ENV,
    NO_RUN_AFTER,
    LaunchDecision,
    LaunchRecord,
    LaunchSettings,
    LaunchState,
    RunState,
    Via,
    Why,
    WorkflowRun,
    launch_marker,
    run_failed_marker,
)
from .report_format import MAX_BODY_BYTES, cell, code, duration, fit_body, nbytes, plural

_STATE_ICONS = {
    RunState.WAITING: "⏳",
    RunState.NOT_STARTED: "➖",
    RunState.STARTED: "🚀",
    RunState.RUNNING: "🏃",
    RunState.FINISHED: "✅",
    RunState.FAILED: "❌",
    RunState.NO_RUN: "⚠️",
}


def via_text(settings: LaunchSettings) -> str:
    """``workflow `wavegate-agent.yml```, ``mention `@claude```, ``GitHub's coding agent`` or ``—``."""
    if settings.via is Via.WORKFLOW and settings.workflow:
        return f"workflow {code(settings.workflow)}"
    if settings.via is Via.COMMENT and settings.comment:
        return f"mention {code(settings.comment)}"
    if settings.via is Via.COPILOT:
        return "GitHub's coding agent"
    return "—"


def _launched(record: LaunchRecord | None) -> str:
    if record is None:
        return "already launched"
    if not record.done:
        return "launch in progress (recorded, not yet confirmed)"
    if record.run_id is not None:
        return f"already launched (run {record.run_id})"
    if record.via is Via.COMMENT and record.comment is not None:
        return f"already launched (comment {record.comment})"
    if record.via is Via.COPILOT:
        return "already launched (assigned to GitHub's coding agent)"
    return f"already launched (attempt {record.attempt})"


def reason(decision: LaunchDecision) -> str:
    """Why an agent is started now or not yet, in a few words: ``waiting for wave 1``, ``branch
    not yet updated from the base``, ``already launched (run 123)``, ``not started:
    COPILOT_USER_TOKEN not configured`` …"""
    d = decision
    texts = {
        Why.START: "starting now",
        Why.RELAUNCH: f"starting again (attempt {d.attempt})",
        Why.NOT_CONFIGURED: "not started: launching is off (`via: none`)",
        Why.INCOMPLETE: f"not started: `launch` names no `{d.missing}`",
        Why.NO_TOKEN: f"not started: {COPILOT_TOKEN_ENV} not configured",
        Why.CANCELLED: "not started: the plan is cancelled",
        Why.SKIPPED: "not started: skipped",
        Why.REMOVED: "not started: removed from the plan",
        Why.MERGED: "not started: its PR has merged",
        Why.CLOSED: "not started: its PR was closed",
        Why.NO_PR: "waiting for its PR",
        Why.BLOCKED: f"not started: blocked by {code(d.blocked_by)}" if d.blocked_by else "not started: blocked",
        Why.WAITING: f"waiting for wave {d.wave}" if d.wave is not None else "waiting for its dependencies",
        Why.NO_CHECKS: "waiting for its check runs",
        Why.NOT_UPDATED: "branch not yet updated from the base",
    }
    return _launched(d.record) if d.why is Why.LAUNCHED else texts[d.why]


def _run_link(run: WorkflowRun) -> str:
    return f"[run {run.id}]({run.html_url})" if run.html_url else f"run {run.id}"


def launch_cell(state: LaunchState) -> str:
    """One agent's launch column on the dashboard: icon, state and, where known, the run's link
    and duration, e.g. ``✅ finished in 12 min · [run 7](…)``."""
    icon = _STATE_ICONS[state.state]
    run = state.run
    if state.state in (RunState.WAITING, RunState.NOT_STARTED):
        return f"{icon} {reason(state.decision)}"
    if state.state is RunState.NO_RUN:
        return f"{icon} no run {duration(state.waited or 0)} after launch"
    words = {RunState.STARTED: "started", RunState.RUNNING: "running", RunState.FINISHED: "finished",
             RunState.FAILED: "failed"}[state.state]
    if run is not None and run.seconds is not None:
        words += f" in {duration(run.seconds)}"
    if state.state is RunState.FAILED and run is not None and run.conclusion:
        words += f" ({run.conclusion.replace('_', ' ')})"
    if state.record is not None and state.record.attempt > 1:
        words += f", attempt {state.record.attempt}"
    return f"{icon} {words}" + (f" · {_run_link(run)}" if run is not None else "")


def launch_lines(states: Sequence[LaunchState]) -> str:
    """The dashboard's launch section: a heading and one line per agent (``- `api` via workflow
    `x.yml`: 🏃 running · [run 7](…)``). Empty string for no agents or when launching is off for
    every agent."""
    if not states or all(s.decision.why is Why.NOT_CONFIGURED for s in states):
        return ""
    lines = ["### Launches", ""]
    for s in states:
        via = via_text(s.decision.settings)
        where = f" via {via}" if via != "—" else ""
        lines.append(f"- {code(s.agent)}{where}: {launch_cell(s)}")
    return "\n".join(lines) + "\n"


def launch_table_cell(state: LaunchState) -> str:
    """``launch_cell`` made safe for a Markdown table cell (``|`` escaped)."""
    return launch_cell(state).replace("|", "\\|")


# --------------------------------------------------------------------------- comments


def launch_comment(mention: str, prompt: str, record: LaunchRecord) -> str:
    """The comment that starts an agent via comment: the mention on its own line, the dispatch
    prompt, then the launch record's hidden marker (the comment is its own record). The prompt is
    cut to keep the body within GitHub's comment limit; the marker is always kept."""
    marker = launch_marker(record)
    head = f"{mention}\n\n"
    room = MAX_BODY_BYTES - nbytes(head) - nbytes(marker) - 2
    return f"{head}{fit_body(prompt.rstrip(), room)}\n\n{marker}"


def record_comment(record: LaunchRecord, settings: LaunchSettings, run: WorkflowRun | None = None) -> str:
    """The PR comment that records a launch via workflow or via GitHub's coding agent: what was
    started (or is being started, while the record is an intent), with the run's link once known,
    and the hidden marker."""
    again = f" (attempt {record.attempt}, by `/wavegate relaunch`)" if record.attempt > 1 else ""
    who = code(record.agent)
    if not record.done:
        text = f"🚀 Starting agent {who} via {via_text(settings)}{again}…"
    elif record.via is Via.COPILOT:
        text = f"🚀 Started agent {who}{again}: this PR is assigned to GitHub's coding agent; the PR it opens " \
               "on this branch counts as this agent's work."
    else:
        link = _run_link(run) if run is not None else (f"run {record.run_id}" if record.run_id else None)
        where = f": {link}. Its state shows on the dashboard." if link else \
            ". Its run shows on the dashboard once GitHub reports it."
        text = f"🚀 Started agent {who} via {via_text(settings)}{again}{where}"
    return f"{text}\n\n{launch_marker(record)}"


def failed_run_comment(agent: str, run: WorkflowRun) -> str:
    """The PR comment when an agent's run fails or is cancelled: which run, how it ended, how
    long it ran, and how to start the agent again; carries ``run_failed_marker`` (posted once)."""
    how = (run.conclusion or "failure").replace("_", " ")
    took = f" after {duration(run.seconds)}" if run.seconds is not None else ""
    return (
        f"❌ The run of agent {code(agent)} ended: **{how}**{took} ({_run_link(run)}).\n\n"
        f"Its work on this branch is kept. Read the run's log, then comment `/wavegate relaunch {agent}` "
        "on the dispatch issue to start the agent again.\n\n"
        f"{run_failed_marker(run.id)}"
    )


def no_run_notice(state: LaunchState) -> str:
    """The dashboard notice for a launch with no run ``NO_RUN_AFTER`` later: what was launched,
    when, and what to check."""
    record = state.record
    when = duration(state.waited if state.waited is not None else NO_RUN_AFTER.total_seconds())
    attempt = f" (attempt {record.attempt})" if record and record.attempt > 1 else ""
    return (
        f"⚠️ Agent {code(state.agent)} was launched via {via_text(state.decision.settings)}{attempt} "
        f"{when} ago and no run has started. Check that the workflow exists on the default branch with "
        f"`on: workflow_dispatch` and that the App has `actions: write`, then comment "
        f"`/wavegate relaunch {state.agent}`."
    )


def failed_run_notice(state: LaunchState) -> str:
    """The dashboard notice for an agent whose run failed (the PR also gets a comment)."""
    run = state.run
    how = (run.conclusion or "failure").replace("_", " ") if run else "failure"
    link = f" ({_run_link(run)})" if run else ""
    return f"❌ The run of agent {code(state.agent)} ended: {how}{link}. `/wavegate relaunch {state.agent}` starts it again."


def launch_refused_notice(agent: str, settings: LaunchSettings, error: str) -> str:
    """The dashboard notice when GitHub refused the launch call itself (``error`` names the
    error type: ``NotFound``, ``Conflict`` or ``PermissionDenied``); the agent is not retried."""
    why = {
        "NotFound": "GitHub did not find it",
        "Conflict": "GitHub refused it (a workflow needs `on: workflow_dispatch` on the default branch)",
        "PermissionDenied": "the App lacks the permission (`actions: write`, or a user token for the coding agent)",
    }.get(error, "GitHub refused it")
    return (f"⚠️ Agent {code(agent)} was not started via {via_text(settings)}: {why}. Fix the setting, then "
            f"comment `/wavegate relaunch {agent}`.")


# --------------------------------------------------------------------------- dividend


def dividend_text(d: Dividend) -> str:
    """The parallelism dividend for the dashboard: agents' work against the wall clock from
    dispatch to the last merge, the ratio and time saved, then the critical path wave by wave."""
    measured = [s for s in d.agents if s.seconds is not None]
    by_push = sum(1 for s in measured if s.source is WorkSource.LAST_PUSH)
    how = "from each run's start to its end"
    if by_push:
        how += f"; {plural(by_push, 'agent')} with no known run, from its start to its PR's last push"
    lines = [
        f"**Parallelism dividend:** {plural(len(measured), 'agent')} worked {duration(d.work)} in total "
        f"({how}); the wall clock from dispatch to the last merge was {duration(d.wall)}"
        + (f" — {d.ratio:.1f}× parallel" if d.ratio is not None else "")
        + (f", {duration(d.saved)} saved against one agent after another" if d.saved > 0 else "")
        + ".",
    ]
    if d.unmeasured:
        lines.append(f"Not measured (no run and no push known): {', '.join(code(a) for a in d.unmeasured)}.")
    if d.waves:
        lines += ["", "| wave | longest agent | work | agents |", "|---|---|---|---|"]
        lines += [f"| {w.wave} | {cell(w.agent)} | {duration(w.seconds)} | {w.agents} |" for w in d.waves]
        lines += ["", f"Critical path: {duration(d.critical)} of work; the other {duration(d.overhead)} of the "
                      "wall clock was spent waiting (launches, reviews, merges)."]
    return "\n".join(lines) + "\n"


def permissions_warning(missing: Sequence[str]) -> str | None:
    """The start-up warning when launching is configured but the installation lacks what it
    needs (``launch.missing_permissions``); None when nothing is missing."""
    if not missing:
        return None
    return (f"Launching agents is configured but the installation lacks {', '.join(code(m) for m in missing)}: "
            "agents will not be started. Accept the App's updated permissions in the installation's settings.")
