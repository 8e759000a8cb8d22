"""Scope expansions collected on the dashboard (DESIGN §3.2, §3.6), reading both sides of a
rename like every other reader of changed paths."""

import pytest

from service.core import markers
from service.core.expansions import body_expansions
from service.usecases import reconcile_plan

from .fakes import REPO, cf, dispatched, plan_body

PLAN = """
agents:
  - {name: api, territory: [/services/api/]}
  - {name: web, wave: 2, territory: [/apps/web/]}
"""
NOTES = "# Scope expansions\n\n- services/api/auth.py accepts any token\n"


def _dash(fake):
    return fake.comments_on(42)[0].body


@pytest.mark.parametrize(("entry", "path"), [
    (cf("SCOPE-EXPANSIONS.md", "added"), "SCOPE-EXPANSIONS.md"),
    (cf("docs/notes.md", "renamed", "SCOPE-EXPANSIONS.md"), "docs/notes.md"),  # moved away: old side
    (cf("SCOPE-EXPANSIONS.md", "renamed", "docs/notes.md"), "SCOPE-EXPANSIONS.md"),  # moved in: new side
])
def test_the_file_is_read_on_either_side_of_a_rename(entry, path):
    fake = dispatched(plan_body(PLAN))
    head = fake.push(21, [entry])
    fake.texts[(head, path)] = NOTES
    reconcile_plan(fake, REPO, 42)
    dash = _dash(fake)
    assert "services/api/auth.py accepts any token" in dash and "#21" in dash


def test_a_removed_file_is_not_read_and_unrelated_files_cost_nothing():
    fake = dispatched(plan_body(PLAN))
    fake.push(21, [cf("SCOPE-EXPANSIONS.md", "removed"), cf("apps/web/a.tsx")])
    reconcile_plan(fake, REPO, 42)
    assert fake.count("read", "file_text") == 1  # the repository config only


def test_the_pr_description_section_is_collected():
    fake = dispatched(plan_body(PLAN))
    pr = fake.pulls[21]
    pr.body += "\n## Scope expansions\n\n- [ ] apps/api client retries forever\n* docs are stale\n\n## Other\n- not this\n"
    reconcile_plan(fake, REPO, 42)
    dash = _dash(fake)
    assert "apps/api client retries forever" in dash and "docs are stale" in dash and "not this" not in dash
    assert markers.parse_state_marker(dash)  # hidden state intact


def test_the_prompt_itself_is_no_expansion():
    fake = dispatched(plan_body(PLAN))
    assert body_expansions(fake.pulls[20].body) == ()
