"""``/wavegate`` commands in issue comments (DESIGN §3.5)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from service.core import report_commands
from service.core.commands import ALLOW_ROLE, Command, authorize, parse_commands
from service.core.report_commands import Answer
from tests.goldens import assert_golden


@pytest.mark.parametrize(
    "body, expected",
    [
        ("/wavegate refresh", [Command("refresh", (), "/wavegate refresh")]),
        ("/WaveGate REFRESH\r\n", [Command("refresh", (), "/WaveGate REFRESH")]),
        ("please\n/wavegate skip api\nthanks", [Command("skip", ("api",), "/wavegate skip api")]),
        ("/wavegate skip `API`", [Command("skip", ("api",), "/wavegate skip `API`")]),
        ("/wavegate skip a b", [Command("skip", ("a", "b"), "/wavegate skip a b")]),
        ("/wavegate skip", [Command("unknown", ("skip",), "/wavegate skip", usage="skip")]),
        ("/wavegate cancel", [Command("cancel", (), "/wavegate cancel")]),
        ("/wavegate merge now", [Command("unknown", ("merge", "now"), "/wavegate merge now")]),
        ("/wavegate", [Command("unknown", (), "/wavegate")]),
        ("  /wavegate refresh  ", [Command("refresh", (), "/wavegate refresh")]),
        ("/wavegate refresh\n/wavegate cancel", [Command("refresh", (), "/wavegate refresh"), Command("cancel", (), "/wavegate cancel")]),
    ],
)
def test_commands(body, expected):
    assert parse_commands(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        None,
        "",
        "> /wavegate cancel",
        "  > /wavegate cancel",
        "```\n/wavegate cancel\n```",
        "~~~md\n/wavegate cancel\n~~~",
        "````\n```\n/wavegate cancel\n```\n````",
        "    /wavegate cancel",
        "run `/wavegate cancel` to stop",
        "/wavegateX refresh",
        "see /wavegate refresh",
    ],
)
def test_ignored(body):
    assert parse_commands(body) == []


def test_command_after_a_closed_fence_counts():
    assert parse_commands("```\n/wavegate cancel\n```\n/wavegate refresh")[0].verb == "refresh"


def test_unclosed_fence_swallows_the_rest():
    assert parse_commands("```\n/wavegate cancel") == []


# --------------------------------------------------------------------------- steering commands




def one(line):
    (command,) = parse_commands(line)
    return command


@pytest.mark.parametrize(("line", "verb", "agent", "patterns", "pr", "reason"), [
    ("/wavegate grant api src/x.py", "grant", "api", ("src/x.py",), None, None),
    ("/wavegate grant API src/x.py src/y/ — needs the helper", "grant", "api", ("src/x.py", "src/y/"), None, "needs the helper"),
    ("/wavegate grant api src/x.py—needs it", "grant", "api", ("src/x.py",), None, "needs it"),
    ("/wavegate grant api src/x.py -- needs  the   helper", "grant", "api", ("src/x.py",), None, "needs the helper"),
    ("/wavegate grant api src/x.py - hotfix", "grant", "api", ("src/x.py",), None, "hotfix"),
    ("/wavegate grant api src/x.py – hotfix", "grant", "api", ("src/x.py",), None, "hotfix"),
    ("/wavegate grant api src/a-b.py src/x.py", "grant", "api", ("src/a-b.py", "src/x.py"), None, None),
    ("/wavegate grant api `docs/my notes.md` Src/X.py", "grant", "api", ("docs/my notes.md", "Src/X.py"), None, None),
    ("/wavegate grant api a.py a.py b.py", "grant", "api", ("a.py", "b.py"), None, None),
    ("/wavegate grant api src/x.py —", "grant", "api", ("src/x.py",), None, None),
    ("/wavegate revoke api src/x.py", "revoke", "api", ("src/x.py",), None, None),
    ("/wavegate allow", "allow", None, (), None, None),
    ("/wavegate allow — hotfix for the outage", "allow", None, (), None, "hotfix for the outage"),
    ("/wavegate allow #12 -- hotfix", "allow", None, (), 12, "hotfix"),
    ("/wavegate allow 12", "allow", None, (), 12, None),
    ("/wavegate revoke #12", "revoke-allowance", None, (), 12, None),
    ("/wavegate REVOKE 12 — done", "revoke-allowance", None, (), 12, "done"),
    ("/wavegate relaunch api", "relaunch", None, (), None, None),
    ("/wavegate adopt", "adopt", None, (), None, None),
    ("/wavegate skip api — done by hand", "skip", None, (), None, "done by hand"),
    ("/wavegate cancel — wrong plan", "cancel", None, (), None, "wrong plan"),
])
def test_steering_commands(line, verb, agent, patterns, pr, reason):
    command = one(line)
    assert (command.verb, command.agent, command.patterns, command.pr, command.reason) == (
        verb, agent, patterns, pr, reason)
    assert command.raw == line.strip()


@pytest.mark.parametrize(("line", "args"), [
    ("/wavegate skip api — done by hand", ("api",)),
    ("/wavegate relaunch API `web`", ("api", "web")),
    ("/wavegate cancel now please", ("now", "please")),
])
def test_args_leave_the_reason_out(line, args):
    assert one(line).args == args


@pytest.mark.parametrize(("line", "usage", "suggestion"), [
    ("/wavegate grant api", "grant", None),
    ("/wavegate grant", "grant", None),
    ("/wavegate grant — why", "grant", None),
    ("/wavegate revoke api", "revoke", None),
    ("/wavegate revoke #0", "revoke", None),
    ("/wavegate allow #12 #13", "allow", None),
    ("/wavegate allow api", "allow", None),
    ("/wavegate relaunch", "relaunch", None),
    ("/wavegate grnat api x", None, "grant"),
    ("/wavegate alow #3", None, "allow"),
    ("/wavegate merge now", None, None),
    ("/wavegate", None, None),
])
def test_misused_commands_yield_the_help(line, usage, suggestion):
    command = one(line)
    assert (command.verb, command.usage, command.suggestion) == ("unknown", usage, suggestion)
    assert line in report_commands.command_help(command) or usage in report_commands.command_help(command)


@pytest.mark.parametrize(("line", "role", "allow_role", "allowed", "needed"), [
    ("/wavegate grant api x", "write", "maintain", True, "write"),
    ("/wavegate grant api x", "triage", "maintain", False, "write"),
    ("/wavegate revoke api x", "read", "maintain", False, "write"),
    ("/wavegate relaunch api", "admin", "maintain", True, "write"),
    ("/wavegate adopt", "maintain", "maintain", True, "write"),
    ("/wavegate allow #3", "write", "maintain", False, "maintain"),
    ("/wavegate allow #3", "maintain", "maintain", True, "maintain"),
    ("/wavegate allow #3", "write", "write", True, "write"),
    ("/wavegate revoke #3", "write", "admin", False, "admin"),
    ("/wavegate revoke #3", "admin", "admin", True, "admin"),
    ("/wavegate refresh", "none", "maintain", False, "write"),
    ("/wavegate refresh", "security-manager", "maintain", False, "write"),
    ("/wavegate refresh", None, "maintain", False, "write"),
])
def test_each_command_says_the_role_it_needs(line, role, allow_role, allowed, needed):
    auth = authorize(one(line), role, allow_role)
    assert (auth.allowed, auth.needed) == (allowed, needed)


def test_needs_is_data_for_the_use_case():
    assert one("/wavegate allow #3").needs == ALLOW_ROLE
    assert one("/wavegate allow #3").required_role() == "maintain"
    assert {one(x).needs for x in ("/wavegate grant a b", "/wavegate skip a", "/wavegate adopt")} == {"write"}


@pytest.mark.parametrize(("answer", "content"), [
    (Answer.DONE, "+1"), (Answer.NOTHING_TO_DO, "+1"), (Answer.REFUSED, "-1"), (Answer.UNKNOWN, "confused"),
])
def test_reactions(answer, content):
    assert report_commands.reaction(answer) == content


@pytest.mark.parametrize("patterns", [("src/x.py",), ("a.py", "docs/my notes.md", "b/")])
def test_the_grant_line_parses_back(patterns):
    command = one(report_commands.grant_command("api", patterns))
    assert (command.verb, command.agent, command.patterns) == ("grant", "api", patterns)


# --------------------------------------------------------------------------- golden replies

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
PLAN_BODY = """```yaml dispatch
agents:
  - name: api
    territory: [services/api/]
  - name: cli
    territory: [cli/]
  - name: web
    wave: 2
    territory: [apps/web/]
```
"""


def _replies() -> str:
    from service.core.amend import Action, TerritoryChange, amend, amend_checked
    from service.core.plan import parse_plan

    plan = parse_plan(PLAN_BODY)
    overlap = amend_checked(PLAN_BODY, TerritoryChange(Action.GRANT, "cli", ("services/api/auth.py", "lib/"), "alice", "auth"))
    empty = amend_checked(PLAN_BODY, TerritoryChange(Action.REVOKE, "cli", ("cli/",), "bob"))
    unknown = amend_checked(PLAN_BODY, TerritoryChange(Action.GRANT, "apx", ("x/",), "bob"))
    already = amend(PLAN_BODY, TerritoryChange(Action.GRANT, "cli", ("cli/",), "bob"))
    missing = amend(PLAN_BODY, TerritoryChange(Action.REVOKE, "cli", ("lib/", "docs/"), "bob"))
    texts = {
        "permission_refused grant": report_commands.permission_refused(
            "reader", authorize(one("/wavegate grant api x/"), "read")),
        "permission_refused allow": report_commands.permission_refused(
            "dev", authorize(one("/wavegate allow #12 — hotfix"), "write", "maintain")),
        "amend_refused overlap": report_commands.amend_refused(overlap),
        "amend_refused empty territory": report_commands.amend_refused(empty),
        "amend_refused unknown agent": report_commands.amend_refused(unknown),
        "amend_nothing_to_do grant": report_commands.amend_nothing_to_do(already),
        "amend_nothing_to_do revoke": report_commands.amend_nothing_to_do(missing),
        "allow_needs_pr": report_commands.allow_needs_pr(),
        "no_allowance": report_commands.no_allowance(12),
        "unknown_agent": report_commands.unknown_agent("apx", plan),
        "grant_line": report_commands.grant_line("api", ("docs/api.md", "docs/my notes.md")) + "\n",
    }
    return "".join(f"===== {name}\n{text}\n" for name, text in texts.items())


def _help() -> str:
    cases = {
        "bare": report_commands.command_help(),
        "unknown": report_commands.command_help(one("/wavegate merge now")),
        "misspelt": report_commands.command_help(one("/wavegate grnat api x")),
        "usage grant": report_commands.command_help(one("/wavegate grant api")),
        "usage allow, allow_role admin": report_commands.command_help(one("/wavegate allow api"), "admin"),
    }
    return "".join(f"===== {name}\n{text}\n" for name, text in cases.items())


def _pr_comments() -> str:
    from service.core.amend import Action, TerritoryChange, amend

    granted = amend(PLAN_BODY, TerritoryChange(Action.GRANT, "cli", ("lib/cli.py", "docs/cli.md"), "alice", "shared helper"))
    revoked = amend(granted.body, TerritoryChange(Action.REVOKE, "cli", ("docs/cli.md",), "bob"))
    return (f"===== grant\n{report_commands.territory_changed_comment(granted, 42)}\n"
            f"===== revoke\n{report_commands.territory_changed_comment(revoked, 42)}\n"
            f"===== amended body\n{revoked.body}")


def _allowance_check() -> str:
    from service.core.audit import Allowance
    from service.core.model import PathKind, PathVerdict
    from service.core.version import plan_version

    allowance = Allowance(31, "maintainer-1", T0, "hotfix for the outage")
    paths = (
        PathVerdict("services/api/auth.py", PathKind.CROSSING, owner="api", owner_pr=20, rule="services/api/"),
        PathVerdict("apps/web/index.ts", PathKind.CROSSING, status="added", owner="web", rule="apps/web/"),
    )
    texts = {
        "title": report_commands.allowance_title(allowance, len(paths)) + "\n",
        "title, nothing crossed": report_commands.allowance_title(allowance, 0) + "\n",
        "note": report_commands.allowance_note(allowance, paths),
        "note, nothing crossed": report_commands.allowance_note(Allowance(31, "admin-1", T0), ()),
        "plan version": report_commands.plan_version_line(plan_version("3f2a9c1d0b7e", T0)) + "\n",
        "plan version, no edit time": report_commands.plan_version_line(plan_version("3f2a9c1d0b7e", None)) + "\n",
    }
    return "".join(f"===== {name}\n{text}\n" for name, text in texts.items())


GOLDEN_CASES = {
    "commands-replies": _replies,
    "commands-help": _help,
    "commands-pr-comment": _pr_comments,
    "commands-allowance-check": _allowance_check,
}


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_golden(name):
    assert_golden(name, GOLDEN_CASES[name]())


@pytest.mark.parametrize(("reason", "expected"), [
    ("hotfix", "hotfix"),
    ("ping @org/team", "ping @\u2060org/team"),
    ("<details>x</details>", "&lt;details&gt;x&lt;/details&gt;"),
    ("a  b\tc", "a b c"),
])
def test_reasons_are_repeated_without_html_or_mentions(reason, expected):
    assert report_commands.quoted(reason) == expected
