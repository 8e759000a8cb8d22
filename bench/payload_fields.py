"""What checking a delivery's fields (``service.payload_fields``) costs the receiver:
``python -m bench.payload_fields [--deliveries N] [--rounds R]``.

1. ``check`` alone, in µs per call, over each routed payload GitHub recorded (``tests/github``).
2. The receiver's CPU per delivery (``time.process_time`` of this process: Redis runs in its own),
   signed ``pull_request.synchronize`` deliveries (unique ``X-GitHub-Delivery``, 8 PR numbers so
   most are folded into a waiting job, as in section 1) stored in Redis database 15, in rounds that
   alternate the receiver with the check and with the check replaced by a no-op.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import io
import json
import statistics
import sys
import time
import timeit
import uuid
from typing import Any

from service import payload_fields, queueing
from service.routes import TABLE
from service.settings import Settings
from service.webhook import Receiver

from .common import FIXTURES, REDIS_URL

SECRET = "bench-webhook-secret"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----\n"


def check_cost(number: int = 20000) -> dict[str, float]:
    """µs per ``check`` call for each routed recorded payload (``event/file``)."""
    out = {}
    for path in sorted((FIXTURES / "webhooks").rglob("*.json")):
        event = path.parent.name
        payload = json.loads(path.read_bytes()) if "_schemas" not in path.parts else {}
        if TABLE.get((event, payload.get("action") or "")) is None:
            continue
        seconds = min(timeit.repeat(lambda e=event, p=payload: payload_fields.check(e, p), number=number, repeat=3))
        out[f"{event}/{path.name}"] = round(seconds / number * 1e6, 2)
    return out


def _environ(body: bytes) -> dict[str, Any]:
    return {"REQUEST_METHOD": "POST", "PATH_INFO": "/webhook", "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
            "HTTP_X_GITHUB_EVENT": "pull_request", "HTTP_X_GITHUB_DELIVERY": str(uuid.uuid4()),
            "HTTP_X_HUB_SIGNATURE_256": "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}


def _bodies() -> list[bytes]:
    payload = json.loads((FIXTURES / "webhooks" / "pull_request" / "synchronize.json").read_bytes())
    return [json.dumps({**payload, "number": n, "pull_request": {**payload["pull_request"], "number": n}}).encode()
            for n in range(1, 9)]


def receiver_cpu(deliveries: int, rounds: int) -> dict[str, Any]:
    """Median CPU ms per delivery of the receiver with and without the check, over ``rounds``."""
    settings = Settings(app_id=1, private_key=PEM, webhook_secrets=(SECRET,), redis_url=REDIS_URL,
                        queue_name=f"bench-fields-{uuid.uuid4().hex[:8]}")
    connection = queueing.connect(REDIS_URL)
    connection.flushdb()
    receiver = Receiver(lambda e, s: [], settings, connection, queueing.make_queue(settings.queue_name, connection))
    bodies, real = _bodies(), payload_fields.check
    samples: dict[str, list[float]] = {"with check": [], "without check": []}
    statuses: set[str] = set()
    try:
        for r in range(rounds * 2):
            name = "with check" if r % 2 == 0 else "without check"
            payload_fields.check = real if name == "with check" else (lambda event, payload: None)
            environs = [_environ(bodies[i % len(bodies)]) for i in range(deliveries)]
            start = time.process_time()
            for environ in environs:
                receiver(environ, lambda status, headers: statuses.add(status))
            samples[name].append((time.process_time() - start) / deliveries * 1000)
    finally:
        payload_fields.check = real
        connection.flushdb()
    return {name: round(statistics.median(v), 4) for name, v in samples.items()} | {"statuses": sorted(statuses)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.payload_fields")
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    costs = check_cost()
    result = {"check µs per call": costs, "check µs max": max(costs.values()),
              "receiver CPU ms per delivery": receiver_cpu(args.deliveries, args.rounds)}
    print(json.dumps(result, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
