"""The merge-queue path on real processes: a wave-2 PR queued before wave 1 merged is thrown out of
the queue quickly, with no check left pending on the merge-group commit, and passes once wave 1
merged (DESIGN §3.4, cases/merge-queue-checks.md)."""

import time

import pytest

from demo.stack import wait_until

from .conftest import running_stack

pytestmark = pytest.mark.e2e
REPO = "acme/queue"
CHECKS = ("wavegate/territory", "wavegate/wave-gate")
PLAN = """Two agents, two waves.

```yaml dispatch
agents:
  - {name: api, territory: [services/api/]}
  - {name: web, wave: 2, territory: [apps/web/]}
```
"""


@pytest.fixture(scope="module")
def stack(request):
    yield from running_stack(request, "wavegate-e2e-mq-")


def group_runs(snapshot: dict) -> dict[str, list[dict]]:
    """Check runs on merge-group commits (SHAs that are no PR head)."""
    heads = {pr["head_sha"] for pr in snapshot["pulls"]}
    return {sha: [r for r in runs if r["name"] in CHECKS]
            for sha, runs in snapshot["check_runs"].items() if sha not in heads}


def gate(coordinator, number: int) -> str | None:
    runs = [r for r in coordinator.get_commit(coordinator.get_pull(number).head.sha).get_check_runs()
            if r.name == "wavegate/wave-gate"]
    return max(runs, key=lambda r: r.id).conclusion if runs else None


def queued(stack, number: int) -> bool:
    return any(e["number"] == number for e in stack.admin("GET", f"/_emulator/repos/{REPO}/merge-queue"))


def test_wave_two_is_refused_by_the_queue_until_wave_one_merged(stack):
    stack.create_repo(REPO, {"services/api/a.py": "a = 1\n", "apps/web/b.tsx": "export {}\n"},
                      required_checks=list(CHECKS), merge_queue=True)
    coordinator = stack.user("coordinator", REPO, "admin").get_repo(REPO)
    issue = coordinator.create_issue("Queue fixes", body=PLAN)
    issue.add_to_labels("dispatch")

    def agent_prs():
        prs = {pr.head.ref.rsplit("/", 1)[1]: pr.number for pr in coordinator.get_pulls(state="open")}
        return prs if set(prs) == {"api", "web"} else None

    prs = wait_until(agent_prs, 60, "both agent PRs")
    wait_until(lambda: all(
        {r.name for r in coordinator.get_commit(coordinator.get_pull(n).head.sha).get_check_runs()} >= set(CHECKS)
        for n in prs.values()), 60, "checks on both PRs")

    # web (wave 2) queued while api (wave 1) is open: the group is refused, quickly, never left pending.
    started = time.monotonic()
    stack.admin("POST", f"/_emulator/repos/{REPO}/merge-queue", json={"number": prs["web"]})
    wait_until(lambda: not queued(stack, prs["web"]), 30, "the queue to drop web's group")
    refused_after = time.monotonic() - started
    snapshot = stack.snapshot(REPO)
    runs = group_runs(snapshot)
    assert len(runs) == 1
    [(group_sha, group)] = runs.items()
    latest = {r["name"]: r for r in sorted(group, key=lambda r: r["id"])}
    assert latest["wavegate/wave-gate"]["conclusion"] == "failure"
    assert f"#{prs['api']} api" in latest["wavegate/wave-gate"]["title"]
    assert latest["wavegate/territory"]["conclusion"] == "success"
    assert all(r["status"] == "completed" for r in group)
    assert not next(p for p in snapshot["pulls"] if p["number"] == prs["web"])["merged"]
    assert refused_after < 15, f"the queue waited {refused_after:.1f} s for a verdict"

    # api through the queue, then web once it is unlocked: Wavegate turns its gate green, updates
    # the branch from the base, then comments. A push to a queued PR takes it out of the queue (as
    # on GitHub), so queue it only after the comment says the update is done.
    for agent in ("api", "web"):
        if agent == "web":
            wait_until(lambda: any("wavegate-unlocked" in c.body for c in coordinator.get_issue(prs["web"]).get_comments()),
                       60, "web's unlock comment")
        wait_until(lambda n=prs[agent]: gate(coordinator, n) == "success", 60, f"{agent}'s gate to pass")
        stack.admin("POST", f"/_emulator/repos/{REPO}/merge-queue", json={"number": prs[agent]})
        wait_until(lambda n=prs[agent]: coordinator.get_pull(n).merged, 60, f"{agent} to merge through the queue")
    snapshot = stack.snapshot(REPO)
    assert snapshot["merge_order"] == [prs["api"], prs["web"]]
    for sha, group in group_runs(snapshot).items():
        assert group and all(r["status"] == "completed" for r in group), sha
