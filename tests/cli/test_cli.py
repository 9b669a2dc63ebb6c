"""The command line (``python -m server``): db upgrade, users create, serve, serve --demo (subprocesses)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def cli_env(tmp_path: Path) -> dict[str, str]:
    """The environment minus any Viva/database settings of the caller, with the data dir under tmp_path."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("VIVA_") and key not in ("DATABASE_URL", "REDIS_URL")
    }
    env.update(VIVA_DATA_DIR=str(tmp_path / "data"), VIVA_AI_PROVIDER="offline", PYTHONUNBUFFERED="1")
    return env


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        cwd=tmp_path,
        env=cli_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(tmp_path: Path, *extra: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``python -m server serve`` on a free port; yields the base URL once /healthz answers."""
    port = free_port()
    stderr = (tmp_path / f"serve-{port}.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "server", "serve", "--port", str(port), *extra],
        cwd=tmp_path,
        env=cli_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, f"serve exited with {process.returncode}"
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not answer /healthz in 30 s"
            time.sleep(0.1)
        yield base_url, process
    finally:
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        stderr.close()


def test_upgrade_create_user_and_serve(tmp_path: Path) -> None:
    """db upgrade and users create work on a fresh SQLite data dir, and serve lets that user log in."""
    upgraded = cli(tmp_path, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "up to date" in upgraded.stdout
    assert (tmp_path / "data" / "viva.db").is_file()

    create = ("users", "create", "--email", "Hana@Example.com", "--password", "hr-password-1")
    first = cli(tmp_path, *create, "--role", "hr", "--name", "Hana Recruiter")
    assert first.returncode == 0, first.stderr
    assert "created hr" in first.stdout
    again = cli(tmp_path, *create, "--role", "admin", "--name", "Someone Else")
    assert again.returncode == 1 and "already exists" in again.stdout
    short = cli(tmp_path, "users", "create", "--email", "x@example.com", "--password", "short", "--name", "X")
    assert short.returncode == 2 and "at least 8" in short.stderr

    with serving(tmp_path) as (base_url, process):
        login = httpx.post(
            f"{base_url}/auth/login", json={"email": "hana@example.com", "password": "hr-password-1"}
        )
        assert login.status_code == 200, login.text
        token = login.json()["access_token"]
        me = httpx.get(f"{base_url}/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
        assert me["role"] == "hr" and me["name"] == "Hana Recruiter"
        process.terminate()
        out, _ = process.communicate(timeout=15)
    assert f"listening on http://127.0.0.1:{base_url.rsplit(':', 1)[1]}" in out
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal (newer versions) or exits 0.
    assert process.returncode in (0, -signal.SIGTERM)


def test_serve_demo_prints_logins(tmp_path: Path) -> None:
    """serve --demo creates the demo accounts and prints their logins, which then work."""
    with serving(tmp_path, "--demo") as (base_url, process):
        login = httpx.post(
            f"{base_url}/auth/login", json={"email": "hr@viva.local", "password": "viva-hr-demo"}
        )
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        pool = httpx.get(f"{base_url}/api/candidates", headers=headers).json()
        assert {"John Doe", "Jane Smith"} <= {c["name"] for c in pool["data"]}
        process.terminate()
        out, _ = process.communicate(timeout=15)
    assert "Demo logins" in out
    for role, email, password in (
        ("admin", "admin@viva.local", "viva-admin-demo"),
        ("hr", "hr@viva.local", "viva-hr-demo"),
        ("candidate", "candidate@viva.local", "viva-candidate-demo"),
    ):
        assert [role, email, password] in [line.split() for line in out.splitlines()], out
