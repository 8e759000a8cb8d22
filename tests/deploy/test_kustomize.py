"""The Kubernetes manifests as ``kubectl apply -k deploy/k8s/overlays/example`` would apply them:
rendered by kustomize itself (``kubectl kustomize``) when kubectl is installed, else by ``render``, a
small renderer of the kustomize subset the manifests use (``resources`` files and folders,
``namespace``, ``images``), which is checked against kustomize wherever both exist. The rendered
objects are then validated against Kubernetes 1.30's strict schemas and checked for what running
Wavegate for real needs: no example Secret, an image that can be pulled, the "restricted" Pod
Security Standard, Redis behind a password and a NetworkPolicy, probes, disruption budgets, an
Ingress with TLS and body buffering."""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from tests.conftest import ROOT

K8S = ROOT / "deploy" / "k8s"
OVERLAY = K8S / "overlays" / "example"
K8S_VERSION = "1.30.0"
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass"}


# ------------------------------------------------------------------ rendering

def render(folder: Path) -> list[dict]:
    """The objects of the kustomization in ``folder``, for the subset of kustomize the manifests
    use: ``resources`` (YAML files, or folders holding a kustomization), ``namespace`` (set on
    every namespaced object), ``images`` (``name`` → ``newName``/``newTag`` on every container).
    Raises ``ValueError`` on any other kustomization field, so the subset cannot silently grow."""
    spec = yaml.safe_load((folder / "kustomization.yaml").read_text())
    unknown = set(spec) - {"apiVersion", "kind", "resources", "namespace", "images"}
    if unknown:
        raise ValueError(f"{folder}: kustomization fields outside the renderer's subset: {sorted(unknown)}")
    docs: list[dict] = []
    for entry in spec.get("resources", []):
        path = (folder / entry).resolve()
        docs += render(path) if path.is_dir() else [d for d in yaml.safe_load_all(path.read_text()) if d]
    for doc in docs:
        if spec.get("namespace") and doc["kind"] not in CLUSTER_SCOPED:
            doc["metadata"]["namespace"] = spec["namespace"]
        for container in _containers(doc):
            container["image"] = _retag(container["image"], spec.get("images", []))
    return docs


def _containers(doc: dict) -> list[dict]:
    pod = doc.get("spec", {}).get("template", {}).get("spec", {})
    return pod.get("containers", []) + pod.get("initContainers", [])


def _retag(image: str, rules: list[dict]) -> str:
    name, _, tag = image.partition(":")
    for rule in rules:
        if rule["name"] == name:
            return f"{rule.get('newName', name)}:{rule.get('newTag', tag)}".rstrip(":")
    return image


def kustomize(folder: Path) -> list[dict] | None:
    """kustomize's own rendering (``kubectl kustomize``), or None without kubectl."""
    kubectl = shutil.which("kubectl")
    if not kubectl:
        return None
    done = subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True, text=True, timeout=60, check=True)
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def rendered() -> list[dict]:
    """The example overlay's objects: kustomize's rendering when available, else ``render``'s."""
    return kustomize(OVERLAY) or render(OVERLAY)


def _key(doc: dict) -> tuple[str, str, str]:
    return doc["kind"], doc["metadata"].get("namespace", ""), doc["metadata"]["name"]


DOCS = rendered()
BY_KEY = {_key(d): d for d in DOCS}


def of_kind(kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in DOCS if d["kind"] == kind}


def pod_spec(name: str) -> dict:
    return of_kind("Deployment")[name]["spec"]["template"]["spec"]


def selects(selector: dict, labels: dict) -> bool:
    """A Kubernetes label selector (``matchLabels`` and ``In``/``NotIn``/``Exists`` expressions)."""
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        value, op = labels.get(expr["key"]), expr["operator"]
        if (op == "In" and value not in expr["values"]) or (op == "NotIn" and value in expr["values"]) \
                or (op == "Exists" and value is None) or (op == "DoesNotExist" and value is not None):
            return False
    return True


# ------------------------------------------------------------------ the rendering itself

@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (kustomize) not installed")
def test_the_python_renderer_agrees_with_kustomize():
    ours, theirs = render(OVERLAY), kustomize(OVERLAY)
    assert {_key(d): d for d in ours} == {_key(d): d for d in theirs}


def test_the_renderer_refuses_what_it_does_not_implement(tmp_path):
    (tmp_path / "kustomization.yaml").write_text("resources: []\npatches: [{path: x.yaml}]\n")
    with pytest.raises(ValueError, match="patches"):
        render(tmp_path)


def test_every_object_is_valid_for_kubernetes():
    assert len(DOCS) >= 10
    for doc in DOCS:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_the_validator_rejects_a_broken_object():
    broken = copy.deepcopy(of_kind("PodDisruptionBudget")["wavegate-web"])
    broken["spec"]["minAvailable"] = [1]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


# ------------------------------------------------------------------ secrets and images

def test_no_secret_is_applied_and_the_example_is_outside_every_kustomization():
    assert [d for d in DOCS if d["kind"] == "Secret"] == []
    listed = [e for k in K8S.rglob("kustomization.yaml") for e in yaml.safe_load(k.read_text()).get("resources", [])]
    assert not any("secret" in e for e in listed)
    assert (K8S / "secret.example.yaml").is_file()


def test_the_example_secret_has_every_key_the_pods_read():
    secret = yaml.safe_load((K8S / "secret.example.yaml").read_text())
    keys = set(secret["stringData"])
    assert {"APP_ID", "WEBHOOK_SECRET", "PRIVATE_KEY", "REDIS_PASSWORD", "REDIS_URL"} <= keys
    password = secret["stringData"]["REDIS_PASSWORD"]
    assert f":{password}@" in secret["stringData"]["REDIS_URL"], "REDIS_URL carries the password Redis requires"
    for doc in of_kind("Deployment").values():
        for container in _containers(doc):
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["name"] == "wavegate" and ref["key"] in keys


def test_images_name_a_registry_and_a_version():
    for doc in of_kind("Deployment").values():
        for container in _containers(doc):
            image = container["image"]
            registry, _, rest = image.partition("/")
            assert "." in registry or registry in ("docker.io",) or image.startswith("redis:"), image
            assert ":" in rest or image.startswith("redis:"), image
            assert not image.endswith(":latest"), image


# ------------------------------------------------------------------ pod security

def test_every_pod_meets_the_restricted_pod_security_standard():
    assert of_kind("Namespace")["wavegate"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for name in of_kind("Deployment"):
        pod = pod_spec(name)
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        assert pod.get("automountServiceAccountToken") is False
        for container in pod["containers"]:
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"]["drop"] == ["ALL"] and not security["capabilities"].get("add"), name
            assert security["readOnlyRootFilesystem"] is True, name


# ------------------------------------------------------------------ Redis

def test_redis_requires_the_password_from_the_secret_without_showing_it_in_its_arguments():
    container = pod_spec("redis")["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    for name in ("REDIS_PASSWORD", "REDISCLI_AUTH"):
        assert env[name]["valueFrom"]["secretKeyRef"] == {"name": "wavegate", "key": "REDIS_PASSWORD"}
    script = " ".join(container.get("command", []) + container.get("args", []))
    assert "requirepass $REDIS_PASSWORD" in script and "redis-server -" in script
    assert "--requirepass" not in script, "a password in the arguments shows in the process list"


def test_only_web_and_worker_pods_may_reach_redis():
    policy = of_kind("NetworkPolicy")["redis"]
    pods = {name: d["spec"]["template"]["metadata"]["labels"] for name, d in of_kind("Deployment").items()}
    assert [n for n, labels in pods.items() if selects(policy["spec"]["podSelector"], labels)] == ["redis"]
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    (rule,) = policy["spec"]["ingress"]
    admitted = {n for n, labels in pods.items() if any(selects(p["podSelector"], labels) for p in rule["from"])}
    assert admitted == {"wavegate-web", "wavegate-worker"}
    assert all(set(p) == {"podSelector"} for p in rule["from"]), "no namespaceSelector or ipBlock widens it"
    strangers = {"app.kubernetes.io/name": "wavegate", "app.kubernetes.io/component": "debug"}
    assert not any(selects(p["podSelector"], strangers) for p in rule["from"])


# ------------------------------------------------------------------ availability

def test_web_and_worker_have_probes_on_declared_ports():
    for name, kind in (("wavegate-web", "livenessProbe"), ("wavegate-worker", "startupProbe")):
        (container,) = pod_spec(name)["containers"]
        ports = {p["name"] for p in container["ports"]}
        probe = container[kind]["httpGet"]
        assert probe["port"] in ports, name
    (worker,) = pod_spec("wavegate-worker")["containers"]
    assert worker["startupProbe"]["httpGet"]["path"] == "/metrics"
    assert {"name": "METRICS_PORT", "value": str(worker["ports"][0]["containerPort"])} in worker["env"]


def test_the_worker_liveness_probe_reads_the_deadline_the_worker_writes(tmp_path):
    """The worker's liveness probe passes while the deadline in WORKER_ALIVE_FILE is ahead and
    fails once it is past or the file is missing (run here with this machine's sh)."""
    import subprocess
    import time

    from workers.__main__ import write_alive

    (worker,) = pod_spec("wavegate-worker")["containers"]
    alive = next(e["value"] for e in worker["env"] if e["name"] == "WORKER_ALIVE_FILE")
    command = worker["livenessProbe"]["exec"]["command"]
    assert alive in command[-1] and alive.startswith("/tmp/")  # /tmp is the pod's writable emptyDir
    local = [*command[:-1], command[-1].replace(alive, str(tmp_path / "alive"))]

    def probe() -> int:
        return subprocess.run(local, check=False).returncode

    assert probe() != 0  # not written yet
    write_alive(str(tmp_path / "alive"), time.time() + 30)
    assert probe() == 0
    write_alive(str(tmp_path / "alive"), time.time() - 5)
    assert probe() != 0


def test_each_role_has_a_disruption_budget_that_leaves_one_pod():
    budgets = of_kind("PodDisruptionBudget")
    for name in ("wavegate-web", "wavegate-worker"):
        labels = of_kind("Deployment")[name]["spec"]["template"]["metadata"]["labels"]
        matching = [b for b in budgets.values() if selects(b["spec"]["selector"], labels)]
        assert len(matching) == 1, name
        spec, replicas = matching[0]["spec"], of_kind("Deployment")[name]["spec"]["replicas"]
        assert spec.get("minAvailable", replicas - spec.get("maxUnavailable", replicas)) >= 1


def test_the_ingress_terminates_tls_buffers_bodies_and_routes_only_webhooks():
    ingress = of_kind("Ingress")["wavegate"]
    notes = ingress["metadata"]["annotations"]
    assert notes["nginx.ingress.kubernetes.io/proxy-request-buffering"] == "on"
    assert notes["nginx.ingress.kubernetes.io/proxy-body-size"] == "26m"
    for timeout in ("proxy-connect-timeout", "proxy-send-timeout", "proxy-read-timeout"):
        assert 0 < int(notes[f"nginx.ingress.kubernetes.io/{timeout}"]) <= 10, timeout
    (tls,) = ingress["spec"]["tls"]
    (rule,) = ingress["spec"]["rules"]
    assert rule["host"] in tls["hosts"] and tls["secretName"]
    (path,) = rule["http"]["paths"]
    assert (path["path"], path["pathType"]) == ("/webhook", "Exact")
    service = of_kind("Service")[path["backend"]["service"]["name"]]
    assert path["backend"]["service"]["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}
    assert ingress["metadata"]["namespace"] == service["metadata"]["namespace"]
