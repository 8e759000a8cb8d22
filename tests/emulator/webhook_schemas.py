"""Validate webhook bodies against the octokit/webhooks JSON Schemas in tests/github/webhooks/_schemas.

Every schema file is loaded into one ``referencing.Registry`` keyed by its ``$id`` (event schemas use
``<event>$<action>`` ids, shared ones ``common/<name>.schema.json``). ``validate_webhook(event, body)``
raises ``jsonschema.ValidationError`` on a mismatch and ``LookupError`` for an unknown event/action.
"""

from __future__ import annotations

import functools
import json

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from tests.conftest import FIXTURES

SCHEMAS = FIXTURES / "webhooks" / "_schemas" / "api.github.com"


@functools.cache
def _registry() -> tuple[Registry, frozenset[str]]:
    registry = Registry()
    ids = set()
    for path in sorted(SCHEMAS.rglob("*.json")):
        contents = json.loads(path.read_text())
        sid = contents.get("$id")
        if not sid:
            continue
        ids.add(sid)
        registry = registry.with_resource(sid, Resource.from_contents(contents, default_specification=DRAFT7))
    return registry.crawl(), frozenset(ids)


def schema_id(event: str, body: dict) -> str:
    """The ``$id`` of the schema for ``event`` and the body's ``action``."""
    action = body.get("action")
    return f"{event}${action}" if action else event


def validate_webhook(event: str, body: dict) -> str:
    """Validate a delivered webhook body; returns the schema id used."""
    registry, ids = _registry()
    sid = schema_id(event, body)
    if sid not in ids:
        raise LookupError(f"no webhook schema {sid}")
    validator = jsonschema.Draft7Validator({"$ref": sid}, registry=registry)
    error = jsonschema.exceptions.best_match(validator.iter_errors(body))
    if error is not None:
        raise error
    return sid
