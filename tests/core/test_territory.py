"""Territory classification (DESIGN §3.3) against the shared cases: dot paths, renames out of a
territory, deletions in another territory, capped file lists."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.core.model import (
    Agent,
    AgentPR,
    ChangedFile,
    ChangeSet,
    Conclusion,
    FileSource,
    PathKind,
    PathVerdict,
    Plan,
    PrState,
    RepoConfig,
    Side,
)
from service.core.patterns import matches
from service.core.territory import PlanMatcher, classify_agent_pr, classify_other_pr


def files(*entries: dict) -> ChangeSet:
    """A change set from entries shaped like GitHub's ``pulls/list-files`` items."""
    return ChangeSet(
        tuple(ChangedFile(e["filename"], e.get("status", "modified"), e.get("previous_filename")) for e in entries)
    )


def kinds(verdict):
    return {(p.path, p.side): p.kind for p in verdict.paths}


def by_path(verdict):
    return {p.path: p for p in verdict.paths}


# --------------------------------------------------------------------------- dot paths

DOT_PLAN = Plan(
    agents=(
        Agent("infra", ("deploy/**", "scripts/*.sh")),
        Agent("api", ("/services/api/",)),
        Agent("web", ("/apps/web/",), wave=2),
    ),
    strict=True,
)
DOT_PRS = {
    "infra": AgentPR("infra", 51, PrState.OPEN),
    "api": AgentPR("api", 52, PrState.OPEN),
    "web": AgentPR("web", 53, PrState.OPEN),
}


def test_dot_paths_pr51_success():
    changes = files(
        {"filename": "deploy/.helm/values.yaml", "status": "modified"},
        {"filename": "scripts/.bootstrap.sh", "status": "added"},
    )
    verdict = classify_agent_pr(DOT_PLAN, "infra", changes, DOT_PRS)
    assert verdict.conclusion is Conclusion.SUCCESS
    assert [p.kind for p in verdict.paths] == [PathKind.OWN, PathKind.OWN]
    assert [p.rule for p in verdict.paths] == ["deploy/**", "scripts/*.sh"]
    assert verdict.strict is True


def test_dot_paths_pr53_failure():
    changes = files(
        {"filename": "services/api/.env.production", "status": "modified"},
        {"filename": ".github/workflows/ci.yml", "status": "modified"},
        {"filename": ".editorconfig", "status": "modified"},
        {"filename": "apps/web/.eslintrc.json", "status": "modified"},
    )
    verdict = classify_agent_pr(DOT_PLAN, "web", changes, DOT_PRS)
    assert verdict.conclusion is Conclusion.FAILURE
    paths = by_path(verdict)
    crossing = paths["services/api/.env.production"]
    assert (crossing.kind, crossing.owner, crossing.owner_pr) == (PathKind.CROSSING, "api", 52)
    forbidden = paths[".github/workflows/ci.yml"]
    assert (forbidden.kind, forbidden.source, forbidden.rule) == (PathKind.FORBIDDEN, "protected", ".github/workflows/")
    assert paths[".editorconfig"].kind is PathKind.UNOWNED
    assert paths["apps/web/.eslintrc.json"].kind is PathKind.OWN
    assert {p.path for p in verdict.offending} == {
        "services/api/.env.production",
        ".github/workflows/ci.yml",
        ".editorconfig",
    }


def test_dot_paths_unowned_is_a_notice_when_not_strict():
    plan = Plan(agents=DOT_PLAN.agents, strict=None)
    verdict = classify_agent_pr(plan, "web", files({"filename": ".editorconfig"}), DOT_PRS)
    assert verdict.conclusion is Conclusion.SUCCESS
    assert [p.path for p in verdict.notices] == [".editorconfig"]


# --------------------------------------------------------------------------- renames

RENAME_PLAN = Plan(
    agents=(
        Agent("core", ("/packages/core/",), findings=("F-01: the signal primitive has no docs example",)),
        Agent("docs", ("/docs/",), findings=("F-02: examples live outside docs/",)),
    )
)
RENAME_PRS = {"core": AgentPR("core", 30, PrState.OPEN), "docs": AgentPR("docs", 31, PrState.OPEN)}


def test_rename_out_of_territory():
    changes = files(
        {"filename": "docs/examples/signal.ts", "status": "renamed",
         "previous_filename": "packages/core/primitives/signal.ts", "additions": 0, "deletions": 0, "changes": 0},
        {"filename": "docs/index.md", "status": "modified", "additions": 3, "deletions": 1, "changes": 4},
    )
    verdict = classify_agent_pr(RENAME_PLAN, "docs", changes, RENAME_PRS)
    assert verdict.conclusion is Conclusion.FAILURE
    assert kinds(verdict) == {
        ("docs/examples/signal.ts", Side.NEW): PathKind.OWN,
        ("packages/core/primitives/signal.ts", Side.OLD): PathKind.CROSSING,
        ("docs/index.md", Side.NEW): PathKind.OWN,
    }
    (old,) = verdict.offending
    assert (old.path, old.side, old.counterpart, old.status) == (
        "packages/core/primitives/signal.ts", Side.OLD, "docs/examples/signal.ts", "renamed"
    )
    assert (old.owner, old.owner_pr) == ("core", 30)


@pytest.mark.parametrize(
    ("entry", "strict", "conclusion", "offending"),
    [
        ({"filename": "docs/b.md", "previous_filename": "docs/a.md"}, None, Conclusion.SUCCESS, []),
        ({"filename": "packages/core/x.md", "previous_filename": "docs/x.md"}, None, Conclusion.FAILURE,
         [("packages/core/x.md", Side.NEW, PathKind.CROSSING, "core", 30, None)]),
        ({"filename": "docs/ci.yml", "previous_filename": ".github/workflows/ci.yml"}, None, Conclusion.FAILURE,
         [(".github/workflows/ci.yml", Side.OLD, PathKind.FORBIDDEN, None, None, "protected")]),
        ({"filename": "docs/gen.py", "previous_filename": "tools/gen.py"}, None, Conclusion.SUCCESS, []),
        ({"filename": "docs/gen.py", "previous_filename": "tools/gen.py"}, True, Conclusion.FAILURE,
         [("tools/gen.py", Side.OLD, PathKind.UNOWNED, None, None, None)]),
    ],
)
def test_rename_variants(entry, strict, conclusion, offending):
    plan = Plan(agents=RENAME_PLAN.agents, strict=strict)
    verdict = classify_agent_pr(plan, "docs", files({**entry, "status": "renamed"}), RENAME_PRS)
    assert verdict.conclusion is conclusion
    assert [(p.path, p.side, p.kind, p.owner, p.owner_pr, p.source) for p in verdict.offending] == offending


def test_rename_unowned_old_path_is_a_notice():
    entry = {"filename": "docs/gen.py", "status": "renamed", "previous_filename": "tools/gen.py"}
    verdict = classify_agent_pr(RENAME_PLAN, "docs", files(entry), RENAME_PRS)
    assert [(p.path, p.side) for p in verdict.notices] == [("tools/gen.py", Side.OLD)]


# --------------------------------------------------------------------------- deletions

DELETE_PLAN = Plan(
    agents=(
        Agent("api", ("/services/api/",), findings=("F-30: index migration is slow",)),
        Agent("web", ("/apps/web/",), wave=2, findings=("F-31: dead page still shipped",),
              do_not_modify=("/db/schema.sql",)),
    )
)
DELETE_PRS = {"api": AgentPR("api", 49, PrState.OPEN), "web": AgentPR("web", 50, PrState.OPEN)}


def test_deleted_files_are_changes():
    changes = files(
        {"filename": "services/api/migrations/0007_add_index.sql", "status": "removed"},
        {"filename": "db/schema.sql", "status": "removed"},
        {"filename": "apps/web/src/old-page.tsx", "status": "removed"},
    )
    verdict = classify_agent_pr(DELETE_PLAN, "web", changes, DELETE_PRS)
    assert verdict.conclusion is Conclusion.FAILURE
    assert [(p.path, p.kind, p.status, p.owner, p.owner_pr, p.source) for p in verdict.offending] == [
        ("services/api/migrations/0007_add_index.sql", PathKind.CROSSING, "removed", "api", 49, None),
        ("db/schema.sql", PathKind.FORBIDDEN, "removed", None, None, "do_not_modify"),
    ]
    assert by_path(verdict)["apps/web/src/old-page.tsx"].kind is PathKind.OWN


@pytest.mark.parametrize(
    ("entry", "conclusion", "crossing"),
    [
        ({"filename": "apps/web/schema.sql", "status": "copied", "previous_filename": "services/api/schema.sql"},
         Conclusion.FAILURE, "services/api/schema.sql"),
        ({"filename": "services/api/run.sh", "status": "changed"}, Conclusion.FAILURE, "services/api/run.sh"),
        ({"filename": "services/api/x.py", "status": "unchanged"}, Conclusion.FAILURE, "services/api/x.py"),
        ({"filename": "services/api/x.py", "status": "typechanged"}, Conclusion.FAILURE, "services/api/x.py"),
        ({"filename": "apps/web/gone.css", "status": "removed"}, Conclusion.SUCCESS, None),
    ],
)
def test_deleted_variants_every_status_counts(entry, conclusion, crossing):
    verdict = classify_agent_pr(DELETE_PLAN, "web", files(entry), DELETE_PRS)
    assert verdict.conclusion is conclusion
    assert [(p.path, p.owner, p.owner_pr, p.status) for p in verdict.offending] == (
        [(crossing, "api", 49, entry["status"])] if crossing else []
    )


# --------------------------------------------------------------------------- capped lists

CAPPED_PLAN = Plan(agents=(Agent("api", ("/services/api/",)), Agent("web", ("/apps/web/",), wave=2)))
CAPPED_PRS = {"api": AgentPR("api", 40, PrState.OPEN), "web": AgentPR("web", 41, PrState.MISSING)}
GEN = tuple(ChangedFile(f"services/api/gen/model_{i:04d}.py", "added") for i in range(3000))


def test_capped_tree_diff_reports_crossing():
    extra = tuple(ChangedFile(f"services/api/more/m{i}.py", "added") for i in range(149))
    changes = ChangeSet(GEN + extra + (ChangedFile("apps/web/src/app.tsx"),), FileSource.TREE, 3000, 3150)
    verdict = classify_agent_pr(CAPPED_PLAN, "api", changes, CAPPED_PRS)
    assert verdict.conclusion is Conclusion.FAILURE
    assert (verdict.source, verdict.listed, verdict.changed) == (FileSource.TREE, 3000, 3150)
    (p,) = verdict.offending
    assert (p.path, p.kind, p.owner) == ("apps/web/src/app.tsx", PathKind.CROSSING, "web")


@pytest.mark.parametrize("paths", [(), GEN])
def test_capped_truncated_tree_fails_closed(paths):
    changes = ChangeSet(paths, FileSource.TRUNCATED, 3000, 3150)
    verdict = classify_agent_pr(CAPPED_PLAN, "api", changes, CAPPED_PRS)
    assert verdict.conclusion is Conclusion.FAILURE
    assert (verdict.source, verdict.listed, verdict.changed) == (FileSource.TRUNCATED, 3000, 3150)
    assert verdict.offending == ()
    other = classify_other_pr([(CAPPED_PLAN, CAPPED_PRS)], changes)
    assert other.conclusion is Conclusion.FAILURE


def test_capped_second_page_and_control():
    page2 = ChangeSet(GEN[:144] + (ChangedFile("apps/web/src/app.tsx"),), FileSource.FILES, 145, 145)
    verdict = classify_agent_pr(CAPPED_PLAN, "api", page2, CAPPED_PRS)
    assert verdict.conclusion is Conclusion.FAILURE
    (p,) = verdict.offending
    assert (p.path, p.owner, p.owner_pr) == ("apps/web/src/app.tsx", "web", 41)
    control = ChangeSet(GEN, FileSource.FILES, 3000, 3000)
    assert classify_agent_pr(CAPPED_PLAN, "api", control, CAPPED_PRS).conclusion is Conclusion.SUCCESS


# --------------------------------------------------------------------------- precedence and details

PRECEDENCE_PLAN = Plan(
    agents=(
        Agent("a", ("src/", ".github/"), do_not_modify=("src/secret.py",)),
        Agent("b", ("src/shared/", "lib/")),
        Agent("c", ("lib/", "**/*.md")),
    )
)


@pytest.mark.parametrize(
    ("agent", "path", "kind", "owner", "rule", "source"),
    [
        ("a", "SCOPE-EXPANSIONS.md", PathKind.EXEMPT, None, None, None),
        ("a", "docs/SCOPE-EXPANSIONS.md", PathKind.CROSSING, "c", "**/*.md", None),  # exempt at the root only
        ("a", "src/secret.py", PathKind.FORBIDDEN, None, "src/secret.py", "do_not_modify"),  # beats own
        ("a", ".github/workflows/x.yml", PathKind.FORBIDDEN, None, ".github/workflows/", "protected"),
        ("a", ".github/CODEOWNERS", PathKind.OWN, "a", ".github/", None),
        ("b", "src/shared/u.py", PathKind.OWN, "b", "src/shared/", None),  # own beats an earlier owner
        ("b", "src/x.py", PathKind.CROSSING, "a", "src/", None),
        ("a", "lib/x.py", PathKind.CROSSING, "b", "lib/", None),  # first other owner in plan order
        ("c", "lib/x.py", PathKind.OWN, "c", "lib/", None),
        ("b", "README.md", PathKind.CROSSING, "c", "**/*.md", None),
        ("b", "tools/x", PathKind.UNOWNED, None, None, None),
    ],
)
def test_precedence(agent, path, kind, owner, rule, source):
    prs = {"a": AgentPR("a", 1, PrState.OPEN), "b": AgentPR("b", 2, PrState.OPEN)}
    (p,) = classify_agent_pr(PRECEDENCE_PLAN, agent, files({"filename": path}), prs).paths
    assert (p.kind, p.owner, p.rule, p.source) == (kind, owner, rule, source)
    if owner is not None:
        assert p.owner_pr == prs.get(owner, AgentPR(owner)).number


def test_strict_comes_from_config_unless_the_plan_says():
    unowned = files({"filename": "tools/x"})
    loose = Plan(agents=PRECEDENCE_PLAN.agents, strict=False)
    assert classify_agent_pr(PRECEDENCE_PLAN, "a", unowned, {}, RepoConfig(strict=True)).conclusion is Conclusion.FAILURE
    assert classify_agent_pr(loose, "a", unowned, {}, RepoConfig(strict=True)).conclusion is Conclusion.SUCCESS
    assert classify_agent_pr(PRECEDENCE_PLAN, "a", unowned, {}).conclusion is Conclusion.SUCCESS


def test_config_protected_list_is_used():
    config = RepoConfig(protected=("Makefile",))
    (p,) = classify_agent_pr(PRECEDENCE_PLAN, "a", files({"filename": "Makefile"}), {}, config).paths
    assert (p.kind, p.source) == (PathKind.FORBIDDEN, "protected")
    (q,) = classify_agent_pr(PRECEDENCE_PLAN, "a", files({"filename": ".github/workflows/x"}), {}, config).paths
    assert q.kind is PathKind.OWN


def test_same_path_reported_once_per_side():
    changes = files(
        {"filename": "src/a.py"},
        {"filename": "src/a.py"},
        {"filename": "src/b.py", "status": "renamed", "previous_filename": "src/a.py"},
        {"filename": "src/c.py", "status": "copied", "previous_filename": "src/a.py"},
    )
    verdict = classify_agent_pr(PRECEDENCE_PLAN, "a", changes, {})
    assert [(p.path, p.side) for p in verdict.paths] == [
        ("src/a.py", Side.NEW), ("src/b.py", Side.NEW), ("src/a.py", Side.OLD), ("src/c.py", Side.NEW)
    ]


def test_unknown_agent_raises():
    with pytest.raises(KeyError):
        classify_agent_pr(PRECEDENCE_PLAN, "ghost", files({"filename": "x"}), {})


def test_prebuilt_matcher_is_used():
    matcher = PlanMatcher(PRECEDENCE_PLAN, RepoConfig(protected=()))
    (p,) = classify_agent_pr(PRECEDENCE_PLAN, "a", files({"filename": ".github/workflows/x"}), {},
                             matcher=matcher).paths
    assert p.kind is PathKind.OWN


# --------------------------------------------------------------------------- other PRs


def test_other_pr_touching_an_active_territory_fails():
    changes = files(
        {"filename": "services/api/x.py"},
        {"filename": "apps/web/y.tsx", "status": "renamed", "previous_filename": "README.md"},
    )
    prs = {"api": AgentPR("api", 49, PrState.OPEN), "web": AgentPR("web", 50, PrState.MERGED)}
    verdict = classify_other_pr([(DELETE_PLAN, prs)], changes)
    assert verdict.conclusion is Conclusion.FAILURE and verdict.agent is None
    assert [(p.path, p.side, p.kind, p.owner, p.owner_pr) for p in verdict.paths] == [
        ("services/api/x.py", Side.NEW, PathKind.CROSSING, "api", 49),
        ("apps/web/y.tsx", Side.NEW, PathKind.FREE, None, None),  # web merged: no longer active
        ("README.md", Side.OLD, PathKind.FREE, None, None),
    ]


def test_other_pr_free_when_all_owners_merged_or_no_plan():
    prs = {"api": AgentPR("api", 49, PrState.MERGED), "web": AgentPR("web", 50, PrState.MERGED)}
    changes = files({"filename": "services/api/x.py"}, {"filename": "apps/web/y"})
    assert classify_other_pr([(DELETE_PLAN, prs)], changes).conclusion is Conclusion.SUCCESS
    assert classify_other_pr([], changes).conclusion is Conclusion.SUCCESS


def test_other_pr_names_the_first_unmerged_owner_across_plans():
    shared = Plan(agents=(Agent("early", ("lib/",)), Agent("late", ("lib/",), wave=2)))
    second = Plan(agents=(Agent("docs", ("**/*.md",)),))
    prs = {"early": AgentPR("early", 1, PrState.MERGED), "late": AgentPR("late", 2, PrState.OPEN)}
    verdict = classify_other_pr([(shared, prs), (second, {})], files({"filename": "lib/x.md"}, {"filename": "a.md"}))
    assert [(p.path, p.owner, p.owner_pr) for p in verdict.paths] == [("lib/x.md", "late", 2), ("a.md", "docs", None)]


# --------------------------------------------------------------------------- the combined matcher

SEGS = ["src", "lib", "docs", "a", "b", ".github", "ab.md", "abc", "sxc", "lib-x"]
PATTERN_SEGS = ["src", "lib", "docs", "a", "b", ".github", "*", "**", "*.md", ".*", "a*", "ab*.md", "s?c", "lib-*"]


def random_plan(rng: random.Random, agents: int) -> Plan:
    out = []
    for i in range(agents):
        territory = []
        for _ in range(rng.randint(1, 4)):
            segs = [rng.choice(PATTERN_SEGS) for _ in range(rng.randint(1, 3))]
            territory.append("/".join(segs) + rng.choice(["", "/"]))
        out.append(Agent(f"agent-{i}", tuple(territory)))
    return Plan(agents=tuple(out))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10**9), st.lists(st.lists(st.sampled_from(SEGS + ["x.md", ".env"]), min_size=1, max_size=4)
                                       .map("/".join), min_size=1, max_size=10))
def test_combined_matcher_equals_looping_over_every_pattern(seed, paths):
    plan = random_plan(random.Random(seed), 6)
    matcher = PlanMatcher(plan)
    for path in paths:
        expected = tuple(a.name for a in plan.agents if any(matches(p, path) for p in a.territory))
        assert matcher.owners(path) == expected, (plan, path)
        for name, rule in matcher.match(path):
            assert matches(rule, path) and rule in plan.agent(name).territory
        for agent in plan.agents:
            verdict = matcher.classify(agent.name, path)
            own = next((p for p in agent.territory if matches(p, path)), None)
            if path == "SCOPE-EXPANSIONS.md":
                assert verdict.kind is PathKind.EXEMPT
            elif path.startswith(".github/workflows/"):
                assert verdict.kind is PathKind.FORBIDDEN
            elif own is not None:
                assert (verdict.kind, verdict.rule) == (PathKind.OWN, own)
            elif expected:
                other = next(n for n in expected if n != agent.name)
                assert (verdict.kind, verdict.owner) == (PathKind.CROSSING, other)
            else:
                assert verdict.kind is PathKind.UNOWNED


def test_verdicts_equal_plainly_constructed_records():
    (p,) = classify_agent_pr(DELETE_PLAN, "web", files({"filename": "services/api/x.py", "status": "removed"}),
                             DELETE_PRS).paths
    plain = PathVerdict("services/api/x.py", PathKind.CROSSING, status="removed", owner="api", owner_pr=49,
                        rule="/services/api/")
    assert p == plain and hash(p) == hash(plain) and repr(p) == repr(plain)


# --------------------------------------------------------------------------- exclusions

EXCLUDING = Plan(agents=(
    Agent("core", ("src/", "!src/gen/"), do_not_modify=("src/vendor/",)),
    Agent("gen", ("src/gen/",)),
    Agent("all", ("**",), wave=2),
))


@pytest.mark.parametrize(
    ("agent", "path", "kind", "owner"),
    [
        ("core", "src/a.py", PathKind.OWN, "core"),
        ("core", "src/gen/a.py", PathKind.CROSSING, "gen"),  # excluded from `core`, owned by `gen`
        ("core", "src/vendor/x.py", PathKind.FORBIDDEN, None),
        ("gen", "src/gen/a.py", PathKind.OWN, "gen"),
        ("gen", "src/a.py", PathKind.CROSSING, "core"),
        ("gen", "src/vendor/x.py", PathKind.CROSSING, "all"),  # `core`'s DO-NOT-MODIFY is not `core`'s
        ("all", ".github/workflows/ci.yml", PathKind.FORBIDDEN, None),
    ],
)
def test_a_territory_is_its_patterns_minus_what_it_excludes(agent, path, kind, owner):
    verdict = PlanMatcher(EXCLUDING, RepoConfig()).classify(agent, path)
    assert (verdict.kind, verdict.owner) == (kind, owner)


def test_owners_leave_out_excluded_and_protected_paths():
    m = PlanMatcher(EXCLUDING, RepoConfig())
    assert m.owners("src/gen/a.py") == ("gen", "all")
    assert m.owners("src/a.py") == ("core", "all")
    assert m.owners(".github/workflows/ci.yml") == ()
    assert m.rule("core", "src/gen/a.py") is None and m.rule("core", "src/a.py") == "src/"
