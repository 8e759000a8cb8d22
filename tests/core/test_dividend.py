"""The parallelism dividend (DESIGN §3.6): agent work time against the wall clock from dispatch
to the last merge, with the critical path wave by wave; its text pinned by
``tests/golden/launch-dividend.md`` (``UPDATE_GOLDEN=1`` rewrites it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.core.dividend import (
    AgentSpan,
    AgentWork,
    WaveSpan,
    WorkSource,
    critical_path,
    dividend,
    work_span,
    works_from_rows,
)
from service.core.model import AgentPR, AgentRow, PrState
from service.core.report_launch import dividend_text
from tests.goldens import assert_golden

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def runs(*spans: tuple[float, float]) -> tuple[tuple[datetime, datetime], ...]:
    return tuple((at(a), at(b)) for a, b in spans)


@pytest.mark.parametrize(
    "work, seconds, source",
    [
        (AgentWork("api", 1, runs=runs((1, 21))), 1200, WorkSource.RUNS),
        # every attempt counts; the time between attempts does not
        (AgentWork("api", 1, runs=runs((1, 11), (30, 35)), started_at=at(0), last_push_at=at(60)), 900, WorkSource.RUNS),
        (AgentWork("api", 1, started_at=at(2), last_push_at=at(47)), 2700, WorkSource.LAST_PUSH),
        (AgentWork("api", 1, started_at=at(5), last_push_at=at(3)), 0, WorkSource.LAST_PUSH),
        (AgentWork("api", 1, runs=runs((9, 8))), 0, WorkSource.RUNS),
        (AgentWork("api", 1, started_at=at(2)), None, WorkSource.UNKNOWN),
        (AgentWork("api", 1, last_push_at=at(2)), None, WorkSource.UNKNOWN),
    ],
)
def test_work_span(work, seconds, source):
    assert work_span(work) == AgentSpan("api", 1, seconds, source)


def test_critical_path_takes_the_longest_agent_of_each_wave():
    spans = [AgentSpan("a", 1, 600, WorkSource.RUNS), AgentSpan("b", 1, 900, WorkSource.RUNS),
             AgentSpan("c", 2, None, WorkSource.UNKNOWN), AgentSpan("d", 3, 300, WorkSource.LAST_PUSH),
             AgentSpan("e", 3, 300, WorkSource.RUNS)]
    assert critical_path(spans) == (WaveSpan(1, "b", 900, 2), WaveSpan(3, "d", 300, 2))


# Wave 1: api 20 min and web 30 min, both started at dispatch, merged at 35 and 40 min;
# wave 2: docs started at 45 min (after the branch update), worked 15 min, merged at 70 min.
PLAN_DONE = [
    AgentWork("api", 1, runs=runs((1, 21)), merged_at=at(35)),
    AgentWork("web", 1, runs=runs((1, 31)), merged_at=at(40)),
    AgentWork("docs", 2, started_at=at(45), last_push_at=at(60), merged_at=at(70)),
]


def test_dividend_of_a_finished_plan():
    d = dividend(T0, PLAN_DONE)
    assert (d.work, d.wall, d.critical) == (3900, 4200, 2700)
    assert d.waves == (WaveSpan(1, "web", 1800, 2), WaveSpan(2, "docs", 900, 1))
    assert (round(d.ratio, 3), d.saved, d.overhead) == (0.929, 0, 1500)


def test_skipped_and_unmeasured_agents():
    agents = PLAN_DONE + [AgentWork("ops", 1, skipped=True), AgentWork("ui", 2, merged_at=at(50))]
    d = dividend(T0, agents)
    assert d.work == 3900 and d.unmeasured == ("ui",)
    assert [s.agent for s in d.agents] == ["api", "web", "docs", "ui"]


@pytest.mark.parametrize(
    "dispatched, agents",
    [
        (None, PLAN_DONE),
        (T0, []),
        (T0, PLAN_DONE + [AgentWork("ops", 2, runs=runs((50, 60)))]),  # not merged yet
        (T0, [AgentWork("ops", 1, skipped=True)]),
        (T0, [AgentWork("ops", 1, merged_at=at(5))]),  # nothing measured
    ],
)
def test_no_dividend_before_the_end_or_without_facts(dispatched, agents):
    assert dividend(dispatched, agents) is None


def test_works_from_dashboard_rows():
    rows = [
        AgentRow("api", 1, ("api/",), AgentPR("api", 11, PrState.MERGED, opened_at=at(0), merged_at=at(35))),
        AgentRow("web", 1, ("web/",), AgentPR("web", 12, PrState.OPEN, opened_at=at(0))),
        AgentRow("ops", 2, ("ops/",), AgentPR("ops", 13, PrState.CLOSED, opened_at=at(0), merged_at=None)),
        AgentRow("docs", 2, ("docs/",), AgentPR("docs", 14, PrState.MERGED, opened_at=at(1), merged_at=at(70))),
    ]
    works = works_from_rows(rows, frozenset({"ops"}), runs={"api": runs((1, 21))}, launched_at={"docs": at(45)},
                            last_push_at={"docs": at(60), "web": at(30)})
    assert works == [
        AgentWork("api", 1, runs=runs((1, 21)), started_at=at(0), merged_at=at(35)),
        AgentWork("web", 1, started_at=at(0), last_push_at=at(30)),
        AgentWork("ops", 2, started_at=at(0), skipped=True),
        AgentWork("docs", 2, started_at=at(45), last_push_at=at(60), merged_at=at(70)),
    ]
    assert dividend(T0, works) is None  # web is still open
    assert dividend(T0, works_from_rows(rows[:1], runs={"api": runs((1, 21))})).work == 1200
    assert dividend(T0, works_from_rows(rows[:1])) is None  # nothing measured: no dividend


def test_wall_clock_never_negative():
    d = dividend(at(100), PLAN_DONE)
    assert d.wall == 0 and d.ratio is None and d.saved == 3900


# --------------------------------------------------------------------------- golden


def _text() -> str:
    parallel = [
        AgentWork("api", 1, runs=runs((1, 41)), merged_at=at(50)),
        AgentWork("web", 1, runs=runs((1, 46)), merged_at=at(52)),
        AgentWork("cli", 1, runs=runs((2, 32), (35, 40)), merged_at=at(48)),
        AgentWork("docs", 2, started_at=at(55), last_push_at=at(80), merged_at=at(85)),
        AgentWork("ui", 2, merged_at=at(86)),
        AgentWork("tests|e2e", 3, runs=runs((90, 120)), merged_at=at(125)),
    ]
    serial = [AgentWork("api", 1, runs=runs((0, 10)), merged_at=at(30))]
    return dividend_text(dividend(T0, parallel)) + "\n----- one agent\n\n" + dividend_text(dividend(T0, serial))


def test_golden():
    assert_golden("launch-dividend", _text())
