"""Fixtures for the web edge and the worker: Redis database 11 (flushed before and after each test,
never FLUSHALL), settings, the Flask app, signing helpers and GitHub's fixture payloads."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from service import queueing
from service.settings import Settings
from service.webhook import create_app
from tests.conftest import FIXTURES
from tests.redisdb import redis_url

REDIS_URL = redis_url(11)
DOWN_URL = "redis://127.0.0.1:1/0"
SECRET = "test-secret-1"
OLD_SECRET = "test-secret-0"
APP_ID = 29310
QUEUE = "wavegate-test"
WEBHOOKS = FIXTURES / "webhooks"
# A syntactically valid PEM body; these tests never sign a JWT with it.
FAKE_PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----\n"


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def make_settings(**overrides) -> Settings:
    values = dict(app_id=APP_ID, private_key=FAKE_PEM, webhook_secrets=(SECRET,), redis_url=REDIS_URL,
                  app_slug="wavegate", queue_name=QUEUE, log_level="INFO")
    values.update(overrides)
    return Settings(**values)


def fixture_bytes(name: str) -> bytes:
    return (WEBHOOKS / name).read_bytes()


def fixture_files() -> list[str]:
    return sorted(str(p.relative_to(WEBHOOKS)) for p in WEBHOOKS.rglob("*.json") if "_schemas" not in p.parts)


def deliver(client, event: str, body: bytes | dict, delivery: str = "G-1", *, secret: str = SECRET,
            signature: str | None = None, content_type: str = "application/json", headers: dict | None = None):
    """POST ``body`` (exact bytes; a dict is serialised once, then signed as sent) like GitHub."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    all_headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery,
                   "X-Hub-Signature-256": signature if signature is not None else sign(raw, secret),
                   "User-Agent": "GitHub-Hookshot/test"}
    all_headers.update(headers or {})
    return client.post("/webhook", data=raw, content_type=content_type, headers=all_headers)


@pytest.fixture
def redis_url() -> str:
    return REDIS_URL


@pytest.fixture
def conn(redis_url):
    connection = queueing.connect(redis_url)
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()


@pytest.fixture
def settings(conn) -> Settings:
    return make_settings()


@pytest.fixture
def queue(conn):
    return queueing.make_queue(QUEUE, conn)


@pytest.fixture
def app(settings, conn):
    return create_app(settings, connection=conn)


@pytest.fixture
def client(app):
    return app.test_client()


def queued_jobs(queue) -> list:
    """Jobs waiting in ``queue`` (in order), plus scheduled ones."""
    from rq.job import Job
    from rq.serializers import JSONSerializer

    ids = list(queue.job_ids) + list(queue.scheduled_job_registry.get_job_ids())
    return [Job.fetch(i, connection=queue.connection, serializer=JSONSerializer) for i in ids]


@pytest.fixture
def down_client():
    settings = make_settings(redis_url=DOWN_URL)
    return create_app(settings, connection=queueing.connect(DOWN_URL, timeout=0.5)).test_client()

