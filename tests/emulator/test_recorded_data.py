"""GitHub's recorded data inside the project: the trimmed OpenAPI description holds exactly the
operations the emulator serves, its ``$ref``s resolve, and every carried file names its source and
licence (``SOURCES.json`` + ``LICENSES/``) in both the emulator's package data and the tests' data."""

from __future__ import annotations

import importlib.util
import json
import re

import pytest

from emulator.payloads import FIXTURES as EMULATOR_DATA
from emulator.server import create_app, github_operations
from tests.conftest import FIXTURES, ROOT

from .openapi import OPENAPI

LICENCE_FILES = {"octokit/openapi": "octokit-openapi.MIT.txt", "octokit/webhooks": "octokit-webhooks.MIT.txt",
                 "angular/github-robot": "angular-github-robot.MIT.txt",
                 "codinasion-archive/codinasion-bot": "codinasion-bot.MIT.txt",
                 "robvanderleek/create-issue-branch": "create-issue-branch.ISC.txt",
                 "drone/go-scm": "drone-go-scm.BSD-2-Clause-Patent.txt"}


def _trim_script():
    spec = importlib.util.spec_from_file_location("trim_openapi", ROOT / "scripts" / "trim-openapi.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _described() -> set[tuple[str, str]]:
    doc, shape = json.loads(OPENAPI.read_text()), _trim_script().shape
    return {(method.upper(), shape(template))
            for template, item in doc["paths"].items() for method in item if method != "parameters"}


def test_every_operation_the_emulator_serves_is_described():
    served = set(github_operations(create_app()[0]))
    assert served - _described() == set()


def test_the_description_keeps_only_operations_the_emulator_serves():
    assert _described() - set(github_operations(create_app()[0])) == set()


def test_every_ref_in_the_trimmed_description_resolves():
    text = OPENAPI.read_text()
    components = json.loads(text)["components"]
    refs = set(re.findall(r'"\$ref": "#/components/([^/"]+)/([^"]+)"', text))
    assert refs and [r for r in refs if r[1] not in components.get(r[0], {})] == []


@pytest.mark.parametrize("paths, wanted, expected", [
    ({"/a/{x}": {"get": 1, "post": 2, "parameters": [3]}}, [("GET", "/a/{}")], {"/a/{x}": {"parameters": [3], "get": 1}}),
    ({"/a": {"get": 1}, "/b": {"get": 2}}, [("GET", "/b")], {"/b": {"get": 2}}),
])
def test_trim_keeps_only_the_wanted_methods(paths, wanted, expected):
    assert _trim_script().pick_paths(paths, wanted) == expected


@pytest.mark.parametrize("wanted", [[("PUT", "/a")], [("GET", "/missing")]])
def test_trim_names_an_operation_the_full_description_lacks(wanted):
    with pytest.raises(LookupError, match=wanted[0][1]):
        _trim_script().pick_paths({"/a": {"get": 1}}, wanted)


def test_trim_follows_refs_transitively_and_drops_the_rest():
    components = {"schemas": {"a": {"$ref": "#/components/schemas/b"}, "b": {"type": "string"}, "c": {}}}
    reached = _trim_script().reached_components(components, {"x": {"$ref": "#/components/schemas/a"}})
    assert reached == {"schemas": {"a": components["schemas"]["a"], "b": {"type": "string"}}}


@pytest.mark.parametrize("folder", [EMULATOR_DATA, FIXTURES], ids=["emulator", "tests"])
def test_every_carried_file_names_its_source_and_licence(folder):
    sources = json.loads((folder / "SOURCES.json").read_text())
    carried = {str(p.relative_to(folder)) for p in folder.rglob("*.json")
               if p.name not in ("SOURCES.json", "local-additions.json")}
    assert carried == set(sources)
    licences = {p.name for p in (folder / "LICENSES").iterdir()}
    assert {LICENCE_FILES[s["repo"]] for s in sources.values()} == licences
