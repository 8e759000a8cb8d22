"""GitHub's end state on the emulator, normalised so two runs of one scenario compare equal when
they reached the same result (commit SHAs differ between runs; names, numbers and verdicts do not)."""

from __future__ import annotations

from collections import Counter

OUR_CHECKS = ("wavegate/territory", "wavegate/wave-gate")


def comment_kind(body: str) -> str:
    if "<!-- wavegate dashboard -->" in body:
        return "dashboard"
    if "wavegate-unlocked" in body:
        return "unlock"
    if "wavegate-removed" in body:
        return "removed"
    return "other"


def normalise(snapshot: dict) -> dict:
    """``{"branches", "pulls", "merge_order", "issues", "checks"}`` with SHAs replaced by the PR
    and branch they stand for."""
    heads = {}
    for pr in snapshot["pulls"]:
        heads[pr["head_sha"]] = f"#{pr['number']} head"
    pulls = sorted((pr["number"], pr["head"], pr["base"], pr["state"], bool(pr["merged"]))
                   for pr in snapshot["pulls"])
    issues = sorted(
        (i["number"], i["state"], i.get("state_reason"),
         tuple(sorted(Counter(comment_kind(c["body"]) for c in i.get("comments", [])).items())))
        for i in snapshot["issues"] if not i.get("pull_request")
    )
    checks = {}
    for sha, runs in snapshot["check_runs"].items():
        if sha not in heads:
            continue
        latest = {}
        for run in sorted(runs, key=lambda r: r["id"]):
            if run["name"] in OUR_CHECKS:
                latest[run["name"]] = run.get("conclusion") or run.get("status")
        checks[heads[sha]] = tuple(sorted(latest.items()))
    return {
        "branches": sorted(snapshot["branches"]),
        "pulls": pulls,
        "merge_order": list(snapshot["merge_order"]),
        "issues": issues,
        "checks": checks,
    }


def duplicates(snapshot: dict) -> list[str]:
    """Objects that exist twice: two PRs for one head branch, two dashboards on one issue, two
    unlock comments on one PR, two runs of one name created on one SHA by the same trigger."""
    found = []
    heads = Counter(pr["head"] for pr in snapshot["pulls"])
    found += [f"{n} PRs for {h}" for h, n in heads.items() if n > 1]
    for issue in snapshot["issues"]:
        kinds = Counter(comment_kind(c["body"]) for c in issue.get("comments", []))
        found += [f"{n} {k} comments on #{issue['number']}" for k, n in kinds.items()
                  if k in ("dashboard", "unlock", "removed") and n > 1]
    return found


def runs_per_head(snapshot: dict) -> dict[str, int]:
    """How many runs of our checks each PR's final head carries."""
    heads = {pr["head_sha"]: pr["number"] for pr in snapshot["pulls"]}
    return {f"#{heads[sha]}": sum(1 for r in runs if r["name"] in OUR_CHECKS)
            for sha, runs in snapshot["check_runs"].items() if sha in heads}


def duplicate_runs(snapshot: dict) -> list[str]:
    """Runs of one of our checks created twice on one SHA. Wavegate creates each check once per
    head and PATCHes it afterwards; only a ``rerequested`` event may add a run, and the fault
    scenarios send none."""
    found = []
    for sha, runs in snapshot["check_runs"].items():
        names = Counter(r["name"] for r in runs if r["name"] in OUR_CHECKS)
        found += [f"{n} {name} runs on {sha[:7]}" for name, n in names.items() if n > 1]
    return found


def differences(clean: dict, other: dict) -> list[str]:
    """One line per part of ``normalise`` that differs between two snapshots (empty when equal)."""
    a, b = normalise(clean), normalise(other)
    out = []
    for key in a:
        if key == "checks":
            for head in sorted(set(a[key]) | set(b[key])):
                if a[key].get(head) != b[key].get(head):
                    out.append(f"checks {head}: {a[key].get(head)} != {b[key].get(head)}")
        elif a[key] != b.get(key):
            out.append(f"{key}: {a[key]} != {b.get(key)}")
    return out
