"""Sections 3–5 on real processes (``demo.stack.Stack``: emulator, gunicorn, RQ workers, Redis db 15):

3. GitHub API budget: the App's REST calls per operation, counted on the emulator's request log
   (``actor`` ``app:*`` or ``jwt``), reads and writes apart, conditional 304s apart, against the
   minimum argued per operation (``minimum``).
4. End to end: a push (contents API, one commit) → the ``wavegate/territory`` run on the new head
   visible through the REST API; and dispatch wall clock.
5. Scale out: a burst of ``synchronize`` deliveries across plans (held by the emulator, released
   at once) processed by 1, 2 and 4 RQ worker processes; CPU of emulator, web and workers apart.
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import redis

from demo.stack import Stack, wait_until

from .common import REDIS_URL, stats, tree_cpu_seconds

TERRITORY = "wavegate/territory"
GATE = "wavegate/wave-gate"
WAIT = 240.0
LATENCY_REPOS = 6
_NUM = re.compile(r"/\d+(?=/|$)")
_SHA = re.compile(r"[0-9a-f]{40}")


def plan_body(agents: int, waves: int = 1) -> str:
    lines = ["Benchmark plan.", "", "```yaml dispatch", "agents:"]
    for i in range(agents):
        lines += [f"  - name: agent-{i}", f"    wave: {1 + i * waves // agents}", "    territory:",
                  f"      - mod{i}/", "    findings:", f'      - "P1: improve mod{i}"']
    lines += ["```", ""]
    return "\n".join(lines)


def repo_files(agents: int) -> dict[str, str]:
    files = {"README.md": "# bench\n"}
    for i in range(agents):
        files[f"mod{i}/__init__.py"] = f"NAME = 'mod{i}'\n"
    return files


class Bench:
    """One stack and the helpers the three sections share."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.redis = redis.Redis.from_url(stack.redis_url)
        self.users: dict[str, object] = {}
        self.blobs: dict[tuple[str, str, str], str] = {}

    # ---------------------------------------------------------------- request log
    def clear_log(self) -> None:
        self.stack.admin("DELETE", "/_emulator/requests")

    def app_calls(self) -> dict[str, int]:
        log = self.stack.admin("GET", "/_emulator/requests") or []
        out: dict = {"reads": 0, "writes": 0, "not_modified": 0, "token": 0, "calls": {}}
        for entry in log:
            actor = str(entry.get("actor") or "")
            if not (actor.startswith("app:") or actor == "jwt"):
                continue
            shape = f"{entry['method']} {_SHA.sub('{sha}', _NUM.sub('/{n}', entry['path']))}"
            if entry.get("status") == 304:
                shape += " (304)"
            out["calls"][shape] = out["calls"].get(shape, 0) + 1
            if entry["method"] == "POST" and entry["path"].endswith("/access_tokens"):
                out["token"] += 1
            elif entry.get("status") == 304:
                out["not_modified"] += 1
            elif entry["method"] in ("GET", "HEAD"):
                out["reads"] += 1
            else:
                out["writes"] += 1
        return out

    def quiet(self, settle: float = 1.5, timeout: float = WAIT) -> None:
        """Wait until webhooks are drained, the queue is empty and the App made no call for
        ``settle`` seconds."""
        deadline = time.monotonic() + timeout
        last, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            self.stack.drain(60)
            n = len(self.stack.admin("GET", "/_emulator/requests") or [])
            busy = self.redis.llen("rq:queue:wavegate") or self.redis.zcard("rq:wip:wavegate")
            if n != last or busy:
                last, since = n, time.monotonic()
            elif time.monotonic() - since >= settle:
                return
            time.sleep(0.2)
        raise TimeoutError("the App did not go quiet")

    # ---------------------------------------------------------------- GitHub side
    def repo(self, full_name: str, login: str = "coordinator", permission: str = "admin"):
        key = f"{login}@{full_name}"
        if key not in self.users:
            self.users[key] = self.stack.user(login, full_name, permission).get_repo(full_name)
        return self.users[key]

    def territory_done(self, full_name: str, sha: str) -> bool:
        repo = self.repo(full_name)
        return any(run.name == TERRITORY and run.status == "completed"
                   for run in repo.get_commit(sha).get_check_runs())

    def dispatch(self, full_name: str, agents: int, waves: int = 1) -> tuple[object, dict[str, object], float]:
        """Open and label a plan issue; wait until every PR carries a completed territory run.
        Returns (issue, {branch: PR}, seconds)."""
        repo = self.repo(full_name)
        issue = repo.create_issue("Benchmark plan", body=plan_body(agents, waves))
        start = time.monotonic()
        issue.add_to_labels("dispatch")

        def ready():
            pulls = {pr.head.ref: pr for pr in repo.get_pulls(state="open")}
            if len(pulls) < agents:
                return None
            return pulls if all(self.territory_done(full_name, pr.head.sha) for pr in pulls.values()) else None

        pulls = wait_until(ready, WAIT, f"{agents} PRs with a territory run", interval=0.25)
        return issue, pulls, time.monotonic() - start

    def push(self, full_name: str, branch: str, path: str, text: str) -> str:
        """One commit through the contents API as the agent (one REST call); returns its SHA."""
        repo = self.repo(full_name, "agent-bot", "write")
        key = (full_name, branch, path)
        blob = self.blobs.get(key)
        if blob is None:
            try:
                blob = repo.get_contents(path, ref=branch).sha
            except Exception:  # noqa: BLE001 - absent on that branch: create it
                blob = None
        if blob is None:
            done = repo.create_file(path, "bench push", text, branch=branch)
        else:
            done = repo.update_file(path, "bench push", text, blob, branch=branch)
        self.blobs[key] = done["content"].sha
        return done["commit"].sha

    def push_files(self, full_name: str, branch: str, folder: str, count: int) -> str:
        """One commit changing ``count`` files under ``folder`` (git data API, inline contents)."""
        from github import InputGitTreeElement

        repo = self.repo(full_name, "agent-bot", "write")
        ref = repo.get_git_ref(f"heads/{branch}")
        head = repo.get_git_commit(ref.object.sha)
        stamp = time.time_ns()
        elements = [InputGitTreeElement(f"{folder}/f{i:05d}.py", "100644", "blob", content=f"X = {stamp}\n")
                    for i in range(count)]
        tree = repo.create_git_tree(elements, base_tree=head.tree)
        commit = repo.create_git_commit(f"{count} files", tree, [head])
        ref.edit(commit.sha)
        return commit.sha


_PAGES = 100  # items per list page (per_page=100)
_FILES_CAP = 3000  # GitHub lists at most 3,000 files of a PR


def minimum(op: str) -> dict:
    """The fewest REST calls (reads, writes) operation ``op`` can be done with, as argued here, so
    section 3 can show calls against it. What is counted against it: the App's reads and writes
    that GitHub charges (token mints included), not conditional reads answered 304, which do not
    count against the rate limit (section 3 shows them apart).

    - ``dispatch K agents``: reads 9 — the plan issue, ``.github/wavegate.yml``, the issue's
      comments (the dashboard, or that there is none), the sender's permission, the repository
      (default branch), the base ref, the base tree (pre-flight), one list of the repository's
      PRs and one listing of the plan's branches; writes ``5K + 1`` — per agent an empty commit,
      its ref, the PR and the two check runs, then the dashboard.
    - ``synchronize N files``: reads ``4 + pages`` — the PR (head, ``changed_files``), the plan
      issue (its PR marker names it), the config, one list of the plan's PRs, ``ceil(N/100)``
      file pages (30 at most: GitHub lists 3,000 files), and beyond 3,000 files the compare for
      the merge base and the two trees; writes 2, the two check runs.
    - ``/wavegate refresh`` (4 open PRs): reads 13 — the comment, the config, the issue, the
      sender's permission, the dashboard, the repository, the base ref, the base tree, the PR
      list, and the runs on each open PR's head (a refresh is the request to make sure they show
      the current verdict); the PRs' files did not change since they were last listed (same head,
      same base head), so they are not listed again; writes 1, the reaction (the dashboard is not
      edited when nothing changed). The same for ``/wavegate refresh again``.
    - ``merge unlocking wave 2``: reads 18 — the merged PR, the config, the plan issue, the
      dashboard, the PR list, the repository, the base ref, the base tree, and per unlocked PR
      (2) the runs on its head, whether its head contains the base (compare), its comments (the
      unlock comment is looked for before it is written), its head after ``update-branch`` and
      the runs on that head; writes 11 — per unlocked PR the gate on the old head (the case
      later-wave-unlocks-on-merge wants it green there too), ``update-branch``, the unlock
      comment and the two check runs on the new head, then the dashboard.
    Returns ``{"reads", "writes", "total"}``; ``total`` None for an operation not listed."""
    dispatch = re.fullmatch(r"dispatch (\d+) agents", op)
    sync = re.fullmatch(r"synchronize (\d+) files", op)
    if dispatch:
        reads, writes = 9, 5 * int(dispatch[1]) + 1
    elif sync:
        n = int(sync[1])
        reads = 4 + min(_FILES_CAP // _PAGES, -(-n // _PAGES)) + (3 if n > _FILES_CAP else 0)
        writes = 2
    elif op.startswith("/wavegate refresh"):
        reads, writes = 9 + 4, 1
    elif op == "merge unlocking wave 2":
        reads, writes = 18, 11
    else:
        return {"reads": None, "writes": None, "total": None}
    return {"reads": reads, "writes": writes, "total": reads + writes}


def with_minimum(op: str, counts: dict) -> dict:
    """``counts`` (``Bench.app_calls``) with ``minimum`` (``minimum(op)``), ``charged`` (reads +
    writes + token mints: what GitHub counts) and ``over`` (charged − minimum total)."""
    least = minimum(op)
    charged = counts["reads"] + counts["writes"] + counts["token"]
    over = None if least["total"] is None else charged - least["total"]
    return {**counts, "minimum": least, "charged": charged, "over": over}


def budget_table(api: dict) -> str:
    """Section 3 as text: per operation, calls charged against the minimum, 304s apart."""
    lines = [f"{'operation':<24} {'reads':>5} {'writes':>6} {'token':>5} {'charged':>7} {'minimum':>13} "
             f"{'over':>4} {'304':>4}"]
    for op, c in api.items():
        least = c.get("minimum") or {}
        shown = f"{least.get('total')} ({least.get('reads')}+{least.get('writes')})" if least.get("total") else "-"
        lines.append(f"{op:<24} {c['reads']:>5} {c['writes']:>6} {c['token']:>5} {c.get('charged', '-'):>7} "
                     f"{shown:>13} {c.get('over', '-'):>4} {c['not_modified']:>4}")
    return "\n".join(lines)


def _measure(bench: Bench, action, done, what: str) -> dict:
    bench.quiet()
    bench.clear_log()
    start = time.monotonic()
    value = action()
    wait_until(lambda: done(value), WAIT, what, interval=0.1)
    seconds = time.monotonic() - start
    bench.quiet()
    return {**bench.app_calls(), "seconds": round(seconds, 3)}


def api_budget_and_latency(workdir: Path, *, quick: bool = False, pushes: int = 100) -> dict:
    """Sections 3 and 4 on one stack with 2 RQ workers.

    The periodic reconcile runs every ``RECONCILE_INTERVAL`` seconds (env
    ``BENCH_RECONCILE_INTERVAL``, default 3600, the demo stack's own default being 30): at 30 s
    it lands inside most measured windows, and its calls (a whole repository reconcile) would be
    counted as the operation's."""
    out: dict = {"api": {}, "latency": {}}
    sizes = (10, 250) if quick else (10, 250, 3000, 5000)
    interval = os.environ.get("BENCH_RECONCILE_INTERVAL", "3600")
    out["reconcile_interval_s"] = int(interval)
    with Stack(workdir=workdir, redis_url=REDIS_URL, rq_workers=2,
               extra_env={"RECONCILE_INTERVAL": interval}) as stack:
        bench = Bench(stack)
        full = "bench/budget"
        stack.create_repo(full, repo_files(20), required_checks=[TERRITORY, GATE])
        bench.repo(full)  # users first, so their set-up calls are not counted
        bench.repo(full, "agent-bot", "write")
        bench.quiet()

        # dispatch of 4 agents in two waves (reused for synchronize, unlock and refresh)
        bench.clear_log()
        issue4, pulls4, secs = bench.dispatch(full, 4, waves=2)
        bench.quiet()
        out["api"]["dispatch 4 agents"] = {**bench.app_calls(), "seconds": round(secs, 3)}
        branch0 = sorted(pulls4)[0]
        for n in sizes:
            out["api"][f"synchronize {n} files"] = _measure(
                bench, lambda n=n: bench.push_files(full, branch0, "mod0", n),
                lambda sha: bench.territory_done(full, sha), f"territory run after {n} files")
        out["api"]["/wavegate refresh"] = _measure(
            bench, lambda: issue4.create_comment("/wavegate refresh"), lambda _: True, "refresh")
        # again, nothing changed in between: what a steady state costs (change sets memoised)
        out["api"]["/wavegate refresh again"] = _measure(
            bench, lambda: issue4.create_comment("/wavegate refresh"), lambda _: True, "refresh")
        # a merge that unlocks wave 2: merge wave 1's PRs (the second one unlocks)
        repo = bench.repo(full)
        wave1 = [pulls4[b] for b in sorted(pulls4)[:2]]
        repo.get_pull(wave1[0].number).merge(merge_method="merge", sha=repo.get_pull(wave1[0].number).head.sha)
        bench.quiet()

        def merge_second():
            pr = repo.get_pull(wave1[1].number)
            wait_until(lambda: _mergeable(repo, pr.number), WAIT, "wave 1's second PR to be green")
            pr = repo.get_pull(wave1[1].number)
            pr.merge(merge_method="merge", sha=pr.head.sha)

        def unlocked(_):
            wave2 = [repo.get_pull(pulls4[b].number) for b in sorted(pulls4)[2:]]
            return all(_gate(repo, pr.head.sha) == "success" for pr in wave2)

        out["api"]["merge unlocking wave 2"] = _measure(bench, merge_second, unlocked, "wave 2 to unlock")

        # dispatch of 20 agents (wall clock with the write pacing in force)
        bench.clear_log()
        issue20, pulls20, secs = bench.dispatch(full, 20)
        bench.quiet()
        out["api"]["dispatch 20 agents"] = {**bench.app_calls(), "seconds": round(secs, 3)}

        for op, counts in out["api"].items():
            out["api"][op] = with_minimum(op, counts)
        print(budget_table(out["api"]), file=sys.stderr, flush=True)

        # section 4: push → territory run visible, on installations whose write window is not already
        # filled by the dispatches above (the pacer holds every installation to 80 writes a minute,
        # and each push costs 2 check-run writes): pushes rotate over LATENCY_REPOS installations.
        targets = []
        for k in range(LATENCY_REPOS):
            name = f"bench/latency{k}"
            stack.create_repo(name, repo_files(4), required_checks=[TERRITORY, GATE])
            bench.repo(name)
            bench.repo(name, "agent-bot", "write")
            bench.repo(name).create_issue("Benchmark plan", body=plan_body(4)).add_to_labels("dispatch")
        for k in range(LATENCY_REPOS):
            name = f"bench/latency{k}"
            targets += [(name, b) for b in sorted(_wait_pulls(bench, name, 4))]
        bench.quiet()
        latencies = []
        for i in range(pushes):
            full_name, branch = targets[(i * 5) % len(targets)]
            folder = branch.rsplit("/", 1)[-1].replace("agent-", "mod")
            sha = bench.push(full_name, branch, f"{folder}/touch.py", f"N = {i}\n")
            start = time.monotonic()
            wait_until(lambda full_name=full_name, sha=sha: bench.territory_done(full_name, sha), 60,
                       "territory run", interval=0.02)
            latencies.append((time.monotonic() - start) * 1000)
        latencies.sort()
        out["latency"] = {
            "pushes": len(latencies),
            "installations": LATENCY_REPOS,
            "p50_ms": round(statistics.median(latencies), 1),
            "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 1),
            "max_ms": round(latencies[-1], 1),
            "stats_ms": stats(latencies, 1),
        }
    return out


def _checks(repo, sha: str) -> dict[str, object]:
    runs: dict[str, object] = {}
    for run in repo.get_commit(sha).get_check_runs():
        if run.name not in runs or run.id > runs[run.name].id:
            runs[run.name] = run
    return runs


def _gate(repo, sha: str) -> str | None:
    run = _checks(repo, sha).get(GATE)
    return (run.conclusion or run.status) if run else None


def _mergeable(repo, number: int) -> bool:
    runs = _checks(repo, repo.get_pull(number).head.sha)
    return all(name in runs and runs[name].conclusion == "success" for name in (TERRITORY, GATE))


def scale_out(workdir: Path, *, plans: int = 20, deliveries: int = 200, workers=(1, 2, 4), repeats: int = 2) -> dict:
    """Section 5: ``plans`` repositories (one installation and one 2-agent plan each); per round,
    webhooks held, ``deliveries`` pushes spread over the PRs, then released at once and timed
    until every PR's latest head carries a completed territory run."""
    samples: dict[int, dict[str, list[float]]] = {n: {} for n in workers}
    with Stack(workdir=workdir, redis_url=REDIS_URL, rq_workers=max(workers)) as stack:
        bench = Bench(stack)
        prs: list[tuple[str, str]] = []
        for p in range(plans):
            full = f"bench/scale{p:02d}"
            stack.create_repo(full, repo_files(2), required_checks=[TERRITORY, GATE])
            bench.repo(full)
            bench.repo(full, "agent-bot", "write")
        for p in range(plans):
            bench.repo(f"bench/scale{p:02d}").create_issue("Benchmark plan", body=plan_body(2)).add_to_labels("dispatch")
        for p in range(plans):
            full = f"bench/scale{p:02d}"
            pulls = _wait_pulls(bench, full, 2)
            prs += [(full, b) for b in sorted(pulls)]
        bench.quiet()
        for r in range(repeats):
            order = list(workers) if r % 2 == 0 else list(reversed(workers))
            for n in order:
                for i in range(max(workers)):
                    stack.kill(f"worker-{i}")
                for i in range(n):
                    stack.start_worker(i)
                time.sleep(1.5)  # workers registered and idle
                stack.admin("POST", "/_emulator/webhooks/hold")
                heads: dict[tuple[str, str], str] = {}
                for d in range(deliveries):
                    full, branch = prs[d % len(prs)]
                    folder = branch.rsplit("/", 1)[-1].replace("agent-", "mod")
                    heads[(full, branch)] = bench.push(full, branch, f"{folder}/burst.py", f"R = {r}{n}{d}\n")
                def cpu(n=n):
                    return [tree_cpu_seconds(stack.procs["emulator"].pid), tree_cpu_seconds(stack.procs["web"].pid),
                            sum(tree_cpu_seconds(stack.procs[f"worker-{i}"].pid) for i in range(n))]

                cpu0 = cpu()
                start = time.monotonic()
                stack.admin("POST", "/_emulator/webhooks/release", json={"order": "fifo"})
                pending = dict(heads)

                def all_done(pending=pending):
                    for key, sha in list(pending.items()):
                        if bench.territory_done(key[0], sha):
                            del pending[key]
                    return not pending

                wait_until(all_done, WAIT, "every PR's territory run after the burst", interval=0.1)
                seconds = time.monotonic() - start
                cpu1 = cpu()
                got = {"seconds": seconds, "emulator_cpu_s": cpu1[0] - cpu0[0], "web_cpu_s": cpu1[1] - cpu0[1],
                       "workers_cpu_s": cpu1[2] - cpu0[2]}
                for k, v in got.items():
                    samples[n].setdefault(k, []).append(v)
                print(f"  scale-out round {r + 1}/{repeats}: {n} worker(s) {seconds:.1f} s", file=sys.stderr, flush=True)
                bench.quiet()
    result = {f"{n} worker(s)": {k: stats(v, 2) for k, v in m.items()} for n, m in samples.items()}
    base = samples[workers[0]]["seconds"]
    ratios = {f"{n} vs {workers[0]} (time ratio)": stats([b / a for a, b in zip(samples[n]["seconds"], base,
                                                                                strict=False)], 2)
              for n in workers[1:]}
    return {"workers": result, "speedup": ratios, "plans": plans, "deliveries": deliveries, "prs": len(prs),
            "command": "python -m bench --only scale"}


def _wait_pulls(bench: Bench, full: str, agents: int) -> dict[str, object]:
    repo = bench.repo(full)

    def ready():
        pulls = {pr.head.ref: pr for pr in repo.get_pulls(state="open")}
        return pulls if len(pulls) >= agents and all(bench.territory_done(full, pr.head.sha)
                                                     for pr in pulls.values()) else None

    return wait_until(ready, WAIT, f"{full}: {agents} PRs", interval=0.5)


def run(*, quick: bool = False) -> dict:
    """Sections 3 and 4 (``{"api", "latency"}``)."""
    with tempfile.TemporaryDirectory(prefix="wavegate-bench-e2e-") as tmp:
        return api_budget_and_latency(Path(tmp) / "budget", quick=quick, pushes=10 if quick else 100)


def run_scale(*, quick: bool = False) -> dict:
    """Section 5."""
    with tempfile.TemporaryDirectory(prefix="wavegate-bench-scale-") as tmp:
        if quick:
            return scale_out(Path(tmp) / "scale", plans=2, deliveries=8, workers=(1, 2), repeats=1)
        return scale_out(Path(tmp) / "scale")
