"""``handle_command``: permission, refresh, skip, cancel, unknown commands."""

import pytest

from service.core.model import GATE_CHECK
from service.usecases import handle_command, reconcile_repository

from .fakes import REPO, dispatched, plan_body

PLAN = """
agents:
  - {name: api, territory: [/services/api/]}
  - {name: web, wave: 2, territory: [/apps/web/]}
"""


@pytest.fixture
def fake():
    return dispatched(plan_body(PLAN))


def test_refused_for_a_reader(fake):
    fake.roles["reader"] = "read"
    cid = fake.add_comment(42, "/wavegate cancel", user="reader")
    handle_command(fake, REPO, 42, cid, "reader")
    assert "reader" in fake.comments_on(42)[-1].body
    assert fake.latest(fake.pulls[21].head_sha, GATE_CHECK).status == "in_progress"


def test_skip_unlocks_the_dependants(fake):
    cid = fake.add_comment(42, "/wavegate skip api")
    handle_command(fake, REPO, 42, cid, "maintainer-1")
    assert fake.reactions == [(cid, "+1")]
    assert fake.latest(fake.pulls[21].head_sha, GATE_CHECK).conclusion == "success"
    dash = fake.comments_on(42)[0].body
    assert '"skipped":["api"]' in dash
    fake.calls.clear()
    reconcile_repository(fake, REPO)  # the skip is remembered in the dashboard
    assert fake.count("write") == 0


def test_cancel_turns_gates_green_and_marks_the_dashboard(fake):
    cid = fake.add_comment(42, "/wavegate cancel")
    handle_command(fake, REPO, 42, cid, "maintainer-1")
    gate = fake.latest(fake.pulls[21].head_sha, GATE_CHECK)
    assert gate.conclusion == "success" and "cancel" in gate.title
    assert "cancelled" in fake.comments_on(42)[0].body


@pytest.mark.parametrize(("text", "expect"), [("/wavegate frobnicate", "/wavegate refresh"),
                                              ("/wavegate skip nobody", "`nobody`"),
                                              ("/wavegate skip", "/wavegate skip AGENT")])
def test_unknown_gets_help(fake, text, expect):
    cid = fake.add_comment(42, text)
    handle_command(fake, REPO, 42, cid, "maintainer-1")
    reply = fake.comments_on(42)[-1]
    assert reply.user == "wavegate[bot]" and expect in reply.body
    assert fake.reactions and (cid, "+1") not in fake.reactions  # confused (help) or -1 (refused)
    assert '"skipped":[]' in fake.comments_on(42)[0].body


def test_own_comment_and_no_command(fake):
    cid = fake.add_comment(42, "<!-- wavegate dashboard -->", user="wavegate[bot]")
    assert handle_command(fake, REPO, 42, cid, "wavegate[bot]") == "own comment"
    cid = fake.add_comment(42, "looks good")
    assert handle_command(fake, REPO, 42, cid, "maintainer-1") == "no command"
    assert fake.count("write") == 0


def test_refresh_rewrites_nothing_when_nothing_changed(fake):
    cid = fake.add_comment(42, "/wavegate refresh")
    handle_command(fake, REPO, 42, cid, "maintainer-1")
    assert fake.count("write") == 1 and fake.reactions == [(cid, "+1")]


def test_commands_on_other_issues_are_ignored(fake):
    fake.add_issue(99, "just an issue", labels=())
    fake.roles["reader"] = "read"
    cid = fake.add_comment(99, "/wavegate cancel", user="reader")
    assert handle_command(fake, REPO, 99, cid, "reader") == "not a dispatch issue"
    assert fake.count("write") == 0 and fake.count("read", "permission") == 0
