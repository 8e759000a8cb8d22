"""The ``launch`` section of ``.github/wavegate.yml`` (DESIGN §2.5, §3.8)."""

from __future__ import annotations

import pytest

from service.core.config import parse_config
from service.core.launch import NO_LAUNCH, LaunchSettings, Via
from service.core.model import RepoConfig


def test_no_launch_section_starts_nothing():
    assert parse_config("strict: true").launch is None
    assert RepoConfig().launch is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("launch:\n  via: workflow\n  workflow: wavegate-agent.yml\n",
         LaunchSettings(Via.WORKFLOW, workflow="wavegate-agent.yml")),
        ("launch:\n  via: workflow\n  workflow: 161335\n", LaunchSettings(Via.WORKFLOW, workflow="161335")),
        ("launch:\n  via: comment\n  comment: \"@claude\"\n", LaunchSettings(Via.COMMENT, comment="@claude")),
        ("launch:\n  via: copilot\n", LaunchSettings(Via.COPILOT)),
        ("launch:\n  via: none\n", NO_LAUNCH),
        ("launch: none", NO_LAUNCH),
        ("launch: off", NO_LAUNCH),
        ("launch: {via: none, workflow: codex.yaml}", LaunchSettings(Via.NONE, workflow="codex.yaml")),
        ("launch: copilot", LaunchSettings(Via.COPILOT)),
        # Defaults for agents that pick another way in the plan: both keys may be given.
        ("launch:\n  via: comment\n  comment: '@codex'\n  workflow: a.yml\n",
         LaunchSettings(Via.COMMENT, workflow="a.yml", comment="@codex")),
    ],
)
def test_valid_settings(text, expected):
    assert parse_config(text) == RepoConfig(launch=expected)


def test_launch_sits_beside_the_other_settings():
    config = parse_config("strict: true\nlaunch:\n  via: copilot\nlabel: go\n")
    assert config == RepoConfig(strict=True, label="go", launch=LaunchSettings(Via.COPILOT))


@pytest.mark.parametrize(
    "text, code, field, line, words",
    [
        ("launch:\n  via: worklow\n", "invalid-setting", "launch.via", 2, "did you mean `workflow`?"),
        ("launch:\n  via: github\n", "invalid-setting", "launch.via", 2, "`none`, `workflow`, `comment`, `copilot`"),
        ("launch:\n  via: [workflow]\n", "wrong-type", "launch.via", 2, "not a list"),
        ("launch:\n  via: workflow\n", "invalid-setting", "launch", 2, "names no `workflow`"),
        ("launch: workflow", "invalid-setting", "launch", 1, "names no `workflow`"),
        ("launch:\n  via: comment\n", "invalid-setting", "launch", 2, "names no `comment`"),
        ("launch:\n  workflow: a.yml\n", "invalid-setting", "launch", 2, "needs `via`"),
        ("launch:\n  via: workflow\n  workflow: .github/workflows/a.yml\n", "invalid-setting", "launch.workflow", 3,
         "without its folder"),
        ("launch:\n  via: workflow\n  workflow: agent\n", "invalid-setting", "launch.workflow", 3, "neither"),
        ("launch:\n  via: workflow\n  workflow:\n", "wrong-type", "launch.workflow", 3, "not empty"),
        ("launch:\n  via: comment\n  comment: ''\n", "wrong-type", "launch.comment", 3, "mention"),
        ("launch:\n  via: comment\n  comment: \"" + "x" * 101 + "\"\n", "invalid-setting", "launch.comment", 3,
         "one line of at most 100"),
        ("launch:\n  via: comment\n  comment: |\n    @a\n    @b\n", "invalid-setting", "launch.comment", 3, "one line"),
        ("launch:\n  via: copilot\n  vai: x\n", "unknown-key", "launch.vai", 3, "did you mean `via`?"),
        ("launch:\n  via: copilot\n  token: x\n", "unknown-key", "launch.token", 3, "`via`, `workflow`, `comment`"),
        ("launch:\n  via: copilot\n  via: none\n", "duplicate-key", "launch", 2, "duplicate key `via`"),
        ("launch: 3", "invalid-setting", "launch", 1, "`3` is not a way"),
        ("launch:", "wrong-type", "launch", 1, "not empty"),
        ("launch: [workflow]", "wrong-type", "launch", 1, "not a list"),
        ("lanch:\n  via: copilot\n", "unknown-key", "lanch", 1, "did you mean `launch`?"),
    ],
)
def test_invalid_settings_are_problems(text, code, field, line, words):
    problems = parse_config(text)
    assert isinstance(problems, list) and len(problems) == 1, problems
    p = problems[0]
    assert (p.code, p.field, p.line) == (code, field, line)
    assert words in p.message + " " + p.fix
    assert p.message.startswith(".github/wavegate.yml: ")
    assert p.fix


def test_launch_problems_join_the_other_settings_problems():
    problems = parse_config("strict: maybe\nlaunch:\n  via: workflow\n")
    assert [(p.field, p.line) for p in problems] == [("strict", 1), ("launch", 3)]
