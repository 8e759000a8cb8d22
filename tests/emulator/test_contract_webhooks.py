"""Every webhook the emulator sends in a scripted scenario validates against the octokit/webhooks
schemas, carries GitHub's headers and a correct signature over the exact bytes sent."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
import requests

from .conftest import SECRET, make_world
from .test_contract_rest import drive_everything
from .webhook_schemas import validate_webhook

EXPECTED = {
    ("issues", "opened"), ("issues", "edited"), ("issues", "labeled"), ("issues", "unlabeled"),
    ("issues", "closed"), ("issues", "reopened"),
    ("issue_comment", "created"), ("issue_comment", "edited"), ("issue_comment", "deleted"),
    ("pull_request", "opened"), ("pull_request", "edited"), ("pull_request", "synchronize"),
    ("pull_request", "closed"), ("pull_request", "reopened"), ("pull_request", "ready_for_review"),
    ("pull_request", "converted_to_draft"),
    ("check_run", "created"), ("check_run", "completed"), ("check_run", "rerequested"),
    ("check_suite", "requested"), ("check_suite", "rerequested"), ("check_suite", "completed"),
    ("merge_group", "checks_requested"), ("merge_group", "destroyed"),
}


def extra_scenario(world, issue_number: int) -> None:
    gh = world.app_client()
    repo = gh.get_repo("o/r")
    maint = world.user_client("maint").get_repo("o/r")
    repo.get_issue(issue_number).edit(state="open")
    base = repo.get_branch("main").commit.sha
    maint.create_git_ref("refs/heads/side", base)
    maint.create_file("side.txt", "side", "s\n", branch="side")
    pr = maint.create_pull("main", "side", title="side", body="b", draft=True)
    maint.get_issue(pr.number).create_comment("a comment on a pull request")
    maint.get_issue(pr.number).add_to_labels("on-a-pull")
    assert world.admin("POST", f"/repos/o/r/pulls/{pr.number}/ready", json={"ready": True}).status_code == 200
    assert world.admin("POST", f"/repos/o/r/pulls/{pr.number}/ready", json={"ready": False}).status_code == 200
    maint.create_git_ref("refs/heads/other-base", base)
    maint.get_pull(pr.number).edit(base="other-base")
    maint.get_pull(pr.number).edit(state="closed")
    maint.get_pull(pr.number).edit(state="open", base="main")
    # the merge queue: a group whose checks pass merges
    world.admin("PATCH", "/repos/o/r", json={"merge_queue": True})
    entry = world.admin("POST", "/repos/o/r/merge-queue", json={"number": pr.number}).json()
    for name in ("wavegate/territory", "wavegate/wave-gate"):
        repo.create_check_run(name, entry["head_sha"], conclusion="success", output={"title": "ok", "summary": "ok"})
    assert maint.get_pull(pr.number).merged


@pytest.fixture(scope="module")
def deliveries(module_world):
    world, receiver = module_world
    result = drive_everything(world)
    extra_scenario(world, result["issue"])
    world.drain()
    return receiver.received


def test_every_delivery_validates_against_its_schema(deliveries):
    failures = []
    for headers, body in deliveries:
        event = headers["X-Github-Event"]
        try:
            validate_webhook(event, json.loads(body))
        except Exception as exc:  # collect every mismatch
            failures.append(f"{event}.{json.loads(body).get('action')}: {str(exc)[:600]}")
    assert failures == [], "\n".join(failures)


def test_the_scenario_covers_every_event(deliveries):
    seen = {(h["X-Github-Event"], json.loads(b).get("action")) for h, b in deliveries}
    assert EXPECTED - seen == set()


def test_deliveries_carry_github_headers_and_signatures(deliveries, module_world):
    world = module_world[0]
    guids = set()
    for headers, body in deliveries:
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Hub-Signature-256"] == expected
        assert headers["X-Hub-Signature"] == "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
        assert headers["User-Agent"].startswith("GitHub-Hookshot/")
        assert headers["X-Github-Hook-Installation-Target-Type"] == "integration"
        assert headers["X-Github-Hook-Installation-Target-Id"] == str(world.app_id)
        assert headers["Content-Type"] == "application/json"
        payload = json.loads(body)
        assert payload["installation"]["id"] == world.installation_id
        guids.add(headers["X-Github-Delivery"])
    # one redelivery (the hook-deliveries attempt) reuses a GUID; every other delivery has a fresh one
    assert len(guids) == len(deliveries) - 1


def test_sender_is_the_bot_when_an_installation_token_acted(deliveries):
    by_action = {}
    for headers, body in deliveries:
        payload = json.loads(body)
        by_action.setdefault((headers["X-Github-Event"], payload.get("action")), []).append(payload)
    created = by_action[("check_run", "created")][0]
    assert created["sender"] == {**created["sender"], "login": "wavegate[bot]", "type": "Bot"}
    opened = by_action[("pull_request", "opened")][0]
    assert opened["sender"]["login"] == "maint" and opened["sender"]["type"] == "User"


def test_synchronize_and_base_change_payloads(deliveries):
    payloads = [json.loads(b) for h, b in deliveries if h["X-Github-Event"] == "pull_request"]
    sync = [p for p in payloads if p["action"] == "synchronize"]
    assert sync and all(p["before"] != p["after"] and p["pull_request"]["head"]["sha"] == p["after"] for p in sync)
    edited = [p for p in payloads if p["action"] == "edited" and "base" in p["changes"]]
    assert edited[0]["changes"]["base"]["ref"]["from"] == "main"
    assert len(edited[0]["changes"]["base"]["sha"]["from"]) == 40
    merged = [p for p in payloads if p["action"] == "closed" and p["pull_request"]["merged"]]
    assert len(merged) == 2


def test_github_signature_test_vector():
    from emulator.webhooks import sign

    assert sign("It's a Secret to Everybody", b"Hello, World!") == (
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")


def test_example_payloads_validate():
    # the validator accepts GitHub's own examples (so a failure above is the emulator's fault)
    from .openapi import OPENAPI

    fixtures = OPENAPI.parents[2] / "webhooks"
    for event, name in (("pull_request", "opened"), ("check_run", "created"), ("merge_group", "checks_requested")):
        validate_webhook(event, json.loads((fixtures / event / f"{name}.json").read_text()))


def test_a_receiver_failure_is_recorded(emulator, receiver, app_key):
    world = make_world(emulator, receiver, app_key)
    receiver.status = 500
    world.user_client("maint").get_repo("o/r").create_issue("x")
    world.drain()
    log = requests.get(f"{world.url}/_emulator/deliveries", timeout=10).json()
    assert [d["status_code"] for d in log if d["event"] == "issues"] == [500]
