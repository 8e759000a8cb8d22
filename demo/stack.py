"""Start and stop the processes of a local Wavegate installation: the GitHub emulator, the web
process (the Procfile's ``python deploy/web.py``, granian; ``web_server="gunicorn"`` runs
``deploy/gunicorn.conf.py`` instead) and RQ workers, all on loopback, sharing one Redis database."""

from __future__ import annotations

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis
import requests
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from github import Auth, Github

from service.settings import DEFAULT_REDIS_URL

ROOT = Path(__file__).resolve().parents[1]
APP_ID = 4242
APP_SLUG = "wavegate"
LOG_TAIL_LINES = 20
TRACEBACK = "Traceback (most recent call last)"


def redis_url_for(db: int | None = None) -> str:
    """``$REDIS_URL`` (default ``redis://127.0.0.1:6379/0``), with its database replaced by ``db``
    when given: the one Redis setting, from which the demo (the URL's own database), the test
    suites and the benchmarks (their own database numbers) derive theirs."""
    url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    if db is None:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout: float, what: str, interval: float = 0.1):
    """Poll ``predicate`` until it returns a truthy value (returned) or ``timeout`` seconds pass
    (TimeoutError naming ``what``)."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except Exception as exc:  # noqa: BLE001 - keep polling through transient errors
            last_error = exc
            value = None
        if value:
            return value
        time.sleep(interval)
    detail = f" (last error: {last_error})" if last_error else ""
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}{detail}")


@dataclass
class Stack:
    """A running local installation. Use as a context manager; ``stop()`` is idempotent."""

    workdir: Path
    redis_url: str = field(default_factory=redis_url_for)
    web_workers: int = 2
    web_server: str = "granian"
    rq_workers: int = 1
    extra_env: dict[str, str] = field(default_factory=dict)
    emulator_url: str = ""
    web_url: str = ""
    webhook_secret: str = ""
    private_key_pem: str = ""
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    exited: dict[str, int] = field(default_factory=dict)  # processes that ended on their own: exit code

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> Stack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "logs").mkdir(exist_ok=True)
        redis.Redis.from_url(self.redis_url).flushdb()
        self._make_app_key()
        self._start_emulator()
        web_port = free_port()
        self.web_url = f"http://127.0.0.1:{web_port}"
        self.webhook_secret = secrets.token_hex(20)
        manifest = yaml.safe_load((ROOT / "app.yml").read_text())
        self.admin("POST", "/_emulator/apps", json={
            "id": APP_ID, "slug": APP_SLUG, "name": "Wavegate",
            "public_key": self._public_pem, "webhook_url": f"{self.web_url}/webhook",
            "webhook_secret": self.webhook_secret,
            # As registered from app.yml; check_run and check_suite come with checks: write.
            "permissions": manifest["default_permissions"],
            "events": [*manifest["default_events"], "check_run", "check_suite"],
        })
        self.start_web(web_port)
        for i in range(self.rq_workers):
            self.start_worker(i)

    def stop(self) -> None:
        for name in reversed(list(self.procs)):
            self._terminate(name)

    # ------------------------------------------------------------------ processes
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "APP_", "PRIVATE_KEY"))}
        env.update({
            "APP_ID": str(APP_ID),
            "APP_SLUG": APP_SLUG,
            "PRIVATE_KEY_PATH": str(self.workdir / "app.pem"),
            "WEBHOOK_SECRET": self.webhook_secret,
            "REDIS_URL": self.redis_url,
            "GITHUB_API_URL": self.emulator_url,
            "LOG_LEVEL": "INFO",
            "RECONCILE_INTERVAL": "30",
            "PYTHONUNBUFFERED": "1",
        })
        env.update(self.extra_env)
        return env

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        log = open(self.workdir / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - owned by the process
        proc = subprocess.Popen(argv, cwd=ROOT, env=env or self.env(), stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs[name] = proc
        return proc

    def _start_emulator(self) -> None:
        log_path = self.workdir / "logs" / "emulator.log"
        argv = [sys.executable, "-m", "emulator", "--port", "0", "--data-dir", str(self.workdir / "github")]
        self._spawn("emulator", argv, env={**os.environ, "PYTHONUNBUFFERED": "1"})

        def url():
            match = re.search(r"emulator: (http://\S+)", log_path.read_text(errors="replace"))
            return match.group(1) if match else None

        self.emulator_url = wait_until(url, 30, "the emulator to print its URL")

    def start_web(self, port: int | None = None) -> None:
        if port is None:
            port = int(self.web_url.rsplit(":", 1)[1])
        if self.web_server == "gunicorn":
            argv = [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
                    "--workers", str(self.web_workers), "service.webhook:create_app()"]
            self._spawn("web", argv)
        else:
            env = {**self.env(), "PORT": str(port), "WEB_HOST": "127.0.0.1", "WEB_CONCURRENCY": str(self.web_workers)}
            self._spawn("web", [sys.executable, "deploy/web.py"], env=env)
        wait_until(lambda: requests.get(f"{self.web_url}/readyz", timeout=1).status_code == 200, 30,
                   "the web process to be ready")

    def start_worker(self, index: int = 0) -> subprocess.Popen:
        return self._spawn(f"worker-{index}", [sys.executable, "-m", "workers"])

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.get(name)
        if proc and proc.poll() is None:
            os.killpg(proc.pid, sig)
            proc.wait(10)

    def _terminate(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is not None and proc.poll() is not None:
            self.exited[name] = proc.returncode
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass

    # ------------------------------------------------------------------ diagnosis
    def log_path(self, name: str) -> Path:
        """The file where process ``name`` (``emulator``, ``web``, ``worker-0``...) writes its output."""
        return self.workdir / "logs" / f"{name}.log"

    def log_tail(self, name: str, lines: int = LOG_TAIL_LINES) -> list[str]:
        """The last ``lines`` lines process ``name`` wrote (none when it wrote nothing)."""
        path = self.log_path(name)
        return path.read_text(errors="replace").splitlines()[-lines:] if path.exists() else []

    def failed_processes(self) -> list[str]:
        """Processes that died (still running or already stopped) or logged a Python traceback, such
        as the emulator answering 500: the logs a user needs when something went wrong."""
        dead = set(self.exited) | {n for n, p in self.procs.items() if p.poll() is not None}
        logs = sorted((self.workdir / "logs").glob("*.log")) if (self.workdir / "logs").is_dir() else []
        broken = {p.stem for p in logs if TRACEBACK in p.read_text(errors="replace")}
        return sorted(dead | broken)

    # ------------------------------------------------------------------ GitHub side
    def _make_app_key(self) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.private_key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption()).decode()
        self._public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        path = self.workdir / "app.pem"
        path.write_text(self.private_key_pem)
        path.chmod(0o600)

    def admin(self, method: str, path: str, **kwargs):
        response = requests.request(method, f"{self.emulator_url}{path}", timeout=30, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def create_repo(self, full_name: str, files: dict[str, str], **options) -> dict:
        owner, name = full_name.split("/")
        repo = self.admin("POST", "/_emulator/repos", json={"owner": owner, "name": name, "files": files, **options})
        self.admin("POST", "/_emulator/installations", json={"app_id": APP_ID, "repos": [full_name]})
        return repo

    def user(self, login: str, full_name: str, permission: str = "write") -> Github:
        """A PyGithub client acting as ``login`` with ``permission`` on ``full_name``."""
        made = self.admin("POST", "/_emulator/users", json={"login": login, "permissions": {full_name: permission}})
        return Github(auth=Auth.Token(made["token"]), base_url=self.emulator_url, retry=None,
                      seconds_between_requests=None, seconds_between_writes=None)

    def snapshot(self, full_name: str) -> dict:
        return self.admin("GET", f"/_emulator/state/{full_name}")

    def drain(self, timeout: float = 30) -> None:
        self.admin("POST", "/_emulator/webhooks/drain", json={"timeout": timeout})


def log_lines(workdir: Path) -> list[str]:
    """Every line every process of a stack wrote (``workdir/logs/*.log``)."""
    lines: list[str] = []
    for path in sorted((workdir / "logs").glob("*.log")):
        lines += path.read_text(errors="replace").splitlines()
    return lines
