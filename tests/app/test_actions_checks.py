"""``check_pull`` and ``report_failure``: agent and other PRs, forks, writes only on change, and the
API budget of one synchronize."""

from service.core.model import CHECK_NAMES, GATE_CHECK, TERRITORY_CHECK
from service.usecases import check_pull, reconcile_plan, report_failure

from .fakes import REPO, cf, dispatched, plan_body

PLAN = """
agents:
  - {name: api, territory: [/services/api/]}
  - {name: web, wave: 2, territory: [/apps/web/]}
"""


def test_other_pr_touching_an_active_territory_fails():
    fake = dispatched(plan_body(PLAN))
    n = fake.open_pull("fix/typo", files=[cf("services/api/a.py"), cf("docs/x.md")])
    check_pull(fake, REPO, n)
    sha = fake.pulls[n].head_sha
    run = fake.latest(sha, TERRITORY_CHECK)
    assert run.conclusion == "failure" and "#20" in run.summary and "api" in run.summary
    assert fake.latest(sha, GATE_CHECK).conclusion == "success"


def test_other_pr_outside_active_territories_passes_and_merged_agents_free_their_files():
    fake = dispatched(plan_body(PLAN))
    n = fake.open_pull("fix/docs", files=[cf("docs/x.md")])
    check_pull(fake, REPO, n)
    assert fake.latest(fake.pulls[n].head_sha, TERRITORY_CHECK).conclusion == "success"
    fake.merge(20)
    m = fake.open_pull("fix/api", files=[cf("services/api/a.py")])
    check_pull(fake, REPO, m)
    assert fake.latest(fake.pulls[m].head_sha, TERRITORY_CHECK).conclusion == "success"


def test_fork_on_an_agent_branch_name_is_not_an_agent():
    fake = dispatched(plan_body(PLAN))
    n = fake.open_pull("wavegate/42/web", fork=True, files=[cf("apps/web/a.tsx")],
                       body="<!-- wavegate issue=42 agent=web plan=000000000000 -->")
    check_pull(fake, REPO, n)
    sha = fake.pulls[n].head_sha
    assert fake.latest(sha, GATE_CHECK).title == "Not an agent PR: no wave to wait for"
    assert fake.latest(sha, TERRITORY_CHECK).conclusion == "failure"  # touches web's open territory


def test_agent_pr_found_by_branch_when_the_marker_is_gone():
    fake = dispatched(plan_body(PLAN))
    fake.pulls[21].body = "edited away"
    sha = fake.push(21, [cf("services/api/x.py")])
    check_pull(fake, REPO, 21, sha)
    run = fake.latest(sha, TERRITORY_CHECK)
    assert run.conclusion == "failure" and "crossing" in run.title


def test_synchronize_budget_for_a_250_file_agent_pr():
    fake = dispatched(plan_body(PLAN))
    sha = fake.push(21, [cf(f"apps/web/f{i:03d}.tsx") for i in range(250)])
    check_pull(fake, REPO, 21, sha)
    tally = fake.tally()
    # reads: PR, issue (marker), config, dashboard comments, the other agent's PR, the base head
    # (the change set's memo key; a 304 through the adapter), 3 file pages, runs on the head, head
    # re-read before writing; writes: the two check runs
    assert (fake.count("read"), fake.count("write")) == (11, 2), tally
    assert tally[("read", "pull_files")] == 3 and tally[("read", "branch_sha")] == 1
    assert [fake.latest(sha, n).conclusion for n in CHECK_NAMES] == ["success", None]
    fake.calls.clear()
    check_pull(fake, REPO, 21, sha)  # duplicate delivery: same content, nothing written
    # the files are not listed again: same head, same base head
    assert fake.count("write") == 0 and fake.count("read") == 7 and fake.count("read", "pull_files") == 0


def test_a_pr_listed_by_check_pull_is_not_listed_again_by_a_refresh():
    fake = dispatched(plan_body(PLAN))
    fake.calls.clear()
    reconcile_plan(fake, REPO, 42)
    assert fake.count("read", "pull_files") == 0  # the empty sets of the branches created are kept
    sha = fake.push(21, [cf(f"apps/web/f{i:03d}.tsx") for i in range(250)])
    fake.calls.clear()
    check_pull(fake, REPO, 21, sha)
    assert fake.count("read", "pull_files") == 3
    fake.calls.clear()
    reconcile_plan(fake, REPO, 42)
    assert fake.count("read", "pull_files") == 0  # every PR's set is memoised


def test_a_base_that_moved_lists_the_files_again():
    fake = dispatched(plan_body(PLAN))
    sha = fake.push(21, [cf(f"apps/web/f{i:03d}.tsx") for i in range(250)])
    check_pull(fake, REPO, 21, sha)
    main = fake.branches["main"]
    fake.branches["main"] = fake._commit(dict(fake.commits[main].tree), (main,))  # the base moves on
    fake.calls.clear()
    check_pull(fake, REPO, 21, sha)
    assert fake.count("read", "pull_files") == 3


def test_patch_only_on_change_and_new_run_when_annotations_would_append():
    fake = dispatched(plan_body(PLAN))
    bad = fake.push(21, [cf("services/api/x.py")])
    check_pull(fake, REPO, 21, bad)
    first = fake.latest(bad, TERRITORY_CHECK)
    assert first.annotations_count == 1
    fake.pull_files[(21, bad)] = [cf("apps/web/ok.tsx")]  # same head, verdict changes
    check_pull(fake, REPO, 21, bad)
    second = fake.latest(bad, TERRITORY_CHECK)
    assert second.id != first.id and second.conclusion == "success"
    fake.calls.clear()
    fake.merge(20)
    check_pull(fake, REPO, 21, bad)  # plan moved: the gate is PATCHed in place
    assert fake.count("write", "update_check_run") >= 1


def test_report_failure_on_checks_and_dashboard():
    fake = dispatched(plan_body(PLAN))
    sha = fake.pulls[21].head_sha
    report_failure(fake, REPO, number=21, head_sha=sha, issue=None, what="read the PR files", job_id="j-1")
    for name in CHECK_NAMES:
        run = fake.latest(sha, name)
        assert run.conclusion == "failure" and "j-1" in (run.summary + (run.text or "") + run.title)
    assert report_failure(fake, REPO, number=21, head_sha="0" * 40, issue=None, what="x", job_id=None) == "stale"
    report_failure(fake, REPO, number=None, head_sha=None, issue=42, what="dispatch the plan", job_id="j-2")
    body = fake.comments_on(42)[0].body
    assert "j-2" in body and "#20" in body
    reconcile_plan(fake, REPO, 42)  # the next reconcile clears the notice
    assert "j-2" not in fake.comments_on(42)[0].body
