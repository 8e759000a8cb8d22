"""Check runs and check suites (only GitHub Apps create check runs)."""

from __future__ import annotations

from flask import Flask, request

from .core import Emulator
from .rest import ApiError, answer, json_body, not_found, paginate
from .state import now_iso

CONCLUSIONS = {"action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out"}
STATUSES = {"queued", "in_progress", "completed", "waiting", "requested", "pending"}
MAX_ANNOTATIONS = 50  # per request; more are sent by further PATCHes, which append


def register(app: Flask, emu: Emulator) -> None:
    """Add check routes to ``app``."""
    st = emu.state
    pl = emu.payloads

    def app_actor():
        actor = emu.actor
        if actor.kind != "app":
            raise ApiError(403, "You must authenticate via a GitHub App.")
        return actor

    def apply(run: dict, body: dict) -> None:
        for key in ("name", "details_url", "external_id", "started_at"):
            if key in body and body[key] is not None:
                run[key] = body[key]
        if "status" in body and body["status"] is not None:
            if body["status"] not in STATUSES:
                raise ApiError(422, "Validation Failed", [{"resource": "CheckRun", "field": "status",
                                                           "code": "invalid"}])
            run["status"] = body["status"]
        if body.get("conclusion") is not None:
            if body["conclusion"] not in CONCLUSIONS:
                raise ApiError(422, "Validation Failed", [{"resource": "CheckRun", "field": "conclusion",
                                                           "code": "invalid"}])
            run["conclusion"] = body["conclusion"]
            run["status"] = "completed"  # a conclusion forces status completed
        if run["status"] == "completed":
            if run["conclusion"] is None:
                raise ApiError(422, "Validation Failed", [{"resource": "CheckRun", "field": "conclusion",
                                                           "code": "missing_field"}])
            run["completed_at"] = body.get("completed_at") or run.get("completed_at") or now_iso()
        else:
            run["conclusion"] = None
            run["completed_at"] = None
        output = body.get("output")
        if output:
            anns = output.get("annotations") or []
            if len(anns) > MAX_ANNOTATIONS:
                raise ApiError(422, "Only 50 annotations may be sent per request")
            for a in anns:
                if not all(k in a for k in ("path", "start_line", "end_line", "annotation_level", "message")):
                    raise ApiError(422, "Validation Failed", [{"resource": "CheckRun", "field": "annotations",
                                                               "code": "missing_field"}])
            for key in ("title", "summary", "text"):
                if key in output:
                    run["output"][key] = output[key]
            run["annotations"].extend(anns)

    @app.post("/repos/<owner>/<name>/check-runs")
    def create_run(owner, name):
        actor = app_actor()
        repo = emu.repo(owner, name, "write", permission="checks")
        body = json_body()
        if not body.get("name") or not body.get("head_sha"):
            raise ApiError(422, "Invalid request.\n\n\"name\", \"head_sha\" weren't supplied.")
        sha = body["head_sha"]
        if repo.git.object_type(sha) != "commit":
            raise ApiError(422, "No commit found for SHA: " + sha)
        output = body.get("output") or {}
        if output and ("title" not in output or "summary" not in output):
            raise ApiError(422, "Invalid request.\n\n\"title\", \"summary\" weren't supplied.")
        with st.lock:
            suite, _ = emu.suite_for(repo, actor.app_id, sha)
            rid = st.next_id()
            run = {"id": rid, "app_id": actor.app_id, "suite_id": suite["id"], "head_sha": sha, "name": body["name"],
                   "status": "queued", "conclusion": None, "started_at": now_iso(), "completed_at": None,
                   "details_url": None, "external_id": None, "output": {"title": None, "summary": None, "text": None},
                   "annotations": [], "order": next(st.order)}
            apply(run, body)
            repo.check_runs[rid] = run
            emu.emit(repo, "check_run", "created", {"check_run": pl.check_run(repo, run, "webhook")})
            emu.update_suite(repo, suite, actor)
            after_change(repo)
        return answer(pl.check_run(repo, run), 201)

    def after_change(repo) -> None:
        mq = getattr(emu, "merge_queue", None)
        if mq is not None:
            mq.evaluate(repo)

    def find_run(repo, rid: int) -> dict:
        run = repo.check_runs.get(rid)
        if run is None:
            raise not_found()
        return run

    @app.patch("/repos/<owner>/<name>/check-runs/<int:rid>")
    def update_run(owner, name, rid):
        actor = app_actor()
        repo = emu.repo(owner, name, "write", permission="checks")
        body = json_body()
        with st.lock:
            run = find_run(repo, rid)
            if run["app_id"] != actor.app_id:
                raise ApiError(403, f"Invalid app_id `{actor.app_id}` - check run can only be modified by its creator.")
            was = run["status"]
            apply(run, body)
            if run["status"] == "completed" and was != "completed":
                emu.emit(repo, "check_run", "completed", {"check_run": pl.check_run(repo, run, "webhook")})
            emu.update_suite(repo, repo.check_suites[run["suite_id"]], actor)
            after_change(repo)
        return answer(pl.check_run(repo, run))

    @app.get("/repos/<owner>/<name>/check-runs/<int:rid>")
    def get_run(owner, name, rid):
        repo = emu.repo(owner, name, permission="checks")
        return answer(pl.check_run(repo, find_run(repo, rid)))

    @app.get("/repos/<owner>/<name>/check-runs/<int:rid>/annotations")
    def annotations(owner, name, rid):
        repo = emu.repo(owner, name, permission="checks")
        run = find_run(repo, rid)
        items = [{"path": a["path"], "start_line": a["start_line"], "end_line": a["end_line"],
                  "start_column": a.get("start_column"), "end_column": a.get("end_column"),
                  "annotation_level": a["annotation_level"], "title": a.get("title"), "message": a["message"],
                  "raw_details": a.get("raw_details"),
                  "blob_href": f"{st.base_url}/{repo.full_name}/blob/{run['head_sha']}/{a['path']}"}
                 for a in run["annotations"]]
        page, headers = paginate(items, st.base_url)
        return answer(page, headers=headers)

    def resolve(repo, ref: str) -> str:
        sha = repo.git.rev_parse(ref if len(ref) == 40 else f"refs/heads/{ref}") or repo.git.rev_parse(ref)
        if sha is None:
            raise ApiError(422, f"No commit found for SHA: {ref}")
        return sha

    @app.get("/repos/<owner>/<name>/commits/<path:ref>/check-runs")
    def runs_for_ref(owner, name, ref):
        repo = emu.repo(owner, name, permission="checks")
        sha = resolve(repo, ref)
        runs = sorted((r for r in repo.check_runs.values() if r["head_sha"] == sha), key=lambda r: -r["id"])
        if request.args.get("check_name"):
            runs = [r for r in runs if r["name"] == request.args["check_name"]]
        if request.args.get("status"):
            runs = [r for r in runs if r["status"] == request.args["status"]]
        if request.args.get("app_id"):
            runs = [r for r in runs if str(r["app_id"]) == request.args["app_id"]]
        if request.args.get("filter", "latest") == "latest":
            seen, latest = set(), []
            for r in runs:
                if (r["name"], r["app_id"]) not in seen:
                    seen.add((r["name"], r["app_id"]))
                    latest.append(r)
            runs = latest
        page, headers = paginate(runs, st.base_url)
        return answer({"total_count": len(runs), "check_runs": [pl.check_run(repo, r) for r in page]},
                      headers=headers)

    @app.get("/repos/<owner>/<name>/commits/<path:ref>/check-suites")
    def suites_for_ref(owner, name, ref):
        repo = emu.repo(owner, name, permission="checks")
        sha = resolve(repo, ref)
        suites = [s for s in repo.check_suites.values() if s["head_sha"] == sha]
        if request.args.get("app_id"):
            suites = [s for s in suites if str(s["app_id"]) == request.args["app_id"]]
        page, headers = paginate(suites, st.base_url)
        return answer({"total_count": len(suites), "check_suites": [pl.check_suite(repo, s) for s in page]},
                      headers=headers)

    @app.get("/repos/<owner>/<name>/check-suites/<int:sid>")
    def get_suite(owner, name, sid):
        repo = emu.repo(owner, name, permission="checks")
        suite = repo.check_suites.get(sid)
        if suite is None:
            raise not_found()
        return answer(pl.check_suite(repo, suite))

    @app.post("/repos/<owner>/<name>/check-runs/<int:rid>/rerequest")
    def rerequest_run(owner, name, rid):
        repo = emu.repo(owner, name, "read", permission="checks")
        with st.lock:
            run = find_run(repo, rid)
            # rerequested goes to the App that created the run only
            emu.emit(repo, "check_run", "rerequested", {"check_run": pl.check_run(repo, run, "webhook")},
                     only_app=run["app_id"])
        return answer({}, 201)

    @app.post("/repos/<owner>/<name>/check-suites/<int:sid>/rerequest")
    def rerequest_suite(owner, name, sid):
        repo = emu.repo(owner, name, "read", permission="checks")
        with st.lock:
            suite = repo.check_suites.get(sid)
            if suite is None:
                raise not_found()
            emu.emit(repo, "check_suite", "rerequested",
                     {"check_suite": pl.check_suite(repo, suite, "webhook")}, only_app=suite["app_id"])
        return answer({}, 201)
