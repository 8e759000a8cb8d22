"""A plan as read, before its meaning is checked: what each form (YAML or prose) could read, with
lines, and the structural problems met on the way. Only ``plan.parse_plan`` turns a draft without
problems into a frozen ``Plan``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .model import Problem

if TYPE_CHECKING:
    from .launch import LaunchSettings

AGENT_KEYS = ("name", "wave", "branch", "territory", "findings", "do_not_modify", "after", "launch")
TOP_KEYS = ("base", "strict", "agents")
MAX_AGENTS = 100
MAX_PATTERNS = 1000  # territory and do_not_modify patterns of all agents together
# Waves are numbered 1, 2, 3 … without gaps and each holds at least one agent, so no valid plan has
# a wave past its agent limit; a larger number is refused before any work grows with it.
MAX_WAVE = MAX_AGENTS
MAX_WAVE_DIGITS = 6  # longer digit strings are not turned into numbers at all (past MAX_WAVE anyway)
MAX_FINDING_LENGTH = 2_000  # characters of one finding (it is quoted in the dispatch prompt)
# YAML values (scalars, lists, mappings) in a dispatch block. A plan at the two limits above,
# with a dozen findings per agent, holds about 4,000; the cap bounds the work a 256 KiB block of
# one-character list items could cause.
MAX_YAML_VALUES = 10_000


def too_many_agents(line: int | None) -> Problem:
    """The plan has more than ``MAX_AGENTS`` agents; ``line`` is where the first one past the
    limit starts."""
    return Problem("too-many-agents", f"the plan has more than {MAX_AGENTS} agents, the most one plan may have",
                   "split the work into several dispatch issues", None, "agents", line)


def too_many_patterns(line: int | None) -> Problem:
    """The plan has more than ``MAX_PATTERNS`` territory and DO-NOT-MODIFY patterns; ``line``
    is where the first one past the limit is."""
    return Problem("too-many-patterns",
                   f"the plan has more than {MAX_PATTERNS:,} patterns, the most one plan may have",
                   "use directory patterns (`src/api/`) instead of listing files one by one",
                   None, "territory", line)


def too_many_values(line: int | None) -> Problem:
    """The dispatch block holds more than ``MAX_YAML_VALUES`` YAML values; ``line`` is where the
    first one past the limit starts."""
    return Problem("plan-too-large",
                   f"the dispatch block holds more than {MAX_YAML_VALUES:,} values (names, patterns, "
                   "findings, keys), far more than a plan at its limits needs",
                   "keep findings short and few: link to issues for the details", None, None, line)


def too_long_finding(agent: str | None, line: int | None) -> Problem:
    """One finding is longer than ``MAX_FINDING_LENGTH`` characters."""
    return Problem("finding-too-long",
                   f"a finding is longer than {MAX_FINDING_LENGTH:,} characters, the most one finding may have",
                   "keep the finding to a line or two and link to an issue for the details",
                   agent, "findings", line)


def bounded_wave(value: int | str) -> int:
    """A wave as written (an int, or a string of ASCII digits), with every number past ``MAX_WAVE``
    read as ``MAX_WAVE + 1``: the meaning check refuses it, and no later step does work that grows
    with it. A long digit string is never converted (Python refuses past 4,300 digits)."""
    if isinstance(value, str):
        value = int(value) if len(value) <= MAX_WAVE_DIGITS else MAX_WAVE + 1
    return min(value, MAX_WAVE + 1)


@dataclass
class Item:
    """One list entry (a pattern or an agent name) and its 1-based line in the body."""

    value: str
    line: int | None = None


@dataclass
class AgentDraft:
    """What could be read of one agent. ``broken`` names the fields that were written but could
    not be read (already reported): meaning checks skip them instead of reporting twice, and the
    plan is refused anyway."""

    line: int | None
    name: str | None = None
    wave: int = 1
    wave_line: int | None = None
    branch: str | None = None
    branch_line: int | None = None
    territory: list[Item] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    field_lines: dict[str, int | None] = field(default_factory=dict)  # key → line of `key:`
    finding_lines: list[int | None] = field(default_factory=list)
    do_not_modify: list[Item] = field(default_factory=list)
    after: list[Item] = field(default_factory=list)
    launch: LaunchSettings | None = None  # the agent's own `launch:`, laid over the repository's
    broken: set[str] = field(default_factory=set)


@dataclass
class PlanDraft:
    form: str
    agents: list[AgentDraft] = field(default_factory=list)
    base: str | None = None
    base_line: int | None = None
    strict: bool | None = None
    problems: list[Problem] = field(default_factory=list)
