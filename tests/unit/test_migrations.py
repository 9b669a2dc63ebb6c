"""Alembic migrations and the SQLModel tables agree: autogenerate finds nothing to change after upgrade."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import server.app  # noqa: F401  (imports every route module, so every table is registered)
from server.store import models  # noqa: F401
from server.store.db import upgrade
from tests.support import create_pg_database, drop_pg_database, postgres_reachable, unavailable


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, SQLModel.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def _inspect(url: str) -> tuple[list[Any], set[str]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            diff = await connection.run_sync(_diff)
            tables = await connection.run_sync(_tables)
    finally:
        await engine.dispose()
    return diff, tables


def assert_in_sync(url: str) -> None:
    upgrade(url)
    diff, tables = asyncio.run(_inspect(url))
    assert diff == [], f"models and migrations differ: {diff}"
    assert set(SQLModel.metadata.tables) <= tables
    assert "alembic_version" in tables
    upgrade(url)  # a second upgrade is a no-op
    assert asyncio.run(_inspect(url))[0] == []


def test_sqlite_migrations_match_models(tmp_path: Path) -> None:
    """On an empty SQLite database, upgrade head creates exactly the tables the models describe."""
    assert_in_sync(f"sqlite+aiosqlite:///{tmp_path / 'fresh' / 'viva.db'}")


@pytest.mark.postgres
def test_postgres_migrations_match_models() -> None:
    """On an empty PostgreSQL database, upgrade head creates exactly the tables the models describe."""
    if not postgres_reachable():
        unavailable("PostgreSQL", "127.0.0.1:5432")
    url = create_pg_database()
    try:
        assert_in_sync(url)
    finally:
        drop_pg_database(url)
