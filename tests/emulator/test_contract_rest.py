"""Every REST endpoint, driven through PyGithub as an App and as users, and every JSON response body
validated against the response schema of its operation in GitHub's OpenAPI description."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import github
import pytest
import requests
from github import InputGitTreeElement

from .conftest import Recorder
from .openapi import find_template, to_json_schema, validate_response

ENDPOINTS = {
    ("GET", "/app"), ("GET", "/app/installations"), ("POST", "/app/installations/{installation_id}/access_tokens"),
    ("GET", "/installation/repositories"), ("GET", "/repos/{owner}/{repo}/installation"),
    ("GET", "/app/hook/deliveries"), ("POST", "/app/hook/deliveries/{delivery_id}/attempts"),
    ("GET", "/repos/{owner}/{repo}"), ("GET", "/repos/{owner}/{repo}/branches/{branch}"),
    ("GET", "/repos/{owner}/{repo}/commits/{ref}"), ("GET", "/repos/{owner}/{repo}/compare/{base}...{head}"),
    ("GET", "/repos/{owner}/{repo}/contents/{path}"), ("PUT", "/repos/{owner}/{repo}/contents/{path}"),
    ("GET", "/repos/{owner}/{repo}/git/ref/{ref}"), ("GET", "/repos/{owner}/{repo}/git/matching-refs/{ref}"),
    ("POST", "/repos/{owner}/{repo}/git/refs"), ("PATCH", "/repos/{owner}/{repo}/git/refs/{ref}"),
    ("DELETE", "/repos/{owner}/{repo}/git/refs/{ref}"), ("GET", "/repos/{owner}/{repo}/git/commits/{commit_sha}"),
    ("POST", "/repos/{owner}/{repo}/git/commits"), ("GET", "/repos/{owner}/{repo}/git/trees/{tree_sha}"),
    ("POST", "/repos/{owner}/{repo}/git/trees"), ("POST", "/repos/{owner}/{repo}/git/blobs"),
    ("GET", "/repos/{owner}/{repo}/issues"), ("POST", "/repos/{owner}/{repo}/issues"),
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}"), ("PATCH", "/repos/{owner}/{repo}/issues/{issue_number}"),
    ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/labels"),
    ("PUT", "/repos/{owner}/{repo}/issues/{issue_number}/labels"),
    ("DELETE", "/repos/{owner}/{repo}/issues/{issue_number}/labels/{name}"),
    ("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments"),
    ("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ("DELETE", "/repos/{owner}/{repo}/issues/comments/{comment_id}"),
    ("POST", "/repos/{owner}/{repo}/issues/comments/{comment_id}/reactions"),
    ("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission"),
    ("GET", "/repos/{owner}/{repo}/pulls"), ("POST", "/repos/{owner}/{repo}/pulls"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}"), ("PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/files"),
    ("GET", "/repos/{owner}/{repo}/pulls/{pull_number}/commits"),
    ("PUT", "/repos/{owner}/{repo}/pulls/{pull_number}/merge"),
    ("PUT", "/repos/{owner}/{repo}/pulls/{pull_number}/update-branch"),
    ("POST", "/repos/{owner}/{repo}/check-runs"), ("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}"),
    ("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}"),
    ("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}/annotations"),
    ("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs"),
    ("POST", "/repos/{owner}/{repo}/check-runs/{check_run_id}/rerequest"),
    ("POST", "/repos/{owner}/{repo}/check-suites/{check_suite_id}/rerequest"),
    ("GET", "/repos/{owner}/{repo}/commits/{ref}/check-suites"),
}

ANN = {"path": "README.md", "start_line": 1, "end_line": 1, "annotation_level": "failure", "message": "m"}


def expect_error(status: int, fn, *args, **kwargs):
    with pytest.raises(github.GithubException) as info:
        fn(*args, **kwargs)
    assert info.value.status == status, info.value.data
    return info.value.data


def drive_everything(world) -> dict:
    """Call every endpoint in ENDPOINTS (plus the documented error answers) through PyGithub."""
    gi = world.integration()
    assert gi.get_app().slug == "wavegate"
    assert [i.id for i in gi.get_installations()] == [world.installation_id]
    token = gi.get_access_token(world.installation_id)
    assert token.token.startswith("ghs_") and token.expires_at is not None
    assert gi.get_repo_installation("o", "r").id == world.installation_id
    gh = world.app_client()
    _, data = gh.requester.requestJsonAndCheck("GET", "/installation/repositories")
    assert [r["full_name"] for r in data["repositories"]] == ["o/r"]

    repo = gh.get_repo("o/r")
    assert repo.default_branch == "main"
    maint = world.user_client("maint").get_repo("o/r")
    base_sha = repo.get_branch("main").commit.sha

    # git database: blob, tree, empty commit, ref create / fast-forward / force / delete
    blob = repo.create_git_blob("blob body\n", "utf-8")
    base_commit = repo.get_git_commit(base_sha)
    tree = repo.create_git_tree([InputGitTreeElement("new/file.txt", "100644", "blob", sha=blob.sha),
                                 InputGitTreeElement("docs/guide.md", "100644", "blob", sha=None)],
                                base_tree=repo.get_git_tree(base_commit.tree.sha))
    full_tree = repo.get_git_tree(tree.sha, recursive=True)
    assert {e.path for e in full_tree.tree} >= {"new", "new/file.txt", "README.md"}
    assert "docs/guide.md" not in {e.path for e in full_tree.tree}
    empty = repo.create_git_commit("empty", base_commit.tree, [base_commit])
    ref = repo.create_git_ref("refs/heads/wavegate/1/api", empty.sha)
    data = expect_error(422, repo.create_git_ref, "refs/heads/wavegate/1/api", empty.sha)
    assert data["message"] == "Reference already exists"
    assert repo.get_git_ref("heads/wavegate/1/api").object.sha == empty.sha
    assert [r.ref for r in repo.get_git_matching_refs("heads/wavegate/")] == ["refs/heads/wavegate/1/api"]
    c2 = repo.create_git_commit("add file", tree, [repo.get_git_commit(empty.sha)])
    ref.edit(c2.sha)
    other = repo.create_git_commit("sideways", base_commit.tree, [base_commit])
    data = expect_error(422, ref.edit, other.sha)
    assert data["message"] == "Update is not a fast forward"
    tmp = repo.create_git_ref("refs/heads/tmp", other.sha)
    tmp.edit(c2.sha, force=True)
    tmp.delete()
    expect_error(404, lambda: repo.get_git_ref("heads/tmp").object.sha)

    # contents, commits, compare
    readme = repo.get_contents("README.md")
    assert readme.decoded_content == b"# r\n"
    expect_error(404, repo.get_contents, "missing.txt")
    maint.create_file("src/api.py", "api", "x = 1\n", branch="wavegate/1/api")
    head = repo.get_branch("wavegate/1/api").commit.sha
    commit = repo.get_commit(head)
    assert [f.filename for f in commit.files] == ["src/api.py"]
    cmp = repo.compare("main", "wavegate/1/api")
    assert (cmp.status, cmp.ahead_by, cmp.behind_by) == ("ahead", 3, 0)
    assert cmp.merge_base_commit.sha == base_sha

    # issues, labels, comments, reactions
    issue = maint.create_issue("Plan", body="plan body", labels=["dispatch"])
    issue.edit(title="Plan v2", body="plan body 2")
    issue.add_to_labels("extra")
    issue.set_labels("dispatch", "extra", "third")
    issue.remove_from_labels("third")
    assert [lab.name for lab in repo.get_issue(issue.number).labels] == ["dispatch", "extra"]
    assert [i.number for i in repo.get_issues(state="open", labels=["dispatch"])] == [issue.number]
    comment = repo.get_issue(issue.number).create_comment("dashboard")
    comment.edit("dashboard v2")
    assert repo.get_issue(issue.number).get_comment(comment.id).body == "dashboard v2"
    assert [c.body for c in repo.get_issue(issue.number).get_comments()] == ["dashboard v2"]
    world.user_client("maint").get_repo("o/r").get_issue(issue.number).get_comment(comment.id).create_reaction("+1")
    extra = maint.get_issue(issue.number).create_comment("to delete")
    extra.delete()
    assert repo.get_collaborator_permission("maint") == "write"
    assert repo.get_collaborator_role_name("maint") == "write"

    # pulls
    pr = maint.create_pull("main", "wavegate/1/api", title="api", body="prompt")
    data = expect_error(422, maint.create_pull, "main", "wavegate/1/api", title="dup", body="")
    assert "A pull request already exists for o:wavegate/1/api." in json.dumps(data)
    maint.create_git_ref("refs/heads/nothing", base_sha)
    data = expect_error(422, maint.create_pull, "main", "nothing", title="none", body="")
    assert "No commits between main and nothing" in json.dumps(data)
    assert [p.number for p in repo.get_pulls(state="open", head="o:wavegate/1/api", base="main",
                                             sort="created", direction="asc")] == [pr.number]
    got = repo.get_pull(pr.number)
    assert (got.changed_files, got.commits, got.mergeable) == (3, 3, True)
    assert sorted((f.filename, f.status) for f in got.get_files()) == [
        ("docs/guide.md", "removed"), ("new/file.txt", "added"), ("src/api.py", "added")]
    assert len(list(got.get_commits())) == 3
    got.edit(title="api v2", body="prompt v2")

    # checks
    run = repo.create_check_run("wavegate/territory", head, status="in_progress",
                                output={"title": "t", "summary": "s", "annotations": [ANN]})
    run.edit(conclusion="failure", output={"title": "t", "summary": "s", "annotations": [ANN, ANN]})
    run = repo.get_check_run(run.id)
    assert (run.status, run.conclusion, run.output.annotations_count) == ("completed", "failure", 3)
    assert len(list(run.get_annotations())) == 3
    gh.requester.requestJsonAndCheck("POST", f"/repos/o/r/check-runs/{run.id}/rerequest")
    suites = list(repo.get_commit(head).get_check_suites())
    assert suites and suites[0].app.id == world.app_id
    suites[0].rerequest()
    data = expect_error(405, got.merge, sha=head)
    assert data["message"] == "Required status check \"wavegate/territory\" is failing."
    repo.create_check_run("wavegate/territory", head, conclusion="success", output={"title": "ok", "summary": "ok"})
    repo.create_check_run("wavegate/wave-gate", head, conclusion="neutral", output={"title": "ok", "summary": "ok"})
    runs = list(repo.get_commit(head).get_check_runs(check_name="wavegate/territory"))
    assert [r.conclusion for r in runs] == ["success"]
    assert len(list(repo.get_commit(head).get_check_runs(filter="all"))) == 3

    # update-branch, then a 409 for a stale sha, then the merge
    maint.create_file("README2.md", "base moves", "b\n", branch="main")
    assert got.update_branch(expected_head_sha=head)
    new_head = repo.get_pull(pr.number).head.sha
    assert new_head != head
    data = expect_error(409, got.merge, sha=head)
    assert data["message"].startswith("Head branch was modified")
    for name in ("wavegate/territory", "wavegate/wave-gate"):
        repo.create_check_run(name, new_head, conclusion="success", output={"title": "ok", "summary": "ok"})
    status = got.merge(sha=new_head, merge_method="merge")
    assert status.merged
    assert repo.get_pull(pr.number).merged

    # closing an issue
    issue.edit(state="closed", state_reason="completed")

    # App hook deliveries (JWT) and redelivery
    world.drain()
    _, deliveries = gi.requester.requestJsonAndCheck("GET", "/app/hook/deliveries", parameters={"per_page": 5})
    assert len(deliveries) == 5
    gi.requester.requestJsonAndCheck("POST", f"/app/hook/deliveries/{deliveries[0]['id']}/attempts")
    return {"issue": issue.number, "pr": pr.number}


@pytest.fixture(scope="module")
def driven(module_world):
    world, _ = module_world
    recorder = Recorder()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(requests.adapters.HTTPAdapter, "send", recorder(requests.adapters.HTTPAdapter.send))
        result = drive_everything(world)
        world.drain()
    return world, recorder, result


def rest_exchanges(world, recorder) -> list[dict]:
    out = []
    for ex in recorder.exchanges:
        if not ex["url"].startswith(world.url) or urlsplit(ex["url"]).path.startswith("/_emulator"):
            continue
        out.append(ex)
    return out


def test_every_endpoint_is_exercised(driven):
    world, recorder, _ = driven
    seen = {(ex["method"], find_template(urlsplit(ex["url"]).path)) for ex in rest_exchanges(world, recorder)}
    assert ENDPOINTS - seen == set()


def test_every_response_body_matches_the_openapi_schema(driven):
    world, recorder, _ = driven
    failures = []
    for ex in rest_exchanges(world, recorder):
        body = json.loads(ex["body"]) if ex["body"] else None
        path = urlsplit(ex["url"]).path
        try:
            validate_response(ex["method"], path, ex["status"], body)
        except Exception as exc:  # collect every mismatch, not just the first
            failures.append(f"{ex['method']} {path} {ex['status']}: {str(exc)[:400]}")
    assert failures == [], "\n".join(failures)


def test_urls_in_bodies_use_the_emulator_port(driven):
    world, recorder, _ = driven
    for ex in rest_exchanges(world, recorder):
        text = ex["body"].decode()
        assert "api.github.com" not in text and "://github.com" not in text, ex["url"]


@pytest.mark.parametrize("node, expected", [
    ({"type": "string", "nullable": True}, {"type": ["string", "null"]}),
    ({"type": "string", "enum": ["a"], "nullable": True}, {"type": ["string", "null"], "enum": ["a", None]}),
    ({"$ref": "#/x", "nullable": True}, {"anyOf": [{"$ref": "#/x"}, {"type": "null"}]}),
    ({"type": "integer"}, {"type": "integer"}),
])
def test_nullable_is_translated(node, expected):
    assert to_json_schema(node) == expected


def test_the_validator_rejects_a_wrong_body():
    with pytest.raises(Exception, match="required|is not of type"):
        validate_response("GET", "/repos/o/r/pulls/1", 200, {"number": "one"})
