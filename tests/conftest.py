"""Fixtures: each API test runs against SQLite and PostgreSQL, on a real uvicorn on a loopback port."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from server.config import Settings
from server.store.db import upgrade
from tests.support import (
    Api,
    create_pg_database,
    drop_pg_database,
    live_server,
    make_settings,
    postgres_reachable,
    sqlite_copy,
    sqlite_url,
    unavailable,
)


def pytest_report_header(config: pytest.Config) -> list[str]:
    from tests.support import redis_reachable

    pg = "reachable" if postgres_reachable() else "NOT reachable (PostgreSQL tests skip)"
    rd = "reachable" if redis_reachable() else "NOT reachable (Redis tests skip)"
    return [
        f"viva: PostgreSQL {pg}; Redis {rd}; require services: {os.environ.get('VIVA_REQUIRE_SERVICES', '0')}"
    ]


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str | None]:
    """A migrated PostgreSQL database that every PostgreSQL test clones (fast and isolated)."""
    if not postgres_reachable():
        yield None
        return
    url = create_pg_database()
    upgrade(url)
    try:
        yield url.rsplit("/", 1)[-1]
    finally:
        drop_pg_database(url)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file that every SQLite test copies (migrated once per run, not once per test).

    It is left as one self-contained file (rollback journal, no ``-wal``/``-shm`` beside it), so that a plain
    copy of it is the whole database; a server started on a copy finds it at head (its start-up upgrade is a
    no-op) and switches the copy to WAL itself."""
    path = tmp_path_factory.mktemp("sqlite-template") / "viva.db"
    upgrade(sqlite_url(path))
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")  # checkpoints and removes a WAL, if any
    leftovers = sorted(p.name for p in path.parent.iterdir() if p != path)
    assert not leftovers, f"the SQLite template is not one file: {leftovers}"
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, pg_template: str | None, sqlite_template: Path
) -> Iterator[str]:
    """A fresh, migrated database per test: a copy of the SQLite template or a clone of the PostgreSQL one."""
    if request.param == "sqlite":
        yield sqlite_copy(sqlite_template, tmp_path)
        return
    if pg_template is None:
        unavailable("PostgreSQL", "127.0.0.1:5432")
    url = create_pg_database(template=pg_template)
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url)


@pytest.fixture
def api(settings: Settings) -> Iterator[Api]:
    with live_server(settings) as server, httpx.Client(base_url=server.base_url, timeout=30) as client:
        yield Api(client, server)
