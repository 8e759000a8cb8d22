"""The parallelism dividend, measured honestly (DESIGN §3.6): the time agents actually worked
against the wall clock from dispatch to the last merge, with the critical path wave by wave.

An agent's work is the sum of its runs, each from its start to its end; when no run is known (an
agent started by hand, by a mention, or by the coding agent), from its start (the launch, else
its PR's opening) to its PR's last push. The time a PR waited for its gate or a review is not
work. Pure: times are UTC ``datetime``s given by the caller, durations are seconds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from .model import AgentRow, PrState


class WorkSource(StrEnum):
    RUNS = "runs"  # the sum of the agent's runs, start to end
    LAST_PUSH = "last-push"  # from its start to its PR's last push
    UNKNOWN = "unknown"  # neither is known: left out of the sums


@dataclass(frozen=True)
class AgentWork:
    """What is known of one agent's work. ``runs``: (start, end) of each completed run of the
    agent (every attempt counts); ``started_at``: its launch, else its PR's opening; ``last_push_at``:
    the PR's last push; ``merged_at``: its merge (None: not merged); ``skipped``: ``/wavegate skip``."""

    agent: str
    wave: int
    runs: tuple[tuple[datetime, datetime], ...] = ()
    started_at: datetime | None = None
    last_push_at: datetime | None = None
    merged_at: datetime | None = None
    skipped: bool = False


@dataclass(frozen=True)
class AgentSpan:
    """One agent's measured work: ``seconds`` (None when unknown) and how it was measured."""

    agent: str
    wave: int
    seconds: float | None
    source: WorkSource


@dataclass(frozen=True)
class WaveSpan:
    """One step of the critical path: the agent of ``wave`` that worked longest, and how long.
    ``agents`` is how many agents of the wave were measured."""

    wave: int
    agent: str
    seconds: float
    agents: int


@dataclass(frozen=True)
class Dividend:
    """The dividend once every agent merged or was skipped.

    ``work``: the agents' work summed (seconds); ``wall``: dispatch → last merge; ``critical``:
    the critical path (the longest work of each wave, summed); ``waves`` its steps in wave order;
    ``unmeasured`` the merged agents whose work is unknown.
    """

    work: float
    wall: float
    critical: float
    agents: tuple[AgentSpan, ...]
    waves: tuple[WaveSpan, ...]
    unmeasured: tuple[str, ...] = ()

    @property
    def ratio(self) -> float | None:
        """Work per second of wall clock (how many agents worked at once, on average)."""
        return self.work / self.wall if self.wall > 0 else None

    @property
    def saved(self) -> float:
        """Seconds saved against doing the same work one agent after another (≥ 0)."""
        return max(0.0, self.work - self.wall)

    @property
    def overhead(self) -> float:
        """Wall-clock seconds beyond the critical path: waiting for launches, reviews and merges."""
        return max(0.0, self.wall - self.critical)


def work_span(work: AgentWork) -> AgentSpan:
    """How long one agent worked, and from what. Runs ending before they start count 0 s."""
    if work.runs:
        seconds = sum(max(0.0, (end - start).total_seconds()) for start, end in work.runs)
        return AgentSpan(work.agent, work.wave, seconds, WorkSource.RUNS)
    if work.started_at is not None and work.last_push_at is not None:
        seconds = max(0.0, (work.last_push_at - work.started_at).total_seconds())
        return AgentSpan(work.agent, work.wave, seconds, WorkSource.LAST_PUSH)
    return AgentSpan(work.agent, work.wave, None, WorkSource.UNKNOWN)


def critical_path(spans: Sequence[AgentSpan]) -> tuple[WaveSpan, ...]:
    """The longest-working agent of each wave (the first in the given order on a tie), in wave
    order; waves with no measured agent are left out."""
    out = []
    for wave in sorted({s.wave for s in spans}):
        measured = [s for s in spans if s.wave == wave and s.seconds is not None]
        if measured:
            top = max(measured, key=lambda s: s.seconds or 0.0)
            out.append(WaveSpan(wave, top.agent, top.seconds or 0.0, len(measured)))
    return tuple(out)


def dividend(dispatched_at: datetime | None, agents: Sequence[AgentWork]) -> Dividend | None:
    """The dividend of a finished plan, or None: before every agent merged or was skipped, without
    a dispatch time, with no merge, or when no merged agent's work is known. Skipped agents are
    left out of every sum."""
    merged = _merged(agents)
    if dispatched_at is None or merged is None:
        return None
    spans = tuple(work_span(a) for a in merged)
    if all(s.seconds is None for s in spans):
        return None
    last_merge = max(a.merged_at for a in merged if a.merged_at is not None)
    waves = critical_path(spans)
    return Dividend(
        work=sum(s.seconds for s in spans if s.seconds is not None),
        wall=max(0.0, (last_merge - dispatched_at).total_seconds()),
        critical=sum(w.seconds for w in waves),
        agents=spans,
        waves=waves,
        unmeasured=tuple(s.agent for s in spans if s.seconds is None),
    )


def _merged(agents: Sequence[AgentWork]) -> list[AgentWork] | None:
    """The merged agents once every agent merged or was skipped (None before, or with none)."""
    if any(a.merged_at is None and not a.skipped for a in agents):
        return None
    merged = [a for a in agents if a.merged_at is not None and not a.skipped]
    return merged or None


def works_from_rows(rows: Sequence[AgentRow], skipped: frozenset[str] = frozenset(), *,
                    runs: Mapping[str, Sequence[tuple[datetime, datetime]]] | None = None,
                    launched_at: Mapping[str, datetime] | None = None,
                    last_push_at: Mapping[str, datetime] | None = None) -> list[AgentWork]:
    """``AgentWork`` for the dashboard's rows: ``runs`` maps an agent to the (start, end) of its
    completed runs (``WorkflowRun.span``), ``launched_at`` to its first launch, ``last_push_at`` to
    its PR's last push. An agent with no launch known starts when its PR was opened."""
    runs, launched_at, last_push_at = runs or {}, launched_at or {}, last_push_at or {}
    return [
        AgentWork(
            agent=r.agent,
            wave=r.wave,
            runs=tuple(runs.get(r.agent, ())),
            started_at=launched_at.get(r.agent) or r.pr.opened_at,
            last_push_at=last_push_at.get(r.agent),
            merged_at=r.pr.merged_at if r.pr.state is PrState.MERGED else None,
            skipped=r.agent in skipped,
        )
        for r in rows
    ]
