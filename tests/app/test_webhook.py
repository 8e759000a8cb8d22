"""The webhook receiver: signature over raw bytes (cases/signature-raw-body.md), status codes,
de-duplication (cases/duplicate-delivery.md), the app's own events (cases/own-events-loop.md),
health endpoints and log scrubbing."""

from __future__ import annotations

import io
import json
import logging
import re
from urllib.parse import quote

import pytest
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from service import logs, queueing
from service.webhook import MAX_BODY, create_app, signature_valid

from .conftest import OLD_SECRET, SECRET, deliver, make_settings, queued_jobs

# GitHub's documented test vector.
VECTOR_SECRET = "It's a Secret to Everybody"
VECTOR_SIG = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

# cases/signature-raw-body.md: 234 bytes, a space after the first comma, a \u00e9 escape, a raw é.
CASE_BODY = (
    '{"action":"labeled", "issue":{"number":42,"title":"Caf\\u00e9 plan","body":"Plan for the café team"},'
    '"label":{"name":"dispatch"},"repository":{"full_name":"o/r"},"sender":{"login":"maintainer-1","type":"User"},'
    '"installation":{"id":1}}'
).encode()
SIG_A = "sha256=f14f0007b89da0c36bcd4515e05114c65a1feb3db40ebd95b1afad157769f0ab"
SIG_B = "sha256=57b33e21a22329ce6d1e55f0f0040ea9eb3a0e7ce061c4de2c49a78db7f5253c"
SIG_F = "sha256=09fd5a51b7f69f39edbe5e491ee545889185d96daf6a6bb07c29c983680ea066"


def test_case_body_is_the_documented_bytes():
    assert len(CASE_BODY) == 234
    assert signature_valid(CASE_BODY, SIG_A, (SECRET,))


@pytest.mark.parametrize(("body", "header", "secrets", "valid"), [
    (b"Hello, World!", VECTOR_SIG, (VECTOR_SECRET,), True),
    (b"Hello, World!", VECTOR_SIG.upper().replace("SHA256=", "sha256="), (VECTOR_SECRET,), True),
    (b"Hello, World!", VECTOR_SIG, ("wrong secret",), False),
    (b"Hello, World!", VECTOR_SIG, ("other", VECTOR_SECRET), True),
    (b"Hello, World!!", VECTOR_SIG, (VECTOR_SECRET,), False),
    (b"Hello, World!", None, (VECTOR_SECRET,), False),
    (b"Hello, World!", "", (VECTOR_SECRET,), False),
    (b"Hello, World!", VECTOR_SIG[len("sha256="):], (VECTOR_SECRET,), False),
    (b"Hello, World!", "sha1=" + "0" * 40, (VECTOR_SECRET,), False),
    (b"Hello, World!", "sha256=zz", (VECTOR_SECRET,), False),
    (b"Hello, World!", "sha256=" + "é" * 64, (VECTOR_SECRET,), False),
    (b"Hello, World!", VECTOR_SIG[:-2], (VECTOR_SECRET,), False),
])
def test_signature_valid(body, header, secrets, valid):
    assert signature_valid(body, header, secrets) is valid


FORM_BODY = b"payload=" + quote(CASE_BODY.decode("utf-8"), safe="").encode()


@pytest.mark.parametrize(("req", "body", "headers", "content_type", "status", "jobs"), [
    ("a", CASE_BODY, {"X-Hub-Signature-256": SIG_A}, "application/json", 202, 1),
    ("b", CASE_BODY, {"X-Hub-Signature-256": SIG_B}, "application/json", 401, 0),
    ("c", CASE_BODY, {"X-Hub-Signature-256": "", "X-Hub-Signature": "sha1=4868e83116bc1a10a69128bf5c55e31eff034f3d"},
     "application/json", 401, 0),
    ("d", CASE_BODY.replace(b'"number":42', b'"number":43'), {"X-Hub-Signature-256": SIG_A}, "application/json",
     401, 0),
    ("e", FORM_BODY, {}, "application/x-www-form-urlencoded", 415, 0),
    ("f-rotation-off", CASE_BODY, {"X-Hub-Signature-256": SIG_F}, "application/json", 401, 0),
    ("g", CASE_BODY, {"X-Hub-Signature-256": "sha256=zz"}, "application/json", 401, 0),
])
def test_signature_case_table(client, queue, req, body, headers, content_type, status, jobs):
    signature = headers.pop("X-Hub-Signature-256", None)
    response = deliver(client, "issues", body, f"G-s{req}", signature=signature, content_type=content_type,
                       headers=headers)
    assert response.status_code == status
    assert len(queued_jobs(queue)) == jobs


def test_form_encoded_signed_over_the_form_bytes_is_refused_with_415_not_401(client, queue):
    from .conftest import sign

    assert deliver(client, "issues", FORM_BODY, "G-se", signature=sign(FORM_BODY),
                   content_type="application/x-www-form-urlencoded").status_code == 415
    assert deliver(client, "issues", FORM_BODY, "G-se2", signature=sign(b"x"),
                   content_type="application/x-www-form-urlencoded").status_code == 401


def test_rotation_accepts_the_old_secret_while_both_are_configured(conn, queue):
    app = create_app(make_settings(webhook_secrets=(SECRET, OLD_SECRET)), connection=conn)
    response = deliver(app.test_client(), "issues", CASE_BODY, "G-sf", signature=SIG_F)
    assert response.status_code == 202
    assert len(queued_jobs(queue)) == 1


def test_redis_down_gives_503_so_github_can_redeliver(down_client):
    assert deliver(down_client, "issues", CASE_BODY, "G-sa", signature=SIG_A).status_code == 503
    # Nothing that needs Redis still answers.
    assert deliver(down_client, "ping", b'{"zen":"x","hook_id":1}', "G-p").status_code == 200
    assert down_client.get("/livez").status_code == 200
    assert down_client.get("/readyz").status_code == 503


def test_enqueue_failure_releases_the_claim(client, conn, queue, monkeypatch):
    import redis as redis_lib

    def broken(*args, **kwargs):
        raise redis_lib.ConnectionError("down")

    monkeypatch.setattr(queueing, "_run_ingests", broken)
    assert deliver(client, "issues", CASE_BODY, "G-x", signature=SIG_A).status_code == 503
    assert conn.get(queueing.delivery_key("G-x")) is None
    monkeypatch.undo()
    assert deliver(client, "issues", CASE_BODY, "G-x", signature=SIG_A).status_code == 202


def test_a_failing_ingest_script_stores_nothing(client, conn, queue, monkeypatch):
    # A Redis error inside the script (here: the job hash key holds a string) answers 503; the
    # claim written before the failing command is not left behind as "claimed" for a redelivery.
    monkeypatch.setattr(queueing, "new_job_id", lambda job, delivery_id=None: "fixed-id")
    conn.set("rq:job:fixed-id", "not a hash")
    assert deliver(client, "issues", CASE_BODY, "G-y", signature=SIG_A).status_code == 503
    assert conn.get(queueing.delivery_key("G-y")) is None
    assert queued_jobs(queue) == []
    assert conn.keys(queueing.pending_key("*")) == []


@pytest.mark.parametrize(("body", "status"), [
    (b"{not json", 400),
    (b"[1, 2]", 400),
    (b"\xff\xfe", 400),
    (b"", 400),
])
def test_malformed_json_is_400(client, queue, body, status):
    assert deliver(client, "issues", body, "G-bad").status_code == status
    assert queued_jobs(queue) == []


def test_missing_event_or_delivery_header_is_400(client):
    raw = b'{"action":"opened"}'
    from .conftest import sign

    assert client.post("/webhook", data=raw, content_type="application/json",
                       headers={"X-Hub-Signature-256": sign(raw), "X-GitHub-Delivery": "G"}).status_code == 400
    assert client.post("/webhook", data=raw, content_type="application/json",
                       headers={"X-Hub-Signature-256": sign(raw), "X-GitHub-Event": "issues"}).status_code == 400


def test_body_over_26_mib_is_413(client):
    assert deliver(client, "issues", b" " * (MAX_BODY + 1), "G-big", signature="sha256=" + "0" * 64).status_code == 413


@pytest.mark.parametrize(("size", "status"), [(MAX_BODY + 1, 413), (30 * 1024 * 1024, 413), (1000, 401)])
def test_a_chunked_body_is_judged_whole_not_cut_at_the_limit(client, size, status):
    """No ``Content-Length`` (``Transfer-Encoding: chunked``): a body past 26 MiB is a 413, never
    checked as a truncated body (which would answer 401 for a correctly signed delivery)."""
    import io

    from werkzeug.test import EnvironBuilder, run_wsgi_app

    from .conftest import sign

    body = b" " * size
    environ = EnvironBuilder(path="/webhook", method="POST", input_stream=io.BytesIO(body),
                             headers={"Transfer-Encoding": "chunked", "X-GitHub-Event": "issues",
                                      "X-GitHub-Delivery": "G-chunked", "Content-Type": "application/json",
                                      "X-Hub-Signature-256": sign(body) if size > 1000 else "sha256=" + "0" * 64},
                             ).get_environ()
    environ.pop("CONTENT_LENGTH", None)
    environ["wsgi.input_terminated"] = True
    _, answer, _ = run_wsgi_app(client.application, environ)  # the test client would add a length
    assert int(answer.split()[0]) == status


def test_body_just_under_the_limit_is_read(client):
    body = json.dumps({"zen": "x" * (MAX_BODY - 100)}).encode()
    assert len(body) < MAX_BODY
    assert deliver(client, "ping", body, "G-near").status_code == 200


def test_probot_root_path_is_accepted(client, queue):
    raw = CASE_BODY
    response = client.post("/", data=raw, content_type="application/json",
                           headers={"X-GitHub-Event": "issues", "X-GitHub-Delivery": "G-root",
                                    "X-Hub-Signature-256": SIG_A})
    assert response.status_code == 202
    assert len(queued_jobs(queue)) == 1


# ------------------------------------------------------------------ duplicate deliveries

LABELED = {"action": "labeled", "label": {"name": "dispatch"},
           "issue": {"number": 42, "labels": [{"name": "dispatch"}], "body": "plan"},
           "repository": {"full_name": "o/r"}, "sender": {"login": "maintainer-1", "type": "User"},
           "installation": {"id": 1}}


def test_duplicate_delivery_is_200_and_not_enqueued(client, queue):
    first = deliver(client, "issues", LABELED, "G-1")
    second = deliver(client, "issues", LABELED, "G-1")
    assert (first.status_code, second.status_code) == (202, 200)
    assert second.get_json()["status"] == "duplicate"
    assert second.get_json()["job"] == first.get_json()["job"]
    assert len(queued_jobs(queue)) == 1


def test_redelivery_of_a_failed_delivery_is_processed_once(client, conn, queue):
    first = deliver(client, "issues", LABELED, "G-1").get_json()["job"]
    job = Job.fetch(first, connection=conn, serializer=JSONSerializer)
    job.set_status(JobStatus.FAILED)
    queue.remove(job)
    again = deliver(client, "issues", LABELED, "G-1")
    assert again.status_code == 202
    assert again.get_json()["job"] != first
    assert deliver(client, "issues", LABELED, "G-1").get_json()["status"] == "duplicate"
    assert [j.id for j in queued_jobs(queue)] == [again.get_json()["job"]]


def test_redelivery_of_a_finished_delivery_stays_a_duplicate(client, conn, queue):
    first = deliver(client, "issues", LABELED, "G-1").get_json()["job"]
    Job.fetch(first, connection=conn, serializer=JSONSerializer).set_status(JobStatus.FINISHED)
    assert deliver(client, "issues", LABELED, "G-1").get_json()["status"] == "duplicate"


def test_the_stored_job_is_the_hash_rq_enqueue_writes(client, conn, queue):
    # queueing.ingest_many writes RQ's job hash itself (one EVALSHA); same fields and fixed values as
    # Queue.enqueue with the module's policy, so workers, retries and dashboards read it unchanged.
    job_id = deliver(client, "issues", LABELED, "G-h").get_json()["job"]
    reference = queue.enqueue("workers.jobs.reconcile_plan", kwargs={}, job_id="reference",
                              retry=queueing.retry_policy(), job_timeout=queueing.JOB_TIMEOUT,
                              result_ttl=queueing.RESULT_TTL, failure_ttl=queueing.FAILURE_TTL, description="d")
    ours, theirs = conn.hgetall(Job.key_for(job_id)), conn.hgetall(reference.key)
    assert set(ours) == set(theirs)
    varying = {b"data", b"created_at", b"enqueued_at", b"description"}
    assert {k: v for k, v in ours.items() if k not in varying} == {k: v for k, v in theirs.items() if k not in varying}
    job = Job.fetch(job_id, connection=conn, serializer=JSONSerializer)
    assert job.func_name == "workers.jobs.reconcile_plan"
    assert job.kwargs["issue"] == 42 and job.kwargs["delivery_id"] == "G-h"
    assert job.retry_intervals == list(queueing.RETRY_INTERVALS)
    assert (job.get_status(), job.retries_left, job.timeout) == (
        JobStatus.QUEUED, len(queueing.RETRY_INTERVALS), queueing.JOB_TIMEOUT)
    assert [j.id for j in queued_jobs(queue)] == [job_id, "reference"]


def test_different_deliveries_for_one_plan_coalesce_while_queued(client, queue):
    answers = [deliver(client, "issues", LABELED, f"G-{i}") for i in range(20)]
    assert [a.status_code for a in answers] == [202] * 20
    assert {a.get_json()["status"] for a in answers[1:]} == {"coalesced"}
    jobs = queued_jobs(queue)
    assert len(jobs) == 1
    assert {a.get_json()["job"] for a in answers} == {jobs[0].id}


# ------------------------------------------------------------------ the app's own events


def _own(body: dict) -> dict:
    return {**body, "repository": {"full_name": "o/r"}, "installation": {"id": 1}}


@pytest.mark.parametrize(("event", "body", "status", "jobs"), [
    ("issues", _own({"action": "labeled", "label": {"name": "dispatch"}, "issue": {"number": 42},
                     "sender": {"login": "wavegate[bot]", "type": "Bot"}}), 200, 0),
    ("issues", _own({"action": "labeled", "label": {"name": "dispatch"}, "issue": {"number": 43},
                     "sender": {"login": "maintainer-1", "type": "User"}}), 202, 1),
    ("pull_request", _own({"action": "opened", "number": 22,
                           "pull_request": {"number": 22, "head": {"ref": "wavegate/43/cli", "sha": "2" * 40}},
                           "sender": {"login": "wavegate[bot]", "type": "Bot"}}), 200, 0),
    ("issue_comment", _own({"action": "edited", "issue": {"number": 42},
                            "comment": {"id": 501, "body": "<!-- wavegate dashboard -->"},
                            "sender": {"login": "wavegate[bot]", "type": "Bot"}}), 204, 0),
    ("issue_comment", _own({"action": "created", "issue": {"number": 42},
                            "comment": {"id": 502, "body": "/wavegate refresh"},
                            "sender": {"login": "wavegate[bot]", "type": "Bot"}}), 200, 0),
    ("pull_request", _own({"action": "synchronize", "number": 21, "before": "1" * 40, "after": "b" * 40,
                           "pull_request": {"number": 21, "head": {"sha": "b" * 40}},
                           "sender": {"login": "wavegate[bot]", "type": "Bot"}}), 200, 0),
    ("issues", _own({"action": "labeled", "label": {"name": "dispatch"}, "issue": {"number": 44},
                     "sender": {"login": "other-app[bot]", "type": "Bot"}}), 202, 1),
    ("check_suite", _own({"action": "rerequested",
                          "check_suite": {"id": 7001, "head_sha": "0" * 40, "pull_requests": [],
                                          "app": {"slug": "wavegate"}},
                          "sender": {"login": "wavegate[bot]", "type": "Bot"}}), 202, 1),
])
def test_own_events_are_ignored_except_rerequested(client, queue, event, body, status, jobs):
    response = deliver(client, event, body, f"G-own-{event}-{body['action']}")
    assert response.status_code == status
    assert len(queued_jobs(queue)) == jobs


# ------------------------------------------------------------------ health, metrics, logs


def test_livez_and_readyz(client):
    assert client.get("/livez").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_metrics_count_deliveries(client):
    deliver(client, "ping", b'{"zen":"z"}', "G-m")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'wavegate_webhook_deliveries_total{event="ping",outcome="pong"}' in text


def test_logs_are_json_lines_with_bound_fields_and_no_secrets(client, queue):
    stream = io.StringIO()
    handler = logs.configure("INFO", [SECRET], stream=stream)
    try:
        deliver(client, "issues", LABELED, "G-log")
        logging.getLogger("x").info("leak %s ghs_abc123DEF456ghi789 token abcdefgh12345 eyJa.eyJb.c", SECRET)
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    # One line per delivery: its outcome, carrying the size and the status.
    assert [line["event"] for line in lines] == ["delivery_enqueued", "log"]
    enqueued = lines[0]
    assert enqueued["delivery_id"] == "G-log" and enqueued["event_name"] == "issues"
    assert enqueued["size"] == len(json.dumps(LABELED).encode()) and enqueued["status"] == 202
    assert enqueued["repo"] == "o/r"
    assert enqueued["installation_id"] == 1
    assert enqueued["number"] == 42
    leak = lines[-1]["message"]
    assert SECRET not in leak and "ghs_" not in leak and "abcdefgh12345" not in leak and "eyJ" not in leak


@pytest.mark.parametrize(("event", "body", "guid", "name", "status"), [
    ("issues", CASE_BODY, "G-r1", "delivery_rejected", 401),
    ("issues", b"[1]", "G-r2", "delivery_rejected", 400),
    ("ping", b'{"zen":"z"}', "G-r3", "delivery_ping", 200),
    ("sponsorship", b'{"action":"created"}', "G-r4", "delivery_ignored", 204),
])
def test_every_delivery_is_logged_once_with_size_and_status(client, event, body, guid, name, status):
    stream = io.StringIO()
    handler = logs.configure("INFO", [SECRET], stream=stream)
    try:
        signature = SIG_B if status == 401 else None
        assert deliver(client, event, body, guid, signature=signature).status_code == status
    finally:
        logging.getLogger().removeHandler(handler)
    (line,) = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert (line["event"], line["status"], line["size"], line["delivery_id"]) == (name, status, len(body), guid)


def test_secrets_are_scrubbed_from_every_field_before_json_escapes_them():
    secret = 'se"cr\\et-with-quotes'
    stream = io.StringIO()
    handler = logs.configure("INFO", [secret], stream=stream)
    try:
        logs.event(logging.getLogger("x"), "probe", reason=f"a {secret} b", problems=[f"x{secret}", {"k": secret}],
                   note="Authorization: Bearer abcdefgh12345678", url="redis://:pw1234@host:6379/0")
        with logs.bound(repo=f"o/{secret}"):
            logs.event(logging.getLogger("x"), "probe2")
    finally:
        logging.getLogger().removeHandler(handler)
    text = stream.getvalue()
    assert secret not in text and json.dumps(secret)[1:-1] not in text
    assert "abcdefgh12345678" not in text and "pw1234" not in text
    first, second = (json.loads(line) for line in text.splitlines())
    assert first["reason"] == "a [redacted] b" and first["problems"] == ["x[redacted]", {"k": "[redacted]"}]
    assert second["repo"] == "o/[redacted]"


@pytest.mark.parametrize(("fields", "expected"), [
    # plain scalar lines take one joint scan; each of these must still be scrubbed
    ({"a": "x", "b": "supersecret-1 tail"}, {"a": "x", "b": "[redacted] tail"}),
    ({"n": 1, "t": "ghs_abcdefghijklmnop"}, {"n": 1, "t": "[redacted]"}),
    ({"ok": True, "u": "redis://:pw9876@h/0"}, {"ok": True, "u": "redis://[redacted]@h/0"}),
    # a joint that only looks like a secret ("gh" + "_" across values) changes nothing
    ({"repo": "gh", "event": "pull_request", "n": None}, {"repo": "gh", "event": "pull_request", "n": None}),
    ({"big": 2**70, "s": "x"}, {"big": 2**70, "s": "x"}),  # past orjson's integers: still one JSON line
])
def test_a_log_line_of_plain_values_is_scrubbed_like_any_other(fields, expected):
    stream = io.StringIO()
    handler = logs.configure("INFO", ["supersecret-1"], stream=stream)
    try:
        logs.event(logging.getLogger("x"), "probe", **fields)
    finally:
        logging.getLogger().removeHandler(handler)
    line = json.loads(stream.getvalue())
    assert {k: line[k] for k in expected} == expected


# ------------------------------------------------------------------ X-GitHub-Delivery


@pytest.mark.parametrize("guid", ["a" * 65, "x" * 8000, "G 1", "G:1", "G\u00e91", "../../etc", "G\t1"])
def test_a_delivery_header_that_is_not_a_guid_is_400_and_neither_stored_nor_logged(client, conn, queue, guid):
    stream = io.StringIO()
    handler = logs.configure("INFO", [SECRET], stream=stream)
    try:
        response = deliver(client, "issues", LABELED, guid.encode("latin-1", "replace").decode("latin-1"))
    finally:
        logging.getLogger().removeHandler(handler)
    assert response.status_code == 400
    assert "X-GitHub-Delivery is not a GUID" in response.get_json()["status"]
    assert queued_jobs(queue) == []
    assert conn.keys("wavegate:delivery:*") == []
    (line,) = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["event"] == "delivery_rejected" and "delivery_id" not in line
    assert line["delivery_id_length"] == len(guid)
    assert guid[:8] not in stream.getvalue() or len(guid) < 8


def test_a_guid_of_64_characters_is_accepted(client, queue):
    guid = "0123abcd-" * 7 + "0"
    assert len(guid) == 64
    assert deliver(client, "issues", LABELED, guid).status_code == 202
    assert queued_jobs(queue)[0].kwargs["delivery_id"] == guid


def test_an_unsigned_delivery_does_not_name_a_metric_label(client):
    deliver(client, "made_up_event_name", CASE_BODY, "G-u", signature=SIG_B)
    text = client.get("/metrics").get_data(as_text=True)
    assert "made_up_event_name" not in text
    assert 'wavegate_webhook_deliveries_total{event="-",outcome="bad signature"}' in text



# ------------------------------------------------------------------ metric outcomes


def _deliveries(client) -> str:
    return client.get("/metrics").get_data(as_text=True)


def test_a_malformed_delivery_id_is_counted_by_a_short_code_and_answered_in_words(client):
    response = deliver(client, "issues", LABELED, "G 1")
    assert "X-GitHub-Delivery is not a GUID" in response.get_json()["status"]
    text = _deliveries(client)
    assert 'wavegate_webhook_deliveries_total{event="issues",outcome="bad delivery id"}' in text
    assert "not a GUID" not in text


def test_a_form_body_is_counted_by_a_short_code_and_answered_in_words(client):
    from .conftest import sign

    response = deliver(client, "issues", FORM_BODY, "G-form", signature=sign(FORM_BODY),
                       content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.get_json()["status"] == "set the App's webhook content type to application/json"
    text = _deliveries(client)
    assert 'wavegate_webhook_deliveries_total{event="issues",outcome="form body"}' in text
    assert "content type" not in text


@pytest.mark.parametrize(("body", "outcome"), [
    (b"{", "not json"),
    (b"[1]", "not json object"),
])
def test_refused_bodies_are_counted_by_short_codes(client, body, outcome):
    assert deliver(client, "issues", body, f"G-{outcome.replace(' ', '-')}").status_code == 400
    assert f'wavegate_webhook_deliveries_total{{event="issues",outcome="{outcome}"}}' in _deliveries(client)


def test_every_metric_outcome_is_a_short_code(client):
    from .conftest import sign

    deliver(client, "issues", LABELED, "x" * 65)
    deliver(client, "issues", FORM_BODY, "G-f2", signature=sign(FORM_BODY),
            content_type="application/x-www-form-urlencoded")
    deliver(client, "issues", b"{", "G-nj")
    client.post("/webhook", data=b"{}", headers={"X-Hub-Signature-256": sign(b"{}")})
    outcomes = re.findall(r'wavegate_webhook_deliveries_total\{event="[^"]*",outcome="([^"]*)"\}', _deliveries(client))
    assert outcomes
    assert all(len(o) <= 20 and re.fullmatch(r"[a-z ]+", o) for o in outcomes), outcomes


def test_ingest_reloads_its_script_after_redis_forgot_it(client, conn, queue):
    # A restarted (or SCRIPT FLUSHed) Redis answers NOSCRIPT: the script is loaded again and the
    # delivery stored once, not twice and not lost.
    assert deliver(client, "issues", LABELED, "G-before").status_code == 202
    conn.script_flush()
    answer = deliver(client, "issues", CASE_BODY, "G-after", signature=SIG_A)
    assert answer.status_code == 202
    assert conn.get(queueing.delivery_key("G-after")).decode() == answer.get_json()["job"]


def test_ingest_many_gives_each_item_its_own_outcome(conn, queue):
    from service.routes import Route

    def plan(issue: int) -> Route:
        return Route("workers.jobs.reconcile_plan", {"installation_id": 1, "repo": "o/r", "issue": issue},
                     coalesce=f"o/r#{issue}")

    first = queueing.ingest_many(conn, queue, [(plan(1), "G-1"), (plan(2), "G-2"), (plan(1), "G-3"), (plan(2), "G-2")])
    assert [o.outcome for o in first] == ["enqueued", "enqueued", "coalesced", "duplicate"]
    assert first[2].job_id == first[0].job_id and first[3].job_id == first[1].job_id
    assert [j.id for j in queued_jobs(queue)] == [first[0].job_id, first[1].job_id]
    assert queueing.ingest_many(conn, queue, []) == []


def test_a_failed_script_reload_fails_only_the_commands_that_needed_it(monkeypatch):
    # Redis forgot the script half-way through a pipeline (a failover, SCRIPT FLUSH): the commands
    # it answered stand (they are stored); only those answered NOSCRIPT take the reload's failure.
    import redis as redis_lib

    class Forgetful:
        def script_load(self, script):
            raise redis_lib.ConnectionError("gone")

    replies = [[b"enqueued", b"job-1"], redis_lib.exceptions.NoScriptError("NOSCRIPT"), [b"duplicate", b"job-1"]]
    monkeypatch.setattr(queueing, "_ingest_sha", ["sha"])
    monkeypatch.setattr(queueing, "_pipelined", lambda connection, sha, commands: list(replies))
    results = queueing._run_ingests(Forgetful(), [("a",), ("b",), ("c",)])
    assert results[0] == replies[0] and results[2] == replies[2]
    assert isinstance(results[1], redis_lib.ConnectionError)
