"""``service.gh`` against HTTP mocked with ``responses``, bodies from GitHub's published
examples (tests/github/rest/). Each test asserts the exact request list, so a hidden
lazy GET or a missing page shows up."""

from __future__ import annotations

import copy
import json
import re
import time
import uuid
from types import SimpleNamespace

import pytest
import requests
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from github import Auth, Github
from responses import matchers

from service.core.model import Annotation, ChangedFile, ChangeSet, CheckOutput, FileSource
from service.errors import Conflict, NotFound, PermissionDenied, RateLimited, TransientGitHubError
from service.gh import app as app_mod
from service.gh import client as client_mod
from service.gh import memo as memo_mod
from service.gh import parse
from service.gh.client import PyGithubPort
from service.gh.errors import wait_seconds
from service.gh.pacing import LocalPacer, NoPacer
from tests.app.fakes import FakeClock
from tests.conftest import FIXTURES

API = "https://api.github.com:443"  # PyGithub puts the port in request URLs (never in bodies)
TOKEN = "ghs_secrettoken0123456789"


def example(name: str, status: str = "200", key: str | None = None):
    doc = json.loads((FIXTURES / "rest" / f"{name}.json").read_text())
    examples = doc["responses"][status]["content"]["application/json"]["examples"]
    value = examples[key or next(iter(examples))]["value"]
    return copy.deepcopy(value)


def port(**kw) -> PyGithubPort:
    client = Github(auth=Auth.Token(TOKEN), retry=None, seconds_between_requests=None,
                    seconds_between_writes=None, per_page=100, lazy=True)
    kw.setdefault("key", uuid.uuid4().hex)  # rate-limit streaks are per installation
    return PyGithubPort(client.requester, **kw)


def calls(rsps) -> list[str]:
    return [f"{c.request.method} {c.request.url.replace(API, '')}" for c in rsps.calls]


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as r:
        yield r


def _pull(number=31, changed=2):
    p = example("pulls.get")
    p.update(number=number, changed_files=changed, state="open", merged=False, merged_at=None)
    p["head"].update(ref="wavegate/42/docs", sha="a" * 40)
    p["base"].update(ref="main")
    p["head"]["repo"]["full_name"] = p["base"]["repo"]["full_name"] = "o/r"
    return p


def _file(name, status="modified", previous=None):
    f = example("pulls.list-files")[0]
    f.update(filename=name, status=status)
    if previous:
        f["previous_filename"] = previous
    return f


def test_get_pull_is_one_request(rsps):
    rsps.get(f"{API}/repos/o/r/pulls/31", json=_pull())
    pull = port().get_pull("o/r", 31)
    assert (pull.number, pull.head_ref, pull.head_sha, pull.changed_files, pull.same_repo) == (
        31, "wavegate/42/docs", "a" * 40, 2, True)
    assert calls(rsps) == ["GET /repos/o/r/pulls/31"]


def test_files_every_page_and_both_rename_paths(rsps):
    page1 = [_file(f"docs/f{i:03d}.md") for i in range(99)] + [
        _file("docs/examples/signal.ts", "renamed", "packages/core/primitives/signal.ts")]
    page2 = [_file("apps/web/src/app.tsx"), _file("old.txt", "removed")]
    rsps.get(f"{API}/repos/o/r/pulls/31/files", json=page1,
             match=[matchers.query_param_matcher({"per_page": "100"})],
             headers={"Link": '<https://api.github.com/repositories/1/pulls/31/files?per_page=100&page=2>; '
                              'rel="next", <https://api.github.com/repositories/1/pulls/31/files?per_page=100'
                              '&page=2>; rel="last"'})
    rsps.get(f"{API}/repositories/1/pulls/31/files", json=page2,
             match=[matchers.query_param_matcher({"per_page": "100", "page": "2"})])
    pull = parse.pull(_pull(changed=102))
    changes = port().pull_changes("o/r", pull)
    assert changes.source is FileSource.FILES and (changes.listed, changes.changed) == (102, 102)
    renamed = [f for f in changes.files if f.status == "renamed"]
    assert [(f.path, f.previous_path) for f in renamed] == [
        ("docs/examples/signal.ts", "packages/core/primitives/signal.ts")]
    assert changes.files[-1].status == "removed"
    assert calls(rsps) == ["GET /repos/o/r/pulls/31/files?per_page=100",
                           "GET /repositories/1/pulls/31/files?page=2&per_page=100"]


@pytest.mark.parametrize("truncated", [False, True])
def test_count_mismatch_diffs_the_trees(rsps, truncated):
    rsps.get(f"{API}/repos/o/r/pulls/31/files", json=[_file("services/api/a.py")])
    compare = {"status": "ahead", "merge_base_commit": {"sha": "b" * 40}}
    rsps.get(f"{API}/repos/o/r/compare/main...{'a' * 40}", json=compare)
    base_tree = {"sha": "t1", "truncated": False, "tree": [
        {"path": "services", "type": "tree", "sha": "x"},
        {"path": "services/api/a.py", "type": "blob", "sha": "1"}]}
    head_tree = {"sha": "t2", "truncated": truncated, "tree": [
        {"path": "services/api/a.py", "type": "blob", "sha": "2"},
        {"path": "apps/web/src/app.tsx", "type": "blob", "sha": "3"}]}
    rsps.get(f"{API}/repos/o/r/git/trees/{'b' * 40}", json=base_tree,
             match=[matchers.query_param_matcher({"recursive": "1"})])
    rsps.get(f"{API}/repos/o/r/git/trees/{'a' * 40}", json=head_tree)
    changes = port().pull_changes("o/r", parse.pull(_pull(changed=2)))
    if truncated:
        assert changes.source is FileSource.TRUNCATED
    else:
        assert changes.source is FileSource.TREE
        assert [(f.path, f.status) for f in changes.files] == [("apps/web/src/app.tsx", "added"),
                                                               ("services/api/a.py", "modified")]
    assert calls(rsps) == [
        "GET /repos/o/r/pulls/31/files?per_page=100",
        f"GET /repos/o/r/compare/main...{'a' * 40}?per_page=1",
        f"GET /repos/o/r/git/trees/{'b' * 40}?recursive=1",
        f"GET /repos/o/r/git/trees/{'a' * 40}?recursive=1",
    ]


def test_create_branch_reuses_an_existing_reference(rsps):
    commit = {"sha": "c" * 40, "tree": {"sha": "t" * 40}}
    rsps.post(f"{API}/repos/o/r/git/commits", json=commit, status=201,
              match=[matchers.json_params_matcher({"message": "Start x", "tree": "t" * 40,
                                                   "parents": ["b" * 40]})])
    rsps.post(f"{API}/repos/o/r/git/refs", status=422,
              json={"message": "Reference already exists",
                    "documentation_url": "https://docs.github.com/rest/git/refs#create-a-reference"},
              match=[matchers.json_params_matcher({"ref": "refs/heads/wavegate/42/api", "sha": "c" * 40})])
    ref = example("git.get-ref")
    ref["object"]["sha"] = "e" * 40
    rsps.get(f"{API}/repos/o/r/git/ref/heads/wavegate/42/api", json=ref)
    sha = port().create_branch("o/r", "wavegate/42/api", "b" * 40, tree_sha="t" * 40, message="Start x")
    assert sha == "e" * 40
    assert calls(rsps) == ["POST /repos/o/r/git/commits", "POST /repos/o/r/git/refs",
                           "GET /repos/o/r/git/ref/heads/wavegate/42/api"]


def test_create_branch_new(rsps):
    base_commit = {"sha": "b" * 40, "tree": {"sha": "t" * 40}}
    rsps.get(f"{API}/repos/o/r/git/commits/{'b' * 40}", json=base_commit)
    rsps.post(f"{API}/repos/o/r/git/commits", json={"sha": "c" * 40}, status=201)
    rsps.post(f"{API}/repos/o/r/git/refs", json=example("git.create-ref", "201"), status=201)
    assert port().create_branch("o/r", "wavegate/42/api", "b" * 40) == "c" * 40
    assert len(rsps.calls) == 3


SECONDARY = {"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
             "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}


@pytest.mark.parametrize(
    ("status", "headers", "body", "wait"),
    [
        (403, {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4800",
               "x-ratelimit-reset": str(int(time.time()) + 3600)}, SECONDARY, 60.0),
        (429, {"retry-after": "30"}, SECONDARY, 30.0),
        (403, {"retry-after": "30", "x-ratelimit-remaining": "4800"}, SECONDARY, 30.0),
        (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "@+120"},
         {"message": "API rate limit exceeded for installation ID 1."}, 120.0),
    ],
)
def test_rate_limits_are_mapped_with_the_wait_rule(rsps, status, headers, body, wait):
    headers = {k: (str(int(time.time()) + 120) if v == "@+120" else v) for k, v in headers.items()}
    rsps.get(f"{API}/repos/o/r/pulls", json=[],
             match=[matchers.query_param_matcher({"head": "o:wavegate/42/a5", "state": "all", "per_page": "100"})])
    rsps.post(f"{API}/repos/o/r/pulls", status=status, json=body, headers=headers)
    with pytest.raises(RateLimited) as info:
        port().create_pull("o/r", "main", "wavegate/42/a5", "t", "b")
    assert info.value.retry_after == pytest.approx(wait, abs=2)
    assert TOKEN not in str(info.value)
    assert calls(rsps) == ["GET /repos/o/r/pulls?head=o%3Awavegate%2F42%2Fa5&per_page=100&state=all",
                           "POST /repos/o/r/pulls"]


def test_repeated_secondary_limits_double_the_wait(rsps):
    for _ in range(3):
        rsps.get(f"{API}/repos/o/r/issues/7", status=403, json=SECONDARY)
    rsps.get(f"{API}/repos/o/r/issues/7", json=example("issues.get"))
    clock = FakeClock()
    p = port(key="streak", pacer=NoPacer(clock=clock, sleep=clock.sleep))
    waits = []
    for _ in range(3):
        with pytest.raises(RateLimited) as info:
            p.get_issue("o/r", 7)
        waits.append(info.value.retry_after)
        clock.now += info.value.retry_after  # the job's retry comes after the pause
    assert waits == [60.0, 120.0, 240.0]
    p.get_issue("o/r", 7)
    assert client_mod._limited_streak.get("streak") is None


def test_a_short_retry_after_pauses_the_installation_then_the_read_is_sent_again(rsps):
    clock = FakeClock()
    pacer = LocalPacer(clock=clock, sleep=clock.sleep)
    rsps.get(f"{API}/repos/o/r/issues/7", status=403, json=SECONDARY, headers={"retry-after": "2"})
    rsps.get(f"{API}/repos/o/r/issues/7", json=example("issues.get"))
    rsps.get(f"{API}/repos/o/r/pulls/31", json=_pull())
    assert port(pacer=pacer, key="9").get_issue("o/r", 7).number
    assert clock.slept == [2.0]
    port(pacer=pacer, key="9").get_pull("o/r", 31)  # another job of the installation: pause is over
    assert clock.slept == [2.0]
    assert calls(rsps) == ["GET /repos/o/r/issues/7", "GET /repos/o/r/issues/7", "GET /repos/o/r/pulls/31"]


def test_without_a_shared_pacer_the_retry_after_is_still_waited_out(rsps):
    clock = FakeClock()
    rsps.get(f"{API}/repos/o/r/issues/7", status=403, json=SECONDARY, headers={"retry-after": "2"})
    rsps.get(f"{API}/repos/o/r/issues/7", json=example("issues.get"))
    assert port(pacer=NoPacer(clock=clock, sleep=clock.sleep)).get_issue("o/r", 7).number
    assert clock.slept == [2.0]


def test_a_limited_post_is_not_resent_but_pauses_every_request_of_the_installation(rsps):
    clock = FakeClock()
    pacer = LocalPacer(clock=clock, sleep=clock.sleep)
    rsps.post(f"{API}/repos/o/r/issues/42/comments", status=403, json=SECONDARY, headers={"retry-after": "3"})
    rsps.get(f"{API}/repos/o/r/issues/7", json=example("issues.get"))
    with pytest.raises(RateLimited) as info:
        port(pacer=pacer, key="9").create_comment("o/r", 42, "hi")
    assert info.value.retry_after == 3.0 and clock.slept == []
    port(pacer=pacer, key="9").get_issue("o/r", 7)  # another job's read waits out the pause first
    assert clock.slept == [3.0]
    assert calls(rsps) == ["POST /repos/o/r/issues/42/comments", "GET /repos/o/r/issues/7"]


@pytest.mark.parametrize("failure", [requests.exceptions.ReadTimeout("slow"), requests.exceptions.ConnectionError("reset")])
def test_a_write_with_no_answer_holds_the_installation_until_it_could_have_landed(rsps, failure):
    """A POST that timed out may still be applied by GitHub: the next look-before-create of any job
    of the installation waits ``WRITE_IN_DOUBT`` seconds first, or it could create a duplicate."""
    clock = FakeClock()
    pacer = LocalPacer(clock=clock, sleep=clock.sleep)
    rsps.post(f"{API}/repos/o/r/issues/42/comments", body=failure)
    rsps.get(f"{API}/repos/o/r/issues/7", json=example("issues.get"))
    with pytest.raises(TransientGitHubError):
        port(pacer=pacer, key="9").create_comment("o/r", 42, "hi")
    port(pacer=pacer, key="9").get_issue("o/r", 7)
    assert clock.slept == [client_mod.WRITE_IN_DOUBT]
    port(pacer=pacer, key="9").get_issue("o/r", 7)  # the hold is over: no second wait
    assert clock.slept == [client_mod.WRITE_IN_DOUBT]


def test_a_long_pause_reschedules_instead_of_sending(rsps):
    clock = FakeClock()
    pacer = LocalPacer(clock=clock, sleep=clock.sleep)
    reset = int(time.time()) + 600
    rsps.get(f"{API}/repos/o/r/issues/7", status=403, json={"message": "API rate limit exceeded for installation ID 9."},
             headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)})
    with pytest.raises(RateLimited):
        port(pacer=pacer, key="9").get_issue("o/r", 7)
    for job in (lambda p: p.get_issue("o/r", 7), lambda p: p.create_comment("o/r", 42, "hi")):
        with pytest.raises(RateLimited) as info:
            job(port(pacer=pacer, key="9"))
        assert info.value.retry_after == pytest.approx(600, abs=3)
    assert clock.slept == []
    assert calls(rsps) == ["GET /repos/o/r/issues/7"]  # nothing else was sent during the pause


def test_short_limits_are_resent_a_bounded_number_of_times(rsps):
    clock = FakeClock()
    pacer = LocalPacer(clock=clock, sleep=clock.sleep)
    for _ in range(client_mod.INLINE_RETRIES + 1):
        rsps.patch(f"{API}/repos/o/r/issues/comments/5", status=403, json=SECONDARY, headers={"retry-after": "1"})
    with pytest.raises(RateLimited):
        port(pacer=pacer, key="9").edit_comment("o/r", 5, "b")
    assert len(rsps.calls) == client_mod.INLINE_RETRIES + 1
    assert clock.slept == [1.0] * client_mod.INLINE_RETRIES


def test_wait_rule_doubles_without_headers():
    assert [wait_seconds({}, attempt=a) for a in range(3)] == [60.0, 120.0, 240.0]
    assert wait_seconds({"Retry-After": "7"}) == 7.0
    assert wait_seconds({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1120"}, now=1000) == 120.0


def test_permission_error_names_request_and_permission(rsps):
    rsps.get(f"{API}/repos/o/r/pulls", json=[])
    rsps.post(f"{API}/repos/o/r/pulls", status=403,
              json={"message": "Resource not accessible by integration"},
              headers={"x-ratelimit-remaining": "4800"})
    with pytest.raises(PermissionDenied) as info:
        port().create_pull("o/r", "main", "wavegate/42/a5", "t", "b")
    assert (info.value.request, info.value.permission) == ("POST /repos/o/r/pulls", "pull_requests: write")


def test_ambiguous_create_looks_again_and_reuses(rsps):
    listed = example("pulls.list")[0]
    listed.update(number=24, state="open")
    listed["head"].update(ref="wavegate/42/a5")
    listed["head"]["repo"]["full_name"] = listed["base"]["repo"]["full_name"] = "o/r"
    rsps.get(f"{API}/repos/o/r/pulls", json=[])
    rsps.post(f"{API}/repos/o/r/pulls", status=502, json={"message": "Server Error"})
    rsps.get(f"{API}/repos/o/r/pulls", json=[listed])
    pull = port().create_pull("o/r", "main", "wavegate/42/a5", "t", "b")
    assert pull.number == 24
    assert [c.split("?")[0] for c in calls(rsps)] == ["GET /repos/o/r/pulls", "POST /repos/o/r/pulls",
                                                      "GET /repos/o/r/pulls"]


def test_find_pull_ignores_forks(rsps):
    fork = example("pulls.list")[0]
    fork["head"].update(ref="wavegate/42/a5")
    fork["head"]["repo"]["full_name"] = "someone/r"
    fork["base"]["repo"]["full_name"] = "o/r"
    rsps.get(f"{API}/repos/o/r/pulls", json=[fork])
    assert port().find_pull("o/r", "wavegate/42/a5") is None


@pytest.mark.parametrize(("status", "error"), [(404, NotFound), (410, NotFound), (409, Conflict),
                                               (422, Conflict), (401, TransientGitHubError),
                                               (500, TransientGitHubError), (503, TransientGitHubError)])
def test_status_mapping(rsps, status, error):
    rsps.get(f"{API}/repos/o/r/issues/7", status=status, json={"message": "x"})
    with pytest.raises(error):
        port().get_issue("o/r", 7)


def test_check_run_annotations_go_fifty_a_request(rsps):
    created = example("checks.create", "201", "example-of-completed-conclusion")
    created.update(id=77, name="wavegate/territory", head_sha="a" * 40)
    anns = tuple(Annotation(path=f"p{i}", message="m") for i in range(120))
    out = CheckOutput(name="wavegate/territory", status="completed", conclusion="failure", title="t",
                      summary="s", annotations=anns)

    def has(n):
        def match(request):
            body = json.loads(request.body)
            got = len(body["output"].get("annotations", []))
            return (got == n, f"{got} annotations")
        return match

    rsps.post(f"{API}/repos/o/r/check-runs", json=created, status=201,
              match=[has(50), matchers.json_params_matcher({"head_sha": "a" * 40}, strict_match=False)])
    rsps.patch(f"{API}/repos/o/r/check-runs/77", json=created, match=[has(50)])
    rsps.patch(f"{API}/repos/o/r/check-runs/77", json=created, match=[has(20)])
    port().create_check_run("o/r", "a" * 40, out)
    assert calls(rsps) == ["POST /repos/o/r/check-runs", "PATCH /repos/o/r/check-runs/77",
                           "PATCH /repos/o/r/check-runs/77"]


def test_check_run_without_head_sha_is_refused():
    out = CheckOutput(name="wavegate/territory", status="queued", conclusion=None, title="t", summary="s")
    with pytest.raises(ValueError):
        port().create_check_run("o/r", "", out)


def test_permission_role_name_and_non_collaborator(rsps):
    body = example("repos.get-collaborator-permission-level")
    body.update(permission="write", role_name="maintain")
    rsps.get(f"{API}/repos/o/r/collaborators/octocat/permission", json=body)
    rsps.get(f"{API}/repos/o/r/collaborators/nobody/permission", status=404, json={"message": "Not Found"})
    assert port().permission("o/r", "octocat") == "maintain"
    assert port().permission("o/r", "nobody") == "none"


def test_dry_run_sends_no_write(rsps):
    p = port(dry_run=True)
    p.create_comment("o/r", 42, "hello")
    p.close_issue("o/r", 42)
    assert calls(rsps) == []


def test_writes_are_paced_per_installation(rsps):
    entered = []

    class Recorder(NoPacer):
        from contextlib import contextmanager

        @contextmanager
        def write(self, key):
            entered.append(key)
            yield

    rsps.post(f"{API}/repos/o/r/issues/42/comments", json=example("issues.create-comment", "201"), status=201)
    port(pacer=Recorder(), key="7").create_comment("o/r", 42, "hi")
    assert entered == ["7"]


def _pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def test_installation_token_is_minted_lazily_and_never_leaks(rsps):
    settings = SimpleNamespace(app_id=1, private_key=_pem(), github_api_url="https://api.github.com",
                               dry_run=False, app_slug="wavegate")
    token = example("apps.create-installation-access-token", "201")
    token.update(token=TOKEN, expires_at="2099-01-01T00:00:00Z")
    port_ = app_mod.github_for_installation(settings, 5, retry=None, seconds_between_requests=None)
    assert port_.bot_login == "wavegate[bot]" and calls(rsps) == []
    rsps.post(f"{API}/app/installations/5/access_tokens", json=token, status=201)
    rsps.get(f"{API}/repos/o/r/issues/9", status=404, json={"message": "Not Found"},
             match=[matchers.header_matcher({"Authorization": f"token {TOKEN}"})])
    with pytest.raises(NotFound) as info:
        port_.get_issue("o/r", 9)
    assert TOKEN not in str(info.value) and "BEGIN" not in str(info.value)
    assert calls(rsps) == ["POST /app/installations/5/access_tokens", "GET /repos/o/r/issues/9"]


def test_a_rejected_installation_token_is_replaced_once(rsps):
    """GitHub may revoke a token before its stated expiry: the adapter mints a new one and sends
    the request again, once; a second 401 is an error the job retries."""
    settings = SimpleNamespace(app_id=1, private_key=_pem(), github_api_url="https://api.github.com",
                               dry_run=False, app_slug="wavegate")
    first, second = example("apps.create-installation-access-token", "201"), None
    first.update(token="ghs_first", expires_at="2099-01-01T00:00:00Z")
    second = {**first, "token": "ghs_second"}
    rsps.post(f"{API}/app/installations/5/access_tokens", json=first, status=201)
    rsps.post(f"{API}/app/installations/5/access_tokens", json=second, status=201)
    rsps.get(f"{API}/repos/o/r/issues/9", status=401, json={"message": "Bad credentials"},
             match=[matchers.header_matcher({"Authorization": "token ghs_first"})])
    rsps.get(f"{API}/repos/o/r/issues/9", json=example("issues.get"),
             match=[matchers.header_matcher({"Authorization": "token ghs_second"})])
    port_ = app_mod.github_for_installation(settings, 5, retry=None, seconds_between_requests=None)
    assert port_.get_issue("o/r", 9).number
    assert calls(rsps) == ["POST /app/installations/5/access_tokens", "GET /repos/o/r/issues/9",
                           "POST /app/installations/5/access_tokens", "GET /repos/o/r/issues/9"]


def test_default_retry_is_bounded_and_skips_rate_limits():
    retry = client_mod.default_retry()
    assert retry.total == 3
    assert not retry.is_retry("GET", 403) and not retry.is_retry("GET", 429)
    assert retry.is_retry("GET", 502) and not retry.is_retry("POST", 502)


def test_failed_deliveries_and_redeliver(rsps):
    settings = SimpleNamespace(app_id=1, private_key=_pem(), github_api_url="https://api.github.com")
    deliveries = [
        {"id": 1, "guid": "G-1", "event": "issues", "status_code": 502, "redelivery": False,
         "delivered_at": "2026-01-01T00:00:00Z"},
        {"id": 2, "guid": "G-2", "event": "issues", "status_code": 503, "redelivery": False,
         "delivered_at": "2026-01-01T00:00:00Z"},
        {"id": 3, "guid": "G-2", "event": "issues", "status_code": 202, "redelivery": True,
         "delivered_at": "2026-01-01T00:01:00Z"},
    ]
    rsps.get(f"{API}/app/hook/deliveries", json=deliveries,
             match=[matchers.header_matcher({"Authorization": re.compile(r"Bearer .+")})])
    rsps.post(f"{API}/app/hook/deliveries/1/attempts", status=202, json={})
    failed = app_mod.list_failed_deliveries(settings, retry=None, seconds_between_requests=None)
    assert [d.guid for d in failed] == ["G-1"]
    app_mod.redeliver(settings, 1, retry=None, seconds_between_requests=None)
    assert calls(rsps) == ["GET /app/hook/deliveries?per_page=100", "POST /app/hook/deliveries/1/attempts"]


def test_app_installations_lists_repositories(rsps):
    settings = SimpleNamespace(app_id=1, private_key=_pem(), github_api_url="https://api.github.com")
    inst = example("apps.get-repo-installation")
    inst["id"] = 5
    token = example("apps.create-installation-access-token", "201")
    token.update(token=TOKEN, expires_at="2099-01-01T00:00:00Z")
    rsps.get(f"{API}/app/installations", json=[inst])
    rsps.post(f"{API}/app/installations/5/access_tokens", json=token, status=201)
    rsps.get(f"{API}/installation/repositories",
             json={"total_count": 1, "repositories": [{"full_name": "o/r"}]})
    assert app_mod.app_installations(settings, retry=None, seconds_between_requests=None) == [(5, ["o/r"])]
    assert calls(rsps) == ["GET /app/installations?per_page=100", "POST /app/installations/5/access_tokens",
                           "GET /installation/repositories?per_page=100"]


def test_dispatch_through_the_adapter_sends_exactly_these_requests(rsps):
    """One-agent dispatch end to end over HTTP: every request the use case makes, in order."""
    from service.usecases import reconcile_plan

    base, empty = "b" * 40, "c" * 40
    issue = example("issues.get")
    issue.update(number=43, state="open", labels=[{"name": "dispatch"}], pull_request=None,
                 body="```yaml dispatch\nagents:\n  - {name: cli, territory: [/tools/cli/]}\n```\n")
    issue.pop("pull_request")
    repo = example("repos.get")
    repo.update(full_name="o/r", default_branch="main")
    ref = example("git.get-ref")
    ref["object"]["sha"] = base
    pr = _pull(number=22, changed=0)
    pr["head"].update(ref="wavegate/43/cli", sha=empty)
    created = example("checks.create", "201", "example-of-completed-conclusion")
    comment = example("issues.create-comment", "201")
    rsps.get(f"{API}/repos/o/r/issues/43", json=issue)
    rsps.get(f"{API}/repos/o/r/contents/.github/wavegate.yml", status=404, json={"message": "Not Found"})
    rsps.get(f"{API}/repos/o/r/issues/43/comments", json=[])
    rsps.get(f"{API}/repos/o/r", json=repo)
    rsps.get(f"{API}/repos/o/r/git/ref/heads/main", json=ref)
    rsps.get(f"{API}/repos/o/r/git/trees/{base}", json={"sha": "t" * 40, "truncated": False, "tree": [
        {"path": "tools/cli/main.py", "type": "blob", "sha": "1"}]})
    rsps.get(f"{API}/repos/o/r/pulls", json=[])
    rsps.get(f"{API}/repos/o/r/git/ref/heads/wavegate/43/cli", status=404, json={"message": "Not Found"})
    rsps.post(f"{API}/repos/o/r/git/commits", status=201, json={"sha": empty},
              match=[matchers.json_params_matcher({"tree": "t" * 40, "parents": [base]}, strict_match=False)])
    rsps.post(f"{API}/repos/o/r/git/refs", status=201, json=example("git.create-ref", "201"),
              match=[matchers.json_params_matcher({"ref": "refs/heads/wavegate/43/cli", "sha": empty})])
    rsps.post(f"{API}/repos/o/r/pulls", status=201, json=pr,
              match=[matchers.json_params_matcher({"head": "wavegate/43/cli", "base": "main"}, strict_match=False)])
    rsps.post(f"{API}/repos/o/r/check-runs", status=201, json=created,
              match=[matchers.json_params_matcher({"head_sha": empty, "status": "completed"}, strict_match=False)])
    rsps.post(f"{API}/repos/o/r/issues/43/comments", status=201, json=comment)
    reconcile_plan(port(bot_login="wavegate[bot]"), "o/r", 43)
    assert calls(rsps) == [
        "GET /repos/o/r/issues/43",
        "GET /repos/o/r/contents/.github/wavegate.yml",
        "GET /repos/o/r/issues/43/comments?per_page=100",
        "GET /repos/o/r",
        "GET /repos/o/r/git/ref/heads/main",
        f"GET /repos/o/r/git/trees/{base}?recursive=1",
        "GET /repos/o/r/pulls?direction=desc&per_page=100&sort=created&state=all",
        "GET /repos/o/r/git/ref/heads/wavegate/43/cli",
        "POST /repos/o/r/git/commits",
        "POST /repos/o/r/git/refs",
        "POST /repos/o/r/pulls",
        "POST /repos/o/r/check-runs",
        "POST /repos/o/r/check-runs",
        "POST /repos/o/r/issues/43/comments",
    ]


# --------------------------------------------------------------------------- API budget


def test_a_repeated_read_is_conditional_and_a_304_gives_the_kept_answer(rsps):
    etag = 'W/"abc"'
    rsps.get(f"{API}/repos/o/r/pulls/31", json=_pull(), headers={"ETag": etag})
    rsps.get(f"{API}/repos/o/r/pulls/31", status=304, body=b"", headers={"ETag": etag},
             match=[matchers.header_matcher({"If-None-Match": etag})])
    changed = _pull()
    changed["head"]["sha"] = "d" * 40
    rsps.get(f"{API}/repos/o/r/pulls/31", json=changed, headers={"ETag": 'W/"new"'},
             match=[matchers.header_matcher({"If-None-Match": etag})])
    p = port(key="etag-test")
    assert p.get_pull("o/r", 31).head_sha == "a" * 40
    assert p.get_pull("o/r", 31).head_sha == "a" * 40  # 304: the kept answer
    assert p.get_pull("o/r", 31).head_sha == "d" * 40  # 200: the new answer replaces it
    assert calls(rsps) == ["GET /repos/o/r/pulls/31"] * 3


def test_a_branch_head_read_by_one_process_is_read_conditionally_by_another(rsps, monkeypatch):
    from service import queueing
    from tests.redisdb import redis_url

    conn = queueing.connect(redis_url(11))
    try:
        conn.ping()
    except Exception:  # noqa: BLE001
        pytest.skip("no Redis")
    etag = 'W/"ref1"'
    ref = {"ref": "refs/heads/main", "object": {"sha": "b" * 40, "type": "commit"}}
    url = f"{API}/repos/o/r/git/ref/heads/main"
    rsps.get(url, json=ref, headers={"ETag": etag})
    rsps.get(url, status=304, body=b"", headers={"ETag": etag},
             match=[matchers.header_matcher({"If-None-Match": etag})])
    memo = memo_mod.ChangeMemo(conn, prefix="test:shared")
    try:
        monkeypatch.setattr(memo_mod, "etags", memo_mod.ETagCache())
        assert port(key="ref-test", memo=memo).branch_sha("o/r", "main") == "b" * 40
        monkeypatch.setattr(memo_mod, "etags", memo_mod.ETagCache())  # another worker process
        assert port(key="ref-test", memo=memo).branch_sha("o/r", "main") == "b" * 40  # a 304
        assert [c.response.status_code for c in rsps.calls] == [200, 304]
    finally:
        for key in conn.scan_iter("test:shared:*"):
            conn.delete(key)


def test_the_etag_cache_forgets_the_least_recently_used():
    cache = memo_mod.ETagCache(size=2)
    cache.put(("a",), "1", {}, 1)
    cache.put(("b",), "2", {}, 2)
    assert cache.get(("a",))  # a is now the most recent
    cache.put(("c",), "3", {}, 3)
    assert cache.get(("b",)) is None and cache.get(("a",)) and cache.get(("c",))


def test_one_installation_token_per_process(rsps, monkeypatch):
    monkeypatch.setattr(app_mod, "_clients", {})
    settings = SimpleNamespace(app_id=1, private_key=_pem(), github_api_url="https://api.github.com",
                               dry_run=False, app_slug="wavegate")
    token = example("apps.create-installation-access-token", "201")
    token.update(token=TOKEN, expires_at="2099-01-01T00:00:00Z")
    rsps.post(f"{API}/app/installations/5/access_tokens", json=token, status=201)
    rsps.get(f"{API}/repos/o/r/issues/9", json=example("issues.get"))
    rsps.get(f"{API}/repos/o/r/issues/10", json=example("issues.get"))
    app_mod.github_for_installation(settings, 5).get_issue("o/r", 9)  # one job
    app_mod.github_for_installation(settings, 5).get_issue("o/r", 10)  # the next job, same process
    assert calls(rsps) == ["POST /app/installations/5/access_tokens", "GET /repos/o/r/issues/9",
                           "GET /repos/o/r/issues/10"]


def test_recent_pulls_is_one_request(rsps):
    listed = example("pulls.list")
    rsps.get(f"{API}/repos/o/r/pulls", json=listed,
             match=[matchers.query_param_matcher({"state": "all", "sort": "created", "direction": "desc",
                                                  "per_page": "100"})])
    pulls = port().recent_pulls("o/r")
    assert [p.number for p in pulls] == [d["number"] for d in listed]
    assert len(rsps.calls) == 1


def test_branch_heads_lists_the_matching_branches_once(rsps):
    ref = example("git.get-ref")
    ref.update(ref="refs/heads/wavegate/42/docs")
    ref["object"]["sha"] = "e" * 40
    rsps.get(f"{API}/repos/o/r/git/matching-refs/heads/wavegate/42/", json=[ref])
    assert port().branch_heads("o/r", "wavegate/42/") == {"wavegate/42/docs": "e" * 40}
    assert calls(rsps) == ["GET /repos/o/r/git/matching-refs/heads/wavegate/42/"]


def test_a_listed_pull_is_read_for_its_file_count_before_its_files(rsps):
    rsps.get(f"{API}/repos/o/r/pulls/31", json=_pull(changed=1))
    rsps.get(f"{API}/repos/o/r/pulls/31/files", json=[_file("a.py")])
    listed = parse.pull({**_pull(), "changed_files": None})
    changes = port().pull_changes("o/r", listed)
    assert changes.source is FileSource.FILES and changes.changed == 1
    assert calls(rsps) == ["GET /repos/o/r/pulls/31", "GET /repos/o/r/pulls/31/files?per_page=100"]


def test_failed_deliveries_follow_the_cursor_pages_up_to_a_bound(rsps):
    """GitHub pages ``/app/hook/deliveries`` newest first with a ``cursor`` in the ``Link``
    header (the emulator does the same): 9 deliveries, 3 a page, odd ids failed."""
    settings = SimpleNamespace(app_id=1, private_key=_pem(), github_api_url="https://api.github.com")

    def answer(request):
        cursor = int(dict(re.findall(r"(\w+)=(\w+)", request.url.split("?", 1)[-1])).get("cursor", 10))
        ids = [i for i in range(9, 0, -1) if i < cursor][:3]
        items = [{"id": i, "guid": f"G-{i}", "event": "issues", "status_code": 502 if i % 2 else 202,
                  "redelivery": False, "delivered_at": "2026-01-01T00:00:00Z"} for i in ids]
        headers = {"Link": f'<https://api.github.com/app/hook/deliveries?per_page=100&cursor={ids[-1]}>; '
                           'rel="next"'} if ids[-1] > 1 else {}
        return 200, headers, json.dumps(items)

    rsps.add_callback(responses.GET, f"{API}/app/hook/deliveries", callback=answer)
    failed = app_mod.list_failed_deliveries(settings, pages=2, retry=None, seconds_between_requests=None)
    assert [d.id for d in failed] == [9, 7, 5]  # two pages read, not three
    assert len(rsps.calls) == 2 and "cursor=7" in rsps.calls[1].request.url
    everything = app_mod.list_failed_deliveries(settings, retry=None, seconds_between_requests=None)
    assert [d.id for d in everything] == [9, 7, 5, 3, 1]
    assert len(rsps.calls) == 2 + 3


def test_change_sets_are_memoised_by_head_and_base_head(rsps, monkeypatch):
    monkeypatch.setattr(memo_mod, "_local_changes", memo_mod.Lru(memo_mod.CHANGES_ENTRIES))
    rsps.get(f"{API}/repos/o/r/pulls/31/files", json=[_file("a.py"), _file("b.py", "added")])
    rsps.get(f"{API}/repos/o/r/pulls/31", json=_pull())  # the head is confirmed before storing
    pull = parse.pull(_pull())
    first = port(key="7").pull_changes("o/r", pull, base_sha="b" * 40)
    again = port(key="7").pull_changes("o/r", pull, base_sha="b" * 40)  # another job: no request
    assert again == first and [f.path for f in first.files] == ["a.py", "b.py"]
    assert calls(rsps) == ["GET /repos/o/r/pulls/31/files?per_page=100", "GET /repos/o/r/pulls/31"]


def test_a_known_change_set_is_memoised_without_a_request(rsps, monkeypatch):
    monkeypatch.setattr(memo_mod, "_local_changes", memo_mod.Lru(memo_mod.CHANGES_ENTRIES))
    pull = parse.pull(_pull())
    empty = ChangeSet(files=(), source=FileSource.FILES, listed=0, changed=0)
    assert port(key="7").pull_changes("o/r", pull, base_sha="b" * 40, known=empty) == empty
    assert port(key="7").pull_changes("o/r", pull, base_sha="b" * 40) == empty  # another job
    assert calls(rsps) == []


def test_a_change_set_is_not_memoised_when_the_head_moved_meanwhile(rsps, monkeypatch):
    monkeypatch.setattr(memo_mod, "_local_changes", memo_mod.Lru(memo_mod.CHANGES_ENTRIES))
    moved = _pull(changed=1)
    moved["head"]["sha"] = "f" * 40
    rsps.get(f"{API}/repos/o/r/pulls/31/files", json=[_file("a.py")])
    rsps.get(f"{API}/repos/o/r/pulls/31", json=moved)
    rsps.get(f"{API}/repos/o/r/pulls/31/files", json=[_file("a.py")])
    rsps.get(f"{API}/repos/o/r/pulls/31", json=moved)
    pull = parse.pull(_pull(changed=1))
    port(key="7").pull_changes("o/r", pull, base_sha="b" * 40)
    port(key="7").pull_changes("o/r", pull, base_sha="b" * 40)  # listed again: nothing was kept
    assert len(rsps.calls) == 4


def test_the_change_memo_is_shared_through_redis(monkeypatch):
    from service import queueing
    from tests.redisdb import redis_url

    conn = queueing.connect(redis_url(11))
    try:
        conn.ping()
    except Exception:  # noqa: BLE001
        pytest.skip("no Redis")
    monkeypatch.setattr(memo_mod, "_local_changes", memo_mod.Lru(memo_mod.CHANGES_ENTRIES))
    changes = ChangeSet(files=(ChangedFile("x/a.py", "renamed", "x/b.py"),),
                               source=FileSource.TREE, listed=1, changed=1)
    memo_mod.ChangeMemo(conn, prefix="test:changes").put("k1", changes)
    monkeypatch.setattr(memo_mod, "_local_changes", memo_mod.Lru(memo_mod.CHANGES_ENTRIES))  # another worker process
    try:
        assert memo_mod.ChangeMemo(conn, prefix="test:changes").get("k1") == changes
        assert 0 < conn.ttl("test:changes:k1") <= memo_mod.CHANGES_TTL
        monkeypatch.setattr(memo_mod, "_local_changes", memo_mod.Lru(memo_mod.CHANGES_ENTRIES))
        assert memo_mod.ChangeMemo(None).get("k1") is None  # without Redis, this process only
    finally:
        conn.delete("test:changes:k1")


# ------------------------------------------------------------------ GitHub Enterprise Server (GHE_HOST)

GHE = "https://ghe.example.com:443/api/v3"


def test_ghe_host_sends_token_and_api_calls_to_the_enterprise_api(rsps, monkeypatch):
    """``GHE_HOST`` alone: the installation token and every REST call go to ``https://HOST/api/v3``."""
    from service.settings import Settings

    monkeypatch.setattr(app_mod, "_clients", {})
    settings = Settings.from_env({"APP_ID": "1", "PRIVATE_KEY": _pem(), "WEBHOOK_SECRET": "s",
                                  "GHE_HOST": "ghe.example.com"})
    token = example("apps.create-installation-access-token", "201")
    token.update(token=TOKEN, expires_at="2099-01-01T00:00:00Z")
    rsps.post(f"{GHE}/app/installations/5/access_tokens", json=token, status=201)
    rsps.get(f"{GHE}/repos/o/r/issues/9", json=example("issues.get"))
    app_mod.github_for_installation(settings, 5).get_issue("o/r", 9)
    assert [c.request.url for c in rsps.calls] == [f"{GHE}/app/installations/5/access_tokens",
                                                   f"{GHE}/repos/o/r/issues/9"]


@pytest.mark.parametrize(("api_url", "ghe_host", "base"), [
    ("https://api.github.com", None, "https://api.github.com"),
    ("https://api.github.com", "ghe.example.com", "https://ghe.example.com/api/v3"),
    ("https://ghe.example.com/api/v3/", "ghe.example.com", "https://ghe.example.com/api/v3"),
    ("http://127.0.0.1:9000", "ghe.example.com", "http://127.0.0.1:9000"),  # an explicit GITHUB_API_URL wins
])
def test_api_base_follows_ghe_host_unless_an_api_url_is_given(api_url, ghe_host, base):
    assert app_mod.api_base(SimpleNamespace(github_api_url=api_url, ghe_host=ghe_host)) == base


def test_ghe_host_app_calls_use_the_enterprise_api(rsps):
    settings = SimpleNamespace(app_id=1, private_key=_pem(), github_api_url="https://api.github.com",
                               ghe_host="ghe.example.com")
    rsps.post(f"{GHE}/app/hook/deliveries/77/attempts", status=202, json={})
    app_mod.redeliver(settings, 77, retry=None, seconds_between_requests=None)
    assert [c.request.url for c in rsps.calls] == [f"{GHE}/app/hook/deliveries/77/attempts"]


def test_ghe_host_registration_page_posts_to_the_enterprise_server():
    from service.registration import registration_url
    from service.settings import SetupSettings

    settings = SetupSettings.from_env({"GHE_HOST": "ghe.example.com"})
    assert registration_url(settings, "s1") == "https://ghe.example.com/settings/apps/new?state=s1"
    assert settings.github_api_url == "https://ghe.example.com/api/v3"
