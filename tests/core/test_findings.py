"""Reading a findings list: priority, category and file references per item (``core.findings``)."""

from __future__ import annotations

import pytest

from service.core.findings import Reference, read_findings, references


@pytest.mark.parametrize(
    "text, expected",
    [
        ("P0: Auth accepts any token (`broker/api/auth.py:46-51`)", [("broker/api/auth.py", "46-51")]),
        ("SQL injection (okr_sentinel_metrics.py:36-40)", [("okr_sentinel_metrics.py", "36-40")]),
        ("wire it into broker/main.py, then src/app/", [("broker/main.py", None), ("src/app/", None)]),
        ("every handler in `broker/api/*.py`", [("broker/api/*.py", None)]),
        ("the folder `broker/safety`", [("broker/safety", None)]),
        ("bare ./scripts/run.sh and /docs/guide.md", [("scripts/run.sh", None), ("docs/guide.md", None)]),
        ("same file twice: a/b.py:1 and a/b.py:9", [("a/b.py", "1")]),
        # Prose that only looks like files is not a reference.
        ("e.g. v1.2 and/or 90% of `_revoke_all_tokens`", []),
        ("see https://example.com/a/b.py for details", []),
        ("a word.Like this and Mr.Smith", []),
    ],
)
def test_references(text, expected):
    assert [(r.path, r.lines) for r in references(text)] == expected


def test_a_reference_that_cannot_be_a_pattern_says_why():
    (ref,) = references("escape via `../etc/passwd.txt`")
    assert ref.path == "../etc/passwd.txt" and ref.problem and ".." in ref.problem


FINDINGS = """\
# Audit of the broker

Intro paragraph, not a finding: broker/ignored.py

## Security
- P0: Auth accepts any token (`broker/api/auth.py:46-51`)
* Performance: P1 slow query in broker/db/query.py:12
1. [P2] no priority tag at the start (`a/b.py`)

## P1 findings
- Escalations are never closed (`broker/api/escalations.py`)
- [ ] Testing: P0 add tests (`tests/unit/test_auth.py`)

```
- P0: inside a code block (`not/read.py`)
```

# Another title
- no category, no priority, no file
"""


def test_items_with_priorities_categories_and_lines():
    got = [(f.number, f.line, f.priority, f.category, [r.path for r in f.references])
           for f in read_findings(FINDINGS)]
    assert got == [
        (1, 6, 0, "Security", ["broker/api/auth.py"]),
        (2, 7, 1, "Performance", ["broker/db/query.py"]),
        (3, 8, 2, "Security", ["a/b.py"]),
        (4, 11, 1, "Security", ["broker/api/escalations.py"]),
        (5, 12, 0, "Testing", ["tests/unit/test_auth.py"]),
        (6, 19, None, None, []),
    ]


def test_text_is_kept_verbatim_without_the_list_marker():
    (finding,) = read_findings("  - P0: keep `this` exactly (a.py:1)  \r\n")
    assert finding.text == "P0: keep `this` exactly (a.py:1)"
    assert finding.references == (Reference("a.py", "1"),)
    assert finding.label == "P0"


@pytest.mark.parametrize("text", ["", "no list at all", "```\n- a.py\n", "#\n-\n- \n"])
def test_nothing_to_read_is_an_empty_tuple(text):
    assert read_findings(text) == ()
