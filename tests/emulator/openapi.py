"""Validate REST response bodies against GitHub's OpenAPI description (rest/openapi/api.github.com.json).

``validate_response(method, path, status, body)`` finds the operation (``path`` may be a template such
as ``/repos/{owner}/{repo}/pulls/{pull_number}`` or a concrete path such as ``/repos/o/r/pulls/3``),
takes the JSON schema of that status, and validates ``body``; it raises ``jsonschema.ValidationError``
on a mismatch and ``LookupError`` when the document has no such operation or status.

OpenAPI 3.0 marks nullable values with ``nullable: true``; JSON Schema needs ``null`` in ``type``.
``to_json_schema`` translates that (and is applied once to the whole document).
"""

from __future__ import annotations

import functools
import json
import re
from urllib.parse import urlsplit

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from tests.conftest import FIXTURES

OPENAPI = FIXTURES / "rest" / "openapi" / "api.github.com.json"
ROOT_URI = "urn:github-openapi"
# parameters whose values may contain slashes
GREEDY = {"ref", "path", "basehead", "branch", "base", "head"}


def to_json_schema(node):
    """A copy of an OpenAPI 3.0 schema tree with ``nullable: true`` turned into JSON-Schema null unions."""
    if isinstance(node, list):
        return [to_json_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: to_json_schema(v) for k, v in node.items()}
    if out.pop("nullable", False) is True:
        if "type" in out:
            types = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = [*types, "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        else:
            return {"anyOf": [out, {"type": "null"}]}
    return out


@functools.cache
def _document() -> dict:
    return to_json_schema(json.loads(OPENAPI.read_text()))


@functools.cache
def _registry() -> Registry:
    return Registry().with_resource(ROOT_URI, Resource.from_contents(_document(), default_specification=DRAFT7))


@functools.cache
def _matchers() -> list[tuple[re.Pattern, str, int]]:
    out = []
    for template in _document()["paths"]:
        parts = re.split(r"(\{[^}]+\})", template)
        regex = ""
        for part in parts:
            if part.startswith("{"):
                regex += "(.+)" if part[1:-1] in GREEDY else "([^/]+)"
            else:
                regex += re.escape(part)
        literal = sum(len(p) for p in parts if not p.startswith("{"))
        out.append((re.compile(f"^{regex}$"), template, literal))
    return out


def find_template(path: str) -> str:
    """The OpenAPI path template for a concrete or template ``path`` (most literal match wins)."""
    path = urlsplit(path).path.rstrip("/") or "/"
    doc = _document()
    if path in doc["paths"]:
        return path
    hits = [(literal, template) for regex, template, literal in _matchers() if regex.match(path)]
    if not hits:
        raise LookupError(f"no OpenAPI path matches {path}")
    return max(hits)[1]


def response_schema(method: str, path: str, status: int) -> dict | None:
    """The JSON schema (a ``$ref`` into the document) of ``method path`` answering ``status``; None if no body."""
    template = find_template(path)
    op = _document()["paths"][template].get(method.lower())
    if op is None:
        raise LookupError(f"{method} {template} is not in the OpenAPI document")
    responses = op["responses"]
    key = str(status) if str(status) in responses else "default"
    if key not in responses:
        raise LookupError(f"{method} {template} documents no {status} response ({sorted(responses)})")
    response = responses[key]
    parts = ["paths", template, method.lower(), "responses", key]
    if "$ref" in response:  # shared answers live under #/components/responses
        parts = response["$ref"].lstrip("#/").split("/")
        response = _document()["components"]["responses"][parts[-1]]
    content = response.get("content") or {}
    media = next((m for m in content if "json" in m), None)
    if media is None or "schema" not in content[media]:
        return None
    pointer = "/".join(p.replace("~", "~0").replace("/", "~1") for p in [*parts, "content", media, "schema"])
    return {"$ref": f"{ROOT_URI}#/{pointer}"}


def validate_response(method: str, path: str, status: int, body) -> str:
    """Validate ``body`` against the documented response; returns the matched path template."""
    schema = response_schema(method, path, status)
    if schema is None:
        if body not in (None, b"", "", {}):
            raise jsonschema.ValidationError(f"{method} {path} {status} documents no body, got {body!r:.200}")
        return find_template(path)
    validator = jsonschema.Draft7Validator(schema, registry=_registry())
    error = jsonschema.exceptions.best_match(validator.iter_errors(body))
    if error is not None:
        raise error
    return find_template(path)
