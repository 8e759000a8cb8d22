"""The payload fields a job relies on (``service.payload_fields``): every payload GitHub recorded
passes; a field of the wrong type or range is named; the table covers every routed event."""

from __future__ import annotations

import copy
import json

import pytest

from service import payload_fields
from service.payload_fields import FIELDS, UNRECORDED_FIELDS, FieldProblem, check
from service.routes import TABLE

from .conftest import WEBHOOKS, fixture_files


def payload_of(name: str) -> dict:
    return json.loads((WEBHOOKS / name).read_text(encoding="utf-8"))


def event_of(name: str) -> str:
    return name.split("/", 1)[0]


def routed(name: str) -> bool:
    return TABLE.get((event_of(name), payload_of(name).get("action") or "")) is not None


@pytest.mark.parametrize("name", fixture_files())
def test_every_recorded_github_payload_passes(name):
    assert check(event_of(name), payload_of(name)) is None


def test_the_recorded_payloads_exercise_every_checked_event():
    # Without routed payloads among the recordings, the test above would pass vacuously.
    events = {event_of(name) for name in fixture_files() if routed(name)}
    assert events == set(FIELDS)


def test_every_routed_event_has_its_fields_and_no_other_event_does():
    routed_events = {event for (event, _action), rule in TABLE.items() if rule is not None}
    assert set(FIELDS) | set(UNRECORDED_FIELDS) == routed_events


def with_value(payload: dict, path: str, value) -> dict:
    """A copy of ``payload`` with ``path`` (``a.b``, ``a.list[0].c``) set to ``value``."""
    out = copy.deepcopy(payload)
    node = out
    parts = path.replace("[", ".[").split(".")
    for part in parts[:-1]:
        node = node[int(part[1:-1])] if part.startswith("[") else node.setdefault(part, {})
    last = parts[-1]
    if last.startswith("["):
        node[int(last[1:-1])] = value
    else:
        node[last] = value
    return out


PR_NUMBERS = {"number": 7, "id": 1, "head": {"sha": "a" * 40}}
BAD = [
    # (fixture, path set, value, field named, expected)
    ("issues/labeled.json", "issue.number", -5, "issue.number", "a positive integer"),
    ("issues/labeled.json", "issue.number", 0, "issue.number", "a positive integer"),
    ("issues/labeled.json", "issue.number", "1", "issue.number", "a positive integer"),
    ("issues/labeled.json", "issue.number", True, "issue.number", "a positive integer"),
    ("issues/labeled.json", "issue.number", 1.0, "issue.number", "a positive integer"),
    ("issues/labeled.json", "issue.number", 1 << 63, "issue.number", "a positive integer"),
    ("issues/labeled.json", "issue", "x", "issue", "an object"),
    ("issues/labeled.json", "installation.id", "abc", "installation.id", "a positive integer"),
    ("issues/labeled.json", "installation.id", "123", "installation.id", "a positive integer"),
    ("issues/labeled.json", "installation", 5, "installation", "an object"),
    ("issues/labeled.json", "repository", 5, "repository", "an object"),
    ("issues/labeled.json", "repository.full_name", "o", "repository.full_name", "a repository full name (owner/name)"),
    ("issues/labeled.json", "repository.full_name", "o/r/../x", "repository.full_name",
     "a repository full name (owner/name)"),
    ("issues/labeled.json", "repository.full_name", "o/..", "repository.full_name",
     "a repository full name (owner/name)"),
    ("issues/labeled.json", "sender.login", "../../admin", "sender.login", "a GitHub login"),
    ("issues/labeled.json", "sender.login", 42, "sender.login", "a GitHub login"),
    ("issues/labeled.json", "action", ["labeled"], "action", "a string"),
    ("issue_comment/created.with-installation.json", "comment.id", False, "comment.id", "a positive integer"),
    ("issue_comment/created.with-installation.json", "comment.body", 1, "comment.body", "a string"),
    ("pull_request/synchronize.json", "pull_request.head.sha", "a" * 39, "pull_request.head.sha",
     "a 40-character hexadecimal SHA"),
    ("pull_request/synchronize.json", "pull_request.head.sha", "A" * 40, "pull_request.head.sha",
     "a 40-character hexadecimal SHA"),
    ("pull_request/synchronize.json", "pull_request.head.sha", "g" * 40, "pull_request.head.sha",
     "a 40-character hexadecimal SHA"),
    ("pull_request/synchronize.json", "pull_request.head", [], "pull_request.head", "an object"),
    ("pull_request/synchronize.json", "number", -1, "number", "a positive integer"),
    ("pull_request/synchronize.json", "pull_request.number", "2", "pull_request.number", "a positive integer"),
    ("pull_request/edited.json", "changes", "base", "changes", "an object"),
    ("check_run/rerequested.json", "check_run.head_sha", "a" * 41, "check_run.head_sha",
     "a 40-character hexadecimal SHA"),
    ("check_run/rerequested.json", "check_run.pull_requests", {"number": 1}, "check_run.pull_requests", "a list"),
    ("check_run/rerequested.json", "check_run.pull_requests", [PR_NUMBERS, {"number": -2}],
     "check_run.pull_requests[1].number", "a positive integer"),
    ("check_run/rerequested.json", "check_run.pull_requests", [7], "check_run.pull_requests[0]", "an object"),
    ("check_run/rerequested.json", "check_run.name", ["wavegate/territory"], "check_run.name", "a string"),
    ("check_run/rerequested.json", "check_run.app.id", "29310", "check_run.app.id", "a positive integer"),
    ("check_suite/rerequested.json", "check_suite.head_sha", 7, "check_suite.head_sha",
     "a 40-character hexadecimal SHA"),
    ("check_suite/rerequested.json", "check_suite.pull_requests", [{"number": True}],
     "check_suite.pull_requests[0].number", "a positive integer"),
    ("merge_group/checks_requested.json", "merge_group.head_sha", "", "merge_group.head_sha",
     "a 40-character hexadecimal SHA"),
    ("merge_group/checks_requested.json", "merge_group.base_sha", "a" * 39, "merge_group.base_sha",
     "a 40-character hexadecimal SHA"),
    ("merge_group/checks_requested.json", "merge_group.head_ref", "main branch", "merge_group.head_ref",
     "a git ref (refs/…)"),
    ("merge_group/checks_requested.json", "merge_group.head_ref", 3, "merge_group.head_ref", "a git ref (refs/…)"),
]


@pytest.mark.parametrize(("fixture", "path", "value", "field", "expected"), BAD,
                         ids=[f"{b[1]}={b[2]!r}"[:60] for b in BAD])
def test_a_bad_field_is_named(fixture, path, value, field, expected):
    payload = with_value(payload_of(fixture), path, value)
    problem = check(event_of(fixture), payload)
    assert isinstance(problem, FieldProblem)
    assert (problem.field, problem.expected) == (field, expected)
    assert problem.message.startswith(f"{field}: expected {expected}, got ")


@pytest.mark.parametrize(("value", "got"), [
    (-5, "-5"), (True, "true"), ("abc", "a string of 3 characters"), ("", "an empty string"),
    (1.5, "a number with a fraction"), (2.0, "a floating-point number"), ([1], "a list"), ({}, "an object"),
    (-(10**15), "an integer out of range"),
])
def test_the_answer_describes_the_value_without_echoing_text(value, got):
    problem = check("issues", with_value(payload_of("issues/labeled.json"), "issue.number", value))
    assert problem == FieldProblem("issue.number", "a positive integer", got)


def test_the_message_is_what_github_s_delivery_log_shows():
    problem = check("issues", with_value(payload_of("issues/labeled.json"), "issue.number", -5))
    assert problem.message == "issue.number: expected a positive integer, got -5"


@pytest.mark.parametrize("path", ["installation", "installation.id", "issue.number", "sender", "sender.login"])
def test_an_absent_or_null_field_is_left_to_the_route(path):
    payload = payload_of("issues/labeled.json")
    assert check("issues", with_value(payload, path, None)) is None
    parent, _, key = path.rpartition(".")
    trimmed = with_value(payload, path, None)
    (trimmed[parent] if parent else trimmed).pop(key)
    assert check("issues", trimmed) is None


@pytest.mark.parametrize(("event", "payload"), [
    ("issue_comment", {"action": "edited", "issue": {"number": -5}}),  # not routed
    ("push", {"after": "short", "installation": {"id": "x"}}),  # not routed
    ("merge_group", {"action": "destroyed", "merge_group": {"head_sha": "x"}}),  # routed to no job
    ("sponsorship", {"action": ["x"]}),
    ("ping", {"hook_id": "x"}),
])
def test_deliveries_no_job_reads_are_not_checked(event, payload):
    assert check(event, payload) is None


@pytest.mark.parametrize("login", ["octocat", "wavegate[bot]", "dependabot[bot]", "a-b", "jdoe_acme", "0"])
def test_logins_github_gives(login):
    assert check("issues", with_value(payload_of("issues/labeled.json"), "sender.login", login)) is None


@pytest.mark.parametrize("name", ["o/r", "octo-org/.github", "Codertocat/Hello-World", "a/b.c_d-e"])
def test_repository_names_github_gives(name):
    payload = with_value(payload_of("issues/labeled.json"), "repository.full_name", name)
    assert check("issues", payload) is None


@pytest.mark.parametrize("junk", [[], "text", 1, None, {"action": {"x": 1}}, {"issue": [1, 2]}])
def test_any_json_gives_an_answer_not_an_exception(junk):
    for event in ("issues", *FIELDS):
        payload = junk if isinstance(junk, dict) else {"action": "labeled", "issue": junk, "installation": junk}
        result = check(event, payload)
        assert result is None or isinstance(result, FieldProblem)


def test_the_kinds_reject_bool_for_int():
    assert payload_fields.POSITIVE_INT.accepts(1) and not payload_fields.POSITIVE_INT.accepts(True)


def test_the_cost_benchmark_measures_every_routed_recording():
    from bench.payload_fields import check_cost

    costs = check_cost(number=5)
    assert set(costs) == {name for name in fixture_files() if routed(name)}
    assert all(value > 0 for value in costs.values())
