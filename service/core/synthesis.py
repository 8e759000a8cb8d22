"""``wavegate plan``: propose a dispatch plan from a list of findings (DESIGN §5), proved by the
exact pre-flight before it is shown. Pure: the repository's facts are passed in.

Steps: read the findings (``findings``); resolve their references to keys (``synthesis_refs``);
group them by wave (``synthesis_layout``); name the agents and write their territories
(``synthesis_territory``); render the plan block (``report_synthesis``) and run
``plan.preflight`` on it. A plan that does not pass is never returned: the proposal is retried
with every file written literally, and if that fails too the proposal carries the problems.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from . import report_synthesis
from .findings import Finding, read_findings
from .model import Plan, RepoConfig
from .plan import preflight
from .synthesis_layout import Layout, layout
from .synthesis_records import Consolidation, Move, Proposal, ProposedAgent, Sharing, Together
from .synthesis_refs import RepoFacts, Resolution, is_glob, resolve
from .synthesis_territory import FOLDERS
from .synthesis_territory import agents as make_agents

DEFAULT_AGENTS = 4


def propose(text: str, *, limit: int = DEFAULT_AGENTS, repo: RepoFacts | None = None,
            config: RepoConfig = RepoConfig()) -> Proposal:
    """A proposal for the findings list ``text`` (Markdown), at most ``limit`` (≥ 1) agents per
    wave. ``repo``: the checkout's tracked files and recent commits, or None to take references
    as written. ``config.protected`` paths are never given to an agent. Never raises for any
    ``text``; raises ``ValueError`` only for ``limit`` < 1."""
    return propose_findings(read_findings(text), limit=limit, repo=repo, config=config)


def propose_findings(findings: Sequence[Finding], *, limit: int = DEFAULT_AGENTS,
                     repo: RepoFacts | None = None, config: RepoConfig = RepoConfig()) -> Proposal:
    """``propose`` for findings already read (``findings.read_findings``)."""
    if limit < 1:
        raise ValueError(f"the agent limit must be at least 1, not {limit}")
    findings = tuple(findings)
    resolution = resolve(findings, repo, config.protected)
    placed = [f for f in findings if resolution.keys[f.number]]
    unplaced = tuple(f.number for f in findings if not resolution.keys[f.number])
    base = Proposal(findings=findings, agents=(), limit=limit, notices=resolution.notices,
                    unplaced=unplaced, repo=repo is not None)
    if not placed:
        return base
    shape = layout(placed, resolution.keys, limit, resolution.cochange)
    return _verified(base, shape, resolution, repo, config)


def _verified(base: Proposal, shape: Layout, resolution: Resolution, repo: RepoFacts | None,
              config: RepoConfig) -> Proposal:
    """The first arrangement of territories (``synthesis_territory.FOLDERS``) whose plan passes
    the pre-flight; else the proposal with the last pre-flight's problems and no plan."""
    tracked = repo.tracked if repo else ()
    problems: tuple = ()
    agents: tuple[ProposedAgent, ...] = ()
    # A reference to a file that does not exist is kept as written, never widened to its folder.
    missing = frozenset(n.reference for n in resolution.notices if n.kind == "missing")
    for folders in FOLDERS:
        agents = make_agents(shape.groups, config.protected, folders, missing)
        block = report_synthesis.plan_block(agents, base.findings)
        checked = preflight(block, config, tracked)
        if isinstance(checked, Plan):
            return _explained(base, agents, shape, resolution, plan=checked, block=block, folders=folders)
        problems = tuple(checked)
    return _explained(base, agents, shape, resolution, problems=problems)


def _explained(base: Proposal, agents: tuple[ProposedAgent, ...], shape: Layout, resolution: Resolution,
               **result) -> Proposal:
    by_finding = {n: a for a in agents for n in a.findings}
    return Proposal(
        findings=base.findings, agents=agents, limit=base.limit, notices=base.notices,
        unplaced=base.unplaced, repo=base.repo,
        consolidations=consolidations(agents, base.findings, resolution),
        sharings=sharings(agents),
        moves=moves(shape, by_finding),
        together=tuple(Together(a, b, n, by_key(agents, a, wave)) for a, b, n, wave in shape.joined),
        **result,
    )


def by_key(agents: Sequence[ProposedAgent], key: str, wave: int) -> str:
    """The agent of ``wave`` whose keys hold ``key``."""
    return next((a.name for a in agents if a.wave == wave and key in a.keys), "")


def consolidations(agents: Sequence[ProposedAgent], findings: Sequence[Finding],
                   resolution: Resolution) -> tuple[Consolidation, ...]:
    """Every literal file that findings of different categories reference, per agent owning it."""
    out = []
    for agent in agents:
        categories: dict[str, list[str]] = defaultdict(list)
        for number in agent.findings:
            category = findings[number - 1].category
            for key in resolution.keys[number]:
                if category and not is_glob(key) and category not in categories[key]:
                    categories[key].append(category)
        out += [Consolidation(k, tuple(c), agent.name, agent.wave) for k, c in categories.items() if len(c) > 1]
    return tuple(sorted(out, key=lambda c: (c.wave, c.path)))


def sharings(agents: Sequence[ProposedAgent]) -> tuple[Sharing, ...]:
    """Every key owned by agents of different waves."""
    owners: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for agent in agents:
        for key in agent.keys:
            owners[key].append((agent.wave, agent.name))
    return tuple(Sharing(k, tuple(sorted(o))) for k, o in sorted(owners.items())
                 if len({w for w, _ in o}) > 1)


def moves(shape: Layout, by_finding: dict[int, ProposedAgent]) -> tuple[Move, ...]:
    """The findings placed after their priority's wave, with why."""
    out = []
    for number, (was, wave) in sorted(shape.moved.items()):
        agent = by_finding[number]
        reason = "testing" if agent.tests else "no-priority"
        out.append(Move(number, was, wave, reason, agent.name, agent.after))
    return tuple(out)
