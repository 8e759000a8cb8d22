"""The pre-flight's territory problems and warnings, worded for the plan's author: overlaps,
empty territories, patterns an exclusion removes entirely, comparisons too complex to decide.

Fix texts hold no parentheses: problem lists show a fix as ``(fix: …)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from .model import Agent, Overlap, Plan, PlanWarning, Problem
from .patterns import TooComplex

TOO_COMPLEX_FIX = "use fewer `*` and `**` in {patterns}: a literal folder such as `src/api/` compares at once"
_SOURCES = {"protected": "protected", "do_not_modify": "its DO-NOT-MODIFY", "excluded": "excluded with `!`"}


def internal_problem(kind: str) -> Problem:
    """The pre-flight itself failed (``kind`` is the exception's class name, never its text)."""
    return Problem("internal", f"the pre-flight could not run ({kind})",
                   "simplify the plan, and report this issue body to the maintainers")


class Witness(NamedTuple):
    """A path both territories hold, and the pattern of each side that reaches it."""

    path: str
    pattern_a: str
    pattern_b: str


def _witnesses(shown: Sequence[Witness], more: int) -> str:
    """``a.py, b.py, c.py and 4 more (through `x` and `y`)``: the patterns are named once per pair
    of patterns, not once per file; a path both sides name literally needs no `through`."""
    groups: dict[tuple[str, str], list[str]] = {}
    for w in shown:
        groups.setdefault((w.pattern_a, w.pattern_b), []).append(w.path)
    tail = f" and {more} more" if more > 0 else ""
    if len(groups) == 1:
        ((pa, pb), paths), = groups.items()
        return ", ".join(paths) + tail + _through(pa, pb, paths)
    return ", ".join(", ".join(paths) + _through(pa, pb, paths) for (pa, pb), paths in groups.items()) + tail


def _through(pattern_a: str, pattern_b: str, paths: Sequence[str]) -> str:
    if len(paths) == 1 and pattern_a.lstrip("/") == paths[0] == pattern_b.lstrip("/"):
        return ""
    return f" (through `{pattern_a}` and `{pattern_b}`)"


def overlap_problem(a: Agent, b: Agent, shown: Sequence[Witness], more: int, line: int | None) -> Problem:
    """Two agents that may run at the same time share the files ``shown`` (``more`` not shown);
    located on the line of ``a``'s offending pattern."""
    files = _witnesses(shown, more)
    waves = f"wave {a.wave}" if a.wave == b.wave else f"waves {a.wave} and {b.wave}"
    return Problem(
        "overlap",
        f"`{a.name}` and `{b.name}` may run at the same time ({waves}, neither after the other) and "
        f"both territories contain {files}",
        f"move the file into one agent's territory, put the agents in different waves, "
        f"or add `after: [{a.name}]` to `{b.name}`",
        a.name, "territory", line,
    )


def overlap_counted(o: Overlap, line: int) -> Problem:
    """An overlap past the worded ones: counted, not worded."""
    return Problem("overlap", f"`{o.agent_a}` and `{o.agent_b}` overlap", "", o.agent_a, "territory", line or None)


def _removed_by(sources: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"`{pattern}` ({_SOURCES[source]})" for pattern, source in sources)


def empty_territory(agent: Agent, sources: Sequence[Sequence[tuple[str, str]]], line: int | None) -> Problem:
    """Nothing is left of ``agent``'s territory once its exclusions are removed; ``sources`` are,
    per positive pattern, the ``(exclusion, source)`` pairs that remove it."""
    removed = list(dict.fromkeys(pair for per in sources for pair in per))
    return Problem("empty-territory",
                   f"`{agent.name}`'s territory is empty once {_removed_by(removed)} "
                   f"{'is' if len(removed) == 1 else 'are'} removed",
                   "list paths outside what is excluded, or narrow the exclusion",
                   agent.name, "territory", line)


def removed_pattern(agent: Agent, pattern: str, line: int | None, sources: Sequence[tuple[str, str]]) -> PlanWarning:
    """One positive pattern of ``agent`` that its exclusions remove entirely: it grants nothing."""
    return PlanWarning("pattern-removed",
                       f"territory pattern `{pattern}` of `{agent.name}` grants nothing: "
                       f"{_removed_by(sources)} removes all of it",
                       "remove the pattern, or narrow the exclusion", agent.name, "territory", line,
                       pattern=pattern)


def _limit(exc: TooComplex) -> str:
    return "within the pre-flight's limit" if exc.budget_spent else "within the limit of one comparison"


def _at(agent: Agent) -> str:
    return f"`{agent.name}` (line {agent.line})" if agent.line else f"`{agent.name}`"


def too_complex_pair(plan: Plan, exc: TooComplex) -> Problem:
    """The pair of agents, and the pair of their patterns, whose comparison ran past a limit."""
    pa, pb = exc.patterns
    a, b = (plan.agent(n) for n in exc.agents) if exc.agents else (None, None)
    fix = TOO_COMPLEX_FIX.format(patterns=f"`{pa}` and `{pb}`")
    if a is None or b is None:
        return Problem("pattern-too-complex",
                       f"the territories are too complex to compare {_limit(exc)}: `{pa}` against `{pb}`",
                       fix, None, "territory")
    return Problem("pattern-too-complex",
                   f"the territories of {_at(a)} and {_at(b)} are too complex to compare {_limit(exc)}: "
                   f"`{pa}` of `{a.name}` against `{pb}` of `{b.name}`", fix, a.name, "territory", a.line)


def too_complex_exclusions(exc: TooComplex, agent: Agent, line: int | None) -> Problem:
    """A territory pattern too complex to compare with what the territory excludes."""
    pattern = exc.patterns[0]
    return Problem("pattern-too-complex",
                   f"territory pattern `{pattern}` of {_at(agent)} is too complex to compare with what its "
                   f"territory excludes {_limit(exc)}", TOO_COMPLEX_FIX.format(patterns=f"`{pattern}`"),
                   agent.name, "territory", line or agent.line)


def no_such_path(agent: str, field: str, entry: str, line: int | None, suggestion: str | None) -> PlanWarning:
    """A territory pattern that matches no tracked file of the base tree, with a did-you-mean when
    a tracked path is close. A warning only: agents may create new files. (The field is shown
    beside the warning, so the text does not repeat it.)"""
    guess = f"; did you mean `{suggestion}`?" if suggestion else ""
    fix = (f"write `{suggestion}`, or keep `{entry}` if `{agent}` is to create it" if suggestion
           else f"check the spelling, or keep `{entry}` if `{agent}` is to create it")
    return PlanWarning("no-such-path", f"pattern `{entry}` matches no file of the repository{guess}",
                       fix, agent, field, line, suggestion, entry)


def excludes_nothing(agent: str, field: str, entry: str, line: int | None, suggestion: str) -> PlanWarning:
    """An exclusion (``!`` entry or DO-NOT-MODIFY pattern) that matches no tracked file while a
    tracked path is close: most likely a typo that leaves the meant path unprotected. (One that
    is merely not there yet is no warning: excluding a future path is fine.)"""
    what = "excludes" if field == "territory" else "protects"
    return PlanWarning("no-such-path",
                       f"`{entry}` {what} no file of the repository; did you mean `{suggestion}`?",
                       f"write `{suggestion}`", agent, field, line, suggestion, entry)
