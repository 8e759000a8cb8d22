"""Territory patterns (DESIGN §2.4): one translator to a regex and to an automaton, and the exact
overlap decision between two territories, with witness paths.

Every pattern is anchored at the repository root; ``*`` and ``?`` never cross ``/`` and do match
dot-files; a ``**`` segment spans any number of segments. A pattern claims a directory and
everything below it only when it says so: it ends with ``/`` (``tests/``) or its last segment is
``**`` (``docs/**``), or it is a literal path without wildcards (``broker/safety``). Any other
pattern (``*.md``, ``src/*.py``, ``docs/*``, ``**/conf.yml``) matches files at its own level
only, never what lies below a directory that happens to carry such a name; so ``**/*.md`` and
``**/*.py`` are disjoint.

A territory is a list of patterns where an entry starting with ``!`` is an exclusion: the
territory is the union of its positive patterns minus the union of its exclusions, whatever
their order. Overlaps are decided exactly on such territories (automaton intersection, with the
exclusions as automata a path must not reach).

The emitted regex has no anchors or lookarounds, so the same text serves ``re.fullmatch`` and
``interegular.parse_pattern(rx).to_fsm()`` (interegular rejects ``^``, ``$`` and lookarounds).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

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
# No newline either: `.` in a pattern's regex does not match one, and no real plan needs it.
_SEGMENT = r"(?:[^/.\n][^/\n]*|\.[^/.\n][^/\n]*|\.\.[^/\n]+)"
_VALID_PATH = f"{_SEGMENT}(?:/{_SEGMENT})*"
# Witnesses a person would believe, tried when the shortest valid path looks odd: first folders
# without dots and a file name with a stem (`src/a.py`), then any folder (`.github/workflows/a.yml`
# when a pattern names the dot-folder). The plain valid path is the last resort.
_PLAUSIBLE_PATHS = (r"(?:[^/.\n]+/)*[^/.\n][^/\n]*", rf"(?:{_SEGMENT}/)*[^/.\n][^/\n]*")


# Fix texts hold no parentheses: problem lists show a fix as `(fix: …)`.
PATTERN_FIX = ("write a path relative to the repository root, such as `src/api/`, `docs/*.md` or "
               "`**/conf.yml`")
FEWER_WILDCARDS_FIX = (f"use at most {MAX_WILDCARDS} wildcards, {MAX_DOUBLE_STARS} of them `**`: write the folder "
                       "names you know, `src/*/api/**/*.py` → `src/core/api/**/*.py`, or name the folder, "
                       "`src/api/`, which covers everything below it")
SHORTER_FIX = "name a folder higher up, such as `src/api/`, which covers everything below it"


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
        return ("`!` marks an exclusion, which only a `territory` entry may be (`!src/generated/`); "
                "list here the paths themselves"), PATTERN_FIX
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
    """Normalized segments: a trailing ``/`` becomes a final ``**`` and runs of ``**`` segments
    collapse to one."""
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


def claims_below(pattern: str) -> bool:
    """True when a valid pattern claims a directory and everything below it: it ends with ``/``,
    its last segment is ``**``, or it has no wildcard at all (``broker/safety``)."""
    body = pattern.lstrip("/")
    return body.endswith("/") or body.split("/")[-1] == "**" or not _has_wildcard(body)


def _has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


def _sequence(segments: list[str]) -> str:
    """The regex of a run of segments, ``**`` spanning zero or more whole segments."""
    out: list[str] = []
    last = len(segments) - 1
    for i, seg in enumerate(segments):
        if seg == "**":
            out.append("(?:.+/)?")
        else:
            out.append(_glob(seg) + ("/" if i < last else ""))
    return "".join(out)


@lru_cache(maxsize=8192)
def to_regex(pattern: str) -> str:
    """The anchor-free regex (whole-path semantics) for a valid pattern.

    Args: ``pattern`` — a territory pattern (no ``!``). Returns a regex string to use with
    ``re.fullmatch`` or ``interegular.parse_pattern``. Raises ``PatternError`` when
    ``pattern_problem`` objects.

    A pattern that claims a directory (``claims_below``) matches the paths below it (and, for a
    literal path, the path itself); any other pattern matches whole paths only, so ``docs/*``
    matches ``docs/a.md`` and not ``docs/x/b.md``. A pattern of ``**`` segments only names every
    path (``**``) or every path inside a folder (``**/``).
    """
    _check(pattern)
    segs = _segments(pattern)
    if segs[-1] == "**":
        segs.pop()  # `docs/**`, `docs/` and `docs/**/` all claim what is below `docs`
        if not segs:  # `**` is every path; `**/` (and `**/**`) the content of any folder
            return ".+" if pattern.lstrip("/") == "**" else ".+/.+"
        return _sequence(segs) + "/.+"
    if claims_below(pattern):
        return _sequence(segs) + "(?:/.+)?"
    return _sequence(segs)


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
def literal_text(pattern: str) -> str:
    """The text every path matched by a valid pattern starts with: the pattern up to its first
    wildcard (``src/api/v1-`` for ``/src/api/v1-*.py``; empty for ``**/x``)."""
    body = pattern.lstrip("/")
    cut = min((i for i in (body.find("*"), body.find("?")) if i >= 0), default=len(body))
    return body[:cut]


def may_meet(pattern_a: str, pattern_b: str) -> bool:
    """False when two valid patterns certainly match no common path: their literal leading
    texts diverge (a cheap pre-filter before the automata)."""
    a, b = literal_text(pattern_a), literal_text(pattern_b)
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


def _step(fsms: tuple[FSM, ...], negated: int, new_to_old: Sequence[Mapping[Any, Any]], state: tuple,
          key: object) -> tuple | None:
    """The product state after one transition class, or None when a required automaton has no
    such transition. The last ``negated`` automata are exclusions: one without the transition is
    left for good (``None``), which is what an exclusion wants."""
    nxt: list[Any] = []
    required = len(fsms) - negated
    for i, f in enumerate(fsms):
        current = state[i]
        row = f.map.get(current) if current is not None else None
        old = new_to_old[i][key]
        if row is None or old not in row:
            if i < required:
                return None
            nxt.append(None)
        else:
            nxt.append(row[old])
    return tuple(nxt)


def _accepting(fsms: tuple[FSM, ...], negated: int, state: tuple) -> bool:
    required = len(fsms) - negated
    return all((state[i] in f.finals) == (i < required) for i, f in enumerate(fsms))


def _path_to(parent: dict, state: tuple) -> str:
    chars: list[str] = []
    link = parent[state]
    while link is not None:
        state, ch = link
        chars.append(ch)
        link = parent[state]
    return "".join(reversed(chars))


def _shortest_common(fsms: tuple[FSM, ...], negated: int = 0) -> tuple[str | None, int]:
    """The shortest string accepted by every automaton but the last ``negated`` ones, and by none
    of those (most readable first among equals), or None, and how many product states the
    search explored. A breadth-first search over the product automaton, one representative
    character per transition class; interegular's own example generator can run for minutes on
    such products. Raises ``PatternError`` past ``MAX_PRODUCT_STATES``."""
    alphabet, new_to_old = Alphabet.union(*(f.alphabet for f in fsms))
    steps = sorted(
        (_rank(ch), key, ch)
        for key, symbols in alphabet.by_transition.items()
        for ch in (_representative(symbols, alphabet),)
    )
    start = tuple(f.initial for f in fsms)
    parent: dict[tuple, tuple[tuple, str] | None] = {start: None}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        if _accepting(fsms, negated, state):
            return _path_to(parent, state), len(parent)
        for _, key, ch in steps:
            target = _step(fsms, negated, new_to_old, state, key)
            if target is not None and target not in parent:
                parent[target] = (state, ch)
                queue.append(target)
        if len(parent) > MAX_PRODUCT_STATES:
            raise PatternError(f"the comparison explored more than {MAX_PRODUCT_STATES:,} states")
    return None, len(parent)


@lru_cache(maxsize=65536)
def shortest_common_path(pattern_a: str, pattern_b: str, excluded: tuple[str, ...] = ()) -> str | None:
    """The shortest plausible repository path both valid patterns match and no ``excluded``
    pattern matches, or None when there is none.

    Decided exactly on the automata (after a pre-filter on the literal leading text); only real
    paths count (no empty, ``.`` or ``..`` segment). Among the paths found, one a person would
    believe is preferred (``src/a.py`` rather than ``src/.py`` or ``x.md/a.py``). Raises
    ``PatternError`` for an invalid pattern, and ``TooComplex`` (naming the pair) for a pair too
    complex to compare (more than ``MAX_PRODUCT_STATES`` product states).
    """
    if not may_meet(pattern_a, pattern_b):
        return None
    key = (pattern_a, pattern_b, excluded)
    excluded = tuple(e for e in excluded if may_meet(e, pattern_a) and may_meet(e, pattern_b))
    pair = (_fsm(to_regex(pattern_a)), _fsm(to_regex(pattern_b)))
    negated = tuple(_fsm(to_regex(e)) for e in excluded)
    spent = 0
    witness: str | None = None
    try:
        for shape in (_VALID_PATH, *_PLAUSIBLE_PATHS):
            found, explored = _shortest_common((*pair, _fsm(shape), *negated), len(negated))
            spent += explored
            if found is None and witness is None:
                break  # no valid path at all: disjoint
            if witness is None or (found is not None and len(found) <= len(witness) + 1):
                # A stem (`a.py` for `.py`) is worth one character; a pattern that names a
                # dot-file or dot-folder keeps it (`.env`, not `.env/a`).
                witness = found
            if witness is not None and _plausible(witness):
                break
    except PatternError:
        raise TooComplex("the patterns are too complex to compare", (pattern_a, pattern_b)) from None
    if len(SEARCH_COST) > 65536:
        SEARCH_COST.clear()
    SEARCH_COST[key] = spent
    return witness


def _plausible(path: str) -> bool:
    # A witness is kept as soon as it is plausible; the later shapes are looser fallbacks.
    return re.fullmatch(_PLAUSIBLE_PATHS[0], path) is not None


# Product states each compared pair cost (filled as pairs are first compared; cached pairs are
# free), so one pre-flight can be held to ``MAX_PREFLIGHT_STATES`` in all.
SEARCH_COST: dict[tuple[str, str, tuple[str, ...]], int] = {}


class Budget:
    """The comparison work one pre-flight may spend, in product states: a plan of many
    wildcard-heavy patterns is refused with a clear problem instead of occupying a worker for
    minutes. ``compare`` raises ``TooComplex`` (naming the pattern pair that spent the last of
    it) once the budget is spent."""

    def __init__(self, states: int = 0) -> None:
        self.left = states or MAX_PREFLIGHT_STATES

    def compare(self, pattern_a: str, pattern_b: str, excluded: tuple[str, ...] = ()) -> str | None:
        """``shortest_common_path``, charged to this budget."""
        key = (pattern_a, pattern_b, excluded)
        cached = key in SEARCH_COST
        witness = shortest_common_path(pattern_a, pattern_b, excluded)
        if not cached:
            self.left -= SEARCH_COST.get(key, 0)
            if self.left < 0:
                raise TooComplex("the pre-flight's comparison limit ran out", (pattern_a, pattern_b),
                                 budget_spent=True)
        return witness


def is_exclusion(entry: str) -> bool:
    """True for a territory entry that removes paths (``!src/generated/``)."""
    return isinstance(entry, str) and entry.startswith("!")


def entry_problem(entry: str) -> str | None:
    """``pattern_problem`` for a territory entry, which may be an exclusion (``!`` + pattern)."""
    if is_exclusion(entry):
        return pattern_problem(entry[1:])
    return pattern_problem(entry)


def entry_fix(entry: str) -> str:
    """``pattern_fix`` for a territory entry, which may be an exclusion."""
    return pattern_fix(entry[1:] if is_exclusion(entry) else entry)


def split_territory(entries: Sequence[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(positive patterns, excluded patterns without their ``!``) of a territory, valid ones
    only, each in list order. Invalid entries are left out (``entry_problem`` reports them)."""
    positive = tuple(p for p in entries if not is_exclusion(p) and pattern_problem(p) is None)
    excluded = tuple(p[1:] for p in entries if is_exclusion(p) and pattern_problem(p[1:]) is None)
    return positive, excluded


def _valid(patterns: Sequence[str]) -> list[str]:
    return [p for p in patterns if pattern_problem(p) is None]


def territory_regex(entries: Sequence[str]) -> re.Pattern[str]:
    """One compiled regex (use ``fullmatch``) for the paths of a territory: any positive pattern
    and no exclusion. Results are cached per tuple of patterns."""
    return _territory_compiled(tuple(entries))


@lru_cache(maxsize=1024)
def _territory_compiled(entries: tuple[str, ...]) -> re.Pattern[str]:
    positive, excluded = split_territory(entries)
    if not positive:
        return re.compile("(?!)")
    body = "|".join(f"(?:{to_regex(p)})" for p in positive)
    if not excluded:
        return re.compile(body)
    guard = "|".join(f"(?:{to_regex(p)})" for p in excluded)
    return re.compile(rf"(?!(?:{guard})\Z)(?:{body})")


def _first_positive(positive: Sequence[str], path: str) -> str:
    return next(p for p in positive if _compiled(p).fullmatch(path))


def _real_witnesses(rx_a: re.Pattern[str], rx_b: re.Pattern[str], repo_paths: Sequence[str]) -> tuple[str, ...]:
    found: list[str] = []
    for path in repo_paths:
        if rx_a.fullmatch(path) and rx_b.fullmatch(path):
            found.append(path)
            if len(found) == MAX_REAL_WITNESSES:
                break
    return tuple(found)


def _real_overlap(entries_a: Sequence[str], entries_b: Sequence[str],
                  repo_paths: Sequence[str]) -> tuple[str, str, tuple[str, ...]] | None:
    rx_a, rx_b = territory_regex(entries_a), territory_regex(entries_b)
    for path in repo_paths:
        if rx_a.fullmatch(path) and rx_b.fullmatch(path):
            pa = _first_positive(split_territory(entries_a)[0], path)
            pb = _first_positive(split_territory(entries_b)[0], path)
            both = (territory_regex([pa, *_negated(entries_a)]), territory_regex([pb, *_negated(entries_b)]))
            return pa, pb, _real_witnesses(*both, repo_paths)
    return None


def _negated(entries: Sequence[str]) -> list[str]:
    return [p for p in entries if is_exclusion(p)]


def overlap(
    patterns_a: Sequence[str], patterns_b: Sequence[str], repo_paths: Sequence[str] = ()
) -> tuple[str, str, tuple[str, ...]] | None:
    """The first pair ``(pattern_a, pattern_b, witnesses)`` that can match one path of both
    territories, or None.

    Either list may hold exclusions (``!pattern``): a path in any exclusion of a list is not in
    that territory. Decided exactly by automaton intersection. Witnesses: real ``repo_paths`` in
    both territories first (up to 3), otherwise the shortest plausible path.

    Pairs are tried in list order (``patterns_a`` outer). When some repository path is in both
    territories, the pair reported is the first pair matching the first such path, and the
    witnesses are the repository paths that pair (less the exclusions) matches. Invalid patterns
    are skipped (they are reported by ``pattern_problem``). Raises ``TooComplex`` (naming the
    pattern pair) only for a pair too complex to compare.
    """
    valid_a, excluded_a = split_territory(patterns_a)
    valid_b, excluded_b = split_territory(patterns_b)
    if not valid_a or not valid_b:
        return None
    if repo_paths:
        hit = _real_overlap(patterns_a, patterns_b, repo_paths)
        if hit is not None:
            return hit
    excluded = tuple(dict.fromkeys(excluded_a + excluded_b))
    for pa in valid_a:
        for pb in valid_b:
            witness = shortest_common_path(pa, pb, excluded)
            if witness is not None:
                return pa, pb, (witness,)
    return None


def _meeting_candidates(patterns: Iterable[str]) -> dict[str, set[str]]:
    """For each distinct valid pattern, the patterns that pass the literal-text pre-filter with
    it (itself included), without comparing every pattern with every other: sorted by literal
    text, the patterns whose text extends a given text form one contiguous run."""
    entries = sorted((literal_text(p), p) for p in set(patterns))
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

    Args: ``territories`` maps agent name → territory entries (patterns, and exclusions written
    ``!pattern``); ``pairs`` are the (agent_a, agent_b) pairs that may run at the same time
    (names missing from ``territories`` are skipped); ``repo_paths`` are the base tree's files,
    preferred as witnesses. Returns one ``Overlap`` per overlapping pair, in ``pairs`` order,
    naming the same patterns and witnesses as ``overlap``. Invalid patterns are skipped. The
    decision is made on the automata first, so the repository paths are scanned only for pairs
    that do overlap. Raises ``TooComplex`` (naming both agents and both patterns) for a pattern
    pair too complex to compare or once ``budget`` is spent.
    """
    split = {agent: split_territory(entries) for agent, entries in territories.items()}
    meets = _meeting_candidates(p for positive, _ in split.values() for p in positive)
    # Per agent, every pattern one of its own may meet: an agent pair none of whose patterns is
    # in the other's set is skipped after |territory| look-ups, whatever the plan's size.
    reach = {agent: set().union(*(meets[p] for p in positive)) for agent, (positive, _) in split.items()}
    budget = budget or Budget()
    found: list[Overlap] = []
    for a, b in pairs:
        if a not in territories or b not in territories or reach[a].isdisjoint(split[b][0]):
            continue
        try:
            hit = _first_meeting(split[a], split[b], meets, budget)
            if hit is not None and repo_paths:
                hit = _real_overlap(territories[a], territories[b], repo_paths) or hit
        except TooComplex as exc:
            raise exc.between(a, b) from None
        if hit is not None:
            found.append(Overlap(a, b, *hit))
    return found


def _first_meeting(side_a: tuple[tuple[str, ...], tuple[str, ...]], side_b: tuple[tuple[str, ...], tuple[str, ...]],
                   meets: dict[str, set[str]], budget: Budget) -> tuple[str, str, tuple[str, ...]] | None:
    excluded = tuple(dict.fromkeys(side_a[1] + side_b[1]))
    for pa in side_a[0]:
        for pb in side_b[0]:
            if pb in meets[pa]:
                witness = budget.compare(pa, pb, excluded)
                if witness is not None:
                    return pa, pb, (witness,)
    return None


def empty_patterns(entries: Sequence[str], budget: Budget | None = None) -> list[tuple[str, tuple[str, ...]]]:
    """The positive patterns of a territory that its exclusions remove entirely, each with the
    exclusions that meet it: ``[(pattern, (exclusion, …)), …]`` in list order. When every
    positive pattern is listed, the territory is empty. Raises ``TooComplex`` past a limit."""
    positive, excluded = split_territory(entries)
    budget = budget or Budget()
    out: list[tuple[str, tuple[str, ...]]] = []
    for p in positive:
        meeting = tuple(e for e in excluded if may_meet(e, p))
        if meeting and budget.compare(p, p, meeting) is None:
            out.append((p, meeting))
    return out
