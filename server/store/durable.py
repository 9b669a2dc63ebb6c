"""Live-session state that outlives the process without Redis: snapshots and event channels in the database.

The embedded default (one instance, SQLite) must resume a session after a restart exactly as the Redis
deployment does. These two classes are the memory twins of :mod:`server.store.state` with every snapshot
and event written through to the application database (tables ``live_snapshots`` and ``live_events``):

* :class:`DatabaseSessionStore` -- snapshots are written to the table before ``put`` returns and read back
  from it after a restart; owner leases and counters stay in memory (one instance holds every session, and
  a restarted process must not wait for the leases of the one that died).
* :class:`DatabaseEventBus` -- each event is inserted before ``publish`` returns its sequence number; a
  channel that this process has not touched yet is loaded from the table first, so numbering goes on where
  it stopped and a late monitor replays the history from before the restart.

Both keep the interfaces' contracts (fresh copies out, ValueError for a non-positive duration).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Any

from sqlalchemy import delete, event, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from server.store.db import Database
from server.store.models import LiveEvent, LiveSnapshot
from server.store.state import (
    DEFAULT_CHANNEL_MAX_LEN,
    DEFAULT_CHANNEL_TTL_S,
    Entry,
    Event,
    MemoryEventBus,
    MemorySessionStore,
    Snapshot,
    _decode,
    _encode,
    _ms,
)

SWEEP_INTERVAL_S = 60.0

snapshots = LiveSnapshot.__table__  # type: ignore[attr-defined]
events = LiveEvent.__table__  # type: ignore[attr-defined]


def live_engine(url: str) -> AsyncEngine:
    """An engine of its own for live state, whose commits do not wait for the disk (SQLite in WAL mode
    with ``synchronous=NORMAL``; PostgreSQL with ``synchronous_commit=off``): a killed process loses
    nothing committed; an operating-system crash or power cut may lose the last moments of live state,
    which the reconciliation with the stored answers (written with full durability) covers. A live
    session writes a snapshot or an event several times a second; waiting for the disk each time would
    queue every session behind the one writer."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})

        def pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000"):
                cursor.execute(f"PRAGMA {pragma}")
            cursor.close()

        event.listen(engine.sync_engine, "connect", pragmas)
        return engine
    return create_async_engine(
        url,
        pool_size=5,
        max_overflow=10,
        pool_recycle=1800,
        connect_args={"server_settings": {"synchronous_commit": "off"}},
    )


class _OnEngine:
    """Pinging and closing for a memory twin backed by a live-state engine (put first in the bases)."""

    _engine: AsyncEngine

    async def ping(self) -> None:
        await super().ping()  # type: ignore[misc]
        async with self._engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        await super().close()  # type: ignore[misc]
        await self._engine.dispose()


class DatabaseSessionStore(_OnEngine, MemorySessionStore):
    """:class:`MemorySessionStore` whose snapshots live in the database (leases and counters in memory)."""

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__()
        self._engine = engine
        self._next_db_sweep = time.monotonic() + SWEEP_INTERVAL_S

    async def get(self, session_id: str) -> Snapshot | None:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    select(snapshots.c.value, snapshots.c.expires_at).where(snapshots.c.key == session_id)
                )
            ).first()
        if row is None or (row.expires_at is not None and row.expires_at <= time.time()):
            return None
        return _decode(row.value)

    async def put(self, session_id: str, snapshot: Snapshot, ttl_s: float | None = None) -> None:
        expires_at = None if ttl_s is None else time.time() + _ms(ttl_s) / 1000
        value = _encode(snapshot)
        async with self._engine.begin() as conn:
            changed = await conn.execute(
                update(snapshots)
                .where(snapshots.c.key == session_id)
                .values(value=value, expires_at=expires_at)
            )
            if changed.rowcount == 0:
                await conn.execute(
                    insert(snapshots).values(key=session_id, value=value, expires_at=expires_at)
                )
            if time.monotonic() >= self._next_db_sweep:
                self._next_db_sweep = time.monotonic() + SWEEP_INTERVAL_S
                expired = snapshots.c.expires_at.is_not(None) & (snapshots.c.expires_at <= time.time())
                await conn.execute(delete(snapshots).where(expired))

    async def delete(self, session_id: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(delete(snapshots).where(snapshots.c.key == session_id))


class DatabaseEventBus(_OnEngine, MemoryEventBus):
    """:class:`MemoryEventBus` whose channels are written through to the database and loaded from it."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        max_len: int = DEFAULT_CHANNEL_MAX_LEN,
        channel_ttl_s: float = DEFAULT_CHANNEL_TTL_S,
    ) -> None:
        super().__init__(max_len=max_len, channel_ttl_s=channel_ttl_s)
        self._engine = engine
        self._writing: dict[str, asyncio.Lock] = {}  # per channel: the table and memory agree on numbering
        self._next_db_sweep = time.monotonic() + SWEEP_INTERVAL_S

    async def _load(self, channel: str) -> None:
        """Bring a channel this process does not hold (new, or dropped as idle) in from the table."""
        if channel in self._channels:
            return
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(events.c.seq, events.c.payload)
                    .where(events.c.channel == channel)
                    .order_by(events.c.seq.desc())
                    .limit(self._max_len)
                )
            ).all()
        if channel in self._channels:  # loaded meanwhile by another caller
            return
        chan = self._channel(channel)
        chan.events = deque((int(seq), payload) for seq, payload in reversed(rows))
        chan.seq = int(rows[0].seq) if rows else 0

    async def publish(self, channel: str, event: Event) -> int:
        if self._closed:
            raise RuntimeError("event bus is closed")
        payload = _encode(event)
        async with self._writing.setdefault(channel, asyncio.Lock()):
            self._sweep()  # the memory twin's idle-channel sweep, first: it may drop this channel
            await self._load(channel)
            seq = self._channels[channel].seq + 1
            now = time.time()
            async with self._engine.begin() as conn:
                await conn.execute(
                    insert(events).values(channel=channel, seq=seq, payload=payload, created_at=now)
                )
                if seq > self._max_len:
                    await conn.execute(
                        delete(events).where(events.c.channel == channel, events.c.seq <= seq - self._max_len)
                    )
                await self._sweep_table(conn, now)
            return await super().publish(channel, event)

    async def _sweep_table(self, conn: AsyncConnection, now: float) -> None:
        """Drop the events of channels idle for longer than the channel TTL (every minute at most)."""
        if time.monotonic() < self._next_db_sweep:
            return
        self._next_db_sweep = time.monotonic() + SWEEP_INTERVAL_S
        idle = (
            select(events.c.channel)
            .group_by(events.c.channel)
            .having(func.max(events.c.created_at) < now - self._ttl_s)
        )
        await conn.execute(delete(events).where(events.c.channel.in_(idle)))

    async def history(self, channel: str, after: int = 0, limit: int | None = None) -> list[Entry]:
        await self._load(channel)
        return await super().history(channel, after, limit)

    async def subscribe(self, channel: str, after: int = 0) -> AsyncGenerator[Entry, None]:
        await self._load(channel)
        async with aclosing(super().subscribe(channel, after)) as entries:
            async for entry in entries:
                yield entry

    async def trim(self, channel: str, max_len: int) -> None:
        await self._load(channel)
        await super().trim(channel, max_len)
        chan = self._channels[channel]
        first = chan.events[0][0] if chan.events else chan.seq + 1
        async with self._engine.begin() as conn:
            await conn.execute(delete(events).where(events.c.channel == channel, events.c.seq < first))


def open_durable_state(db: Database) -> tuple[DatabaseSessionStore, DatabaseEventBus]:
    """The session store and event bus of a deployment without Redis, kept in ``db``'s database through an
    engine of their own (:func:`live_engine`), disposed when both are closed."""
    engine = live_engine(db.url)
    return DatabaseSessionStore(engine), DatabaseEventBus(engine)
