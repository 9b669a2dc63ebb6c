"""Fixtures: each API test runs against SQLite and PostgreSQL, on a real uvicorn on a loopback port."""

from __future__ import annotations

import os
from collections.abc import Iterator
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


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, pg_template: str | None) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'viva.db'}"
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
