"""Local fleet figures (``python -m bench.local``, or the ``local`` section of ``python -m bench``).

1. ``wavegate worktrees`` for 10 agents (the whole command: interpreter start-up, pre-flight,
   worktrees, prompts, hooks) beside a bare ``git worktree add -b`` loop for the same 10 branches
   in the same run; the ratio is the overhead Wavegate adds.
2. ``wavegate guard`` as the pre-commit hook runs it (``sh .git/hooks/pre-commit`` in an agent's
   worktree: shell, interpreter start-up, imports, ``git diff --cached``, classification) on a
   commit of 1,000 staged paths against a 100-agent plan; target < 200 ms. Two commits: every
   path the agent's own (accepted), and paths spread over every territory (refused). With the
   floors: ``python -c pass`` and ``git diff --cached`` alone.

Wall-clock times in ms, median (min–max) of alternated repeats, and the CPU time of the accepted
guard's process tree (less sensitive to a shared machine's load, which is recorded too).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .common import ROOT, stats

COMMAND = "python -m bench.local"
GIT_ENV = {"GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com", "GIT_COMMITTER_NAME": "Bench",
           "GIT_COMMITTER_EMAIL": "bench@example.com", "GIT_CONFIG_NOSYSTEM": "1"}


def plan_text(agents: int) -> str:
    """A one-wave plan: agent ``svcNNN`` owns ``services/svcNNN/`` and ``docs/svcNNN.md``."""
    lines = ["```yaml dispatch", "base: main", "agents:"]
    for i in range(agents):
        lines += [f"  - name: svc{i:03d}", f"    territory: [services/svc{i:03d}/, docs/svc{i:03d}.md]"]
    return "\n".join(lines + ["```", ""])


def wavegate() -> list[str]:
    """The installed ``wavegate`` command beside this interpreter (what a user runs)."""
    script = Path(sys.executable).with_name("wavegate")
    return [str(script)] if script.exists() else [sys.executable, "-m", "service.cli_local"]


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, **GIT_ENV, "GIT_CONFIG_GLOBAL": str(home / "gitconfig")}


def _git(env: dict, cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(cwd), *args], env=env, check=True, capture_output=True)


def make_repo(root: Path, agents: int, env: dict) -> Path:
    """A repository with one file per agent territory, and the plan beside it (``ISSUE.md``)."""
    repo = root / "repo"
    for i in range(agents):
        (repo / "services" / f"svc{i:03d}").mkdir(parents=True, exist_ok=True)
        (repo / "services" / f"svc{i:03d}" / "main.py").write_text("pass\n")
    _git(env, root, "init", "-q", "-b", "main", str(repo))
    _git(env, repo, "add", "-A")
    _git(env, repo, "commit", "-q", "-m", "Initial files")
    (root / "ISSUE.md").write_text(plan_text(agents))
    return repo


def _cpu_children_ms() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * 1000


def _timed(argv: list[str], env: dict, cwd: Path, ok: tuple[int, ...] = (0,), cpu: list | None = None) -> float:
    """Wall-clock ms of one run of ``argv``; its CPU ms (the whole process tree) go to ``cpu``."""
    before = _cpu_children_ms()
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, check=False)
    elapsed = (time.perf_counter() - started) * 1000
    if cpu is not None:
        cpu.append(_cpu_children_ms() - before)
    if done.returncode not in ok:
        raise RuntimeError(f"{argv[:4]} exited {done.returncode}: {done.stderr.decode()[-400:]}")
    return elapsed


def _bare_loop(repo: Path, into: Path, agents: int, env: dict) -> float:
    started = time.perf_counter()
    for i in range(agents):
        _git(env, repo, "worktree", "add", "-q", "-b", f"bare/{i}", str(into / f"svc{i:03d}"), "main")
    return (time.perf_counter() - started) * 1000


def _reset(repo: Path, into: Path, env: dict) -> None:
    shutil.rmtree(into, ignore_errors=True)
    _git(env, repo, "worktree", "prune")
    branches = subprocess.run(["git", "-C", str(repo), "for-each-ref", "--format=%(refname:short)", "refs/heads/"],
                              env=env, capture_output=True, text=True, check=True).stdout.split()
    doomed = [b for b in branches if b != "main"]
    if doomed:
        _git(env, repo, "branch", "-q", "-D", *doomed)


def bench_worktrees(root: Path, agents: int, repeats: int) -> dict:
    """``wavegate worktrees`` for ``agents`` agents vs the bare ``git worktree add`` loop."""
    env = _env(root)
    repo = make_repo(root, agents, env)
    into = root / "fleet"
    command = [*wavegate(), "worktrees", str(root / "ISSUE.md"), "--into", str(into)]
    ours, bare = [], []
    for _ in range(repeats):
        _reset(repo, into, env)
        bare.append(_bare_loop(repo, into, agents, env))
        _reset(repo, into, env)
        ours.append(_timed(command, env, repo))
    m_ours, m_bare = stats(ours, 1), stats(bare, 1)
    return {"agents": agents, "repeats": repeats, "wavegate_ms": m_ours, "bare_git_ms": m_bare,
            "ratio_median": round(m_ours["median"] / m_bare["median"], 2)}


def _stage(tree: Path, paths: list[str], env: dict) -> None:
    for p in paths:
        (tree / p).parent.mkdir(parents=True, exist_ok=True)
        (tree / p).write_text("x\n")
    _git(env, tree, "add", "-A")


def bench_guard(root: Path, agents: int, paths: int, repeats: int) -> dict:
    """The pre-commit hook on ``paths`` staged paths against an ``agents``-agent plan."""
    env = _env(root)
    repo = make_repo(root, agents, env)
    into = root / "fleet"
    subprocess.run([*wavegate(), "worktrees", str(root / "ISSUE.md"), "--into", str(into)],
                   env=env, cwd=repo, check=True, capture_output=True)
    hook = subprocess.run(["git", "-C", str(repo), "rev-parse", "--git-path", "hooks/pre-commit"], env=env,
                          capture_output=True, text=True, check=True).stdout.strip()
    hook_path = str((repo / hook).resolve()) if not os.path.isabs(hook) else hook
    own, spread = into / "svc000", into / "svc001"
    _stage(own, [f"services/svc000/m{j // 100}/f{j}.py" for j in range(paths)], env)
    _stage(spread, [f"services/svc{j % agents:03d}/n{j // agents}.py" for j in range(paths)], env)
    samples: dict[str, list[float]] = {"accepted": [], "refused": [], "python_start": [], "git_diff": [],
                                       "accepted_cpu": []}
    for _ in range(repeats):
        samples["accepted"].append(_timed(["sh", hook_path], env, own, cpu=samples["accepted_cpu"]))
        samples["refused"].append(_timed(["sh", hook_path], env, spread, ok=(1,)))
        samples["python_start"].append(_timed([sys.executable, "-c", "pass"], env, own))
        samples["git_diff"].append(_timed(["git", "diff", "--cached", "--name-only", "-z", "--no-renames"], env, own))
    out = {"agents": agents, "staged_paths": paths, "repeats": repeats, "target_ms": 200}
    out.update({f"{k}_ms": stats(v, 1) for k, v in samples.items()})
    return out


def run(quick: bool = False) -> dict:
    """Both measurements in temporary repositories; ``quick``: tiny sizes (smoke test)."""
    with tempfile.TemporaryDirectory(prefix="wavegate-bench-local-") as tmp:
        base = Path(tmp)
        (base / "w").mkdir()
        (base / "g").mkdir()
        return {
            "command": COMMAND, "python": sys.version.split()[0], "loadavg_1m": round(os.getloadavg()[0], 2),
            "worktrees": bench_worktrees(base / "w", agents=2 if quick else 10, repeats=1 if quick else 5),
            "guard": bench_guard(base / "g", agents=5 if quick else 100, paths=20 if quick else 1000,
                                 repeats=2 if quick else 15),
        }


def rows(result: dict) -> list[tuple[str, str, str]]:
    """The ``python -m bench`` table rows of this section."""
    w, g = result["worktrees"], result["guard"]

    def mmm(d: dict) -> str:
        return f"{d['median']} ({d['min']}–{d['max']})"

    return [
        ("6 local", f"worktrees for {w['agents']} agents, ms: wavegate / bare git",
         f"{mmm(w['wavegate_ms'])} / {mmm(w['bare_git_ms'])} = {w['ratio_median']}×"),
        ("6 local", f"guard, {g['staged_paths']:,} staged × {g['agents']} agents, ms (accepted / refused)",
         f"{mmm(g['accepted_ms'])} / {mmm(g['refused_ms'])}; target < {g['target_ms']}"),
        ("6 local", "guard accepted, CPU ms of the hook's process tree", mmm(g["accepted_cpu_ms"])),
        ("6 local", "guard floors, ms: python start-up / git diff --cached",
         f"{mmm(g['python_start_ms'])} / {mmm(g['git_diff_ms'])}"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    result = run(quick=args.quick)
    for section, what, figure in rows(result):
        print(f"{section:<8} {what:<62} {figure}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
