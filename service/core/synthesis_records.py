"""The records a proposed plan is made of and explained by (``wavegate plan``). Frozen, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from .findings import Finding
from .model import Plan, Problem
from .synthesis_refs import Notice


@dataclass(frozen=True)
class ProposedAgent:
    """One agent of a proposal.

    ``keys``: the files, folders and globs its findings reference (before folders were written
    compactly); ``territory``: the patterns of the plan; ``findings``: finding numbers;
    ``parts``: how many groups sharing no file were merged into it to respect the agent limit;
    ``tests``: True for the testing agent.
    """

    name: str
    wave: int
    territory: tuple[str, ...]
    findings: tuple[int, ...]
    keys: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    parts: int = 1
    tests: bool = False


@dataclass(frozen=True)
class Consolidation:
    """A file that findings of different ``categories`` reference, owned by ``agent`` of ``wave``."""

    path: str
    categories: tuple[str, ...]
    agent: str
    wave: int


@dataclass(frozen=True)
class Sharing:
    """A file owned by agents of different waves (``owners``: (wave, agent) in wave order):
    allowed, since each wave starts from the previous wave's merge."""

    path: str
    owners: tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class Move:
    """A finding placed in a later wave than its priority's: ``reason`` is ``testing`` (tests
    run after the code they test; ``after`` names the agents of that wave it waits for) or
    ``no-priority`` (``priority_wave`` is then None)."""

    finding: int
    priority_wave: int | None
    wave: int
    reason: str
    agent: str
    after: tuple[str, ...] = ()


@dataclass(frozen=True)
class Together:
    """Two files changed together in ``commits`` commits, kept in one ``agent``."""

    path_a: str
    path_b: str
    commits: int
    agent: str


@dataclass(frozen=True)
class Proposal:
    """A proposed plan from findings, with its explanation.

    ``plan`` and ``block`` (the ```` ```yaml dispatch ```` block) are set only when the plan
    passed the exact pre-flight; otherwise ``problems`` says why no plan is shown. ``unplaced``
    are the findings without a usable file reference. ``limit``: agents per wave at most;
    ``repo``: whether references were checked against a checkout.
    """

    findings: tuple[Finding, ...]
    agents: tuple[ProposedAgent, ...]
    limit: int
    plan: Plan | None = None
    block: str = ""
    problems: tuple[Problem, ...] = ()
    consolidations: tuple[Consolidation, ...] = ()
    sharings: tuple[Sharing, ...] = ()
    moves: tuple[Move, ...] = ()
    together: tuple[Together, ...] = ()
    notices: tuple[Notice, ...] = ()
    unplaced: tuple[int, ...] = ()
    repo: bool = False
    folders: str = "all-waves"

    @property
    def ok(self) -> bool:
        """True when a plan is proposed (it passed the pre-flight)."""
        return self.plan is not None

    @property
    def waves(self) -> tuple[int, ...]:
        return tuple(sorted({a.wave for a in self.agents}))

    def finding(self, number: int) -> Finding:
        return self.findings[number - 1]
