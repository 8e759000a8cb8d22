"""``/wavegate`` commands in issue comments (DESIGN §3.5)."""

from __future__ import annotations

import pytest

from service.core.commands import Command, parse_commands


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
