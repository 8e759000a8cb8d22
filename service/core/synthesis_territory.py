"""From groups to agents: names from categories, ``after`` for the testing agent, and territories
written compactly. Pure.

A folder replaces an agent's files when every file any finding references below it (in any
wave) is this agent's, no wildcard of another agent of its wave may reach into it, and it meets
no protected pattern. The deepest such folder is used (never the root): a file's own folder or
nothing, never a folder above it. Globs stay as written; a reference to a missing file is never
widened.

The arrangements tried, in order (``FOLDERS``): folders as above; the highest folder counting
only the agent's own wave (fewer patterns, for plans that would pass the 1,000-pattern limit
otherwise); literal files only.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from functools import cache

from .synthesis_layout import Group, ancestors, folder_of, glob_root, is_test_path, keys_meet, norm
from .synthesis_records import ProposedAgent
from .synthesis_refs import is_glob, meets_protected

# Short forms used when an agent's name joins several categories (`arch-perf`).
SHORT = {
    "architecture": "arch", "performance": "perf", "security": "sec", "documentation": "docs",
    "reliability": "rel", "observability": "obs", "accessibility": "a11y", "infrastructure": "infra",
    "configuration": "config", "dependencies": "deps", "maintainability": "maint", "correctness": "fix",
}
MAX_NAME = 40
_NOT_NAME = re.compile(r"[^a-z0-9]+")
_TEST_AFFIXES = re.compile(r"^test_|_test$|\.test$|\.spec$")
_TESTING_NAME = re.compile(r"(?:^|-)(?:test|tests|testing|coverage|qa)(?:-|$)")


def slug(text: str) -> str:
    """``"Error handling"`` → ``error-handling``: a valid agent name, possibly empty; past
    ``MAX_NAME`` characters, whole words only (a word is never cut)."""
    words = [w for w in _NOT_NAME.split(text.lower()) if w]
    out = ""
    for word in words:
        joined = f"{out}-{word}" if out else word
        if len(joined) > MAX_NAME:
            break
        out = joined
    return out or (words[0][:MAX_NAME] if words else "")


def _short(category: str) -> str:
    """A category's part of a joined name: its short form, else its first word, whole."""
    return SHORT.get(category, category.split("-")[0])


def base_name(group: Group) -> str:
    """The name an agent would get: ``testing`` for the testing group only; its category; its
    two main categories (by count, then first seen) in short forms (``arch-perf``); else its
    folder; else ``agent``. A testing category does not name a group of other work (a docs
    finding filed under "Testing" is docs work)."""
    if group.testing:
        return "testing"
    slugs = [s for s in (slug(c) for c in group.categories) if s and not _TESTING_NAME.search(s)]
    counts = Counter(slugs)
    ranked = sorted(counts, key=lambda c: (-counts[c], slugs.index(c)))
    if len(ranked) == 1:
        return ranked[0]
    if ranked:
        return "-".join(dict.fromkeys(_short(c) for c in ranked[:2]))
    return _folder(group) or "agent"


def _folder(group: Group) -> str:
    """A name part from the deepest folder all the group's keys share (its last segment), or
    empty when they share none."""
    folders = [folder_of(k) for k in group.keys]
    common = folders[0] if folders else ()
    for f in folders[1:]:
        common = common[: next((i for i, (x, y) in enumerate(zip(common, f, strict=False)) if x != y),
                               min(len(common), len(f)))]
    return slug(common[-1]) if common else ""


def names(groups: Sequence[Group]) -> list[str]:
    """Unique names, in ``groups`` order: a repeated name gets its folder (``security-scripts``),
    else a number (``security-2``). ``testing`` is kept for the testing group."""
    used: set[str] = set()
    out: list[str] = []
    for g in groups:
        name = base_name(g) or "agent"
        folder = _folder(g)
        candidates = [name] + ([f"{name}-{folder}"] if folder and folder != name else [])
        candidates += [f"{name}-{i}" for i in range(2, len(groups) + 3)]
        chosen = next(c for c in candidates if c not in used and (g.testing or c != "testing"))
        used.add(chosen)
        out.append(chosen)
    return out


def _stem(path: str) -> str:
    name = norm(path).rsplit("/", 1)[-1]
    return _TEST_AFFIXES.sub("", name.rsplit(".", 1)[0] if "." in name else name)


def testing_after(tests: Group, others: Sequence[tuple[str, Group]]) -> tuple[str, ...]:
    """The agents of the testing group's wave it waits for: those owning code it references,
    sharing a path with it, or holding a file its test files are named after (``test_x.py``)."""
    mine = tests.keys + tests.tested
    stems = {_stem(k) for k in tests.keys if is_test_path(k)}
    after = []
    for name, g in others:
        if g.wave != tests.wave or g.testing:
            continue
        if any(keys_meet(a, b) for a in mine for b in g.keys) or stems & {_stem(k) for k in g.keys}:
            after.append(name)
    return tuple(after)


FOLDERS = ("all-waves", "own-wave", "none")


def _owners(groups: Sequence[tuple[str, Group]], per_wave: bool) -> dict[tuple[int, str], set[str]]:
    """(wave or 0, folder or literal key) → the agents with a key at or below it: in any wave
    (wave 0), or in each wave when ``per_wave``."""
    owners: dict[tuple[int, str], set[str]] = defaultdict(set)
    for name, g in groups:
        wave = g.wave if per_wave else 0
        for k in g.keys:
            top = glob_root(k) if is_glob(k) else norm(k)
            for folder in ([top] if top else []) + ancestors(top):
                owners[(wave, folder)].add(name)
    return owners


def territories(groups: Sequence[tuple[str, Group]], protected: Sequence[str],
                folders: str = "all-waves", missing: frozenset[str] = frozenset()) -> dict[str, tuple[str, ...]]:
    """Each agent's territory: its keys, with folders written for files as ``folders`` (one of
    ``FOLDERS``) allows; the keys in ``missing`` (references to files that do not exist) are
    never replaced by a folder."""
    if folders == "none":
        return {name: tuple(sorted(set(g.keys))) for name, g in groups}
    per_wave = folders == "own-wave"
    owners = _owners(groups, per_wave)
    wave_globs: defaultdict[int, list[tuple[str, str]]] = defaultdict(list)
    for name, g in groups:
        wave_globs[g.wave] += [(name, k) for k in g.keys if is_glob(k)]

    @cache
    def free(folder: str, name: str, wave: int) -> bool:
        return (owners.get((wave if per_wave else 0, folder)) == {name}
                and not any(keys_meet(folder + "/", k) for other, k in wave_globs[wave] if other != name)
                and not meets_protected(folder + "/", protected))

    return {name: _compact(name, g, free, missing, deepest=not per_wave) for name, g in groups}


def _compact(name: str, group: Group, free, missing: frozenset[str], deepest: bool) -> tuple[str, ...]:
    out: set[str] = set()
    for k in group.keys:
        if is_glob(k) or k in missing:
            out.add(k)
            continue
        n = norm(k)
        if deepest:  # a folder key itself, else the file's own folder (a folder above it holds more)
            candidates = [n] if k.endswith("/") else ancestors(n)[:1]
        else:  # under the pattern limit's pressure: the highest free folder
            candidates = ancestors(n)[::-1] + ([n] if k.endswith("/") else [])
        folder = next((f for f in candidates if free(f, name, group.wave)), None)
        out.add(folder + "/" if folder is not None else k)
    if deepest:
        out = _joined(out, lambda f: free(f, name, group.wave), missing)
    return _covered_dropped(out)


def _joined(entries: set[str], free, missing: frozenset[str]) -> set[str]:
    """Entries sharing a free folder become that folder, deepest shared folder first, until no two
    share one (``tests/a/`` and ``tests/b/`` → ``tests/``); globs and missing files stay."""
    entries = set(entries)
    while True:
        held: Counter[str] = Counter()
        for e in entries:
            if not is_glob(e) and e not in missing:
                held.update(ancestors(norm(e)) if not e.endswith("/") else ancestors(norm(e) + "/x")[1:])
        shared = sorted((f for f, n in held.items() if n >= 2 and free(f)), key=lambda f: -f.count("/"))
        if not shared:
            return entries
        top = shared[0]
        entries = {e for e in entries if is_glob(e) or e in missing or not norm(e).startswith(top + "/")}
        entries.add(top + "/")


def _covered_dropped(out: set[str]) -> tuple[str, ...]:
    # A folder chosen for one key may cover another key kept literal: keep the folder only.
    folders = sorted(norm(p) for p in out if p.endswith("/"))
    return tuple(sorted(p for p in out if not any(norm(p).startswith(f + "/") for f in folders)
                        and not (not p.endswith("/") and norm(p) in folders)))


def agents(groups: Sequence[Group], protected: Sequence[str], folders: str = "all-waves",
           missing: frozenset[str] = frozenset()) -> tuple[ProposedAgent, ...]:
    """The proposed agents for the layout's ``groups`` (ordered by wave); ``missing`` as for
    ``territories``."""
    named = list(zip(names(groups), groups, strict=True))
    terr = territories(named, protected, folders, missing)
    out = []
    for name, g in named:
        after = testing_after(g, named) if g.testing else ()
        out.append(ProposedAgent(
            name=name, wave=g.wave, territory=terr[name], findings=tuple(sorted(g.findings)),
            keys=tuple(g.keys), after=after, categories=tuple(dict.fromkeys(g.categories)),
            parts=g.parts, tests=g.testing))
    return tuple(out)
