"""Steering a running plan against the fake GitHub port: grant, revoke, allow, revoke #N, who
may, duplicate and reordered deliveries, and the plan version on every check run."""

import pytest

from service.core import markers
from service.core import plan as core_plan
from service.core.model import GATE_CHECK, TERRITORY_CHECK
from service.usecases import check_pull, handle_command, reconcile_plan

from .fakes import REPO, cf, dispatched, plan_body

PLAN = """
agents:
  - {name: api, territory: [/services/api/]}
  - {name: web, territory: [/apps/web/]}
"""
FILES = ["services/api/app.py", "apps/web/index.ts", "shared/util.py"]


@pytest.fixture
def fake():
    f = dispatched(plan_body(PLAN), files=FILES, config="strict: true\n")
    f.roles["lead"] = "maintain"
    f.roles["reader"] = "read"
    return f


def command(fake, text, *, on=42, user="maintainer-1"):
    cid = fake.add_comment(on, text, user=user)
    outcome = handle_command(fake, REPO, on, cid, user)
    return cid, outcome


def territory(fake, number):
    return fake.latest(fake.pulls[number].head_sha, TERRITORY_CHECK)


def dashboard(fake):
    return fake.comments_on(42)[0].body


def hotfix(fake, path="services/api/app.py"):
    number = fake.open_pull("hotfix/login", files=[cf(path)])
    check_pull(fake, REPO, number)
    return number


# --------------------------------------------------------------------------- grant / revoke


def test_grant_overlapping_a_concurrent_agent_is_refused_with_witnesses_and_changes_nothing(fake):
    body = fake.issues[42].body
    cid, _ = command(fake, "/wavegate grant api /apps/web/ — needs the login form")
    assert fake.issues[42].body == body and fake.count(op="edit_issue_body") == 0
    reply = fake.comments_on(42)[-1].body
    assert "refused and nothing changed" in reply and "apps/web/index.ts" in reply and "`web`" in reply
    assert fake.reactions == [(cid, "-1")]


def test_grant_edits_the_body_rechecks_the_plan_and_comments_on_the_agents_pr(fake):
    sha = fake.push(20, [cf("services/api/app.py"), cf("shared/util.py")])
    check_pull(fake, REPO, 20, sha)
    assert territory(fake, 20).conclusion == "failure"  # strict: shared/ is no agent's
    cid, _ = command(fake, "/wavegate grant api /shared/ — the API owns the helpers")
    body = fake.issues[42].body
    assert "/shared/" in body and "# granted by @maintainer-1: the API owns the helpers" in body
    assert territory(fake, 20).conclusion == "success"  # the crossing the grant covers turns green
    note = [c.body for c in fake.comments_on(20) if "granted" in c.body]
    assert len(note) == 1 and "`/shared/`" in note[0]
    assert "/shared/" in fake.pulls[20].body  # the dispatch prompt follows the amended plan
    assert fake.reactions == [(cid, "+1")]
    assert "### History" in dashboard(fake) and "| grant |" in dashboard(fake)


def test_revoke_removes_the_pattern_and_the_crossing_fails_again(fake):
    sha = fake.push(20, [cf("shared/util.py")])
    command(fake, "/wavegate grant api /shared/")
    assert territory(fake, 20).conclusion == "success"
    command(fake, "/wavegate revoke api /shared/")
    assert "/shared/" not in core_plan.parse_plan(fake.issues[42].body).agent("api").territory
    assert fake.latest(sha, TERRITORY_CHECK).conclusion == "failure"
    assert any("revoked" in c.body for c in fake.comments_on(20))
    assert "| revoke |" in dashboard(fake)


def test_grant_from_the_agents_pr_works_and_is_answered_there(fake):
    cid, _ = command(fake, "/wavegate grant api /shared/", on=20)
    assert "/shared/" in fake.issues[42].body
    assert (cid, "+1") in fake.reactions


def test_grant_of_an_unknown_agent_names_the_agents(fake):
    cid, _ = command(fake, "/wavegate grant nobody /shared/")
    assert "`api`" in fake.comments_on(42)[-1].body and fake.reactions == [(cid, "-1")]


def test_a_reader_is_refused_with_the_role_named_and_nothing_changes(fake):
    body = fake.issues[42].body
    writes = fake.count("write")
    cid, _ = command(fake, "/wavegate grant api /shared/", user="reader")
    reply = fake.comments_on(42)[-1].body
    assert "needs write permission" in reply and "`read`" in reply
    assert fake.issues[42].body == body
    assert fake.count("write") == writes + 2  # the reply and the reaction, nothing else
    assert fake.reactions == [(cid, "-1")]


# --------------------------------------------------------------------------- allow / revoke #N


def test_allowance_turns_a_hotfix_green_lists_its_paths_and_shows_on_the_dashboard(fake):
    n = hotfix(fake)
    assert territory(fake, n).conclusion == "failure"
    cid, _ = command(fake, f"/wavegate allow #{n} — login is down", user="lead")
    run = territory(fake, n)
    assert run.conclusion == "success" and run.title.startswith("Allowed by @lead")
    assert "login is down" in run.summary and "services/api/app.py" in run.summary
    assert "### Allowances" in dashboard(fake) and f"#{n}: allowed by @lead" in dashboard(fake)
    assert fake.reactions == [(cid, "+1")]
    command(fake, f"/wavegate revoke #{n}", user="lead")
    assert territory(fake, n).conclusion == "failure"
    assert "### Allowances" not in dashboard(fake) and "| allowance revoked |" in dashboard(fake)


def test_bare_allow_on_the_pr_itself_means_that_pr(fake):
    n = hotfix(fake)
    command(fake, "/wavegate allow — hotfix", on=n, user="lead")
    assert territory(fake, n).conclusion == "success"


def test_allow_needs_the_allow_role(fake):
    n = hotfix(fake)
    cid, _ = command(fake, f"/wavegate allow #{n}")  # maintainer-1 has write only
    assert "needs maintain permission" in fake.comments_on(42)[-1].body
    assert territory(fake, n).conclusion == "failure" and fake.reactions == [(cid, "-1")]


def test_allow_role_comes_from_the_config():
    f = dispatched(plan_body(PLAN), files=FILES, config="allow_role: write\n")
    n = f.open_pull("hotfix/x", files=[cf("services/api/app.py")])
    command(f, f"/wavegate allow #{n}")
    assert f.latest(f.pulls[n].head_sha, TERRITORY_CHECK).conclusion == "success"


def test_revoke_without_an_allowance_says_so(fake):
    cid, _ = command(fake, "/wavegate revoke #77", user="lead")
    assert "#77 has no allowance" in fake.comments_on(42)[-1].body


# --------------------------------------------------------------------------- deliveries


def test_duplicate_deliveries_change_nothing_twice(fake):
    n = hotfix(fake)
    cid = fake.add_comment(42, f"/wavegate grant api /shared/\n/wavegate allow #{n} — x", user="lead")
    handle_command(fake, REPO, 42, cid, "lead")
    body, dash = fake.issues[42].body, dashboard(fake)
    fake.calls.clear()
    handle_command(fake, REPO, 42, cid, "lead")
    assert fake.issues[42].body == body and dashboard(fake) == dash
    assert fake.count(op="edit_issue_body") == 0 and fake.count(op="create_comment") == 0
    assert sum("granted" in c.body for c in fake.comments_on(20)) == 1
    assert dash.count("| grant |") == 1 and dash.count("| allowance |") == 1


def test_reordered_allow_and_revoke_end_revoked(fake):
    n = hotfix(fake)
    allow_cid = fake.add_comment(42, f"/wavegate allow #{n}", user="lead")
    revoke_cid = fake.add_comment(42, f"/wavegate revoke #{n}", user="lead")
    handle_command(fake, REPO, 42, revoke_cid, "lead")  # the later comment arrives first
    handle_command(fake, REPO, 42, allow_cid, "lead")
    assert territory(fake, n).conclusion == "failure"
    assert "### Allowances" not in dashboard(fake)


def test_unknown_command_gets_the_help(fake):
    cid, _ = command(fake, "/wavegate grnt api /shared/")
    reply = fake.comments_on(42)[-1].body
    assert "Did you mean `/wavegate grant`" in reply and fake.reactions == [(cid, "confused")]


# --------------------------------------------------------------------------- plan versions


def test_every_check_states_the_plan_version_and_a_plan_edit_rewrites_each_once(fake):
    old = markers.plan_hash(core_plan.parse_plan(fake.issues[42].body))
    for n in (20, 21):
        for name in (TERRITORY_CHECK, GATE_CHECK):
            run = fake.latest(fake.pulls[n].head_sha, name)
            assert run.external_id == f"plan-{old}" and f"`{old}`" in run.summary
    fake.edit_issue(42, body=plan_body(PLAN.replace("/apps/web/]", "/apps/web/, /apps/mobile/]")))
    reconcile_plan(fake, REPO, 42)
    new = markers.plan_hash(core_plan.parse_plan(fake.issues[42].body))
    assert new != old
    for n in (20, 21):
        for name in (TERRITORY_CHECK, GATE_CHECK):
            run = fake.latest(fake.pulls[n].head_sha, name)
            assert run.external_id == f"plan-{new}" and f"`{new}`" in run.summary
    fake.calls.clear()
    reconcile_plan(fake, REPO, 42)
    assert fake.count(op="update_check_run") == 0 and fake.count(op="create_check_run") == 0


def test_skip_cancel_and_plan_edits_are_on_the_history(fake):
    command(fake, "/wavegate skip web")
    assert "| skip |" in dashboard(fake)
    fake.edit_issue(42, body=plan_body(PLAN.replace("/apps/web/]", "/apps/web/, /apps/mobile/]")))
    reconcile_plan(fake, REPO, 42, sender="maintainer-1")
    assert "| plan edited |" in dashboard(fake)
    command(fake, "/wavegate cancel — wrong plan")
    history = dashboard(fake)
    # the fake's comment clock and the service's clock differ: the order is pinned in tests/core
    assert all(f"| {what} |" in history for what in ("cancel", "plan edited", "skip"))
    assert history.count("| skip |") == 1


@pytest.mark.parametrize(("text", "role"), [("allow_role: admin\n", "admin"), ("", "maintain")])
def test_allow_role_setting(text, role):
    from service.core.config import parse_config

    assert parse_config(text or None).allow_role == role


def test_an_unreadable_allow_role_is_a_problem():
    from service.core.config import parse_config

    [problem] = parse_config("allow_role: boss\n")
    assert "allow_role" in problem.message and problem.line == 1
