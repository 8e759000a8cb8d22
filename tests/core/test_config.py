"""Repository settings, ``.github/wavegate.yml`` (DESIGN §2.5)."""

from __future__ import annotations

import pytest

from service.core.config import parse_config, ref_problem
from service.core.model import RepoConfig


@pytest.mark.parametrize("text", [None, "", "  \n", "# only a comment\n", "---\n"])
def test_nothing_gives_the_defaults(text):
    assert parse_config(text) == RepoConfig()


def test_every_setting():
    text = (
        "label: parallel\n"
        "protected: [.github/workflows/, 'deploy/**']\n"
        "strict: true\n"
        "branch_prefix: agents\n"
        "update_branches: false\n"
        "close_issue_when_done: no\n"
    )
    assert parse_config(text) == RepoConfig(
        label="parallel", protected=(".github/workflows/", "deploy/**"), strict=True, branch_prefix="agents",
        update_branches=False, close_issue_when_done=False,
    )


@pytest.mark.parametrize(
    "text, expected",
    [
        ("protected: []", RepoConfig(protected=())),
        ("protected: secrets/", RepoConfig(protected=("secrets/",))),
        ("strict: true\r\nlabel: go\r\n", RepoConfig(strict=True, label="go")),
    ],
)
def test_shorthands(text, expected):
    assert parse_config(text) == expected


@pytest.mark.parametrize(
    "text, code, field, line, words",
    [
        ("stict: true", "unknown-key", "stict", 1, "did you mean `strict`?"),
        ("label: x\nupdate-branches: false", "unknown-key", "update-branches", 2, "did you mean `update_branches`?"),
        ("Label: x", "unknown-key", "Label", 1, "(keys are case-sensitive)"),
        ("color: red", "unknown-key", "color", 1, "`label`"),
        ("strict: 'true'", "wrong-type", "strict", 1, "`true` or `false`"),
        ("update_branches: 1", "wrong-type", "update_branches", 1, "`true` or `false`"),
        ("close_issue_when_done:", "wrong-type", "close_issue_when_done", 1, "not empty"),
        ("label: [a]", "wrong-type", "label", 1, "label name"),
        ("label: ''", "invalid-setting", "label", 1, "`label` is empty"),
        ("label: '  '", "invalid-setting", "label", 1, "`label` is empty"),
        ("label:", "wrong-type", "label", 1, "`label` is empty"),
        ("label: 5", "wrong-type", "label", 1, "not a number"),
        ("label: 1.0", "wrong-type", "label", 1, "`label: \"5\"`"),
        ("label: yes", "wrong-type", "label", 1, "not true/false"),
        ("label: " + "x" * 51, "invalid-setting", "label", 1, "50"),
        ("protected:", "wrong-type", "protected", 1, "`protected: []`"),
        ("protected: {a: b}", "wrong-type", "protected", 1, "list of patterns"),
        ("protected:\n  - ok/\n  - [nested]", "wrong-type", "protected", 3, "pattern string"),
        ("protected:\n  - ok/\n  - ../up", "invalid-pattern", "protected", 3, "`../up`"),
        ("protected: ['!neg']", "invalid-pattern", "protected", 1, "`!neg`"),
        ("branch_prefix: a/b", "invalid-setting", "branch_prefix", 1, "`/`"),
        ("branch_prefix: 'a b'", "invalid-setting", "branch_prefix", 1, "spaces"),
        ("branch_prefix: x.lock", "invalid-setting", "branch_prefix", 1, ".lock"),
        ("branch_prefix: [x]", "wrong-type", "branch_prefix", 1, "string"),
    ],
)
def test_problems(text, code, field, line, words):
    got = parse_config(text)
    assert isinstance(got, list)
    assert [(p.code, p.field, p.line) for p in got] == [(code, field, line)]
    assert words in got[0].message + got[0].fix


@pytest.mark.parametrize(
    "text, code, line",
    [
        ("strict: true\n  label: x: y", "yaml-syntax", 2),
        ("- strict", "wrong-type", 1),
        ("strict: true\nstrict: false", "duplicate-key", 2),
        ("a: &x 1\nb: *x", "yaml-alias", 2),
        ("label: !!python/name:os.system x", "yaml-tag", 1),
    ],
)
def test_unreadable_files(text, code, line):
    got = parse_config(text)
    assert isinstance(got, list) and (got[0].code, got[0].line) == (code, line)


def test_all_problems_at_once():
    got = parse_config("stict: true\nlabel: [x]\nbranch_prefix: a/b\n")
    assert [p.line for p in got] == [1, 2, 3]


@pytest.mark.parametrize(
    "ref, segment, ok",
    [
        ("main", False, True), ("security/p0-auth", False, True), ("wavegate", True, True),
        ("release/2.x", False, True), ("", False, False), ("a b", False, False), ("a..b", False, False),
        ("a/.b", False, False), ("a.lock", False, False), ("/a", False, False), ("a/", False, False),
        ("a//b", False, False), ("a.", False, False), ("@", False, False), ("a@{b", False, False),
        ("-a", False, False), ("a~b", False, False), ("a^b", False, False), ("a:b", False, False),
        ("a?b", False, False), ("a*b", False, False), ("a[b", False, False), ("a\\b", False, False),
        ("a\x7fb", False, False), ("a/b", True, False),
    ],
)
def test_ref_problem_follows_git_check_ref_format(ref, segment, ok):
    assert (ref_problem(ref, segment=segment) is None) is ok


def test_every_settings_problem_names_the_settings_file():
    """Settings problems appear on the dashboard beside plan problems: each says which file to edit."""
    problems = parse_config("lable: x\nstrict: maybe\n")
    assert isinstance(problems, list) and len(problems) == 2
    assert all(p.message.startswith(".github/wavegate.yml: ") for p in problems)


def test_a_label_written_as_a_quoted_number_is_a_label():
    assert parse_config('label: "5"') == RepoConfig(label="5")


def test_problems_name_the_file_they_were_read_from():
    got = parse_config("label: ''\nstict: true", path="ci/bad.yml")
    assert isinstance(got, list) and len(got) == 2
    assert all(p.message.startswith("ci/bad.yml: ") for p in got)
    assert not any(".github/wavegate.yml" in p.message for p in got)
    (syntax,) = parse_config("a: [", path="ci/bad.yml")
    assert syntax.message.startswith("ci/bad.yml: ")
    (default,) = parse_config("label: ''")
    assert default.message.startswith(".github/wavegate.yml: ")
