"""Pure edits of a dispatch issue body that grant or revoke territory patterns (DESIGN §3.5).

The issue stays the one source of truth: ``/wavegate grant`` and ``/wavegate revoke`` become an
edit of its body, and everything outside the edited list is kept byte for byte (line endings
included). In the YAML plan a grant adds the patterns to the agent's ``territory`` (a block list
gets one ``- pattern  # granted by @user: reason`` line per pattern after its last item, a flow list
``[a, b]`` gets them before its ``]`` with the comment at the end of that line, and a one-string
shorthand ``territory: tests/`` becomes ``[tests/, new]``). In the prose plan a grant adds
``- `pattern` (granted by @user: reason)`` after the last item of ``Authorized files:``. A revoke
removes the item (its line, with its comment, or its entry of a flow or comma list).

Every edit is read back with ``plan.parse_plan``: the result is used only when the agent's territory
is exactly what the change asks for and every other part of the plan is unchanged; otherwise the
change is refused (``not-editable``) and the body is left alone. Patterns compare with a leading
``/`` ignored (``/tests/`` and ``tests/`` are one pattern), since anchoring changes nothing.

Use: ``amend_checked(body, change, config, repo_paths)`` (the amended plan also passes the full
pre-flight, or the refusal carries the pre-flight's problems, overlaps with their witnesses
included) and then, when ``result.changed``, write ``result.body`` to the issue.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from . import yamlnodes as yn
from .model import Plan, Problem, RepoConfig
from .plan import parse_plan, preflight
from .plan_prose import read_prose_plan
from .plan_source import Fence, body_lines, fences
from .report_commands import grant_note_prose, grant_note_yaml

_BREAK = re.compile(r"\r\n|\r|\n")
_LIST_ITEM = re.compile(r"^(?P<indent>\s*)(?:(?P<bullet>[-*+])|(?P<number>\d{1,9})(?P<delim>[.)]))(?P<gap>\s+)")
_DASH_ONLY = re.compile(r"^\s*-\s*$")
_LABEL_INLINE = re.compile(r"^(?P<head>[^:]*:(?:\*\*|__)?)(?P<inline>.*)$")
_BACKTICK_START = re.compile(r"`([^`]+)`")


class Action(StrEnum):
    GRANT = "grant"
    REVOKE = "revoke"


@dataclass(frozen=True)
class TerritoryChange:
    """What a ``/wavegate grant`` or ``revoke`` asks: ``patterns`` added to (or removed from)
    ``agent``'s territory, by the GitHub login ``by``, for ``reason`` (None when none was given)."""

    action: Action
    agent: str
    patterns: tuple[str, ...]
    by: str
    reason: str | None = None


@dataclass(frozen=True)
class Amended:
    """A body that carries the change. ``plan`` is the amended plan as ``parse_plan`` reads it
    (from ``amend_checked``: as ``preflight`` passes it). ``added`` / ``removed`` are the patterns
    that really changed; ``already`` those a grant found in the territory already, or a revoke
    did not find there. ``body`` equals the old body when nothing changed."""

    change: TerritoryChange
    body: str
    plan: Plan
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    already: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


class Refusal(StrEnum):
    PLAN_INVALID = "plan-invalid"  # the body holds no valid plan to amend (``problems`` say why)
    UNKNOWN_AGENT = "unknown-agent"  # no agent of that name (``agents`` lists the plan's)
    PLAN_PROBLEMS = "plan-problems"  # the amended plan does not parse (e.g. an empty territory)
    PREFLIGHT = "preflight"  # the amended plan fails the pre-flight (overlaps with witnesses …)
    NOT_EDITABLE = "not-editable"  # the plan's layout could not be edited without touching more


@dataclass(frozen=True)
class AmendRefused:
    """Why the change was not made; nothing changed. ``problems`` are the parse or pre-flight
    problems of the old body (``plan-invalid``) or of the amended one; ``agents`` the plan's
    agent names for ``unknown-agent``."""

    change: TerritoryChange
    reason: Refusal
    problems: tuple[Problem, ...] = ()
    agents: tuple[str, ...] = ()

    @property
    def overlaps(self) -> tuple[Problem, ...]:
        """The pre-flight's ``overlap`` problems: each names both agents and every witness."""
        return tuple(p for p in self.problems if p.code == "overlap")


# --------------------------------------------------------------------------- entry points


def amend(body: str | None, change: TerritoryChange) -> Amended | AmendRefused:
    """``body`` with ``change`` applied to its plan, read back with ``parse_plan`` (no overlap
    analysis: see ``amend_checked``). Never raises: a layout the editor cannot handle is refused
    as ``not-editable``, and the body is left as it is."""
    try:
        return _amend(body, change)
    except Exception:  # an editor bug must refuse the change, never take the job down
        return AmendRefused(change, Refusal.NOT_EDITABLE)


def _amend(body: str | None, change: TerritoryChange) -> Amended | AmendRefused:
    old = parse_plan(body)
    if isinstance(old, list):
        return AmendRefused(change, Refusal.PLAN_INVALID, tuple(old))
    agent = old.agent(change.agent)
    if agent is None or body is None:
        return AmendRefused(change, Refusal.UNKNOWN_AGENT, agents=old.names)
    if change.action is Action.GRANT:
        present = {_norm(p) for p in agent.territory}
        already = tuple(p for p in change.patterns if _norm(p) in present)
        new = _first_of_each(p for p in change.patterns if _norm(p) not in present)
        expected = (*agent.territory, *new)
        edited = _grant(body, old, change, new) if new else body
        return _read_back(change, old, edited, expected, added=new, already=already)
    gone = {_norm(p) for p in change.patterns}
    removed = tuple(p for p in agent.territory if _norm(p) in gone)
    already = tuple(p for p in change.patterns if _norm(p) not in {_norm(r) for r in removed})
    expected = tuple(p for p in agent.territory if _norm(p) not in gone)
    edited = _revoke(body, old, change, removed)
    return _read_back(change, old, edited, expected, removed=removed, already=already)


def amend_checked(body: str | None, change: TerritoryChange, config: RepoConfig = RepoConfig(),
                  repo_paths: Sequence[str] = ()) -> Amended | AmendRefused:
    """``amend``, then the full pre-flight (``plan.preflight`` with the repository ``config`` and
    the base tree's ``repo_paths``) on the amended body. A grant whose patterns meet the territory
    of an agent that may run at the same time is refused with reason ``preflight`` and the
    overlap problems (their witnesses, real files first); nothing changed then. Never raises."""
    result = amend(body, change)
    if isinstance(result, AmendRefused) or not result.changed:
        return result
    checked = preflight(result.body, config, repo_paths)
    if isinstance(checked, list):
        return AmendRefused(change, Refusal.PREFLIGHT, tuple(checked))
    return replace(result, plan=checked)


def _norm(pattern: str) -> str:
    return pattern[1:] if pattern.startswith("/") else pattern


def _first_of_each(patterns: Iterable[str]) -> tuple[str, ...]:
    """The patterns in order, without later ones that name the same pattern (``/x/`` after ``x/``)."""
    kept: dict[str, str] = {}
    for p in patterns:
        kept.setdefault(_norm(p), p)
    return tuple(kept.values())


def _read_back(change: TerritoryChange, old: Plan, edited: str | None, expected: tuple[str, ...], *,
               added: tuple[str, ...] = (), removed: tuple[str, ...] = (),
               already: tuple[str, ...] = ()) -> Amended | AmendRefused:
    if edited is None:
        return AmendRefused(change, Refusal.NOT_EDITABLE)
    new = parse_plan(edited)
    if isinstance(new, list):
        return AmendRefused(change, Refusal.PLAN_PROBLEMS, tuple(new))
    agent = new.agent(change.agent)
    if agent is None or agent.territory != expected or _meaning(new, change.agent) != _meaning(old, change.agent):
        return AmendRefused(change, Refusal.NOT_EDITABLE)
    return Amended(change, edited, new, added, removed, already)


def _meaning(plan: Plan, agent: str) -> Plan:
    """The plan without lines and without ``agent``'s territory: what an edit must not change."""
    agents = tuple(replace(a, line=None, territory=() if a.name == agent else a.territory)
                   for a in plan.agents)
    return replace(plan, agents=agents)


# --------------------------------------------------------------------------- the body's text


@dataclass(frozen=True)
class _Text:
    """The body as lines with their own line endings, and where each line starts."""

    lines: tuple[str, ...]
    ends: tuple[str, ...]
    starts: tuple[int, ...]

    @classmethod
    def of(cls, body: str) -> _Text:
        parts = _BREAK.split(body)
        ends = tuple(m.group(0) for m in _BREAK.finditer(body)) + ("",)
        starts, at = [], 0
        for line, end in zip(parts, ends, strict=True):
            starts.append(at)
            at += len(line) + len(end)
        return cls(tuple(parts), ends, tuple(starts))

    def end_of(self, index: int) -> int:
        """Offset just after line ``index``'s text (before its line ending)."""
        return self.starts[index] + len(self.lines[index])

    def after(self, index: int) -> int:
        """Offset of the line after ``index`` (the body's end for the last line)."""
        return self.end_of(index) + len(self.ends[index])

    def newline(self, index: int) -> str:
        """The line ending to use for a line inserted after line ``index``."""
        return self.ends[index] or next((e for e in self.ends if e), "\n")


def _apply(body: str, edits: list[tuple[int, int, str]]) -> str:
    """``body`` with each ``(start, end, text)`` replacement; the spans must not overlap."""
    for start, end, text in sorted(edits, reverse=True):
        body = body[:start] + text + body[end:]
    return body


# --------------------------------------------------------------------------- grant


def _grant(body: str, plan: Plan, change: TerritoryChange, new: tuple[str, ...]) -> str | None:
    if plan.form == "prose":
        return _grant_prose(body, change, new)
    found = _yaml_territory(body, change.agent)
    if found is None:
        return None
    text, block, node = found
    note = "  # " + grant_note_yaml(change.by, change.reason)
    if isinstance(node, SequenceNode) and node.flow_style:
        return _grant_flow(body, text, block, node, new, note)
    if isinstance(node, SequenceNode) and node.value:
        return _grant_block(body, text, block, node, new, note)
    if isinstance(node, ScalarNode) and (value := yn.as_str(node)) is not None:
        start, end = block.offset(node.start_mark), block.offset(node.end_mark)
        items = ", ".join(_scalar(p) for p in (value.strip(), *new))
        line = block.line(node.end_mark.line)
        return _apply(body, [(start, end, f"[{items}]"), (text.end_of(line), text.end_of(line), note)])
    return None


def _grant_flow(body: str, text: _Text, block: _Block, node: SequenceNode, new: tuple[str, ...],
                note: str) -> str:
    items = ", ".join(_scalar(p) for p in new)
    if node.value:
        at, insert = block.offset(node.value[-1].end_mark), ", " + items
    else:
        at, insert = block.offset(node.start_mark) + 1, items
    line = block.line(node.end_mark.line)
    return _apply(body, [(at, at, insert), (text.end_of(line), text.end_of(line), note)])


def _grant_block(body: str, text: _Text, block: _Block, node: SequenceNode, new: tuple[str, ...],
                 note: str) -> str | None:
    last = node.value[-1]
    end = last.end_mark.line if last.end_mark.column > 0 else last.end_mark.line - 1
    index = block.line(end)
    dash = text.lines[block.line(last.start_mark.line)][: block.column(last.start_mark)]
    prefix = dash if _DASH_ONLY.match(dash) else " " * block.column(node.start_mark) + "- "
    nl = text.newline(index)
    at = text.end_of(index)
    return _apply(body, [(at, at, "".join(f"{nl}{prefix}{_scalar(p)}{note}" for p in new))])


def _grant_prose(body: str, change: TerritoryChange, new: tuple[str, ...]) -> str | None:
    text = _Text.of(body)
    items = _prose_items(body, change.agent)
    if not items:
        return None
    index = items[-1].line - 1
    item = _LIST_ITEM.match(text.lines[index])
    lines = []
    for offset, pattern in enumerate(new, start=1):
        if "`" in pattern:
            return None  # a code span cannot hold it, and a bare word would lose the note
        lines.append(f"{_prose_prefix(item, offset)}`{pattern}` {grant_note_prose(change.by, change.reason)}")
    nl = text.newline(index)
    at = text.end_of(index)
    return _apply(body, [(at, at, "".join(nl + line for line in lines))])


def _prose_prefix(item: re.Match[str] | None, offset: int) -> str:
    """The list marker of a new item after ``item`` (the next number of a numbered list)."""
    if item is None:
        return "- "
    if item["number"]:
        return f"{item['indent']}{int(item['number']) + offset}{item['delim']}{item['gap']}"
    return f"{item['indent']}{item['bullet']}{item['gap']}"


def _prose_items(body: str, agent: str) -> list:
    draft = read_prose_plan(body_lines(body))
    return next((list(a.territory) for a in draft.agents if a.name == agent), [])


# --------------------------------------------------------------------------- revoke


def _revoke(body: str, plan: Plan, change: TerritoryChange, removed: tuple[str, ...]) -> str | None:
    """The body without ``removed``, taken out one at a time (each edit re-reads the body, so
    the spans of one removal never depend on another)."""
    current: str | None = body
    for pattern in removed:
        if current is None:
            return None
        remove = _revoke_prose if plan.form == "prose" else _revoke_yaml
        current = remove(current, change.agent, pattern)
    return current


def _revoke_yaml(body: str, agent: str, pattern: str) -> str | None:
    found = _yaml_territory(body, agent)
    if found is None:
        return None
    text, block, node = found
    if isinstance(node, ScalarNode):
        return _apply(body, [(block.offset(node.start_mark), block.offset(node.end_mark), "[]")])
    if not isinstance(node, SequenceNode):
        return None
    index = next((i for i, n in enumerate(node.value) if _norm(yn.as_str(n) or "") == _norm(pattern)), None)
    if index is None:
        return None
    items = node.value
    if node.flow_style:
        if index > 0:
            span = (block.offset(items[index - 1].end_mark), block.offset(items[index].end_mark))
        elif len(items) > 1:
            span = (block.offset(items[0].start_mark), block.offset(items[1].start_mark))
        else:
            span = (block.offset(items[0].start_mark), block.offset(items[0].end_mark))
        return _apply(body, [(*span, "")])
    return _remove_block_item(body, text, block, items[index])


def _remove_block_item(body: str, text: _Text, block: _Block, item: Node) -> str | None:
    first = block.line(item.start_mark.line)
    prefix = text.lines[first][: block.column(item.start_mark)]
    if not _DASH_ONLY.match(prefix):
        if prefix.strip() or first == 0 or not _DASH_ONLY.match(text.lines[first - 1]):
            return None
        first -= 1  # `-` alone on its line, the item on the next
    end = item.end_mark.line if item.end_mark.column > 0 else item.end_mark.line - 1
    last = block.line(end)
    if last == len(text.lines) - 1 or not text.ends[last]:
        return None  # a dispatch block always closes below its items
    return _apply(body, [(text.starts[first], text.after(last), "")])


def _revoke_prose(body: str, agent: str, pattern: str) -> str | None:
    text = _Text.of(body)
    items = _prose_items(body, agent)
    for item in items:
        if _norm(item.value) != _norm(pattern):
            continue
        index = item.line - 1
        alone = sum(1 for other in items if other.line == item.line) == 1
        if alone and _LIST_ITEM.match(text.lines[index]):
            return _apply(body, [(text.starts[index], text.after(index), "")])
        return _remove_inline(body, text, index, pattern)
    return None


def _remove_inline(body: str, text: _Text, index: int, pattern: str) -> str | None:
    """Remove ``pattern`` from a label line's comma list (``Authorized files: a, b``)."""
    match = _LABEL_INLINE.match(text.lines[index])
    if match is None:
        return None
    pieces = match["inline"].split(",")
    kept = [p for p in pieces if not p.strip() or _norm(_piece_value(p)) != _norm(pattern)]
    if len(kept) == len(pieces):
        return None
    line = match["head"] + ",".join(kept)
    return _apply(body, [(text.starts[index], text.end_of(index), line)])


def _piece_value(piece: str) -> str:
    piece = piece.strip()
    tick = _BACKTICK_START.match(piece)
    return tick.group(1).strip() if tick else piece.split()[0].rstrip(",;")


# --------------------------------------------------------------------------- YAML nodes


@dataclass(frozen=True)
class _Block:
    """Maps marks of the dispatch block's YAML (lines and columns of the dedented content) to
    offsets of the body."""

    text: _Text
    fence: Fence

    def line(self, content_line: int) -> int:
        """0-based body line of a 0-based content line."""
        return self.fence.open_line + content_line

    def column(self, mark) -> int:
        """Body column of a mark (the fence's indentation, removed from the content, added back)."""
        index = self.line(mark.line)
        return len(self.text.lines[index]) - len(self.fence.lines[mark.line]) + mark.column

    def offset(self, mark) -> int:
        return self.text.starts[self.line(mark.line)] + self.column(mark)


def _yaml_territory(body: str, agent: str) -> tuple[_Text, _Block, Node] | None:
    """The body's lines, the dispatch block and the ``territory`` value node of ``agent``."""
    blocks = [f for f in fences(body_lines(body)) if f.is_dispatch]
    if not blocks:
        return None
    try:
        root = yn.compose("\n".join(blocks[0].lines))
    except yn.YamlProblem:
        return None
    text = _Text.of(body)
    node = _agent_entry(root, agent, "territory")
    return (text, _Block(text, blocks[0]), node) if node is not None else None


def _entry(node: Node | None, key: str) -> Node | None:
    if not isinstance(node, MappingNode):
        return None
    return next((e.value for e in yn.entries(node)[0] if e.key == key), None)


def _agent_entry(root: Node | None, agent: str, key: str) -> Node | None:
    agents = _entry(root, "agents")
    if not isinstance(agents, SequenceNode):
        return None
    for node in agents.value:
        name = _entry(node, "name")
        if name is not None and (yn.as_str(name) or "").strip() == agent:
            return _entry(node, key)
    return None


def _scalar(pattern: str) -> str:
    """``pattern`` as a YAML scalar that reads back as exactly that string in a block list item
    followed by a comment and in a flow list: plain when it does, else double-quoted (JSON string
    syntax is valid YAML)."""
    for probe in (f"- {pattern}  # c", f"[{pattern}]"):
        try:
            node = yn.compose(probe)
        except yn.YamlProblem:
            break
        if not isinstance(node, SequenceNode) or len(node.value) != 1 or yn.as_str(node.value[0]) != pattern:
            break
    else:
        return pattern
    return json.dumps(pattern, ensure_ascii=False)
