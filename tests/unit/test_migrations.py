"""Alembic migrations and the SQLModel tables agree: autogenerate finds nothing to change after upgrade."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

import server.app  # noqa: F401  (imports every route module, so every table is registered)
from server.store import emails, models  # noqa: F401
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


BACKFILLED = ("ada@example.com", "\u0430da@example.com", "ｇｒａｃｅ@example.com")
OLD_USER = (
    "INSERT INTO users (id, email, name, password_hash, role, is_active, token_version, created_at,"
    " updated_at) VALUES (:id, :email, 'Old', 'x', 'hr', true, 0, :at, :at)"
)
OLD_CANDIDATE = (
    "INSERT INTO candidates (id, name, email, cv_status, created_at, updated_at)"
    " VALUES (:id, 'Old', :email, 'pending', :at, :at)"
)


async def _insert_old_rows(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            for n, email in enumerate(BACKFILLED):
                at = datetime(2026, 1, 1, tzinfo=UTC)
                await connection.execute(text(OLD_USER), {"id": f"u{n}", "email": email, "at": at})
                await connection.execute(text(OLD_CANDIDATE), {"id": f"c{n}", "email": email, "at": at})
    finally:
        await engine.dispose()


async def _skeletons(url: str) -> list[tuple[str, str, str]]:
    """(table, email, email_skeleton) of every account and pool entry."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            rows = []
            for table in ("users", "candidates"):
                result = await connection.execute(text(f"SELECT email, email_skeleton FROM {table}"))
                rows += [(table, email, skeleton) for email, skeleton in result.all()]
            return rows
    finally:
        await engine.dispose()


def assert_backfilled(url: str) -> None:
    upgrade(url, "0004")
    asyncio.run(_insert_old_rows(url))
    upgrade(url)
    rows = asyncio.run(_skeletons(url))
    expected = [
        (table, email, emails.skeleton(email)) for table in ("users", "candidates") for email in BACKFILLED
    ]
    assert sorted(rows) == sorted(expected)
    skeleton = {email: key for _, email, key in rows}
    assert (
        skeleton["ada@example.com"] == skeleton["\u0430da@example.com"] == emails.skeleton("ada@example.com")
    )
    assert skeleton["ｇｒａｃｅ@example.com"] == emails.skeleton("grace@example.com")


def test_sqlite_migration_backfills_email_skeletons(tmp_path: Path) -> None:
    """Accounts and pool entries stored before 0005 get the skeleton of their email on upgrade."""
    assert_backfilled(f"sqlite+aiosqlite:///{tmp_path / 'old' / 'viva.db'}")


@pytest.mark.postgres
def test_postgres_migration_backfills_email_skeletons() -> None:
    """The same on PostgreSQL."""
    if not postgres_reachable():
        unavailable("PostgreSQL", "127.0.0.1:5432")
    url = create_pg_database()
    try:
        assert_backfilled(url)
    finally:
        drop_pg_database(url)
