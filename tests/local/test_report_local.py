"""The local fleet's documents, pinned by ``tests/golden/local-*.md`` (``UPDATE_GOLDEN=1``
rewrites them)."""

from __future__ import annotations

import pytest

from service.core.model import ChangedFile, ChangeSet, RepoConfig
from service.core.plan import parse_plan
from service.core.report_local import (
    GuardResult,
    HookOutcome,
    MergeStep,
    WorktreeOutcome,
    guard_notice,
    guard_refused,
    merge_text,
    worktrees_text,
)
from service.core.territory import classify_agent_pr
from tests.goldens import GOLDEN, assert_golden

PLAN = parse_plan("""```yaml dispatch
strict: true
agents:
  - name: api
    territory: [src/api/, tests/api/]
    do_not_modify: [src/api/vendored/]
  - name: docs
    territory: [docs/]
  - name: readme
    wave: 2
    after: [api]
    territory: [README.md]
```""")
CONFIG = RepoConfig()
HOOK_LINE = '"/usr/bin/python3" -m service.local guard'


def verdict(agent: str, *paths: str):
    return classify_agent_pr(PLAN, agent, ChangeSet(tuple(ChangedFile(p) for p in paths)), {}, CONFIG)


def worktrees() -> str:
    outcomes = [
        WorktreeOutcome("api", 1, "wavegate/7/api", "/w/fleet/api", "created"),
        WorktreeOutcome("docs", 1, "wavegate/7/docs", "/w/fleet/docs", "reused"),
        WorktreeOutcome("readme", 2, "wavegate/7/readme", "/w/fleet/readme", "branch-elsewhere", "/w/old/readme"),
    ]
    hooks = [HookOutcome("pre-commit", "/w/repo/.git/hooks/pre-commit", "installed"),
             HookOutcome("pre-push", "/w/repo/.git/hooks/pre-push", "foreign")]
    return worktrees_text(outcomes, hooks, "main", HOOK_LINE)


def worktrees_remove() -> str:
    outcomes = [
        WorktreeOutcome("api", 1, "wavegate/7/api", "/w/fleet/api", "dirty", "3 paths"),
        WorktreeOutcome("docs", 1, "wavegate/7/docs", "/w/fleet/docs", "removed"),
        WorktreeOutcome("readme", 2, "wavegate/7/readme", "/w/fleet/readme", "absent"),
    ]
    return worktrees_text(outcomes, [], "main", HOOK_LINE)


def guard_commit() -> str:
    found = verdict("api", "src/api/auth.py", "docs/guide.md", "src/api/vendored/jwt.py",
                    ".github/workflows/ci.yml", "setup.cfg", "SCOPE-EXPANSIONS.md")
    return guard_refused(GuardResult("api", "commit", found, PLAN.agent("api").territory))


def guard_push() -> str:
    found = verdict("docs", "docs/guide.md", "README.md")
    return guard_refused(GuardResult("docs", "push", found, PLAN.agent("docs").territory))


def guard_edit() -> str:
    found = verdict("docs", "src/api/auth.py")
    return guard_refused(GuardResult("docs", "edit", found, PLAN.agent("docs").territory,
                                     outside=("/w/fleet/api/docs/guide.md",), fleet_files=(".wavegate/plan.json",)))


def merge() -> str:
    steps = [
        MergeStep("api", "wavegate/7/api", "merged"),
        MergeStep("docs", "wavegate/7/docs", "crossing", verdict=verdict("docs", "docs/a.md", "src/api/auth.py")),
        MergeStep("readme", "wavegate/7/readme", "waiting", waiting_on=("api",)),
        MergeStep("tests", "wavegate/7/tests", "missing"),
        MergeStep("perf", "wavegate/7/perf", "already-merged"),
        MergeStep("cli", "wavegate/7/cli", "conflict", files=("src/cli.py", "setup.cfg")),
        MergeStep("web", "wavegate/7/web", "not-tried"),
    ]
    return merge_text(1, "main", steps)


CASES = {
    "local-worktrees": worktrees,
    "local-worktrees-remove": worktrees_remove,
    "local-guard-commit": guard_commit,
    "local-guard-push": guard_push,
    "local-guard-edit": guard_edit,
    "local-merge": merge,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name):
    assert_golden(name, CASES[name]())


def test_every_local_golden_file_has_a_case():
    assert {p.stem for p in GOLDEN.glob("local-*.md")} == set(CASES)


def test_the_exempt_file_and_own_paths_are_never_listed():
    text = guard_commit()
    assert "SCOPE-EXPANSIONS.md:" not in text and "src/api/auth.py" not in text


def test_the_notice_names_unowned_paths_only_when_the_plan_is_not_strict():
    lenient = parse_plan("```yaml dispatch\nagents:\n  - name: a\n    territory: [a/]\n```")
    found = classify_agent_pr(lenient, "a", ChangeSet((ChangedFile("a/x"), ChangedFile("b/y"))), {}, CONFIG)
    assert guard_notice(GuardResult("a", "commit", found)) == (
        "Wavegate: 1 path no agent owns (b/y); allowed because the plan is not strict.\n")
    assert guard_notice(GuardResult("api", "commit", verdict("api", "setup.cfg"))) == ""
