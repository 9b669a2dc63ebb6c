"""A Viva server for the benchmarks: its own ``python -m server serve`` process on a free loopback port,
with a fresh data directory and the benchmark's admin account."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ADMIN = ("bench-admin@example.com", "bench-admin-password")


@dataclass(frozen=True)
class Server:
    base: str
    pid: int


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_ready(base: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/readyz", timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("the server did not become ready")


@contextmanager
def serving(**settings: str | None) -> Iterator[Server]:
    """A ready server whose environment is this one's with ``settings`` (``None`` unsets a variable):
    SQLite and in-process state unless ``DATABASE_URL`` / ``REDIS_URL`` are given."""
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        env = {
            **os.environ,
            "VIVA_DATA_DIR": data,
            "VIVA_ADMIN_EMAIL": ADMIN[0],
            "VIVA_ADMIN_PASSWORD": ADMIN[1],
        }
        env.update({"VIVA_LOG_LEVEL": "WARNING", "DATABASE_URL": None, "REDIS_URL": None, **settings})
        clean = {key: value for key, value in env.items() if value is not None}
        process = subprocess.Popen(
            [sys.executable, "-m", "server", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=clean,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(base)
            yield Server(base, process.pid)
        finally:
            process.terminate()
            process.wait(30)
