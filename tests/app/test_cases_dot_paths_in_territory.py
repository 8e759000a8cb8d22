"""Case dot-paths-in-territory.md: ``*`` and ``**`` match dot-files, in the check and pre-flight."""

import pytest

from service.core.model import TERRITORY_CHECK
from service.usecases import check_pull, reconcile_plan

from .fakes import REPO, FakeGitHub, cf, dispatched, plan_body

PLAN = """
strict: true
agents:
  - name: infra
    territory: ["deploy/**", "scripts/*.sh"]
  - name: api
    territory: [/services/api/]
  - name: web
    wave: 2
    territory: [/apps/web/]
"""


def test_dot_paths_in_checks():
    fake = dispatched(plan_body(PLAN), files=["deploy/.helm/values.yaml", "README.md"], first_number=51)
    assert [fake.pull_by_branch(f"wavegate/42/{n}").number for n in ("infra", "api", "web")] == [51, 52, 53]
    s51 = fake.push(51, [cf("deploy/.helm/values.yaml"), cf("scripts/.bootstrap.sh", "added")])
    check_pull(fake, REPO, 51, s51)
    assert fake.latest(s51, TERRITORY_CHECK).conclusion == "success"

    s53 = fake.push(53, [cf("services/api/.env.production"), cf(".github/workflows/ci.yml"),
                         cf(".editorconfig"), cf("apps/web/.eslintrc.json")])
    check_pull(fake, REPO, 53, s53)
    run = fake.latest(s53, TERRITORY_CHECK)
    assert run.conclusion == "failure"
    out = fake.run_outputs[run.id][-1]
    assert sorted(a.path for a in out.annotations) == [".editorconfig", ".github/workflows/ci.yml",
                                                       "services/api/.env.production"]
    assert "#52" in run.summary


@pytest.mark.parametrize(
    ("fragment", "files", "expect"),
    [
        ("  - {name: x, territory: [/config/]}\n  - {name: y, territory: [/config/.secrets/]}",
         ["config/.secrets/key.pem"], ["config/.secrets/key.pem"]),
        ('  - {name: x, territory: ["config/**"]}\n  - {name: y, territory: ["config/*/.env"]}', [], [".env"]),
    ],
)
def test_preflight_variants_create_nothing(fragment, files, expect):
    fake = FakeGitHub(files=files)
    fake.roles["maintainer-1"] = "write"
    fake.add_issue(42, plan_body("agents:\n" + fragment))
    reconcile_plan(fake, REPO, 42, sender="maintainer-1")
    assert fake.pulls == {} and fake.runs == {}
    assert set(fake.branches) == {"main"}
    [dash] = fake.comments_on(42)
    assert "wavegate dashboard" in dash.body and "Problems" in dash.body
    for text in expect:
        assert text in dash.body


def test_a_github_folder_territory_is_dispatched_without_the_protected_workflows():
    # The protected list is subtracted from a territory, not refused: `x` gets `.github/` except
    # `.github/workflows/`, which its prompt does not authorize and its check fails.
    fake = dispatched(plan_body("agents:\n  - {name: x, territory: [.github/]}"), files=[".github/CODEOWNERS"])
    pull = fake.pull_by_branch("wavegate/42/x")
    scope, rest = pull.body.split("### Findings")
    assert "- `.github/` except `.github/workflows/`\n" in scope
    assert "- `.github/workflows/` — protected by the repository settings" in rest.split("DO NOT MODIFY:")[1]
    sha = fake.push(pull.number, [cf(".github/workflows/x.yml", "added"), cf(".github/CODEOWNERS")])
    check_pull(fake, REPO, pull.number, sha)
    run = fake.latest(sha, TERRITORY_CHECK)
    assert run.conclusion == "failure"
    assert [a.path for a in fake.run_outputs[run.id][-1].annotations] == [".github/workflows/x.yml"]
    ok = fake.push(pull.number, [cf(".github/CODEOWNERS")])
    check_pull(fake, REPO, pull.number, ok)
    assert fake.latest(ok, TERRITORY_CHECK).conclusion == "success"
