"""The webhook application on a queue of its own, for the hostile tests of the web edge (Redis db 14;
nothing is flushed: the queue's keys are deleted afterwards)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask

from service import queueing
from service.settings import Settings
from service.webhook import create_app
from tests.redisdb import redis_url

REDIS_URL = redis_url(14)
# A key the edge never uses (no GitHub call is made): only its shape is checked at start.
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----\n"


@contextmanager
def webhook_app(prefix: str, secret: str) -> Iterator[Flask]:
    """``service.webhook.create_app`` with ``secret``, on a queue named ``<prefix>-<random>``."""
    queue_name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    settings = Settings(app_id=1, private_key=PEM, webhook_secrets=(secret,), redis_url=REDIS_URL,
                        queue_name=queue_name)
    connection = queueing.connect(REDIS_URL)
    try:
        yield create_app(settings, connection=connection)
    finally:
        for key in connection.scan_iter(f"*{queue_name}*"):
            connection.delete(key)
