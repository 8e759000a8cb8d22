"""The worker's start-up check of the registered App (GET /app)."""

from __future__ import annotations

import io
import json
import logging

import pytest
import yaml

from service import logs, startup
from tests.conftest import ROOT

APP_YML = yaml.safe_load((ROOT / "app.yml").read_text())


@pytest.mark.parametrize(("change", "problem"), [
    (lambda p, e: p.pop("merge_queues"), "permission merge_queues: read missing"),
    (lambda p, e: p.update(checks="read"), "permission checks: write missing"),
    (lambda p, e: e.remove("merge_group"), "event merge_group not subscribed"),
    (lambda p, e: e.remove("issue_comment"), "event issue_comment not subscribed"),
])
def test_app_problems_names_what_the_registration_lacks(change, problem):
    granted, events = dict(APP_YML["default_permissions"]), list(APP_YML["default_events"])
    assert startup.app_problems(granted, events) == []
    change(granted, events)
    assert startup.app_problems(granted, events) == [problem]


def capture(fetch) -> tuple[list[str], list[dict]]:
    stream = io.StringIO()
    handler = logs.configure("INFO", stream=stream)
    try:
        problems = startup.check_app(object(), fetch=fetch)
    finally:
        logging.getLogger().removeHandler(handler)
    return problems, [json.loads(line) for line in stream.getvalue().splitlines()]


def test_check_app_warns_once_naming_the_missing_permission():
    problems, lines = capture(lambda s: ({"checks": "write"}, ["issues"]))
    assert "permission merge_queues: read missing" in problems
    assert [line["event"] for line in lines] == ["app_registration_incomplete"]
    assert lines[0]["level"] == "warning" and lines[0]["problems"] == problems


def test_check_app_never_raises():
    def fail(settings):
        raise ConnectionError("GitHub unreachable")

    problems, lines = capture(fail)
    assert problems == [] and [line["event"] for line in lines] == ["app_check_failed"]


def test_a_complete_registration_is_logged_as_ok():
    problems, lines = capture(lambda s: (APP_YML["default_permissions"], APP_YML["default_events"]))
    assert problems == [] and [line["event"] for line in lines] == ["app_registration_ok"]
