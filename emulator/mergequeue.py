"""The merge queue: merge-group commits on ``gh-readonly-queue/<base>/pr-<N>-<sha>`` refs.

A group holds the base head, every PR ahead in the queue and this PR. ``merge_group``
``checks_requested`` asks for the required checks on the group head; when every required check's
latest run there is success/neutral/skipped, the base fast-forwards to the group head and the PR is
merged (``destroyed`` reason merged); a failing required check invalidates the group.
"""

from __future__ import annotations

from .core import Emulator
from .rest import ApiError
from .state import Repo, now_iso

BOT = "github-merge-queue[bot]"


class MergeQueue:
    def __init__(self, emu: Emulator):
        self.emu = emu

    def _group_json(self, repo: Repo, entry: dict) -> dict:
        info = repo.git.commit_info(entry["head_sha"])
        return {
            "head_sha": entry["head_sha"], "head_ref": entry["head_ref"], "base_sha": entry["base_sha"],
            "base_ref": f"refs/heads/{entry['base']}",
            "head_commit": {
                "id": info["sha"], "tree_id": info["tree"], "message": info["message"],
                "timestamp": info["committer"]["date"].replace("+00:00", "Z"),
                "author": {"name": info["author"]["name"], "email": info["author"]["email"]},
                "committer": {"name": info["committer"]["name"], "email": info["committer"]["email"]},
            },
        }

    def add(self, repo: Repo, number: int) -> dict:
        """Queue PR ``number``: build its group commit and send ``checks_requested``."""
        issue = repo.issues.get(number)
        if issue is None or "pull" not in issue or issue["state"] != "open":
            raise ApiError(422, "Pull request is not open")
        if any(e["number"] == number for e in repo.queue):
            raise ApiError(422, "Pull request is already queued")
        pr = issue["pull"]
        git = repo.git
        base = pr["base_ref"]
        parent = repo.queue[-1]["head_sha"] if repo.queue else git.ref_sha(f"refs/heads/{base}")
        tree = git.merge_trees(parent, pr["head_sha"])
        if tree is None:
            raise ApiError(422, "Pull request has merge conflicts")
        msg = f"Merge pull request #{number} from {repo.owner}/{pr['head_ref']}\n\n{issue['title']}"
        sha = git.commit_tree(tree, [parent, pr["head_sha"]], msg, self.emu.signature())
        entry = {"number": number, "head_sha": sha, "base_sha": parent, "base": base, "pr_head": pr["head_sha"],
                 "head_ref": f"refs/heads/gh-readonly-queue/{base}/pr-{number}-{pr['head_sha']}",
                 "enqueued_at": now_iso(), "state": "AWAITING_CHECKS"}
        repo.queue.append(entry)
        self.emu.set_ref(repo, entry["head_ref"], sha)
        self.emu.emit(repo, "merge_group", "checks_requested", {"merge_group": self._group_json(repo, entry)})
        self.evaluate(repo)
        return entry

    def remove(self, repo: Repo, number: int, reason: str) -> None:
        """Take PR ``number`` out of the queue (``destroyed`` with ``reason``)."""
        entry = next((e for e in repo.queue if e["number"] == number), None)
        if entry is None:
            return
        repo.queue.remove(entry)
        self._destroy(repo, entry, reason)

    def _destroy(self, repo: Repo, entry: dict, reason: str) -> None:
        if repo.git.ref_sha(entry["head_ref"]):
            repo.git.delete_ref(entry["head_ref"])
        self.emu.emit(repo, "merge_group", "destroyed", {"reason": reason,
                                                         "merge_group": self._group_json(repo, entry)})

    def evaluate(self, repo: Repo) -> None:
        """Merge the queue's front group once its required checks pass; drop groups whose checks fail.

        The queue acts as ``github-merge-queue[bot]``: the App whose check run completed a group
        must not see its own bot as the sender of the resulting merge (it would ignore it).
        """
        with self.emu.acting_as(BOT):
            self._evaluate(repo)

    def _evaluate(self, repo: Repo) -> None:
        while repo.queue:
            entry = repo.queue[0]
            failures = self.emu.required_failures(repo, entry["head_sha"])
            if any(how == "failing" for _, how in failures):
                repo.queue.pop(0)
                self._destroy(repo, entry, "invalidated")
                continue
            if failures:
                return
            repo.queue.pop(0)
            issue = repo.issues[entry["number"]]
            self.emu.set_ref(repo, entry["head_ref"], None)
            self.emu.finish_merge(repo, issue, entry["head_sha"], BOT)
            self.emu.emit(repo, "merge_group", "destroyed", {"reason": "merged",
                                                             "merge_group": self._group_json(repo, entry)})
