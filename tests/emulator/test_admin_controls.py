"""The admin prefix: webhook redelivery, hold/release ordering, duplicates, fault injection, the
request log, state snapshots, the App manifest flow and the command-line entry point."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import github
import jsonschema
import pytest
import requests

from .conftest import make_world
from .webhook_schemas import validate_webhook

ROOT = Path(__file__).resolve().parents[2]


def make_issues(world, n: int) -> list[int]:
    repo = world.user_client("maint").get_repo("o/r")
    return [repo.create_issue(f"issue {i}").number for i in range(n)]


def test_redelivery_keeps_the_guid(world, receiver):
    make_issues(world, 1)
    world.drain()
    first = world.admin("GET", "/deliveries").json()[0]
    again = world.admin("POST", f"/deliveries/{first['id']}/redeliver").json()
    world.drain()
    assert again["guid"] == first["guid"] and again["redelivery"] is True
    guids = [h["X-Github-Delivery"] for h, _ in receiver.received]
    assert guids.count(first["guid"]) == 2
    bodies = [b for h, b in receiver.received if h["X-Github-Delivery"] == first["guid"]]
    assert bodies[0] == bodies[1]
    detail = world.admin("GET", f"/deliveries/{again['id']}").json()
    assert detail["headers"]["X-GitHub-Delivery"] == first["guid"] and detail["payload"]["action"] == "opened"


@pytest.mark.parametrize("order", ["fifo", "reverse", "shuffle"])
def test_hold_and_release_reorder(world, receiver, order):
    world.admin("POST", "/webhooks/hold")
    numbers = make_issues(world, 6)
    world.drain()  # held deliveries do not count as pending
    assert receiver.received == []
    assert world.admin("POST", "/webhooks/release", json={"order": order, "seed": 3}).json()["released"] == 6
    world.drain()
    got = [json.loads(b)["issue"]["number"] for _, b in receiver.received]
    assert sorted(got) == numbers
    if order == "fifo":
        assert got == numbers
    elif order == "reverse":
        assert got == numbers[::-1]
    else:
        assert got != numbers  # seed 3 shuffles 6 items out of order
        world.admin("POST", "/webhooks/hold")


def test_duplicate_sends_each_delivery_n_times_with_the_same_guid(world, receiver):
    world.admin("POST", "/webhooks/config", json={"duplicate": 3})
    make_issues(world, 2)
    world.drain()
    guids = [h["X-Github-Delivery"] for h, _ in receiver.received]
    assert len(guids) == 6 and len(set(guids)) == 2


def test_shuffle_window_reorders_deliveries(world, receiver):
    world.admin("POST", "/webhooks/hold")
    numbers = make_issues(world, 10)
    world.admin("POST", "/webhooks/config", json={"shuffle_window": 5, "seed": 1})
    world.admin("POST", "/webhooks/release", json={"order": "fifo"})
    world.drain()
    got = [json.loads(b)["issue"]["number"] for _, b in receiver.received]
    assert sorted(got) == numbers and got != numbers


def test_hook_deliveries_api_paginates_with_a_cursor_and_redelivers(world, receiver):
    make_issues(world, 5)
    world.drain()
    requester = world.integration().requester
    headers, page1 = requester.requestJsonAndCheck("GET", "/app/hook/deliveries", parameters={"per_page": 2})
    assert len(page1) == 2 and 'rel="next"' in headers["link"]
    cursor = parse_qs(urlsplit(headers["link"].split(";")[0].strip("<>")).query)["cursor"][0]
    _, page2 = requester.requestJsonAndCheck("GET", "/app/hook/deliveries",
                                             parameters={"per_page": 2, "cursor": cursor})
    assert {d["id"] for d in page1}.isdisjoint({d["id"] for d in page2})
    requester.requestJsonAndCheck("POST", f"/app/hook/deliveries/{page1[0]['id']}/attempts")
    world.drain()
    assert [h["X-Github-Delivery"] for h, _ in receiver.received].count(page1[0]["guid"]) == 2


def test_faults_fire_at_the_requested_rate_reproducibly(world):
    def run() -> list[int]:
        world.admin("POST", "/faults", json={"rate": 0.3, "kinds": ["502"], "seed": 7, "only": "user"})
        auth = {"Authorization": f"token {world.tokens['maint']}"}
        codes = [requests.get(f"{world.url}/repos/o/r", headers=auth, timeout=10).status_code for _ in range(200)]
        return codes

    first, second = run(), run()
    assert first == second
    assert 40 <= first.count(502) <= 80
    summary = world.admin("GET", "/faults").json()
    assert summary["counts"]["502"] == second.count(502)
    assert world.admin("DELETE", "/faults").status_code == 204


def test_faults_spare_other_actors_and_paths(world):
    world.admin("POST", "/faults", json={"rate": 1.0, "kinds": ["502"], "seed": 1, "only": "app",
                                         "path_regex": "/issues$", "methods": ["POST"]})
    user = world.user_client("maint").get_repo("o/r")
    assert user.create_issue("user is spared").number == 1
    app_repo = world.app_client().get_repo("o/r")
    assert app_repo.get_issue(1).title == "user is spared"
    with pytest.raises(github.GithubException) as info:
        app_repo.create_issue("app hits the fault")
    assert info.value.status == 502


@pytest.mark.parametrize("kind, status", [("502", 502), ("secondary_403", 403)])
def test_apply_then_fail_performs_the_write(world, kind, status):
    world.admin("POST", "/faults", json={"rate": 1.0, "kinds": [kind], "seed": 1, "only": "app",
                                         "methods": ["POST"], "path_regex": "/issues$", "apply_then_fail": True})
    repo = world.app_client().get_repo("o/r")
    with pytest.raises(github.GithubException) as info:
        repo.create_issue("written anyway")
    assert info.value.status == status
    world.admin("DELETE", "/faults")
    assert [i.title for i in repo.get_issues()] == ["written anyway"]


@pytest.mark.parametrize("kind, status, retry_after", [
    ("secondary_403", 403, None), ("secondary_403_retry_after", 403, "1"), ("expired_token_401", 401, None)])
def test_rate_limit_and_token_faults(world, kind, status, retry_after):
    token = world.integration().get_access_token(world.installation_id).token
    # a token's first request is spared by expired_token_401 (see the test below)
    assert requests.get(f"{world.url}/repos/o/r", headers={"Authorization": f"token {token}"}, timeout=10).ok
    world.admin("POST", "/faults", json={"rate": 1.0, "kinds": [kind], "seed": 1, "only": "app"})
    resp = requests.get(f"{world.url}/repos/o/r", headers={"Authorization": f"token {token}"}, timeout=10)
    assert resp.status_code == status
    assert resp.headers.get("Retry-After") == retry_after
    if status == 403:
        assert "secondary rate limit" in resp.json()["message"]
    else:
        world.admin("DELETE", "/faults")
        again = requests.get(f"{world.url}/repos/o/r", headers={"Authorization": f"token {token}"}, timeout=10)
        assert again.status_code == 401  # the token really expired


def test_max_counts_caps_one_kind(world):
    world.admin("POST", "/faults", json={"rate": 1.0, "kinds": ["502"], "seed": 1, "only": "user",
                                         "max_counts": {"502": 2}})
    try:
        statuses = [requests.get(f"{world.url}/repos/o/r", timeout=10,
                                 headers={"Authorization": f"token {world.tokens['maint']}"}).status_code
                    for _ in range(5)]
        counts = world.admin("GET", "/faults").json()["counts"]
    finally:
        world.admin("DELETE", "/faults")
    assert statuses == [502, 502, 200, 200, 200] and counts == {"502": 2}
    assert world.admin("POST", "/faults", json={"max_counts": {"teapot": 1}}).status_code == 422


def test_a_fresh_token_is_not_rejected_on_its_first_request(world):
    """GitHub rejects a token early when it was revoked or rotated, not on its first use: the
    App's answer to a 401 (mint a new token, send again) must be able to succeed."""
    world.admin("POST", "/faults", json={"rate": 1.0, "kinds": ["expired_token_401"], "seed": 1, "only": "app"})
    try:
        token = world.integration().get_access_token(world.installation_id).token
        auth = {"Authorization": f"token {token}"}
        first = requests.get(f"{world.url}/repos/o/r", headers=auth, timeout=10)
        second = requests.get(f"{world.url}/repos/o/r", headers=auth, timeout=10)
        counts = world.admin("GET", "/faults").json()["counts"]
    finally:
        world.admin("DELETE", "/faults")
    assert (first.status_code, second.status_code) == (200, 401)
    assert counts == {"expired_token_401": 1}


def test_the_request_log_names_the_fault_the_installation_and_the_times(world):
    token = world.integration().get_access_token(world.installation_id).token
    world.admin("POST", "/faults", json={"rate": 1.0, "kinds": ["secondary_403_retry_after"], "seed": 1,
                                         "only": "app", "retry_after": 7})
    try:
        resp = requests.get(f"{world.url}/repos/o/r", headers={"Authorization": f"token {token}"}, timeout=10)
    finally:
        world.admin("DELETE", "/faults")
    assert resp.headers["Retry-After"] == "7"
    user = requests.get(f"{world.url}/repos/o/r", headers={"Authorization": f"token {world.tokens['maint']}"},
                        timeout=10)
    assert user.status_code == 200
    *_, faulted, spared = world.admin("GET", "/requests").json()
    assert (faulted["fault"], faulted["status"], faulted["installation"]) == (
        "secondary_403_retry_after", 403, world.installation_id)
    assert faulted["started"] <= faulted["at"] <= spared["started"]
    assert (spared["fault"], spared["installation"], spared["actor"]) == (None, None, "user:maint")


def test_connection_reset_fault(world):
    world.admin("POST", "/faults", json={"rate": 1.0, "kinds": ["reset"], "seed": 1, "only": "user"})
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{world.url}/repos/o/r", headers={"Authorization": f"token {world.tokens['maint']}"},
                     timeout=10)


def test_state_snapshot(world):
    repo = world.user_client("maint").get_repo("o/r")
    issue = repo.create_issue("plan", body="b", labels=["dispatch"])
    issue.create_comment("hello")
    issue.edit(state="closed", state_reason="not_planned")
    state = world.admin("GET", "/state/o/r").json()
    assert state["branches"] == {"main": repo.get_branch("main").commit.sha}
    assert state["issues"] == [{"number": 1, "title": "plan", "state": "closed", "state_reason": "not_planned",
                                "labels": ["dispatch"], "body": "b",
                                "comments": [{"id": state["issues"][0]["comments"][0]["id"], "user": "maint",
                                              "body": "hello"}]}]
    assert state["counts"]["comments"] == 1 and state["merge_order"] == []


def test_manifest_flow_registers_a_working_app(emulator, receiver):
    manifest = {"name": "My Gate", "url": "https://example.com", "redirect_url": "http://localhost:9/done",
                "hook_attributes": {"url": receiver.url}, "default_events": ["issues"],
                "default_permissions": {"issues": "write", "metadata": "read"}}
    resp = requests.post(f"{emulator.url}/settings/apps/new?state=xyz", data={"manifest": json.dumps(manifest)},
                         allow_redirects=False, timeout=10)
    assert resp.status_code == 302
    loc = urlsplit(resp.headers["Location"])
    query = parse_qs(loc.query)
    assert f"{loc.scheme}://{loc.netloc}{loc.path}" == "http://localhost:9/done" and query["state"] == ["xyz"]
    conv = requests.post(f"{emulator.url}/app-manifests/{query['code'][0]}/conversions", timeout=30)
    assert conv.status_code == 201
    app = conv.json()
    assert app["name"] == "My Gate" and app["pem"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert app["webhook_secret"] and app["events"] == ["issues"]
    gi = github.GithubIntegration(auth=github.Auth.AppAuth(app["id"], app["pem"]), base_url=emulator.url,
                                  retry=None, lazy=True, seconds_between_requests=None, seconds_between_writes=None)
    assert gi.get_app().slug == app["slug"]
    again = requests.post(f"{emulator.url}/app-manifests/{query['code'][0]}/conversions", timeout=10)
    assert again.status_code == 404  # codes are single-use


def test_schema_validator_rejects_a_broken_payload(world, receiver):
    make_issues(world, 1)
    world.drain()
    payload = json.loads(receiver.received[0][1])
    validate_webhook("issues", payload)
    del payload["issue"]["user"]
    with pytest.raises(jsonschema.ValidationError):
        validate_webhook("issues", payload)


def test_command_line_prints_its_url_and_stops_on_sigterm(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "emulator", "--port", "0", "--data-dir", str(tmp_path)],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("emulator: http://127.0.0.1:")
        url = line.split(" ", 1)[1]
        assert requests.get(f"{url}/_emulator/deliveries", timeout=10).json() == []
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_in_process_start_and_stop(tmp_path, app_key):
    from emulator.server import start

    running = start(port=0, data_dir=str(tmp_path / "d"))
    try:
        world = make_world(running, None, app_key)
        assert world.app_client().get_repo("o/r").full_name == "o/r"
        assert any(p.name.endswith(".git") for p in (tmp_path / "d").iterdir())
    finally:
        running.stop()
    time.sleep(0.1)
    with pytest.raises(requests.ConnectionError):
        requests.get(running.url, timeout=2)
