"""Steering a running plan on real processes (emulator, web, RQ worker, Redis): a refused grant
changes nothing, a valid grant edits the plan and re-checks its PRs, an allowance lets a hotfix
through until it is revoked, a reader is refused, every delivery twice changes nothing twice, and
after a plan edit every check run carries the new plan version (DESIGN §3.5)."""

import base64

import pytest
from github import InputGitTreeElement

from demo.stack import wait_until

from .conftest import running_stack

pytestmark = pytest.mark.e2e
REPO = "acme/steer"
TERRITORY, GATE = "wavegate/territory", "wavegate/wave-gate"
PLAN = """Two agents at once.

```yaml dispatch
agents:
  - {name: api, territory: [services/api/]}
  - {name: web, territory: [apps/web/]}
```
"""
FILES = {"services/api/app.py": "a = 1\n", "apps/web/index.ts": "export {}\n", "shared/util.py": "u = 1\n",
         ".github/wavegate.yml": "strict: true\n"}


@pytest.fixture(scope="module")
def stack(request):
    yield from running_stack(request, "wavegate-e2e-steer-")


def push(repo, branch: str, path: str, text: str) -> str:
    ref = repo.get_git_ref(f"heads/{branch}")
    head = repo.get_git_commit(ref.object.sha)
    blob = repo.create_git_blob(base64.b64encode(text.encode()).decode(), "base64").sha
    tree = repo.create_git_tree([InputGitTreeElement(path, "100644", "blob", sha=blob)], base_tree=head.tree)
    commit = repo.create_git_commit(f"change {path}", tree, [head])
    ref.edit(commit.sha)
    return commit.sha


def latest(repo, number: int) -> dict:
    runs = repo.get_commit(repo.get_pull(number).head.sha).get_check_runs()
    out = {}
    for r in sorted(runs, key=lambda r: r.id):
        out[r.name] = r
    return out


def conclusion(repo, number: int) -> str | None:
    run = latest(repo, number).get(TERRITORY)
    return run.conclusion if run else None


def dashboard(repo, issue: int) -> str:
    return next((c.body for c in repo.get_issue(issue).get_comments() if "<!-- wavegate dashboard -->" in c.body), "")


def test_steering_a_running_plan(stack):
    stack.create_repo(REPO, FILES, required_checks=[TERRITORY, GATE])
    lead = stack.user("lead", REPO, "maintain").get_repo(REPO)
    reader = stack.user("visitor", REPO, "read").get_repo(REPO)
    issue = lead.create_issue("Steer", body=PLAN)
    issue.add_to_labels("dispatch")

    def agent_prs():
        prs = {pr.head.ref.rsplit("/", 1)[1]: pr.number for pr in lead.get_pulls(state="open")}
        return prs if set(prs) >= {"api", "web"} else None

    prs = wait_until(agent_prs, 60, "both agent PRs")
    push(lead, f"wavegate/{issue.number}/api", "shared/util.py", "u = 2\n")
    wait_until(lambda: conclusion(lead, prs["api"]) == "failure", 60, "api's crossing to fail")

    # A grant overlapping web (running at the same time) is refused with a witness; nothing changes.
    body = lead.get_issue(issue.number).body
    issue.create_comment("/wavegate grant api apps/web/")
    wait_until(lambda: any("refused and nothing changed" in c.body and "apps/web/index.ts" in c.body
                           for c in lead.get_issue(issue.number).get_comments()), 60, "the refusal")
    assert lead.get_issue(issue.number).body == body

    # Every delivery twice from here on: nothing may happen twice.
    stack.admin("POST", "/_emulator/webhooks/config", json={"duplicate": 2})
    try:
        issue.create_comment("/wavegate grant api shared/ — the API owns the helpers")
        wait_until(lambda: conclusion(lead, prs["api"]) == "success", 60, "the grant to turn api green")
        assert "# granted by @lead" in lead.get_issue(issue.number).body
        wait_until(lambda: any("granted" in c.body for c in lead.get_issue(prs["api"]).get_comments()), 60,
                   "the comment on api's PR")

        # A hotfix touching api's files fails, passes under an allowance, fails again once revoked.
        lead.create_git_ref("refs/heads/hotfix", lead.get_branch("main").commit.sha)
        push(lead, "hotfix", "services/api/app.py", "a = 2\n")
        hotfix = lead.create_pull(title="Hotfix", body="login is down", head="hotfix", base="main").number
        wait_until(lambda: conclusion(lead, hotfix) == "failure", 60, "the hotfix to fail")
        reader.get_issue(issue.number).create_comment(f"/wavegate allow #{hotfix}")
        wait_until(lambda: any("needs maintain permission" in c.body for c in lead.get_issue(issue.number).get_comments()),
                   60, "the reader's refusal")
        lead.get_issue(hotfix).create_comment("/wavegate allow — login is down")
        wait_until(lambda: conclusion(lead, hotfix) == "success", 60, "the allowance")
        run = latest(lead, hotfix)[TERRITORY]
        assert "services/api/app.py" in run.output.summary and run.output.title.startswith("Allowed by @lead")
        wait_until(lambda: f"#{hotfix}: allowed by @lead" in dashboard(lead, issue.number), 60,
                   "the allowance on the dashboard")
        issue.create_comment(f"/wavegate revoke #{hotfix}")
        wait_until(lambda: conclusion(lead, hotfix) == "failure", 60, "the revoke")
        stack.drain()
    finally:
        stack.admin("POST", "/_emulator/webhooks/config", json={"duplicate": 1})

    comments = [c.body for c in lead.get_issue(prs["api"]).get_comments()]
    assert sum("granted" in c for c in comments) == 1
    history = dashboard(lead, issue.number)
    assert history.count("| grant |") == 1 and history.count("| allowance |") == 1

    # After a plan edit every check run of the plan carries the new plan version.
    issue.edit(body=PLAN.replace("[apps/web/]", "[apps/web/, apps/mobile/]")
               .replace("[services/api/]", "[services/api/, shared/]"))

    def versions():
        ids = {r.external_id for n in prs.values() for r in latest(lead, n).values()}
        return ids if len(ids) == 1 else None

    before = {r.external_id for r in latest(lead, prs["api"]).values()}
    wait_until(lambda: (versions() or before) != before, 60, "every check to carry the new version")
    [version] = versions()
    assert version.startswith("plan-")
