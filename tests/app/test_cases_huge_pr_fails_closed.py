"""Past GitHub's 3,000-file list, a PR cannot hide a change in another agent's territory: the tree
comparison sees a mode-only change (``chmod +x``) and a submodule bump, and when it finds fewer
paths than GitHub's ``changed_files`` the territory check fails closed and says why. The same
changes on a small PR (complete file list) fail as they always did.

Trees here hold entries as the adapter reads them (``parse.tree_entries``: mode, type, SHA)."""

import pytest

from service.core.model import TERRITORY_CHECK
from service.usecases import check_pull

from .fakes import API_WEB_PLAN as PLAN
from .fakes import REPO, cf, dispatched, plan_body

SCRIPT = "apps/web/bin/build.sh"
SUBMODULE = "apps/web/vendor/ui-kit"
BASE = {SCRIPT: f"100644 blob {'5' * 40}", SUBMODULE: f"160000 commit {'c' * 40}", "README.md": "100644 blob 1"}
HEAD = {SCRIPT: f"100755 blob {'5' * 40}", SUBMODULE: f"160000 commit {'d' * 40}"}  # same content; bump
GEN = [cf(f"services/api/gen/model_{i:04d}.py", "added") for i in range(3000)]


def _check(files, *, changed_files=None, head_entries=None):
    fake = dispatched(plan_body(PLAN), files=dict(BASE), first_number=40)
    sha = fake.push(40, files, changed_files=changed_files)
    fake.commits[sha].tree.update(head_entries or {})
    check_pull(fake, REPO, 40, sha)
    run = fake.latest(sha, TERRITORY_CHECK)
    return fake, run, fake.run_outputs[run.id][-1]


@pytest.mark.parametrize("path", [SCRIPT, SUBMODULE])
def test_past_the_cap_a_change_the_list_does_not_show_fails_naming_the_path(path):
    fake, run, out = _check(GEN + [cf(path)], head_entries={path: HEAD[path]})
    assert fake.count("read", "tree") == 2
    assert run.conclusion == "failure"
    assert [a.path for a in out.annotations] == [path]
    assert "#41" in run.summary and "every changed path below was seen" in run.summary


@pytest.mark.parametrize("path", [SCRIPT, SUBMODULE])
def test_on_a_small_pr_the_same_change_fails_as_before(path):
    fake, run, out = _check([cf("services/api/a.py", "added"), cf(path)], head_entries={path: HEAD[path]})
    assert fake.count("read", "tree") == 0
    assert run.conclusion == "failure"
    assert [a.path for a in out.annotations] == [path]


def test_fewer_paths_in_the_trees_than_github_counts_fails_closed_and_says_why():
    # GitHub counts 3,002 changed files; the trees show the 3,000 generated ones only.
    fake, run, out = _check(GEN, changed_files=3002)
    assert fake.count("read", "tree") == 2
    assert (run.status, run.conclusion) == ("completed", "failure")
    assert run.title == "Territory could not be verified: 3,002 files changed, 3,000 found in the trees"
    assert "2 changed files GitHub counts could not be found" in run.summary
    assert "fails closed" in run.summary and out.annotations == ()
