"""``FakeGitHub``: an in-memory ``GitHubPort`` for use-case tests.

It keeps one repository's commits (full trees), branches, issues, comments, PRs and check runs,
records every call as the REST requests the real adapter would send (``calls``: one entry per
request, with its kind ``read`` or ``write``), can be told to fail an operation N times with a
given error (before or after its effect), and simulates PR numbers, head SHAs, pushes, merges,
branch updates and check runs.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from service.core.launch import WorkflowRun
from service.core.model import Annotation, ChangedFile, ChangeSet, CheckOutput, FileSource
from service.errors import Conflict, NotFound
from service.gh.parse import ANNOTATIONS_PER_REQUEST, FILES_CAP, PER_PAGE, list_is_complete, tree_changes
from service.records import CheckRunData, CommentData, IssueData, PullData, RepoData, TreeData


@dataclass
class Fault:
    op: str
    error: Exception
    times: int = 1
    skip: int = 0  # let this many calls through first
    after_effect: bool = False  # the operation takes effect, then the error is raised


@dataclass
class Commit:
    sha: str
    tree: dict[str, str]
    parents: tuple[str, ...] = ()


@dataclass
class Pull:
    number: int
    head_ref: str
    head_sha: str
    base_ref: str
    base_sha: str  # the merge base
    title: str
    body: str | None
    state: str = "open"
    merged: bool = False
    merged_at: datetime | None = None
    merge_commit_sha: str | None = None
    created_at: datetime | None = None
    head_repo: str | None = None
    user: str = "wavegate[bot]"
    changed_files: dict[str, int] = field(default_factory=dict)  # head sha → override
    draft: bool = False


def _pages(n: int) -> int:
    return max(1, math.ceil(n / PER_PAGE))


class FakeGitHub:
    """In-memory GitHub for one repository ``repo`` whose default branch holds ``files``."""

    def __init__(self, repo: str = "o/r", *, files: dict[str, str] | list[str] | None = None,
                 default_branch: str = "main", bot_login: str = "wavegate[bot]",
                 first_number: int = 20) -> None:
        self.repo = repo
        self.bot_login = bot_login
        self.default_branch = default_branch
        self.commits: dict[str, Commit] = {}
        self.branches: dict[str, str] = {}
        self.issues: dict[int, IssueData] = {}
        self.comment_store: dict[int, tuple[int, CommentData]] = {}
        self.pulls: dict[int, Pull] = {}
        self.pull_files: dict[tuple[int, str], list[ChangedFile]] = {}
        self.truncated: set[str] = set()
        self.runs: dict[int, CheckRunData] = {}
        self.run_outputs: dict[int, list[CheckOutput]] = {}
        self.roles: dict[str, str] = {}
        self.config_text: str | None = None
        self.texts: dict[tuple[str, str], str] = {}  # (commit sha, path) → file text
        self.reactions: list[tuple[int, str]] = []
        self.calls: list[tuple[str, str]] = []
        self.change_memo: dict[tuple, tuple[tuple, ChangeSet]] = {}  # (PR, head, base head) → files, set
        self.faults: list[Fault] = []
        self.now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        self._seq = 0
        self._next_number = first_number
        self._next_comment = 500
        self._next_run = 9000
        self.workflow_run_store: dict[int, WorkflowRun] = {}  # launching: dispatched runs by id
        self.dispatches: list[tuple[str, dict]] = []  # (workflow, body) of each dispatch
        self.assignments: list[tuple[int, dict]] = []  # (issue, body) of each agent assignment
        self.run_details = True  # False: answer a dispatch with 204, as a GitHub without return_run_details
        tree = dict(files) if isinstance(files, dict) else {p: self._blob(p) for p in files or ()}
        self.branches[default_branch] = self._commit(tree, ())

    # ------------------------------------------------------------------ test controls

    def _sha(self, seed: str) -> str:
        self._seq += 1
        return hashlib.sha1(f"{seed}/{self._seq}".encode()).hexdigest()

    def _blob(self, path: str) -> str:
        return self._sha("blob:" + path)

    def _commit(self, tree: dict[str, str], parents: tuple[str, ...], sha: str | None = None) -> str:
        sha = sha or self._sha("commit")
        self.commits[sha] = Commit(sha, dict(tree), parents)
        return sha

    def _tick(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now

    def fail(self, op: str, error: Exception, *, times: int = 1, skip: int = 0,
             after_effect: bool = False) -> None:
        """Make the next ``times`` calls of ``op`` (a port method name) raise ``error``, after
        letting ``skip`` calls through; with ``after_effect`` the call takes effect first."""
        self.faults.append(Fault(op, error, times, skip, after_effect))

    def _fault(self, op: str) -> Fault | None:
        for f in self.faults:
            if f.op == op and f.times > 0:
                if f.skip > 0:
                    f.skip -= 1
                    return None
                f.times -= 1
                if not f.after_effect:
                    raise f.error
                return f
        return None

    def _read(self, op: str, requests: int = 1) -> None:
        self.calls.extend([("read", op)] * requests)

    def _write(self, op: str, requests: int = 1) -> None:
        self.calls.extend([("write", op)] * requests)

    def add_issue(self, number: int, body: str, *, labels: tuple[str, ...] = ("dispatch",),
                  state: str = "open", title: str = "Dispatch") -> None:
        self.issues[number] = IssueData(number=number, title=title, body=body, state=state,
                                        labels=tuple(labels), user="maintainer-1")

    def edit_issue(self, number: int, **changes) -> None:
        self.issues[number] = replace(self.issues[number], **changes)

    def add_comment(self, issue: int, body: str, user: str = "maintainer-1") -> int:
        cid = self._next_comment
        self._next_comment += 1
        self.comment_store[cid] = (issue, CommentData(id=cid, body=body, user=user, created_at=self._tick()))
        return cid

    def push(self, number: int, files: list[ChangedFile], *, changed_files: int | None = None,
             sha: str | None = None) -> str:
        """A push to PR ``number`` whose whole diff against its merge base is ``files``."""
        p = self.pulls[number]
        tree = dict(self.commits[p.base_sha].tree)
        for f in files:
            if f.previous_path:
                tree.pop(f.previous_path, None) if f.status == "renamed" else None
            if f.status == "removed":
                tree.pop(f.path, None)
            else:
                tree[f.path] = self._blob(f.path)
        new = self._commit(tree, (p.head_sha,), sha)
        p.head_sha = new
        if p.head_repo == self.repo:  # a fork's branch lives in the fork, not here
            self.branches[p.head_ref] = new
        self.pull_files[(number, new)] = list(files)
        if changed_files is not None:
            p.changed_files[new] = changed_files
        return new

    def merge(self, number: int) -> str:
        """Merge PR ``number`` into its base: a merge commit on the base branch."""
        p = self.pulls[number]
        base_head = self.branches[p.base_ref]
        tree = dict(self.commits[base_head].tree)
        tree.update({k: v for k, v in self.commits[p.head_sha].tree.items()
                     if self.commits[p.base_sha].tree.get(k) != v})
        sha = self._commit(tree, (base_head, p.head_sha))
        self.branches[p.base_ref] = sha
        p.state, p.merged, p.merged_at, p.merge_commit_sha = "closed", True, self._tick(), sha
        return sha

    def retarget(self, number: int, base: str, files: list[ChangedFile]) -> None:
        """``pull_request`` ``edited`` with ``changes.base``: the PR now targets ``base`` and
        GitHub's file list for the same head is ``files`` (the diff against the new merge base)."""
        p = self.pulls[number]
        p.base_ref, p.base_sha = base, self.branches[base]
        self.pull_files[(number, p.head_sha)] = list(files)

    def close(self, number: int) -> None:
        self.pulls[number].state = "closed"

    def reopen(self, number: int) -> None:
        self.pulls[number].state = "open"

    def open_pull(self, head_ref: str, *, body: str = "", base: str | None = None,
                  files: list[ChangedFile] | None = None, fork: bool = False,
                  user: str = "someone") -> int:
        """A PR opened by a person (or from a fork when ``fork``)."""
        base = base or self.default_branch
        base_sha = self.branches[base]
        if fork:
            head_sha = self._commit(self.commits[base_sha].tree, (base_sha,))
        else:
            head_sha = self.branches.get(head_ref) or self._commit(self.commits[base_sha].tree, (base_sha,))
            self.branches.setdefault(head_ref, head_sha)
        number = self._new_number()
        self.pulls[number] = Pull(number, head_ref, head_sha, base, base_sha, f"PR {number}", body,
                                  created_at=self._tick(), head_repo="fork/r" if fork else self.repo,
                                  user=user)
        self.pull_files[(number, head_sha)] = []
        if files is not None:
            self.push(number, files)
        return number

    def _new_number(self) -> int:
        n = self._next_number
        self._next_number += 1
        return n

    # ------------------------------------------------------------------ inspection

    def count(self, kind: str | None = None, op: str | None = None) -> int:
        return sum(1 for k, o in self.calls if (kind is None or k == kind) and (op is None or o == op))

    def tally(self) -> Counter:
        return Counter(self.calls)

    def runs_on(self, sha: str, name: str | None = None) -> list[CheckRunData]:
        """Runs on ``sha``, oldest first."""
        return [r for r in sorted(self.runs.values(), key=lambda r: r.id)
                if r.head_sha == sha and (name is None or r.name == name)]

    def latest(self, sha: str, name: str) -> CheckRunData | None:
        runs = self.runs_on(sha, name)
        return runs[-1] if runs else None

    def comments_on(self, issue: int) -> list[CommentData]:
        return [c for i, c in sorted(self.comment_store.values(), key=lambda ic: ic[1].id) if i == issue]

    def pull_by_branch(self, branch: str) -> Pull | None:
        return next((p for p in self.pulls.values() if p.head_ref == branch), None)

    # ------------------------------------------------------------------ GitHubPort: reads

    def _pulldata(self, p: Pull, *, listed: bool = False) -> PullData:
        return PullData(
            number=p.number, state=p.state, head_ref=p.head_ref, head_sha=p.head_sha,
            base_ref=p.base_ref, head_repo=p.head_repo, base_repo=self.repo, title=p.title, body=p.body,
            merged=p.merged, merged_at=p.merged_at, merge_commit_sha=p.merge_commit_sha,
            created_at=p.created_at, user=p.user, draft=p.draft,
            changed_files=None if listed else p.changed_files.get(
                p.head_sha, len(self.pull_files.get((p.number, p.head_sha), []))),
        )

    def repository(self, repo: str) -> RepoData:
        self._read("repository")
        self._fault("repository")
        return RepoData(full_name=self.repo, default_branch=self.default_branch)

    def get_issue(self, repo: str, number: int) -> IssueData:
        self._read("get_issue")
        self._fault("get_issue")
        if number not in self.issues:
            raise NotFound(f"GET /repos/{repo}/issues/{number}: 404")
        return self.issues[number]

    def open_issues(self, repo: str, label: str) -> list[IssueData]:
        found = [i for i in self.issues.values() if i.state == "open" and label in i.labels]
        self._read("open_issues", _pages(len(found)))
        self._fault("open_issues")
        return found

    def permission(self, repo: str, login: str) -> str:
        self._read("permission")
        self._fault("permission")
        return self.roles.get(login, "none")

    def file_text(self, repo: str, path: str, ref: str | None = None) -> str | None:
        self._read("file_text")
        self._fault("file_text")
        if path == ".github/wavegate.yml" and ref is None:
            return self.config_text
        return self.texts.get((ref or self.branches[self.default_branch], path))

    def branch_sha(self, repo: str, branch: str) -> str | None:
        self._read("branch_sha")
        self._fault("branch_sha")
        return self.branches.get(branch)

    def branch_heads(self, repo: str, prefix: str) -> dict[str, str]:
        self._read("branch_heads")
        self._fault("branch_heads")
        return {b: sha for b, sha in self.branches.items() if b.startswith(prefix)}

    def tree(self, repo: str, sha: str) -> TreeData:
        self._read("tree")
        self._fault("tree")
        if sha not in self.commits:
            raise NotFound(f"GET /repos/{repo}/git/trees/{sha}: 404")
        return TreeData(sha="t" + sha[1:], blobs=dict(self.commits[sha].tree), truncated=sha in self.truncated)

    def find_pull(self, repo: str, head_branch: str) -> PullData | None:
        self._read("find_pull")
        self._fault("find_pull")
        found = [p for p in self.pulls.values() if p.head_ref == head_branch and p.head_repo == self.repo]
        found.sort(key=lambda p: (p.state == "open", p.number), reverse=True)
        return self._pulldata(found[0], listed=True) if found else None

    def recent_pulls(self, repo: str) -> list[PullData]:
        self._read("recent_pulls")
        self._fault("recent_pulls")
        newest = sorted(self.pulls.values(), key=lambda p: p.number, reverse=True)[:PER_PAGE]
        return [self._pulldata(p, listed=True) for p in newest]

    def open_pulls(self, repo: str) -> list[PullData]:
        found = [self._pulldata(p, listed=True) for p in self.pulls.values() if p.state == "open"]
        self._read("open_pulls", _pages(len(found)))
        self._fault("open_pulls")
        return found

    def get_pull(self, repo: str, number: int) -> PullData:
        self._read("get_pull")
        self._fault("get_pull")
        if number not in self.pulls:
            raise NotFound(f"GET /repos/{repo}/pulls/{number}: 404")
        return self._pulldata(self.pulls[number])

    def pull_changes(self, repo: str, pull: PullData, *, base_sha: str | None = None,
                     known: ChangeSet | None = None) -> ChangeSet:
        # The adapter's ChangeMemo: with the base head, a set listed before for the same head is
        # reused (no request) and one is kept only when the PR's head did not move meanwhile. A
        # test that rewrites the files of a head (which GitHub cannot do while head and base head
        # stay put) is listed again.
        key = (pull.number, pull.head_sha, base_sha)
        files = tuple(self.pull_files.get((pull.number, pull.head_sha), ()))
        if known is not None:
            if base_sha:
                self.change_memo[key] = (files, known)
            return known
        kept = self.change_memo.get(key) if base_sha else None
        if kept is not None and kept[0] == files:
            return kept[1]
        changes = self._list_changes(repo, pull)
        if base_sha and self.pulls[pull.number].head_sha == pull.head_sha:
            self.change_memo[key] = (files, changes)
        return changes

    def _list_changes(self, repo: str, pull: PullData) -> ChangeSet:
        p = self.pulls[pull.number]
        files = self.pull_files.get((p.number, pull.head_sha), [])
        listed = files[:FILES_CAP]
        changed = p.changed_files.get(pull.head_sha, len(files))
        self._read("pull_files", _pages(len(listed)))
        self._fault("pull_changes")
        if list_is_complete(len(listed), changed):
            return ChangeSet(files=tuple(listed), source=FileSource.FILES, listed=len(listed), changed=changed)
        self._read("merge_base")
        base = self.tree(repo, p.base_sha)
        if base.truncated:
            return ChangeSet(files=tuple(listed), source=FileSource.TRUNCATED, listed=len(listed), changed=changed)
        head = self.tree(repo, pull.head_sha)
        if head.truncated:
            return ChangeSet(files=tuple(listed), source=FileSource.TRUNCATED, listed=len(listed), changed=changed)
        diff = tree_changes(base, head)
        return ChangeSet(files=diff.files, source=FileSource.TREE, listed=len(listed), changed=changed)

    def merge_base(self, repo: str, base: str, head: str) -> str:
        self._read("merge_base")
        return self.branches.get(base, base)

    def _ancestors(self, sha: str) -> set[str]:
        seen, todo = set(), [sha]
        while todo:
            s = todo.pop()
            if s in seen or s not in self.commits:
                continue
            seen.add(s)
            todo.extend(self.commits[s].parents)
        return seen

    def contains(self, repo: str, commit: str, container: str) -> bool:
        self._read("contains")
        self._fault("contains")
        return commit in self._ancestors(container)

    def check_runs(self, repo: str, sha: str) -> list[CheckRunData]:
        found = list(reversed(self.runs_on(sha)))
        self._read("check_runs", _pages(len(found)))
        self._fault("check_runs")
        return found

    def comments(self, repo: str, issue: int) -> list[CommentData]:
        found = self.comments_on(issue)
        self._read("comments", _pages(len(found)))
        self._fault("comments")
        return found

    def get_comment(self, repo: str, comment_id: int) -> CommentData:
        self._read("get_comment")
        self._fault("get_comment")
        if comment_id not in self.comment_store:
            raise NotFound(f"comment {comment_id}")
        return self.comment_store[comment_id][1]

    # ------------------------------------------------------------------ GitHubPort: writes

    def create_branch(self, repo: str, branch: str, base_sha: str, *, tree_sha: str | None = None,
                      message: str = "") -> str:
        if tree_sha is None:
            self._read("get_commit")
        self._write("create_commit")
        fault = self._fault("create_branch")
        sha = self._commit(self.commits[base_sha].tree, (base_sha,))
        self._write("create_ref")
        if branch in self.branches:  # 422 Reference already exists → reuse
            self._read("branch_sha")
            return self.branches[branch]
        self.branches[branch] = sha
        if fault:
            raise fault.error
        return sha

    def create_pull(self, repo: str, base: str, head: str, title: str, body: str, *,
                    look_first: bool = True) -> PullData:
        if look_first:
            existing = self.find_pull(repo, head)
            if existing is not None:
                return existing
        self._write("create_pull")
        fault = self._fault("create_pull")
        if head not in self.branches:
            raise Conflict(f"POST /repos/{repo}/pulls: 422 head {head} does not exist")
        number = self._new_number()
        base_sha = self.branches[base]
        head_sha = self.branches[head]
        self.pulls[number] = Pull(number, head, head_sha, base, base_sha, title, body,
                                  created_at=self._tick(), head_repo=self.repo, user=self.bot_login)
        self.pull_files[(number, head_sha)] = []
        if fault:
            raise fault.error
        return self._pulldata(self.pulls[number])

    def _store_run(self, run: CheckRunData, out: CheckOutput) -> None:
        self.runs[run.id] = run
        self.run_outputs.setdefault(run.id, []).append(out)

    def _annotation_requests(self, annotations: tuple[Annotation, ...]) -> int:
        return max(0, math.ceil(len(annotations) / ANNOTATIONS_PER_REQUEST) - 1)

    def create_check_run(self, repo: str, sha: str, output: CheckOutput,
                         external_id: str | None = None) -> CheckRunData:
        assert sha, "a check run create without head_sha"
        self._write("create_check_run", 1 + self._annotation_requests(output.annotations))
        fault = self._fault("create_check_run")
        self._next_run += 1
        run = CheckRunData(id=self._next_run, name=output.name, head_sha=sha, status=output.status,
                           conclusion=output.conclusion if output.status == "completed" else None,
                           title=output.title, summary=output.summary, text=output.text,
                           app_slug="wavegate", annotations_count=len(output.annotations),
                           external_id=external_id or output.external_id)
        self._store_run(run, output)
        if fault:
            raise fault.error
        return run

    def update_check_run(self, repo: str, run: CheckRunData, output: CheckOutput) -> CheckRunData:
        self._write("update_check_run", 1 + self._annotation_requests(output.annotations))
        self._fault("update_check_run")
        old = self.runs[run.id]
        new = replace(old, status=output.status,
                      conclusion=output.conclusion if output.status == "completed" else None,
                      title=output.title, summary=output.summary, text=output.text,
                      annotations_count=old.annotations_count + len(output.annotations),
                      external_id=output.external_id or old.external_id)
        self._store_run(new, output)
        return new

    def create_comment(self, repo: str, issue: int, body: str) -> CommentData:
        self._write("create_comment")
        fault = self._fault("create_comment")
        cid = self.add_comment(issue, body, user=self.bot_login)
        if fault:
            raise fault.error
        return self.comment_store[cid][1]

    def edit_comment(self, repo: str, comment_id: int, body: str) -> CommentData:
        self._write("edit_comment")
        self._fault("edit_comment")
        issue, old = self.comment_store[comment_id]
        self.comment_store[comment_id] = (issue, replace(old, body=body))
        return self.comment_store[comment_id][1]

    def add_reaction(self, repo: str, comment_id: int, content: str) -> None:
        self._write("add_reaction")
        self._fault("add_reaction")
        self.reactions.append((comment_id, content))

    def edit_pull_body(self, repo: str, number: int, body: str) -> PullData:
        self._write("edit_pull_body")
        self._fault("edit_pull_body")
        self.pulls[number].body = body
        return self._pulldata(self.pulls[number])

    def update_branch(self, repo: str, number: int, expected_head_sha: str) -> None:
        self._write("update_branch")
        self._fault("update_branch")
        p = self.pulls[number]
        if p.head_sha != expected_head_sha:
            raise Conflict(f"PUT /repos/{repo}/pulls/{number}/update-branch: 422 expected head sha mismatch")
        base_head = self.branches[p.base_ref]
        if base_head in self._ancestors(p.head_sha):
            raise Conflict(f"PUT /repos/{repo}/pulls/{number}/update-branch: 422 no new commits on the base")
        files = self.pull_files.get((number, p.head_sha), [])
        tree = dict(self.commits[base_head].tree)
        tree.update({k: v for k, v in self.commits[p.head_sha].tree.items()
                     if self.commits[p.base_sha].tree.get(k) != v})
        sha = self._commit(tree, (p.head_sha, base_head))
        p.head_sha, p.base_sha = sha, base_head
        self.branches[p.head_ref] = sha
        self.pull_files[(number, sha)] = list(files)

    def edit_issue_body(self, repo: str, number: int, body: str) -> IssueData:
        self._write("edit_issue_body")
        self._fault("edit_issue_body")
        self.issues[number] = replace(self.issues[number], body=body)
        return self.issues[number]

    def close_issue(self, repo: str, number: int) -> None:
        self._write("close_issue")
        self._fault("close_issue")
        self.issues[number] = replace(self.issues[number], state="closed")


    # ------------------------------------------------------------------ GitHubPort: launching

    def dispatch_workflow(self, repo: str, workflow: str, body: dict) -> dict | None:
        self._write("dispatch_workflow")
        self._fault("dispatch_workflow")
        self.dispatches.append((workflow, body))
        inputs = body.get("inputs") or {}
        rid = 70000 + len(self.dispatches)
        self.workflow_run_store[rid] = WorkflowRun(
            # GitHub's clock, which launch records (written with the worker's clock) are compared to
            id=rid, status="queued", head_branch=body.get("ref"), created_at=datetime.now(UTC).replace(microsecond=0),
            html_url=f"https://github.com/{repo}/actions/runs/{rid}",
            display_title=f"wavegate {inputs.get('agent')} on {inputs.get('branch')} (PR #{inputs.get('pr')})")
        if not self.run_details:
            return None
        return {"workflow_run_id": rid, "run_url": f"https://api.github.com/repos/{repo}/actions/runs/{rid}",
                "html_url": f"https://github.com/{repo}/actions/runs/{rid}"}

    def workflow_runs(self, repo: str, *, event: str = "workflow_dispatch") -> list[WorkflowRun]:
        self._read("workflow_runs")
        self._fault("workflow_runs")
        return sorted((r for r in self.workflow_run_store.values() if r.event == event), key=lambda r: -r.id)

    def get_workflow_run(self, repo: str, run_id: int) -> WorkflowRun:
        self._read("get_workflow_run")
        self._fault("get_workflow_run")
        if run_id not in self.workflow_run_store:
            raise NotFound(f"GET /repos/{repo}/actions/runs/{run_id}: 404")
        return self.workflow_run_store[run_id]

    def assign_agent(self, repo: str, number: int, body: dict, *, token: str) -> None:
        self._write("assign_agent")
        self._fault("assign_agent")
        self.assignments.append((number, body))

    def finish_run(self, run_id: int, conclusion: str = "success", *, minutes: int = 12) -> WorkflowRun:
        """Test control: the run started and completed ``minutes`` later with ``conclusion``."""
        old = self.workflow_run_store[run_id]
        start = old.created_at or self.now
        new = replace(old, status="completed", conclusion=conclusion, run_started_at=start,
                      updated_at=start + timedelta(minutes=minutes))
        self.workflow_run_store[run_id] = new
        return new


# ---------------------------------------------------------------------- scenario helpers

REPO = "o/r"


def cf(path: str, status: str = "modified", previous: str | None = None) -> ChangedFile:
    """A ``ChangedFile`` as the PR file list gives it."""
    return ChangedFile(path=path, status=status, previous_path=previous)


# Two agents in two waves, ``api`` then ``web``: the plan of the case files about one PR's files.
API_WEB_PLAN = """
agents:
  - name: api
    territory: [/services/api/]
  - name: web
    wave: 2
    territory: [/apps/web/]
"""


def plan_body(yaml_text: str, intro: str = "") -> str:
    """An issue body holding ``yaml_text`` as the ```` ```yaml dispatch ```` block."""
    return f"{intro}\n\n```yaml dispatch\n{yaml_text.strip()}\n```\n"


def dispatched(body: str, *, issue: int = 42, files: list[str] | tuple[str, ...] = (),
               config: str | None = None, first_number: int = 20) -> FakeGitHub:
    """A fake whose issue ``issue`` (labelled by ``maintainer-1``, write role) has been
    dispatched; the call log starts empty."""
    from service.usecases import reconcile_plan

    fake = FakeGitHub(files=list(files), first_number=first_number)
    fake.roles["maintainer-1"] = "write"
    fake.config_text = config
    fake.add_issue(issue, body)
    reconcile_plan(fake, REPO, issue, sender="maintainer-1")
    fake.calls.clear()
    return fake


class FakeClock:
    """A clock for pacers and the adapter: ``clock()`` is the time in seconds, ``clock.sleep(s)``
    records ``s`` in ``slept`` and moves the time on."""

    def __init__(self, start: float = 0.0):
        self.now = start
        self.slept: list[float] = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.now += seconds
