"""Case deleted-file-in-other-territory.md: ``removed`` entries and every other status count."""

import pytest

from service.core.model import TERRITORY_CHECK
from service.usecases import check_pull

from .fakes import REPO, cf, dispatched, plan_body

PLAN = """
agents:
  - name: api
    territory: [/services/api/]
    findings: ["F-30: index migration is slow"]
  - name: web
    wave: 2
    territory: [/apps/web/]
    findings: ["F-31: dead page still shipped"]
    do_not_modify: [/db/schema.sql]
"""
FILES = ["services/api/migrations/0007_add_index.sql", "db/schema.sql", "apps/web/src/old-page.tsx",
         "services/api/schema.sql", "services/api/run.sh", "services/api/x.py", "apps/web/gone.css"]


def _run(files):
    fake = dispatched(plan_body(PLAN), files=FILES, first_number=49)
    sha = fake.push(50, files)
    check_pull(fake, REPO, 50, sha)
    run = fake.latest(sha, TERRITORY_CHECK)
    return run, fake.run_outputs[run.id][-1]


def test_deletions_are_checked():
    run, out = _run([cf("services/api/migrations/0007_add_index.sql", "removed"),
                     cf("db/schema.sql", "removed"), cf("apps/web/src/old-page.tsx", "removed")])
    assert (run.status, run.conclusion) == ("completed", "failure")
    assert sorted(a.path for a in out.annotations) == ["db/schema.sql",
                                                       "services/api/migrations/0007_add_index.sql"]
    assert "#49" in run.summary and "api" in run.summary
    assert "delet" in run.summary.lower()
    assert "apps/web/src/old-page.tsx" not in {a.path for a in out.annotations}


@pytest.mark.parametrize(
    ("entry", "conclusion", "named"),
    [
        (cf("apps/web/schema.sql", "copied", "services/api/schema.sql"), "failure", "services/api/schema.sql"),
        (cf("services/api/run.sh", "changed"), "failure", "services/api/run.sh"),
        (cf("services/api/x.py", "unchanged"), "failure", "services/api/x.py"),
        (cf("services/api/x.py", "typechanged"), "failure", "services/api/x.py"),
        (cf("apps/web/gone.css", "removed"), "success", None),
    ],
)
def test_every_status_is_checked(entry, conclusion, named):
    run, out = _run([entry])
    assert run.conclusion == conclusion
    assert [a.path for a in out.annotations] == ([named] if named else [])
    if named:
        assert "#49" in run.summary
