"""Plan amendments after dispatch (DESIGN §3.1 step 2, issue "Plan amendments"): prompts rewritten
only where they changed, ``Amendment.changed``, the dashboard record with both plan hashes,
removed agents, new agents, territory re-run on every PR of the plan, invalid edits."""

import re

import pytest

from service.core import markers
from service.core import plan as core_plan
from service.core.markers import recorded_memo
from service.core.model import GATE_CHECK, TERRITORY_CHECK
from service.errors import TransientGitHubError
from service.usecases import check_pull, reconcile_plan

from .fakes import REPO, cf, dispatched, plan_body

PLAN = """
agents:
  - {name: api, territory: [/services/api/], findings: ["F-1: slow"]}
  - {name: web, wave: 2, territory: [/apps/web/], findings: ["F-2: flaky"]}
  - {name: cli, territory: [/tools/cli/]}
"""


def _hash(text: str) -> str:
    return markers.plan_hash(core_plan.parse_plan(plan_body(text)))


def _amend(fake, text: str) -> str:
    fake.edit_issue(42, body=plan_body(text))
    fake.calls.clear()
    return reconcile_plan(fake, REPO, 42, sender="maintainer-1")


def _edited(fake) -> list[str]:
    """Agents whose PR body was PATCHed."""
    return sorted(fake.pulls[n].head_ref.rsplit("/", 1)[-1] for n in fake._edited)


def _pr(fake, agent: str):
    return fake.pull_by_branch(f"wavegate/42/{agent}")


@pytest.fixture
def fake():
    f = dispatched(plan_body(PLAN), files=["services/api/a.py", "services/shared/u.py", "apps/web/b.tsx"])
    original = f.edit_pull_body
    f._edited = []

    def spy(repo, number, body):
        f._edited.append(number)
        return original(repo, number, body)

    f.edit_pull_body = spy
    return f


def _dash(fake) -> str:
    return fake.comments_on(42)[0].body


def test_findings_change_rewrites_only_that_prompt_and_is_recorded(fake):
    old_hash = _hash(PLAN)
    new = PLAN.replace("F-2: flaky", "F-2: double submit")
    _amend(fake, new)
    assert _edited(fake) == ["web"]
    body = _pr(fake, "web").body
    assert "F-2: double submit" in body and f"plan={_hash(new)}" in body
    api = _pr(fake, "api").body
    assert "F-1: slow" in api and f"plan={old_hash}" in api  # untouched
    dash = _dash(fake)
    assert old_hash in dash and _hash(new) in dash
    state = markers.parse_state_marker(dash)
    [amendment] = state["amendments"]
    assert (amendment["old_hash"], amendment["new_hash"]) == (old_hash, _hash(new))
    assert amendment["changed"] == ["web"] and amendment["added"] == [] and amendment["removed"] == []
    fake._edited.clear()
    fake.calls.clear()
    reconcile_plan(fake, REPO, 42)  # only when it changed
    assert fake._edited == [] and fake.count("write") == 0


@pytest.mark.parametrize(("old", "new", "changed"), [
    ("[/services/api/]", "[/services/api/, /services/shared/]", ["api"]),
    ("{name: cli, territory: [/tools/cli/]}", "{name: cli, territory: [/tools/cli/], do_not_modify: [/db/]}", ["cli"]),
    ("{name: cli, territory: [/tools/cli/]}", "{name: cli, wave: 2, territory: [/tools/cli/]}", ["cli"]),
    ("{name: web, wave: 2,", "{name: web, wave: 2, after: [cli],", ["web"]),
])
def test_changed_names_every_field_kind(fake, old, new, changed):
    _amend(fake, PLAN.replace(old, new))
    [amendment] = markers.parse_state_marker(_dash(fake))["amendments"]
    assert amendment["changed"] == changed


def test_territory_change_reruns_territory_on_every_pr_and_rewrites_the_prompts_naming_it(fake):
    api, cli = _pr(fake, "api").number, _pr(fake, "cli").number
    s20 = fake.push(api, [cf("services/api/a.py"), cf("services/shared/u.py")])
    check_pull(fake, REPO, api, s20)
    assert fake.latest(s20, TERRITORY_CHECK).conclusion == "success"  # unowned, not strict
    s22 = fake.push(cli, [cf("services/shared/u.py")])
    check_pull(fake, REPO, cli, s22)
    assert fake.latest(s22, TERRITORY_CHECK).conclusion == "success"
    _amend(fake, PLAN.replace("[/services/api/]", "[/services/api/, /services/shared/]"))
    # cli's PR now crosses api's territory: re-run without any push
    run = fake.latest(s22, TERRITORY_CHECK)
    assert run.conclusion == "failure" and "api" in run.title
    # api's own prompt (scope) and the others' (DO NOT MODIFY) all name the new pattern
    assert _edited(fake) == ["api", "cli", "web"]
    assert all("/services/shared/" in p.body for p in fake.pulls.values())


def test_agent_text_after_the_marker_and_a_scope_section_inside_survive(fake):
    pr = _pr(fake, "web")
    prompt = pr.body
    head, marker = prompt[: prompt.index("<!-- wavegate issue")], prompt[prompt.index("<!-- wavegate issue"):]
    pr.body = head + "## Scope expansions\n\n- apps/api client is stale\n\n" + marker + "\nNotes by the agent.\n"
    _amend(fake, PLAN.replace("F-2: flaky", "F-2: double submit"))
    body = pr.body
    assert "F-2: double submit" in body
    assert body.count("- apps/api client is stale") == 1 and body.count("Notes by the agent.") == 1
    assert re.search(r"<!-- wavegate issue=42 agent=web plan=\w+ -->", body)
    fake._edited.clear()
    reconcile_plan(fake, REPO, 42)
    assert fake._edited == []


def test_removed_agent_gets_one_comment_and_a_failing_gate_even_after_a_stopped_run(fake):
    cli = _pr(fake, "cli")
    fake.fail("create_comment", TransientGitHubError("killed"))
    with pytest.raises(TransientGitHubError):
        _amend(fake, PLAN.replace("  - {name: cli, territory: [/tools/cli/]}\n", "  - {name: docs, territory: [/docs/]}\n"))
    gate = fake.latest(cli.head_sha, GATE_CHECK)
    assert gate.conclusion == "failure" and "removed" in gate.title
    reconcile_plan(fake, REPO, 42)
    reconcile_plan(fake, REPO, 42)
    [comment] = fake.comments_on(cli.number)
    assert "#42" in comment.body and "cli" in comment.body
    docs = fake.pull_by_branch("wavegate/42/docs")
    assert docs is not None and fake.latest(docs.head_sha, GATE_CHECK).conclusion == "success"
    [amendment] = markers.parse_state_marker(_dash(fake))["amendments"]
    assert amendment["added"] == ["docs"] and amendment["removed"] == ["cli"]


def test_invalid_edit_leaves_everything_and_the_memo_survives_it(fake):
    before = {n: p.body for n, p in fake.pulls.items()}
    _amend(fake, PLAN.replace("territory: [/tools/cli/]", "teritory: [/tools/cli/]"))
    assert fake.count("write") == 1 and fake.count("write", "edit_comment") == 1
    assert {n: p.body for n, p in fake.pulls.items()} == before
    assert "teritory" in _dash(fake)
    assert recorded_memo(_dash(fake))["agents"]  # kept for the next valid edit
    _amend(fake, PLAN.replace("F-1: slow", "F-1: very slow"))
    [amendment] = markers.parse_state_marker(_dash(fake))["amendments"]
    assert amendment["changed"] == ["api"]
    assert _edited(fake) == ["api"]
