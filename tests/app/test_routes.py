"""Every GitHub fixture payload through the Flask test client, signed over its exact bytes, lands on
the expected job with the expected arguments, or on 2xx without an enqueue. Plus the routing
cases of check-rerun-requested.md, merge-queue-checks.md and out-of-order-events.md."""

from __future__ import annotations

import json

import pytest

from service.routes import TABLE, Route, Skip, route, work_key

from .conftest import deliver, fixture_bytes, fixture_files, make_settings, queued_jobs

J = "workers.jobs."
HW = "Codertocat/Hello-World"
PR_SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"

# file -> (status, job, kwargs without delivery_id) for the payload exactly as stored; APP_ID 29310.
RAW: dict[str, tuple[int, str | None, dict | None]] = {
    "check_run/completed.1.json": (204, None, None),
    "check_run/completed.json": (204, None, None),
    "check_run/created.json": (204, None, None),
    "check_run/created.with-organization.json": (204, None, None),
    "check_run/requested_action.json": (204, None, None),
    "check_run/rerequested.json": (200, None, None),  # app 2's run "randscape": not ours
    "check_suite/completed.json": (204, None, None),
    "check_suite/requested.json": (204, None, None),
    "check_suite/requested.with-organization.json": (204, None, None),
    "check_suite/rerequested.json": (202, J + "rerun_checks", {
        "installation_id": 957387, "repo": HW, "head_sha": "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
        "pr_numbers": [2], "check_name": None}),
    "installation/created.json": (204, None, None),
    "installation/created.with-requester.json": (204, None, None),
    "installation/deleted.json": (204, None, None),
    "installation/new_permissions_accepted.json": (204, None, None),
    "installation/suspend.json": (204, None, None),
    "installation_repositories/added.json": (204, None, None),
    "installation_repositories/removed.json": (204, None, None),
    "issue_comment/created.1.json": (200, None, None),  # no installation
    "issue_comment/created.json": (200, None, None),
    "issue_comment/created.on-pull-request.json": (200, None, None),
    "issue_comment/created.with-installation.json": (200, None, None),  # no /wavegate in the body
    "issue_comment/created.with-organization.json": (200, None, None),
    "issue_comment/edited.json": (204, None, None),
    "issues/closed.json": (202, J + "reconcile_plan", {
        "installation_id": 27216354, "repo": "codinasion/codinasion-bot", "issue": 2,
        "sender": "harshraj8843", "reason": "issues.closed"}),
    "issues/edited.json": (200, None, None),
    "issues/labeled.json": (200, None, None),
    "issues/labeled.with-organization.json": (200, None, None),
    "issues/opened.json": (200, None, None),
    "issues/opened.with-empty-body.json": (200, None, None),
    "issues/opened.with-organization.json": (200, None, None),
    "issues/reopened.json": (202, J + "reconcile_plan", {
        "installation_id": 1, "repo": HW, "issue": 1, "sender": "Codertocat", "reason": "issues.reopened"}),
    "issues/unlabeled.json": (200, None, None),
    "merge_group/checks_requested.json": (202, J + "check_merge_group", {
        "installation_id": 1, "repo": "octo-org/octo-repo", "head_sha": "2ffea6db159f6b6c47a24e778fb9ef40cf6b1c7d",
        "base_sha": "380387fbc80638b734a49e1be1c4dfec1c01b33c",
        "head_ref": "refs/heads/gh-readonly-queue/main/pr-104-929f8209d40f77f4abc622a499c93a83babdbe64"}),
    "ping/ping.json": (200, None, None),
    "ping/ping.with-app_id.json": (200, None, None),
    "ping/ping.with-organization.json": (200, None, None),
    "pull_request/closed.json": (202, J + "pull_closed", {"installation_id": 1, "repo": HW, "number": 2}),
    "pull_request/closed.merged.json": (202, J + "pull_closed", {
        "installation_id": 1301612, "repo": "robvanderleek/create-issue-branch", "number": 117}),
    "pull_request/closed.with-organization.json": (202, J + "pull_closed", {"installation_id": 1, "repo": HW,
                                                                            "number": 2}),
    "pull_request/edited.json": (200, None, None),  # title changed, not the base
    "pull_request/labeled.json": (204, None, None),
    "pull_request/opened.json": (202, J + "check_pull", {"installation_id": 1, "repo": HW, "number": 2,
                                                         "head_sha": PR_SHA}),
    "pull_request/opened.with-null-body.json": None,  # filled below from the payload (see test)
    "pull_request/opened.with-organization.json": None,
    "pull_request/reopened.json": None,
    "pull_request/synchronize.json": None,
    "pull_request/unlabeled.json": (204, None, None),
    "push/push.json": (204, None, None),
    "push/push.with-installation.json": (204, None, None),
    "push/push.with-new-branch.json": (204, None, None),
    "push/push.with-organization.json": (204, None, None),
}


def _pull_expectation(name: str) -> tuple[int, str, dict]:
    payload = json.loads(fixture_bytes(name))
    return (202, J + "check_pull", {"installation_id": payload["installation"]["id"],
                                    "repo": payload["repository"]["full_name"],
                                    "number": payload["pull_request"]["number"],
                                    "head_sha": payload["pull_request"]["head"]["sha"]})


def test_the_table_covers_every_fixture_file():
    assert set(RAW) == set(fixture_files())


@pytest.mark.parametrize("name", fixture_files())
def test_every_fixture_payload(client, queue, name):
    expected = RAW[name] or _pull_expectation(name)
    status, job, kwargs = expected
    event = name.split("/")[0]
    response = deliver(client, event, fixture_bytes(name), f"G-{name.replace('/', '-')}")
    assert response.status_code == status, response.get_data(as_text=True)
    jobs = queued_jobs(queue)
    if job is None:
        assert jobs == []
    else:
        assert [(j.func_name, j.kwargs) for j in jobs] == [(job, {**kwargs, "delivery_id": f"G-{name.replace('/', '-')}"})]


def test_opened_fixture_sha_is_the_payload_head():
    payload = json.loads(fixture_bytes("pull_request/opened.json"))
    assert payload["pull_request"]["head"]["sha"] == PR_SHA


# Payloads as an App receives them (an App delivery always has installation), or with the field
# a route looks at changed.
def _variant(name: str, **changes) -> dict:
    payload = json.loads(fixture_bytes(name))
    payload.setdefault("installation", {"id": 1})
    for path, value in changes.items():
        target = payload
        *parents, leaf = path.split("__")
        for p in parents:
            target = target[p]
        target[leaf] = value
    return payload


VARIANTS = [
    ("issues", _variant("issues/labeled.json"), 202, J + "reconcile_plan",
     {"issue": 1, "sender": "Codertocat", "reason": "issues.labeled"}),
    ("issues", _variant("issues/unlabeled.json", issue__labels=[]), 202, J + "reconcile_plan",
     {"issue": 1, "sender": "Codertocat", "reason": "issues.unlabeled"}),
    ("issues", _variant("issues/edited.json"), 202, J + "reconcile_plan",
     {"issue": 1, "sender": "Codertocat", "reason": "issues.edited"}),
    ("issues", _variant("issues/edited.json", issue__labels=[]), 200, None, None),
    ("issues", _variant("issues/opened.json"), 202, J + "reconcile_plan",
     {"issue": 1, "sender": "Codertocat", "reason": "issues.opened"}),
    ("issue_comment", _variant("issue_comment/created.json", comment__body="/wavegate skip security"), 202,
     J + "handle_command", {"issue": 1, "comment_id": 492700400, "sender": "Codertocat"}),
    ("issue_comment", _variant("issue_comment/created.json"), 200, None, None),
    ("pull_request", _variant("pull_request/edited.json", changes={"base": {"ref": {"from": "develop"}}}), 202,
     J + "check_pull", {"number": 10, "head_sha": "ada5e37921fea45fa766fb8f06f99ed359bd9bf0"}),
    ("pull_request", _variant("pull_request/opened.json", action="ready_for_review"), 202, J + "check_pull",
     {"number": 2, "head_sha": PR_SHA}),
    ("pull_request", _variant("pull_request/opened.json", action="converted_to_draft"), 202, J + "check_pull",
     {"number": 2, "head_sha": PR_SHA}),
    ("check_run", _variant("check_run/rerequested.json", check_run__name="wavegate/territory",
                           check_run__app={"id": 29310, "slug": "wavegate"}), 202, J + "rerun_checks",
     {"head_sha": "d6fde92930d4715a2b49857d24b940956b26d2d3", "pr_numbers": [],
      "check_name": "wavegate/territory"}),
    ("check_run", _variant("check_run/rerequested.json", check_run__app={"id": 29310}), 200, None, None),
    ("check_suite", _variant("check_suite/rerequested.json", check_suite__app={"id": 1}), 200, None, None),
    ("merge_group", _variant("merge_group/checks_requested.json", action="destroyed", reason="dequeued"),
     204, None, None),
    ("pull_request", _variant("pull_request/opened.json", sender={"login": "wavegate[bot]", "type": "Bot"}),
     200, None, None),
]


@pytest.mark.parametrize(("event", "payload", "status", "job", "kwargs"), VARIANTS,
                         ids=[f"{v[0]}.{v[1].get('action')}-{i}" for i, v in enumerate(VARIANTS)])
def test_app_delivery_variants(client, queue, event, payload, status, job, kwargs):
    response = deliver(client, event, payload, "G-v")
    assert response.status_code == status
    jobs = queued_jobs(queue)
    if job is None:
        assert jobs == []
    else:
        assert len(jobs) == 1 and jobs[0].func_name == job
        base = {"installation_id": payload["installation"]["id"], "repo": payload["repository"]["full_name"],
                "delivery_id": "G-v"}
        assert jobs[0].kwargs == {**base, **kwargs}


# ------------------------------------------------------------------ route() on the cases' payloads

S = make_settings()
BASE = {"repository": {"full_name": "o/r"}, "installation": {"id": 1},
        "sender": {"login": "maintainer-1", "type": "User"}}


@pytest.mark.parametrize(("event", "body", "expected"), [
    # check-rerun-requested.md G-r1, G-r2, G-r3
    ("check_run", {"action": "rerequested", "check_run": {
        "id": 9001, "name": "wavegate/territory", "head_sha": "S20", "app": {"slug": "wavegate"},
        "pull_requests": [{"number": 20, "head": {"ref": "wavegate/42/api", "sha": "S20"}}]}},
     Route(J + "rerun_checks", {"head_sha": "S20", "pr_numbers": [20], "check_name": "wavegate/territory"},
           work_key("rerun", 1, "o/r", "S20", "wavegate/territory"))),
    ("check_suite", {"action": "rerequested", "check_suite": {
        "id": 7001, "head_branch": "wavegate/42/api", "head_sha": "S20", "pull_requests": [],
        "app": {"slug": "wavegate"}}},
     Route(J + "rerun_checks", {"head_sha": "S20", "pr_numbers": [], "check_name": None},
           work_key("rerun", 1, "o/r", "S20", ""))),
    ("check_suite", {"action": "rerequested", "check_suite": {
        "id": 7002, "head_branch": None, "head_sha": "S99", "pull_requests": []}},
     Route(J + "rerun_checks", {"head_sha": "S99", "pr_numbers": [], "check_name": None},
           work_key("rerun", 1, "o/r", "S99", ""))),
    ("check_run", {"action": "rerequested", "check_run": {
        "name": "wavegate/territory", "head_sha": "S20", "app": {"slug": "other-app"}, "pull_requests": []}},
     Skip(200, "check_run belongs to app other-app")),
    # merge-queue-checks.md G-m1, G-m2
    ("merge_group", {"action": "checks_requested", "merge_group": {
        "head_sha": "M1", "head_ref": "refs/heads/gh-readonly-queue/main/pr-21-S21", "base_sha": "B0",
        "base_ref": "refs/heads/main", "head_commit": {"id": "M1"}}},
     Route(J + "check_merge_group", {"head_sha": "M1", "base_sha": "B0",
                                     "head_ref": "refs/heads/gh-readonly-queue/main/pr-21-S21"},
           work_key("group", 1, "o/r", "M1"))),
    ("merge_group", {"action": "destroyed", "reason": "dequeued", "merge_group": {"head_sha": "M1"}},
     Skip(204, "merge_group.destroyed is not routed")),
    # out-of-order-events.md G-a, G-b: one unit of work per PR (the job checks the current head)
    ("pull_request", {"action": "synchronize", "number": 21, "before": "S1", "after": "S2",
                      "pull_request": {"number": 21, "head": {"ref": "wavegate/42/web", "sha": "S2"}}},
     Route(J + "check_pull", {"number": 21, "head_sha": "S2"}, work_key("pull", 1, "o/r", 21))),
    ("pull_request", {"action": "synchronize", "number": 21, "before": "S2", "after": "S3",
                      "pull_request": {"number": 21, "head": {"ref": "wavegate/42/web", "sha": "S3"}}},
     Route(J + "check_pull", {"number": 21, "head_sha": "S3"}, work_key("pull", 1, "o/r", 21))),
    ("issues", {"action": "labeled", "issue": {"number": 42}},
     Route(J + "reconcile_plan", {"issue": 42, "sender": "maintainer-1", "reason": "issues.labeled"},
           work_key("plan", 1, "o/r", 42, "maintainer-1"))),
    ("issues", {"action": "labeled"}, Skip(200, "payload lacks 'number'")),
])
def test_route_cases(event, body, expected):
    decision = route(event, {**BASE, **body}, S)
    if isinstance(expected, Route):
        expected = Route(expected.job, {"installation_id": 1, "repo": "o/r", **expected.kwargs}, expected.coalesce)
    assert decision == expected
    if isinstance(expected, Route):
        assert decision.kwargs == expected.kwargs


def test_every_table_job_exists_in_workers():
    import importlib

    jobs = importlib.import_module("workers.jobs")
    for rule in TABLE.values():
        if rule is not None:
            assert callable(getattr(jobs, rule.job.rsplit(".", 1)[-1]))
