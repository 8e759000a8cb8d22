"""The webhook payload fields a job relies on, checked in the receiver before anything is enqueued.

A signed delivery can still carry a field of the wrong type or range (``issue.number: -5``, an
installation id sent as a string, a 39-character SHA): checked here, it is answered ``400`` naming
the field, instead of becoming a job that fails later. The table lists exactly what the routes of
``service.routes`` read from each routed event (the ids, numbers, SHAs and names that end up in a
job's arguments or its work key); a field nobody reads is not checked, so it cannot lose a delivery.

Rules, the same for every field:

- a field that is absent or ``null`` is not this module's business: the route decides (a delivery
  without ``installation`` is not an App delivery, one without ``issue.number`` lacks what the job
  needs; both are answered 200 and nothing is enqueued);
- an object on the way to a field (``issue`` in ``issue.number``) must be a JSON object, and a list
  marked ``[]`` a JSON array whose items are objects;
- integers are JSON integers: ``true`` is not ``1`` (in Python ``bool`` is an ``int``), ``42.0``
  and ``"42"`` are not ``42``.

Only routed (event, action) pairs are checked (``service.routes.TABLE``); the checker is pure, costs
a few microseconds per delivery (``python -m bench.payload_fields``) and never raises on any JSON.

GitHub's payload shapes: https://docs.github.com/en/webhooks/webhook-events-and-payloads
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .routes import TABLE

# GitHub's ids fit in a signed 64-bit integer (the REST API documents them as int64).
MAX_ID = (1 << 63) - 1
_SHA = re.compile(r"[0-9a-f]{40}")
# owner/name: an owner login (letters, digits, ``-``; ``_`` on Enterprise Managed Users) and a
# repository name (letters, digits, ``.``, ``-``, ``_``; never ``.`` or ``..``).
_REPO = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}/(?!\.{1,2}\Z)[A-Za-z0-9_.-]{1,100}")
# A login, or an App's bot account ``<slug>[bot]``. It reaches a REST path (the sender's
# permission on the repository), so nothing that could change the path gets through.
_LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}(?:\[bot\])?")
# A git ref name as git check-ref-format allows it, under refs/ (no space, control character,
# ``~ ^ : ? * [ \``), bounded.
_REF = re.compile(r"refs/[^\x00-\x20~^:?*\[\\\x7f]{1,1019}")


@dataclass(frozen=True, slots=True)
class Kind:
    """What a field must be: ``expected`` completes "expected …" in the answer; ``accepts`` is
    True for a valid, non-null value."""

    expected: str
    accepts: Callable[[Any], bool]


POSITIVE_INT = Kind("a positive integer", lambda v: type(v) is int and 0 < v <= MAX_ID)
SHA = Kind("a 40-character hexadecimal SHA", lambda v: type(v) is str and _SHA.fullmatch(v) is not None)
REPO_NAME = Kind("a repository full name (owner/name)", lambda v: type(v) is str and _REPO.fullmatch(v) is not None)
LOGIN = Kind("a GitHub login", lambda v: type(v) is str and _LOGIN.fullmatch(v) is not None)
REF = Kind("a git ref (refs/…)", lambda v: type(v) is str and _REF.fullmatch(v) is not None)
TEXT = Kind("a string", lambda v: type(v) is str)
OBJECT = Kind("an object", lambda v: type(v) is dict)

# Read by ``service.routes.route`` for every routed event.
COMMON: tuple[tuple[str, Kind], ...] = (
    ("installation.id", POSITIVE_INT),
    ("repository.full_name", REPO_NAME),
    ("sender.login", LOGIN),
)
_CHECK_APP = (("app.id", POSITIVE_INT), ("app.slug", TEXT))
_CHECK_OBJECT = (("head_sha", SHA), ("pull_requests[].number", POSITIVE_INT), *_CHECK_APP)

# Per event, what its extractor in ``service.routes`` reads (besides ``COMMON``). A path's ``[]``
# step goes through every item of a list.
FIELDS: dict[str, tuple[tuple[str, Kind], ...]] = {
    "issues": (("issue.number", POSITIVE_INT),),
    "issue_comment": (("issue.number", POSITIVE_INT), ("comment.id", POSITIVE_INT), ("comment.body", TEXT)),
    "pull_request": (("number", POSITIVE_INT), ("pull_request.number", POSITIVE_INT),
                     ("pull_request.head.sha", SHA), ("changes", OBJECT)),
    "check_run": (("check_run.name", TEXT), *(("check_run." + path, kind) for path, kind in _CHECK_OBJECT)),
    "check_suite": tuple(("check_suite." + path, kind) for path, kind in _CHECK_OBJECT),
    "merge_group": (("merge_group.head_sha", SHA), ("merge_group.base_sha", SHA), ("merge_group.head_ref", REF)),
}
# Checked too, though no recorded delivery of it is among the fixtures yet (the recorded-payload
# test covers ``FIELDS`` only): ``workflow_run`` of an agent's run.
UNRECORDED_FIELDS: dict[str, tuple[tuple[str, Kind], ...]] = {
    "workflow_run": (("workflow_run.id", POSITIVE_INT), ("workflow_run.event", TEXT),
                     ("workflow_run.display_title", TEXT)),
}


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """Why a delivery was refused: ``field`` is the path in the payload
    (``check_run.pull_requests[0].number``), ``expected`` what it must be, ``got`` a short
    description of what it is (``-5``, ``a string``, ``a string of 39 characters``)."""

    field: str
    expected: str
    got: str

    @property
    def message(self) -> str:
        """``issue.number: expected a positive integer, got -5``: the answer's ``status``."""
        return f"{self.field}: expected {self.expected}, got {self.got}"


@dataclass(frozen=True, slots=True)
class _Field:
    """A compiled path: ``steps`` are keys, ``None`` standing for "each item of a list";
    ``names[i]`` spells the value reached after ``steps[:i]`` (``""`` for the payload itself)."""

    steps: tuple[str | None, ...]
    names: tuple[str, ...]
    kind: Kind


def _compile(path: str, kind: Kind) -> _Field:
    steps: list[str | None] = []
    for part in path.split("."):
        steps += [part[:-2], None] if part.endswith("[]") else [part]
    names = [""]
    for step in steps:
        names.append(names[-1] + "[]" if step is None else f"{names[-1]}.{step}".lstrip("."))
    return _Field(tuple(steps), tuple(names), kind)


def _described(value: Any) -> str:
    """A short, bounded description of a JSON value for the answer (never the value of a string)."""
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, int):
        return str(value) if abs(value) < 10**12 else "an integer out of range"
    if isinstance(value, float):
        return "a number with a fraction" if not value.is_integer() else "a floating-point number"
    if isinstance(value, str):
        return f"a string of {len(value)} characters" if value else "an empty string"
    return "a list" if isinstance(value, list) else "an object"


def _walk(value: Any, field: _Field, at: int = 0, prefix: str = "") -> FieldProblem | None:
    """Check ``value``, reached by ``field.steps[:at]``, against the rest of the path. ``prefix``
    spells the list items passed so far (``check_run.pull_requests[1]``); names are only built
    for an answer, so a valid payload costs dictionary look-ups and one test per field."""
    steps = field.steps
    while value is not None:
        if at == len(steps):
            return None if field.kind.accepts(value) else _problem(field, at, prefix, field.kind.expected, value)
        step = steps[at]
        if step is None:
            return _items(value, field, at, prefix)
        if type(value) is not dict:
            return _problem(field, at, prefix, OBJECT.expected, value)
        value = value.get(step)
        at += 1
    return None


def _items(value: Any, field: _Field, at: int, prefix: str) -> FieldProblem | None:
    """Each item of the list ``value`` (``field.steps[at]`` is the list step) against the rest."""
    if type(value) is not list:
        return _problem(field, at, prefix, "a list", value)
    base = _spelled(field, at, prefix)
    for index, item in enumerate(value):
        problem = _walk(item, field, at + 1, f"{base}[{index}]")
        if problem is not None:
            return problem
    return None


def _spelled(field: _Field, at: int, prefix: str) -> str:
    """The name of the value after ``field.steps[:at]``, with the list indexes of ``prefix``."""
    if not prefix:
        return field.names[at]
    done = prefix.count("[")  # list steps already spelled with their index in prefix
    passed = [i for i, step in enumerate(field.steps) if step is None][done - 1]
    rest = field.names[at][len(field.names[passed + 1]):]
    return prefix + rest


def _problem(field: _Field, at: int, prefix: str, expected: str, value: Any) -> FieldProblem:
    return FieldProblem(_spelled(field, at, prefix), expected, _described(value))


def _checked_pairs() -> dict[tuple[str, str], tuple[_Field, ...]]:
    """The compiled fields of every routed (event, action) of ``service.routes.TABLE``."""
    fields = {**FIELDS, **UNRECORDED_FIELDS}
    return {(event, action): tuple(_compile(path, kind) for path, kind in COMMON + fields[event])
            for (event, action), rule in TABLE.items() if rule is not None}


_CHECKS = _checked_pairs()
_ACTION = _compile("action", TEXT)


def check(event: str, payload: dict[str, Any]) -> FieldProblem | None:
    """The first field of ``payload`` (a delivery of ``event``, the ``X-GitHub-Event`` header) of
    the wrong type or range, or None when every field the event's route reads is valid (or absent).
    Events and actions the routes do not act on are not checked. Never raises."""
    action = payload.get("action")
    if type(action) is not str:
        # The routes look the action up in their table: only a string can name a routed one.
        return _walk(payload, _ACTION) if event in FIELDS else None
    fields = _CHECKS.get((event, action))
    if fields is None:
        return None
    for field in fields:
        problem = _walk(payload, field)
        if problem is not None:
            return problem
    return None
