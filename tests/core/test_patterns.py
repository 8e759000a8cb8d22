"""Pattern semantics (DESIGN §2.4), refusals, and the exact overlap decision with witnesses."""

import itertools
import re
import time
from fnmatch import fnmatchcase

import interegular
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.core import patterns as P
from service.core.model import Overlap


def _fits(parts: list[str], segs: list[str]) -> bool:
    """Every segment matched in order; ``**`` takes zero or more whole segments."""
    if not parts:
        return not segs
    if parts[0] == "**":
        return any(_fits(parts[1:], segs[k:]) for k in range(len(segs) + 1))
    return bool(segs) and fnmatchcase(segs[0], parts[0]) and _fits(parts[1:], segs[1:])


def reference(pattern: str, path: str) -> bool:
    """The rules as written in DESIGN §2.4, segment by segment: the normative reference.

    A pattern claims a folder (a non-empty leading part of the path) and everything below it when
    it ends with ``/`` or ``/**``, or has no wildcard (then the path itself counts too); any other
    pattern matches the whole path. ``*`` and ``?`` stay inside a segment (``fnmatchcase`` on one
    segment, dot-files included)."""
    body = pattern.lstrip("/")
    segs = path.split("/")
    parts = body.rstrip("/").split("/")
    if body == "**":
        return True
    below = body.endswith("/") or parts[-1] == "**"
    if parts[-1] == "**" and not body.endswith("/"):
        parts = parts[:-1]
    if below:
        return any(_fits(parts, segs[:k]) for k in range(1, len(segs)))
    if "*" not in body and "?" not in body:
        return any(_fits(parts, segs[:k]) for k in range(1, len(segs) + 1))
    return _fits(parts, segs)


def territory_reference(entries: list[str], path: str) -> bool:
    """A path is in a territory when a positive entry matches it and no ``!`` entry does."""
    return any(reference(e, path) for e in entries if not e.startswith("!")) and not any(
        reference(e[1:], path) for e in entries if e.startswith("!"))


def valid_path(path: str) -> bool:
    return all(seg not in ("", ".", "..") for seg in path.split("/"))


# --------------------------------------------------------------------------- DESIGN §2.4 table

TABLE = [
    ("tests/", ["tests/a.py", "tests/unit/b.py"], ["src/tests/a.py", "tests"]),
    ("broker/safety", ["broker/safety/halt_store.py"], ["broker/safety_net.py"]),
    ("docs/*", ["docs/a.md"], ["docs/x/b.md"]),
    ("docs/**", ["docs/a.md", "docs/x/b.md"], ["docs"]),
    ("*.md", ["README.md"], ["docs/a.md"]),
    ("**/*.md", ["README.md", "docs/x/a.md"], ["a.mdx"]),
    ("src/*.py", ["src/a.py", "src/.hidden.py"], ["src/x/a.py"]),
    ("**/conf.yml", ["conf.yml", "a/b/conf.yml"], ["conf.yaml"]),
]
TABLE_ROWS = [(p, path, True) for p, yes, _ in TABLE for path in yes] + [
    (p, path, False) for p, _, no in TABLE for path in no
]


@pytest.mark.parametrize(("pattern", "path", "expected"), TABLE_ROWS)
def test_design_table(pattern, path, expected):
    assert P.matches(pattern, path) is expected
    assert P.matches("/" + pattern, path) is expected  # a leading `/` changes nothing
    assert reference(pattern, path) is expected


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("deploy/**", "deploy/.helm/values.yaml", True),
        ("scripts/*.sh", "scripts/.bootstrap.sh", True),
        ("scripts/*.sh", "scripts/x/run.sh", False),
        ("*", "README.md", True),
        ("*", "docs/a.md", False),  # a lone `*` names one root entry, not its subtree
        ("**", "a/b/c", True),
        ("**/", "a", False),  # directories only: a root file is no directory's content
        ("**/", "a/b", True),
        ("a/**/b", "a/b", True),
        ("a/**/b", "a/x/y/b", True),
        ("a/**/b", "a/x/y/b/c", False),  # wildcards and a literal last segment: that path only
        ("**/*.py", "x.md/a.py", True),
        ("**/*.md", "x.md/a.py", False),  # a wildcard last segment names files, not folders
        ("**/conf.yml", "a/conf.yml/b", False),
        ("docs/*", "docs/a/b", False),
        ("src/*/api/", "src/v1/api/a.py", True),
        ("tests", "tests", True),
        ("tests", "tests/a/b.py", True),
        ("**/**", "a", False),
        ("a/**/b", "a/xb", False),
        ("a?c", "abc", True),
        ("a?c", "a/c", False),
        ("src/*", "src/.env", True),
        ("Makefile", "Makefile", True),
        ("Makefile", "Makefile.in", False),
        ("Makefile", "src/Makefile", False),  # anchored at the root, unlike gitignore
        ("a+b(c)", "a+b(c)", True),
        ("a.b", "axb", False),
    ],
)
def test_more_semantics(pattern, path, expected):
    assert P.matches(pattern, path) is expected
    assert reference(pattern, path) is expected


def test_regex_is_anchor_free_and_the_automaton_agrees():
    paths = ["a", "a/b", "docs/a.md", "docs/x/b.md", ".github/workflows/ci.yml", "src/.hidden.py", "x.md/y"]
    for pattern in ["docs/*", "**/*.md", "src/*.py", "tests/", "**/", "**", "a/**/b", ".github/"]:
        rx = P.to_regex(pattern)
        assert not rx.startswith("^") and not rx.endswith("$")
        fsm = interegular.parse_pattern(rx).to_fsm()
        for path in paths:
            assert fsm.accepts(path) == bool(re.fullmatch(rx, path)) == reference(pattern, path), (pattern, path)


def test_compile_patterns_matches_any():
    rx = P.compile_patterns(["docs/", "*.md"])
    assert rx.fullmatch("docs/a/b") and rx.fullmatch("README.md")
    assert not rx.fullmatch("src/a.md")
    assert not P.compile_patterns([]).fullmatch("a")


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("pattern", "fragment"),
    [
        ("", "empty"),
        ("/", "empty"),
        ("a/../b", "`..`"),
        ("..", "`..`"),
        ("a\\b", "backslash"),
        ("a\0b", "NUL"),
        ("!secret", "exclusion"),
        ("src/[ab].py", "ranges"),
        ("src/a].py", "ranges"),
        ("x" * 257, "257"),
        ("a//b", "empty segment"),
        ("./a", "`.`"),
        ("a/./b", "`.`"),
        ("docs/ ", "whitespace"),
        ("a\nb", "control"),
        ("*a" * 9, "wildcards"),
        ("/".join(["**", "a"] * 5), "`**`"),
    ],
)
def test_refusals(pattern, fragment):
    problem = P.pattern_problem(pattern)
    assert problem is not None and fragment in problem
    with pytest.raises(P.PatternError):
        P.to_regex(pattern)
    with pytest.raises(P.PatternError):
        P.matches(pattern, "a")


@pytest.mark.parametrize("pattern", ["x" * 256, "/docs/", "a b/c", "**/*.md", "#notes", "a/!b", "*" * 8])
def test_accepted(pattern):
    assert P.pattern_problem(pattern) is None


BLOWUP = [
    "*a" * 8,
    "?" * 8,
    "**/*/*/*/**/*/*/*",
    "**/a*/**/*a/**/*a*/**/x",
    "*a*a/**/a*a*/**/aa",
    "**/*x*x*x*x*x*x*x",
    "**/.*/**/.*/**/.*/*",
    "*b/**/*.*/*b/*.*/?*/?/*/*/?*/?*/",  # 12 wildcards: refused
    "**/" * 40 + "x",  # 40 `**`: refused
    "*" * 200,  # refused
    "**/" + "*?" * 60,  # refused
]


@pytest.mark.parametrize("pattern", BLOWUP)
def test_blowup_patterns_are_refused_or_decided_fast(pattern):
    start = time.perf_counter()
    if P.pattern_problem(pattern) is None:
        P._fsm(P.to_regex(pattern))
        for other in ["**", "**/x/", "a/b/c", pattern]:
            P.shortest_common_path(pattern, other)
    assert time.perf_counter() - start < 1.0


def test_worst_accepted_pairs_decided_under_a_second_each():
    accepted = [p for p in BLOWUP if P.pattern_problem(p) is None]
    assert len(accepted) >= 6
    for a, b in itertools.combinations(accepted, 2):
        start = time.perf_counter()
        witness = P.shortest_common_path(a, b)
        assert time.perf_counter() - start < 1.0, (a, b)
        if witness is not None:
            assert P.matches(a, witness) and P.matches(b, witness)


# --------------------------------------------------------------------------- overlap


@pytest.mark.parametrize(
    ("a", "b", "witness"),
    [
        (["/config/"], ["/config/.secrets/"], "config/.secrets/a"),
        (["config/**"], ["config/*/.env"], "config/a/.env"),
        ([".github/"], [".github/workflows/"], ".github/workflows/a"),
        (["tests/unit/"], ["tests/**/test_*.py"], "tests/unit/test_.py"),
        (["**/"], ["*/"], "a/a"),
        (["src/**/*.py"], ["src/api/"], "src/api/a.py"),
        (["**/*.md"], ["**/*.md"], "a.md"),  # a file name with a stem, never `.md`
        (["src/", "!src/gen/"], ["src/"], "src/a"),
        (["**/*.yml"], [".github/workflows/"], ".github/workflows/a.yml"),
        (["tests/"], ["tests"], "tests/a"),  # `tests` also covers the folder's content  # never a path with an empty segment
        (["broker/main.py", "broker/api/"], ["broker/api/auth.py"], "broker/api/auth.py"),
    ],
)
def test_overlap_witness(a, b, witness):
    pa, pb, witnesses = P.overlap(a, b)
    assert witnesses == (witness,)
    assert P.matches(pa, witness) and P.matches(pb, witness)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (["src/api/**"], ["src/web/**"]),
        (["broker/safety"], ["broker/safety_net.py"]),
        (["docs/*"], ["docs/*/x"]),
        (["a/b"], ["a/c/", "b/**"]),
        (["**/"], ["?"]),  # `?` names a root file, and `**/` what is inside folders
        (["src/", "!src/gen/"], ["src/gen/"]),
        (["src/gen/", "!src/gen/"], ["**"]),
        (["**/*.py"], ["**/*.md"]),
        ([], ["**"]),
    ],
)
def test_no_overlap(a, b):
    assert P.overlap(a, b) is None


def test_overlap_prefers_real_files_up_to_three():
    repo = ["README.md", "config/.secrets/db.env", "config/.secrets/api.env", "config/a", "config/.secrets/x",
            "config/.secrets/y"]
    pa, pb, witnesses = P.overlap(["/config/"], ["/config/.secrets/"], repo)
    assert (pa, pb) == ("/config/", "/config/.secrets/")
    assert witnesses == ("config/.secrets/db.env", "config/.secrets/api.env", "config/.secrets/x")


def test_overlap_real_file_names_the_pair_that_matches_it():
    pa, pb, witnesses = P.overlap(["a/", "b/"], ["**/*.md"], ["b/x.md"])
    assert (pa, pb, witnesses) == ("b/", "**/*.md", ("b/x.md",))


def test_overlap_skips_invalid_patterns():
    assert P.overlap(["../x", "a/"], ["a/b"]) == ("a/", "a/b", ("a/b",))


def test_find_overlaps_records():
    territories = {
        "x": ["/config/"],
        "y": ["/config/.secrets/"],
        "z": ["src/"],
        "w": ["config/**"],
    }
    pairs = [("x", "y"), ("x", "z"), ("y", "z"), ("y", "w"), ("x", "ghost")]
    found = P.find_overlaps(territories, pairs, repo_paths=["config/.secrets/k.pem"])
    assert found == [
        Overlap("x", "y", "/config/", "/config/.secrets/", ("config/.secrets/k.pem",)),
        Overlap("y", "w", "/config/.secrets/", "config/**", ("config/.secrets/k.pem",)),
    ]
    assert P.find_overlaps(territories, [("x", "w")]) == [
        Overlap("x", "w", "/config/", "config/**", ("config/a",))
    ]


# --------------------------------------------------------------------------- properties

SEG_TOKENS = ["a", "b", ".", "_", "-", "*", "?"]
PATH_CHARS = ["a", "b", ".", "_", "-"]

pattern_segment = st.one_of(
    st.just("**"), st.lists(st.sampled_from(SEG_TOKENS), min_size=1, max_size=3).map("".join)
)
patterns = st.builds(
    lambda lead, segs, trail: lead + "/".join(segs) + trail,
    st.sampled_from(["", "/"]),
    st.lists(pattern_segment, min_size=1, max_size=4),
    st.sampled_from(["", "/"]),
).filter(lambda p: P.pattern_problem(p) is None)
paths = st.lists(
    st.lists(st.sampled_from(PATH_CHARS), min_size=1, max_size=3).map("".join), min_size=1, max_size=4
).map("/".join).filter(valid_path)


@settings(max_examples=500, deadline=None)
@given(patterns, st.lists(paths, min_size=1, max_size=8))
def test_property_regex_equals_the_reference(pattern, sample):
    rx = re.compile(P.to_regex(pattern))
    for path in sample:
        assert bool(rx.fullmatch(path)) == reference(pattern, path), (pattern, path)


UNIVERSE = [
    "/".join(segs)
    for n in (1, 2, 3)
    for segs in itertools.product(["a", "b", ".a", "a.b", "_", "-b"], repeat=n)
]

small_patterns = st.builds(
    lambda segs, trail: "/".join(segs) + trail,
    st.lists(
        st.one_of(st.just("**"), st.lists(st.sampled_from(["a", "b", ".", "*", "?"]), min_size=1, max_size=2)
                  .map("".join)),
        min_size=1,
        max_size=3,
    ),
    st.sampled_from(["", "/"]),
).filter(lambda p: P.pattern_problem(p) is None)


@settings(max_examples=300, deadline=None)
@given(small_patterns, small_patterns)
def test_property_overlap_agrees_with_brute_force(a, b):
    brute = [p for p in UNIVERSE if P.matches(a, p) and P.matches(b, p)]
    hit = P.overlap([a], [b])
    if brute:
        assert hit is not None, (a, b, brute[:3])
    if hit is not None:
        (witness,) = hit[2]
        assert valid_path(witness)
        assert P.matches(a, witness) and P.matches(b, witness)
        assert reference(a, witness) and reference(b, witness)
        if brute:  # the shortest, or one character longer for a file name with a stem
            assert len(witness) <= min(len(p) for p in brute) + 1


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(["p", "q", "r", "s"]), st.lists(small_patterns, min_size=1, max_size=3),
                       min_size=2))
def test_property_find_overlaps_equals_pairwise_overlap(territories):
    names = sorted(territories)
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
    expected = [
        Overlap(a, b, *hit) for a, b in pairs if (hit := P.overlap(territories[a], territories[b])) is not None
    ]
    assert P.find_overlaps(territories, pairs) == expected


def test_extension_globs_name_files_so_they_never_meet():
    assert P.overlap(["**/*.md"], ["**/*.py"]) is None
    assert P.overlap(["docs/*.md"], ["src/**/*.md"]) is None
    assert P.overlap(["**/*.py"], [".github/workflows/"]) == (
        "**/*.py", ".github/workflows/", (".github/workflows/a.py",))


@pytest.mark.parametrize(
    ("pattern", "fragment"),
    [
        ("*a" * 9, "at most 8 wildcards"),
        ("/".join(["**", "a"] * 5), "at most 8 wildcards"),
        ("x" * 257, "folder higher up"),
        ("a/../b", "relative to the repository root"),
        ("src/api/", ""),
    ],
)
def test_pattern_fix_matches_the_problem(pattern, fragment):
    fix = P.pattern_fix(pattern)
    assert fix == "" if not fragment else fragment in fix


def test_a_pair_past_the_product_limit_names_both_patterns(monkeypatch):
    monkeypatch.setattr(P, "MAX_PRODUCT_STATES", 2)
    P.shortest_common_path.cache_clear()
    with pytest.raises(P.TooComplex) as caught:
        P.shortest_common_path("**/*a*/x", "**/*b*/x")
    P.shortest_common_path.cache_clear()
    assert caught.value.patterns == ("**/*a*/x", "**/*b*/x")
    assert "`**/*a*/x` and `**/*b*/x`" in str(caught.value)


def test_find_overlaps_names_the_agents_whose_comparison_spent_the_budget():
    P.shortest_common_path.cache_clear()
    P.SEARCH_COST.clear()
    with pytest.raises(P.TooComplex) as caught:
        P.find_overlaps({"a": ["**/*a*/x"], "b": ["**/*b*/x"]}, [("a", "b")], budget=P.Budget(states=1))
    P.shortest_common_path.cache_clear()
    P.SEARCH_COST.clear()
    assert caught.value.agents == ("a", "b") and caught.value.budget_spent


# --------------------------------------------------------------------------- exclusions

territories_with_exclusions = st.tuples(
    st.lists(small_patterns, min_size=1, max_size=2),
    st.lists(small_patterns.map(lambda p: "!" + p), max_size=2),
).map(lambda t: t[0] + t[1])


@settings(max_examples=300, deadline=None)
@given(territories_with_exclusions, st.lists(st.sampled_from(UNIVERSE), min_size=1, max_size=10))
def test_property_territory_regex_equals_the_reference(entries, sample):
    rx = P.territory_regex(entries)
    for path in sample:
        assert bool(rx.fullmatch(path)) == territory_reference(entries, path), (entries, path)


@settings(max_examples=300, deadline=None)
@given(territories_with_exclusions, territories_with_exclusions)
def test_property_overlap_with_exclusions_agrees_with_brute_force(a, b):
    brute = [p for p in UNIVERSE if territory_reference(a, p) and territory_reference(b, p)]
    hit = P.overlap(a, b)
    if brute:
        assert hit is not None, (a, b, brute[:3])
    if hit is not None:
        (witness,) = hit[2]
        assert valid_path(witness)
        assert territory_reference(a, witness) and territory_reference(b, witness)


def test_exclusions_are_order_independent():
    assert P.overlap(["!src/gen/", "src/"], ["src/gen/"]) is None
    assert P.territory_regex(["!src/gen/", "src/"]).fullmatch("src/a.py")
    assert not P.territory_regex(["!src/gen/", "src/"]).fullmatch("src/gen/a.py")


def test_empty_patterns_name_what_removes_them():
    assert P.empty_patterns([".github/workflows/ci.yml", "src/", "!.github/workflows/"]) == [
        (".github/workflows/ci.yml", (".github/workflows/",))]
    assert P.empty_patterns(["src/", "!src/gen/"]) == []


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(["p", "q", "r"]), territories_with_exclusions, min_size=2))
def test_property_find_overlaps_with_exclusions_equals_pairwise_overlap(territories):
    names = sorted(territories)
    pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
    expected = [
        Overlap(a, b, *hit) for a, b in pairs if (hit := P.overlap(territories[a], territories[b])) is not None
    ]
    assert P.find_overlaps(territories, pairs) == expected
