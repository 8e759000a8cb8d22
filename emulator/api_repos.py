"""Repository, branch, commit, compare, contents and git-database endpoints."""

from __future__ import annotations

import base64

from flask import Flask, request

from .core import Emulator
from .gitrepo import GitError
from .rest import ApiError, answer, json_body, not_found, paginate, validation

COMPARE_FILE_LIMIT = 300  # compare lists only the first 300 files


def register(app: Flask, emu: Emulator) -> None:
    """Add repository and git routes to ``app``."""
    st = emu.state
    pl = emu.payloads

    def resolve(repo, ref: str) -> str:
        sha = repo.git.rev_parse(ref if len(ref) == 40 else f"refs/heads/{ref}") or repo.git.rev_parse(ref)
        if sha is None:
            raise ApiError(422, f"No commit found for SHA: {ref}")
        return sha

    @app.get("/repos/<owner>/<name>")
    def get_repo(owner, name):
        repo = emu.repo(owner, name, permission="metadata")
        role = st.role(emu.actor.login, repo.full_name) if emu.actor.kind == "user" else "write"
        return answer(pl.repo(repo, "rest", role))

    @app.get("/repos/<owner>/<name>/branches/<path:branch>")
    def get_branch(owner, name, branch):
        repo = emu.repo(owner, name, permission="metadata")
        sha = repo.git.ref_sha(f"refs/heads/{branch}")
        if sha is None:
            raise ApiError(404, "Branch not found")
        base = f"{st.base_url}/repos/{repo.full_name}"
        protected = branch == repo.default_branch and bool(repo.required_checks)
        return answer({
            "name": branch, "commit": pl.commit(repo, sha),
            "_links": {"self": f"{base}/branches/{branch}", "html": f"{st.base_url}/{repo.full_name}/tree/{branch}"},
            "protected": protected,
            "protection": {"enabled": protected, "required_status_checks": {
                "enforcement_level": "non_admins" if protected else "off", "contexts": list(repo.required_checks),
                "checks": [{"context": c, "app_id": None} for c in repo.required_checks]}},
            "protection_url": f"{base}/branches/{branch}/protection",
        })

    @app.get("/repos/<owner>/<name>/commits/<path:ref>")
    def get_commit(owner, name, ref):
        if ref.endswith("/check-runs") or ref.endswith("/check-suites"):
            raise not_found()
        repo = emu.repo(owner, name, permission="contents")
        sha = resolve(repo, ref)
        info = repo.git.commit_info(sha)
        parent = info["parents"][0] if info["parents"] else None
        entries = repo.git.diff(parent, sha) if parent else repo.git.diff("4b825dc642cb6eb9a060e54bf8d69288fbee4904", sha)
        files = [pl.diff_entry(repo, e, sha) for e in entries]
        page, headers = paginate(files, st.base_url, default=300, maximum=300)
        return answer(pl.commit(repo, sha, page), headers=headers)

    @app.get("/repos/<owner>/<name>/compare/<path:basehead>")
    def compare(owner, name, basehead):
        repo = emu.repo(owner, name, permission="contents")
        if "..." not in basehead:
            raise not_found()
        b, h = basehead.split("...", 1)
        base_sha, head_sha = resolve(repo, b), resolve(repo, h)
        mb = repo.git.merge_base(base_sha, head_sha)
        ahead = len(repo.git.rev_list(head_sha, base_sha))
        behind = len(repo.git.rev_list(base_sha, head_sha))
        status = ("identical" if ahead == 0 and behind == 0 else "ahead" if behind == 0
                  else "behind" if ahead == 0 else "diverged")
        files = [pl.diff_entry(repo, e, head_sha) for e in repo.git.diff(mb or base_sha, head_sha)]
        commits = [pl.commit(repo, c) for c in repo.git.rev_list(head_sha, base_sha)]
        base = f"{st.base_url}/repos/{repo.full_name}"
        html = f"{st.base_url}/{repo.full_name}/compare/{basehead}"
        return answer({
            "url": f"{base}/compare/{basehead}", "html_url": html, "permalink_url": html,
            "diff_url": html + ".diff", "patch_url": html + ".patch", "base_commit": pl.commit(repo, base_sha),
            "merge_base_commit": pl.commit(repo, mb or base_sha), "status": status, "ahead_by": ahead,
            "behind_by": behind, "total_commits": ahead, "commits": commits[:250],
            "files": files[:COMPARE_FILE_LIMIT],
        })

    @app.get("/repos/<owner>/<name>/contents/", defaults={"path": ""})
    @app.get("/repos/<owner>/<name>/contents/<path:path>")
    def get_contents(owner, name, path):
        repo = emu.repo(owner, name, permission="contents")
        ref = request.args.get("ref") or repo.default_branch
        sha = resolve(repo, ref)
        path = path.strip("/")
        base = f"{st.base_url}/repos/{repo.full_name}"
        if path:
            found = repo.git.file_at(sha, path)
            if found is None:
                raise not_found()
            typ, obj = found
        else:
            typ, obj = "tree", repo.git.commit_info(sha)["tree"]

        def item(p: str, t: str, s: str, size: int | None) -> dict:
            kind = "file" if t == "blob" else "dir"
            return {"type": kind, "size": size or 0, "name": p.rsplit("/", 1)[-1], "path": p, "sha": s,
                    "url": f"{base}/contents/{p}?ref={ref}", "git_url": f"{base}/git/{'blobs' if kind == 'file' else 'trees'}/{s}",
                    "html_url": f"{st.base_url}/{repo.full_name}/blob/{ref}/{p}",
                    "download_url": f"{st.base_url}/{repo.full_name}/raw/{ref}/{p}" if kind == "file" else None,
                    "_links": {"self": f"{base}/contents/{p}?ref={ref}",
                               "git": f"{base}/git/blobs/{s}", "html": f"{st.base_url}/{repo.full_name}/blob/{ref}/{p}"}}

        if typ == "tree":
            entries = repo.git.ls_tree(obj, recursive=False)
            return answer([item(f"{path}/{e['path']}".lstrip("/"), e["type"], e["sha"], e["size"]) for e in entries])
        data = repo.git.read_blob(obj)
        out = item(path, "blob", obj, len(data))
        out.update(encoding="base64", content=base64.encodebytes(data).decode())
        return answer(out)

    @app.put("/repos/<owner>/<name>/contents/<path:path>")
    def put_contents(owner, name, path):
        repo = emu.repo(owner, name, "write", permission="contents")
        body = json_body()
        branch = body.get("branch") or repo.default_branch
        ref = f"refs/heads/{branch}"
        head = repo.git.ref_sha(ref)
        if head is None:
            raise not_found()
        if "message" not in body or "content" not in body:
            raise ApiError(422, "Invalid request.\n\n\"message\", \"content\" weren't supplied.")
        existing = repo.git.file_at(head, path)
        if existing and body.get("sha") != existing[1]:
            raise ApiError(409 if body.get("sha") else 422,
                           f"{path} does not match {body.get('sha')}" if body.get("sha")
                           else "Invalid request.\n\n\"sha\" wasn't supplied.")
        blob = repo.git.write_blob(base64.b64decode(body["content"]))
        tree = repo.git.build_tree(repo.git.commit_info(head)["tree"], [(path, "100644", blob)])
        sig = emu.signature()
        commit = repo.git.commit_tree(tree, [head], body["message"], sig)
        emu.set_ref(repo, ref, commit)
        base = f"{st.base_url}/repos/{repo.full_name}"
        content = {"name": path.rsplit("/", 1)[-1], "path": path, "sha": blob, "size": 0,
                   "url": f"{base}/contents/{path}?ref={branch}", "html_url": f"{st.base_url}/{repo.full_name}/blob/{branch}/{path}",
                   "git_url": f"{base}/git/blobs/{blob}", "download_url": f"{st.base_url}/{repo.full_name}/raw/{branch}/{path}",
                   "type": "file", "_links": {"self": f"{base}/contents/{path}?ref={branch}", "git": f"{base}/git/blobs/{blob}",
                                              "html": f"{st.base_url}/{repo.full_name}/blob/{branch}/{path}"}}
        return answer({"content": content, "commit": pl.git_commit(repo, commit)}, 200 if existing else 201)

    # -- git database ---------------------------------------------------------------------------
    def full_ref(ref: str) -> str:
        return ref if ref.startswith("refs/") else f"refs/{ref}"

    @app.get("/repos/<owner>/<name>/git/ref/<path:ref>")
    def get_ref(owner, name, ref):
        repo = emu.repo(owner, name, permission="contents")
        sha = repo.git.ref_sha(full_ref(ref)) if ref.startswith(("heads/", "tags/", "refs/")) else None
        if sha is None:
            raise not_found()
        return answer(pl.ref(repo, full_ref(ref), sha))

    @app.get("/repos/<owner>/<name>/git/matching-refs/", defaults={"ref": ""})
    @app.get("/repos/<owner>/<name>/git/matching-refs/<path:ref>")
    def matching_refs(owner, name, ref):
        repo = emu.repo(owner, name, permission="contents")
        prefix = full_ref(ref) if ref else "refs/"
        refs = sorted(repo.git.refs("refs/").items())
        return answer([pl.ref(repo, r, s) for r, s in refs if r.startswith(prefix)])

    @app.get("/repos/<owner>/<name>/git/refs", defaults={"ref": ""})
    @app.get("/repos/<owner>/<name>/git/refs/<path:ref>")
    def list_refs(owner, name, ref):
        repo = emu.repo(owner, name, permission="contents")
        prefix = full_ref(ref) if ref else "refs/"
        refs = sorted(repo.git.refs("refs/").items())
        exact = [pl.ref(repo, r, s) for r, s in refs if r == prefix]
        if exact:
            return answer(exact[0])
        items = [pl.ref(repo, r, s) for r, s in refs if r.startswith(prefix)]
        if not items:
            raise not_found()
        page, headers = paginate(items, st.base_url)
        return answer(page, headers=headers)

    @app.post("/repos/<owner>/<name>/git/refs")
    def create_ref(owner, name):
        repo = emu.repo(owner, name, "write", permission="contents")
        body = json_body()
        ref, sha = body.get("ref"), body.get("sha")
        if not isinstance(ref, str) or not ref.startswith("refs/") or ref.count("/") < 2:
            raise ApiError(422, "Reference name must start with 'refs/' and have at least two slashes.")
        if not sha or repo.git.object_type(sha) is None:
            raise ApiError(422, "Object does not exist")
        with st.lock:
            if repo.git.ref_sha(ref) is not None:
                raise ApiError(422, "Reference already exists")
            emu.set_ref(repo, ref, sha)
        return answer(pl.ref(repo, ref, sha), 201, {"Location": f"{st.base_url}/repos/{repo.full_name}/git/{ref}"})

    @app.patch("/repos/<owner>/<name>/git/refs/<path:ref>")
    def update_ref(owner, name, ref):
        repo = emu.repo(owner, name, "write", permission="contents")
        body = json_body()
        ref = full_ref(ref)
        sha = body.get("sha")
        with st.lock:
            cur = repo.git.ref_sha(ref)
            if cur is None:
                raise ApiError(422, "Reference does not exist")
            if not sha or repo.git.object_type(sha) != "commit":
                raise ApiError(422, "Object does not exist")
            if not body.get("force") and not repo.git.is_ancestor(cur, sha):
                raise ApiError(422, "Update is not a fast forward")
            emu.set_ref(repo, ref, sha)
        return answer(pl.ref(repo, ref, sha))

    @app.delete("/repos/<owner>/<name>/git/refs/<path:ref>")
    def delete_ref(owner, name, ref):
        repo = emu.repo(owner, name, "write", permission="contents")
        ref = full_ref(ref)
        with st.lock:
            if repo.git.ref_sha(ref) is None:
                raise ApiError(422, "Reference does not exist")
            emu.set_ref(repo, ref, None)
        return answer(None, 204)

    @app.get("/repos/<owner>/<name>/git/commits/<sha>")
    def get_git_commit(owner, name, sha):
        repo = emu.repo(owner, name, permission="contents")
        if repo.git.object_type(sha) != "commit":
            raise not_found()
        return answer(pl.git_commit(repo, sha))

    @app.post("/repos/<owner>/<name>/git/commits")
    def create_git_commit(owner, name):
        repo = emu.repo(owner, name, "write", permission="contents")
        body = json_body()
        tree, parents, message = body.get("tree"), body.get("parents") or [], body.get("message")
        if not message or not tree:
            raise ApiError(422, "Invalid request.\n\n\"message\", \"tree\" weren't supplied.")
        if repo.git.object_type(tree) != "tree":
            raise ApiError(422, "Tree SHA does not exist")
        if any(repo.git.object_type(p) != "commit" for p in parents):
            raise ApiError(422, "Parent SHA does not exist or is not a commit object")
        sig = emu.signature()
        author = body.get("author") or {}
        if author.get("name") and author.get("email"):
            from .gitrepo import Signature

            sig = Signature(author["name"], author["email"], author.get("date") or sig.date)
        sha = repo.git.commit_tree(tree, parents, message, sig)
        return answer(pl.git_commit(repo, sha), 201)

    @app.get("/repos/<owner>/<name>/git/trees/<sha>")
    def get_tree(owner, name, sha):
        repo = emu.repo(owner, name, permission="contents")
        try:
            entries = repo.git.ls_tree(sha, recursive=request.args.get("recursive") not in (None, "", "0", "false"))
        except GitError as exc:
            raise not_found() from exc
        tree_sha = repo.git.run("rev-parse", f"{sha}^{{tree}}").strip()
        truncated = False
        if repo.tree_truncate_at is not None and len(entries) > repo.tree_truncate_at:
            entries, truncated = entries[: repo.tree_truncate_at], True
        base = f"{st.base_url}/repos/{repo.full_name}"
        items = [{"path": e["path"], "mode": e["mode"], "type": e["type"], "sha": e["sha"],
                  **({"size": e["size"]} if e["size"] is not None else {}),
                  "url": f"{base}/git/{'blobs' if e['type'] == 'blob' else 'trees'}/{e['sha']}"} for e in entries]
        return answer({"sha": tree_sha, "url": f"{base}/git/trees/{tree_sha}", "tree": items, "truncated": truncated})

    @app.post("/repos/<owner>/<name>/git/trees")
    def create_tree(owner, name):
        repo = emu.repo(owner, name, "write", permission="contents")
        body = json_body()
        entries = body.get("tree")
        if not isinstance(entries, list):
            raise ApiError(422, "Invalid tree info")
        changes = []
        with_content = [e for e in entries if isinstance(e, dict) and e.get("content") is not None]
        blob_shas = dict(zip(map(id, with_content),
                             repo.git.write_blobs([e["content"].encode() for e in with_content]), strict=True))
        for e in entries:
            path, mode = e.get("path"), e.get("mode", "100644")
            if not path:
                raise ApiError(422, "Invalid tree info")
            if e.get("content") is not None:
                changes.append((path, mode, blob_shas[id(e)]))
            elif e.get("sha") is None:
                changes.append((path, mode, None))
            else:
                if repo.git.object_type(e["sha"]) is None:
                    raise validation("Invalid tree info", "Tree", "sha", "invalid")
                changes.append((path, mode, e["sha"]))
        base_tree = body.get("base_tree")
        if base_tree and repo.git.object_type(base_tree) is None:
            raise ApiError(422, "Invalid tree info")
        sha = repo.git.build_tree(base_tree, changes)
        request.args = request.args.copy()
        resp = get_tree(owner, name, sha)
        resp.status_code = 201
        return resp

    @app.post("/repos/<owner>/<name>/git/blobs")
    def create_blob(owner, name):
        repo = emu.repo(owner, name, "write", permission="contents")
        body = json_body()
        content = body.get("content")
        if content is None:
            raise ApiError(422, "Invalid request.\n\n\"content\" wasn't supplied.")
        data = base64.b64decode(content) if body.get("encoding") == "base64" else content.encode()
        sha = repo.git.write_blob(data)
        return answer({"sha": sha, "url": f"{st.base_url}/repos/{repo.full_name}/git/blobs/{sha}"}, 201)

    @app.get("/repos/<owner>/<name>/collaborators/<login>/permission")
    def collaborator_permission(owner, name, login):
        repo = emu.repo(owner, name, permission="metadata")
        if login not in st.users and login != repo.owner:
            raise ApiError(404, f"{login} is not a user")
        role = st.role(login, repo.full_name) or "read"
        legacy = {"maintain": "write", "triage": "read"}.get(role, role)
        user = pl.user(login) | {"role_name": role, "permissions": {
            "pull": True, "triage": role != "read", "push": legacy in ("write", "admin"),
            "maintain": role in ("maintain", "admin"), "admin": role == "admin"}}
        return answer({"permission": legacy, "role_name": role, "user": user})
