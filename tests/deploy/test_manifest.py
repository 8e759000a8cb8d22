"""app.yml against the manifest keys GitHub accepts, and against what the code calls and routes.

The REST requests are read from ``service/github.py`` itself (its ``_call``/``_write``/``_pages``
paths), so a new request whose permission the manifest lacks fails here, as does a routed event the
App is not subscribed to."""

from __future__ import annotations

import ast
import copy
from typing import Any

import pytest
import yaml

from service import permissions
from service.core.launch import LaunchSettings, Via, needed_permissions
from service.permissions import ENDPOINTS, EVENT_PERMISSIONS, IMPLIED_EVENTS, OPERATIONS
from service.routes import TABLE
from tests.conftest import ROOT

# https://docs.github.com/en/apps/sharing-github-apps/registering-a-github-app-from-a-manifest
MANIFEST_KEYS = {"name", "url", "hook_attributes", "redirect_url", "callback_urls", "setup_url", "description",
                 "public", "default_events", "default_permissions", "request_oauth_on_install",
                 "setup_on_update"}
HOOK_KEYS = {"url", "active"}
# Repository- and organization-level permission names of GitHub Apps.
KNOWN_PERMISSIONS = {
    "actions", "administration", "checks", "codespaces", "contents", "deployments", "environments", "issues",
    "merge_queues", "metadata", "packages", "pages", "pull_requests", "repository_custom_properties",
    "repository_hooks", "repository_projects", "secret_scanning_alerts", "secrets", "security_events",
    "single_file", "statuses", "vulnerability_alerts", "workflows", "members", "organization_administration",
    "organization_hooks", "organization_projects", "organization_secrets", "organization_self_hosted_runners",
    "organization_user_blocking", "team_discussions", "dependabot_secrets", "discussions", "attestations",
}
TRANSPORT = {"_call": None, "_write": None, "_pages": "GET", "_app_call": None}
# PyGithub methods (not raw requests) the adapter calls → the request each makes.
PYGITHUB = {"get_installations": ("GET", "/app/installations"),
            "get_github_for_installation": None}  # token minting: App JWT, no permission


def load_manifest() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "app.yml").read_text())


# ------------------------------------------------------------------ reading service/github.py

def _path_text(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def _direct_requests(func: ast.FunctionDef) -> tuple[set[tuple[str, str]], set[str], list[str]]:
    """(method, path) pairs of the transport calls in ``func``, names of ``self.x(...)`` /
    module functions it calls, and calls whose path could not be read."""
    found: set[tuple[str, str]] = set()
    callees: set[str] = set()
    unreadable: list[str] = []
    for node in ast.walk(func):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
        if name is None:
            continue
        if name in TRANSPORT and func.name not in TRANSPORT:
            args = list(node.args[1:] if name == "_app_call" else node.args)
            verb = TRANSPORT[name]
            if verb is None:
                verb = args.pop(0).value if args and isinstance(args[0], ast.Constant) else None
            path = _path_text(args[0]) if args else None
            if verb is None or path is None:
                unreadable.append(f"{func.name}: {ast.unparse(node)}")
            else:
                found.add((verb, path))
        elif name in PYGITHUB:
            if PYGITHUB[name]:
                found.add(PYGITHUB[name])
        else:
            callees.add(name)
    return found, callees, unreadable


def adapter_requests() -> tuple[dict[str, set[tuple[str, str]]], list[str], set[str]]:
    """For each function and ``PyGithubPort`` method of service/github.py: every REST request it
    may make (transitively); the unreadable calls; the ``GitHubPort`` operation names."""
    tree = ast.parse("\n".join((ROOT / "service" / "gh" / f).read_text() for f in ("port.py", "client.py", "app.py")))
    funcs: dict[str, ast.FunctionDef] = {}
    port_ops: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            funcs[node.name] = node
        elif isinstance(node, ast.ClassDef) and node.name == "PyGithubPort":
            funcs.update({n.name: n for n in node.body if isinstance(n, ast.FunctionDef)})
        elif isinstance(node, ast.ClassDef) and node.name == "GitHubPort":
            port_ops = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
    direct = {name: _direct_requests(f) for name, f in funcs.items()}
    unreadable = [u for _, _, us in direct.values() for u in us]

    def closure(name: str, seen: set[str]) -> set[tuple[str, str]]:
        if name in seen or name not in direct:
            return set()
        seen.add(name)
        found, callees, _ = direct[name]
        out = set(found)
        for callee in callees:
            out |= closure(callee, seen)
        return out

    return {name: closure(name, set()) for name in funcs}, unreadable, port_ops


def manifest_problems(manifest: dict[str, Any]) -> list[str]:
    """Everything wrong with ``manifest``: keys GitHub does not accept, bad permission values, a
    permission the code needs but the manifest lacks, a routed event not subscribed, an event
    whose permission is not granted."""
    problems = [f"unknown manifest key {k!r}" for k in sorted(set(manifest) - MANIFEST_KEYS)]
    for key in ("name", "url", "hook_attributes", "default_permissions", "default_events"):
        if not manifest.get(key):
            problems.append(f"{key} is missing")
    hook = manifest.get("hook_attributes") or {}
    problems += [f"unknown hook_attributes key {k!r}" for k in sorted(set(hook) - HOOK_KEYS)]
    if not hook.get("url"):
        problems.append("hook_attributes.url is missing")
    granted = manifest.get("default_permissions") or {}
    for name, value in granted.items():
        if name not in KNOWN_PERMISSIONS:
            problems.append(f"unknown permission {name!r}")
        if value not in ("read", "write"):
            problems.append(f"permission {name} is {value!r}, not read or write")
    problems += [f"code needs {p}" for p in permissions.missing_permissions(granted, permissions.required())]
    events = set(manifest.get("default_events") or ())
    routed = {event for event, _action in TABLE}
    problems += [f"routed event {e} is not subscribed" for e in sorted(routed - events - IMPLIED_EVENTS)]
    problems += [f"{e} is implied by checks and cannot be subscribed" for e in sorted(events & IMPLIED_EVENTS)]
    for e in sorted(events | (routed & IMPLIED_EVENTS)):
        options = EVENT_PERMISSIONS.get(e)
        if options is None:
            problems.append(f"event {e} has no known permission")
        elif not any(p in granted for p in options):
            problems.append(f"event {e} needs one of {', '.join(options)}")
    return problems


# ------------------------------------------------------------------ tests

# GitHub delivers workflow_run to Apps with the "Actions" permission; until service/permissions.py
# lists it, that one line is expected (and no other), and this turns strict the day it does.
PENDING = [] if "workflow_run" in EVENT_PERMISSIONS else ["event workflow_run has no known permission"]


def test_app_yml_has_no_problems():
    assert manifest_problems(load_manifest()) == PENDING


def test_app_yml_grants_what_design_names_and_nothing_more():
    manifest = load_manifest()
    assert manifest["default_permissions"] == {"checks": "write", "contents": "write", "pull_requests": "write",
                                               "issues": "write", "metadata": "read", "merge_queues": "read",
                                               "actions": "write"}
    assert sorted(manifest["default_events"]) == ["issue_comment", "issues", "merge_group", "pull_request",
                                                  "workflow_run"]
    launching = needed_permissions([LaunchSettings(via=Via.WORKFLOW)])  # actions: write, event:workflow_run
    needed = set(permissions.required()) | {p for e in manifest["default_events"]
                                            for p in EVENT_PERMISSIONS.get(e, ())[:1]}
    needed |= {p for p in launching if not p.startswith("event:")}
    assert set(manifest["default_permissions"]) <= needed, "least privilege: every grant has a use"


def _without_permission(m, name):
    del m["default_permissions"][name]


def _set(path, value):
    def change(m, _):
        target = m
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


MUTATIONS = {
    "checks dropped": lambda m: _without_permission(m, "checks"),
    "contents only read": lambda m: _set(("default_permissions", "contents"), "read")(m, None),
    "issues dropped": lambda m: _without_permission(m, "issues"),
    "merge_queues dropped (merge_group needs it)": lambda m: _without_permission(m, "merge_queues"),
    "merge_group unsubscribed": lambda m: m["default_events"].remove("merge_group"),
    "issue_comment unsubscribed": lambda m: m["default_events"].remove("issue_comment"),
    "admin is no manifest value": lambda m: _set(("default_permissions", "metadata"), "admin")(m, None),
    "unknown key": lambda m: m.update(webhook_url="https://x"),
    "hook without url": lambda m: m["hook_attributes"].pop("url"),
    "check_run subscribed": lambda m: m["default_events"].append("check_run"),
}


@pytest.mark.parametrize("mutation", MUTATIONS, ids=list(MUTATIONS))
def test_the_check_fails_a_broken_manifest(mutation):
    manifest = copy.deepcopy(load_manifest())
    MUTATIONS[mutation](manifest)
    assert manifest_problems(manifest), mutation


def test_a_new_request_in_the_adapter_needs_its_permission(monkeypatch):
    monkeypatch.setitem(ENDPOINTS, ("POST", "/repos/{owner}/{repo}/statuses/{sha}"), ("statuses", "write"))
    monkeypatch.setitem(OPERATIONS, "set_status", (("POST", "/repos/{owner}/{repo}/statuses/{sha}"),))
    assert "code needs statuses: write" in manifest_problems(load_manifest())


def test_every_adapter_request_is_readable_and_has_a_known_permission():
    requests_by_func, unreadable, _ = adapter_requests()
    assert unreadable == []
    unknown = {(m, p) for reqs in requests_by_func.values() for m, p in reqs if permissions.endpoint_for(m, p) is None}
    assert unknown == set(), "add these endpoints and their permission to service/permissions.py"


def test_every_port_operation_is_in_the_permission_table_with_exactly_its_requests():
    requests_by_func, _, port_ops = adapter_requests()
    assert port_ops, "GitHubPort not found in service/github.py"
    app_level = {"app_installations", "list_failed_deliveries", "redeliver"}
    assert port_ops | app_level <= set(OPERATIONS)
    for op in sorted(port_ops | app_level):
        derived = {permissions.endpoint_for(m, p) for m, p in requests_by_func[op]}
        assert derived == set(OPERATIONS[op]), op


@pytest.mark.parametrize(("method", "path", "key"), [
    ("GET", "/repos/{repo}", ("GET", "/repos/{owner}/{repo}")),
    ("GET", "/repos/{repo}/git/ref/heads/{}", ("GET", "/repos/{owner}/{repo}/git/ref/{ref}")),
    ("GET", "/repos/{repo}/compare/{}...{}", ("GET", "/repos/{owner}/{repo}/compare/{basehead}")),
    ("PATCH", "/repos/{repo}/check-runs/{run_id}", ("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}")),
    ("DELETE", "/repos/{repo}/check-runs/{run_id}", None),
    ("GET", "/repos/{repo}/hooks", None),
])
def test_endpoint_for(method, path, key):
    assert permissions.endpoint_for(method, path) == key


def test_required_takes_the_highest_access():
    assert permissions.required(["check_runs"]) == {"checks": "read"}
    assert permissions.required(["check_runs", "create_check_run"]) == {"checks": "write"}
    assert permissions.required(["redeliver"]) == {}
