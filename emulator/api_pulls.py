"""Pull requests: create, list, get, edit, files, commits, merge and update-branch."""

from __future__ import annotations

from flask import Flask, request

from .core import Emulator
from .rest import ApiError, answer, json_body, not_found, paginate
from .state import now_iso

FILES_CAP = 3000  # GET /pulls/{n}/files lists at most 3,000 files however it is paged


def register(app: Flask, emu: Emulator) -> None:
    """Add pull request routes to ``app``."""
    st = emu.state
    pl = emu.payloads

    def get_pull(repo, number: int) -> dict:
        issue = repo.issues.get(number)
        if issue is None or "pull" not in issue:
            raise not_found()
        return emu.refresh_pull(repo, issue)

    @app.get("/repos/<owner>/<name>/pulls")
    def list_pulls(owner, name):
        repo = emu.repo(owner, name, permission="pull_requests")
        state = request.args.get("state", "open")
        head = request.args.get("head")
        base = request.args.get("base")
        items = [i for i in repo.issues.values() if "pull" in i and (state == "all" or i["state"] == state)]
        if head:
            owner_part, _, branch = head.partition(":")
            items = [i for i in items if owner_part == repo.owner and i["pull"]["head_ref"] == branch] if branch \
                else [i for i in items if owner_part == repo.owner]
        if base:
            items = [i for i in items if i["pull"]["base_ref"] == base]
        sort = request.args.get("sort", "created")
        direction = request.args.get("direction", "desc")
        items.sort(key=lambda i: (i["updated_at"] if sort in ("updated", "popularity", "long-running") else "",
                                  i["number"]), reverse=direction != "asc")
        page, headers = paginate(items, st.base_url)
        return answer([pl.pull(repo, emu.refresh_pull(repo, i)) for i in page], headers=headers)

    @app.post("/repos/<owner>/<name>/pulls")
    def create_pull(owner, name):
        repo = emu.repo(owner, name, "write", permission="pull_requests")
        body = json_body()
        head, base = body.get("head"), body.get("base")
        if not head or not base:
            raise ApiError(422, "Validation Failed", [{"resource": "PullRequest", "field": "head" if not head
                                                        else "base", "code": "missing_field"}])
        head_branch = head.split(":", 1)[1] if ":" in head else head
        if ":" in head and head.split(":", 1)[0] != repo.owner:
            raise ApiError(422, "Validation Failed", [{"resource": "PullRequest", "field": "head", "code": "invalid"}])
        with st.lock:
            head_sha = repo.git.ref_sha(f"refs/heads/{head_branch}")
            base_sha = repo.git.ref_sha(f"refs/heads/{base}")
            if base_sha is None:
                raise ApiError(422, "Validation Failed", [{"resource": "PullRequest", "field": "base",
                                                           "code": "invalid"}])
            if head_sha is None:
                raise ApiError(422, "Validation Failed", [{"resource": "PullRequest", "field": "head",
                                                           "code": "invalid"}])
            for i in repo.issues.values():
                if "pull" in i and i["state"] == "open" and i["pull"]["head_ref"] == head_branch \
                        and i["pull"]["base_ref"] == base:
                    msg = f"A pull request already exists for {repo.owner}:{head_branch}."
                    raise ApiError(422, "Validation Failed", [{"resource": "PullRequest", "code": "custom",
                                                               "message": msg}])
            if not repo.git.rev_list(head_sha, base_sha):
                msg = f"No commits between {base} and {head_branch}"
                raise ApiError(422, "Validation Failed", [{"resource": "PullRequest", "code": "custom",
                                                           "message": msg}])
            number = repo.next_number
            repo.next_number += 1
            ts = now_iso()
            issue = {"id": st.next_id(), "pr_id": st.next_id(), "number": number, "title": body.get("title") or head_branch,
                     "body": body.get("body"), "state": "open", "state_reason": None, "labels": [],
                     "user": emu.actor_login(), "created_at": ts, "updated_at": ts, "closed_at": None,
                     "closed_by": None, "order": next(st.order),
                     "pull": {"head_ref": head_branch, "base_ref": base, "head_sha": head_sha, "base_sha": base_sha,
                              "draft": bool(body.get("draft")), "merged": False, "merged_at": None,
                              "merged_by": None, "merge_commit_sha": None, "stats": None}}
            repo.issues[number] = issue
            emu.refresh_pull(repo, issue)
            emu.emit(repo, "pull_request", "opened", {"number": number,
                                                      "pull_request": pl.pull(repo, issue, "webhook")})
        return answer(pl.pull(repo, issue), 201, {"Location": f"{st.base_url}/repos/{repo.full_name}/pulls/{number}"})

    @app.get("/repos/<owner>/<name>/pulls/<int:number>")
    def show_pull(owner, name, number):
        repo = emu.repo(owner, name, permission="pull_requests")
        return answer(pl.pull(repo, get_pull(repo, number)))

    @app.patch("/repos/<owner>/<name>/pulls/<int:number>")
    def update_pull(owner, name, number):
        repo = emu.repo(owner, name, "write", permission="pull_requests")
        body = json_body()
        with st.lock:
            issue = get_pull(repo, number)
            pr = issue["pull"]
            changes: dict = {}
            for key in ("title", "body"):
                if key in body and body[key] != issue[key]:
                    changes[key] = {"from": issue[key]}
                    issue[key] = body[key]
            if body.get("base") and body["base"] != pr["base_ref"]:
                new_sha = repo.git.ref_sha(f"refs/heads/{body['base']}")
                if new_sha is None:
                    raise ApiError(422, "Validation Failed", [{"resource": "PullRequest", "field": "base",
                                                               "code": "invalid"}])
                changes["base"] = {"ref": {"from": pr["base_ref"]}, "sha": {"from": pr["base_sha"]}}
                pr["base_ref"], pr["base_sha"], pr["stats"] = body["base"], new_sha, None
            if changes:
                issue["updated_at"] = now_iso()
                emu.emit(repo, "pull_request", "edited", {
                    "number": number, "changes": changes,
                    "pull_request": pl.pull(repo, emu.refresh_pull(repo, issue), "webhook")})
            if "state" in body and body["state"] != issue["state"]:
                if pr["merged"]:
                    raise ApiError(422, "Validation Failed", [{"resource": "PullRequest", "code": "custom",
                                                               "message": "Cannot reopen a merged pull request"}])
                if body["state"] == "closed":
                    emu.close_pull(repo, issue, emu.actor)
                elif body["state"] == "open":
                    issue["state"], issue["closed_at"] = "open", None
                    issue["updated_at"] = now_iso()
                    pr["stats"] = None
                    emu.emit(repo, "pull_request", "reopened", {
                        "number": number, "pull_request": pl.pull(repo, emu.refresh_pull(repo, issue), "webhook")})
        return answer(pl.pull(repo, emu.refresh_pull(repo, issue)))

    @app.get("/repos/<owner>/<name>/pulls/<int:number>/files")
    def pull_files(owner, name, number):
        repo = emu.repo(owner, name, permission="pull_requests")
        issue = get_pull(repo, number)
        entries = issue["pull"]["stats"]["files"][:FILES_CAP]
        page, headers = paginate(entries, st.base_url)
        return answer([pl.diff_entry(repo, e, issue["pull"]["head_sha"]) for e in page], headers=headers)

    @app.get("/repos/<owner>/<name>/pulls/<int:number>/commits")
    def pull_commits(owner, name, number):
        repo = emu.repo(owner, name, permission="pull_requests")
        issue = get_pull(repo, number)
        pr = issue["pull"]
        shas = repo.git.rev_list(pr["head_sha"], pr["stats"]["merge_base"])[:250]
        page, headers = paginate(shas, st.base_url)
        return answer([pl.commit(repo, s) for s in page], headers=headers)

    @app.get("/repos/<owner>/<name>/pulls/<int:number>/merge")
    def is_merged(owner, name, number):
        repo = emu.repo(owner, name, permission="pull_requests")
        issue = get_pull(repo, number)
        if issue["pull"]["merged"]:
            return answer(None, 204)
        raise not_found()

    @app.put("/repos/<owner>/<name>/pulls/<int:number>/merge")
    def merge(owner, name, number):
        repo = emu.repo(owner, name, "write", permission="contents")
        body = json_body()
        with st.lock:
            issue = get_pull(repo, number)
            pr = issue["pull"]
            if issue["state"] != "open" or pr["merged"]:
                raise ApiError(405, "Pull Request is not mergeable")
            if body.get("sha") and body["sha"] != pr["head_sha"]:
                raise ApiError(409, "Head branch was modified. Review and try the merge again.")
            if repo.merge_queue and pr["base_ref"] == repo.default_branch:
                raise ApiError(405, "Changes must be made through the merge queue")
            if pr["base_ref"] == repo.default_branch:
                failures = emu.required_failures(repo, pr["head_sha"])
                if failures:
                    failing = [name for name, how in failures if how == "failing"]
                    if failing:
                        msg = f"Required status check \"{failing[0]}\" is failing."
                    elif len(failures) == 1:
                        msg = f"Required status check \"{failures[0][0]}\" is expected."
                    else:
                        msg = f"{len(failures)} of {len(repo.required_checks)} required status checks are expected."
                    raise ApiError(405, msg)
            method = body.get("merge_method", "merge")
            if method not in ("merge", "squash", "rebase"):
                raise ApiError(422, "Validation Failed", [{"resource": "PullRequest", "field": "merge_method",
                                                           "code": "invalid"}])
            sha = do_merge(repo, issue, method, body)
        return answer({"sha": sha, "merged": True, "message": "Pull Request successfully merged"})

    def do_merge(repo, issue, method: str, body: dict) -> str:
        pr = issue["pull"]
        git = repo.git
        base_head = git.ref_sha(f"refs/heads/{pr['base_ref']}")
        tree = git.merge_trees(base_head, pr["head_sha"])
        if tree is None:
            raise ApiError(405, "Pull Request is not mergeable")
        sig = emu.signature()
        title = body.get("commit_title")
        if method == "merge":
            msg = (title or f"Merge pull request #{issue['number']} from {repo.owner}/{pr['head_ref']}") + \
                "\n\n" + (body.get("commit_message") or issue["title"])
            sha = git.commit_tree(tree, [base_head, pr["head_sha"]], msg, sig)
        elif method == "squash":
            msg = (title or f"{issue['title']} (#{issue['number']})") + "\n\n" + (body.get("commit_message") or "")
            sha = git.commit_tree(tree, [base_head], msg.strip(), sig)
        else:
            # rebase replays each commit's tree; only possible without conflicts on a linear history
            commits = git.rev_list(pr["head_sha"], base_head)
            if not git.is_ancestor(git.merge_base(base_head, pr["head_sha"]) or base_head, base_head) or any(
                    len(git.commit_info(c)["parents"]) > 1 for c in commits):
                raise ApiError(405, "This branch can't be rebased")
            sha = base_head
            for c in commits:
                info = git.commit_info(c)
                t = git.merge_trees(sha, c) if not git.is_ancestor(base_head, c) else info["tree"]
                if t is None:
                    raise ApiError(405, "This branch can't be rebased")
                from .gitrepo import Signature

                author = Signature(info["author"]["name"], info["author"]["email"], info["author"]["date"])
                sha = git.commit_tree(t, [sha], info["message"], author, sig)
        finish_merge(repo, issue, sha)
        return sha

    def finish_merge(repo, issue, sha: str, merged_by: str | None = None) -> None:
        pr = issue["pull"]
        ts = now_iso()
        pr.update(merged=True, merged_at=ts, merged_by=merged_by or emu.actor_login(), merge_commit_sha=sha)
        pr["stats"] = dict(pr["stats"] or {}, mergeable=None, mergeable_state="unknown")
        issue.update(state="closed", closed_at=ts, updated_at=ts)
        repo.merge_order.append(issue["number"])
        emu.set_ref(repo, f"refs/heads/{pr['base_ref']}", sha)
        emu.emit(repo, "pull_request", "closed", {"number": issue["number"],
                                                  "pull_request": pl.pull(repo, issue, "webhook")})

    emu.finish_merge = finish_merge

    @app.put("/repos/<owner>/<name>/pulls/<int:number>/update-branch")
    def update_branch(owner, name, number):
        repo = emu.repo(owner, name, "write", permission="contents")
        body = json_body()
        with st.lock:
            issue = get_pull(repo, number)
            pr = issue["pull"]
            if issue["state"] != "open":
                raise ApiError(422, "Validation Failed")
            if body.get("expected_head_sha") and body["expected_head_sha"] != pr["head_sha"]:
                raise ApiError(422, "expected head sha didn't match current head ref.")
            base_head = repo.git.ref_sha(f"refs/heads/{pr['base_ref']}")
            if repo.git.is_ancestor(base_head, pr["head_sha"]):
                raise ApiError(422, "There are no new commits on the base branch.")
            tree = repo.git.merge_trees(pr["head_sha"], base_head)
            if tree is None:
                raise ApiError(422, "merge conflict between base and head")
            msg = f"Merge branch '{pr['base_ref']}' into {pr['head_ref']}"
            sha = repo.git.commit_tree(tree, [pr["head_sha"], base_head], msg, emu.signature())
            emu.set_ref(repo, f"refs/heads/{pr['head_ref']}", sha)
        return answer({"message": "Updating pull request branch.",
                       "url": f"{st.base_url}/{repo.full_name}/pull/{number}"}, 202)
