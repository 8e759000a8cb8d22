"""Group findings into agents, wave by wave: findings whose keys may share a path are one group
(exactly: literal paths by folder prefix, wildcards by automaton intersection), files that change
together join their groups, and groups are merged down to the agent limit. Pure.

Waves come from priorities (the distinct priorities of the code findings, in order: P0 first,
so no wave is empty); findings without a priority go to the last code wave. Findings that only
touch tests, or of a testing category with test files, form one testing group in the last wave.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from . import patterns
from .findings import Finding
from .synthesis_refs import is_glob

_TEST_DIRS = frozenset({"test", "tests", "spec", "specs", "__tests__", "e2e"})
_TEST_NAME = re.compile(r"^(?:test_.+|.+_test\.\w+|.+\.(?:test|spec)\.\w+|conftest\.py)$")
_TESTING_CATEGORY = re.compile(r"\b(?:test|tests|testing|coverage|qa)\b", re.IGNORECASE)


@dataclass
class Group:
    """Findings that go to one agent (mutable while the layout is built).

    ``keys``: the territory keys, in order; ``tested``: keys of code a testing group tests;
    ``parts``: how many groups sharing no file were merged into it to respect the agent limit.
    """

    wave: int
    findings: list[int]
    keys: list[str]
    categories: list[str]
    testing: bool = False
    tested: list[str] = field(default_factory=list)
    parts: int = 1

    @property
    def order(self) -> int:
        return min(self.findings)

    def absorb(self, other: Group) -> None:
        self.findings += other.findings
        self.keys += [k for k in other.keys if k not in self.keys]
        self.categories += other.categories
        self.tested += other.tested
        self.parts += other.parts


@dataclass(frozen=True)
class Layout:
    """The groups by wave (``groups``, ordered by wave then first finding), the findings placed
    in a later wave than their priority (``moved``: finding → (wave of its priority or None,
    wave placed)), and the co-change pairs that joined two groups (``joined``: path, path,
    commits, wave)."""

    groups: tuple[Group, ...]
    moved: Mapping[int, tuple[int | None, int]]
    joined: tuple[tuple[str, str, int, int], ...]


def norm(key: str) -> str:
    """A literal key without its trailing ``/`` (a file and a folder of one name meet)."""
    return key.rstrip("/")


def ancestors(path: str) -> list[str]:
    """``a/b/c`` → ``["a/b", "a"]``: the folders above a path, deepest first."""
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(len(parts) - 1, 0, -1)]


def glob_root(key: str) -> str:
    """The folder every path a glob matches lies in (``src/api`` for ``src/api/**/*.py``)."""
    return "/".join(patterns.literal_prefix(key))


def keys_meet(a: str, b: str) -> bool:
    """True when two keys may match one path: decided by folder prefix for literal keys and by
    the pattern automata otherwise; a comparison too complex to decide counts as meeting."""
    if not is_glob(a) and not is_glob(b):
        x, y = norm(a), norm(b)
        return x == y or x.startswith(y + "/") or y.startswith(x + "/")
    try:
        return patterns.shortest_common_path(a, b) is not None
    except patterns.PatternError:
        return True


def is_test_path(key: str) -> bool:
    """A path in a test folder (``tests/``, ``__tests__/`` …) or named like a test file."""
    parts = norm(key).split("/")
    return bool(_TEST_DIRS.intersection(parts[:-1])) or parts[-1] in _TEST_DIRS or bool(
        _TEST_NAME.match(parts[-1]))


def is_testing(finding: Finding, keys: Sequence[str]) -> bool:
    """Testing work: every key is a test path, or a testing category with some test path."""
    tests = [k for k in keys if is_test_path(k)]
    if not tests:
        return False
    return len(tests) == len(keys) or bool(finding.category and _TESTING_CATEGORY.search(finding.category))


def layout(findings: Sequence[Finding], keys: Mapping[int, tuple[str, ...]], limit: int,
           cochange: Mapping[tuple[str, str], int]) -> Layout:
    """Groups for ``findings`` (each with at least one key), at most ``limit`` per wave.

    The testing group, if any, takes one of the last code wave's places; with ``limit`` 1 it
    gets a wave of its own after it.
    """
    testing = [f for f in findings if is_testing(f, keys[f.number])]
    code = [f for f in findings if not is_testing(f, keys[f.number])]
    wave_of = _waves(code)
    last = max(wave_of.values(), default=1)
    test_wave = last + 1 if (limit == 1 and code) else last
    groups: list[Group] = []
    joined: list[tuple[str, str, int, int]] = []
    for wave in range(1, last + 1):
        members = [f for f in code if wave_of[f.number] == wave]
        found, pairs = _connected(wave, members, keys, cochange)
        joined += [(a, b, n, wave) for a, b, n in pairs]
        room = limit - 1 if (testing and wave == test_wave) else limit
        groups += fit(found, max(room, 1))
    if testing:
        groups.append(_testing_group(testing, keys, test_wave))
    moved = _moved(code, testing, wave_of, test_wave)
    return Layout(tuple(sorted(groups, key=lambda g: (g.wave, g.testing, g.order))), moved, tuple(joined))


def _waves(code: Sequence[Finding]) -> dict[int, int]:
    """Finding number → wave: the rank of its priority among the code findings' priorities;
    no priority → the last wave."""
    ranks = {p: i for i, p in enumerate(sorted({f.priority for f in code if f.priority is not None}), start=1)}
    last = max(len(ranks), 1)
    return {f.number: ranks.get(f.priority, last) if f.priority is not None else last for f in code}


def _priority_wave(finding: Finding, wave_of_priority: Mapping[int, int]) -> int | None:
    if finding.priority is None:
        return None
    later = [w for p, w in wave_of_priority.items() if p >= finding.priority]
    return min(later) if later else max(wave_of_priority.values(), default=None)


def _moved(code: Sequence[Finding], testing: Sequence[Finding], wave_of: Mapping[int, int],
           test_wave: int) -> dict[int, tuple[int | None, int]]:
    by_priority = {f.priority: wave_of[f.number] for f in code if f.priority is not None}
    moved: dict[int, tuple[int | None, int]] = {}
    for f in code:
        if f.priority is None and len(set(by_priority.values())) > 1:
            moved[f.number] = (None, wave_of[f.number])
    for f in testing:
        was = _priority_wave(f, by_priority)
        if (was or 1) < test_wave:
            moved[f.number] = (was, test_wave)
    return moved


def _testing_group(testing: Sequence[Finding], keys: Mapping[int, tuple[str, ...]], wave: int) -> Group:
    own = [k for f in testing for k in keys[f.number] if is_test_path(k)]
    tested = [k for f in testing for k in keys[f.number] if not is_test_path(k)]
    return Group(wave, [f.number for f in testing], list(dict.fromkeys(own)), _categories(testing),
                 testing=True, tested=list(dict.fromkeys(tested)))


def _categories(findings: Iterable[Finding]) -> list[str]:
    return [f.category for f in findings if f.category]


class _Union:
    """Union-find over keys."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, key: str) -> str:
        self.parent.setdefault(key, key)
        while self.parent[key] != key:
            self.parent[key] = self.parent[self.parent[key]]
            key = self.parent[key]
        return key

    def union(self, a: str, b: str) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra
        return ra != rb


def _connected(wave: int, members: Sequence[Finding], keys: Mapping[int, tuple[str, ...]],
               cochange: Mapping[tuple[str, str], int]) -> tuple[list[Group], list[tuple[str, str, int]]]:
    """The groups of one wave: findings linked through keys that may share a path, then through
    files changed together (returned as the pairs that joined two groups)."""
    union = _Union()
    for f in members:
        for k in keys[f.number]:
            union.union(keys[f.number][0], k)
    present = list(union.parent)
    _link_literals(union, [k for k in present if not is_glob(k)])
    _link_globs(union, present)
    joined = [(a, b, n) for (a, b), n in sorted(cochange.items())
              if a in union.parent and b in union.parent and union.union(a, b)]
    by_root: dict[str, Group] = {}
    for f in members:
        root = union.find(keys[f.number][0])
        group = by_root.setdefault(root, Group(wave, [], [], []))
        group.findings.append(f.number)
        group.keys += [k for k in keys[f.number] if k not in group.keys]
        group.categories += _categories([f])
    return list(by_root.values()), joined


def _link_literals(union: _Union, literal: Sequence[str]) -> None:
    first: dict[str, str] = {}
    for k in literal:
        union.union(first.setdefault(norm(k), k), k)
    for name, k in first.items():
        for folder in ancestors(name):
            if folder in first:
                union.union(first[folder], k)


def _link_globs(union: _Union, present: Sequence[str]) -> None:
    globs = [k for k in present if is_glob(k)]
    for g in globs:
        root = glob_root(g)
        for k in present:
            lead = glob_root(k) if is_glob(k) else norm(k)
            if k != g and (lead.startswith(root) or root.startswith(lead)) and keys_meet(g, k):
                union.union(g, k)


def folder_of(key: str) -> tuple[str, ...]:
    """The folder a key stands in, as segments: a glob's root, a folder key itself, a file's
    parent (``()`` for the root)."""
    if is_glob(key):
        return tuple(patterns.literal_prefix(key))
    parts = tuple(norm(key).split("/"))
    return parts if key.endswith("/") else parts[:-1]


def home(group: Group) -> tuple[str, ...]:
    """The folder most of a group's keys lie in, as segments (``()`` for the root)."""
    folders = Counter(folder_of(k) for k in group.keys)
    return folders.most_common(1)[0][0] if folders else ()


def _shared_depth(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    depth = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        depth += 1
    return depth


def fit(groups: list[Group], limit: int) -> list[Group]:
    """Merge groups until at most ``limit`` remain: the smallest (fewest findings, then first in
    the list) joins the group sharing the deepest folder with it, then one sharing a category,
    then the smallest."""
    groups = list(groups)
    homes = {id(g): home(g) for g in groups}
    while len(groups) > limit:
        small = min(groups, key=lambda g: (len(g.findings), g.order))
        mine, cats = homes[id(small)], set(small.categories)

        def preference(g: Group, mine=mine, cats=cats) -> tuple:
            return (_shared_depth(mine, homes[id(g)]), bool(cats & set(g.categories)),
                    -len(g.findings), -g.order)

        partner = max((g for g in groups if g is not small), key=preference)
        partner.absorb(small)
        groups.remove(small)
        homes[id(partner)] = home(partner)
    return groups
