"""GitHub Actions workflows and their runs: finding a dispatchable workflow, creating a run, and
moving it requested → in_progress → completed with the ``workflow_run`` webhook of each step.

A workflow is a file ``.github/workflows/<file>`` on the default branch; it can be dispatched when
it declares the ``workflow_dispatch`` trigger (GitHub answers 422 otherwise). Its id is numeric and
stable; ``workflow_id`` in a URL may be that id or the file name.
"""

from __future__ import annotations

import re

import yaml

from .core import Emulator
from .rest import ApiError, not_found
from .state import Actor, Repo, now_iso

WORKFLOWS_DIR = ".github/workflows/"
# GitHub's documented limits for workflow_dispatch inputs
MAX_INPUTS = 25
MAX_INPUTS_CHARS = 65_535
STATUS_ACTION = {"queued": "requested", "in_progress": "in_progress", "completed": "completed"}
_INPUT_EXPR = re.compile(r"\$\{\{\s*(?:github\.event\.)?inputs\.([A-Za-z0-9_-]+)\s*\}\}")
CONCLUSIONS = ("success", "failure", "cancelled", "neutral", "skipped", "timed_out", "action_required")


def _definition(repo: Repo, path: str) -> dict | None:
    """The parsed YAML of ``path`` on the default branch; None when the file is missing."""
    head = repo.git.ref_sha(f"refs/heads/{repo.default_branch}")
    found = repo.git.file_at(head, path) if head else None
    if found is None or found[0] != "blob":
        return None
    try:
        parsed = yaml.safe_load(repo.git.read_blob(found[1]))
    except yaml.YAMLError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _triggers(definition: dict) -> set[str]:
    # YAML 1.1 reads the key ``on`` as True
    on = definition.get("on", definition.get(True))
    if isinstance(on, str):
        return {on}
    return set(on) if isinstance(on, (list, dict)) else set()


def find_workflow(emu: Emulator, repo: Repo, workflow_id: str) -> tuple[dict, dict]:
    """(workflow, its parsed definition) for a numeric id or a file name; 404 when there is none."""
    known = next((w for w in repo.workflows.values() if str(w["id"]) == workflow_id), None)
    path = known["path"] if known else WORKFLOWS_DIR + workflow_id
    definition = _definition(repo, path)
    if definition is None:
        raise not_found()
    wf = repo.workflows.get(path)
    if wf is None:
        name = definition.get("name") if isinstance(definition.get("name"), str) else path
        wf = {"id": emu.state.next_id(), "name": name, "path": path, "created_at": now_iso()}
        repo.workflows[path] = wf
    return wf, definition


def check_dispatch(definition: dict, ref: object, inputs: object) -> None:
    """GitHub's 422 answers for a dispatch request: no ``workflow_dispatch`` trigger, no ``ref``,
    inputs that are not an object of at most 25 entries and 65,535 characters."""
    if "workflow_dispatch" not in _triggers(definition):
        raise ApiError(422, "Workflow does not have 'workflow_dispatch' trigger")
    if not isinstance(ref, str) or not ref:
        raise ApiError(422, "Invalid request.\n\n\"ref\" wasn't supplied.")
    if not isinstance(inputs, dict):
        raise ApiError(422, "Invalid request.\n\nFor 'properties/inputs', it is not an object.")
    if len(inputs) > MAX_INPUTS:
        raise ApiError(422, f"you may only define up to {MAX_INPUTS} `inputs` for a `workflow_dispatch` event")
    if sum(len(str(k)) + len(str(v)) for k, v in inputs.items()) > MAX_INPUTS_CHARS:
        raise ApiError(422, f"inputs are too large: at most {MAX_INPUTS_CHARS} characters")


def resolve_ref(repo: Repo, ref: str) -> tuple[str, str]:
    """(branch name, head SHA) of ``ref`` (a branch name or ``refs/heads/...``); 422 when unknown."""
    branch = ref.removeprefix("refs/heads/")
    sha = repo.git.ref_sha(f"refs/heads/{branch}")
    if sha is None:
        raise ApiError(422, f"No ref found for: {ref}")
    return branch, sha


def display_title(definition: dict, wf: dict, inputs: dict) -> str:
    """GitHub's ``display_title`` of a dispatched run: the workflow's ``run-name`` with its
    ``${{ inputs.X }}`` expressions replaced by the dispatch inputs (a missing one reads as empty),
    else the workflow's name. Other expressions are kept as written."""
    template = definition.get("run-name")
    if not isinstance(template, str):
        return wf["name"]
    return _INPUT_EXPR.sub(lambda m: str(inputs.get(m.group(1), "")), template)


def create_run(emu: Emulator, repo: Repo, wf: dict, ref: str, inputs: dict, actor: Actor,
               definition: dict | None = None) -> dict:
    """A new queued run of ``wf`` on ``ref``; sends ``workflow_run`` requested."""
    branch, sha = resolve_ref(repo, ref)
    rid, ts = emu.state.next_id(), now_iso()
    number = 1 + sum(1 for r in repo.workflow_runs.values() if r["workflow_id"] == wf["id"])
    run = {"id": rid, "workflow_id": wf["id"], "name": wf["name"], "path": wf["path"], "display_title": display_title(definition or {}, wf, inputs),
           "head_branch": branch, "head_sha": sha, "run_number": number, "status": "queued", "conclusion": None,
           "check_suite_id": emu.state.next_id(), "inputs": dict(inputs), "actor": emu.actor_login(actor),
           "created_at": ts, "updated_at": ts}
    repo.workflow_runs[rid] = run
    _emit(emu, repo, run)
    return run


def advance(emu: Emulator, repo: Repo, run: dict, status: str, conclusion: str | None = None) -> None:
    """Move ``run`` to ``status`` (``in_progress`` or ``completed`` with a ``conclusion``) and send
    the matching ``workflow_run`` webhook. ValueError for a step GitHub never takes."""
    order = list(STATUS_ACTION)
    if status not in order or order.index(status) <= order.index(run["status"]):
        raise ValueError(f"a {run['status']} run cannot become {status}")
    if (status == "completed") != (conclusion in CONCLUSIONS):
        raise ValueError(f"conclusion must be one of {CONCLUSIONS} exactly when the run completes")
    run.update(status=status, conclusion=conclusion, updated_at=now_iso())
    _emit(emu, repo, run)


def _emit(emu: Emulator, repo: Repo, run: dict) -> None:
    # the sender of every workflow_run webhook is whoever dispatched the run
    wf = repo.workflows[run["path"]]
    with emu.acting_as(run["actor"]):
        emu.emit(repo, "workflow_run", STATUS_ACTION[run["status"]], {
            "workflow_run": emu.payloads.workflow_run(repo, run), "workflow": emu.payloads.workflow(repo, wf)})
