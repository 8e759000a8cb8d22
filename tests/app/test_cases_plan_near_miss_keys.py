"""Case plan-near-miss-keys.md (use-case side): misspelt keys are listed on the dashboard with
line numbers and nothing is created; the fixed plan is dispatched and the same dashboard edited."""

from pathlib import Path

import pytest

from service.usecases import reconcile_plan

from .fakes import REPO, FakeGitHub

BAD = (Path(__file__).resolve().parents[1] / "fixtures" / "plans" / "near-miss.md").read_text(encoding="utf-8")
GOOD = BAD.replace("do-not-modify", "do_not_modify").replace("Wave:", "wave:").replace("teritory", "territory")


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_near_misses_refused_then_fixed(newline):
    fake = FakeGitHub(files=["services/api/a.py"])
    fake.roles["maintainer-1"] = "write"
    fake.add_issue(44, BAD.replace("\n", newline))
    reconcile_plan(fake, REPO, 44, sender="maintainer-1")
    assert fake.pulls == {} and fake.runs == {} and set(fake.branches) == {"main"}
    [dash] = fake.comments_on(44)
    for key, fix, line in [("do-not-modify", "do_not_modify", 7), ("Wave", "wave", 10),
                           ("teritory", "territory", 14)]:
        assert key in dash.body and fix in dash.body and str(line) in dash.body

    fake.edit_issue(44, body=GOOD.replace("\n", newline))
    reconcile_plan(fake, REPO, 44, sender="maintainer-1")
    assert sorted(p.head_ref for p in fake.pulls.values()) == ["wavegate/44/api", "wavegate/44/cli",
                                                                "wavegate/44/web"]
    assert [c.id for c in fake.comments_on(44)] == [dash.id]
    api = fake.pull_by_branch("wavegate/44/api")
    assert "/db/schema.sql" in api.body
    assert "[wave 2]" in fake.pull_by_branch("wavegate/44/web").title
