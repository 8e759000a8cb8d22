"""Texts of the two check runs: ``wavegate/territory`` (DESIGN §3.3) and ``wavegate/wave-gate``
(§3.4), plus queued, error and non-agent outputs.

GitHub limits (ecosystem §1.3): ``title`` one line ≤ 255 characters, ``summary`` and ``text``
under 60 KB of UTF-8 here, annotations 50 a request (the adapter batches them).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from .model import (
    GATE_CHECK,
    TERRITORY_CHECK,
    AgentPR,
    Annotation,
    CheckOutput,
    Conclusion,
    Dependency,
    FileSource,
    GateDecision,
    GateState,
    PathKind,
    PathVerdict,
    Plan,
    PrState,
    Side,
    TerritoryVerdict,
)
from .report_format import (
    MAX_BODY_BYTES,
    agent_pr,
    cell,
    code,
    fit_body,
    fit_lines,
    fit_title,
    nbytes,
    plural,
    pr_ref,
)
from .territory import unseen_paths

# GitHub lists at most 3,000 files of a pull request (GET /pulls/{n}/files).
FILES_LIST_CAP = 3000
# One annotation per offending path, but never more than this many: each 50 cost a PATCH request,
# and the secondary rate limit allows about 80 content-creating requests a minute.
MAX_ANNOTATIONS = 1000
KIND_ORDER = (
    PathKind.CROSSING,
    PathKind.FORBIDDEN,
    PathKind.UNOWNED,
    PathKind.EXEMPT,
    PathKind.OWN,
    PathKind.FREE,
)
_FIX = (
    "**How to fix:** revert the changes to these paths. If the work there is needed, record it under a "
    "`## Scope expansions` heading in the PR description (or in `SCOPE-EXPANSIONS.md`) and leave the "
    "files to their owner; if the plan itself is wrong, edit it in the dispatch issue."
)


# --------------------------------------------------------------------------- territory


def status_phrase(p: PathVerdict) -> str:
    """How a path was changed, in words: ``deleted`` for GitHub's ``removed``, the other side of a
    rename or copy, or the raw status for values GitHub may add later."""
    other = code(p.counterpart) if p.counterpart else None
    if p.side is Side.OLD:
        if p.status == "copied":
            return f"source of the copy to {other}" if other else "source of a copy"
        return f"old path of the rename to {other}" if other else "old path of a rename"
    if p.status == "renamed":
        return f"renamed from {other}" if other else "renamed"
    if p.status == "copied":
        return f"copied from {other}" if other else "copied"
    if p.status == "removed":
        return "deleted"
    if p.status in {"added", "modified", "changed"}:
        return p.status
    return f"status {code(p.status)}"


def _where(p: PathVerdict, agent: str | None, strict: bool) -> str:
    rule = f", rule {code(p.rule)}" if p.rule else ""
    if p.kind is PathKind.CROSSING:
        if agent is None:
            return f"in the territory of agent {code(p.owner or '?')} ({pr_ref(p.owner_pr)}), whose PR has not merged yet{rule}"
        return f"owned by agent {code(p.owner or '?')} ({pr_ref(p.owner_pr)}){rule}"
    if p.kind is PathKind.FORBIDDEN:
        where = code(p.rule) if p.rule else "a pattern"
        if p.source == "protected":
            return f"on the repository's protected list ({where})"
        return f"on this agent's own DO-NOT-MODIFY list ({where})"
    if p.kind is PathKind.UNOWNED:
        return "in no agent's territory" + (" (the plan is strict)" if strict else "")
    if p.kind is PathKind.EXEMPT:
        return "exempt: the scope-expansion record"
    if p.kind is PathKind.OWN:
        return f"inside the territory{rule}"
    return "in no active territory"


def path_line(p: PathVerdict, agent: str | None, strict: bool) -> str:
    """One Markdown list item: kind, path, how it changed, owner and PR, rule."""
    return f"- **{p.kind.value}** {code(p.path)} — {status_phrase(p)}; {_where(p, agent, strict)}"


def _title_owners(paths: Sequence[PathVerdict]) -> str:
    owners: dict[str, int | None] = {}
    for p in paths:
        owners.setdefault(p.owner or "?", p.owner_pr)
    return ", ".join(f"{name} ({pr_ref(number)})" for name, number in owners.items())


def _unseen(v: TerritoryVerdict) -> int:
    """Changed files GitHub counts that the tree comparison did not find (``territory``'s rule)."""
    return unseen_paths(v.source, v.changed, len(v.paths))


def _territory_title(v: TerritoryVerdict) -> str:
    if _unseen(v) and not v.offending:
        return fit_title(f"Territory could not be verified: {v.changed:,} files changed, "
                         f"{len(v.paths):,} found in the trees")
    if v.source is FileSource.TRUNCATED:
        return _truncated_title(v)
    if not v.offending:
        return _clean_title(v)
    return _offending_title(v)


def _truncated_title(v: TerritoryVerdict) -> str:
    counts = []
    if v.changed is not None:
        counts.append(f"{v.changed:,} files changed")
    if v.listed is not None:
        counts.append(f"{v.listed:,} listed")
    tail = ", ".join(counts + ["tree listing truncated"])
    return fit_title(f"Territory could not be verified: {tail}")


def _clean_title(v: TerritoryVerdict) -> str:
    if v.conclusion is Conclusion.FAILURE:
        return "Territory check failed"
    if v.agent is None:
        return "No active territory touched"
    total = len(v.paths)
    notices = len(v.notices)
    if total == 0:
        return "No files changed yet"
    if notices:
        return fit_title(f"{plural(total - notices, 'path')} inside territory; {plural(notices, 'unowned path')} noted")
    return "1 path inside territory" if total == 1 else f"All {total:,} paths inside territory"


def _offending_title(v: TerritoryVerdict) -> str:
    offending = v.offending
    if v.agent is None:
        return fit_title(f"{plural(len(offending), 'path')} in active territory: {_title_owners(offending)}")
    kinds = Counter(p.kind for p in offending)
    head = f"{plural(len(offending), 'path')} outside territory: "
    if len(kinds) > 1:
        return fit_title(head + ", ".join(f"{kinds[k]:,} {k.value}" for k in KIND_ORDER if kinds[k]))
    kind = next(iter(kinds))
    if kind is PathKind.CROSSING:
        return fit_title(head + "crossing " + _title_owners(offending))
    if kind is PathKind.FORBIDDEN:
        sources = sorted({"protected" if p.source == "protected" else "DO-NOT-MODIFY" for p in offending})
        return fit_title(head + f"forbidden ({', '.join(sources)})")
    return fit_title(head + kind.value)


def _source_note(v: TerritoryVerdict) -> str | None:
    counts = []
    if v.changed is not None:
        counts.append(f"{v.changed:,} changed")
    if v.listed is not None:
        counts.append(f"{v.listed:,} listed")
    count_text = f" ({', '.join(counts)})" if counts else ""
    if v.source is FileSource.TREE:
        if v.listed is not None and v.listed < FILES_LIST_CAP:
            why = "disagreed with the PR's changed-file count"
        else:
            why = f"was capped at {FILES_LIST_CAP:,} files"
        if unseen := _unseen(v):
            return _unseen_note(why, count_text, len(v.paths), unseen)
        return (
            f"GitHub's file list of this PR {why}{count_text}, so the merge-base and head trees were "
            "compared instead: every changed path below was seen."
        )
    if v.source is FileSource.TRUNCATED:
        return (
            f"**The territory could not be verified.** The PR changes more files than GitHub's file list "
            f"shows{count_text}; GitHub lists at most {FILES_LIST_CAP:,}. The fallback, comparing the "
            "merge-base and head trees, failed too: GitHub truncated a recursive tree listing (it stops at "
            "100,000 entries or 7 MB). Wavegate cannot see every changed path, so the check fails closed. "
            f"Split the PR into smaller PRs of fewer than {FILES_LIST_CAP:,} changed files each."
        )
    return None


def _unseen_note(why: str, count_text: str, found: int, unseen: int) -> str:
    return (
        f"**The territory could not be verified.** GitHub's file list of this PR {why}{count_text}, so "
        f"the merge-base and head trees were compared instead, but they show {found:,} changed "
        f"{'path' if found == 1 else 'paths'}: {plural(unseen, 'changed file')} GitHub counts could not "
        "be found. Wavegate cannot see every changed path, so the check fails closed. Split the PR into "
        f"smaller PRs of fewer than {FILES_LIST_CAP:,} changed files each."
    )


def _escape_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _annotation(p: PathVerdict, agent: str | None, strict: bool, level: str) -> Annotation:
    title = fit_title(f"{p.kind.value}: {p.path}")
    if p.kind is PathKind.CROSSING and agent is not None:
        advice = " Revert it, or record the finding as a scope expansion and leave the file to its owner."
    elif p.kind is PathKind.CROSSING:
        advice = " Wait until that PR has merged, or leave the file alone."
    elif p.kind is PathKind.FORBIDDEN:
        advice = " Do not change this file in this PR."
    elif level == "notice":
        advice = " Allowed because the plan is not strict."
    else:
        advice = " Add it to the agent's territory in the plan, or revert it."
    phrase = status_phrase(p)
    message = f"{phrase[0].upper()}{phrase[1:]}; {_where(p, agent, strict)}.{advice}"
    return Annotation(path=p.path, message=message, annotation_level=level, title=title)


def territory_output(verdict: TerritoryVerdict, *, max_annotations: int = MAX_ANNOTATIONS) -> CheckOutput:
    """``wavegate/territory``: completed with the verdict's conclusion (always failure for a
    TRUNCATED change set: fail closed), a one-line title ≤ 255 characters, a summary table grouped
    by kind with one line per offending path, a text listing every checked path, one failure
    annotation per offending path and one notice per unowned path of a non-strict plan (at most
    ``max_annotations`` in all, offending first). Summary and text stay under 60 KB; long lists
    end with "… and N more". A tree comparison that found fewer paths than GitHub counts fails
    closed too, and says so."""
    v = verdict
    conclusion = Conclusion.FAILURE if v.source is FileSource.TRUNCATED or _unseen(v) else v.conclusion
    offending, notices = v.offending, v.notices
    annotations = [_annotation(p, v.agent, v.strict, "failure") for p in offending[:max_annotations]]
    annotations += [_annotation(p, v.agent, v.strict, "notice") for p in notices[: max_annotations - len(annotations)]]
    return CheckOutput(
        name=TERRITORY_CHECK,
        status="completed",
        conclusion=conclusion.value,
        title=_territory_title(v),
        summary=_territory_summary(v, max_annotations),
        text=_territory_text(v),
        annotations=tuple(annotations[:max_annotations]),
    )


def _territory_head(v: TerritoryVerdict) -> list[str]:
    """The intro, the table of kinds and the note on how the file list was obtained."""
    if v.agent is None:
        intro = (
            "This PR is no agent's. It fails only when it touches the territory of an agent whose PR "
            "has not merged yet."
        )
    else:
        intro = f"Every path this PR changes, checked against the territory of agent {code(v.agent)}."
        if v.strict:
            intro += " The plan is strict: paths in no agent's territory fail."
    head = [intro, ""]
    kinds = Counter(p.kind for p in v.paths)
    if v.paths:
        head += ["| kind | paths |", "|---|---:|"]
        head += [f"| {k.value} | {kinds[k]:,} |" for k in KIND_ORDER if kinds[k]]
        head.append("")
    note = _source_note(v)
    if note:
        head += [note, ""]
    return head


def _territory_summary(v: TerritoryVerdict, max_annotations: int) -> str:
    offending, notices = v.offending, v.notices
    head = _territory_head(v)
    tail: list[str] = ["", _FIX] if offending and v.agent is not None else []
    annotated = min(len(offending) + len(notices), max_annotations)
    if len(offending) + len(notices) > annotated:
        tail += ["", f"Annotations mark the first {annotated:,} of these paths."]
    budget = MAX_BODY_BYTES - nbytes("\n".join(head + tail)) - 200
    body: list[str] = []
    offending_lines = [path_line(p, v.agent, v.strict) for p in offending]
    notice_lines = [path_line(p, v.agent, v.strict) for p in notices]
    if offending_lines:
        body += ["### Outside territory" if v.agent else "### In active territory", ""]
        body += fit_lines(offending_lines, budget if not notice_lines else budget * 3 // 4)
    if notice_lines:
        body += [""] if body else []
        body += ["### Unowned (notice only)", ""]
        body += fit_lines(notice_lines, budget - nbytes("\n".join(body)))
    return fit_body("\n".join(head + body + tail).rstrip() + "\n")


def _territory_text(v: TerritoryVerdict) -> str | None:
    if not v.paths:
        return None
    rows = [f"| {p.kind.value} | {cell(p.path)} | {_escape_cell(status_phrase(p))} |" for p in v.paths]
    header = ["Every checked path, in GitHub's order:", "", "| kind | path | change |", "|---|---|---|"]
    return fit_body("\n".join(header + fit_lines(rows, MAX_BODY_BYTES - 400, "| … | and {n} more | |")) + "\n")


def merge_group_territory_output(verdict: TerritoryVerdict, pr_number: int) -> CheckOutput:
    """``wavegate/territory`` on a merge-group commit: PR ``pr_number``'s verdict for its head,
    with a line saying where it comes from."""
    out = territory_output(verdict)
    summary = fit_body(f"Verdict of PR #{pr_number} for its head commit, posted on this merge group.\n\n" + out.summary)
    return CheckOutput(out.name, out.status, out.conclusion, out.title, summary, out.text, out.annotations)


# --------------------------------------------------------------------------- wave gate


def direct_dependencies(plan: Plan, agent: str) -> tuple[str, ...]:
    """Agents ``agent`` waits for directly: every agent of an earlier wave, then its ``after``
    agents, in plan order (empty for an agent not in the plan)."""
    me = plan.agent(agent)
    if me is None:
        return ()
    return tuple(a.name for a in plan.agents if a.wave < me.wave or (a.name in me.after and a.name != agent))


def _by_wave(deps: Sequence[Dependency]) -> str:
    waves: dict[int, list[str]] = {}
    for d in sorted(deps, key=lambda d: d.wave):
        waves.setdefault(d.wave, []).append(agent_pr(d.agent, d.number))
    return "; ".join(f"wave {w}: " + ", ".join(names) for w, names in waves.items())


def _dependency_table(deps: Sequence[Dependency]) -> list[str]:
    words = {
        PrState.MISSING: "not opened yet",
        PrState.OPEN: "open",
        PrState.MERGED: "merged",
        PrState.CLOSED: "closed without merging",
    }
    lines = ["| dependency | wave | PR | state |", "|---|---:|---|---|"]
    lines += [f"| {code(d.agent)} | {d.wave} | {pr_ref(d.number)} | {words[d.state]} |" for d in deps]
    return lines


def _gate(conclusion: str | None, title: str, lines: Sequence[str], status: str = "completed") -> CheckOutput:
    return CheckOutput(
        name=GATE_CHECK,
        status=status,
        conclusion=conclusion,
        title=fit_title(title),
        summary=fit_body("\n".join(lines).rstrip() + "\n"),
    )


def gate_output(
    decision: GateDecision,
    plan: Plan | None = None,
    *,
    prs: Mapping[str, AgentPR] | None = None,
    merge_group_base: str | None = None,
) -> CheckOutput:
    """``wavegate/wave-gate`` for one agent PR (DESIGN §3.4).

    UNLOCKED, MERGED, SKIPPED, CANCELLED → completed success; WAITING → ``in_progress`` with no
    conclusion, titled "waiting for wave 1: #20 api, #21 worker"; BLOCKED → failure with the way
    out (reopen #20, or ``/wavegate skip api``); REMOVED → failure. ``plan`` and ``prs`` (agent →
    PR) let an unlocked title name the merged dependencies ("wave 2 unlocked: #20 api, #21 worker
    merged"). ``merge_group_base`` (a SHA) marks a merge-group commit: there a check is never left
    pending, so WAITING becomes failure ("not merged into the merge group's base").
    """
    d = decision
    if d.state is GateState.UNLOCKED:
        return _gate_unlocked(d, plan, prs)
    if d.state in (GateState.WAITING, GateState.BLOCKED) and merge_group_base:
        return _gate_merge_group(d, merge_group_base)
    return _GATE_BY_STATE.get(d.state, _gate_removed)(d)


def _gate_unlocked(d: GateDecision, plan: Plan | None, prs: Mapping[str, AgentPR] | None) -> CheckOutput:
    me = code(d.agent)
    deps = direct_dependencies(plan, d.agent) if plan else ()
    if plan is not None and not deps:
        return _gate("success", f"wave {d.wave}: no dependencies",
                     [f"Agent {me} (wave {d.wave}) depends on no other agent: it may merge whenever its other checks pass."])
    if deps:
        names = [agent_pr(n, prs[n].number) if prs and n in prs else n for n in deps]
        title = f"wave {d.wave} unlocked: {', '.join(names)} merged"
        lines = [f"Every dependency of agent {me} (wave {d.wave}) has merged or was skipped: {', '.join(names)}.", "",
                 "This PR may merge."]
    else:
        title = f"wave {d.wave} unlocked"
        lines = [f"Every dependency of agent {me} (wave {d.wave}) has merged or was skipped. This PR may merge."]
    return _gate("success", title, lines)


def _gate_merge_group(d: GateDecision, merge_group_base: str) -> CheckOutput:
    pending = tuple(d.blocked_by) + tuple(d.waiting_on)
    lines = [
        f"Agent {code(d.agent)} (wave {d.wave}) may merge only after its dependencies, and these are not merged into "
        f"the base of this merge group ({code(merge_group_base[:12])}):",
        "",
        *_dependency_table(pending),
        "",
        "A merge group never waits: this run fails so the queue moves on. Queue this PR again once they have merged.",
    ]
    waves = {dep.wave for dep in pending}
    if len(waves) == 1:
        title = f"wave {waves.pop()} not merged into the merge group's base: " + ", ".join(
            agent_pr(dep.agent, dep.number) for dep in pending
        )
    else:
        title = f"not merged into the merge group's base: {_by_wave(pending)}"
    return _gate("failure", title, lines)


def _gate_waiting(d: GateDecision) -> CheckOutput:
    lines = [
        f"Agent {code(d.agent)} (wave {d.wave}) merges only after its dependencies. Still waiting for:",
        "",
        *_dependency_table(d.waiting_on),
        "",
        "This check stays in progress until they have merged: a pending required check blocks merging, "
        "and auto-merge fires as soon as it turns green.",
    ]
    return _gate(None, f"waiting for {_by_wave(d.waiting_on)}", lines, status="in_progress")


def _gate_blocked(d: GateDecision) -> CheckOutput:
    blocked = d.blocked_by
    ways = []
    for dep in blocked:
        reopen = f"reopen #{dep.number}, or " if dep.number else ""
        ways.append(f"- {code(dep.agent)}: {reopen}comment `/wavegate skip {dep.agent}` on the dispatch issue")
    names = ", ".join(agent_pr(dep.agent, dep.number) for dep in blocked)
    lines = [
        f"Agent {code(d.agent)} (wave {d.wave}) depends on work that was closed without merging:",
        "",
        *_dependency_table(tuple(blocked) + tuple(d.waiting_on)),
        "",
        "**Way out:**",
        "",
        *ways,
        "",
        "Skipping treats the agent as done for the wave gate.",
    ]
    return _gate("failure", f"blocked: {names} closed without merging", lines)


def _gate_merged(d: GateDecision) -> CheckOutput:
    return _gate("success", f"{d.agent} merged", [f"Agent {code(d.agent)} (wave {d.wave}) has merged."])


def _gate_skipped(d: GateDecision) -> CheckOutput:
    return _gate("success", f"{d.agent} skipped: treated as done",
                 [f"Agent {code(d.agent)} was skipped with `/wavegate skip {d.agent}`: the wave gate treats it as done."])


def _gate_cancelled(d: GateDecision) -> CheckOutput:
    return _gate("success", "plan cancelled: no longer gated",
                 ["The dispatch plan was cancelled with `/wavegate cancel`: Wavegate no longer holds this PR back."])


def _gate_removed(d: GateDecision) -> CheckOutput:
    return _gate(
        "failure",
        f"{d.agent} was removed from the plan",
        [
            f"Agent {code(d.agent)} is no longer in the dispatch plan, so this PR is not part of it any more.",
            "",
            "Close this PR, or add the agent back to the plan in the dispatch issue.",
        ],
    )


_GATE_BY_STATE = {
    GateState.WAITING: _gate_waiting,
    GateState.BLOCKED: _gate_blocked,
    GateState.MERGED: _gate_merged,
    GateState.SKIPPED: _gate_skipped,
    GateState.CANCELLED: _gate_cancelled,
}


def non_agent_gate_output() -> CheckOutput:
    """``wavegate/wave-gate`` for a PR that is no agent's: completed success."""
    return _gate(
        "success",
        "Not an agent PR: no wave to wait for",
        ["This PR belongs to no dispatch plan, so the wave gate does not hold it back."],
    )


# --------------------------------------------------------------------------- queued and errors


def queued_output(name: str) -> CheckOutput:
    """A ``queued`` check run (posted before the verdict is known), no conclusion."""
    what = {
        TERRITORY_CHECK: "Wavegate is checking the changed paths against the dispatch plan.",
        GATE_CHECK: "Wavegate is checking whether this PR's dependencies have merged.",
    }.get(name, "Wavegate is checking this commit.")
    return CheckOutput(name=name, status="queued", conclusion=None, title="Queued", summary=what + "\n")


def error_output(name: str, what: str, job_id: str | None = None) -> CheckOutput:
    """A check run saying what failed after the last retry, with the job id: completed failure
    for the territory check (fail closed) and the gate alike. ``what`` is a short phrase."""
    job = f" (job {code(job_id)})" if job_id else ""
    lines = [
        f"Wavegate could not finish this check: {what}{job}.",
        "",
        "It failed closed rather than pass unchecked work. Re-run the check from GitHub's Checks tab, or "
        "comment `/wavegate refresh` on the dispatch issue; the periodic reconcile retries as well.",
    ]
    return CheckOutput(
        name=name,
        status="completed",
        conclusion="failure",
        title=fit_title(f"Wavegate could not finish: {what}"),
        summary=fit_body("\n".join(lines) + "\n"),
    )
