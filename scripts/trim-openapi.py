"""Regenerate ``tests/github/rest/openapi/api.github.com.json``: GitHub's OpenAPI description cut down
to the operations the emulator serves (every call the product makes is one of them: the end-to-end
tests run the product against the emulator), with the components those operations reach through
``$ref`` and nothing else, then the project's marked local additions merged in.

Usage: ``.venv/bin/python scripts/trim-openapi.py [FULL_DESCRIPTION]``. FULL_DESCRIPTION defaults to
the octokit/openapi ``generated/api.github.com.json`` recorded at
``../shared/github-fixtures/rest/openapi/api.github.com.json`` (commit in ``tests/github/SOURCES.json``).
Local additions (``tests/github/rest/openapi/local-additions.json``) describe documented GitHub
behaviour newer than the recorded description; each carries an ``x-wavegate-local-addition`` note
citing GitHub's changelog. Exits 1 with one line when an operation the emulator serves is missing.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from emulator.server import create_app, github_operations  # noqa: E402

FULL = ROOT.parent / "shared" / "github-fixtures" / "rest" / "openapi" / "api.github.com.json"
OUT = ROOT / "tests" / "github" / "rest" / "openapi" / "api.github.com.json"
ADDITIONS = OUT.with_name("local-additions.json")
REF = re.compile(r'"\$ref": "#/components/([^/"]+)/([^"]+)"')


def shape(template: str) -> str:
    """``template`` with every parameter written ``{}``. GitHub documents the compare operation in
    two spellings (``{basehead}`` and ``{base}...{head}``); both have the shape ``{}``."""
    return re.sub(r"\{[^}]+\}", "{}", template).replace("{}...{}", "{}")


def pick_paths(paths: dict, wanted: list[tuple[str, str]]) -> dict:
    """The path items of ``paths`` holding the ``wanted`` (METHOD, ``{}``-shape) operations, each
    item with only those methods (plus its shared ``parameters``). Raises LookupError on a miss."""
    out: dict = {}
    for method, wanted_shape in wanted:
        verb = method.lower()
        templates = [t for t in paths if shape(t) == wanted_shape and verb in paths[t]]
        if not templates:
            raise LookupError(f"{method} {wanted_shape} is not in the full description")
        for template in templates:
            item = out.setdefault(template, {k: v for k, v in paths[template].items() if k == "parameters"})
            item[verb] = paths[template][verb]
    return out


def reached_components(components: dict, start: object) -> dict:
    """The components ``start`` reaches through ``$ref``, transitively, in the shape of ``components``."""
    out: dict = {}
    todo = [start]
    while todo:
        for kind, name in REF.findall(json.dumps(todo.pop())):
            if name not in out.setdefault(kind, {}):
                out[kind][name] = components[kind][name]
                todo.append(out[kind][name])
    return {kind: dict(sorted(items.items())) for kind, items in sorted(out.items())}


def merge(base: dict, addition: dict) -> dict:
    """``addition`` merged into ``base`` recursively (objects merge, anything else replaces)."""
    for key, value in addition.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge(base[key], value)
        else:
            base[key] = value
    return base


def trim(full: dict, wanted: list[tuple[str, str]], additions: dict) -> dict:
    """The trimmed description: ``full``'s header, the ``wanted`` operations and the components
    they reach, with ``additions`` (``{"paths": ..., "components": ...}``) merged in first."""
    paths = merge(pick_paths(full["paths"], wanted), additions.get("paths", {}))
    components = merge(full["components"], additions.get("components", {}))
    doc = {key: full[key] for key in ("openapi", "info", "servers", "externalDocs") if key in full}
    doc["paths"] = dict(sorted(paths.items()))
    doc["components"] = reached_components(components, paths)
    return doc


def main(argv: list[str]) -> int:
    full_path = Path(argv[0]) if argv else FULL
    if not full_path.is_file():
        print(f"trim-openapi: no full description at {full_path}; pass its path", file=sys.stderr)
        return 2
    additions = json.loads(ADDITIONS.read_text()) if ADDITIONS.is_file() else {}
    wanted = github_operations(create_app()[0])
    try:
        doc = trim(json.loads(full_path.read_text()), wanted, additions)
    except LookupError as exc:
        print(f"trim-openapi: {exc}", file=sys.stderr)
        return 1
    OUT.write_text(json.dumps(doc, indent=1, sort_keys=False) + "\n")
    print(f"trim-openapi: {len(wanted)} operations, {OUT.stat().st_size // 1024} KiB -> {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
