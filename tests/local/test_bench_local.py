"""``bench.local`` runs on tiny sizes and reports every figure its table row needs."""

from __future__ import annotations

from bench import local


def test_the_local_section_measures_both_figures(git_env):
    result = local.run(quick=True)
    worktrees, guard = result["worktrees"], result["guard"]
    assert worktrees["wavegate_ms"]["n"] == worktrees["bare_git_ms"]["n"] == 1
    assert worktrees["ratio_median"] > 0
    for key in ("accepted_ms", "refused_ms", "python_start_ms", "git_diff_ms", "accepted_cpu_ms"):
        assert guard[key]["n"] == 2 and guard[key]["median"] > 0
    assert [row[0] for row in local.rows(result)] == ["6 local"] * 4
