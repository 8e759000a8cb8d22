"""Fixtures: an in-process emulator, an App key pair, a webhook receiver, and a recorder of every
HTTP exchange (so contract tests can validate each response body that PyGithub received)."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from github import Auth, Github, GithubIntegration
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from emulator.server import start

SECRET = "It's a Secret to Everybody"


@pytest.fixture(scope="session")
def app_key():
    """(private PEM, public PEM) of a fresh RSA key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                            serialization.NoEncryption()).decode()
    pub = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return pem, pub


@dataclass
class Receiver:
    url: str
    received: list = field(default_factory=list)  # (headers dict, raw body bytes)
    status: int = 202
    lock: threading.Lock = field(default_factory=threading.Lock)

    def events(self, event: str | None = None, action: str | None = None) -> list[dict]:
        out = []
        with self.lock:
            items = list(self.received)
        for headers, body in items:
            payload = json.loads(body)
            if (event is None or headers["X-Github-Event"] == event) and (action is None or payload.get("action") == action):
                out.append(payload)
        return out


def start_receiver():
    """Start a webhook endpoint that records every delivery (headers, raw body); returns (Receiver, server)."""
    holder: dict = {}

    @Request.application
    def handle(request: Request) -> Response:
        rec: Receiver = holder["r"]
        with rec.lock:
            rec.received.append((dict(request.headers), request.get_data()))
        return Response("ok", status=rec.status)

    server = make_server("127.0.0.1", 0, handle, threaded=True)
    rec = Receiver(f"http://127.0.0.1:{server.server_port}/webhook")
    holder["r"] = rec
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return rec, server


@pytest.fixture
def receiver():
    """A webhook endpoint that records every delivery (headers, raw body)."""
    rec, server = start_receiver()
    yield rec
    server.shutdown()


@pytest.fixture
def emulator(tmp_path):
    running = start(data_dir=str(tmp_path / "git"))
    yield running
    running.stop()


@dataclass
class World:
    url: str
    app_id: int
    installation_id: int
    pem: str
    tokens: dict
    running: object

    def admin(self, method: str, path: str, **kw):
        resp = requests.request(method, f"{self.url}/_emulator{path}", timeout=30, **kw)
        return resp

    def integration(self) -> GithubIntegration:
        return GithubIntegration(auth=Auth.AppAuth(self.app_id, self.pem), base_url=self.url, retry=None,
                                 lazy=True, seconds_between_requests=None, seconds_between_writes=None)

    def app_client(self) -> Github:
        return self.integration().get_github_for_installation(self.installation_id)

    def user_client(self, login: str) -> Github:
        return Github(auth=Auth.Token(self.tokens[login]), base_url=self.url, retry=None, lazy=True,
                      seconds_between_requests=None, seconds_between_writes=None)

    def drain(self):
        assert self.admin("POST", "/webhooks/drain", json={"timeout": 20}).json()["drained"]


def make_world(running, receiver, app_key, files=None, required=("wavegate/territory", "wavegate/wave-gate"),
               merge_queue=False, tree_truncate_at=None) -> World:
    pem, pub = app_key
    url = running.url
    post = lambda p, body: requests.post(f"{url}/_emulator{p}", json=body, timeout=30)  # noqa: E731
    app = post("/apps", {"id": 4242, "slug": "wavegate", "name": "Wavegate", "public_key": pub,
                         "webhook_url": receiver.url if receiver else None, "webhook_secret": SECRET,
                         "permissions": {"checks": "write", "contents": "write", "issues": "write",
                                         "pull_requests": "write", "metadata": "read", "merge_queues": "read",
                                         "actions": "write"}})
    assert app.status_code == 201, app.text
    repo = post("/repos", {"owner": "o", "name": "r", "default_branch": "main",
                           "files": files or {"README.md": "# r\n", "src/app.py": "print('hi')\n",
                                              "docs/guide.md": "line1\nline2\nline3\n"},
                           "required_checks": list(required), "merge_queue": merge_queue,
                           "tree_truncate_at": tree_truncate_at})
    assert repo.status_code == 201, repo.text
    inst = post("/installations", {"app_id": 4242, "repos": ["o/r"]}).json()
    tokens = {}
    for login, role in (("maint", "write"), ("reader", "read"), ("admin1", "admin")):
        tokens[login] = post("/users", {"login": login, "permissions": {"o/r": role}}).json()["token"]
    return World(url, 4242, inst["id"], pem, tokens, running)


@pytest.fixture
def world(emulator, receiver, app_key):
    return make_world(emulator, receiver, app_key)


class Recorder:
    """Records every HTTP exchange made through ``requests`` (and so through PyGithub)."""

    def __init__(self):
        self.exchanges: list[dict] = []

    def __call__(self, adapter_send):
        recorder = self

        def send(self_, request, *args, **kwargs):
            resp = adapter_send(self_, request, *args, **kwargs)
            recorder.exchanges.append({"method": request.method, "url": request.url, "status": resp.status_code,
                                       "body": resp.content, "headers": dict(resp.headers)})
            return resp

        return send


@pytest.fixture
def recorder(monkeypatch):
    rec = Recorder()
    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", rec(requests.adapters.HTTPAdapter.send))
    return rec


@pytest.fixture(scope="module")
def module_world(app_key, tmp_path_factory):
    """A world (emulator + receiver) shared by one test module, for expensive scripted scenarios."""
    running = start(data_dir=str(tmp_path_factory.mktemp("git")))
    rec, server = start_receiver()
    yield make_world(running, rec, app_key), rec
    server.shutdown()
    running.stop()
