"""Webhook deliveries: signing, a background sender, and the delivery log (redeliver, hold, reorder).

GitHub signs the exact bytes it sends (``X-Hub-Signature-256: sha256=HMAC-SHA256(secret, body)``),
gives every delivery a fresh ``X-GitHub-Delivery`` GUID, keeps that GUID on redelivery, never
redelivers by itself and does not guarantee order. The emulator does the same and never blocks on
the receiving app: deliveries go out from one background thread.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import threading
import time
import uuid
from dataclasses import dataclass, field

import requests

from .state import State, now_iso

USER_AGENT = "GitHub-Hookshot/emulator"


def sign(secret: str, body: bytes) -> str:
    """``sha256=<hex>`` HMAC-SHA256 of ``body`` with ``secret``, as in ``X-Hub-Signature-256``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def sign_sha1(secret: str, body: bytes) -> str:
    """``sha1=<hex>``, the legacy ``X-Hub-Signature`` header."""
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


@dataclass
class Delivery:
    id: int
    guid: str
    event: str
    action: str | None
    app_id: int
    installation_id: int
    repository_id: int | None
    payload: dict
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    status_code: int | None = None
    error: str | None = None
    redelivery: bool = False
    delivered_at: str | None = None
    duration: float | None = None
    state: str = "pending"  # pending | held | in_flight | done

    def summary(self) -> dict:
        return {"id": self.id, "guid": self.guid, "event": self.event, "action": self.action,
                "status_code": self.status_code, "error": self.error, "redelivery": self.redelivery,
                "delivered_at": self.delivered_at, "duration": self.duration, "state": self.state,
                "installation_id": self.installation_id, "repository_id": self.repository_id}


class Sender:
    """Queues and sends deliveries; every public method is thread-safe."""

    def __init__(self, state: State):
        self.state = state
        self.cond = threading.Condition()
        self.deliveries: list[Delivery] = []
        self.pending: list[Delivery] = []
        self.held: list[Delivery] = []
        self.holding = False
        self.in_flight = 0
        self.duplicate = 1
        self.shuffle_window = 1
        self.rng = random.Random(0)
        self._ids = 1
        self._stop = False
        self.session = requests.Session()
        self.thread = threading.Thread(target=self._run, name="emulator-webhooks", daemon=True)
        self.thread.start()

    # -- producing ------------------------------------------------------------------------------
    def enqueue(self, event: str, action: str | None, payload: dict, app_id: int, installation_id: int,
                repository_id: int | None) -> Delivery:
        """Record and queue one delivery (sent later by the background thread)."""
        with self.cond:
            d = Delivery(self._ids, str(uuid.uuid4()), event, action, app_id, installation_id, repository_id,
                         payload)
            self._ids += 1
            d.body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
            self.deliveries.append(d)
            self._queue(d)
            return d

    def _queue(self, d: Delivery) -> None:
        if self.holding:
            d.state = "held"
            self.held.append(d)
        else:
            d.state = "pending"
            self.pending.append(d)
        self.cond.notify_all()

    def redeliver(self, delivery_id: int) -> Delivery | None:
        """Send delivery ``delivery_id`` again with the same GUID; the new attempt is logged as redelivery."""
        with self.cond:
            old = self.get(delivery_id)
            if old is None:
                return None
            d = Delivery(self._ids, old.guid, old.event, old.action, old.app_id, old.installation_id,
                         old.repository_id, old.payload, old.body, redelivery=True)
            self._ids += 1
            self.deliveries.append(d)
            self._queue(d)
            return d

    def get(self, delivery_id: int) -> Delivery | None:
        return next((d for d in self.deliveries if d.id == delivery_id), None)

    # -- controls -------------------------------------------------------------------------------
    def hold(self) -> None:
        """Queue new deliveries without sending them until ``release``."""
        with self.cond:
            self.holding = True

    def release(self, order: str = "fifo", seed: int | None = None, window: int | None = None) -> int:
        """Send the held deliveries in ``order`` (fifo, reverse or shuffle); returns how many."""
        with self.cond:
            items, self.held = self.held, []
            self.holding = False
            if order == "reverse":
                items.reverse()
            elif order == "shuffle":
                rng = random.Random(seed)
                if window:
                    out = []
                    for i in range(0, len(items), window):
                        chunk = items[i:i + window]
                        rng.shuffle(chunk)
                        out += chunk
                    items = out
                else:
                    rng.shuffle(items)
            for d in items:
                d.state = "pending"
            self.pending.extend(items)
            self.cond.notify_all()
            return len(items)

    def configure(self, duplicate: int | None = None, shuffle_window: int | None = None,
                  seed: int | None = None) -> dict:
        """Send every delivery ``duplicate`` times; pick randomly among the first ``shuffle_window``."""
        with self.cond:
            if duplicate is not None:
                self.duplicate = max(1, int(duplicate))
            if shuffle_window is not None:
                self.shuffle_window = max(1, int(shuffle_window))
            if seed is not None:
                self.rng = random.Random(seed)
            return {"duplicate": self.duplicate, "shuffle_window": self.shuffle_window}

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is pending or in flight (held deliveries excepted); False on timeout."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.pending or self.in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True

    def stop(self) -> None:
        with self.cond:
            self._stop = True
            self.cond.notify_all()
        self.thread.join(timeout=5)

    # -- sending --------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self.cond:
                while not self.pending and not self._stop:
                    self.cond.wait()
                if self._stop:
                    return
                k = min(self.shuffle_window, len(self.pending))
                idx = self.rng.randrange(k) if k > 1 else 0
                d = self.pending.pop(idx)
                d.state = "in_flight"
                self.in_flight += 1
                copies = self.duplicate
            try:
                for _ in range(copies):
                    self._send(d)
            finally:
                with self.cond:
                    self.in_flight -= 1
                    d.state = "done"
                    self.cond.notify_all()

    def _send(self, d: Delivery) -> None:
        app = self.state.apps.get(d.app_id)
        if app is None or not app.webhook_url:
            d.error = "no webhook url"
            return
        headers = {
            "Content-Type": "application/json", "User-Agent": USER_AGENT, "X-GitHub-Event": d.event,
            "X-GitHub-Delivery": d.guid, "X-GitHub-Hook-ID": str(app.hook_id),
            "X-GitHub-Hook-Installation-Target-Type": "integration",
            "X-GitHub-Hook-Installation-Target-ID": str(app.id),
        }
        if app.webhook_secret:
            headers["X-Hub-Signature-256"] = sign(app.webhook_secret, d.body)
            headers["X-Hub-Signature"] = sign_sha1(app.webhook_secret, d.body)
        d.headers = headers
        start = time.monotonic()
        try:
            resp = self.session.post(app.webhook_url, data=d.body, headers=headers, timeout=10)
            d.status_code = resp.status_code
            d.error = None if resp.status_code < 300 else resp.text[:500]
        except requests.RequestException as exc:
            d.status_code = None
            d.error = f"{type(exc).__name__}: {exc}"[:500]
        d.duration = round(time.monotonic() - start, 4)
        d.delivered_at = now_iso()
