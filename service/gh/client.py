"""``PyGithubPort``: the ``GitHubPort`` over PyGithub's ``Requester`` (App auth, token refresh,
transport retries) with an explicit path per call, so each operation costs exactly the requests its
docstring lists — no hidden lazy GETs — and returns records, never PyGithub objects (those pickle
with their token). Writes are paced per installation (``pacing``); GETs are conditional (``memo``)."""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import requests
from github import Auth, GithubException, GithubRetry
from requests.utils import parse_header_links

from ..core.launch import WorkflowRun
from ..core.model import Annotation, ChangedFile, ChangeSet, CheckOutput, FileSource
from ..errors import Conflict, NotFound, PermissionDenied, RateLimited, TransientGitHubError
from ..records import CheckRunData, CommentData, IssueData, PullData, RepoData, TreeData
from . import memo as memos
from . import parse
from .errors import map_error, wait_seconds
from .memo import ChangeMemo
from .pacing import NoPacer, Pacer
from .parse import ANNOTATIONS_PER_REQUEST, PER_PAGE, header, list_is_complete, output_payload, tree_changes

log = logging.getLogger(__name__)

# A rate-limit pause up to this long (seconds) is slept out in the job; a longer one raises
# RateLimited so RQ reschedules the job instead of holding a worker. Below the Redis pacer's
# 30 s write-lock expiry, since an idempotent write may wait while holding its slot.
INLINE_PAUSE = 20.0
INLINE_RETRIES = 3  # sends of one request after short rate limits, before the job's own retry
WRITE_IN_DOUBT = 10.0  # seconds the installation is held after a write that got no answer


class _Retry(GithubRetry):
    """Transport retries for 5xx and resets on idempotent methods only. 403/429 are never retried
    here: the adapter maps rate limits to ``RateLimited`` so the job is rescheduled instead of a
    worker sleeping; POSTs are not re-sent blindly, the use cases look before re-creating."""

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code in (403, 429):
            return False
        return super().is_retry(method, status_code, has_retry_after)

    def sleep(self, response: Any = None) -> None:
        """urllib3 calls this after each failed attempt and before sending the request again:
        after the backoff, the installation's shared pause is looked up once more (``_gate``),
        so a retry queued here while another process met a rate limit is not sent inside the
        pause. Raises ``RateLimited`` (through requests and PyGithub) when the pause is long."""
        super().sleep(response)
        check = getattr(_gate, "check", None)
        if check is not None:
            check()


# The pause check of the request this thread is sending (``PyGithubPort._send``), for the
# transport's retries: urllib3 copies a ``Retry`` per attempt, so the check cannot live on it.
_gate = threading.local()


def default_retry() -> _Retry:
    """Bounded: 3 retries, exponential backoff from 1 s, on 500-599 for GET/PUT/PATCH/DELETE."""
    return _Retry(total=3, backoff_factor=1, status_forcelist=list(range(500, 600)),
                  allowed_methods=frozenset({"GET", "HEAD", "PUT", "PATCH", "DELETE"}),
                  respect_retry_after_header=False, raise_on_status=False)



_limited_streak: dict[str, int] = {}  # installation → consecutive rate-limited answers


def _drop_installation_token(requester: Any) -> bool:
    """Forget the cached installation token so the next request mints a new one. PyGithub keeps
    it in a private attribute of ``AppInstallationAuth`` and refreshes it only near its expiry.
    Returns False when the client does not authenticate as an installation."""
    auth = getattr(requester, "auth", None)
    if not isinstance(auth, Auth.AppInstallationAuth):
        return False
    setattr(auth, "_AppInstallationAuth__installation_authorization", None)  # noqa: B010 - name-mangled, see docstring
    return True


class PyGithubPort:
    """``GitHubPort`` over a PyGithub ``Github`` client acting as one installation.

    ``requester`` is the client's PyGithub ``Requester``; ``pacer`` spaces writes per ``key``;
    ``memo`` keeps PR change sets (default: this process only); with ``dry_run`` writes are
    logged (method and path only) and not sent, and return placeholder
    records.
    """

    def __init__(self, requester: Any, *, key: str = "0", pacer: Pacer | None = None,
                 dry_run: bool = False, bot_login: str | None = None, memo: ChangeMemo | None = None) -> None:
        self._req = requester
        self._key = key
        self._pacer = pacer or NoPacer()
        self._memo = memo or ChangeMemo()
        self.dry_run = dry_run
        self.bot_login = bot_login

    # -- transport

    def _call(self, verb: str, path: str, *, params: dict[str, Any] | None = None,
              body: Any = None, headers: dict[str, str] | None = None) -> tuple[dict[str, Any], Any]:
        """One request (``path`` relative or absolute), after any rate-limit pause of the
        installation. A rate-limited answer pauses the whole installation (every job and
        process sharing the pacer) for its wait; a short one (≤ ``INLINE_PAUSE`` s) is waited
        out here and the request sent again, at most ``INLINE_RETRIES`` times, except POSTs:
        GitHub may have created the object, so the job's retry looks before creating.
        Raises ``service.errors`` types; ``RateLimited`` when the pause is longer."""
        request = f"{verb} {path.split('?', 1)[0]}"
        attempt = 0
        while True:
            self._await_pause(request)
            try:
                result = self._conditional(path, params, headers) if verb == "GET" and body is None \
                    else self._send(verb, path, params, body, headers)
            except (GithubException, requests.exceptions.RequestException) as exc:
                error = map_error(exc, request)
                if verb != "GET" and isinstance(exc, requests.exceptions.Timeout | requests.exceptions.ConnectionError):
                    # The write's answer never came, but GitHub may still apply it (it processes a
                    # request for up to 10 s). Hold the installation so no job looks for the object
                    # (look before create) before it could have landed: a duplicate otherwise.
                    self._pacer.pause(self._key, WRITE_IN_DOUBT)
                if isinstance(error, RateLimited) and isinstance(exc, GithubException):
                    # a secondary limit with no header to go by: 60 s, doubling while it repeats
                    streak = _limited_streak.get(self._key, 0)
                    _limited_streak[self._key] = streak + 1
                    error.retry_after = wait_seconds(exc.headers, attempt=streak)
                    self._pacer.pause(self._key, error.retry_after)
                    if verb != "POST" and attempt < INLINE_RETRIES and error.retry_after <= INLINE_PAUSE:
                        attempt += 1
                        continue
                raise error from None
            _limited_streak.pop(self._key, None)
            return result

    def _await_pause(self, request: str) -> None:
        left = self._pacer.wait_pause(self._key, INLINE_PAUSE)
        if left > 0:
            raise RateLimited(f"{request}: not sent, the installation is rate limited for {left:.0f} s",
                              retry_after=left)

    def _conditional(self, path: str, params: dict[str, Any] | None,
                     headers: dict[str, str] | None) -> tuple[dict[str, Any], Any]:
        """A GET sent with ``If-None-Match`` when an earlier answer is kept; a 304 (PyGithub
        returns it as headers with no body) gives the kept answer back."""
        key = (self._key, path, tuple(sorted((params or {}).items())), tuple(sorted((headers or {}).items())))
        kept = memos.etags.get(key)
        sent = dict(headers or {})
        if kept is not None:
            sent["If-None-Match"] = kept[0]
        answer_headers, data = self._send("GET", path, params, None, sent or None)
        etag = header(answer_headers, "etag")
        if kept is not None and data is None and etag in (None, kept[0]):
            return kept[1], kept[2]
        if etag and data is not None:
            memos.etags.put(key, etag, answer_headers, data)
        return answer_headers, data

    def _send(self, verb: str, path: str, params: dict[str, Any] | None, body: Any,
              headers: dict[str, str] | None) -> tuple[dict[str, Any], Any]:
        """Sends once through PyGithub; every further send of the same request (the transport's
        retries, the re-send after a rejected token) first looks the installation's pause up
        again: another process may have met a rate limit meanwhile."""
        request = f"{verb} {path.split('?', 1)[0]}"
        _gate.check = lambda: self._await_pause(request)
        try:
            return self._req.requestJsonAndCheck(verb, path, parameters=params, input=body,
                                                 headers=headers)
        except GithubException as exc:
            # GitHub may reject an installation token before its stated expiry (revoked,
            # rotated): mint a fresh one and send the request once more. A 401 answers
            # before anything was done, so repeating it cannot duplicate a write.
            if exc.status != 401 or not _drop_installation_token(self._req):
                raise
            self._await_pause(request)
            return self._req.requestJsonAndCheck(verb, path, parameters=params, input=body,
                                                 headers=headers)
        finally:
            _gate.check = None

    def _write(self, verb: str, path: str, body: Any = None, *,
               headers: dict[str, str] | None = None) -> Any:
        if self.dry_run:
            log.info("dry run: %s %s not sent", verb, path)
            return None
        # Wait out a pause before taking the installation's write slot, not while holding it.
        self._await_pause(f"{verb} {path.split('?', 1)[0]}")
        with self._pacer.write(self._key):
            return self._call(verb, path, body=body, headers=headers)[1]

    def _pages(self, path: str, params: dict[str, Any] | None = None,
               key: str | None = None) -> Iterator[dict[str, Any]]:
        url: str | None = path
        query: dict[str, Any] | None = {**(params or {}), "per_page": PER_PAGE}
        while url:
            headers, data = self._call("GET", url, params=query)
            items = data.get(key, []) if key else data
            yield from items or ()
            url = None
            for link in parse_header_links(header(headers, "link") or ""):
                if link.get("rel") == "next":
                    url, query = link["url"], None
            if not items:
                break

    @staticmethod
    def _q(value: str) -> str:
        return quote(value, safe="/")

    # -- reads

    def repository(self, repo: str) -> RepoData:
        """``GET /repos/{repo}``."""
        d = self._call("GET", f"/repos/{repo}")[1]
        return RepoData(full_name=d["full_name"], default_branch=d["default_branch"])

    def get_issue(self, repo: str, number: int) -> IssueData:
        """``GET /repos/{repo}/issues/{n}``."""
        return parse.issue(self._call("GET", f"/repos/{repo}/issues/{number}")[1])

    def open_issues(self, repo: str, label: str) -> list[IssueData]:
        """``GET /repos/{repo}/issues?state=open&labels=L`` (every page); PRs left out."""
        return [parse.issue(d) for d in self._pages(f"/repos/{repo}/issues",
                                               {"state": "open", "labels": label})
                if "pull_request" not in d]

    def permission(self, repo: str, login: str) -> str:
        """The real role (``admin``, ``maintain``, ``write``, ``triage``, ``read``) from
        ``GET /repos/{repo}/collaborators/{login}/permission`` (``role_name``; ``permission`` maps
        maintain to write and triage to read); ``none`` for a non-collaborator (404)."""
        try:
            d = self._call("GET", f"/repos/{repo}/collaborators/{self._q(login)}/permission")[1]
        except NotFound:
            return "none"
        return d.get("role_name") or d.get("permission") or "none"

    def file_text(self, repo: str, path: str, ref: str | None = None) -> str | None:
        """The UTF-8 text of a file (``GET /repos/{repo}/contents/{path}``), None when absent."""
        try:
            d = self._call("GET", f"/repos/{repo}/contents/{self._q(path)}",
                           params={"ref": ref} if ref else None)[1]
        except NotFound:
            return None
        if not isinstance(d, dict) or d.get("type") != "file":
            return None
        return base64.b64decode(d.get("content") or "").decode("utf-8", errors="replace")

    def branch_sha(self, repo: str, branch: str) -> str | None:
        """The commit a branch points at (``GET /repos/{repo}/git/ref/heads/{branch}``), or None.

        A conditional read in every worker process: the last answer and its ``ETag`` are shared
        through the memo's Redis, so a process that never read the ref still gets a 304 (not
        charged) while the branch has not moved. A 304 only confirms the ETag sent, so an answer
        kept by another process is as good as this one's."""
        path = f"/repos/{repo}/git/ref/heads/{self._q(branch)}"
        key = (self._key, path, (), ())  # ``_conditional``'s key of a GET with no query
        shared_key = f"{self._key}:{path}"
        kept = memos.etags.get(key)
        if kept is None and (shared := self._memo.shared_answer(shared_key)) is not None:
            memos.etags.put(key, shared[0], {}, shared[1])
            kept = (shared[0], {}, shared[1])
        try:
            d = self._call("GET", f"/repos/{repo}/git/ref/heads/{self._q(branch)}")[1]
        except NotFound:
            return None
        now = memos.etags.get(key)
        if now is not None and (kept is None or now[0] != kept[0]):
            self._memo.share_answer(shared_key, now[0], now[2])
        return d["object"]["sha"]

    def branch_heads(self, repo: str, prefix: str) -> dict[str, str]:
        """Branch → head SHA of every branch whose name starts with ``prefix`` (e.g.
        ``wavegate/42/``): ``GET /repos/{repo}/git/matching-refs/heads/{prefix}``, one request
        (the endpoint is not paginated); {} when none matches."""
        data = self._call("GET", f"/repos/{repo}/git/matching-refs/heads/{self._q(prefix)}")[1]
        return {d["ref"].removeprefix("refs/heads/"): d["object"]["sha"] for d in data or ()
                if str(d.get("ref", "")).startswith("refs/heads/")}

    def tree(self, repo: str, sha: str) -> TreeData:
        """``GET /repos/{repo}/git/trees/{sha}?recursive=1``: the tree's own SHA and, by path,
        every entry a PR can change — blobs (files, executables, symlinks) and commits
        (submodules) — each with its identity ``"<mode> <type> <sha>"`` (``parse.tree_entries``),
        so a mode-only change or a submodule bump differs between two trees."""
        d = self._call("GET", f"/repos/{repo}/git/trees/{sha}", params={"recursive": "1"})[1]
        return TreeData(sha=d.get("sha", ""), blobs=parse.tree_entries(d.get("tree")),
                        truncated=bool(d.get("truncated")))

    def find_pull(self, repo: str, head_branch: str) -> PullData | None:
        """The PR whose head is ``head_branch`` of this repository (forks never), open first,
        else the newest: ``GET /repos/{repo}/pulls?head=owner:branch&state=all``."""
        owner = repo.split("/", 1)[0]
        found = [parse.pull(d) for d in self._pages(f"/repos/{repo}/pulls",
                                               {"head": f"{owner}:{head_branch}", "state": "all"})]
        found = [p for p in found if p.head_ref == head_branch and p.same_repo and p.base_repo == repo]
        found.sort(key=lambda p: (p.state == "open", p.number), reverse=True)
        return found[0] if found else None

    def recent_pulls(self, repo: str) -> list[PullData]:
        """The newest ``PER_PAGE`` PRs in any state, newest first: one request
        (``GET /repos/{repo}/pulls?state=all&sort=created&direction=desc&per_page=100``). A
        plan's PRs are usually all on it; list items carry no ``changed_files``."""
        data = self._call("GET", f"/repos/{repo}/pulls",
                          params={"state": "all", "sort": "created", "direction": "desc",
                                  "per_page": PER_PAGE})[1]
        return [parse.pull(d) for d in data or ()]

    def open_pulls(self, repo: str) -> list[PullData]:
        """Every open PR (``GET /repos/{repo}/pulls?state=open``, all pages)."""
        return [parse.pull(d) for d in self._pages(f"/repos/{repo}/pulls", {"state": "open"})]

    def get_pull(self, repo: str, number: int) -> PullData:
        """``GET /repos/{repo}/pulls/{n}`` (carries ``merged`` and ``changed_files``)."""
        return parse.pull(self._call("GET", f"/repos/{repo}/pulls/{number}")[1])

    def pull_changes(self, repo: str, pull: PullData, *, base_sha: str | None = None,
                     known: ChangeSet | None = None) -> ChangeSet:
        """Every path the PR changes. ``GET /pulls/{n}`` first when ``pull.changed_files`` is
        unknown (listed PRs), then ``GET /pulls/{n}/files?per_page=100``, every page; when the
        list is capped (3,000) or its count differs from ``changed_files``, the merge base's and the
        head's recursive trees are diffed instead (``GET compare`` for the merge base, two
        ``GET git/trees``); a truncated tree gives ``FileSource.TRUNCATED`` (fail closed).

        With ``base_sha`` (the current head of the PR's base branch) the result is memoised by
        (PR, head, base head) in ``ChangeMemo``: no request at all for a PR read before. GitHub
        lists the files of the head the PR has *when asked*, so before storing, the PR is read
        again (a conditional GET, normally a 304) and nothing is stored when its head moved.

        ``known`` is a set known without asking GitHub — the empty set of a branch this App just
        created with one empty commit on ``base_sha``, a fact about those two commits, so no
        re-read either —: it is memoised (with ``base_sha``) and returned, no request sent."""
        memo_key = self._memo_key(repo, pull, base_sha) if base_sha else None
        if known is not None:
            if memo_key is not None:
                self._memo.put(memo_key, known)
            return known
        if memo_key is not None and (kept := self._memo.get(memo_key)) is not None:
            return kept
        changes = self._list_changes(repo, pull)
        if memo_key is not None and self.get_pull(repo, pull.number).head_sha == pull.head_sha:
            self._memo.put(memo_key, changes)
        return changes

    def _memo_key(self, repo: str, pull: PullData, base_sha: str) -> str:
        return f"{self._key}:{repo}:{pull.number}:{pull.head_sha}:{base_sha}"

    def _list_changes(self, repo: str, pull: PullData) -> ChangeSet:
        if pull.changed_files is None:
            # A PR from a list has no ``changed_files``: without it a list that GitHub cut short
            # below the cap would pass for complete. Usually a 304 (the PR was read before).
            pull = self.get_pull(repo, pull.number)
        files = []
        for d in self._pages(f"/repos/{repo}/pulls/{pull.number}/files"):
            files.append(ChangedFile(path=d["filename"], status=d.get("status") or "modified",
                                     previous_path=d.get("previous_filename")))
        listed, changed = len(files), pull.changed_files
        if list_is_complete(listed, changed):
            return ChangeSet(files=tuple(files), source=FileSource.FILES, listed=listed,
                             changed=changed)
        base = self.merge_base(repo, pull.base_ref, pull.head_sha)
        base_tree = self.tree(repo, base)
        head_tree = base_tree if base_tree.truncated else self.tree(repo, pull.head_sha)
        if base_tree.truncated or head_tree.truncated:
            return ChangeSet(files=tuple(files), source=FileSource.TRUNCATED, listed=listed,
                             changed=changed)
        diff = tree_changes(base_tree, head_tree)
        return ChangeSet(files=diff.files, source=FileSource.TREE, listed=listed, changed=changed)

    def merge_base(self, repo: str, base: str, head: str) -> str:
        """``GET /repos/{repo}/compare/{base}...{head}`` → ``merge_base_commit.sha``."""
        d = self._call("GET", f"/repos/{repo}/compare/{self._q(base)}...{self._q(head)}",
                       params={"per_page": 1})[1]
        return d["merge_base_commit"]["sha"]

    def contains(self, repo: str, commit: str, container: str) -> bool:
        """True when ``commit`` is an ancestor of (or equal to) ``container``: the compare of
        ``commit...container`` is ``ahead`` or ``identical``."""
        d = self._call("GET", f"/repos/{repo}/compare/{commit}...{container}",
                       params={"per_page": 1})[1]
        return d.get("status") in ("ahead", "identical")

    def check_runs(self, repo: str, sha: str) -> list[CheckRunData]:
        """Every check run on ``sha`` (``GET /repos/{repo}/commits/{sha}/check-runs``, all
        pages), newest first as GitHub lists them."""
        return [parse.check_run(d) for d in self._pages(f"/repos/{repo}/commits/{sha}/check-runs",
                                                   {"filter": "all"}, key="check_runs")]

    def comments(self, repo: str, issue: int) -> list[CommentData]:
        """``GET /repos/{repo}/issues/{n}/comments``, every page, oldest first."""
        return [parse.comment(d) for d in self._pages(f"/repos/{repo}/issues/{issue}/comments")]

    def get_comment(self, repo: str, comment_id: int) -> CommentData:
        """``GET /repos/{repo}/issues/comments/{id}``."""
        return parse.comment(self._call("GET", f"/repos/{repo}/issues/comments/{comment_id}")[1])

    # -- writes

    def create_branch(self, repo: str, branch: str, base_sha: str, *, tree_sha: str | None = None,
                      message: str = "") -> str:
        """A branch holding one empty commit on ``base_sha`` (GitHub refuses a PR with no
        commits): ``GET git/commits/{base}`` for the tree unless ``tree_sha`` is given,
        ``POST git/commits``, ``POST git/refs``. A 422 "Reference already exists" reuses the
        branch (``GET git/ref/heads/{branch}``). Returns the branch head SHA."""
        if tree_sha is None:
            tree_sha = self._call("GET", f"/repos/{repo}/git/commits/{base_sha}")[1]["tree"]["sha"]
        commit = self._write("POST", f"/repos/{repo}/git/commits",
                             {"message": message or f"Start {branch}", "tree": tree_sha,
                              "parents": [base_sha]})
        sha = commit["sha"] if commit else base_sha
        try:
            self._write("POST", f"/repos/{repo}/git/refs", {"ref": f"refs/heads/{branch}", "sha": sha})
        except Conflict as exc:
            if "already exists" not in str(exc).lower():
                raise
            existing = self.branch_sha(repo, branch)
            if existing is None:
                raise
            return existing
        return sha

    def create_pull(self, repo: str, base: str, head: str, title: str, body: str, *,
                    look_first: bool = True) -> PullData:
        """Looks for a PR of ``head`` first (unless the caller just did: ``look_first=False``) and
        reuses it; else ``POST /repos/{repo}/pulls``.
        After a failed or ambiguous create (5xx, timeout, 422) it looks again before raising, so a
        PR GitHub created anyway is reused, never duplicated. Rate limits are raised as is: the
        retried job looks first."""
        existing = self.find_pull(repo, head) if look_first else None
        if existing is not None:
            return existing
        try:
            d = self._write("POST", f"/repos/{repo}/pulls",
                            {"title": title, "head": head, "base": base, "body": body})
        except RateLimited:
            raise
        except (TransientGitHubError, Conflict):
            again = self.find_pull(repo, head)
            if again is not None:
                return again
            raise
        if d is None:  # dry run
            return PullData(number=0, state="open", head_ref=head, head_sha="", base_ref=base,
                            head_repo=repo, base_repo=repo, title=title, body=body)
        return parse.pull(d)

    def _annotate(self, repo: str, run_id: int, out: CheckOutput, rest: tuple[Annotation, ...]) -> None:
        for i in range(0, len(rest), ANNOTATIONS_PER_REQUEST):
            batch = rest[i:i + ANNOTATIONS_PER_REQUEST]
            self._write("PATCH", f"/repos/{repo}/check-runs/{run_id}",
                        {"output": {"title": out.title, "summary": out.summary,
                                    "annotations": [parse.annotation(a) for a in batch]}})

    def create_check_run(self, repo: str, sha: str, output: CheckOutput,
                         external_id: str | None = None) -> CheckRunData:
        """``POST /repos/{repo}/check-runs`` with ``head_sha`` (required, never empty) and the
        first 50 annotations; one ``PATCH`` per further 50 (GitHub appends them)."""
        if not sha:
            raise ValueError("a check run needs a head_sha")
        first = output.annotations[:ANNOTATIONS_PER_REQUEST]
        body = {"name": output.name, "head_sha": sha, **output_payload(output, first)}
        if external_id or output.external_id:
            body["external_id"] = external_id or output.external_id
        d = self._write("POST", f"/repos/{repo}/check-runs", body)
        if d is None:
            return CheckRunData(id=0, name=output.name, head_sha=sha, status=output.status,
                                conclusion=output.conclusion, title=output.title)
        run = parse.check_run(d)
        self._annotate(repo, run.id, output, output.annotations[ANNOTATIONS_PER_REQUEST:])
        return run

    def update_check_run(self, repo: str, run: CheckRunData, output: CheckOutput) -> CheckRunData:
        """``PATCH /repos/{repo}/check-runs/{id}`` with the new output (annotations in batches
        of 50; they append to the run's existing ones)."""
        first = output.annotations[:ANNOTATIONS_PER_REQUEST]
        payload = output_payload(output, first)
        if output.external_id:
            payload["external_id"] = output.external_id  # the plan version the new output judged
        d = self._write("PATCH", f"/repos/{repo}/check-runs/{run.id}", payload)
        self._annotate(repo, run.id, output, output.annotations[ANNOTATIONS_PER_REQUEST:])
        return parse.check_run(d) if d else run

    def create_comment(self, repo: str, issue: int, body: str) -> CommentData:
        """``POST /repos/{repo}/issues/{n}/comments``."""
        d = self._write("POST", f"/repos/{repo}/issues/{issue}/comments", {"body": body})
        return parse.comment(d) if d else CommentData(id=0, body=body)

    def edit_comment(self, repo: str, comment_id: int, body: str) -> CommentData:
        """``PATCH /repos/{repo}/issues/comments/{id}``."""
        d = self._write("PATCH", f"/repos/{repo}/issues/comments/{comment_id}", {"body": body})
        return parse.comment(d) if d else CommentData(id=comment_id, body=body)

    def add_reaction(self, repo: str, comment_id: int, content: str) -> None:
        """``POST /repos/{repo}/issues/comments/{id}/reactions`` (``+1``, ``eyes`` …)."""
        self._write("POST", f"/repos/{repo}/issues/comments/{comment_id}/reactions",
                    {"content": content})

    def edit_pull_body(self, repo: str, number: int, body: str) -> PullData:
        """``PATCH /repos/{repo}/pulls/{n}`` with ``body`` only (title, state and base untouched).
        Returns the updated PR."""
        d = self._write("PATCH", f"/repos/{repo}/pulls/{number}", {"body": body})
        if d is None:  # dry run
            return PullData(number=number, state="open", head_ref="", head_sha="", base_ref="",
                            head_repo=repo, base_repo=repo, body=body)
        return parse.pull(d)

    def update_branch(self, repo: str, number: int, expected_head_sha: str) -> None:
        """``PUT /repos/{repo}/pulls/{n}/update-branch`` with ``expected_head_sha`` (a moved head
        gives 422 → ``Conflict``)."""
        self._write("PUT", f"/repos/{repo}/pulls/{number}/update-branch",
                    {"expected_head_sha": expected_head_sha})

    def edit_issue_body(self, repo: str, number: int, body: str) -> IssueData:
        """``PATCH /repos/{repo}/issues/{n}`` with ``body`` only (title, state and labels
        untouched; GitHub then sends ``issues.edited`` with the App as sender). Returns the issue."""
        d = self._write("PATCH", f"/repos/{repo}/issues/{number}", {"body": body})
        if d is None:  # dry run
            return IssueData(number=number, title="", body=body, state="open", labels=(), user="")
        return parse.issue(d)

    def close_issue(self, repo: str, number: int) -> None:
        """``PATCH /repos/{repo}/issues/{n}`` with ``state: closed, state_reason: completed``."""
        self._write("PATCH", f"/repos/{repo}/issues/{number}",
                    {"state": "closed", "state_reason": "completed"})

    # -- launching agents (DESIGN §3.8)

    def dispatch_workflow(self, repo: str, workflow: str, body: dict[str, object]) -> dict[str, object] | None:
        """``POST /repos/{repo}/actions/workflows/{workflow}/dispatches`` (``launch.dispatch_request``
        body). With ``return_run_details`` GitHub answers 200 with ``workflow_run_id``, ``run_url`` and
        ``html_url`` (changelog 2026-02-19); a GitHub without it answers 204: None. Needs ``actions: write``."""
        d = self._write("POST", f"/repos/{repo}/actions/workflows/{self._q(workflow)}/dispatches", body)
        return d if isinstance(d, dict) else None

    def workflow_runs(self, repo: str, *, event: str = "workflow_dispatch") -> list[WorkflowRun]:
        """``GET /repos/{repo}/actions/runs?event=…``, the first page (newest first): the runs a
        launch without a recorded run id is matched against (``launch.match_run``)."""
        data = self._call("GET", f"/repos/{repo}/actions/runs", params={"event": event, "per_page": PER_PAGE})[1]
        return [parse.workflow_run(d) for d in (data or {}).get("workflow_runs", ())]

    def get_workflow_run(self, repo: str, run_id: int) -> WorkflowRun:
        """``GET /repos/{repo}/actions/runs/{run_id}``."""
        return parse.workflow_run(self._call("GET", f"/repos/{repo}/actions/runs/{int(run_id)}")[1])

    def assign_agent(self, repo: str, number: int, body: dict[str, object], *, token: str) -> None:
        """``POST /repos/{repo}/issues/{n}/assignees`` with ``agent_assignment``
        (``launch.copilot_assignment``; changelog 2025-12-03), sent with the operator's user
        ``token``: GitHub refuses it with an installation token. The token goes in the header
        only, never in a log line or an error message."""
        if self.dry_run:
            log.info("dry run: POST /repos/%s/issues/%s/assignees not sent", repo, number)
            return
        base = str(getattr(self._req, "base_url", None) or "https://api.github.com").rstrip("/")
        url = f"{base}/repos/{repo}/issues/{int(number)}/assignees"
        with self._pacer.write(self._key):
            try:
                answer = requests.post(url, json=body, timeout=30, headers={
                    "Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"})
            except requests.exceptions.RequestException as exc:
                raise TransientGitHubError(f"POST /repos/{repo}/issues/{number}/assignees: {type(exc).__name__}") from None
        if answer.status_code >= 300:
            raise _user_token_error(answer.status_code, f"POST /repos/{repo}/issues/{number}/assignees")


def _user_token_error(status: int, request: str) -> Exception:
    """The ``service.errors`` type of a refused user-token request (no body: it may echo input)."""
    if status == 404:
        return NotFound(f"{request}: 404")
    if status in (409, 422):
        return Conflict(f"{request}: {status}")
    if status in (401, 403):
        return PermissionDenied(f"{request}: {status} (the user token is not accepted)")
    return TransientGitHubError(f"{request}: {status}")
