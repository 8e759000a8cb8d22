"""Read a dispatch plan from an issue body (fenced ``dispatch`` YAML or prose headings) and run the
pre-flight (DESIGN §2). Problems are values, never exceptions."""

from __future__ import annotations

from collections.abc import Sequence

from .model import Plan, Problem, RepoConfig

MAX_BODY_BYTES = 256 * 1024
MAX_AGENTS = 100
MAX_PATTERNS = 1000


def parse_plan(body: str | None) -> Plan | list[Problem]:
    """Structure, then meaning (names, waves, after, pattern syntax). No overlap analysis.

    Never raises, whatever ``body`` holds. Line numbers are 1-based lines of ``body``
    (``\\r\\n`` and ``\\n`` give the same numbers).
    """
    raise NotImplementedError


def preflight(
    body: str | None,
    config: RepoConfig = RepoConfig(),
    repo_paths: Sequence[str] = (),
) -> Plan | list[Problem]:
    """``parse_plan`` plus the Non-Overlapping File Test: overlaps between concurrent agents
    (with witnesses, ``repo_paths`` preferred), territory vs own DO-NOT-MODIFY and vs protected.
    Returns the plan only when there is no problem at all."""
    raise NotImplementedError
