"""The launching calls of ``PyGithubPort`` against ``responses``: the workflow dispatch with run
details (200) and without (204), runs listed and read, the coding agent's assignment sent with the
user token only. Bodies are shaped as GitHub's OpenAPI description (``workflow-run``) says."""

from __future__ import annotations

import json

import pytest
import responses

from service.errors import PermissionDenied
from tests.app.test_github_adapter import API, port

RUN = {"id": 70001, "name": "wavegate agent", "status": "in_progress", "conclusion": None,
       "head_branch": "main", "event": "workflow_dispatch", "display_title": "wavegate api on wavegate/42/api (PR #20)",
       "created_at": "2026-01-05T09:00:00Z", "run_started_at": "2026-01-05T09:00:10Z",
       "updated_at": "2026-01-05T09:01:00Z", "html_url": "https://github.com/o/r/actions/runs/70001"}


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as r:
        yield r


def test_dispatch_with_run_details_returns_the_run_id(rsps):
    answer = {"workflow_run_id": 70001, "run_url": "https://api.github.com/repos/o/r/actions/runs/70001",
              "html_url": "https://github.com/o/r/actions/runs/70001"}
    rsps.add("POST", f"{API}/repos/o/r/actions/workflows/wavegate-agent.yml/dispatches", json=answer, status=200)
    got = port().dispatch_workflow("o/r", "wavegate-agent.yml", {"ref": "main", "inputs": {}, "return_run_details": True})
    assert got == answer
    assert json.loads(rsps.calls[0].request.body)["return_run_details"] is True


def test_dispatch_without_run_details_is_none(rsps):
    rsps.add("POST", f"{API}/repos/o/r/actions/workflows/wavegate-agent.yml/dispatches", status=204)
    assert port().dispatch_workflow("o/r", "wavegate-agent.yml", {"ref": "main", "inputs": {}}) is None


def test_runs_are_listed_and_read(rsps):
    rsps.add("GET", f"{API}/repos/o/r/actions/runs", json={"total_count": 1, "workflow_runs": [RUN]})
    rsps.add("GET", f"{API}/repos/o/r/actions/runs/70001", json=RUN)
    (listed,) = port().workflow_runs("o/r")
    assert listed.display_title.endswith("(PR #20)") and listed.status == "in_progress"
    assert port().get_workflow_run("o/r", 70001).html_url == RUN["html_url"]
    assert "event=workflow_dispatch" in rsps.calls[0].request.url


def test_the_assignment_uses_the_user_token_and_never_echoes_it(rsps):
    rsps.add("POST", "https://api.github.com/repos/o/r/issues/20/assignees", json={}, status=201)
    rsps.add("POST", "https://api.github.com/repos/o/r/issues/21/assignees", json={"message": "ghu_tok"}, status=403)
    gh = port()
    gh.assign_agent("o/r", 20, {"assignees": ["copilot-swe-agent[bot]"]}, token="ghu_usertoken123")
    assert rsps.calls[0].request.headers["Authorization"] == "Bearer ghu_usertoken123"
    with pytest.raises(PermissionDenied) as refused:
        gh.assign_agent("o/r", 21, {}, token="ghu_usertoken123")
    assert "ghu_" not in str(refused.value)
