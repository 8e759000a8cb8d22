"""The deploy artefacts: compose file valid (compose-spec) with a password-protected Redis and the web
port on the loopback interface only, Kubernetes manifests (as the example overlay renders them,
``tests/deploy/test_kustomize.py``) valid with web and worker separate, probes, Redis credentials
from the Secret, one non-root image for both roles, and a Procfile whose entry points import."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import compose_spec
import kubernetes_validate
import pytest
import yaml

from service import setup_access
from tests.conftest import ROOT
from tests.deploy.test_kustomize import DOCS

DEPLOY = ROOT / "deploy"
K8S_VERSION = "1.30.0"
WEB_COMMAND = ["python", "deploy/web.py"]
WORKER_COMMAND = ["python", "-m", "workers"]


def k8s_docs() -> list[tuple[str, dict]]:
    """(name, object) of every object ``kubectl apply -k deploy/k8s/overlays/example`` applies."""
    return [(doc["metadata"]["name"], doc) for doc in DOCS]


def example_secret() -> dict:
    return yaml.safe_load((DEPLOY / "k8s" / "secret.example.yaml").read_text())


def deployments() -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for _, doc in k8s_docs() if doc["kind"] == "Deployment"}


def container(deployment: dict) -> dict:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


# ------------------------------------------------------------------ compose

def test_compose_file_is_valid():
    parsed = compose_spec.PyCompose.from_yaml((DEPLOY / "compose.yaml").read_text())
    assert set(parsed.service_names()) == {"redis", "web", "worker"}


def test_the_validator_rejects_a_broken_compose_file():
    broken = (DEPLOY / "compose.yaml").read_text().replace("    image: wavegate:local\n    command:",
                                                           "    imagex: wavegate:local\n    command:")
    assert broken != (DEPLOY / "compose.yaml").read_text()
    with pytest.raises(ValueError):
        compose_spec.PyCompose.from_yaml(broken)


def test_compose_runs_both_roles_from_one_image_on_one_redis():
    services = compose()["services"]
    assert services["web"]["image"] == services["worker"]["image"]
    assert services["web"]["build"]["dockerfile"] == "deploy/Dockerfile"
    assert services["worker"]["command"] == WORKER_COMMAND
    assert services["web"].get("command") is None  # the image's default command serves webhooks
    for role in ("web", "worker"):
        assert services[role]["environment"]["REDIS_URL"] == "redis://:${REDIS_PASSWORD}@redis:6379/0"
        assert services[role]["depends_on"]["redis"]["condition"] == "service_healthy"
        # the setup page's .env is shared through the config volume
        assert services[role]["environment"]["ENV_FILE"] == "/config/.env"
        assert any(v.split(":")[:2] == ["config", "/config"] for v in services[role]["volumes"])
    assert "/livez" in " ".join(services["web"]["healthcheck"]["test"])


def test_compose_redis_requires_a_password_and_runs_as_non_root():
    redis = compose()["services"]["redis"]
    assert redis["environment"]["REDIS_PASSWORD"].startswith("${REDIS_PASSWORD:?"), "no default password"
    assert redis["environment"]["REDISCLI_AUTH"] == "${REDIS_PASSWORD}"
    script = " ".join(redis["command"])
    # $$ is compose's escape: the container's shell expands it, so the value is not in the arguments
    assert "requirepass $$REDIS_PASSWORD" in script and "--requirepass" not in script
    assert redis["user"].split(":")[0] not in ("", "0", "root")
    assert "ports" not in redis, "Redis is reachable only on the compose network"


def test_compose_publishes_the_web_port_on_the_loopback_interface_only():
    services = compose()["services"]
    assert services["web"]["ports"] == ["127.0.0.1:8000:8000"]
    assert [name for name, service in services.items() if service.get("ports")] == ["web"]
    for name, service in services.items():
        assert service["read_only"] is True and service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name


# ------------------------------------------------------------------ Kubernetes

def test_the_validator_rejects_a_broken_manifest():
    doc = deployments()["wavegate-web"]
    broken = yaml.safe_load(yaml.safe_dump(doc))
    broken["spec"]["replicas"] = "2"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)
    broken = yaml.safe_load(yaml.safe_dump(doc))
    container(broken)["livenessProbe"]["httpGett"] = container(broken)["livenessProbe"].pop("httpGet")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_web_and_worker_are_separate_deployments_from_one_image():
    found = deployments()
    web, worker = found["wavegate-web"], found["wavegate-worker"]
    assert container(web)["image"] == container(worker)["image"]
    assert container(web)["args"] == WEB_COMMAND
    assert container(worker)["args"] == WORKER_COMMAND
    # separate selectors: the worker count scales without touching web
    assert web["spec"]["selector"] != worker["spec"]["selector"]
    assert web["spec"]["replicas"] >= 1 and worker["spec"]["replicas"] >= 1


def test_web_has_liveness_and_readiness_probes_and_a_service():
    web = container(deployments()["wavegate-web"])
    assert web["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    port_names = {p["name"] for p in web["ports"]}
    assert web["livenessProbe"]["httpGet"]["port"] in port_names
    services = [d for _, d in k8s_docs() if d["kind"] == "Service" and d["metadata"]["name"] == "wavegate-web"]
    assert services and services[0]["spec"]["selector"] == deployments()["wavegate-web"]["spec"]["selector"][
        "matchLabels"]


def test_redis_connection_and_credentials_come_from_a_secret():
    secrets = {"wavegate": example_secret()}  # created by hand: never part of what `apply -k` applies
    for name in ("wavegate-web", "wavegate-worker"):
        c = container(deployments()[name])
        assert not any(e["name"] == "REDIS_URL" and "value" in e for e in c.get("env", [])), \
            "REDIS_URL must not be a literal value"
        from_secret = {ref["secretRef"]["name"] for ref in c.get("envFrom", []) if "secretRef" in ref}
        by_key = {e["valueFrom"]["secretKeyRef"]["name"] for e in c.get("env", [])
                  if e["name"] == "REDIS_URL" and "secretKeyRef" in e.get("valueFrom", {})}
        assert by_key or any("REDIS_URL" in secrets.get(s, {}).get("stringData", {}) for s in from_secret)
        assert any({"APP_ID", "WEBHOOK_SECRET", "PRIVATE_KEY"} <= set(secrets.get(s, {}).get("stringData", {}))
                   for s in from_secret)


def test_pods_run_as_non_root():
    for name in ("wavegate-web", "wavegate-worker"):
        security = deployments()[name]["spec"]["template"]["spec"]["securityContext"]
        assert security["runAsNonRoot"] is True and security["runAsUser"] != 0


# ------------------------------------------------------------------ image

def dockerfile() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line.strip() else "")
            for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_the_image_runs_as_a_non_root_user():
    users = [arg.strip() for op, arg in dockerfile() if op == "USER"]
    assert users and users[-1] not in ("root", "0") and not users[-1].startswith("0:")
    runs = " ".join(arg for op, arg in dockerfile() if op == "RUN")
    assert re.search(rf"useradd .*--uid 10001 {users[-1]}\b", runs)


def test_the_image_serves_webhooks_by_default_and_contains_what_both_roles_need():
    ops = dockerfile()
    cmd = [arg for op, arg in ops if op == "CMD"][-1]
    assert yaml.safe_load(cmd) == WEB_COMMAND
    copied = " ".join(arg for op, arg in ops if op == "COPY")
    for needed in ("service", "workers", "deploy/web.py", "app.yml", "pyproject.toml"):
        assert needed in copied, needed
    assert not [arg for op, arg in ops if op == "ENTRYPOINT"], "the role is chosen by the command alone"


# ------------------------------------------------------------------ Procfile

def procfile() -> dict[str, list[str]]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return {name: shlex.split(command) for name, command in (line.split(":", 1) for line in lines if line.strip())}


def test_procfile_has_web_and_worker():
    procs = procfile()
    assert set(procs) == {"web", "worker"}
    assert procs["web"] == WEB_COMMAND
    assert procs["worker"] == WORKER_COMMAND


def _launcher():
    spec = importlib.util.spec_from_file_location("wavegate_web_launcher", ROOT / "deploy" / "web.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_procfile_entry_points_import():
    assert (ROOT / procfile()["web"][-1]).is_file()
    module, _, call = _launcher().TARGET.partition(":")
    assert callable(getattr(importlib.import_module(module), call))
    assert importlib.util.find_spec(procfile()["worker"][-1]) is not None
    result = subprocess.run([sys.executable, "-m", "workers", "--help"], cwd=ROOT, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and "--burst" in result.stdout


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("name", ["APP_ID", "PORT", "WEB_CONCURRENCY", "WEB_THREADS", "WEB_BODY_TIMEOUT",
                                  "WEB_KILL_TIMEOUT"])
def test_the_web_launcher_stops_on_a_configuration_error_with_one_line(tmp_path, name):
    result = subprocess.run([sys.executable, "deploy/web.py"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent/.env", name: "x",
                                 "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"wavegate web: configuration error: {name} must be a positive "
                                                  "integer, got 'x'"]


def test_the_web_launcher_serves_the_app_with_json_logs_and_multiprocess_metrics(tmp_path):
    import signal
    import time

    import requests

    port = _free_port()
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_1.db").write_bytes(b"stale")  # a previous run's file: wiped at start
    env = {"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent/.env", "PORT": str(port), "WEB_HOST": "127.0.0.1",
           "WEB_CONCURRENCY": "2", "WEB_THREADS": "2", "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
           "WEB_KILL_TIMEOUT": "3",  # a process still booting at SIGTERM is stopped at this deadline
           "REDIS_URL": "redis://127.0.0.1:1/0"}  # setup mode: no App credentials
    proc = subprocess.Popen([sys.executable, "deploy/web.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                assert requests.get(f"http://127.0.0.1:{port}/livez", timeout=2).status_code == 200
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and proc.poll() is None, "the web process did not start"
                time.sleep(0.2)
        answer = requests.post(f"http://127.0.0.1:{port}/webhook", data=b"{}", timeout=5,
                               headers={"X-GitHub-Event": "ping", "X-GitHub-Delivery": "d-1"})
        assert answer.status_code == 503  # setup mode: GitHub records a failed delivery to redeliver
        metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert 'wavegate_webhook_deliveries_total{event="ping"' in metrics
        assert not (metrics_dir / "counter_1.db").exists()
        token_file = setup_access.token_path(Path("/nonexistent/.env"), parent=proc.pid)
        assert token_file.exists()  # the setup token its processes share
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert lines and all(isinstance(line["event"], str) for line in lines)
    assert "setup_mode" in {line["event"] for line in lines}
    assert proc.returncode == 0
    assert not token_file.exists()  # a dead secret once the server stopped: removed


def test_gunicorn_config_loads(tmp_path):
    result = subprocess.run([sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "--check-config",
                             "--print-config", "service.webhook:create_app()"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent/.env",
                                                  "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert "child_exit" in result.stdout and "on_starting" in result.stdout
