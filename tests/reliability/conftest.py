"""The fault suite: markers, the CI subset, shared stacks and the results table.

Tests marked ``reliability`` run only when ``-m`` selects them (``make reliability``); those also
marked ``reliability_ci`` (a reduced form that fits the default suite) run in every ``pytest``.
Each scenario records a row; at the end of the session the rows are printed as a table and written
to ``.run/reliability.md`` (an ignored folder).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from demo.stack import ROOT, Stack

from .harness import CLEAN_REPO, DB_MAIN, Result, play, redis_url

RESULTS = ROOT / ".run" / "reliability.md"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "reliability: fault scenarios on real processes (make reliability)")
    config.addinivalue_line("markers", "reliability_ci: the reduced fault scenarios run by the default suite")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "reliability" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(reason="full fault suite: run with -m reliability (make reliability)")
    for item in items:
        if item.get_closest_marker("reliability") and not item.get_closest_marker("reliability_ci"):
            item.add_marker(skip)


@dataclass
class Row:
    scenario: str
    runs: int = 0
    differences: int = 0
    duplicates: int = 0
    max_wait: float | None = None
    notes: list[str] = field(default_factory=list)


ROWS: dict[str, Row] = {}


@pytest.fixture(scope="session")
def record():
    """``record(scenario, result)``: add one run of ``scenario`` to the table."""

    def add(scenario: str, result: Result) -> None:
        row = ROWS.setdefault(scenario, Row(scenario))
        row.runs += 1
        row.differences += len(result.differences)
        row.duplicates += len(result.duplicates)
        if result.max_wait is not None:
            row.max_wait = max(row.max_wait or 0.0, result.max_wait)
        row.notes += [n for n in result.notes if n not in row.notes]

    return add


def table() -> str:
    lines = ["| scenario | runs | end-state differences | duplicate objects | max retry wait honoured | notes |",
             "|---|---|---|---|---|---|"]
    for row in ROWS.values():
        wait = f"{row.max_wait:.1f} s" if row.max_wait is not None else "—"
        lines.append(f"| {row.scenario} | {row.runs} | {row.differences} | {row.duplicates} | {wait} | "
                     f"{'; '.join(row.notes) or ''} |")
    return "\n".join(lines)


def pytest_unconfigure(config: pytest.Config) -> None:
    """The table is the last thing the run prints: after pytest's own summary and counts."""
    if not ROWS:
        return
    text = table()
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(text + "\n")
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        print(text)
        return
    reporter.write_sep("=", "wavegate reliability")
    reporter.write_line(text)
    reporter.write_line(f"(written to {RESULTS})")


@pytest.fixture(scope="session")
def stack(request):
    """One stack on Redis db 13 for the scenarios that need no special process set-up; the
    periodic reconcile runs every 5 s so a lost event heals within a scenario's waits."""
    workdir = Path(tempfile.mkdtemp(prefix="wavegate-rel-"))
    with Stack(workdir, redis_url=redis_url(DB_MAIN), extra_env={"RECONCILE_INTERVAL": "5"}) as running:
        yield running
    if request.session.testsfailed:
        print(f"process logs kept in {workdir}/logs")
    else:
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def clean(stack):
    """The reference scenario's end state on a clean run (snapshot of ``CLEAN_REPO``)."""
    return play(stack, CLEAN_REPO).snapshot
