"""Clients that send request bodies slowly (``service.ingress`` in front of the webhook application,
real Redis db 14 with a queue of its own): a body that has not arrived by the deadline is answered
408 and nothing is stored; a delivery still gets its 202 only once it is in Redis; ``/livez`` and
``/readyz`` answer while every delivery thread is taken; and the web process as shipped
(``deploy/web.py``) keeps answering probes and deliveries while 140 loopback clients drip bodies a
byte a second (bounded: a few seconds, one process)."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest
import redis
import requests

from bench.slowbody import SlowLoad
from service import queueing
from service.ingress import BODY_TIMEOUT_ANSWER, SLOW_DELIVERY, Ingress, Limits
from tests.conftest import FIXTURES, ROOT
from tests.hostile.edge import REDIS_URL, webhook_app

SECRET = "slow-secret"
SYNCHRONIZE = json.loads((FIXTURES / "webhooks" / "pull_request" / "synchronize.json").read_text())


SYNCHRONIZE_BYTES = json.dumps(SYNCHRONIZE).encode()


def delivery() -> bytes:
    """A signed-to-be ``pull_request.synchronize`` of a PR number of its own: never folded into a
    job another test left waiting."""
    payload = copy.deepcopy(SYNCHRONIZE)
    payload["number"] = payload["pull_request"]["number"] = 100_000 + uuid.uuid4().int % 900_000
    return json.dumps(payload).encode()


class Headers(dict):
    """granian's RSGI headers: ``items()`` and ``get()`` over lower-case names."""


class Scope:
    proto, http_version, scheme, query_string = "http", "1.1", "http", ""
    server, client = "127.0.0.1:8000", "127.0.0.1:40000"

    def __init__(self, method: str, path: str, headers: dict[str, str]) -> None:
        self.method, self.path = method, path
        self.headers = Headers({k.lower(): v for k, v in headers.items()})


class Protocol:
    """An RSGI protocol whose body arrives as ``chunks``, then stalls (``stall``) or the client goes
    away (``gone``). Records the one answer."""

    def __init__(self, chunks: list[bytes], *, stall: bool = False, gone: bool = False) -> None:
        self.chunks, self.stall, self.gone = chunks, stall, gone
        self.answers: list[tuple[int, dict, bytes]] = []

    async def _end(self) -> None:
        if self.stall:
            await asyncio.sleep(3600)
        if self.gone:
            raise RuntimeError("connection closed")  # granian's RSGIProtocolClosed is a RuntimeError

    async def __call__(self) -> bytes:
        await self._end()
        return b"".join(self.chunks)

    def __aiter__(self):
        return self._iterate()

    async def _iterate(self):
        for chunk in self.chunks:
            yield chunk
        await self._end()

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.answers.append((status, dict(headers), body))


def sign(body: bytes) -> str:
    return "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def delivery_headers(body: bytes, *, length: bool = True) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "X-GitHub-Event": "pull_request",
               "X-GitHub-Delivery": str(uuid.uuid4()), "X-Hub-Signature-256": sign(body)}
    if length:
        headers["Content-Length"] = str(len(body))
    return headers


@pytest.fixture
def ingress():
    with webhook_app("wavegate-slow", SECRET) as app:
        front = Ingress(app, Limits(threads=1, body_timeout=0.3, max_body=app.config["MAX_CONTENT_LENGTH"]))
        yield front, app.extensions["wavegate"]["queue"]
        front.deliveries.shutdown(wait=False, cancel_futures=True)
        front.others.shutdown(wait=False, cancel_futures=True)


def serve(front: Ingress, scope: Scope, protocol: Protocol, timeout: float = 10) -> Protocol:
    asyncio.run(asyncio.wait_for(front.__rsgi__(scope, protocol), timeout))
    return protocol


def test_a_body_that_does_not_arrive_in_time_is_a_408_and_nothing_is_stored(ingress):
    front, queue = ingress
    protocol = serve(front, Scope("POST", "/webhook", delivery_headers(SYNCHRONIZE_BYTES)), Protocol([SYNCHRONIZE_BYTES[:10]], stall=True))
    (status, headers, body) = protocol.answers[0]
    assert (status, headers["connection"], body) == (408, "close", BODY_TIMEOUT_ANSWER)
    assert json.loads(body)["status"]
    assert queue.count == 0


def test_a_request_cancelled_before_its_deadline_is_not_answered_408(ingress):
    """Only the deadline's own cancellation becomes a 408; a request cancelled otherwise (the
    server shutting down) stays cancelled, and no deadline is left registered."""
    front, queue = ingress
    protocol = Protocol([SYNCHRONIZE_BYTES[:10]], stall=True)

    async def cancel_early() -> None:
        task = asyncio.ensure_future(front.__rsgi__(Scope("POST", "/webhook", delivery_headers(SYNCHRONIZE_BYTES)), protocol))
        await asyncio.sleep(0.05)  # well before the 0.3 s deadline
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_early())
    assert protocol.answers == []
    assert front.deadlines.pending == {} and front.deadlines.expired == set()
    assert queue.count == 0


def test_a_chunked_body_that_stalls_is_a_408_too(ingress):
    front, queue = ingress
    headers = delivery_headers(SYNCHRONIZE_BYTES, length=False)
    chunks = [SYNCHRONIZE_BYTES[:10], SYNCHRONIZE_BYTES[10:20]]
    protocol = serve(front, Scope("POST", "/webhook", headers), Protocol(chunks, stall=True))
    assert [a[0] for a in protocol.answers] == [408]
    assert queue.count == 0


def test_a_complete_delivery_is_stored_before_its_202(ingress):
    front, queue = ingress
    body = delivery()
    protocol = serve(front, Scope("POST", "/webhook", delivery_headers(body)), Protocol([body]))
    (status, _, body) = protocol.answers[0]
    assert status == 202, body
    job_id = json.loads(body)["job"]
    assert job_id in queue.job_ids + queue.scheduled_job_registry.get_job_ids()
    assert front.deadlines.pending == {}


def test_a_chunked_body_over_the_cap_is_still_the_receivers_413(ingress):
    front, queue = ingress
    front.limits = Limits(threads=1, body_timeout=5, max_body=front.limits.max_body)
    chunk = b"x" * (1 << 20)
    protocol = Protocol([chunk] * 27, stall=True)  # 27 MiB, then more would follow: never waited for
    serve(front, Scope("POST", "/webhook", delivery_headers(chunk, length=False)), protocol)
    assert protocol.answers[0][0] == 413
    assert queue.count == 0


def test_a_delivery_declared_over_the_cap_is_a_413_at_once_not_a_408(ingress):
    front, queue = ingress
    headers = {**delivery_headers(b"{}"), "Content-Length": str(999_999_999_999)}
    protocol = Protocol([b"{"], stall=True)  # the body would never come: it is not waited for
    started = time.monotonic()
    serve(front, Scope("POST", "/webhook", headers), protocol, timeout=2)
    (status, answer_headers, body) = protocol.answers[0]
    assert (status, answer_headers["connection"]) == (413, "close") and b"26 MiB" in body
    assert time.monotonic() - started < 0.25  # front.limits.body_timeout is 0.3 s
    assert queue.count == 0


def test_a_client_that_leaves_mid_body_gets_no_answer_and_nothing_is_stored(ingress, caplog):
    front, queue = ingress
    protocol = serve(front, Scope("POST", "/webhook", delivery_headers(SYNCHRONIZE_BYTES)), Protocol([SYNCHRONIZE_BYTES[:5]], gone=True))
    assert protocol.answers == []
    assert queue.count == 0
    assert any(getattr(r, "wavegate_event", "") == "request_abandoned" for r in caplog.records)


@pytest.mark.parametrize("path", ["/livez", "/readyz"])
def test_probes_answer_while_every_delivery_thread_is_taken(ingress, path):
    front, _ = ingress
    release = threading.Event()
    taken = front.deliveries.submit(release.wait, 30)  # the only delivery thread
    try:
        protocol = serve(front, Scope("GET", path, {}), Protocol([]), timeout=5)
        assert protocol.answers[0][0] == 200
        assert not taken.done()
    finally:
        release.set()


# ------------------------------------------------------------------ the web process as shipped

def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def web_process(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "app.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.TraditionalOpenSSL,
                                                         serialization.NoEncryption()))
    port = _free_port()
    queue_name = f"wavegate-slow-{uuid.uuid4().hex[:8]}"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "ENV_FILE": "/nonexistent/.env", "PORT": str(port),
           "WEB_HOST": "127.0.0.1", "WEB_CONCURRENCY": "1", "WEB_THREADS": "4", "WEB_BODY_TIMEOUT": "2",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"), "APP_ID": "1", "WEBHOOK_SECRET": SECRET,
           "PRIVATE_KEY_PATH": str(tmp_path / "app.pem"), "REDIS_URL": REDIS_URL, "QUEUE_NAME": queue_name}
    proc = subprocess.Popen([sys.executable, "deploy/web.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/livez", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and proc.poll() is None, "the web process did not start"
                time.sleep(0.2)
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)
        connection = redis.Redis.from_url(REDIS_URL)
        for key in connection.scan_iter(f"*{queue_name}*"):
            connection.delete(key)


def test_140_slow_body_clients_leave_probes_and_deliveries_answering(web_process):
    base = f"http://127.0.0.1:{web_process}"
    with SlowLoad(web_process, clients=140) as slow:
        time.sleep(1.5)  # every slow client connected, more than the 4 delivery threads
        slow.measure()
        answers = []
        for _ in range(5):
            assert requests.get(f"{base}/livez", timeout=3).status_code == 200
            assert requests.get(f"{base}/readyz", timeout=3).status_code == 200
            body = delivery()
            answers.append(requests.post(f"{base}/webhook", data=body, headers=delivery_headers(body), timeout=3))
            time.sleep(0.3)
        time.sleep(1.5)  # past the 2 s body deadline of the first slow clients
    assert [a.status_code for a in answers] == [202] * 5, [a.text for a in answers]
    assert slow.probe_errors == 0 and slow.probe_ms
    assert slow.answers.get("408", 0) >= 100, slow.answers
    metrics = requests.get(f"{base}/metrics", timeout=3).text
    assert 'outcome="body timeout"' in metrics


def test_a_slow_delivery_in_the_loop_moves_the_next_ones_to_threads(ingress, monkeypatch, caplog):
    """Deliveries are stored from the event loop while Redis answers quickly; once a write is slow
    (Redis slow or hanging) the following deliveries run on the delivery threads, leaving the loop
    to the probes."""
    front, queue = ingress
    ran_on: list[str] = []
    real = queueing.ingest_many

    def watched(connection, queue, items):
        ran_on.append(threading.current_thread().name)
        if len(ran_on) == 2:
            time.sleep(SLOW_DELIVERY * 1.5)
        return real(connection, queue, items)

    monkeypatch.setattr(queueing, "ingest_many", watched)
    for _ in range(3):
        body = delivery()
        protocol = serve(front, Scope("POST", "/webhook", delivery_headers(body)), Protocol([body]))
        assert protocol.answers[0][0] == 202
    loop_thread = threading.current_thread().name
    assert ran_on[:2] == [loop_thread, loop_thread]
    assert ran_on[2].startswith("wavegate-delivery")
    assert any(getattr(r, "wavegate_event", "") == "deliveries_on_threads" for r in caplog.records)
    assert queue.count == 3


def _serve_together(front: Ingress, requests: list[tuple[Scope, Protocol]]) -> None:
    async def together() -> None:
        await asyncio.gather(*(front.__rsgi__(scope, protocol) for scope, protocol in requests))

    asyncio.run(asyncio.wait_for(together(), 10))


def test_deliveries_admitted_together_are_stored_in_one_round_trip_each_with_its_own_answer(ingress, monkeypatch):
    """Eight deliveries arriving in the same turn of the loop: one pipelined write for all of them;
    each is answered for itself (a redelivered GUID 200 duplicate, a bad signature 401, the rest
    202 with the job that holds them), and every 202's job is in Redis."""
    front, queue = ingress
    batches: list[int] = []
    real = queueing.ingest_many

    def counted(connection, queue, items):
        batches.append(len(items))
        return real(connection, queue, items)

    monkeypatch.setattr(queueing, "ingest_many", counted)
    bodies = [delivery() for _ in range(8)]
    headers = [delivery_headers(body) for body in bodies]
    headers[6]["X-GitHub-Delivery"] = headers[5]["X-GitHub-Delivery"]  # a redelivery in the same batch
    headers[7]["X-Hub-Signature-256"] = "sha256=" + "0" * 64
    requests = [(Scope("POST", "/webhook", h), Protocol([b])) for h, b in zip(headers, bodies, strict=True)]
    _serve_together(front, requests)
    answers = [(p.answers[0][0], json.loads(p.answers[0][2])) for _, p in requests]
    assert batches == [7]  # the unsigned one never reaches Redis
    assert [status for status, _ in answers] == [202] * 6 + [200, 401]
    assert answers[6][1] == {"status": "duplicate", "job": answers[5][1]["job"]}
    assert sorted(queue.job_ids) == sorted(body["job"] for _, body in answers[:6])


def test_a_redis_failure_in_a_batch_answers_each_of_its_deliveries_503(ingress, monkeypatch):
    front, queue = ingress

    def down(connection, commands):
        raise redis.ConnectionError("Connection refused")

    monkeypatch.setattr(queueing, "_run_ingests", down)
    bodies = [delivery() for _ in range(3)]
    requests = [(Scope("POST", "/webhook", delivery_headers(b)), Protocol([b])) for b in bodies]
    _serve_together(front, requests)
    assert [p.answers[0][0] for _, p in requests] == [503] * 3
    assert queue.count == 0
    monkeypatch.undo()
    _serve_together(front, requests[:1])  # GitHub's redelivery of one of them is stored
    assert requests[0][1].answers[1][0] == 202


def test_a_defect_while_storing_answers_500_and_is_logged_never_a_hang(ingress, monkeypatch, caplog):
    front, queue = ingress

    def broken(connection, queue, items):
        raise KeyError("a defect")

    monkeypatch.setattr(queueing, "ingest_many", broken)
    bodies = [delivery() for _ in range(2)]
    requests = [(Scope("POST", "/webhook", delivery_headers(b)), Protocol([b])) for b in bodies]
    _serve_together(front, requests)
    assert [p.answers[0][0] for _, p in requests] == [500, 500]
    assert [json.loads(p.answers[0][2]) for _, p in requests] == [{"status": "internal error"}] * 2
    failed = [r for r in caplog.records if getattr(r, "wavegate_event", "") == "delivery_failed"]
    assert sorted(r.wavegate_fields["delivery_id"] for r in failed) == sorted(s.headers["x-github-delivery"]
                                                                             for s, _ in requests)
    assert all(r.exc_info and r.wavegate_fields["status"] == 500 for r in failed)


def test_a_delivery_whose_command_cannot_be_built_fails_alone(ingress, monkeypatch, caplog):
    """One delivery of a batch that cannot be written (here: its command raises while being built)
    is answered 500 and logged with its own fields; the others of the batch are stored."""
    front, queue = ingress
    bodies = [delivery() for _ in range(3)]
    requests = [(Scope("POST", "/webhook", delivery_headers(b)), Protocol([b])) for b in bodies]
    bad = requests[1][0].headers["x-github-delivery"]
    real = queueing._ingest_command

    def build(queue, route, delivery_id):
        if delivery_id == bad:
            raise TypeError("Integer exceeds 64-bit range")
        return real(queue, route, delivery_id)

    monkeypatch.setattr(queueing, "_ingest_command", build)
    _serve_together(front, requests)
    assert [p.answers[0][0] for _, p in requests] == [202, 500, 202]
    assert queue.count == 2
    (failed,) = [r for r in caplog.records if getattr(r, "wavegate_event", "") == "delivery_failed"]
    assert failed.wavegate_fields["delivery_id"] == bad and failed.exc_info


def test_a_write_that_breaks_its_own_contract_answers_500_never_hangs():
    """Whatever the write raises or returns, every waiting delivery gets an outcome."""
    from service.ingress import StoreBatch
    from service.webhook import Ticket

    for store_many in (lambda tickets: [], lambda tickets: 1 / 0):
        batch = StoreBatch(store_many, lambda took: None, lambda ticket, outcome: None)

        async def two(batch: StoreBatch) -> list:
            return list(await asyncio.gather(batch.store(Ticket(0.0)), batch.store(Ticket(0.0))))

        outcomes = asyncio.run(asyncio.wait_for(two(batch), 5))
        assert len(outcomes) == 2 and all(isinstance(o, Exception) for o in outcomes)
        assert batch.waiting == {}


def test_a_request_cancelled_while_its_batch_is_written_leaves_the_others_answered(ingress, caplog):
    """A request cancelled while waiting for its write (client gone, shutdown): the others are
    answered; its delivery, already in the batch, is stored and still counted and logged."""
    front, queue = ingress
    bodies = [delivery() for _ in range(3)]
    requests = [(Scope("POST", "/webhook", delivery_headers(b)), Protocol([b])) for b in bodies]

    async def one_cancelled() -> None:
        tasks = [asyncio.ensure_future(front.__rsgi__(scope, protocol)) for scope, protocol in requests]
        await asyncio.sleep(0)  # each task admitted and waiting for the write
        tasks[1].cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(asyncio.wait_for(one_cancelled(), 10))
    assert [len(p.answers) for _, p in requests] == [1, 0, 1]
    assert requests[0][1].answers[0][0] == requests[2][1].answers[0][0] == 202
    assert queue.count == 3
    gone = [r for r in caplog.records if getattr(r, "wavegate_fields", {}).get("client_gone")]
    assert [(r.wavegate_event, r.wavegate_fields["delivery_id"]) for r in gone] == [
        ("delivery_enqueued", requests[1][0].headers["x-github-delivery"])]
