"""The async database engine, sessions, and Alembic migrations (run by ``db upgrade`` and at start)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class Database:
    """Owns the engine; ``session()`` yields a unit of work that commits on success, rolls back on error."""

    def __init__(self, url: str, *, echo: bool = False, statement_timeout_s: float = 0) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, object] = {"echo": echo, "pool_pre_ping": True}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs.update(pool_size=10, max_overflow=20, pool_recycle=1800)
            if statement_timeout_s > 0 and url.startswith("postgresql+asyncpg"):
                timeout_ms = str(max(1, round(statement_timeout_s * 1000)))
                kwargs["connect_args"] = {"server_settings": {"statement_timeout": timeout_ms}}
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations (blocking; call from a thread when an event loop is running)."""
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url), revision)


async def upgrade_async(url: str) -> None:
    await asyncio.to_thread(upgrade, url)


def _ensure_sqlite_dir(url: str) -> None:
    path = url.split(":///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


QUERY_CANCELED, LOCK_NOT_AVAILABLE = "57014", "55P03"


def timed_out(exc: BaseException) -> bool:
    """The database cancelled a statement for running or waiting too long (``statement_timeout``)."""
    for err in (exc, getattr(exc, "orig", None), getattr(getattr(exc, "orig", None), "__cause__", None)):
        if getattr(err, "sqlstate", None) in (QUERY_CANCELED, LOCK_NOT_AVAILABLE):
            return True
    return False


def unavailable(exc: DBAPIError) -> bool:
    """The database could not serve the statement (a lost or refused connection, a locked SQLite file, a
    statement timeout), as opposed to refusing the statement itself: another attempt may succeed."""
    return exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError) or timed_out(exc)


__all__ = ["Database", "Engine", "alembic_config", "unavailable", "upgrade", "upgrade_async"]
