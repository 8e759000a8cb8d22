"""Typos in a plan's patterns (DESIGN §2.4): with the base tree's tracked files known, a pattern
that matches none of them is a warning, with the tracked path it was probably meant to be
(``servce/`` → ``service/``, ``Docs/`` → ``docs/``, ``service/webhok.py`` → ``service/webhook.py``).
"""

from __future__ import annotations

import difflib
from bisect import bisect_left
from collections.abc import Mapping, Sequence

from . import patterns
from .model import Plan, PlanWarning
from .report_problems import excludes_nothing, no_such_path

# How close a written segment must be to a tracked one to be suggested (difflib's ratio).
CLOSE_ENOUGH = 0.75


class TrackedTree:
    """The tracked paths of a tree, sorted, with the entries of each folder."""

    def __init__(self, tracked_paths: Sequence[str]) -> None:
        self.paths = sorted(set(tracked_paths))
        self.children: dict[str, set[str]] = {}
        for path in self.paths:
            parent = ""
            for seg in path.split("/"):
                self.children.setdefault(parent, set()).add(seg)
                parent = f"{parent}/{seg}" if parent else seg

    def any_match(self, pattern: str) -> bool:
        """True when ``pattern`` (a valid territory pattern) matches a tracked path. Only the
        paths starting with the pattern's literal text are tried."""
        text = patterns.literal_text(pattern)
        rx = patterns.territory_regex([pattern])
        start = bisect_left(self.paths, text)
        for path in self.paths[start:]:
            if not path.startswith(text):
                return False
            if rx.fullmatch(path):
                return True
        return False


def typo_warnings(plan: Plan, tracked_paths: Sequence[str],
                  lines: Mapping[tuple[str, str, str], int] | None = None) -> list[PlanWarning]:
    """One ``no-such-path`` warning per territory pattern that matches no tracked path, with a
    did-you-mean where one is close; for a ``!`` exclusion or DO-NOT-MODIFY pattern only when a
    tracked path is close (a typo there protects nothing; a path not there yet is fine).

    Args: ``plan`` a plan (invalid patterns are skipped: they are problems already);
    ``tracked_paths`` the base tree's files, repository-relative POSIX (empty: nothing is known,
    no warning); ``lines`` (agent, field, pattern as written) → its line, else the agent's line.
    Returns warnings in plan order.
    """
    if not tracked_paths:
        return []
    tree = TrackedTree(tracked_paths)
    out: list[PlanWarning] = []
    for a in plan.agents:
        for field, entries in (("territory", a.territory), ("do_not_modify", a.do_not_modify)):
            for entry in entries:
                pattern = entry[1:] if patterns.is_exclusion(entry) else entry
                if patterns.pattern_problem(pattern) is None and not tree.any_match(pattern):
                    line = (lines or {}).get((a.name, field, entry)) or a.line
                    found = _warning(a.name, field, entry, line, _prefixed(entry, suggestion(pattern, tree)))
                    out += [found] if found else []
    return out


def _warning(agent: str, field: str, entry: str, line: int | None, guess: str | None) -> PlanWarning | None:
    if field == "territory" and not patterns.is_exclusion(entry):
        return no_such_path(agent, field, entry, line, guess)
    return excludes_nothing(agent, field, entry, line, guess) if guess else None


def _prefixed(entry: str, guess: str | None) -> str | None:
    if guess is None:
        return None
    return ("!" if patterns.is_exclusion(entry) else "") + guess


def suggestion(pattern: str, tree: TrackedTree) -> str | None:
    """The pattern with each literal segment that names no tracked entry replaced by the closest
    one in its folder (same letters in another case first, then ``difflib``), up to the first
    wildcard; None when some segment has nothing close or the result still matches nothing."""
    lead = "/" if pattern.startswith("/") else ""
    body = pattern.lstrip("/")
    trail = "/" if body.endswith("/") else ""
    segments = body.rstrip("/").split("/")
    folder, fixed = "", []
    for i, name in enumerate(segments):
        if "*" in name or "?" in name:
            fixed += segments[i:]
            break
        entries = tree.children.get(folder, set())
        seg = name if name in entries else _closest(name, entries)
        if seg is None:
            return None
        fixed.append(seg)
        folder = f"{folder}/{seg}" if folder else seg
    guess = lead + "/".join(fixed) + trail
    return guess if guess != pattern and tree.any_match(guess) else None


def _closest(segment: str, entries: set[str]) -> str | None:
    same = sorted(e for e in entries if e.lower() == segment.lower())
    if same:
        return same[0]
    close = difflib.get_close_matches(segment, sorted(entries), n=1, cutoff=CLOSE_ENOUGH)
    return close[0] if close else None
