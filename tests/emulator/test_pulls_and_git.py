"""Pull requests backed by real git: file lists (renames, removals, the 3,000 cap, pagination),
merge rules (required checks, head SHA, conflicts, merge queue), update-branch, trees."""

from __future__ import annotations

import re

import github
import pytest
import requests

from .conftest import make_world

OK = {"title": "ok", "summary": "ok"}


def pass_checks(repo, sha, conclusion="success", names=("wavegate/territory", "wavegate/wave-gate")):
    for name in names:
        repo.create_check_run(name, sha, conclusion=conclusion, output=OK)


def branch_with(world, branch: str, changes: dict, base="main", message="change") -> str:
    """Commit ``changes`` {path: text or None to delete} on a new branch through the git data API."""
    from github import InputGitTreeElement

    repo = world.user_client("maint").get_repo("o/r")
    base_sha = repo.get_branch(base).commit.sha
    base_commit = repo.get_git_commit(base_sha)
    elements = [InputGitTreeElement(p, "100644", "blob", content=t) if t is not None
                else InputGitTreeElement(p, "100644", "blob", sha=None) for p, t in changes.items()]
    tree = repo.create_git_tree(elements, base_tree=repo.get_git_tree(base_commit.tree.sha))
    commit = repo.create_git_commit(message, tree, [base_commit])
    try:
        repo.get_git_ref(f"heads/{branch}").edit(commit.sha, force=True)
    except github.GithubException:
        repo.create_git_ref(f"refs/heads/{branch}", commit.sha)
    return commit.sha


def test_rename_and_removal_in_the_file_list(world):
    text = "".join(f"line {i}\n" for i in range(40))
    branch_with(world, "prep", {"src/old_name.py": text})
    repo = world.user_client("admin1").get_repo("o/r")
    prep = repo.create_pull("main", "prep", title="prep", body="")
    pass_checks(world.app_client().get_repo("o/r"), prep.head.sha)
    prep.merge()
    branch_with(world, "feature", {"src/old_name.py": None, "src/new_name.py": text + "one more\n",
                                   "docs/guide.md": None})
    pr = repo.create_pull("main", "feature", title="rename", body="")
    files = {f.filename: f for f in pr.get_files()}
    assert files["src/new_name.py"].status == "renamed"
    assert files["src/new_name.py"].previous_filename == "src/old_name.py"
    assert (files["src/new_name.py"].additions, files["src/new_name.py"].deletions) == (1, 0)
    assert files["docs/guide.md"].status == "removed"
    assert repo.get_pull(pr.number).changed_files == 2


def test_file_list_is_capped_at_3000_with_link_pagination(emulator, receiver, app_key):
    world = make_world(emulator, None, app_key)
    branch_with(world, "big", {f"services/api/gen/model_{i:04d}.py": f"n = {i}\n" for i in range(3150)})
    pr = world.user_client("maint").get_repo("o/r").create_pull("main", "big", title="big", body="")
    assert pr.changed_files == 3150
    auth = {"Authorization": f"token {world.tokens['maint']}"}
    url = f"{world.url}/repos/o/r/pulls/{pr.number}/files"
    first = requests.get(url, headers=auth, timeout=30)
    assert len(first.json()) == 30  # default page size
    resp = requests.get(url, params={"per_page": 500}, headers=auth, timeout=30)
    assert len(resp.json()) == 100  # per_page is capped at 100
    links = dict((rel, u) for u, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', resp.headers["Link"]))
    assert links["next"].startswith(world.url) and "page=2" in links["next"]
    assert "page=30" in links["last"]
    last = requests.get(links["last"], headers=auth, timeout=30)
    assert len(last.json()) == 100 and 'rel="prev"' in last.headers["Link"]
    assert requests.get(url, params={"per_page": 100, "page": 31}, headers=auth, timeout=30).json() == []
    listed = list(world.user_client("maint").get_repo("o/r").get_pull(pr.number).get_files())
    assert len(listed) == 3000


def test_tree_truncation_flag(emulator, app_key):
    world = make_world(emulator, None, app_key, tree_truncate_at=3)
    repo = world.app_client().get_repo("o/r")
    tree = repo.get_git_tree(repo.get_branch("main").commit.sha, recursive=True)
    assert tree.raw_data["truncated"] is True and len(tree.tree) == 3


@pytest.mark.parametrize("checks, message", [
    ({}, "2 of 2 required status checks are expected."),
    ({"wavegate/territory": "failure", "wavegate/wave-gate": "success"},
     'Required status check "wavegate/territory" is failing.'),
    ({"wavegate/territory": "success", "wavegate/wave-gate": None}, 'Required status check "wavegate/wave-gate" is expected.'),
    ({"wavegate/territory": "skipped", "wavegate/wave-gate": "neutral"}, None),
])
def test_merge_requires_checks(world, checks, message):
    sha = branch_with(world, "f", {"f.txt": "f\n"})
    app_repo = world.app_client().get_repo("o/r")
    for name, conclusion in checks.items():
        if conclusion is None:
            app_repo.create_check_run(name, sha, status="in_progress")
        else:
            app_repo.create_check_run(name, sha, conclusion=conclusion, output=OK)
    pr = world.user_client("maint").get_repo("o/r").create_pull("main", "f", title="f", body="")
    if message is None:
        assert pr.merge(sha=sha).merged
        return
    with pytest.raises(github.GithubException) as info:
        pr.merge(sha=sha)
    assert (info.value.status, info.value.data["message"]) == (405, message)


def test_merge_conflict_is_405_and_mergeable_false(world):
    branch_with(world, "a", {"README.md": "A\n"})
    branch_with(world, "b", {"README.md": "B\n"})
    repo = world.user_client("maint").get_repo("o/r")
    pa, pb = repo.create_pull("main", "a", title="a", body=""), repo.create_pull("main", "b", title="b", body="")
    pass_checks(world.app_client().get_repo("o/r"), pa.head.sha)
    pass_checks(world.app_client().get_repo("o/r"), pb.head.sha)
    pa.merge()
    assert repo.get_pull(pb.number).mergeable is False
    with pytest.raises(github.GithubException) as info:
        pb.merge()
    assert (info.value.status, info.value.data["message"]) == (405, "Pull Request is not mergeable")
    assert pb.update_branch() is False  # PyGithub maps the 422 to False


@pytest.mark.parametrize("method, parents", [("merge", 2), ("squash", 1), ("rebase", 1)])
def test_merge_methods_make_real_commits(world, method, parents):
    sha = branch_with(world, "m", {"m.txt": "m\n"})
    repo = world.user_client("maint").get_repo("o/r")
    base_before = repo.get_branch("main").commit.sha
    pr = repo.create_pull("main", "m", title="m", body="")
    pass_checks(world.app_client().get_repo("o/r"), sha)
    merged = pr.merge(merge_method=method)
    head = repo.get_git_commit(merged.sha)
    assert len(head.parents) == parents and head.parents[0].sha == base_before
    assert repo.get_contents("m.txt", ref="main").decoded_content == b"m\n"
    assert repo.get_pull(pr.number).merge_commit_sha == merged.sha


def test_update_branch_merges_base_and_rejects_a_stale_sha(world):
    sha = branch_with(world, "u", {"u.txt": "u\n"})
    repo = world.user_client("maint").get_repo("o/r")
    pr = repo.create_pull("main", "u", title="u", body="")
    repo.create_file("base.txt", "base", "b\n", branch="main")
    assert pr.update_branch(expected_head_sha="0" * 40) is False
    assert world.admin("GET", "/requests").json()[-1]["status"] == 422
    assert pr.update_branch(expected_head_sha=sha)
    new = repo.get_pull(pr.number)
    assert new.head.sha != sha
    commit = repo.get_git_commit(new.head.sha)
    assert [p.sha for p in commit.parents] == [sha, repo.get_branch("main").commit.sha]
    assert new.changed_files == 1  # the merge base moved: only u.txt differs


def test_merge_queue_blocks_rest_merge(emulator, receiver, app_key):
    world = make_world(emulator, receiver, app_key, merge_queue=True)
    sha = branch_with(world, "q", {"q.txt": "q\n"})
    pass_checks(world.app_client().get_repo("o/r"), sha)
    pr = world.user_client("maint").get_repo("o/r").create_pull("main", "q", title="q", body="")
    with pytest.raises(github.GithubException) as info:
        pr.merge()
    assert (info.value.status, info.value.data["message"]) == (405, "Changes must be made through the merge queue")


def test_merge_queue_groups_merge_in_order_and_failures_invalidate(emulator, receiver, app_key):
    world = make_world(emulator, receiver, app_key, merge_queue=True)
    repo = world.user_client("maint").get_repo("o/r")
    app_repo = world.app_client().get_repo("o/r")
    numbers = []
    for name in ("q1", "q2", "q3"):
        branch_with(world, name, {f"{name}.txt": name})
        numbers.append(repo.create_pull("main", name, title=name, body="").number)
    base = repo.get_branch("main").commit.sha
    entries = [world.admin("POST", "/repos/o/r/merge-queue", json={"number": n}).json() for n in numbers]
    assert entries[0]["base_sha"] == base and entries[1]["base_sha"] == entries[0]["head_sha"]
    assert entries[0]["head_ref"] == f"refs/heads/gh-readonly-queue/main/pr-{numbers[0]}-{repo.get_pull(numbers[0]).head.sha}"
    # the second group holds q1 and q2
    assert {"q1.txt", "q2.txt"} <= {e.path for e in app_repo.get_git_tree(entries[1]["head_sha"], recursive=True).tree}
    pass_checks(app_repo, entries[1]["head_sha"], conclusion="failure", names=("wavegate/territory",))
    pass_checks(app_repo, entries[0]["head_sha"])
    assert repo.get_branch("main").commit.sha == entries[0]["head_sha"]
    pass_checks(app_repo, entries[2]["head_sha"])
    world.drain()
    state = world.admin("GET", "/state/o/r").json()
    assert state["merge_order"] == [numbers[0], numbers[2]]
    assert [p["merged"] for p in state["pulls"]] == [True, False, True]
    destroyed = [(e["reason"], e["merge_group"]["head_sha"]) for e in receiver.events("merge_group", "destroyed")]
    assert ("invalidated", entries[1]["head_sha"]) in destroyed and ("merged", entries[0]["head_sha"]) in destroyed
    requested = receiver.events("merge_group", "checks_requested")
    assert [r["merge_group"]["head_sha"] for r in requested] == [e["head_sha"] for e in entries]
    assert not any(b.startswith("gh-readonly-queue/") for b in state["branches"])
    closed = receiver.events("pull_request", "closed")
    assert [(c["number"], c["pull_request"]["merged"]) for c in closed] == [(numbers[0], True), (numbers[2], True)]
    # merged by the queue, not by the App whose check run completed the group
    assert {c["sender"]["login"] for c in closed} == {"github-merge-queue[bot]"}
    assert {c["pull_request"]["merged_by"]["login"] for c in closed} == {"github-merge-queue[bot]"}


def test_pull_list_filters_and_issue_list_includes_pulls(world):
    branch_with(world, "x1", {"x1.txt": "1"})
    branch_with(world, "x2", {"x2.txt": "2"})
    repo = world.user_client("maint").get_repo("o/r")
    p1 = repo.create_pull("main", "x1", title="x1", body="")
    p2 = repo.create_pull("main", "x2", title="x2", body="")
    p1.edit(state="closed")
    assert [p.number for p in repo.get_pulls(state="open")] == [p2.number]
    assert [p.number for p in repo.get_pulls(state="all", direction="asc")] == [p1.number, p2.number]
    assert [p.number for p in repo.get_pulls(state="all", head="o:x1")] == [p1.number]
    issues = list(repo.get_issues(state="all"))
    assert all(i.pull_request is not None for i in issues) and len(issues) == 2


@pytest.mark.parametrize("who, status", [("reader", 403), ("maint", 201)])
def test_permissions_on_writes(world, who, status):
    repo = world.user_client(who).get_repo("o/r")
    sha = repo.get_branch("main").commit.sha
    if status == 201:
        assert repo.create_git_ref("refs/heads/perm", sha).ref == "refs/heads/perm"
    else:
        with pytest.raises(github.GithubException) as info:
            repo.create_git_ref("refs/heads/perm", sha)
        assert info.value.status == status


def test_only_apps_create_check_runs(world):
    repo = world.user_client("admin1").get_repo("o/r")
    with pytest.raises(github.GithubException) as info:
        repo.create_check_run("x", repo.get_branch("main").commit.sha)
    assert info.value.status == 403


def test_more_than_50_annotations_in_one_request_is_422(world):
    repo = world.app_client().get_repo("o/r")
    ann = {"path": "README.md", "start_line": 1, "end_line": 1, "annotation_level": "notice", "message": "m"}
    with pytest.raises(github.GithubException) as info:
        repo.create_check_run("x", repo.get_branch("main").commit.sha,
                              output={"title": "t", "summary": "s", "annotations": [ann] * 51})
    assert info.value.status == 422


def test_bad_and_missing_credentials(world, app_key):
    assert requests.get(f"{world.url}/repos/o/r", headers={"Authorization": "token nope"}, timeout=10).json()[
        "message"] == "Bad credentials"
    assert requests.get(f"{world.url}/repos/o/r", timeout=10).status_code == 401
    import time

    import jwt

    now = int(time.time())
    too_long = jwt.encode({"iat": now, "exp": now + 3600, "iss": str(world.app_id)}, app_key[0], algorithm="RS256")
    assert requests.get(f"{world.url}/app", headers={"Authorization": f"Bearer {too_long}"}, timeout=10).status_code == 401
    good = jwt.encode({"iat": now - 60, "exp": now + 540, "iss": str(world.app_id)}, app_key[0], algorithm="RS256")
    assert requests.get(f"{world.url}/app", headers={"Authorization": f"Bearer {good}"}, timeout=10).status_code == 200


def test_etag_gives_304_not_counted(world):
    auth = {"Authorization": f"token {world.tokens['maint']}"}
    first = requests.get(f"{world.url}/repos/o/r", headers=auth, timeout=10)
    second = requests.get(f"{world.url}/repos/o/r", headers=auth | {"If-None-Match": first.headers["ETag"]},
                          timeout=10)
    assert second.status_code == 304
    assert second.headers["X-RateLimit-Used"] == first.headers["X-RateLimit-Used"]
    log = world.admin("GET", "/requests").json()
    assert [e["conditional"] for e in log if e["path"] == "/repos/o/r"] == [False, True]
    assert log[-1]["actor"] == "user:maint"
