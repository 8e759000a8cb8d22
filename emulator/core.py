"""The emulated GitHub's behaviour shared by every area: access checks, ref updates and the
webhooks they cause, check suites, pull request statistics."""

from __future__ import annotations

import contextlib

from flask import g

from .gitrepo import GitRepo, Signature
from .payloads import Payloads
from .rest import ApiError, not_found
from .state import ROLE_RANK, Actor, Repo, State, now_iso
from .webhooks import Sender

# which App permission a request needs, by REST area (GitHub answers 403 "Resource not accessible by
# integration" when the installation lacks it)
WRITE_LEVEL = {"read": 1, "write": 2, "admin": 3}


class Emulator:
    """State plus the behaviour every REST area shares."""

    def __init__(self, state: State):
        self.state = state
        self.payloads = Payloads(state)
        self.sender = Sender(state)
        self.request_log: list[dict] = []
        self.request_seq = 0
        self.rate: dict[str, int] = {}
        self.faults = None  # set by server
        self.agents = None  # scripted agents, set by server

    # -- access ---------------------------------------------------------------------------------
    @property
    def actor(self) -> Actor:
        actor = getattr(g, "actor", None)
        if actor is None:
            raise ApiError(401, "Requires authentication")
        return actor

    def repo(self, owner: str, name: str, need: str = "read", permission: str | None = None) -> Repo:
        """The repository if the current actor may ``need`` (read/triage/write/admin) it.

        Users without access get 404 (GitHub hides private repositories); read-only users asking to
        write get 403 "Must have admin rights to Repository." style answers; installation tokens
        work on the repositories of their installation, limited by the App's ``permission`` level.
        """
        repo = self.state.repos.get(f"{owner}/{name}")
        if repo is None:
            raise not_found()
        actor = self.actor
        if actor.kind == "user":
            role = self.state.role(actor.login, repo.full_name)
            if role is None:
                raise not_found()
            if ROLE_RANK[role] < ROLE_RANK[need]:
                raise ApiError(403, "Must have push access to repository" if need == "write"
                               else "Must have admin rights to Repository.")
        elif actor.kind == "app":
            inst = self.state.installations.get(actor.installation_id)
            if inst is None or repo.full_name not in inst.repos:
                raise not_found()
            app = self.state.apps[actor.app_id]
            # every App can read repository metadata
            if permission and app.permissions and permission != "metadata":
                have = WRITE_LEVEL.get(app.permissions.get(permission, ""), 0)
                want = 2 if need in ("write", "admin", "triage") else 1
                if have < want:
                    raise ApiError(403, "Resource not accessible by integration")
        else:
            raise ApiError(403, "Resource not accessible by integration")
        return repo

    def sender_json(self, actor: Actor | None = None) -> dict:
        return self.payloads.actor(actor or self.actor)

    def actor_login(self, actor: Actor | None = None) -> str:
        return self.payloads.actor_login(actor or self.actor)

    def signature(self, actor: Actor | None = None) -> Signature:
        if actor is None and getattr(g, "actor", None) is None:
            return Signature("GitHub", "noreply@github.com", now_iso())
        login = self.actor_login(actor)
        return Signature(login, f"{login}@users.noreply.emulator", now_iso())

    # -- webhooks -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def acting_as(self, login: str):
        """Within the block, webhooks name ``login`` as sender (GitHub's own actors such as
        ``github-merge-queue[bot]``), whoever made the request that triggered them."""
        previous = g.get("acting_as")
        g.acting_as = login
        try:
            yield
        finally:
            g.acting_as = previous

    def emit(self, repo: Repo, event: str, action: str | None, body: dict, actor: Actor | None = None,
             only_app: int | None = None) -> None:
        """Send ``event``/``action`` to every App installed on ``repo`` and subscribed to ``event``."""
        if g.get("acting_as"):
            sender = self.payloads.user(g.acting_as)
        else:
            sender = self.sender_json(actor) if actor is not None or getattr(g, "actor", None) else None
        for inst in self.state.installations_of_repo(repo.full_name):
            app = self.state.apps.get(inst.app_id)
            if app is None or event not in app.events or (only_app is not None and app.id != only_app):
                continue
            payload = self.payloads.webhook(event, action, body, inst, repo, sender or self.payloads.user(repo.owner))
            self.sender.enqueue(event, action, payload, app.id, inst.id, repo.id)

    # -- refs -----------------------------------------------------------------------------------
    def set_ref(self, repo: Repo, ref: str, sha: str | None, actor: Actor | None = None) -> None:
        """Move (or delete, ``sha`` None) a full ref and send what GitHub sends for it.

        A moved branch that heads an open PR gives ``pull_request`` ``synchronize`` (before/after);
        a branch deleted under an open PR closes it; each new head commit gets a check suite per App.
        """
        before = repo.git.ref_sha(ref)
        if sha is None:
            repo.git.delete_ref(ref)
        else:
            repo.git.update_ref(ref, sha)
            repo.pushed_at = now_iso()
        if not ref.startswith("refs/heads/") or before == sha:
            return
        branch = ref[len("refs/heads/"):]
        if sha is not None and not branch.startswith("gh-readonly-queue/"):
            self.request_suites(repo, sha, branch, before, actor)
        for issue in sorted(repo.issues.values(), key=lambda i: i["number"]):
            pr = issue.get("pull")
            if not pr or issue["state"] != "open":
                continue
            if pr["base_ref"] == branch and sha is not None:
                pr["base_sha"] = sha
                pr["stats"] = None
            if pr["head_ref"] == branch:
                if sha is None:
                    self.close_pull(repo, issue, actor)
                    continue
                pr["head_sha"] = sha
                pr["stats"] = None
                issue["updated_at"] = now_iso()
                self.emit(repo, "pull_request", "synchronize", {
                    "number": issue["number"], "before": before, "after": sha,
                    "pull_request": self.payloads.pull(repo, self.refresh_pull(repo, issue), "webhook")}, actor)
                self.dequeue(repo, issue["number"], "dequeued")

    def close_pull(self, repo: Repo, issue: dict, actor: Actor | None) -> None:
        issue["state"] = "closed"
        issue["closed_at"] = issue["updated_at"] = now_iso()
        self.emit(repo, "pull_request", "closed", {
            "number": issue["number"], "pull_request": self.payloads.pull(repo, issue, "webhook")}, actor)
        self.dequeue(repo, issue["number"], "dequeued")

    def dequeue(self, repo: Repo, number: int, reason: str) -> None:
        """Take PR ``number`` out of the merge queue (hook for the merge-queue module)."""
        mq = getattr(self, "merge_queue", None)
        if mq is not None:
            mq.remove(repo, number, reason)

    # -- check suites ---------------------------------------------------------------------------
    def suite_for(self, repo: Repo, app_id: int, sha: str, branch: str | None = None,
                  before: str | None = None) -> tuple[dict, bool]:
        """The App's check suite for ``sha`` (created when missing); returns (suite, created)."""
        for suite in repo.check_suites.values():
            if suite["app_id"] == app_id and suite["head_sha"] == sha:
                return suite, False
        sid = self.state.next_id()
        ts = now_iso()
        suite = {"id": sid, "app_id": app_id, "head_sha": sha, "head_branch": branch, "status": "queued",
                 "conclusion": None, "before": before, "created_at": ts, "updated_at": ts,
                 "order": next(self.state.order)}
        repo.check_suites[sid] = suite
        return suite, True

    def request_suites(self, repo: Repo, sha: str, branch: str, before: str | None, actor: Actor | None) -> None:
        """A push of a new head: each installed App with checks gets a suite and ``check_suite`` requested."""
        for inst in self.state.installations_of_repo(repo.full_name):
            app = self.state.apps.get(inst.app_id)
            if app is None or "check_suite" not in app.events:
                continue
            suite, created = self.suite_for(repo, app.id, sha, branch, before)
            if created:
                self.emit(repo, "check_suite", "requested",
                          {"check_suite": self.payloads.check_suite(repo, suite, "webhook")}, actor, only_app=app.id)

    def update_suite(self, repo: Repo, suite: dict, actor: Actor | None) -> None:
        """Recompute a suite's status from its runs; send ``check_suite`` completed on completion."""
        runs = [r for r in repo.check_runs.values() if r["suite_id"] == suite["id"]]
        if not runs:
            return
        if all(r["status"] == "completed" for r in runs):
            rank = ["success", "skipped", "neutral", "stale", "cancelled", "timed_out", "action_required", "failure"]
            conclusion = max((r["conclusion"] for r in runs), key=lambda c: rank.index(c) if c in rank else 0)
            changed = suite["status"] != "completed" or suite["conclusion"] != conclusion
            suite.update(status="completed", conclusion=conclusion, updated_at=now_iso())
            if changed:
                self.emit(repo, "check_suite", "completed",
                          {"check_suite": self.payloads.check_suite(repo, suite, "webhook")}, actor,
                          only_app=suite["app_id"])
        else:
            status = "in_progress" if any(r["status"] != "queued" for r in runs) else "queued"
            suite.update(status=status, conclusion=None, updated_at=now_iso())

    # -- pulls ----------------------------------------------------------------------------------
    def refresh_pull(self, repo: Repo, issue: dict) -> dict:
        """Fill ``issue["pull"]["stats"]`` (commits, files, additions, deletions, mergeable) from git."""
        pr = issue["pull"]
        if pr.get("stats") and pr["stats"].get("key") == (pr["base_sha"], pr["head_sha"]):
            return issue
        git: GitRepo = repo.git
        if issue["state"] == "open":
            head = git.ref_sha(f"refs/heads/{pr['head_ref']}") or pr["head_sha"]
            base = git.ref_sha(f"refs/heads/{pr['base_ref']}") or pr["base_sha"]
            pr["head_sha"], pr["base_sha"] = head, base
        mb = git.merge_base(pr["base_sha"], pr["head_sha"]) or pr["base_sha"]
        files = git.diff(mb, pr["head_sha"])
        if pr["merged"]:
            mergeable, mstate = None, "unknown"
        else:
            mergeable = git.merge_trees(pr["base_sha"], pr["head_sha"]) is not None
            mstate = "clean" if mergeable else "dirty"
            if mergeable and self.required_failures(repo, pr["head_sha"]):
                mstate = "blocked"
        pr["stats"] = {
            "key": (pr["base_sha"], pr["head_sha"]), "merge_base": mb, "files": files,
            "commits": len(git.rev_list(pr["head_sha"], pr["base_sha"])), "changed_files": len(files),
            "additions": sum(f.additions for f in files), "deletions": sum(f.deletions for f in files),
            "mergeable": mergeable, "mergeable_state": mstate,
        }
        return issue

    def latest_runs(self, repo: Repo, sha: str) -> dict[str, dict]:
        """The newest check run of each name on ``sha``."""
        latest: dict[str, dict] = {}
        for run in sorted(repo.check_runs.values(), key=lambda r: r["id"]):
            if run["head_sha"] == sha:
                latest[run["name"]] = run
        return latest

    def required_failures(self, repo: Repo, sha: str) -> list[tuple[str, str]]:
        """[(check name, "expected"|"failing")] for required checks not success/neutral/skipped on ``sha``."""
        latest = self.latest_runs(repo, sha)
        out = []
        for name in repo.required_checks:
            run = latest.get(name)
            if run is None or run["status"] != "completed":
                out.append((name, "expected"))
            elif run["conclusion"] not in ("success", "neutral", "skipped"):
                out.append((name, "failing"))
        return out
