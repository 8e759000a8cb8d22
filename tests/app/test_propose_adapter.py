"""``edit_issue_body`` (what ``/wavegate adopt`` writes) in the GitHub adapter, against ``responses``
with GitHub's recorded issue body."""

from __future__ import annotations

import json

from responses import matchers

from tests.app.test_github_adapter import API, calls, example, port, rsps  # noqa: F401 (rsps: fixture)


def test_edit_issue_body_patches_the_body_only(rsps):  # noqa: F811
    issue = example("issues.get")
    issue.update(number=42, body="findings\n\n```yaml dispatch\nagents: []\n```\n")
    rsps.patch(f"{API}/repos/o/r/issues/42", json=issue,
               match=[matchers.json_params_matcher({"body": issue["body"]})])
    port().edit_issue_body("o/r", 42, issue["body"])
    assert calls(rsps) == ["PATCH /repos/o/r/issues/42"]
    assert json.loads(rsps.calls[0].request.body) == {"body": issue["body"]}


def test_edit_issue_body_in_a_dry_run_sends_nothing(rsps):  # noqa: F811
    assert port(dry_run=True).edit_issue_body("o/r", 42, "text").body == "text"
    assert calls(rsps) == []
