"""The agent workflows in ``deploy/agents/`` against what Wavegate sends them and what GitHub accepts.

Each workflow is checked by ``workflow_problems``: started only by ``workflow_dispatch`` with exactly
the inputs ``service.core.launch.dispatch_request`` sends (so the two cannot drift), least-privilege
permissions, one run per agent branch, no expression spliced into a shell script, no secret printed,
and only inputs its actions declare. Every check is shown to fail on a broken copy. The files are
also validated against GitHub's workflow schema (SchemaStore's, as vendored by check-jsonschema),
and their two shell steps are run: reading the prompt against a stand-in ``gh``, pushing against a
local bare repository.
"""

from __future__ import annotations

import copy
import json
import os
import re
import stat
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from service.core.launch import LaunchSettings, Via, dispatch_request, needed_permissions
from tests.conftest import ROOT

AGENTS = ROOT / "deploy" / "agents"
SHIPPED = {"claude-agent.yml", "codex-agent.yml", "shell-agent.yml"}
INPUTS = set(dispatch_request(default_branch="main", issue=1, agent="a", pr=2, branch="b", plan_hash="h")["inputs"])
# The job token's scopes: push to the agent's branch, read the prompt from its PR. Nothing else.
JOB_PERMISSIONS = {"contents": "write", "pull-requests": "read"}
SHARED_STEPS = ("Read the dispatch prompt from the pull request", "Check out the agent's branch",
                "Commit and push the agent's work")
# Inputs each action declares (their action.yml: anthropics/claude-code-action v1 at 24dcd50,
# openai/codex-action v1.8 at 9cdb6f3, actions/checkout v5). A misspelt key is ignored by GitHub
# with only a warning, so it is caught here.
ACTION_INPUTS = {
    "actions/checkout": {
        "repository", "ref", "token", "ssh-key", "ssh-known-hosts", "ssh-strict", "ssh-user",
        "persist-credentials", "path", "clean", "filter", "sparse-checkout", "sparse-checkout-cone-mode",
        "fetch-depth", "fetch-tags", "show-progress", "lfs", "submodules", "set-safe-directory",
        "github-server-url"},
    "anthropics/claude-code-action": {
        "trigger_phrase", "assignee_trigger", "label_trigger", "base_branch", "branch_prefix",
        "branch_name_template", "allowed_bots", "allowed_non_write_users", "include_comments_by_actor",
        "exclude_comments_by_actor", "prompt", "settings", "anthropic_api_key", "claude_code_oauth_token",
        "anthropic_federation_rule_id", "anthropic_organization_id", "anthropic_service_account_id",
        "anthropic_workspace_id", "anthropic_oidc_audience", "github_token", "use_bedrock", "use_vertex",
        "use_foundry", "claude_args", "additional_permissions", "use_sticky_comment",
        "classify_inline_comments", "use_commit_signing", "ssh_signing_key", "bot_id", "bot_name",
        "track_progress", "include_fix_links", "path_to_claude_code_executable", "path_to_bun_executable",
        "display_report", "show_full_output", "plugins", "plugin_marketplaces"},
    "openai/codex-action": {
        "prompt", "prompt-file", "output-file", "openai-api-key", "responses-api-endpoint",
        "working-directory", "sandbox", "codex-version", "codex-args", "output-schema", "output-schema-file",
        "model", "effort", "codex-home", "safety-strategy", "codex-user", "allow-users", "allow-bots",
        "allow-bot-users"},
}
# A run dispatched by the App has the App's bot as its actor; these actions refuse bots not listed.
BOT_ALLOWANCE = {"anthropics/claude-code-action": "allowed_bots", "openai/codex-action": "allow-bot-users"}
_PRINTS = re.compile(r"\b(echo|printf|cat|tee|env|printenv)\b")
_XTRACE = re.compile(r"set\s+-[a-wyz]*x|set\s+-o\s+xtrace|bash\s+-[a-z]*x")


def load(name: str) -> dict[str, Any]:
    """A workflow as GitHub reads it: YAML 1.1 reads the bare key ``on`` as true, GitHub as "on"."""
    doc = yaml.safe_load((AGENTS / name).read_text())
    if True in doc:
        doc["on"] = doc.pop(True)
    return doc


def _action(step: dict[str, Any]) -> str | None:
    return step["uses"].split("@")[0] if "uses" in step else None


def _secret_vars(step: dict[str, Any]) -> set[str]:
    return {k for k, v in (step.get("env") or {}).items() if re.search(r"secrets\.|github\.token", str(v))}


def _step_problems(step: dict[str, Any]) -> list[str]:
    name = step.get("name", "?")
    problems = []
    script = step.get("run")
    if script is not None:
        if "${{" in script:
            problems.append(f"{name}: an expression is spliced into the script (pass it through env)")
        if _XTRACE.search(script):
            problems.append(f"{name}: traces its commands, printing their values")
        for var in _secret_vars(step):
            for line in script.splitlines():
                if _PRINTS.search(line) and re.search(rf"\${{?{var}\b", line):
                    problems.append(f"{name}: prints the secret {var}")
    action = _action(step)
    if action is not None and action in ACTION_INPUTS:
        problems += [f"{name}: {action} has no input {k!r}" for k in sorted(set(step.get("with") or {})
                                                                                - ACTION_INPUTS[action])]
    if action in BOT_ALLOWANCE and not (step.get("with") or {}).get(BOT_ALLOWANCE[action]):
        problems.append(f"{name}: {action} refuses the App's dispatch without {BOT_ALLOWANCE[action]}")
    return problems


def _dispatch_problems(doc: dict[str, Any]) -> list[str]:
    on = doc.get("on")
    if not isinstance(on, dict) or set(on) != {"workflow_dispatch"}:
        return [f"started by {sorted(on) if isinstance(on, dict) else on!r}, not by workflow_dispatch alone"]
    inputs = (on["workflow_dispatch"] or {}).get("inputs") or {}
    problems = [f"input {k} is not sent by Wavegate" for k in sorted(set(inputs) - INPUTS)]
    problems += [f"input {k} is sent by Wavegate but not declared" for k in sorted(INPUTS - set(inputs))]
    for key, spec in inputs.items():
        if key in INPUTS and (spec.get("type") != "string" or spec.get("required") is not True):
            problems.append(f"input {key} must be a required string (Wavegate sends strings)")
    return problems


def _permission_problems(doc: dict[str, Any]) -> list[str]:
    problems = [] if doc.get("permissions") == {} else ["the workflow's default permissions are not empty"]
    for job_id, job in doc.get("jobs", {}).items():
        if job.get("permissions") != JOB_PERMISSIONS:
            problems.append(f"job {job_id} has permissions {job.get('permissions')!r}, not {JOB_PERMISSIONS}")
    return problems


def workflow_problems(doc: dict[str, Any]) -> list[str]:
    """Everything wrong with an agent workflow (``load``'s shape), one line each; [] when none."""
    problems = _dispatch_problems(doc) + _permission_problems(doc)
    group = (doc.get("concurrency") or {}).get("group", "")
    if "inputs.branch" not in group or doc["concurrency"].get("cancel-in-progress") is not False:
        problems.append("runs are not queued one at a time per agent branch")
    for job in doc.get("jobs", {}).values():
        for step in job.get("steps", []):
            problems += _step_problems(step)
    if "secrets." in json.dumps(_without_step_inputs(doc)):
        problems.append("a secret is used outside a step's `with` or `env` (run names and groups are shown)")
    return problems


def _without_step_inputs(doc: dict[str, Any]) -> dict[str, Any]:
    bare = copy.deepcopy(doc)
    for job in bare.get("jobs", {}).values():
        for step in job.get("steps", []):
            step.pop("with", None)
            step.pop("env", None)
    return bare


def steps(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in doc["jobs"]["agent"]["steps"]}


# ------------------------------------------------------------------ the shipped files


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_the_run_is_named_after_the_agent_and_its_branch(name):
    # A dispatched run's head_branch is the dispatch ref (the default branch); its display_title
    # (the run-name) is where a run whose id was never recorded is recognised as the agent's.
    run_name = load(name)["run-name"]
    assert "${{ inputs.agent }}" in run_name and "${{ inputs.branch }}" in run_name


def test_the_three_agent_workflows_are_shipped():
    assert {p.name for p in AGENTS.glob("*.yml")} == SHIPPED


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_workflow_has_no_problems(name):
    assert workflow_problems(load(name)) == []


def schema_errors(doc: dict[str, Any]) -> list[str]:
    """``doc`` against GitHub's workflow schema (SchemaStore's ``github-workflow.json``)."""
    schema_file = resources.files("check_jsonschema.builtin_schemas.vendor") / "github-workflows.json"
    schema = json.loads(schema_file.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_workflow_is_valid_for_github(name):
    assert schema_errors(load(name)) == []


@pytest.mark.parametrize("break_it", [
    lambda d: d["jobs"]["agent"].pop("runs-on"),
    lambda d: d["jobs"]["agent"]["permissions"].update(contents="admin"),
    lambda d: d["jobs"]["agent"]["steps"][0].update(uses="actions/checkout@v5"),
], ids=["no runs-on", "an access GitHub does not know", "a step with both run and uses"])
def test_the_schema_refuses_a_broken_workflow(break_it):
    doc = copy.deepcopy(load("shell-agent.yml"))
    break_it(doc)
    assert schema_errors(doc)


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_workflow_header_names_what_it_needs_and_how_to_install(name):
    text = (AGENTS / name).read_text()
    header = text[:text.index("\nname:")]
    assert f"workflow: {name}" in header and "Needs:" in header
    used = set(re.findall(r"(?:secrets|vars)\.([A-Z_]+)", text))
    assert used and all(u in header for u in used), "every secret and variable it reads is named in the header"


def test_the_shared_steps_are_the_same_in_every_workflow():
    docs = {name: steps(load(name)) for name in SHIPPED}
    for shared in SHARED_STEPS:
        assert len({json.dumps(d[shared], sort_keys=True) for d in docs.values()}) == 1, shared


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_the_agent_step_is_given_the_prompt_read_from_the_pr(name):
    (agent,) = [s for n, s in steps(load(name)).items() if n not in SHARED_STEPS]
    given = json.dumps({"with": agent.get("with"), "env": agent.get("env")})
    assert "steps.prompt.outputs." in given


def test_the_checkout_keeps_no_credential_for_the_agent():
    for name in SHIPPED:
        checkout = steps(load(name))["Check out the agent's branch"]
        assert checkout["with"] == {"ref": "${{ inputs.branch }}", "fetch-depth": 0, "persist-credentials": False}


def test_the_shell_agent_never_gets_a_github_token():
    agent = steps(load("shell-agent.yml"))["Run the agent command"]
    assert "github.token" not in json.dumps(agent) and "GH_TOKEN" not in json.dumps(agent)


# ------------------------------------------------------------------ the check fails broken copies


def _step(doc, name):
    return steps(doc)[name]


MUTATIONS = {
    "a pull_request trigger": lambda d: d["on"].update(pull_request=None),
    "an input Wavegate does not send": lambda d: d["on"]["workflow_dispatch"]["inputs"].update(
        prompt={"type": "string", "required": True}),
    "an input Wavegate sends is missing": lambda d: d["on"]["workflow_dispatch"]["inputs"].pop("plan_hash"),
    "an input typed as number": lambda d: d["on"]["workflow_dispatch"]["inputs"]["pr"].update(type="number"),
    "an optional input": lambda d: d["on"]["workflow_dispatch"]["inputs"]["agent"].update(required=False),
    "write-all by default": lambda d: d.update(permissions="write-all"),
    "actions: write on the job": lambda d: d["jobs"]["agent"]["permissions"].update(actions="write"),
    "id-token: write on the job": lambda d: d["jobs"]["agent"]["permissions"].update({"id-token": "write"}),
    "pull-requests: write": lambda d: d["jobs"]["agent"]["permissions"].update({"pull-requests": "write"}),
    "no concurrency": lambda d: d.pop("concurrency"),
    "concurrency per workflow, not branch": lambda d: d["concurrency"].update(group="${{ github.workflow }}"),
    "runs cancel each other": lambda d: d["concurrency"].update({"cancel-in-progress": True}),
    "an input spliced into a script": lambda d: _step(d, SHARED_STEPS[2]).update(
        run='git push origin "HEAD:${{ inputs.branch }}"'),
    "a secret spliced into a script": lambda d: _step(d, SHARED_STEPS[0]).update(
        run="curl -H 'Authorization: ${{ secrets.X }}' x"),
    "the token echoed": lambda d: _step(d, SHARED_STEPS[2]).update(run='echo "token: $GH_TOKEN"'),
    "the token printed in braces": lambda d: _step(d, SHARED_STEPS[0]).update(run='printf %s "${GH_TOKEN}"'),
    "a secret in the run's name": lambda d: d.update({"run-name": "${{ secrets.ANTHROPIC_API_KEY }}"}),
    "commands traced": lambda d: _step(d, SHARED_STEPS[2]).update(run="set -euxo pipefail\ngit push"),
    "a misspelt checkout input": lambda d: _step(d, SHARED_STEPS[1])["with"].update(persist_credentials=False),
}
AGENT_MUTATIONS = {
    "claude-agent.yml": {
        "no allowed_bots": lambda d: _step(d, "Run Claude Code")["with"].pop("allowed_bots"),
        "a misspelt claude input": lambda d: _step(d, "Run Claude Code")["with"].update(allowed_tools="x"),
    },
    "codex-agent.yml": {
        "no allow-bot-users": lambda d: _step(d, "Run Codex")["with"].pop("allow-bot-users"),
        "a misspelt codex input": lambda d: _step(d, "Run Codex")["with"].update(openai_api_key="x"),
    },
    "shell-agent.yml": {
        "the agent secret echoed": lambda d: _step(d, "Run the agent command").update(
            run='echo "$WAVEGATE_AGENT_SECRET"'),
    },
}
CASES = [(n, m) for n in sorted(SHIPPED) for m in MUTATIONS] + \
        [(n, m) for n, ms in AGENT_MUTATIONS.items() for m in ms]


@pytest.mark.parametrize(("name", "mutation"), CASES, ids=[f"{n}:{m}" for n, m in CASES])
def test_the_check_fails_a_broken_workflow(name, mutation):
    doc = copy.deepcopy(load(name))
    (MUTATIONS.get(mutation) or AGENT_MUTATIONS[name][mutation])(doc)
    assert workflow_problems(doc), mutation


# ------------------------------------------------------------------ the App asks for what launching needs


def test_app_yml_grants_what_launching_via_workflow_needs():
    manifest = yaml.safe_load((ROOT / "app.yml").read_text())
    needed = needed_permissions([LaunchSettings(via=Via.WORKFLOW, workflow="claude-agent.yml")])
    assert needed, "launching via workflow needs something from the installation"
    for key, level in needed.items():
        if key.startswith("event:"):
            assert key.removeprefix("event:") in manifest["default_events"], key
        else:
            assert manifest["default_permissions"].get(key) == level, key
    assert manifest["default_permissions"]["actions"] == "write" and "workflow_run" in manifest["default_events"]


def test_the_launching_doc_explains_every_shipped_workflow():
    text = (ROOT / "docs" / "launching.md").read_text()
    for name in SHIPPED:
        assert f"deploy/agents/{name}" in text
    assert "allowed_bots" in text and "allow-bot-users" in text and "COPILOT_USER_TOKEN" in text


# ------------------------------------------------------------------ the shell steps, run


def _script(name: str) -> str:
    return steps(load("claude-agent.yml"))[name]["run"]


FAKE_GH = """#!/usr/bin/env bash
# Stands in for gh: `pr view N --repo R --json F --jq Q` answers from FAKE_* variables.
case "$1 $2" in
  "auth setup-git") exit 0 ;;
  "pr view")
    [ "$3" = "$FAKE_PR" ] || { echo "no pull request $3" >&2; exit 1; }
    case "$*" in
      *"--json body"*) printf '%s\\n' "$FAKE_BODY" ;;
      *) printf '%s\\t%s\\t%s\\n' "$FAKE_HEAD" "$FAKE_STATE" "$FAKE_FORK" ;;
    esac ;;
  *) echo "unexpected gh $*" >&2; exit 2 ;;
esac
"""


@pytest.fixture
def fake_gh(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    gh = bin_dir / "gh"
    gh.write_text(FAKE_GH)
    gh.chmod(gh.stat().st_mode | stat.S_IEXEC)
    runner_temp = tmp_path / "runner-temp"
    runner_temp.mkdir()
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "HOME": str(tmp_path),
            "RUNNER_TEMP": str(runner_temp), "GITHUB_OUTPUT": str(tmp_path / "output"),
            "GITHUB_REPOSITORY": "octo/repo", "GH_TOKEN": "not-a-real-token"}


def _run(script: str, env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", script], env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


def _outputs(path: str) -> dict[str, str]:
    """GitHub's $GITHUB_OUTPUT format: ``k=v`` lines and ``k<<DELIM`` … ``DELIM`` blocks."""
    lines, out = Path(path).read_text().split("\n"), {}
    i = 0
    while i < len(lines):
        if "<<" in lines[i]:
            key, delim = lines[i].split("<<", 1)
            end = lines.index(delim, i + 1)
            out[key], i = "\n".join(lines[i + 1:end]), end + 1
        elif "=" in lines[i]:
            key, value = lines[i].split("=", 1)
            out[key], i = value, i + 1
        else:
            i += 1
    return out


PR = {"FAKE_PR": "7", "FAKE_HEAD": "wavegate/3/api", "FAKE_STATE": "OPEN", "FAKE_FORK": "false",
      "FAKE_BODY": "## Dispatch: `api` · wave 1\n\nline <<EOF\n<!-- wavegate issue=3 agent=api -->",
      "PR": "7", "BRANCH": "wavegate/3/api"}


def test_reading_the_prompt_writes_the_pr_body_to_a_file_and_an_output(fake_gh):
    result = _run(_script(SHARED_STEPS[0]), {**fake_gh, **PR})
    assert result.returncode == 0, result.stderr
    outputs = _outputs(fake_gh["GITHUB_OUTPUT"])
    assert Path(outputs["file"]).read_text() == PR["FAKE_BODY"] + "\n"
    assert outputs["text"] == PR["FAKE_BODY"]
    assert Path(outputs["file"]).parent == Path(fake_gh["RUNNER_TEMP"]), "outside the checkout: never committed"


@pytest.mark.parametrize(("change", "says"), [
    ({"FAKE_HEAD": "main"}, "is not on branch wavegate/3/api"),
    ({"FAKE_FORK": "true"}, "is not on branch wavegate/3/api of this repository"),
    ({"FAKE_STATE": "MERGED"}, "is not open"),
    ({"FAKE_BODY": ""}, "has an empty body"),
    ({"PR": "8"}, "no pull request 8"),
])
def test_reading_the_prompt_refuses_a_pr_that_is_not_the_agents(fake_gh, change, says):
    result = _run(_script(SHARED_STEPS[0]), {**fake_gh, **PR, **change})
    assert result.returncode != 0 and says in result.stdout + result.stderr
    assert not Path(fake_gh["GITHUB_OUTPUT"]).exists() or "text" not in _outputs(fake_gh["GITHUB_OUTPUT"])


def _git(*args: str, cwd: Path) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@x"}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def checkout(tmp_path: Path) -> tuple[Path, Path]:
    """A bare origin with the agent's branch, and a checkout of it (as actions/checkout leaves it)."""
    origin, work = tmp_path / "origin.git", tmp_path / "work"
    _git("init", "-q", "--bare", "-b", "main", str(origin), cwd=tmp_path)
    _git("clone", "-q", str(origin), str(work), cwd=tmp_path)
    (work / "a.txt").write_text("a\n")
    _git("add", "a.txt", cwd=work)
    _git("commit", "-q", "-m", "base", cwd=work)
    _git("push", "-q", "origin", "HEAD:refs/heads/main", "HEAD:refs/heads/wavegate/3/api", cwd=work)
    _git("fetch", "-q", "origin", cwd=work)
    _git("checkout", "-q", "-B", "wavegate/3/api", "origin/wavegate/3/api", cwd=work)
    return origin, work


PUSH = {"BRANCH": "wavegate/3/api", "AGENT": "api", "ISSUE": "3"}


def test_pushing_commits_what_the_agent_left_and_pushes_it_to_its_branch(fake_gh, checkout):
    origin, work = checkout
    (work / "api.py").write_text("print('api')\n")
    result = _run(_script(SHARED_STEPS[2]), {**fake_gh, **PUSH}, cwd=work)
    assert result.returncode == 0, result.stderr
    assert _git("log", "-1", "--format=%s", "wavegate/3/api", cwd=origin).strip() == "api: work from dispatch #3"
    assert "api.py" in _git("ls-tree", "--name-only", "wavegate/3/api", cwd=origin)


def test_pushing_replays_the_agents_commits_on_a_branch_that_moved(fake_gh, checkout, tmp_path):
    origin, work = checkout
    other = tmp_path / "other"
    _git("clone", "-q", "-b", "wavegate/3/api", str(origin), str(other), cwd=tmp_path)
    (other / "b.txt").write_text("b\n")
    _git("add", "b.txt", cwd=other)
    _git("commit", "-q", "-m", "moved", cwd=other)
    _git("push", "-q", "origin", "HEAD:refs/heads/wavegate/3/api", cwd=other)
    (work / "api.py").write_text("print('api')\n")
    result = _run(_script(SHARED_STEPS[2]), {**fake_gh, **PUSH}, cwd=work)
    assert result.returncode == 0, result.stderr
    assert "moved during the run" in result.stdout
    log = _git("log", "--format=%s", "wavegate/3/api", cwd=origin).split()
    assert log[:2] == ["api:", "work"] and "moved" in log
    assert {"a.txt", "b.txt", "api.py"} <= set(_git("ls-tree", "--name-only", "wavegate/3/api", cwd=origin).split())


def test_pushing_with_nothing_to_commit_succeeds_and_changes_nothing(fake_gh, checkout):
    origin, work = checkout
    before = _git("rev-parse", "wavegate/3/api", cwd=origin)
    result = _run(_script(SHARED_STEPS[2]), {**fake_gh, **PUSH}, cwd=work)
    assert result.returncode == 0, result.stderr
    assert _git("rev-parse", "wavegate/3/api", cwd=origin) == before


def test_the_shell_agent_runs_the_command_in_the_checkout_with_the_prompt_file(fake_gh, tmp_path):
    script = steps(load("shell-agent.yml"))["Run the agent command"]["run"]
    prompt = tmp_path / "prompt.md"
    prompt.write_text("do the api\n")
    env = {**fake_gh, "WAVEGATE_PROMPT_FILE": str(prompt), "WAVEGATE_AGENT": "api",
           "WAVEGATE_AGENT_COMMAND": '{ cat "$WAVEGATE_PROMPT_FILE"; echo "$WAVEGATE_AGENT"; } > out'}
    result = _run(script, env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out").read_text() == "do the api\napi\n"
    failing = _run(script, {**env, "WAVEGATE_AGENT_COMMAND": "true | false; echo after > after"}, cwd=tmp_path)
    assert failing.returncode != 0 and not (tmp_path / "after").exists(), "a failing agent fails the run"


def test_the_shell_agent_without_a_command_says_what_to_set(fake_gh, tmp_path):
    script = steps(load("shell-agent.yml"))["Run the agent command"]["run"]
    result = _run(script, {**fake_gh, "WAVEGATE_AGENT_COMMAND": ""}, cwd=tmp_path)
    assert result.returncode == 1 and "Set the repository variable WAVEGATE_AGENT_COMMAND" in result.stdout
