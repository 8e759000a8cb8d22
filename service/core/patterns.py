"""Territory patterns (DESIGN §2.4): one translator to a regex and to an automaton, and the exact
overlap decision between two pattern lists, with witness paths."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from .model import Overlap

MAX_PATTERN_LENGTH = 256


def pattern_problem(pattern: str) -> str | None:
    """None when ``pattern`` is a valid territory pattern, else what is wrong with it
    (empty, ``..``, backslash, NUL, ``!`` negation, ``[...]`` ranges, longer than 256)."""
    raise NotImplementedError


def to_regex(pattern: str) -> str:
    """The anchor-free regex (whole-path semantics) for a valid pattern."""
    raise NotImplementedError


def compile_patterns(patterns: Sequence[str]) -> re.Pattern[str]:
    """One compiled regex matching a path (use ``fullmatch``) when any pattern matches it."""
    raise NotImplementedError


def matches(pattern: str, path: str) -> bool:
    """True when the pattern matches the repository-relative POSIX path."""
    raise NotImplementedError


def overlap(
    patterns_a: Sequence[str], patterns_b: Sequence[str], repo_paths: Sequence[str] = ()
) -> tuple[str, str, tuple[str, ...]] | None:
    """The first pair ``(pattern_a, pattern_b, witnesses)`` that can match one path, or None.

    Decided exactly by automaton intersection. Witnesses: real ``repo_paths`` matched by both
    first (up to 3), otherwise the shortest path both match.
    """
    raise NotImplementedError


def find_overlaps(
    territories: Mapping[str, Sequence[str]],
    pairs: Iterable[tuple[str, str]],
    repo_paths: Sequence[str] = (),
) -> list[Overlap]:
    """Every pair of agents (from ``pairs``) whose territories overlap, with witnesses."""
    raise NotImplementedError
