"""Test support: service discovery (PostgreSQL, Redis), a migrated SQLite copy, settings, a real uvicorn on
a loopback port, an API client, and upload files made on the fly (PDF, DOCX)."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docx
import httpx
import pytest
import uvicorn

from server.app import create_app
from server.config import Settings

PG_ADMIN_URL = os.environ.get("VIVA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("VIVA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ADMIN_EMAIL, ADMIN_PASSWORD = "admin@test.example", "admin-password-1"


def services_required() -> bool:
    return os.environ.get("VIVA_REQUIRE_SERVICES", "") not in ("", "0", "false")


def unavailable(what: str, reason: str) -> None:
    """Skip (a user's machine without the service) or fail (CI, where VIVA_REQUIRE_SERVICES=1)."""
    message = f"{what} not reachable ({reason}): skipping the {what} backend"
    if services_required():
        pytest.fail(message)
    pytest.skip(message)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def postgres_reachable() -> bool:
    url = httpx.URL(PG_ADMIN_URL.replace("postgresql://", "http://"))
    return _port_open(url.host or "127.0.0.1", url.port or 5432)


def redis_reachable() -> bool:
    url = httpx.URL(REDIS_URL.replace("redis://", "http://"))
    return _port_open(url.host or "127.0.0.1", url.port or 6379)


async def _pg_exec(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_pg_database(template: str | None = None) -> str:
    """A fresh database (optionally cloned from ``template``); returns its async SQLAlchemy URL."""
    name = f"viva_test_{uuid.uuid4().hex[:12]}"
    suffix = f" TEMPLATE {template}" if template else ""
    asyncio.run(_pg_exec(f'CREATE DATABASE "{name}"{suffix}'))
    return pg_url(name)


def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[-1]
    asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def pg_url(name: str) -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{name}"


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def sqlite_copy(template: Path, folder: Path) -> str:
    """A copy of the migrated SQLite ``template`` (one self-contained file) as ``folder/viva.db``; returns its
    async SQLAlchemy URL."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "viva.db"
    shutil.copy(template, target)
    return sqlite_url(target)


def make_settings(tmp_path: Path, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "database_url": database_url,
        "redis_url": None,
        "secret_key": "test-secret-key-" + uuid.uuid4().hex,
        "admin_email": ADMIN_EMAIL,
        "admin_password": ADMIN_PASSWORD,
        "log_json": True,
        "max_resume_bytes": 200_000,
        "max_voice_note_bytes": 200_000,
        "tts_prefetch": False,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


class LiveServer:
    """A real uvicorn serving ``create_app(settings)`` on 127.0.0.1 in a background thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        config = uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=0,
            log_level="warning",
            ws="websockets-sansio",
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            asyncio.run(self.server.serve())
        except BaseException as exc:  # surfaced by start()
            self.error = exc

    def start(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if self.error is not None or not self.thread.is_alive():
                raise RuntimeError(f"server failed to start: {self.error!r}")
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start in 30 s")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@contextmanager
def live_server(settings: Settings) -> Iterator[LiveServer]:
    server = LiveServer(settings)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Api:
    """An httpx client on a live server with helpers to sign in as each role."""

    client: httpx.Client
    server: LiveServer

    def login(self, email: str, password: str) -> str:
        response = self.client.post("/auth/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def admin(self) -> dict[str, str]:
        return bearer(self.login(ADMIN_EMAIL, ADMIN_PASSWORD))

    def make_user(self, role: str, email: str | None = None, name: str = "Hana Recruiter") -> dict[str, Any]:
        """Create an account of ``role`` through the admin API; returns its JSON plus ``headers``."""
        email = email or f"{role}-{uuid.uuid4().hex[:8]}@test.example"
        response = self.client.post(
            "/api/users",
            headers=self.admin(),
            json={
                "email": email,
                "password": "password-123",
                "name": name,
                "role": role,
                "job_role": "HR Manager",
            },
        )
        assert response.status_code == 201, response.text
        user: dict[str, Any] = response.json()
        user["headers"] = bearer(self.login(email, "password-123"))
        return user

    def register(self, name: str = "Cara Candidate", email: str | None = None) -> dict[str, str]:
        email = email or f"cand-{uuid.uuid4().hex[:8]}@test.example"
        response = self.client.post(
            "/auth/register", json={"name": name, "email": email, "password": "password-123"}
        )
        assert response.status_code == 200, response.text
        return bearer(response.json()["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -------------------------------------------------------------------------------------- upload files


def make_pdf(text: str = "Jane Doe Python Developer") -> bytes:
    """A minimal valid one-page PDF with a Helvetica text line and a correct xref table."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets: list[int] = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref_at)
    return bytes(out)


def make_docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("Jane Doe\tSenior   Python Developer")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Skill"
    table.cell(0, 1).text = "Years"
    table.cell(1, 0).text = "FastAPI"
    table.cell(1, 1).text = "5"
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()
