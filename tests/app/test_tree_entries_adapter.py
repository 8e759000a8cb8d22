"""The adapter's tree comparison past GitHub's 3,000-file list, against ``responses``: a mode-only
change (``chmod +x``: same blob SHA, mode 100644 → 100755) and a submodule bump (a ``commit``
entry, mode 160000) are changed paths; directories are not. Tree entries follow GitHub's
published example of a recursive tree (OpenAPI ``git-tree-response-recursively-retrieving-a-tree``)."""

from __future__ import annotations

import copy
import json

import pytest
from responses import matchers

from service.core.model import FileSource
from service.gh import parse
from tests.conftest import FIXTURES

from .test_github_adapter import API, _file, _pull, calls, port, rsps  # noqa: F401  (fixture)

SCRIPT, SUBMODULE = "apps/web/bin/build.sh", "apps/web/vendor/ui-kit"
BASE_SHA, HEAD_SHA = "b" * 40, "a" * 40


def _entry(path: str, mode: str, kind: str, sha: str) -> dict:
    doc = json.loads((FIXTURES / "rest" / "openapi" / "api.github.com.json").read_text())
    example = doc["components"]["examples"]["git-tree-response-recursively-retrieving-a-tree"]
    entry = copy.deepcopy(example["value"]["tree"][0])
    entry.update(path=path, mode=mode, type=kind, sha=sha)
    if kind != "blob":
        entry.pop("size", None)  # GitHub gives a size for blobs only
    return entry


GENERATED = [f"services/api/gen/m_{i:04d}.py" for i in range(3000)]
BASE = [_entry("apps", "040000", "tree", "1" * 40), _entry(SCRIPT, "100644", "blob", "5" * 40),
        _entry(SUBMODULE, "160000", "commit", "c" * 40)]
HEAD = {SCRIPT: _entry(SCRIPT, "100755", "blob", "5" * 40),
        SUBMODULE: _entry(SUBMODULE, "160000", "commit", "d" * 40)}


def _capped_list(rsps_) -> None:
    """3,000 files in 30 pages, as GitHub lists a PR with more: the last page has no next link."""
    for page in range(1, 31):
        items = [_file(p, "added") for p in GENERATED[(page - 1) * 100:page * 100]]
        nxt = f'<https://api.github.com/repositories/1/pulls/31/files?per_page=100&page={page + 1}>; rel="next"'
        headers = {"Link": nxt} if page < 30 else {}
        if page == 1:
            rsps_.get(f"{API}/repos/o/r/pulls/31/files", json=items, headers=headers,
                      match=[matchers.query_param_matcher({"per_page": "100"})])
        else:
            rsps_.get(f"{API}/repositories/1/pulls/31/files", json=items, headers=headers,
                      match=[matchers.query_param_matcher({"per_page": "100", "page": str(page)})])


@pytest.mark.parametrize("changed", [SCRIPT, SUBMODULE])
def test_past_the_cap_mode_only_and_submodule_changes_are_changed_paths(rsps, changed):  # noqa: F811
    _capped_list(rsps)
    rsps.get(f"{API}/repos/o/r/compare/main...{HEAD_SHA}",
             json={"status": "ahead", "merge_base_commit": {"sha": BASE_SHA}})
    head = [_entry(p, "100644", "blob", "e" * 40) for p in GENERATED]
    head += [HEAD[changed] if e["path"] == changed else e for e in BASE]
    rsps.get(f"{API}/repos/o/r/git/trees/{BASE_SHA}", json={"sha": "t1", "tree": BASE, "truncated": False},
             match=[matchers.query_param_matcher({"recursive": "1"})])
    rsps.get(f"{API}/repos/o/r/git/trees/{HEAD_SHA}", json={"sha": "t2", "tree": head, "truncated": False})
    changes = port().pull_changes("o/r", parse.pull(_pull(changed=3001)))
    assert changes.source is FileSource.TREE
    assert (changes.listed, changes.changed, len(changes.files)) == (3000, 3001, 3001)
    assert [(f.path, f.status) for f in changes.files if not f.path.startswith("services/")] == [
        (changed, "modified")]
    assert calls(rsps)[-2:] == [f"GET /repos/o/r/git/trees/{BASE_SHA}?recursive=1",
                                f"GET /repos/o/r/git/trees/{HEAD_SHA}?recursive=1"]


def test_tree_entries_identify_type_mode_and_sha_and_skip_directories():
    entries = parse.tree_entries(BASE)
    assert entries == {SCRIPT: f"100644 blob {'5' * 40}", SUBMODULE: f"160000 commit {'c' * 40}"}
    assert parse.tree_entries([HEAD[SCRIPT]])[SCRIPT] != entries[SCRIPT]
