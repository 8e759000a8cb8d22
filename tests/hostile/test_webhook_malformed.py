"""The webhook endpoint under malformed headers and bodies (Flask test client, real Redis db 14
with a queue of its own): each answer is the status service/webhook.py documents, nothing crashes,
nothing is enqueued."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid

import pytest
import redis

from service import queueing
from service.settings import Settings
from service.webhook import MAX_BODY, create_app
from tests.conftest import FIXTURES
from tests.hostile.edge import PEM, REDIS_URL, webhook_app

SECRET = "hostile-secret"
LABELED = (FIXTURES / "webhooks" / "issues" / "labeled.json").read_bytes()


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def edge():
    with webhook_app("wavegate-hostile", SECRET) as app:
        yield app.test_client(), app.extensions["wavegate"]["queue"]


def post(client, body: bytes, *, event="issues", delivery=None, signature=None, content_type="application/json",
         headers=None):
    all_headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
                   "X-Hub-Signature-256": sign(body) if signature is None else signature}
    all_headers.update(headers or {})
    all_headers = {k: v for k, v in all_headers.items() if v is not None}
    return client.post("/webhook", data=body, content_type=content_type, headers=all_headers)


def enqueued(queue) -> int:
    return len(queue.job_ids) + len(queue.scheduled_job_registry.get_job_ids())


TRUNCATED = LABELED[: len(LABELED) // 2]
LABELED_PAYLOAD = json.loads(LABELED)
SYNCHRONIZE = json.loads((FIXTURES / "webhooks" / "pull_request" / "synchronize.json").read_bytes())


def changed(payload: dict, part: str, key: str, value) -> bytes:
    """``payload`` with ``payload[part][key] = value``, as GitHub would serialise it."""
    return json.dumps({**payload, part: {**payload.get(part, {}), key: value}}).encode()


# Signed deliveries whose fields a job relies on are of the wrong type or range: (event, body, field).
BAD_FIELDS = {
    "issue number -5": ("issues", changed(LABELED_PAYLOAD, "issue", "number", -5), "issue.number"),
    "issue number true": ("issues", changed(LABELED_PAYLOAD, "issue", "number", True), "issue.number"),
    "installation id as a string": ("issues", changed(LABELED_PAYLOAD, "installation", "id", "1"), "installation.id"),
    "head SHA of 39 characters": ("pull_request", json.dumps({**SYNCHRONIZE, "pull_request": {
        **SYNCHRONIZE["pull_request"], "head": {"sha": "a" * 39}}}).encode(), "pull_request.head.sha"),
    "repository name with a path": ("pull_request", changed(SYNCHRONIZE, "repository", "full_name", "o/r/../../x"),
                                    "repository.full_name"),
}
CASES = {
    # name: (body, post kwargs, status)
    "form-encoded body": (b"payload=" + LABELED, {"content_type": "application/x-www-form-urlencoded"}, 415),
    "multipart body": (LABELED, {"content_type": "multipart/form-data; boundary=x"}, 415),
    "truncated JSON": (TRUNCATED, {}, 400),
    "JSON array, not an object": (b"[1, 2, 3]", {}, 400),
    "not UTF-8": (b"\xff\xfe{\x00", {}, 400),
    "empty body": (b"", {}, 400),
    "valid signature over a different body": (LABELED, {"signature": sign(LABELED + b" ")}, 401),
    "signature with the wrong secret": (LABELED, {"signature": sign(LABELED, "other")}, 401),
    "SHA-1 signature only": (LABELED, {"signature": None, "headers": {
        "X-Hub-Signature-256": None,
        "X-Hub-Signature": "sha1=" + hmac.new(SECRET.encode(), LABELED, hashlib.sha1).hexdigest()}}, 401),
    "signature header garbage": (LABELED, {"signature": "sha256=" + "g" * 64}, 401),
    "no event header": (LABELED, {"event": None}, 400),
    "no delivery header": (LABELED, {"headers": {"X-GitHub-Delivery": None}}, 400),
    "unknown event": (LABELED, {"event": "sponsorship"}, 204),
    "event header with control characters": (LABELED, {"event": "issues\x7f"}, 204),
    "huge delivery GUID": (LABELED, {"delivery": "x" * 8000}, None),
    "signed, repository of the wrong type": (
        b'{"action":"opened","issue":"x","repository":5,"installation":{"id":"abc"}}', {}, 400),
    "signed, issue number not a number": (
        b'{"action":"labeled","issue":{"number":"1; DROP"},"label":{"name":"dispatch"},'
        b'"repository":{"full_name":"o/r"},"installation":{"id":1},"sender":{"login":"m","type":"User"}}', {}, 400),
    **{f"signed, {name}": (body, {"event": event}, 400) for name, (event, body, _field) in BAD_FIELDS.items()},
}


@pytest.mark.parametrize("name", list(CASES))
def test_malformed_deliveries_are_answered_and_not_enqueued(edge, name):
    client, queue = edge
    body, kwargs, status = CASES[name]
    response = post(client, body, **kwargs)
    assert response.status_code < 500
    if status is not None:
        assert response.status_code == status, response.get_data(as_text=True)[:200]
    if status != 202 and status is not None:
        assert enqueued(queue) == 0


def test_a_26_mib_body_is_refused_with_413_before_anything_runs(edge):
    client, queue = edge
    body = b'{"pad": "' + b"a" * (MAX_BODY + 16) + b'"}'
    response = post(client, body, signature=sign(body))
    assert response.status_code == 413
    assert enqueued(queue) == 0


def test_a_replayed_old_delivery_is_answered_duplicate_and_enqueued_once(edge):
    """GitHub signs no timestamp, so a replay is only recognisable by its ``X-GitHub-Delivery``
    GUID, which the edge claims for 24 h: the replay (valid signature, same bytes) gets 200
    ``duplicate`` and no second job."""
    client, queue = edge
    guid = str(uuid.uuid4())
    first = post(client, LABELED, delivery=guid)
    before = enqueued(queue)
    replay = post(client, LABELED, delivery=guid)
    assert first.status_code in (200, 202)
    assert replay.status_code == 200 and json.loads(replay.get_data())["status"] in ("duplicate", "ignored")
    assert enqueued(queue) == before


def test_redis_unreachable_answers_503(edge):
    settings = Settings(app_id=1, private_key=PEM, webhook_secrets=(SECRET,), redis_url="redis://127.0.0.1:1/0")
    client = create_app(settings, connection=queueing.connect("redis://127.0.0.1:1/0", timeout=0.5)).test_client()
    response = post(client, LABELED)
    assert response.status_code in (503, 200), response.get_data(as_text=True)
    if json.loads(response.get_data()).get("status") != "ignored":
        assert response.status_code == 503


def test_redis_is_reachable_for_these_tests():
    assert redis.Redis.from_url(REDIS_URL).ping()


@pytest.mark.parametrize("name", list(BAD_FIELDS))
def test_a_bad_field_is_a_400_naming_it_logged_and_counted(edge, name, caplog):
    client, queue = edge
    event_name, body, field = BAD_FIELDS[name]
    before = delivery_count(client, event_name, "bad field")
    with caplog.at_level("WARNING", logger="service.webhook"):
        response = post(client, body, event=event_name)
    assert response.status_code == 400
    answer = json.loads(response.get_data())
    assert answer["field"] == field and answer["status"].startswith(f"{field}: expected ")
    assert enqueued(queue) == 0
    assert delivery_count(client, event_name, "bad field") == before + 1
    rejected = [r for r in caplog.records if getattr(r, "wavegate_event", "") == "delivery_rejected"]
    assert rejected and rejected[-1].wavegate_fields["reason"] == answer["status"]


def delivery_count(client, event_name: str, outcome: str) -> float:
    text = client.get("/metrics").get_data(as_text=True)
    line = f'wavegate_webhook_deliveries_total{{event="{event_name}",outcome="{outcome}"}} '
    return next((float(row[len(line):]) for row in text.splitlines() if row.startswith(line)), 0.0)
