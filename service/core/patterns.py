"""Territory patterns (DESIGN §2.4): one translator to a regex and to an automaton, and the exact
overlap decision between two pattern lists, with witness paths.

A pattern ``P`` matches exactly what the gitignore pattern ``/P`` matches in pathspec's
``GitIgnoreBasicPattern`` (gitignore as documented): every pattern is anchored at the repository
root, ``*`` and ``?`` never cross ``/`` and do match dot-files, a ``**`` segment spans any number of
segments, a trailing ``/`` means "directories only" and a pattern that matches a directory covers
everything below it. A consequence kept on purpose: ``**/*.md`` and ``**/*.py`` overlap, since a
folder may be named ``x.md`` and ``x.md/y.py`` matches both.

The emitted regex has no anchors or lookarounds, so the same text serves ``re.fullmatch`` and
``interegular.parse_pattern(rx).to_fsm()`` (interegular rejects ``^``, ``$`` and lookarounds).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache

import interegular
from interegular.fsm import FSM, Alphabet

from .model import Overlap

MAX_PATTERN_LENGTH = 256
# Each `*`, `?` and `**` counts. Beyond these the automata of two patterns can grow large enough
# to make the pre-flight slow; no real territory needs that many.
MAX_WILDCARDS = 8
MAX_DOUBLE_STARS = 4
# Safety net for the product automaton of one pattern pair (the caps above keep real pairs far
# below it): exceeding it raises PatternError instead of running for minutes.
MAX_PRODUCT_STATES = 100_000
# Product states one whole pre-flight may explore (about 5 s of searching on a slow machine).
MAX_PREFLIGHT_STATES = 300_000
MAX_REAL_WITNESSES = 3

_REGEX_SPECIAL = frozenset(".^$*+?{}[]\\|()")
# Witness characters, most readable first; '.' last so witnesses avoid dot-files when they can.
_PREFERRED = "abcdefghijklmnopqrstuvwxyz0123456789_-ABCDEFGHIJKLMNOPQRSTUVWXYZ~+=,@."

# A segment of a real repository path: not empty, not "." and not "..". Witnesses are searched
# among such paths only, so an overlap is never "found" on a path Git cannot hold.
_SEGMENT = r"(?:[^/.][^/]*|\.[^/.][^/]*|\.\.[^/]+)"
_VALID_PATH = f"{_SEGMENT}(?:/{_SEGMENT})*"


PATTERN_FIX = ("write a path relative to the repository root in gitignore syntax "
               "(`src/api/`, `docs/*.md`, `**/conf.yml`)")
FEWER_WILDCARDS_FIX = (f"use at most {MAX_WILDCARDS} wildcards, {MAX_DOUBLE_STARS} of them `**`: write the folder "
                       "names you know (`src/*/api/**/*.py` → `src/core/api/**/*.py`), or name the folder "
                       "(`src/api/`), which covers everything below it")
SHORTER_FIX = "name a folder higher up (`src/api/`), which covers everything below it"


class PatternError(ValueError):
    """A territory pattern that is invalid (see ``pattern_problem``) or too complex to decide."""


class TooComplex(PatternError):
    """A comparison that ran past a limit (one pair's ``MAX_PRODUCT_STATES`` or a pre-flight's
    ``Budget``). ``patterns`` is the pattern pair being compared, ``agents`` the pair of agents
    whose territories hold them (empty when not known where it was raised)."""

    def __init__(self, message: str, patterns: tuple[str, str], agents: tuple[str, str] | tuple[()] = (),
                 *, budget_spent: bool = False) -> None:
        super().__init__(f"{message}: `{patterns[0]}` and `{patterns[1]}`")
        self.message, self.patterns, self.agents, self.budget_spent = message, patterns, agents, budget_spent

    def between(self, agent_a: str, agent_b: str) -> TooComplex:
        """The same refusal, naming the two agents whose territories were being compared."""
        return TooComplex(self.message, self.patterns, (agent_a, agent_b), budget_spent=self.budget_spent)


def pattern_problem(pattern: str) -> str | None:
    """None when ``pattern`` is a valid territory pattern, else what is wrong with it
    (empty, ``..``, backslash, NUL, ``!`` negation, ``[...]`` ranges, longer than 256).

    Also refused, because they would not mean what they seem: control characters, trailing
    whitespace (gitignore strips it), empty segments (``a//b``), ``.`` segments, and more than
    ``MAX_WILDCARDS`` wildcards or ``MAX_DOUBLE_STARS`` ``**`` segments (automaton size guard).
    The message is one sentence addressed to the plan's author.
    """
    if not isinstance(pattern, str):
        return f"a pattern must be a string, not {type(pattern).__name__}"
    found = _problem(pattern)
    return found[0] if found else None


def pattern_fix(pattern: str) -> str:
    """How to fix what ``pattern_problem`` objects to, in one sentence for the plan's author:
    fewer wildcards (or a folder) for a pattern past the wildcard caps, a shorter path for one
    past 256 characters, otherwise how to write a pattern. Empty for a valid pattern."""
    if not isinstance(pattern, str):
        return PATTERN_FIX
    found = _problem(pattern)
    return found[1] if found else ""


@lru_cache(maxsize=8192)
def _problem(pattern: str) -> tuple[str, str] | None:
    """(what is wrong, how to fix it), or None for a valid pattern."""
    if not pattern.strip("/"):
        return "the pattern is empty; name a file or folder, or `**` for everything", PATTERN_FIX
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"the pattern is {len(pattern)} characters long; at most {MAX_PATTERN_LENGTH} are allowed", SHORTER_FIX
    if "\0" in pattern:
        return "the pattern contains a NUL character", PATTERN_FIX
    if any(ord(c) < 0x20 or c == "\x7f" for c in pattern):
        return "the pattern contains a control character (a newline or tab?)", PATTERN_FIX
    if "\\" in pattern:
        return "backslashes are not allowed; paths use `/` and patterns have no escapes", PATTERN_FIX
    if pattern.startswith("!"):
        return "`!` negation is not supported; list only the paths the agent may change", PATTERN_FIX
    if "[" in pattern or "]" in pattern:
        return "`[...]` character ranges are not supported; list the alternatives as separate patterns", PATTERN_FIX
    if pattern != pattern.rstrip():
        return "the pattern ends with whitespace, which gitignore would silently drop; remove it", PATTERN_FIX
    body = pattern.lstrip("/")
    segments = body.split("/")
    if body.endswith("/"):
        segments.pop()
    if "" in segments:
        return "the pattern contains an empty segment (`//`)", PATTERN_FIX
    if ".." in segments:
        return "`..` segments are not allowed; patterns are relative to the repository root", PATTERN_FIX
    if "." in segments:
        return "`.` segments are not allowed; write the path without `./`", PATTERN_FIX
    double = segments.count("**")
    if double > MAX_DOUBLE_STARS:
        return f"the pattern has {double} `**` segments; at most {MAX_DOUBLE_STARS} are allowed", FEWER_WILDCARDS_FIX
    wildcards = double + sum(s.count("*") + s.count("?") for s in segments if s != "**")
    if wildcards > MAX_WILDCARDS:
        return f"the pattern has {wildcards} wildcards; at most {MAX_WILDCARDS} are allowed", FEWER_WILDCARDS_FIX
    return None


def _check(pattern: str) -> None:
    problem = pattern_problem(pattern)
    if problem is not None:
        raise PatternError(f"invalid pattern {pattern!r}: {problem}")


def _segments(pattern: str) -> list[str]:
    """Normalized segments, as pathspec normalizes ``/P``: a trailing ``/`` becomes a final
    ``**`` and runs of ``**`` segments collapse to one."""
    segments = pattern.lstrip("/").split("/")
    if segments[-1] == "":
        segments[-1] = "**"
    out: list[str] = []
    for seg in segments:
        if not (seg == "**" and out and out[-1] == "**"):
            out.append(seg)
    return out


def _glob(segment: str) -> str:
    out = []
    for c in segment:
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c in _REGEX_SPECIAL:
            out.append("\\" + c)
        else:
            out.append(c)
    return "".join(out)


@lru_cache(maxsize=8192)
def to_regex(pattern: str) -> str:
    """The anchor-free regex (whole-path semantics) for a valid pattern.

    Args: ``pattern`` — a territory pattern. Returns a regex string to use with ``re.fullmatch``
    or ``interegular.parse_pattern``. Raises ``PatternError`` when ``pattern_problem`` objects.

    Piece by piece it is pathspec's ``GitIgnoreBasicPattern`` regex for ``/P`` with its
    start-anchored search turned into a full match: the ``(?:/|$)`` tail becomes ``(?:/.*)?``
    (a matched directory covers its subtree), a final ``**`` becomes ``/.*``, and a final lone
    ``*`` segment matches one entry only (``docs/*`` matches ``docs/a.md``, not ``docs/x/b.md``).
    """
    _check(pattern)
    segs = _segments(pattern)
    # pathspec's special cases: `**` (every path), `**/` (every path below a folder),
    # `**/*` (every path), `**/*/` (every path below a folder).
    if segs == ["**"]:
        return ".*/.*" if pattern.endswith("/") else ".+"
    if segs == ["**", "*"]:
        return ".+"
    if segs == ["**", "*", "**"]:
        return ".*/.*"
    parts: list[str] = []
    need_slash = False
    end = len(segs) - 1
    for i, seg in enumerate(segs):
        if seg == "**":
            if i == 0:
                parts.append("(?:.+/)?")
            elif i < end:
                parts.append("(?:/.+)?")
                need_slash = True
            else:
                parts.append("/.*")
            continue
        if need_slash:
            parts.append("/")
        parts.append("[^/]+" if seg == "*" else _glob(seg))
        if i == end:
            parts.append("/?" if seg == "*" else "(?:/.*)?")
        need_slash = True
    return "".join(parts)


@lru_cache(maxsize=8192)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(to_regex(pattern))


@lru_cache(maxsize=1024)
def _compiled_many(patterns: tuple[str, ...]) -> re.Pattern[str]:
    if not patterns:
        return re.compile("(?!)")
    return re.compile("|".join(f"(?:{to_regex(p)})" for p in patterns))


def compile_patterns(patterns: Sequence[str]) -> re.Pattern[str]:
    """One compiled regex matching a path (use ``fullmatch``) when any pattern matches it.

    Args: a sequence of valid patterns (an empty one matches nothing). Raises ``PatternError``
    for an invalid pattern. Results are cached per tuple of patterns.
    """
    return _compiled_many(tuple(patterns))


def matches(pattern: str, path: str) -> bool:
    """True when the pattern matches the repository-relative POSIX path (no leading ``/``).

    Raises ``PatternError`` for an invalid pattern.
    """
    return _compiled(pattern).fullmatch(path) is not None


def literal_prefix(pattern: str) -> tuple[str, ...]:
    """The leading segments of a valid pattern that hold no wildcard, e.g. ``("src", "api")``
    for ``src/api/**/*.py``. Every path the pattern matches starts with exactly these segments."""
    out: list[str] = []
    for seg in _segments(pattern):
        if seg == "**" or "*" in seg or "?" in seg:
            break
        out.append(seg)
    return tuple(out)


@lru_cache(maxsize=8192)
def _literal_text(pattern: str) -> str:
    """The text every path matched by a valid pattern starts with: the pattern up to its first
    wildcard (``src/api/v1-`` for ``/src/api/v1-*.py``; empty for ``**/x``)."""
    body = pattern.lstrip("/")
    cut = min((i for i in (body.find("*"), body.find("?")) if i >= 0), default=len(body))
    return body[:cut]


def _may_meet(pattern_a: str, pattern_b: str) -> bool:
    # Cheap pre-filter: two patterns whose literal leading texts diverge cannot match one path.
    a, b = _literal_text(pattern_a), _literal_text(pattern_b)
    return a.startswith(b) or b.startswith(a)


@lru_cache(maxsize=8192)
def _fsm(regex: str) -> FSM:
    return interegular.parse_pattern(regex).to_fsm()


def _rank(symbol: str) -> tuple[int, int]:
    i = _PREFERRED.find(symbol)
    return (i, 0) if i >= 0 else (len(_PREFERRED), ord(symbol))


def _representative(symbols: Iterable[object], alphabet: Alphabet) -> str:
    """One character standing for a transition class: the most readable explicit one, or for
    "anything else" the most readable character no automaton names explicitly."""
    explicit = [s for s in symbols if isinstance(s, str)]
    if explicit:
        return min(explicit, key=_rank)
    for c in _PREFERRED:
        if c not in alphabet:
            return c
    code = 0xA1
    while chr(code) in alphabet:
        code += 1
    return chr(code)


def _shortest_common(fsms: tuple[FSM, ...]) -> tuple[str | None, int]:
    """The shortest string accepted by every automaton (most readable first among equals), or
    None, and how many product states the search explored. A breadth-first search over the
    product automaton, one representative character per transition class; interegular's own
    example generator can run for minutes on such products."""
    alphabet, new_to_old = Alphabet.union(*(f.alphabet for f in fsms))
    steps = sorted(
        (_rank(ch), key, ch)
        for key, symbols in alphabet.by_transition.items()
        for ch in (_representative(symbols, alphabet),)
    )
    start = tuple(f.initial for f in fsms)
    parent: dict[tuple, tuple[tuple, str] | None] = {start: None}
    queue = deque([start])
    indexed = tuple(enumerate(fsms))
    while queue:
        state = queue.popleft()
        if all(state[i] in f.finals for i, f in indexed):
            chars: list[str] = []
            link = parent[state]
            while link is not None:
                state, ch = link
                chars.append(ch)
                link = parent[state]
            return "".join(reversed(chars)), len(parent)
        for _, key, ch in steps:
            nxt = []
            for i, f in indexed:
                row = f.map.get(state[i])
                old = new_to_old[i][key]
                if row is None or old not in row:
                    break
                nxt.append(row[old])
            else:
                target = tuple(nxt)
                if target not in parent:
                    parent[target] = (state, ch)
                    queue.append(target)
        if len(parent) > MAX_PRODUCT_STATES:
            raise PatternError(f"the comparison explored more than {MAX_PRODUCT_STATES:,} states")
    return None, len(parent)


@lru_cache(maxsize=65536)
def shortest_common_path(pattern_a: str, pattern_b: str) -> str | None:
    """The shortest repository path both valid patterns match, or None when they are disjoint.

    Decided exactly on the automata (after a pre-filter on the literal leading text); only real
    paths count (no empty, ``.`` or ``..`` segment). Raises ``PatternError`` for an invalid
    pattern, and ``TooComplex`` (naming the pair) for a pair too complex to compare (more than
    ``MAX_PRODUCT_STATES`` product states).
    """
    if not _may_meet(pattern_a, pattern_b):
        return None
    automata = (_fsm(to_regex(pattern_a)), _fsm(to_regex(pattern_b)), _fsm(_VALID_PATH))
    try:
        witness, explored = _shortest_common(automata)
    except PatternError:
        raise TooComplex("the patterns are too complex to compare", (pattern_a, pattern_b)) from None
    if len(SEARCH_COST) > 65536:
        SEARCH_COST.clear()
    SEARCH_COST[(pattern_a, pattern_b)] = explored
    return witness


# Product states each compared pair cost (filled as pairs are first compared; cached pairs are
# free), so one pre-flight can be held to ``MAX_PREFLIGHT_STATES`` in all.
SEARCH_COST: dict[tuple[str, str], int] = {}


class Budget:
    """The comparison work one pre-flight may spend, in product states: a plan of many
    wildcard-heavy patterns is refused with a clear problem instead of occupying a worker for
    minutes. ``compare`` raises ``TooComplex`` (naming the pattern pair that spent the last of
    it) once the budget is spent."""

    def __init__(self, states: int = 0) -> None:
        self.left = states or MAX_PREFLIGHT_STATES

    def compare(self, pattern_a: str, pattern_b: str) -> str | None:
        """``shortest_common_path``, charged to this budget."""
        cached = (pattern_a, pattern_b) in SEARCH_COST
        witness = shortest_common_path(pattern_a, pattern_b)
        if not cached:
            self.left -= SEARCH_COST.get((pattern_a, pattern_b), 0)
            if self.left < 0:
                raise TooComplex("the pre-flight's comparison limit ran out", (pattern_a, pattern_b),
                                 budget_spent=True)
        return witness


def _valid(patterns: Sequence[str]) -> list[str]:
    return [p for p in patterns if pattern_problem(p) is None]


def _real_witnesses(pattern_a: str, pattern_b: str, repo_paths: Sequence[str]) -> tuple[str, ...]:
    ra, rb = _compiled(pattern_a), _compiled(pattern_b)
    found: list[str] = []
    for path in repo_paths:
        if ra.fullmatch(path) and rb.fullmatch(path):
            found.append(path)
            if len(found) == MAX_REAL_WITNESSES:
                break
    return tuple(found)


def overlap(
    patterns_a: Sequence[str], patterns_b: Sequence[str], repo_paths: Sequence[str] = ()
) -> tuple[str, str, tuple[str, ...]] | None:
    """The first pair ``(pattern_a, pattern_b, witnesses)`` that can match one path, or None.

    Decided exactly by automaton intersection. Witnesses: real ``repo_paths`` matched by both
    first (up to 3), otherwise the shortest path both match.

    Pairs are tried in list order (``patterns_a`` outer). When some repository path is matched
    by both lists, the pair reported is the first pair matching the first such path, and the
    witnesses are the repository paths that pair matches. Invalid patterns are skipped (they
    are reported by ``pattern_problem``). Raises ``TooComplex`` (naming the pattern pair) only
    for a pair too complex to compare.
    """
    valid_a, valid_b = _valid(patterns_a), _valid(patterns_b)
    if not valid_a or not valid_b:
        return None
    if repo_paths:
        ra, rb = compile_patterns(valid_a), compile_patterns(valid_b)
        for path in repo_paths:
            if ra.fullmatch(path) and rb.fullmatch(path):
                pa = next(p for p in valid_a if _compiled(p).fullmatch(path))
                pb = next(p for p in valid_b if _compiled(p).fullmatch(path))
                return pa, pb, _real_witnesses(pa, pb, repo_paths)
    for pa in valid_a:
        for pb in valid_b:
            witness = shortest_common_path(pa, pb)
            if witness is not None:
                return pa, pb, (witness,)
    return None


def _meeting_candidates(patterns: Iterable[str]) -> dict[str, set[str]]:
    """For each distinct valid pattern, the patterns that pass the literal-text pre-filter with
    it (itself included), without comparing every pattern with every other: sorted by literal
    text, the patterns whose text extends a given text form one contiguous run."""
    entries = sorted((_literal_text(p), p) for p in set(patterns))
    texts = [e[0] for e in entries]
    found: dict[str, set[str]] = {p: set() for _, p in entries}
    for text, pattern in entries:
        lo = bisect_left(texts, text)
        hi = bisect_left(texts, text + "\U0010ffff", lo)
        for _, other in entries[lo:hi]:
            found[pattern].add(other)
            found[other].add(pattern)
    return found


def find_overlaps(
    territories: Mapping[str, Sequence[str]],
    pairs: Iterable[tuple[str, str]],
    repo_paths: Sequence[str] = (),
    budget: Budget | None = None,
) -> list[Overlap]:
    """Every pair of agents (from ``pairs``) whose territories overlap, with witnesses.

    Args: ``territories`` maps agent name → patterns; ``pairs`` are the (agent_a, agent_b) pairs
    that may run at the same time (names missing from ``territories`` are skipped);
    ``repo_paths`` are the base tree's files, preferred as witnesses. Returns one ``Overlap``
    per overlapping pair, in ``pairs`` order, naming the same patterns and witnesses as
    ``overlap``. Invalid patterns are skipped. The decision is made on the automata first, so
    the repository paths are scanned only for pairs that do overlap. Raises ``TooComplex``
    (naming both agents and both patterns) for a pattern pair too complex to compare or once
    ``budget`` is spent.
    """
    valid = {agent: _valid(pats) for agent, pats in territories.items()}
    meets = _meeting_candidates(p for pats in valid.values() for p in pats)
    # Per agent, every pattern one of its own may meet: an agent pair none of whose patterns is
    # in the other's set is skipped after |territory| look-ups, whatever the plan's size.
    reach = {agent: set().union(*(meets[p] for p in pats)) for agent, pats in valid.items()}
    budget = budget or Budget()
    found: list[Overlap] = []
    for a, b in pairs:
        if a not in territories or b not in territories:
            continue
        if reach[a].isdisjoint(valid[b]):
            continue
        try:
            hit = _first_meeting(valid[a], valid[b], meets, budget)
            if hit is not None and repo_paths:
                hit = overlap(territories[a], territories[b], repo_paths) or hit
        except TooComplex as exc:
            raise exc.between(a, b) from None
        if hit is None:
            continue
        pattern_a, pattern_b, witnesses = hit
        found.append(Overlap(a, b, pattern_a, pattern_b, witnesses))
    return found


def _first_meeting(patterns_a: list[str], patterns_b: list[str], meets: dict[str, set[str]],
                   budget: Budget) -> tuple[str, str, tuple[str, ...]] | None:
    for pa in patterns_a:
        for pb in patterns_b:
            if pb in meets[pa]:
                witness = budget.compare(pa, pb)
                if witness is not None:
                    return pa, pb, (witness,)
    return None
