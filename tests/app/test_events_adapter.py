"""The port operations the events need beyond dispatch: ``edit_pull_body`` (``PATCH /pulls/{n}``)
and the ``draft`` flag, against GitHub's published OpenAPI description."""

from __future__ import annotations

import json

import jsonschema
import responses
from responses import matchers

from tests.conftest import FIXTURES

from .test_github_adapter import API, _pull, calls, port, rsps  # noqa: F401  (fixture)


def _update_operation() -> dict:
    doc = json.loads((FIXTURES / "rest" / "openapi" / "api.github.com.json").read_text())
    return doc["paths"]["/repos/{owner}/{repo}/pulls/{pull_number}"]["patch"]


def test_edit_pull_body_sends_only_the_body(rsps):  # noqa: F811
    op = _update_operation()
    assert op["operationId"] == "pulls/update"
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    answer = _pull()
    answer["body"] = "new prompt"
    rsps.patch(f"{API}/repos/o/r/pulls/31", json=answer,
               match=[matchers.json_params_matcher({"body": "new prompt"})])
    pull = port().edit_pull_body("o/r", 31, "new prompt")
    assert calls(rsps) == ["PATCH /repos/o/r/pulls/31"]
    jsonschema.validate(json.loads(rsps.calls[0].request.body), schema)
    assert (pull.number, pull.body) == (31, "new prompt")


def test_edit_pull_body_in_dry_run_sends_nothing():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as r:
        pull = port(dry_run=True).edit_pull_body("o/r", 31, "x")
        assert len(r.calls) == 0 and pull.body == "x"


def test_draft_is_read_from_the_pull(rsps):  # noqa: F811
    answer = _pull()
    answer["draft"] = True
    rsps.get(f"{API}/repos/o/r/pulls/31", json=answer)
    assert port().get_pull("o/r", 31).draft is True
