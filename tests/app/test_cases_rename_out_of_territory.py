"""Case rename-out-of-territory.md: both paths of a rename count, pure moves included."""

import pytest

from service.core.model import GATE_CHECK, TERRITORY_CHECK
from service.usecases import check_pull

from .fakes import REPO, cf, dispatched, plan_body

PLAN = """
agents:
  - name: core
    territory: [/packages/core/]
    findings: ["F-01: the signal primitive has no docs example"]
  - name: docs
    territory: [/docs/]
    findings: ["F-02: examples live outside docs/"]
"""


def _run(files, plan=PLAN):
    fake = dispatched(plan_body(plan, "Move the signal example into the docs."),
                      files=["packages/core/primitives/signal.ts", "docs/index.md"], first_number=30)
    assert fake.pull_by_branch("wavegate/42/core").number == 30
    sha = fake.push(31, files)
    check_pull(fake, REPO, 31, sha)
    return fake, sha


def test_rename_out_of_core_is_crossing():
    fake, sha = _run([cf("docs/examples/signal.ts", "renamed", "packages/core/primitives/signal.ts"),
                      cf("docs/index.md")])
    run = fake.latest(sha, TERRITORY_CHECK)
    assert (run.status, run.conclusion) == ("completed", "failure")
    assert "crossing" in run.title and "core" in run.title and "#30" in run.title
    assert "packages/core/primitives/signal.ts" in run.summary
    out = fake.run_outputs[run.id][-1]
    assert [a.path for a in out.annotations] == ["packages/core/primitives/signal.ts"]
    assert fake.latest(sha, GATE_CHECK).conclusion == "success"


@pytest.mark.parametrize(
    ("entry", "strict", "conclusion", "named", "level"),
    [
        (cf("docs/b.md", "renamed", "docs/a.md"), False, "success", None, None),
        (cf("packages/core/x.md", "renamed", "docs/x.md"), False, "failure", "packages/core/x.md", "failure"),
        (cf("docs/ci.yml", "renamed", ".github/workflows/ci.yml"), False, "failure",
         ".github/workflows/ci.yml", "failure"),
        (cf("docs/gen.py", "renamed", "tools/gen.py"), False, "success", "tools/gen.py", "notice"),
        (cf("docs/gen.py", "renamed", "tools/gen.py"), True, "failure", "tools/gen.py", "failure"),
    ],
)
def test_rename_variants(entry, strict, conclusion, named, level):
    plan = ("strict: true\n" if strict else "") + PLAN
    fake, sha = _run([entry], plan)
    run = fake.latest(sha, TERRITORY_CHECK)
    assert run.conclusion == conclusion
    annotations = fake.run_outputs[run.id][-1].annotations
    if named is None:
        assert annotations == ()
    else:
        assert [(a.path, a.annotation_level) for a in annotations] == [(named, level)]
