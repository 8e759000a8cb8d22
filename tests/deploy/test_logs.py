"""Structured logs of a real run (emulator + gunicorn + RQ worker + Redis db 12, demo.stack.Stack):
every line is JSON with an ``event``; the App's private key, installation tokens, JWTs, the webhook
secret and user tokens appear in no log file, no Redis value and no job argument. The same run
checks /metrics in gunicorn's multiprocess mode."""

from __future__ import annotations

import base64
import contextlib
import json
import re
import zlib

import pytest
import redis
import requests
from github import Auth, Github, InputGitTreeElement
from rq.job import Job
from rq.serializers import JSONSerializer

from demo.stack import Stack, wait_until
from tests.redisdb import fields, redis_url

REDIS_URL = redis_url(12)
REPO = "acme/logs"
PLAN = """Two agents, two waves.

```yaml dispatch
agents:
  - name: api
    territory: [src/api/]
  - name: docs
    wave: 2
    territory: [docs/]
```
"""
FILES = {"README.md": "# logs\n", "src/api/app.py": "X = 1\n", "docs/index.md": "# docs\n"}
TOKEN = re.compile(r"\b(?:gh[pousr]_|github_pat_)[A-Za-z0-9_]{8,}")
JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A finished dispatch: the repo, the issue, both PRs with their checks; yields the stack and
    the user token used."""
    with Stack(workdir=tmp_path_factory.mktemp("stack"), redis_url=REDIS_URL, web_workers=2, rq_workers=1) as stack:
        stack.create_repo(REPO, FILES, required_checks=["wavegate/territory", "wavegate/wave-gate"])
        made = stack.admin("POST", "/_emulator/users", json={"login": "coordinator", "permissions": {REPO: "admin"}})
        gh = Github(auth=Auth.Token(made["token"]), base_url=stack.emulator_url, retry=None,
                    seconds_between_requests=None, seconds_between_writes=None)
        issue = gh.get_repo(REPO).create_issue("Dispatch two agents", body=PLAN)
        issue.add_to_labels("dispatch")
        issue.create_comment("/wavegate refresh")

        def dispatched():
            snap = stack.snapshot(REPO)
            pulls = snap["pulls"]
            return len(pulls) == 2 and snap
        snap = wait_until(dispatched, 90, "two PRs")
        # An agent pushes to its branch: a pull_request synchronize that Wavegate checks on the SHA.
        repo = gh.get_repo(REPO)
        branch = next(p["head"] for p in snap["pulls"] if "api" in p["head"])
        ref = repo.get_git_ref(f"heads/{branch}")
        head = repo.get_git_commit(ref.object.sha)
        blob = repo.create_git_blob(base64.b64encode(b"X = 2\n").decode(), "base64")
        tree = repo.create_git_tree([InputGitTreeElement("src/api/app.py", "100644", "blob", sha=blob.sha)],
                                    base_tree=head.tree)
        pushed = repo.create_git_commit("api: X = 2", tree, [head]).sha
        ref.edit(pushed)

        def checked():
            # the check_pull job of the synchronize delivery, not only checks written by the refresh
            worker_log = (stack.workdir / "logs" / "worker-0.log").read_text(errors="replace")
            return any('"job_finished"' in line and pushed in line for line in worker_log.splitlines())
        stack.drain(30)
        wait_until(checked, 60, "the check of the pushed commit")
        connection = redis.Redis.from_url(REDIS_URL)
        wait_until(lambda: connection.llen("rq:queue:wavegate") == 0, 60, "the queue to empty", interval=0.2)
        yield stack, made["token"]
        connection.flushdb()


def log_texts(stack) -> dict[str, str]:
    return {p.name: p.read_text(errors="replace") for p in sorted((stack.workdir / "logs").glob("*.log"))}


def redis_texts() -> dict[str, str]:
    """Every value in db 12 as text (hashes, lists, sets, sorted sets, streams; zlib-compressed RQ
    job data decompressed), and every RQ job's arguments."""
    connection = redis.Redis.from_url(REDIS_URL)
    out: dict[str, str] = {}

    def text(value: bytes) -> str:
        with contextlib.suppress(zlib.error):
            value = zlib.decompress(value)
        return value.decode("utf-8", errors="replace")

    for key in connection.scan_iter(count=500):
        name = key.decode(errors="replace")
        parts = [v if f is None else b"%s=%s" % (f, v) for f, v in fields(connection, key)]
        out[name] = "\n".join([name, *(text(p) for p in parts)])
        if name.startswith("rq:job:") and connection.type(key) == b"hash":
            job = Job.fetch(name[len("rq:job:"):], connection=connection, serializer=JSONSerializer)
            out[name + " args"] = json.dumps([job.func_name, job.args, job.kwargs], default=str)
    return out


def private_pieces(pem: str) -> list[str]:
    """Aligned 20-character pieces of the key's private part: any 40-character slice of it contains
    one. The first 400 base64 characters (the public modulus) are left out."""
    body = "".join(line for line in pem.strip().splitlines() if "-----" not in line)
    private = body[400:]
    return [private[i:i + 20] for i in range(0, len(private) - 19, 20)]


def test_nothing_secret_in_logs_redis_or_job_arguments(run):
    stack, user_token = run
    texts = {**log_texts(stack), **redis_texts()}
    assert any(k.startswith("rq:job:") for k in texts), "the run left no job to inspect"
    pieces = private_pieces(stack.private_key_pem)
    assert len(pieces) > 40
    leaks = []
    for name, text in texts.items():
        flat = re.sub(r"\\n|\s", "", text)
        if any(piece in flat for piece in pieces):
            leaks.append(f"{name}: private key")
        for label, secret in (("webhook secret", stack.webhook_secret), ("user token", user_token)):
            if secret in text:
                leaks.append(f"{name}: {label}")
        leaks += [f"{name}: token {m.group(0)[:6]}…" for m in TOKEN.finditer(text)]
        leaks += [f"{name}: JWT" for _ in JWT.finditer(text)]
    assert leaks == []


def test_the_check_would_see_a_leak(run):
    stack, user_token = run
    pieces = private_pieces(stack.private_key_pem)
    body = "".join(line for line in stack.private_key_pem.splitlines() if "-----" not in line)
    leaked = "prefix " + body[777:817] + " suffix"
    assert any(piece in leaked for piece in pieces)
    assert TOKEN.search("Authorization: token ghs_" + "a1B2" * 9)
    assert TOKEN.search(f"x {user_token} y") and JWT.search("Bearer eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiI0MiJ9.sig")


def test_every_process_logs_json_lines_with_stable_events(run):
    stack, _ = run
    events: dict[str, list[dict]] = {}
    for name, text in log_texts(stack).items():
        if name == "emulator.log":
            continue  # the emulator is a test double, not the product
        for line in text.splitlines():
            if not line.strip():
                continue
            record = json.loads(line)  # every line of web and worker is one JSON object
            assert isinstance(record.get("event"), str) and record["event"], line
            events.setdefault(record["event"], []).append(record)
    # One line per delivery, named after its outcome, with the delivery's GUID, size and status.
    deliveries = [r for name, records in events.items() if name.startswith("delivery_") for r in records]
    assert deliveries and all(r.get("delivery_id") and r["size"] > 0 and r["status"] for r in deliveries)
    assert "delivery_received" not in events
    enqueued = events["delivery_enqueued"]
    assert {r["repo"] for r in enqueued} == {REPO}
    assert all(isinstance(r["installation_id"], int) for r in enqueued)
    assert any(r.get("number") for r in enqueued)
    started = events["job_started"]
    assert {r["repo"] for r in started if "repo" in r} == {REPO}
    assert any(r.get("sha") for r in events["job_started"] + events["job_finished"]), "sha bound on PR jobs"
    # The worker's start-up check of GET /app ran (the stack registers its App without permissions).
    assert {"app_registration_ok", "app_registration_incomplete"} & set(events)


def test_metrics_under_gunicorn_count_across_processes(run):
    stack, _ = run
    text = requests.get(f"{stack.web_url}/metrics", timeout=10).text
    deliveries = {m.group(1): float(m.group(2)) for m in re.finditer(
        r'^wavegate_webhook_deliveries_total\{event="([a-z_]+)",outcome="enqueued"\} (\S+)$', text, re.M)}
    assert deliveries.get("issues", 0) >= 1 and deliveries.get("issue_comment", 0) >= 1
    assert re.search(r'^wavegate_webhook_ack_seconds_count\{event="issues"\} [1-9]', text, re.M)
    assert re.search(r'^wavegate_queue_jobs\{queue="wavegate",state="queued"\} 0\.0$', text, re.M)
    assert re.search(r'^wavegate_queue_jobs\{queue="wavegate",state="failed"\} 0\.0$', text, re.M)
