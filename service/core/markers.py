"""Names and hidden markers that tie GitHub objects back to a plan: branches, PR and dashboard
markers, the plan hash and the dashboard's hidden state.

Every marker is an HTML comment: GitHub keeps it in the body it stores and hides it in the rendered
Markdown, so the state lives in GitHub and survives a wiped Redis.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .model import Agent, AgentPR, GateDecision, Plan

DASHBOARD_MARKER = "<!-- wavegate dashboard -->"

_PR_MARKER = re.compile(r"<!--\s*wavegate\s+(?P<fields>[^>]*?)\s*-->", re.IGNORECASE)
_FIELD = re.compile(r"(?P<key>[a-z]+)\s*=\s*(?P<value>[^\s>]+)", re.IGNORECASE)
_STATE_MARKER = re.compile(r"<!--\s*wavegate-state\s+(?P<json>.*?)\s*-->", re.DOTALL | re.IGNORECASE)
# GitHub names a merge group's ref refs/heads/gh-readonly-queue/<base>/pr-<N>-<head sha>; the base
# branch may itself contain slashes, so only the last segment is read.
_MERGE_GROUP_REF = re.compile(r"(?:^|/)pr-(?P<number>[0-9]+)-[0-9A-Za-z]+$")


@dataclass(frozen=True)
class PrMarker:
    issue: int
    agent: str
    plan_hash: str


def branch_name(issue: int, agent: Agent, prefix: str = "wavegate") -> str:
    """The agent's branch: its explicit ``branch`` or ``<prefix>/<issue>/<name>``.

    ``issue`` is the dispatch issue number, ``prefix`` the repository's ``branch_prefix``
    (trailing slashes ignored). Example: ``wavegate/42/docs``.
    """
    if agent.branch:
        return agent.branch
    return f"{prefix.rstrip('/')}/{issue}/{agent.name}"


def _plan_meaning(plan: Plan) -> dict[str, Any]:
    # Plan order is kept on purpose: it decides the order of PR creation and of every listing.
    # ``line`` and ``form`` only say where and how the plan was written, not what it means.
    return {
        "base": plan.base,
        "strict": plan.strict,
        "agents": [_agent_meaning(a) for a in plan.agents],
    }


def _agent_meaning(a: Agent) -> dict[str, Any]:
    meaning: dict[str, Any] = {"name": a.name, "wave": a.wave, "after": list(a.after),
                               "territory": list(a.territory), "findings": list(a.findings),
                               "do_not_modify": list(a.do_not_modify), "branch": a.branch}
    if a.launch is not None:  # only when set: every plan without it keeps its hash
        meaning["launch"] = {"via": a.launch.via.value, "workflow": a.launch.workflow, "comment": a.launch.comment}
    return meaning


def plan_hash(plan: Plan) -> str:
    """A short (12 lowercase hex) stable hash of the plan's meaning (not its formatting or form).

    SHA-256 of a canonical JSON of base, strict and the agents in plan order; an agent's ``line``
    and the plan's ``form`` are left out, so the YAML and prose forms of one plan hash alike.
    """
    canonical = json.dumps(_plan_meaning(plan), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]


def pr_marker(issue: int, agent: str, plan_hash: str) -> str:
    """``<!-- wavegate issue=N agent=NAME plan=HASH -->``, the last line of an agent PR body."""
    return f"<!-- wavegate issue={issue} agent={agent} plan={plan_hash} -->"


def parse_pr_marker(body: str | None) -> PrMarker | None:
    """The first complete marker in a PR body, or None. Never raises.

    Tolerant of extra whitespace, letter case of the keys and key order. A PR body is editable by
    anyone who can edit the PR, so callers also compare the head branch with the agent's branch.
    """
    if not body:
        return None
    for match in _PR_MARKER.finditer(body):
        fields = {m["key"].lower(): m["value"] for m in _FIELD.finditer(match["fields"])}
        issue, agent, digest = fields.get("issue"), fields.get("agent"), fields.get("plan")
        if issue and issue.isdigit() and agent and digest:
            return PrMarker(issue=int(issue), agent=agent, plan_hash=digest.lower())
    return None


def adopted_marker(comment_id: int) -> str:
    """The hidden line ``/wavegate adopt`` leaves in the issue body below the plan it wrote, naming
    the command's comment: a second delivery of that comment finds it and writes nothing."""
    return f"<!-- wavegate-adopted comment={comment_id} -->"


def is_dashboard(body: str | None) -> bool:
    """True when a comment body is a Wavegate dashboard (it starts with ``DASHBOARD_MARKER``)."""
    return body is not None and body.lstrip().startswith(DASHBOARD_MARKER)


def state_marker(state: Mapping[str, Any]) -> str:
    """A hidden HTML comment ``<!-- wavegate-state {json} -->`` carrying JSON-safe dashboard state
    (plan hash, skipped agents, cancelled, dispatch time, PR numbers …).

    ``<``, ``>`` and ``--`` can only occur inside JSON strings; they are written as ``\\u`` escapes
    so a value can neither close the comment early nor open another one. Raises ``TypeError`` for
    values JSON cannot carry.
    """
    text = json.dumps(dict(state), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("--", "-\\u002d")
    return f"<!-- wavegate-state {text} -->"


def parse_state_marker(body: str | None) -> dict[str, Any]:
    """The state carried by ``state_marker`` in a body, or ``{}``; never raises."""
    if not body:
        return {}
    try:
        match = _STATE_MARKER.search(body)
        if match is None:
            return {}
        value = json.loads(match["json"])
    except (ValueError, RecursionError, TypeError):
        return {}
    return value if isinstance(value, dict) else {}


def merge_group_pr(head_ref: str | None) -> int | None:
    """The PR number in a merge group head ref ``refs/heads/gh-readonly-queue/<base>/pr-<N>-<sha>``,
    or None when the ref has another shape."""
    if not head_ref:
        return None
    match = _MERGE_GROUP_REF.search(head_ref.strip())
    if match is None:
        return None
    number = int(match["number"])
    return number if number > 0 else None


# Hidden dashboard state and PR markers the use cases write and read back.
_GATES_MARKER = re.compile(r"<!-- wavegate-gates (?P<json>\{.*?\}) -->")
# What the dashboard remembers for level-triggered side effects: agent digests (to name the agents
# an amendment changed), the base head each PR's branch was last updated to (so update-branch is
# tried at most once per PR and base head, never in a loop) and which one-off comments exist.
_MEMO_MARKER = re.compile(r"<!-- wavegate-memo (?P<json>\{.*?\}) -->")
PR_MARKER_LINE = re.compile(r"<!--\s*wavegate\s+issue=[^>]*?-->")
SCOPE_SECTION = re.compile(r"^##\s+Scope expansions\s*$", re.IGNORECASE | re.MULTILINE)


def gate_signature(prs: dict[str, AgentPR], decisions: dict[str, GateDecision]) -> dict[str, str]:
    """Agent → ``"<PR state>/<gate state>"``: what the dashboard last showed, so a PR event can
    tell cheaply whether the rest of its plan needs re-evaluating."""
    return {name: f"{prs[name].state.value if name in prs else 'missing'}/{d.state.value}"
            for name, d in sorted(decisions.items())}


def recorded_signature(body: str | None) -> dict[str, str] | None:
    """The gate signature the dashboard ``body`` carries, or None."""
    match = _GATES_MARKER.search(body or "")
    if match is None:
        return None
    try:
        value = json.loads(match["json"])
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def hidden_json(value: dict[str, Any]) -> str:
    # "--" would end the HTML comment early; a JSON escape keeps the value intact.
    return json.dumps(value, sort_keys=True, separators=(",", ":")).replace("--", "-\\u002d")


def recorded_memo(body: str | None) -> dict[str, Any]:
    """The memo (``agents``, ``updated``, ``commented``) the dashboard ``body`` carries, or {}."""
    match = _MEMO_MARKER.search(body or "")
    if match is None:
        return {}
    try:
        value = json.loads(match["json"])
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}

def gates_marker(signature: Mapping[str, str]) -> str:
    """The dashboard's hidden gate signature line (``gate_signature``)."""
    return f"<!-- wavegate-gates {hidden_json(dict(signature))} -->\n"


def memo_marker(memo: Mapping[str, Any]) -> str:
    """The dashboard's hidden memo line (``recorded_memo`` reads it back)."""
    return f"<!-- wavegate-memo {hidden_json(dict(memo))} -->\n"


def unlock_marker(issue: int, agent: str) -> str:
    """Marks the one unlock comment on an agent's PR."""
    return f"<!-- wavegate-unlocked issue={issue} agent={agent} -->"


def removed_marker(issue: int, agent: str) -> str:
    """Marks the one comment on the PR of an agent removed from the plan."""
    return f"<!-- wavegate-removed issue={issue} agent={agent} -->"
