"""GitHub Actions on the emulator: workflow dispatch (204, or 200 with ``return_run_details``), runs
listed and read, ``workflow_run`` webhooks for each step, scripted agents that push to the agent's
branch or fail, and the issue-assignment endpoint with ``agent_assignment`` (user tokens only).
Every answer and webhook is checked against the trimmed OpenAPI description and octokit's schemas."""

from __future__ import annotations

import json

import jsonschema
import pytest
import requests
from github import Auth

from .conftest import make_world
from .openapi import _document, validate_response
from .webhook_schemas import validate_webhook

WORKFLOW = "name: agent\non:\n  workflow_dispatch:\n    inputs:\n      agent: {}\n      branch: {}\njobs: {}\n"
FILES = {"README.md": "# r\n", "src/app.py": "print('hi')\n", ".github/workflows/agent.yml": WORKFLOW,
         ".github/workflows/ci.yml": "on: push\njobs: {}\n"}
DISPATCH = "/repos/o/r/actions/workflows/agent.yml/dispatches"


@pytest.fixture
def actions_world(emulator, receiver, app_key):
    world = make_world(emulator, receiver, app_key, files=FILES)
    grant = {"checks": "write", "contents": "write", "issues": "write", "pull_requests": "write",
             "metadata": "read", "actions": "write"}
    events = ["issues", "issue_comment", "pull_request", "check_run", "check_suite", "workflow_run"]
    assert world.admin("PATCH", "/apps/4242", json={"permissions": grant, "events": events}).status_code == 200
    repo = world.user_client("maint").get_repo("o/r")
    repo.create_git_ref("refs/heads/wavegate/1/api", repo.get_branch("main").commit.sha)
    return world


def call(world, method: str, path: str, token: str | None = None, **kw) -> requests.Response:
    """One REST call as the installation (default) or with ``token``; the answer is checked
    against the OpenAPI description when it succeeded."""
    token = token or world.integration().get_access_token(world.installation_id).token
    resp = requests.request(method, world.url + path, headers={"Authorization": f"token {token}"}, timeout=30, **kw)
    if resp.status_code < 300:
        validate_response(method, path.split("?")[0], resp.status_code, resp.json() if resp.content else None)
    return resp


def agents(world, **config) -> None:
    assert world.admin("PUT", "/repos/o/r/agents", json=config).status_code == 200


def dispatch(world, details: bool = True, **inputs) -> requests.Response:
    body = {"ref": "main", "inputs": {"agent": "api", "branch": "wavegate/1/api", **inputs}}
    if details:
        body["return_run_details"] = True
    return call(world, "POST", DISPATCH, json=body)


def test_dispatch_answers_204_or_the_run_details(actions_world):
    assert dispatch(actions_world, details=False).status_code == 204
    resp = dispatch(actions_world)
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == {"workflow_run_id", "run_url", "html_url"}
    run = call(actions_world, "GET", f"/repos/o/r/actions/runs/{body['workflow_run_id']}").json()
    assert (run["url"], run["html_url"], run["status"], run["event"]) == (
        body["run_url"], body["html_url"], "queued", "workflow_dispatch")
    listed = call(actions_world, "GET", "/repos/o/r/actions/runs").json()
    assert listed["total_count"] == 2 and listed["workflow_runs"][0]["id"] == body["workflow_run_id"]
    by_workflow = call(actions_world, "GET", "/repos/o/r/actions/workflows/agent.yml/runs?status=queued").json()
    assert [r["run_number"] for r in by_workflow["workflow_runs"]] == [2, 1]


def test_a_scripted_agent_pushes_to_its_branch_and_the_run_completes(actions_world, receiver):
    agents(actions_world, workflow="agent.yml", step_seconds=0,
           agents={"api": {"files": {"src/api.py": "API = 1\n", "README.md": None}, "message": "api: add"}})
    run_id = dispatch(actions_world).json()["workflow_run_id"]
    actions_world.drain()
    runs = receiver.events("workflow_run")
    assert [(p["action"], p["workflow_run"]["status"], p["workflow_run"]["conclusion"]) for p in runs] == [
        ("requested", "queued", None), ("in_progress", "in_progress", None), ("completed", "completed", "success")]
    for payload in runs:
        validate_webhook("workflow_run", payload)
        assert payload["workflow_run"]["id"] == run_id and payload["workflow"]["path"] == ".github/workflows/agent.yml"
    repo = actions_world.user_client("maint").get_repo("o/r")
    assert repo.get_contents("src/api.py", ref="wavegate/1/api").decoded_content == b"API = 1\n"
    assert "README.md" not in {c.path for c in repo.get_contents("", ref="wavegate/1/api")}
    log = actions_world.admin("GET", "/repos/o/r/agents").json()["runs"]
    assert [(e["agent"], e["conclusion"], bool(e["pushed"])) for e in log] == [("api", "success", True)]


@pytest.mark.parametrize("script, inputs, reason", [
    ({"conclusion": "failure", "files": {"x.py": "x"}}, {}, None),
    ({"files": {"x.py": "x"}}, {"branch": "wavegate/1/missing"}, "no branch 'wavegate/1/missing'"),
])
def test_a_failing_agent_pushes_nothing(actions_world, receiver, script, inputs, reason):
    agents(actions_world, step_seconds=0, agents={"*": script})
    before = actions_world.user_client("maint").get_repo("o/r").get_branch("wavegate/1/api").commit.sha
    dispatch(actions_world, **inputs)
    actions_world.drain()
    completed = receiver.events("workflow_run", "completed")
    assert [p["workflow_run"]["conclusion"] for p in completed] == ["failure"]
    after = actions_world.user_client("maint").get_repo("o/r").get_branch("wavegate/1/api").commit.sha
    assert after == before
    entry = actions_world.admin("GET", "/repos/o/r/agents").json()["runs"][0]
    assert entry["pushed"] is None and (reason is None or reason in entry["reason"])


def test_without_a_script_the_run_waits_and_the_admin_moves_it(actions_world, receiver):
    run_id = dispatch(actions_world).json()["workflow_run_id"]
    path = f"/repos/o/r/actions/runs/{run_id}"
    assert actions_world.admin("PATCH", path, json={"status": "completed"}).status_code == 422
    assert actions_world.admin("PATCH", path, json={"status": "in_progress"}).json()["status"] == "in_progress"
    assert actions_world.admin("PATCH", path, json={"status": "queued"}).status_code == 422
    done = actions_world.admin("PATCH", path, json={"status": "completed", "conclusion": "cancelled"}).json()
    assert (done["status"], done["conclusion"]) == ("completed", "cancelled")
    actions_world.drain()
    assert [p["action"] for p in receiver.events("workflow_run")] == ["requested", "in_progress", "completed"]


@pytest.mark.parametrize("path, body, status", [
    (DISPATCH, {"inputs": {}}, 422),                                              # no ref
    (DISPATCH, {"ref": "nope"}, 422),                                             # unknown ref
    (DISPATCH, {"ref": "main", "inputs": {f"k{i}": "v" for i in range(26)}}, 422),  # over 25 inputs
    (DISPATCH, {"ref": "main", "inputs": {"k": "v" * 65_536}}, 422),              # over 65,535 characters
    (DISPATCH, {"ref": "main", "return_run_details": "yes"}, 422),
    ("/repos/o/r/actions/workflows/ci.yml/dispatches", {"ref": "main"}, 422),    # no workflow_dispatch
    ("/repos/o/r/actions/workflows/missing.yml/dispatches", {"ref": "main"}, 404),
])
def test_dispatch_refuses_what_github_refuses(actions_world, path, body, status):
    resp = call(actions_world, "POST", path, json=body)
    assert resp.status_code == status and resp.json()["message"]


def test_an_installation_without_actions_write_cannot_dispatch(actions_world):
    grant = {"contents": "write", "issues": "write", "metadata": "read", "actions": "read"}
    actions_world.admin("PATCH", "/apps/4242", json={"permissions": grant})
    resp = dispatch(actions_world)
    assert (resp.status_code, resp.json()["message"]) == (403, "Resource not accessible by integration")
    assert call(actions_world, "GET", "/repos/o/r/actions/runs").json()["total_count"] == 0


def test_the_installation_carries_actions_write_and_workflow_run(actions_world):
    jwt = Auth.AppAuth(actions_world.app_id, actions_world.pem).create_jwt()
    app = requests.get(f"{actions_world.url}/app", timeout=10, headers={"Authorization": f"Bearer {jwt}"}).json()
    assert app["permissions"]["actions"] == "write" and "workflow_run" in app["events"]
    token = actions_world.integration().get_access_token(actions_world.installation_id)
    assert token.permissions["actions"] == "write"


def _assign_request_schema() -> dict:
    op = _document()["paths"]["/repos/{owner}/{repo}/issues/{issue_number}/assignees"]["post"]
    return op["requestBody"]["content"]["application/json"]["schema"]


ASSIGNMENT = {"assignees": ["copilot-swe-agent[bot]"],
              "agent_assignment": {"base_branch": "wavegate/1/api", "custom_instructions": "Fix the API.",
                                   "target_repo": "o/r"}}


def test_a_user_assigns_the_coding_agent_with_an_agent_assignment(actions_world, receiver):
    jsonschema.validate(ASSIGNMENT, _assign_request_schema())
    number = actions_world.user_client("maint").get_repo("o/r").create_issue("agent work").number
    resp = call(actions_world, "POST", f"/repos/o/r/issues/{number}/assignees", token=actions_world.tokens["maint"],
                json={**ASSIGNMENT, "assignees": [*ASSIGNMENT["assignees"], "nobody"]})
    assert resp.status_code == 201
    assert [a["login"] for a in resp.json()["assignees"]] == ["copilot-swe-agent[bot]"]
    actions_world.drain()
    assigned = receiver.events("issues", "assigned")
    assert [p["assignee"]["login"] for p in assigned] == ["copilot-swe-agent[bot]"]
    validate_webhook("issues", assigned[0])


@pytest.mark.parametrize("who, body, status", [
    ("app", ASSIGNMENT, 403),
    ("maint", {**ASSIGNMENT, "agent_assignment": {"base_branch": "no-such-branch"}}, 422),
    ("maint", {**ASSIGNMENT, "agent_assignment": {"colour": "blue"}}, 422),
])
def test_agent_assignment_refusals(actions_world, who, body, status):
    number = actions_world.user_client("maint").get_repo("o/r").create_issue("agent work").number
    token = None if who == "app" else actions_world.tokens[who]
    resp = call(actions_world, "POST", f"/repos/o/r/issues/{number}/assignees", token=token, json=body)
    assert resp.status_code == status
    if who == "app":
        assert resp.json()["message"] == "Resource not accessible by integration"


def test_a_bad_scripted_agent_setting_is_refused_with_its_field(actions_world):
    resp = actions_world.admin("PUT", "/repos/o/r/agents", json={"agents": {"api": {"conclusion": "maybe"}}})
    assert resp.status_code == 422 and "agents.api.conclusion" in json.loads(resp.content)["message"]
