"""The "whole kind" of rename-out-of-territory.md: every reader of changed paths counts both
sides of a rename — the PR file list (check_pull), the tree diff a capped list falls back to, and
the merge group's verdict built from either."""

import pytest

from service.core.model import TERRITORY_CHECK
from service.usecases import check_merge_group, check_pull, rerun_checks

from .fakes import REPO, cf, dispatched, plan_body

PLAN = """
agents:
  - {name: core, territory: [/packages/core/]}
  - {name: docs, territory: [/docs/]}
"""
MOVE = cf("docs/examples/signal.ts", "renamed", "packages/core/primitives/signal.ts")


def _fake(capped: bool):
    fake = dispatched(plan_body(PLAN), files=["packages/core/primitives/signal.ts", "docs/index.md"])
    head = fake.push(21, [MOVE], changed_files=3001 if capped else None)
    return fake, head


@pytest.mark.parametrize("capped", [False, True], ids=["file list", "tree diff"])
@pytest.mark.parametrize("reader", ["check_pull", "rerun", "merge_group"])
def test_the_old_path_of_a_move_is_crossing_for_every_reader(capped, reader):
    fake, head = _fake(capped)
    sha = head
    if reader == "check_pull":
        check_pull(fake, REPO, 21, head)
    elif reader == "rerun":
        rerun_checks(fake, REPO, head, ())
    else:
        sha = "9" * 40
        check_merge_group(fake, REPO, sha, fake.branches["main"],
                          f"refs/heads/gh-readonly-queue/main/pr-21-{head}")
    run = fake.latest(sha, TERRITORY_CHECK)
    assert run.conclusion == "failure"
    assert "packages/core/primitives/signal.ts" in run.summary and "#20" in run.summary
    if capped:
        assert fake.count("read", "tree") >= 2  # the tree diff was used
