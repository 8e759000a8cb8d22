"""Case files-list-capped.md: every page is read; a capped or inconsistent list falls back to the
tree diff; a truncated tree fails closed."""

from service.core.model import TERRITORY_CHECK
from service.usecases import check_pull

from .fakes import API_WEB_PLAN as PLAN
from .fakes import REPO, cf, dispatched, plan_body

GEN = [cf(f"services/api/gen/model_{i:04d}.py", "added") for i in range(3000)]
EXTRA = [cf(f"services/api/more/m_{i:03d}.py", "added") for i in range(149)] + [cf("apps/web/src/app.tsx")]


def _fake():
    fake = dispatched(plan_body(PLAN), files=["apps/web/src/app.tsx", "README.md"], first_number=40)
    return fake


def _verdict(fake, sha):
    check_pull(fake, REPO, 40, sha)
    run = fake.latest(sha, TERRITORY_CHECK)
    return run, fake.run_outputs[run.id][-1]


def test_a_capped_list_uses_the_tree_diff():
    fake = _fake()
    sha = fake.push(40, GEN + EXTRA)  # 3,150 changed, the list shows the first 3,000
    run, out = _verdict(fake, sha)
    assert run.conclusion == "failure"
    assert [a.path for a in out.annotations] == ["apps/web/src/app.tsx"]
    assert "#41" in run.summary
    assert fake.count("read", "tree") == 2
    assert fake.count("read", "pull_files") == 30


def test_a_prime_truncated_tree_fails_closed():
    fake = _fake()
    sha = fake.push(40, GEN + EXTRA)
    fake.truncated.add(sha)
    run, _ = _verdict(fake, sha)
    assert (run.status, run.conclusion) == ("completed", "failure")
    assert "3,150" in run.summary or "3150" in run.summary
    assert "3,000" in run.summary or "3000" in run.summary
    assert "truncated" in run.summary.lower()


def test_b_second_page_is_read():
    fake = _fake()
    files = [cf(f"services/api/f{i:03d}.py") for i in range(144)] + [cf("apps/web/src/app.tsx")]
    sha = fake.push(40, files)
    run, out = _verdict(fake, sha)
    assert run.conclusion == "failure"
    assert [a.path for a in out.annotations] == ["apps/web/src/app.tsx"]
    assert fake.count("read", "pull_files") == 2 and fake.count("read", "tree") == 0


def test_control_exactly_3000_listed_and_changed():
    fake = _fake()
    sha = fake.push(40, GEN)
    run, _ = _verdict(fake, sha)
    assert run.conclusion == "success"
    assert fake.count("read", "tree") == 0


def test_below_cap_count_mismatch_switches_to_tree():
    fake = _fake()
    sha = fake.push(40, [cf("services/api/a.py"), cf("apps/web/src/app.tsx")], changed_files=3)
    fake.pull_files[(40, sha)] = [cf("services/api/a.py")]  # the list misses an entry
    run, out = _verdict(fake, sha)
    assert fake.count("read", "tree") == 2
    assert run.conclusion == "failure"
    assert [a.path for a in out.annotations] == ["apps/web/src/app.tsx"]
