"""A plan as read, before its meaning is checked: what each form (YAML or prose) could read, with
lines, and the structural problems met on the way. Only ``plan.parse_plan`` turns a draft without
problems into a frozen ``Plan``."""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import Problem

AGENT_KEYS = ("name", "wave", "branch", "territory", "findings", "do_not_modify", "after")
TOP_KEYS = ("base", "strict", "agents")


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
    do_not_modify: list[Item] = field(default_factory=list)
    after: list[Item] = field(default_factory=list)
    broken: set[str] = field(default_factory=set)


@dataclass
class PlanDraft:
    form: str
    agents: list[AgentDraft] = field(default_factory=list)
    base: str | None = None
    base_line: int | None = None
    strict: bool | None = None
    problems: list[Problem] = field(default_factory=list)
