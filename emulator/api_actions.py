"""GitHub Actions: dispatching a workflow and reading its runs.

``POST /repos/{o}/{r}/actions/workflows/{workflow_id}/dispatches`` answers 204, or with
``return_run_details: true`` 200 ``{workflow_run_id, run_url, html_url}`` (GitHub changelog,
2026-02-19); it needs ``actions: write``. Runs are listed newest first in ``{total_count,
workflow_runs}`` pages, filtered by ``branch``, ``status`` (a status or a conclusion) and ``event``.
"""

from __future__ import annotations

from flask import Flask, request

from .core import Emulator
from .rest import ApiError, answer, json_body, not_found, paginate
from .workflows import check_dispatch, create_run, find_workflow


def _filtered(runs: list[dict]) -> list[dict]:
    args = request.args
    out = sorted(runs, key=lambda r: r["id"], reverse=True)
    if args.get("branch"):
        out = [r for r in out if r["head_branch"] == args["branch"]]
    if args.get("status"):
        out = [r for r in out if args["status"] in (r["status"], r["conclusion"])]
    if args.get("event"):
        out = [r for r in out if args["event"] == "workflow_dispatch"]
    return out


def register(app: Flask, emu: Emulator) -> None:
    """Add the Actions routes to ``app``."""
    pl = emu.payloads

    def run_list(repo, runs: list[dict]):
        items = [pl.workflow_run(repo, r) for r in _filtered(runs)]
        page, headers = paginate(items, emu.state.base_url)
        return answer({"total_count": len(items), "workflow_runs": page}, headers=headers)

    @app.post("/repos/<owner>/<name>/actions/workflows/<workflow_id>/dispatches")
    def dispatch_workflow(owner, name, workflow_id):
        repo = emu.repo(owner, name, "write", permission="actions")
        body = json_body()
        wf, definition = find_workflow(emu, repo, workflow_id)
        details = body.get("return_run_details", False)
        if not isinstance(details, bool):
            raise ApiError(422, "Invalid request.\n\nFor 'properties/return_run_details', it is not a boolean.")
        check_dispatch(definition, body.get("ref"), body.get("inputs", {}))
        run = create_run(emu, repo, wf, body["ref"], body.get("inputs", {}), emu.actor, definition)
        emu.agents.start(repo, run)
        if not details:
            return answer(None, 204)
        rest = pl.workflow_run(repo, run)
        return answer({"workflow_run_id": run["id"], "run_url": rest["url"], "html_url": rest["html_url"]})

    @app.get("/repos/<owner>/<name>/actions/runs")
    def list_repo_workflow_runs(owner, name):
        repo = emu.repo(owner, name, permission="actions")
        return run_list(repo, list(repo.workflow_runs.values()))

    @app.get("/repos/<owner>/<name>/actions/workflows/<workflow_id>/runs")
    def list_workflow_runs(owner, name, workflow_id):
        repo = emu.repo(owner, name, permission="actions")
        wf, _ = find_workflow(emu, repo, workflow_id)
        return run_list(repo, [r for r in repo.workflow_runs.values() if r["workflow_id"] == wf["id"]])

    @app.get("/repos/<owner>/<name>/actions/runs/<int:run_id>")
    def get_workflow_run(owner, name, run_id):
        repo = emu.repo(owner, name, permission="actions")
        run = repo.workflow_runs.get(run_id)
        if run is None:
            raise not_found()
        return answer(pl.workflow_run(repo, run))
