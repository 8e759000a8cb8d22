"""Stage 1 of the prose form (DESIGN §2.2): Markdown headings ``Agent: NAME`` read into a
``PlanDraft``.

An agent is an ATX heading of any level, ``## Agent: security (wave 2) (after arch-perf)``
(``(wave 2, after a, b)`` works too). Below it, up to the next heading of the same or a higher
level, labelled lists give its fields: ``Authorized files:``, ``Findings to fix:``,
``Do not modify:`` (case-insensitive, colon optional, plain, bold or as a heading). Items are
``- x``, ``* x``, ``+ x``, ``1. x`` or ``1) x``; a label may also carry its items inline,
comma-separated. Path items keep the first backtick span (or the first word) and drop the
comment after it, so ``- `broker/main.py` (architecture owns this)`` reads ``broker/main.py``;
a path with spaces must be in backticks. Findings are kept verbatim; indented lines continue an
item. A label line that is a near miss of a known one (``Authorised files:``) is a problem, so a
misspelt list is never dropped silently. Fenced code blocks are skipped.
"""

from __future__ import annotations

import difflib
import re

from .model import Problem
from .plan_draft import MAX_FINDING_LENGTH, AgentDraft, Item, PlanDraft, bounded_wave
from .plan_source import fences

_HEADING = re.compile(r"^ {0,3}(?P<hashes>#{1,6})(?:[ \t]+(?P<text>.*?))?(?:[ \t]+#+)?[ \t]*$")
_AGENT = re.compile(r"^agent\s*:\s*(?P<rest>.*)$", re.IGNORECASE)
_AGENT_REST = re.compile(r"^`?(?P<name>[^\s()`]+)`?\s*(?P<suffixes>(?:\([^()]*\)\s*)*)$")
_SUFFIX = re.compile(r"\(([^()]*)\)")
_WAVE_FIRST = re.compile(r"\s*wave\s*:?\s*(?P<wave>\S+?)\s*(?:[,;]\s*after\s*:?\s*(?P<after>.+?))?\s*",
                         re.IGNORECASE)
_AFTER_FIRST = re.compile(r"\s*after\s*:?\s*(?P<after>.+?)\s*(?:[,;]\s*wave\s*:?\s*(?P<wave>\S+?))?\s*",
                          re.IGNORECASE)
_ITEM = re.compile(r"^(?P<indent>\s*)(?:[-*+]|\d{1,9}[.)])(?:\s+(?P<text>.*))?$")
_LABEL_LINE = re.compile(r"^(?P<label>[A-Za-z][A-Za-z \-]{0,40}?)\s*(?::\s*(?P<inline>.*))?$")
_BACKTICKS = re.compile(r"`([^`]+)`")

LABELS = {
    "authorized files": "territory",
    "findings to fix": "findings",
    "do not modify": "do_not_modify",
}
_LABEL_NAMES = {v: k for k, v in LABELS.items()}


def has_agent_headings(lines: list[str]) -> bool:
    """True when some line outside code blocks is an ``Agent: NAME`` heading."""
    return first_agent_heading(lines) is not None


def first_agent_heading(lines: list[str]) -> int | None:
    """The 1-based line of the first ``Agent: NAME`` heading outside code blocks, or None."""
    return next((n for n, line in _outside_fences(lines) if _agent_heading(line) is not None), None)


def read_prose_plan(lines: list[str]) -> PlanDraft:
    """The draft of the prose plan in the body's ``lines``. Never raises."""
    reader = _ProseReader(PlanDraft(form="prose"))
    for number, raw in _outside_fences(lines):
        reader.line(number, raw)
    return reader.draft


class _ProseReader:
    """One pass over the body's lines: the agent being read, its heading level, the list label
    in force, and the item a continuation line extends."""

    def __init__(self, draft: PlanDraft) -> None:
        self.draft = draft
        self.current: AgentDraft | None = None
        self.level = 0
        self.label: str | None = None
        self.last: tuple[str, int] | None = None  # (field, index) of the item a continuation extends

    def line(self, number: int, raw: str) -> None:
        heading = _HEADING.match(raw)
        agent_text = _agent_heading(raw)
        if agent_text is not None:
            self.current = _start_agent(self.draft, agent_text, number)
            self.level = len(heading["hashes"]) if heading else 1
            self.label, self.last = None, None
        elif self.current is not None and raw.strip():
            self._agent_line(self.current, number, raw, heading)

    def _agent_line(self, current: AgentDraft, number: int, raw: str, heading: re.Match[str] | None) -> None:
        text = _unwrap(raw)
        found = _label(text)
        if found is not None:
            field, inline = found
            self.label, self.last = field, None
            for piece in (p for p in inline.split(",") if p.strip()) if inline else ():
                _add(current, field, piece, number)
        elif heading:
            self._heading(current, number, text, heading)
        elif item := _ITEM.match(raw):
            if self.label and item["text"] and item["text"].strip():
                _add(current, self.label, item["text"], number)
                self.last = (self.label, len(getattr(current, self.label)) - 1)
        elif raw.startswith((" ", "\t")) and self.last is not None and self.last[0] == "findings":
            # Past the limit the finding is refused anyway: stop growing it (each `+=` copies it).
            if len(current.findings[self.last[1]]) <= MAX_FINDING_LENGTH:
                current.findings[self.last[1]] += " " + raw.strip()
        else:  # any other paragraph ends the current list
            _near_miss(self.draft, current, text, number)
            self.label, self.last = None, None

    def _heading(self, current: AgentDraft, number: int, text: str, heading: re.Match[str]) -> None:
        if len(heading["hashes"]) <= self.level:
            self.current = None
        else:
            _near_miss(self.draft, current, text, number)
        self.label, self.last = None, None


def _outside_fences(lines: list[str]):
    skip: set[int] = set()
    for f in fences(lines):
        skip.update(range(f.open_line, f.last_line + 1))
    return ((i + 1, line) for i, line in enumerate(lines) if i + 1 not in skip)


def _agent_heading(line: str) -> str | None:
    heading = _HEADING.match(line)
    if not heading or not heading["text"]:
        return None
    m = _AGENT.match(_unwrap(heading["text"]))
    return m["rest"] if m else None


def _unwrap(text: str) -> str:
    """Text without heading hashes and bold/italic markers around words."""
    text = text.strip()
    text = re.sub(r"^#{1,6}\s+", "", text)
    return re.sub(r"(\*\*|__|(?<!\w)[*_]|[*_](?!\w))", "", text).strip()


def _label(text: str) -> tuple[str, str] | None:
    m = _LABEL_LINE.match(text)
    if not m:
        return None
    key = " ".join(m["label"].lower().replace("-", " ").split())
    field = LABELS.get(key)
    return (field, m["inline"] or "") if field else None


def _near_miss(draft: PlanDraft, agent: AgentDraft, text: str, line: int) -> None:
    """A label-like line that is not a known label: a problem when it is close to one."""
    m = _LABEL_LINE.match(text)
    if m and m["inline"] is not None and not m["inline"].strip():
        key = " ".join(m["label"].lower().replace("-", " ").split())
        close = difflib.get_close_matches(key, list(LABELS), n=1, cutoff=0.75)
        if close:
            draft.problems.append(Problem(
                "unknown-key",
                f"unknown label `{m['label'].strip()}:`; did you mean `{close[0].capitalize()}:`?",
                f"rename the label to `{close[0].capitalize()}:`",
                agent.name, LABELS[close[0]], line))


def _add(agent: AgentDraft, field: str, text: str, line: int) -> None:
    text = text.strip()
    if field == "findings":
        agent.findings.append(text)
        agent.finding_lines.append(line)
        return
    tick = _BACKTICKS.match(text)
    value = tick.group(1).strip() if tick else text.split()[0].rstrip(",;")
    getattr(agent, field).append(Item(value, line))


def _start_agent(draft: PlanDraft, rest: str, line: int) -> AgentDraft:
    agent = AgentDraft(line=line)
    draft.agents.append(agent)
    m = _AGENT_REST.match(rest.strip())
    if not m:
        agent.broken.add("name")
        draft.problems.append(Problem(
            "malformed-heading", f"cannot read the agent heading `Agent: {rest.strip()}`",
            "write `Agent: NAME`, optionally followed by `(wave N)` and `(after a, b)`",
            None, "name", line))
        return agent
    agent.name = m["name"]
    for content in _SUFFIX.findall(m["suffixes"]):
        suffix = _WAVE_FIRST.fullmatch(content) or _AFTER_FIRST.fullmatch(content)
        if suffix is None:
            draft.problems.append(Problem(
                "malformed-heading", f"cannot read `({content})` after the agent's name",
                "use `(wave N)` and `(after a, b)`", agent.name, None, line))
            continue
        if suffix["wave"] is not None:
            # ASCII digits only: `str.isdigit` also accepts `²`, which `int` refuses.
            if re.fullmatch(r"[0-9]+", suffix["wave"]):
                agent.wave, agent.wave_line = bounded_wave(suffix["wave"]), line
            else:
                agent.broken.add("wave")
                draft.problems.append(Problem(
                    "wrong-type", f"`wave` must be a whole number ≥ 1, not `{suffix['wave']}`",
                    "write e.g. `(wave 2)`", agent.name, "wave", line))
        if suffix["after"] is not None:
            names = [n.strip("`") for n in re.split(r"[,\s]+", suffix["after"]) if n]
            agent.after.extend(Item(n, line) for n in names if n.lower() != "and")
    return agent
