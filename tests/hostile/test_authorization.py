"""Authorization on real processes (emulator, gunicorn, an RQ worker; Redis db 14): a dispatch
label added by a triage user, commands from non-writers, a PR whose head branch looks like an
agent's but is not one: each is refused with a clear message, and the App makes no write beyond
that message (the emulator's request log is checked). A plan granting territory under
``.github/workflows/`` is dispatched without it: the prompt does not authorize it and a PR
touching a workflow fails the territory check."""

import shutil
import tempfile
import time
from pathlib import Path

import pytest
from github import GithubException

from demo.stack import Stack, wait_until
from tests.redisdb import redis_url

REDIS_URL = redis_url(14)
REPO = "acme/guarded"
WRITES = ("POST", "PATCH", "PUT", "DELETE")
PLAN = """```yaml dispatch
agents:
  - {name: api, territory: [services/api/]}
  - {name: web, territory: [apps/web/]}
```
"""
WORKFLOWS_PLAN = """```yaml dispatch
agents:
  - {name: ci, territory: [.github/workflows/, scripts/]}
```
"""


@pytest.fixture(scope="module")
def stack():
    workdir = Path(tempfile.mkdtemp(prefix="wavegate-hostile-"))
    with Stack(workdir, redis_url=REDIS_URL) as running:
        running.create_repo(REPO, {"services/api/a.py": "a = 1\n", "apps/web/b.ts": "b\n", "scripts/x.sh": "x\n",
                                   ".github/workflows/ci.yml": "on: [push]\n"},
                            required_checks=["wavegate/territory", "wavegate/wave-gate"])
        yield running
    shutil.rmtree(workdir, ignore_errors=True)


def app_writes(stack, since: int) -> list[str]:
    return [f"{r['method']} {r['path']}" for r in stack.admin("GET", "/_emulator/requests")
            if r["seq"] > since and (r.get("actor") or "").startswith("app:") and r["method"] in WRITES
            and r["status"] < 400]


def last_seq(stack) -> int:
    log = stack.admin("GET", "/_emulator/requests")
    return log[-1]["seq"] if log else 0


def comments(repo, number: int) -> list[str]:
    return [c.body for c in repo.get_issue(number).get_comments()]


def only_comment_writes(writes: list[str]) -> bool:
    return all(w.startswith("POST ") and w.endswith("/comments") or "/issues/comments/" in w for w in writes)


def test_a_dispatch_label_from_a_triage_user_creates_nothing(stack):
    coordinator = stack.user("coordinator", REPO, "admin").get_repo(REPO)
    issue = coordinator.create_issue("Guarded plan", body=PLAN)
    since = last_seq(stack)
    triager = stack.user("triager", REPO, "triage").get_repo(REPO)
    triager.get_issue(issue.number).add_to_labels("dispatch")
    text = wait_until(lambda: next((b for b in comments(coordinator, issue.number) if "write permission" in b), None),
                      30, "a refusal on the dispatch issue")
    assert "@triager" in text
    assert not list(coordinator.get_git_matching_refs("heads/wavegate/"))
    assert only_comment_writes(app_writes(stack, since)), app_writes(stack, since)


def test_a_read_user_cannot_even_add_the_label(stack):
    coordinator = stack.user("coordinator", REPO, "admin").get_repo(REPO)
    issue = coordinator.create_issue("Read-only attempt", body=PLAN)
    reader = stack.user("reader", REPO, "read").get_repo(REPO)
    with pytest.raises(GithubException) as refused:
        reader.get_issue(issue.number).add_to_labels("dispatch")
    assert refused.value.status in (403, 404)


@pytest.fixture(scope="module")
def dispatched(stack):
    coordinator = stack.user("coordinator", REPO, "admin").get_repo(REPO)
    issue = coordinator.create_issue("Real plan", body=PLAN)
    issue.add_to_labels("dispatch")
    prs = wait_until(lambda: (p := {pr.head.ref: pr.number for pr in coordinator.get_pulls(state="open")
                                    if pr.head.ref.startswith(f"wavegate/{issue.number}/")}) and len(p) == 2 and p,
                     60, "two agent PRs")
    wait_until(lambda: all({r.name for r in coordinator.get_commit(coordinator.get_pull(n).head.sha).get_check_runs()
                            if r.conclusion or r.status == "in_progress"} >= {"wavegate/territory", "wavegate/wave-gate"}
                           for n in prs.values()), 60, "both checks on both PRs")
    wait_until(lambda: any("<!-- wavegate dashboard -->" in b and "#" in b for b in comments(coordinator, issue.number)),
               60, "the dashboard")
    stack.drain(30)
    time.sleep(2)  # the last job may still be writing
    stack.drain(30)
    return coordinator, issue.number, prs


@pytest.mark.parametrize("permission", ["read", "triage"])
def test_commands_from_non_writers_are_refused(stack, dispatched, permission):
    coordinator, number, _ = dispatched
    since = last_seq(stack)
    user = stack.user(f"outsider-{permission}", REPO, permission).get_repo(REPO)
    user.get_issue(number).create_comment("/wavegate cancel")
    wait_until(lambda: any(f"@outsider-{permission}" in b and "write permission" in b
                           for b in comments(coordinator, number)), 30, "a refusal of the command")
    stack.drain(10)
    writes = app_writes(stack, since)
    assert only_comment_writes(writes), writes
    board = next(b for b in comments(coordinator, number) if "<!-- wavegate dashboard -->" in b)
    assert "**State: dispatched**" in board or "state: dispatched" in board.lower()
    assert '"cancelled":false' in board


def test_a_pr_from_a_look_alike_branch_is_no_agent(stack, dispatched):
    coordinator, number, prs = dispatched
    api_branch = next(b for b in prs if b.endswith("/api"))
    main = coordinator.get_branch("main")
    look_alike = api_branch.replace("wavegate/", "wavegate-/")  # not the agent's branch, looks like it
    coordinator.create_git_ref(f"refs/heads/{look_alike}", main.commit.sha)
    coordinator.update_file("services/api/a.py", "stray edit", "a = 2\n",
                            coordinator.get_contents("services/api/a.py", ref=look_alike).sha, branch=look_alike)
    pr = coordinator.create_pull(title="looks like api", body="", head=look_alike, base="main")

    def verdict():
        runs = [r for r in coordinator.get_commit(coordinator.get_pull(pr.number).head.sha).get_check_runs()
                if r.name == "wavegate/territory" and r.conclusion]
        return runs[-1] if runs else None

    run = wait_until(verdict, 60, "the look-alike PR's territory verdict")
    assert run.conclusion == "failure"
    assert "api" in (run.output.title + (run.output.summary or ""))


def test_a_plan_granting_workflows_gives_no_workflows_territory(stack):
    # The protected list is subtracted from a territory: `ci` is dispatched with `scripts/` only.
    # What matters is that it gets no `.github/workflows/` territory: its prompt does not authorize
    # it, and its PR touching a workflow fails the territory check.
    coordinator = stack.user("coordinator", REPO, "admin").get_repo(REPO)
    issue = coordinator.create_issue("Workflows plan", body=WORKFLOWS_PLAN)
    issue.add_to_labels("dispatch")
    branch = f"wavegate/{issue.number}/ci"
    pr = wait_until(lambda: next((p for p in coordinator.get_pulls(state="open") if p.head.ref == branch), None),
                    60, "the ci agent's PR")
    scope, rest = pr.body.split("### Findings")
    assert "- `scripts/`" in scope and ".github/workflows/" not in scope
    assert "- `.github/workflows/` — listed in your territory, but all of it is protected" in rest
    workflow = ".github/workflows/ci.yml"
    coordinator.update_file(workflow, "edit a workflow", "on: [pull_request]\n",
                            coordinator.get_contents(workflow, ref=branch).sha, branch=branch)

    def verdict():
        head = coordinator.get_pull(pr.number).head.sha
        runs = [r for r in coordinator.get_commit(head).get_check_runs()
                if r.name == "wavegate/territory" and r.conclusion and head != pr.head.sha]
        return runs[-1] if runs else None

    run = wait_until(verdict, 60, "the territory verdict on the workflow edit")
    assert run.conclusion == "failure"
    assert workflow in (run.output.title + (run.output.summary or "") + (run.output.text or ""))
