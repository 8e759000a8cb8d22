"""Pure helpers of the adapter: GitHub's JSON bodies to ``service.records`` and core records, check-run
request bodies, and the facts about file lists. No I/O."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..core.launch import WorkflowRun
from ..core.model import Annotation, ChangedFile, ChangeSet, CheckOutput, FileSource
from ..records import CheckRunData, CommentData, IssueData, PullData, TreeData

FILES_CAP = 3000  # GET /pulls/{n}/files never lists more, however it is paged
ANNOTATIONS_PER_REQUEST = 50  # check-run create/update accept at most 50; PATCHes append
PER_PAGE = 100


def header(headers: Any, name: str) -> str | None:
    """The value of header ``name`` (lower case) in ``headers``, whatever its case there; None."""
    for k, v in (headers or {}).items():
        if k.lower() == name:
            return v
    return None


def when(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def pull(d: dict[str, Any]) -> PullData:
    head, base = d.get("head") or {}, d.get("base") or {}
    head_repo = (head.get("repo") or {}).get("full_name")
    return PullData(
        number=int(d["number"]), state=d.get("state", "open"), head_ref=head.get("ref", ""),
        head_sha=head.get("sha", ""), base_ref=base.get("ref", ""), head_repo=head_repo,
        base_repo=(base.get("repo") or {}).get("full_name", ""), title=d.get("title") or "",
        body=d.get("body"), merged=bool(d.get("merged") or d.get("merged_at")),
        merged_at=when(d.get("merged_at")), merge_commit_sha=d.get("merge_commit_sha"),
        created_at=when(d.get("created_at")), changed_files=d.get("changed_files"),
        user=(d.get("user") or {}).get("login"), draft=bool(d.get("draft")),
    )


def issue(d: dict[str, Any]) -> IssueData:
    return IssueData(
        number=int(d["number"]), title=d.get("title") or "", body=d.get("body"),
        state=d.get("state", "open"),
        labels=tuple(lb["name"] if isinstance(lb, dict) else str(lb) for lb in d.get("labels") or ()),
        user=(d.get("user") or {}).get("login"),
    )


def check_run(d: dict[str, Any]) -> CheckRunData:
    out = d.get("output") or {}
    return CheckRunData(
        id=int(d["id"]), name=d.get("name", ""), head_sha=d.get("head_sha", ""),
        status=d.get("status", ""), conclusion=d.get("conclusion"), title=out.get("title"),
        summary=out.get("summary"), text=out.get("text"),
        app_slug=(d.get("app") or {}).get("slug"),
        annotations_count=int(out.get("annotations_count") or 0),
        external_id=d.get("external_id") or None,
    )


def comment(d: dict[str, Any]) -> CommentData:
    return CommentData(id=int(d["id"]), body=d.get("body") or "",
                       user=(d.get("user") or {}).get("login"), created_at=when(d.get("created_at")))


def annotation(a: Annotation) -> dict[str, Any]:
    out: dict[str, Any] = {"path": a.path, "start_line": a.start_line, "end_line": a.end_line,
                           "annotation_level": a.annotation_level, "message": a.message}
    if a.title:
        out["title"] = a.title
    return out


def output_payload(out: CheckOutput, annotations: tuple[Annotation, ...] = ()) -> dict[str, Any]:
    """The check-run request body for ``out`` (status, conclusion, output with ``annotations``)."""
    output: dict[str, Any] = {"title": out.title, "summary": out.summary}
    if out.text:
        output["text"] = out.text
    if annotations:
        output["annotations"] = [annotation(a) for a in annotations]
    body: dict[str, Any] = {"status": out.status, "output": output}
    if out.status == "completed" and out.conclusion:
        body["conclusion"] = out.conclusion
    return body


def list_is_complete(listed: int, changed: int | None) -> bool:
    """Whether a PR's file list can be trusted: its count equals ``changed_files`` (at most the
    3,000 cap), or, with no count to compare, it is below the cap."""
    if changed is None:
        return listed < FILES_CAP
    return listed == changed <= FILES_CAP


# Entry types of a recursive tree that a PR changes: "blob" (a file, mode 100644 or 100755, or a
# symlink, 120000) and "commit" (a submodule, mode 160000). "tree" entries are directories.
CHANGEABLE = ("blob", "commit")


def tree_entries(entries: Any) -> dict[str, str]:
    """Path → ``"<mode> <type> <sha>"`` for every blob and commit entry of a recursive tree's
    ``tree`` list (``GET git/trees/{sha}?recursive=1``). All three make an entry's identity: a
    ``chmod +x`` keeps the SHA and changes the mode; a submodule bump changes a commit entry."""
    return {e["path"]: f"{e.get('mode', '')} {e.get('type')} {e.get('sha', '')}"
            for e in entries or () if e.get("type") in CHANGEABLE}


def tree_changes(base: TreeData, head: TreeData) -> ChangeSet:
    """Paths whose entry differs between two recursive trees (added, removed or modified): the
    entries' identities (``tree_entries``: type, mode and SHA) are compared."""
    files = []
    for path in sorted(set(base.blobs) | set(head.blobs)):
        old, new = base.blobs.get(path), head.blobs.get(path)
        if old == new:
            continue
        status = "added" if old is None else "removed" if new is None else "modified"
        files.append(ChangedFile(path=path, status=status))
    return ChangeSet(files=tuple(files), source=FileSource.TREE)



def workflow_run(d: dict[str, Any]) -> WorkflowRun:
    """A ``workflow-run`` (REST, and the ``workflow_run`` webhook's object) as a core record."""
    return WorkflowRun(id=int(d["id"]), status=str(d.get("status") or "queued"), conclusion=d.get("conclusion"),
                       head_branch=d.get("head_branch"), event=str(d.get("event") or ""),
                       created_at=when(d.get("created_at")), run_started_at=when(d.get("run_started_at")),
                       updated_at=when(d.get("updated_at")), html_url=d.get("html_url"),
                       display_title=d.get("display_title"))
