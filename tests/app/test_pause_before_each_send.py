"""The installation's rate-limit pause is looked up before EACH send, including the transport's
own retries: a 502 is retried by urllib3 inside one PyGithub call, and if another process met a
rate limit meanwhile, the retry waits the pause out (short) or is not sent at all (long).

A real local HTTP server stands in for GitHub here: ``responses`` replaces the transport and so
never runs urllib3's retry loop. The server sets the pause while answering the first 502, as
another worker process would through Redis."""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import redis
from github import Auth, Github

from service.errors import RateLimited
from service.gh.client import PyGithubPort, default_retry
from service.gh.pacing import LocalPacer, RedisPacer
from tests.app.fakes import FakeClock
from tests.redisdb import redis_url

ISSUE = {"number": 7, "title": "t", "state": "open", "labels": [], "user": {"login": "a"}}


class Flaky:
    """Answers 502 to the first request (calling ``on_first`` meanwhile), 200 after that."""

    def __init__(self, on_first):
        self.on_first = on_first
        self.paths: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                outer.paths.append(self.path)
                first = len(outer.paths) == 1
                if first:
                    outer.on_first()
                body = json.dumps({"message": "bad gateway"} if first else ISSUE).encode()
                self.send_response(502 if first else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _port(base_url: str, pacer, key: str) -> PyGithubPort:
    retry = default_retry()
    retry.backoff_factor = 0  # the backoff is urllib3's own; the pause is what is measured here
    client = Github(auth=Auth.Token("ghs_test"), base_url=base_url, retry=retry,
                    seconds_between_requests=None, seconds_between_writes=None, lazy=True)
    return PyGithubPort(client.requester, key=key, pacer=pacer)


@pytest.mark.parametrize(("pause", "sent", "slept"), [
    (5.0, 2, [5.0]),  # a short pause is waited out, then the retry goes
    (90.0, 1, []),  # a long one: the retry is never sent, the job is rescheduled
])
def test_a_transport_retry_waits_for_a_pause_set_while_it_was_queued(pause, sent, slept):
    clock = FakeClock(100.0)
    pacer = LocalPacer(clock=clock, sleep=clock.sleep)
    key = uuid.uuid4().hex
    flaky = Flaky(lambda: pacer.pause(key, pause))
    with flaky as url:
        p = _port(url, pacer, key)
        if sent == 1:
            with pytest.raises(RateLimited) as info:
                p.get_issue("o/r", 7)
            assert info.value.retry_after == pytest.approx(pause)
        else:
            assert p.get_issue("o/r", 7).number == 7
    assert len(flaky.paths) == sent
    assert clock.slept == slept


def test_a_pause_set_by_another_process_stops_the_retry_of_this_one():
    conn = redis.Redis.from_url(redis_url(11))
    try:
        conn.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis")
    key = uuid.uuid4().hex
    other = RedisPacer(redis.Redis.from_url(redis_url(11)), prefix="test:pace")
    flaky = Flaky(lambda: other.pause(key, 60))
    with flaky as url, pytest.raises(RateLimited):
        _port(url, RedisPacer(conn, prefix="test:pace"), key).get_issue("o/r", 7)
    assert len(flaky.paths) == 1
