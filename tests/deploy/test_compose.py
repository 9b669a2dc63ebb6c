"""compose.yaml without Docker: its shape, every setting it passes, and each service's command run for real.

The app, worker and migration services run their exact compose ``command`` here, with compose's
environment except that the database, Redis, port and data directory point at this machine's services.
The proxy's nginx configuration is checked with the real nginx when it is installed (skipped otherwise):
both instances behind it, WebSockets upgraded, each interview's room socket on one instance.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
import yaml

from server.config import Settings
from tests.support import (
    REDIS_URL,
    create_pg_database,
    drop_pg_database,
    postgres_reachable,
    redis_reachable,
    unavailable,
)

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "compose.yaml"
APPS = ("app1", "app2")
VIVA_SERVICES = ("migrate", *APPS, "worker")
# What an operator supplies (compose refuses to start without the required ones).
OPERATOR_ENV = {
    "VIVA_SECRET_KEY": "deploy-test-secret-" + "k" * 32,
    "POSTGRES_PASSWORD": "not-used-here",
}


def load_compose() -> dict[str, Any]:
    with COMPOSE.open() as f:
        data = yaml.safe_load(f)
    assert isinstance(data, dict)
    return data


_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's variable substitution: ``${VAR}``, ``${VAR:-default}``, ``${VAR:?error}`` and ``$$``."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group(1), match.group(2), match.group(3) or ""
        current = env.get(name)
        if op in (":?", "?") and (current is None or (op == ":?" and current == "")):
            raise KeyError(f"required variable {name} is missing a value: {arg}")
        if op in (":-", "-") and (current is None or (op == ":-" and current == "")):
            return arg
        return current or ""

    return _VARIABLE.sub(replace, value)


def service_env(service: dict[str, Any], env: dict[str, str]) -> dict[str, str]:
    return {key: interpolate(str(value), env) for key, value in (service.get("environment") or {}).items()}


def settings_env_names() -> set[str]:
    """Every environment name Settings reads: a field's alias, else VIVA_ + its name."""
    prefix = str(Settings.model_config.get("env_prefix", ""))
    names = set()
    for name, info in Settings.model_fields.items():
        alias = info.validation_alias
        names.add(alias if isinstance(alias, str) else f"{prefix}{name}".upper())
    return names


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- the file itself -----------------------------------------------------------------------------------


def test_compose_has_the_deployment_services() -> None:
    services = load_compose()["services"]
    for name in ("migrate", "app1", "app2", "worker", "proxy", "postgres", "redis", "turn"):
        assert name in services, name
    assert services["turn"].get("profiles") == ["turn"]
    assert services["worker"]["command"] == ["python", "-m", "server", "worker"]
    assert services["migrate"]["command"] == ["python", "-m", "server", "db", "upgrade"]
    for name in APPS:
        env = service_env(services[name], OPERATOR_ENV)
        assert env["VIVA_INSTANCE_URL"] == f"http://{name}:8000"
        assert env["VIVA_EMBEDDED_WORKER"] == "false"
        assert services[name]["command"][:4] == ["python", "-m", "server", "serve"]
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    # Uploads are shared: every Viva process mounts the same data volume at VIVA_DATA_DIR.
    for name in VIVA_SERVICES:
        assert "viva-data:/data" in services[name]["volumes"], name
        assert service_env(services[name], OPERATOR_ENV)["VIVA_DATA_DIR"] == "/data"
    volumes = load_compose()["volumes"]
    for volume in ("viva-data", "pg-data", "redis-data"):
        assert volume in volumes
    assert any(v.endswith(":/var/lib/postgresql/data") for v in services["postgres"]["volumes"])
    assert any(v.endswith(":/data") for v in services["redis"]["volumes"])


def test_every_app_setting_is_one_the_server_reads() -> None:
    known = settings_env_names()
    services = load_compose()["services"]
    for name in VIVA_SERVICES:
        unknown = set(services[name]["environment"]) - known
        assert not unknown, f"{name} sets {sorted(unknown)}, which server/config.py does not read"
        # The values parse as Settings (e.g. VIVA_EMBEDDED_WORKER=false, an empty VIVA_ICE_SERVERS).
        env = service_env(services[name], OPERATOR_ENV)
        settings = Settings(_env_file=None, **_by_field(env))
        assert settings.redis_url and settings.database_url
        if name in APPS:
            assert settings.embedded_worker is False
            assert settings.instance_url == f"http://{name}:8000"


def _by_field(env: dict[str, str]) -> dict[str, Any]:
    prefix = str(Settings.model_config.get("env_prefix", ""))
    by_env = {}
    for name, info in Settings.model_fields.items():
        alias = info.validation_alias
        by_env[alias if isinstance(alias, str) else f"{prefix}{name}".upper()] = name
    return {by_env[key]: value for key, value in env.items()}


def test_secrets_are_required_and_never_written_down() -> None:
    data = load_compose()
    services = data["services"]
    for name in VIVA_SERVICES:
        raw = services[name]["environment"]
        assert raw["VIVA_SECRET_KEY"].startswith("${VIVA_SECRET_KEY:?"), name
        assert "${POSTGRES_PASSWORD:?" in raw["DATABASE_URL"], name
        for missing in OPERATOR_ENV:
            env = {k: v for k, v in OPERATOR_ENV.items() if k != missing}
            with pytest.raises(KeyError, match=missing):
                service_env(services[name], env)
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    # The TURN password is checked by the relay's own start script, so compose works without the profile.
    assert "TURN_PASSWORD:?" in services["turn"]["command"][0]


def test_every_service_has_a_health_check() -> None:
    services = load_compose()["services"]
    for name, service in services.items():
        check = service.get("healthcheck")
        assert check, f"{name} has no healthcheck"
        if name == "migrate":  # a one-shot job: others wait for it to complete successfully
            assert check == {"disable": True} and service["restart"] == "no"
            continue
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
    for name in APPS:
        assert "/readyz" in " ".join(services[name]["healthcheck"]["test"])
    assert services["proxy"]["depends_on"] == {name: {"condition": "service_healthy"} for name in APPS}


def test_the_turn_profile_feeds_the_apps_ice_servers() -> None:
    services = load_compose()["services"]
    turn_env = {**OPERATOR_ENV, "TURN_PASSWORD": "relay-secret"}
    ice = [{"urls": ["turn:turn.example.com:3478"], "username": "viva", "credential": "relay-secret"}]
    for name in APPS:
        env = service_env(services[name], {**turn_env, "VIVA_ICE_SERVERS": json.dumps(ice)})
        assert json.loads(env["VIVA_ICE_SERVERS"]) == ice
        assert service_env(services[name], OPERATOR_ENV)["VIVA_ICE_SERVERS"] == ""
    # The relay's start script is valid shell once compose has replaced $$ with $.
    script = interpolate(services["turn"]["command"][0], turn_env)
    assert "exec turnserver" in script and '--user="$TURN_USERNAME:$TURN_PASSWORD"' in script
    subprocess.run(["sh", "-n", "-c", script], check=True, timeout=10)
    refused = subprocess.run(
        ["sh", "-c", script], env={"PATH": os.environ.get("PATH", "")}, capture_output=True, timeout=10
    )
    assert refused.returncode != 0 and b"set TURN_PASSWORD" in refused.stderr


def test_the_proxy_config_and_image_files_exist() -> None:
    services = load_compose()["services"]
    mounts = [v.split(":") for v in services["proxy"]["volumes"]]
    config = [host for host, target, *_ in mounts if target == "/etc/nginx/nginx.conf"]
    assert config == ["./scripts/deploy/nginx.conf"]
    text = (ROOT / config[0]).read_text()
    assert "hash $uri consistent" in text
    for name in APPS:
        assert f"server {name}:8000" in text
        build = services[name]["build"]
        assert (ROOT / build["context"] / build["dockerfile"]).is_file()


# --- the commands, run for real ------------------------------------------------------------------------


@dataclass
class Process:
    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes]
    port: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
            raise
        finally:
            self.log.close()


def _local_command(service: dict[str, Any], port: int | None) -> list[str]:
    command = list(service["command"])
    assert command[0] == "python"
    command[0] = sys.executable
    if port is not None:
        assert command[command.index("--port") + 1] == "8000"
        command[command.index("--port") + 1] = str(port)
        command[command.index("--host") + 1] = "127.0.0.1"
    return command


def _local_env(service: dict[str, Any], database_url: str, prefix: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in settings_env_names()}
    env.update(service_env(service, OPERATOR_ENV))
    env.update(
        DATABASE_URL=database_url,
        REDIS_URL=REDIS_URL,
        VIVA_REDIS_PREFIX=prefix,
        VIVA_DATA_DIR=str(data_dir),
        VIVA_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    return env


def _start(name: str, service: dict[str, Any], env: dict[str, str], tmp: Path, port: int | None) -> Process:
    log_path = tmp / f"{name}.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(_local_command(service, port), env=env, cwd=tmp, stdout=log, stderr=log)
    return Process(name, proc, log_path, log, port)


@dataclass
class Deployment:
    apps: dict[str, Process]
    worker: Process
    migrate_output: str
    tmp: Path


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    if not postgres_reachable():
        unavailable("PostgreSQL", "127.0.0.1:5432")
    if not redis_reachable():
        unavailable("Redis", REDIS_URL)
    services = load_compose()["services"]
    tmp = tmp_path_factory.mktemp("compose")
    data_dir = tmp / "data"  # the shared upload volume
    database_url = create_pg_database()  # empty: the migrate service's `db upgrade` creates the schema
    prefix = f"viva-deploy-{uuid.uuid4().hex[:8]}:"
    started: list[Process] = []
    try:
        env = _local_env(services["migrate"], database_url, prefix, data_dir)
        migrate = subprocess.run(
            _local_command(services["migrate"], None), env=env, cwd=tmp, capture_output=True, timeout=60
        )
        output = (migrate.stdout + migrate.stderr).decode(errors="replace")
        assert migrate.returncode == 0, output
        apps = {}
        for name in APPS:
            env = _local_env(services[name], database_url, prefix, data_dir)
            apps[name] = _start(name, services[name], env, tmp, free_port())
            started.append(apps[name])
        env = _local_env(services["worker"], database_url, prefix, data_dir)
        worker = _start("worker", services["worker"], env, tmp, None)
        started.append(worker)
        yield Deployment(apps, worker, output, tmp)
        # SIGTERM (what `docker compose stop` sends) ends each one in time. uvicorn re-raises the signal
        # after its graceful shutdown, so the apps end "killed by SIGTERM"; the worker returns 0.
        codes = {p.name: p.stop() for p in started}
        clean = {name: (0, -signal.SIGTERM) if name in APPS else (0,) for name in codes}
        assert all(codes[name] in clean[name] for name in codes), (
            codes,
            {p.name: p.output()[-2000:] for p in started},
        )
    finally:
        for process in started:
            if not process.log.closed:
                try:
                    process.stop(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
        drop_pg_database(database_url)


def _wait_ready(process: Process, deadline: float) -> httpx.Response:
    url = f"http://127.0.0.1:{process.port}/readyz"
    while True:
        assert process.proc.poll() is None, f"{process.name} exited:\n{process.output()[-3000:]}"
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == 200:
                return response
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{process.name} not ready:\n{process.output()[-3000:]}"
        time.sleep(0.25)


@pytest.mark.postgres
@pytest.mark.redis
def test_app_instances_and_worker_start_from_their_compose_commands(deployment: Deployment) -> None:
    assert "database is up to date" in deployment.migrate_output
    deadline = time.monotonic() + 45
    for process in deployment.apps.values():
        body = _wait_ready(process, deadline).json()
        assert body == {"status": "ready", "checks": {"database": "ok", "state": "ok"}}
    # The compose health check itself passes against each instance.
    services = load_compose()["services"]
    for name, process in deployment.apps.items():
        kind, *check = services[name]["healthcheck"]["test"]
        assert kind == "CMD" and check[0] == "python"
        command = [sys.executable, *(part.replace(":8000/", f":{process.port}/") for part in check[1:])]
        subprocess.run(command, check=True, timeout=20, capture_output=True)
    # The worker announces itself and keeps running.
    worker = deployment.worker
    while "worker " not in worker.output():
        assert worker.proc.poll() is None, worker.output()[-3000:]
        assert time.monotonic() < deadline, f"worker did not start:\n{worker.output()[-3000:]}"
        time.sleep(0.25)
    assert re.search(r"worker \S+ started", worker.output())
    time.sleep(3)
    assert worker.proc.poll() is None, worker.output()[-3000:]


# --- the proxy, with the real nginx --------------------------------------------------------------------


def _nginx() -> str:
    nginx = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )
    if nginx is None:
        pytest.skip("nginx is not installed: the proxy configuration is not checked (apt-get install nginx)")
    if os.geteuid() != 0:
        pytest.skip("nginx runs here as root only (its packaged temp and log paths): not checked")
    return nginx


def render_nginx(ports: dict[str, int], listen: int, access_log: Path) -> str:
    """scripts/deploy/nginx.conf with the compose host names replaced by this machine's ports."""
    text = (ROOT / "scripts/deploy/nginx.conf").read_text()
    for name, port in ports.items():
        assert f"{name}:8000" in text
        text = text.replace(f"{name}:8000", f"127.0.0.1:{port}")
    assert "listen 80;" in text and "access_log /dev/stdout viva;" in text
    text = text.replace("listen 80;", f"listen 127.0.0.1:{listen};")
    return text.replace("access_log /dev/stdout viva;", f"access_log {access_log} viva;")


@pytest.mark.postgres
@pytest.mark.redis
def test_the_proxy_routes_http_and_websockets(deployment: Deployment) -> None:
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    nginx = _nginx()
    deadline = time.monotonic() + 45
    for process in deployment.apps.values():
        _wait_ready(process, deadline)
    ports = {name: p.port for name, p in deployment.apps.items() if p.port is not None}
    listen, access_log = free_port(), deployment.tmp / "nginx-access.log"
    conf = deployment.tmp / "nginx.conf"
    conf.write_text(render_nginx(ports, listen, access_log))
    prefix = deployment.tmp / "nginx"
    prefix.mkdir(exist_ok=True)
    base = [nginx, "-p", str(prefix), "-e", "stderr", "-c", str(conf)]
    pid = f"pid {prefix / 'nginx.pid'};"
    tested = subprocess.run([*base, "-t", "-g", pid], capture_output=True, timeout=20)
    assert tested.returncode == 0, tested.stderr.decode()

    log_path = deployment.tmp / "nginx.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([*base, "-g", f"daemon off; {pid}"], stdout=log, stderr=log)
        try:
            url = f"http://127.0.0.1:{listen}"
            while True:
                assert proc.poll() is None, log_path.read_text()
                try:
                    if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.1)
            with httpx.Client(base_url=url, timeout=10) as client:
                for _ in range(6):
                    assert client.get("/readyz").status_code == 200

            def refused(path: str) -> int:
                """A hello with a bad token through the proxy: the app's own close code comes back."""
                with connect(f"ws://127.0.0.1:{listen}{path}", open_timeout=10) as ws:
                    ws.send(json.dumps({"type": "hello", "token": "junk", "protocol": "1.0"}))
                    with pytest.raises(ConnectionClosed) as closed:
                        while True:
                            ws.recv(timeout=10)
                assert closed.value.rcvd is not None
                return closed.value.rcvd.code

            # Each interview's socket reconnects a few times in a row (as a candidate's would): round-robin
            # would alternate instances, the consistent hash must not.
            rooms = [f"iv-{i}" for i in range(8)]
            for room in rooms:
                for _ in range(3):
                    assert refused(f"/ws/interviews/{room}?attempt={uuid.uuid4().hex}") == 4001
            assert refused("/ws/monitor/iv-0") == 4001
        finally:
            proc.send_signal(signal.SIGQUIT)
            proc.wait(timeout=15)

    upstream = {str(port): name for name, port in ports.items()}
    seen: dict[str, set[str]] = {}
    http_upstreams = set()
    for line in access_log.read_text().splitlines():
        match = re.search(r'"GET (\S+)" (\d+) .* upstream=127\.0\.0\.1:(\d+)$', line)
        assert match, line
        path, _status, port = match.groups()
        if path.startswith("/ws/interviews/"):
            seen.setdefault(path, set()).add(upstream[port])
        elif path == "/readyz":
            http_upstreams.add(upstream[port])
    # Every socket of one interview reached the same instance; interviews are spread over both.
    assert set(seen) == {f"/ws/interviews/{room}" for room in rooms}
    assert all(len(instances) == 1 for instances in seen.values()), seen
    assert set().union(*seen.values()) == set(APPS), seen
    assert http_upstreams == set(APPS)
