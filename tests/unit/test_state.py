"""One contract suite for the live-session state backends: memory twins, the database twins and Redis."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from redis.asyncio import Redis

from server.store.db import Database, upgrade
from server.store.durable import open_durable_state
from server.store.state import EventBus, SessionStore, open_state

REDIS_URL = os.environ.get("VIVA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
STEP_S = 5.0  # bound on any single wait in these tests


@dataclass
class State:
    store: SessionStore
    bus: EventBus
    redis_prefix: str | None = None  # None for the memory and database backends

    @contextlib.asynccontextmanager
    async def peer(self) -> AsyncIterator[State]:
        """Another server instance's view of the same state (for memory and the database, which serve one
        instance: this same process's)."""
        if self.redis_prefix is None:
            yield self
            return
        store, bus = await open_state(REDIS_URL, prefix=self.redis_prefix)
        try:
            yield State(store, bus, self.redis_prefix)
        finally:
            await bus.close()
            await store.close()


async def migrated_database(folder: Path) -> Database:
    url = f"sqlite+aiosqlite:///{folder / 'state.db'}"
    await asyncio.to_thread(upgrade, url)
    return Database(url)


_unreachable: list[str] = []  # the reason, once a connection attempt has failed


async def _redis_client_or_skip() -> Redis:
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=2)
    if not _unreachable:
        try:
            async with asyncio.timeout(3):
                await client.ping()
            return client
        except Exception as exc:
            _unreachable.append(repr(exc))
    await client.aclose()
    message = f"Redis not reachable at {REDIS_URL} ({_unreachable[0]}): skipping the Redis backend"
    if os.environ.get("VIVA_REQUIRE_SERVICES") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest_asyncio.fixture(params=["memory", "database", pytest.param("redis", marks=pytest.mark.redis)])
async def state(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[State]:
    if request.param in ("memory", "database"):
        db = None
        if request.param == "memory":
            store, bus = await open_state(None)
        else:
            db = await migrated_database(tmp_path)
            store, bus = open_durable_state(db)
        yield State(store, bus)
        await bus.close()
        await store.close()
        if db is not None:
            await db.close()
        return
    admin = await _redis_client_or_skip()
    prefix = f"viva-test-{uuid.uuid4().hex}:"
    store, bus = await open_state(REDIS_URL, prefix=prefix)
    try:
        yield State(store, bus, prefix)
    finally:
        await bus.close()
        await store.close()
        keys = [key async for key in admin.scan_iter(match=f"{prefix}*")]
        if keys:
            await admin.delete(*keys)
        await admin.aclose()


Entry = tuple[int, dict[str, Any]]


async def _collect(events: AsyncIterator[Entry], n: int) -> list[Entry]:
    out: list[Entry] = []
    async with asyncio.timeout(STEP_S):
        async for item in events:
            out.append(item)
            if len(out) == n:
                break
    return out


# --------------------------------------------------------------------------- session store


async def test_snapshot_round_trip_delete_and_missing(state: State) -> None:
    """A stored snapshot reads back equal (as a copy), is gone after delete, and unknown ids read None."""
    snap = {"phase": "question", "index": 3, "tags": ["a", "b"], "nested": {"x": 1.5, "ok": True}}
    await state.store.put("s1", snap)
    got = await state.store.get("s1")
    assert got == snap
    assert got is not None
    got["phase"] = "mutated"
    assert await state.store.get("s1") == snap
    await state.store.delete("s1")
    assert await state.store.get("s1") is None
    assert await state.store.get("never-stored") is None
    await state.store.delete("never-stored")


async def test_snapshot_ttl_expires(state: State) -> None:
    """A snapshot put with a short ttl is readable at first and gone after it; one without ttl stays."""
    await state.store.put("short", {"v": 1}, ttl_s=0.2)
    await state.store.put("long", {"v": 2})
    assert await state.store.get("short") == {"v": 1}
    await asyncio.sleep(0.35)
    assert await state.store.get("short") is None
    assert await state.store.get("long") == {"v": 2}


async def test_put_replaces_and_clears_ttl(state: State) -> None:
    """A put without ttl replaces the value and removes an earlier expiry."""
    await state.store.put("s", {"v": 1}, ttl_s=0.2)
    await state.store.put("s", {"v": 2})
    await asyncio.sleep(0.35)
    assert await state.store.get("s") == {"v": 2}


async def test_claim_first_owner_wins(state: State) -> None:
    """After A claims, B's claim returns A and owner() reports A."""
    assert await state.store.owner("s") is None
    assert await state.store.claim("s", "A", ttl_s=5) == "A"
    assert await state.store.claim("s", "B", ttl_s=5) == "A"
    assert await state.store.owner("s") == "A"


async def test_concurrent_claims_have_one_winner(state: State) -> None:
    """Of many concurrent claimers all see the same single winner."""
    results = await asyncio.gather(*(state.store.claim("s", f"o{i}", ttl_s=5) for i in range(20)))
    assert len(set(results)) == 1
    assert await state.store.owner("s") == results[0]


async def test_claim_by_holder_refreshes_lease(state: State) -> None:
    """A holder's repeated claims keep the lease alive past the original ttl."""
    assert await state.store.claim("s", "A", ttl_s=0.3) == "A"
    for _ in range(3):
        await asyncio.sleep(0.15)
        assert await state.store.claim("s", "A", ttl_s=0.3) == "A"
    assert await state.store.owner("s") == "A"
    assert await state.store.claim("s", "B", ttl_s=0.3) == "A"


async def test_release_only_by_holder(state: State) -> None:
    """B cannot release A's lease; A can, after which B can claim."""
    await state.store.claim("s", "A", ttl_s=5)
    assert await state.store.release("s", "B") is False
    assert await state.store.owner("s") == "A"
    assert await state.store.release("s", "A") is True
    assert await state.store.owner("s") is None
    assert await state.store.release("s", "A") is False
    assert await state.store.claim("s", "B", ttl_s=5) == "B"


async def test_owner_lease_expires(state: State) -> None:
    """An unrefreshed lease expires, freeing the session for another owner."""
    await state.store.claim("s", "A", ttl_s=0.2)
    await asyncio.sleep(0.35)
    assert await state.store.owner("s") is None
    assert await state.store.claim("s", "B", ttl_s=5) == "B"


async def test_incr_counts_within_window_and_resets(state: State) -> None:
    """incr counts 1, 2, 3 within a window, keeps keys separate, and restarts at 1 after the window."""
    assert [await state.store.incr("k", 0.3) for _ in range(3)] == [1, 2, 3]
    assert await state.store.incr("other", 0.3) == 1
    await asyncio.sleep(0.45)
    assert await state.store.incr("k", 0.3) == 1


async def test_store_ping(state: State) -> None:
    """ping succeeds on an open store."""
    await state.store.ping()


# --------------------------------------------------------------------------- event bus


async def test_publish_returns_increasing_seqs_per_channel(state: State) -> None:
    """Sequence numbers start at 1 and increase by one per channel, independently per channel."""
    assert [await state.bus.publish("c", {"i": i}) for i in range(5)] == [1, 2, 3, 4, 5]
    assert await state.bus.publish("other", {"i": 0}) == 1
    assert await state.bus.publish("c", {"i": 5}) == 6


async def test_history_after_returns_exactly_later_events(state: State) -> None:
    """history(after=N) returns the events with seq > N in order, honouring limit."""
    for i in range(1, 11):
        await state.bus.publish("c", {"i": i})
    assert await state.bus.history("c") == [(i, {"i": i}) for i in range(1, 11)]
    assert await state.bus.history("c", after=7) == [(8, {"i": 8}), (9, {"i": 9}), (10, {"i": 10})]
    assert await state.bus.history("c", after=3, limit=2) == [(4, {"i": 4}), (5, {"i": 5})]
    assert await state.bus.history("c", after=10) == []
    assert await state.bus.history("unknown") == []


async def test_subscribe_replays_then_follows_without_gap_or_duplicate(state: State) -> None:
    """A subscriber sees history after `after` then live events published concurrently, each exactly once."""
    for i in range(1, 6):
        await state.bus.publish("c", {"i": i})

    async def publisher() -> None:
        for i in range(6, 31):
            await state.bus.publish("c", {"i": i})
            if i % 5 == 0:
                await asyncio.sleep(0.01)

    async with contextlib.aclosing(state.bus.subscribe("c", after=2)) as events:
        task = asyncio.create_task(publisher())
        got = await _collect(events, 28)
        await asyncio.wait_for(task, STEP_S)
    assert got == [(i, {"i": i}) for i in range(3, 31)]


async def test_subscribe_receives_events_published_after_it_waits(state: State) -> None:
    """A subscriber already waiting on an empty channel receives events published later."""
    async with contextlib.aclosing(state.bus.subscribe("c")) as events:
        consumer = asyncio.create_task(_collect(events, 3))
        await asyncio.sleep(0.1)
        assert not consumer.done()
        for i in range(3):
            await state.bus.publish("c", {"i": i})
        got = await asyncio.wait_for(consumer, STEP_S)
    assert got == [(1, {"i": 0}), (2, {"i": 1}), (3, {"i": 2})]


async def test_two_subscribers_each_get_every_event(state: State) -> None:
    """Two live subscribers on the same channel both receive every event in order."""
    await state.bus.publish("c", {"i": 0})
    async with (
        contextlib.aclosing(state.bus.subscribe("c", after=1)) as first,
        contextlib.aclosing(state.bus.subscribe("c", after=1)) as second,
    ):
        tasks = [asyncio.create_task(_collect(sub, 10)) for sub in (first, second)]
        await asyncio.sleep(0.05)
        for i in range(1, 11):
            await state.bus.publish("c", {"i": i})
        results = await asyncio.wait_for(asyncio.gather(*tasks), STEP_S)
    expected = [(i + 1, {"i": i}) for i in range(1, 11)]
    assert results == [expected, expected]


async def test_concurrent_publishers_get_distinct_contiguous_seqs(state: State) -> None:
    """50 concurrent publishes get the seqs 1..50 exactly once, and history agrees with them."""
    seqs = await asyncio.wait_for(
        asyncio.gather(*(state.bus.publish("c", {"n": n}) for n in range(50))), STEP_S
    )
    assert sorted(seqs) == list(range(1, 51))
    history = await state.bus.history("c")
    assert [seq for seq, _ in history] == list(range(1, 51))
    assert {seq: event["n"] for seq, event in history} == dict(zip(seqs, range(50), strict=True))


async def test_abandoned_subscriber_does_not_break_publishing(state: State) -> None:
    """After a subscriber stops iterating, publishes keep working and a new subscriber sees them."""
    await state.bus.publish("c", {"i": 1})
    events = state.bus.subscribe("c")
    assert await asyncio.wait_for(anext(events), STEP_S) == (1, {"i": 1})
    pending = asyncio.ensure_future(anext(events))
    await asyncio.sleep(0.05)
    pending.cancel()  # the consumer gives up mid-wait
    with contextlib.suppress(asyncio.CancelledError):
        await pending
    await events.aclose()
    assert await state.bus.publish("c", {"i": 2}) == 2
    assert await state.bus.publish("c", {"i": 3}) == 3
    async with contextlib.aclosing(state.bus.subscribe("c", after=1)) as fresh:
        assert await _collect(fresh, 2) == [(2, {"i": 2}), (3, {"i": 3})]


async def test_close_ends_pending_subscribe(state: State) -> None:
    """close() makes a subscriber waiting for events finish its iteration, and later publishes fail."""
    await state.bus.publish("c", {"i": 1})
    received: list[Entry] = []

    async def consume() -> None:
        async for item in state.bus.subscribe("c"):
            received.append(item)

    consumer = asyncio.create_task(consume())
    await asyncio.sleep(0.1)
    assert not consumer.done()
    await asyncio.wait_for(state.bus.close(), STEP_S)
    await asyncio.wait_for(consumer, STEP_S)
    assert received == [(1, {"i": 1})]
    with pytest.raises(RuntimeError):
        await state.bus.publish("c", {"i": 2})


async def test_bus_ping(state: State) -> None:
    """ping succeeds on an open bus and fails once it is closed."""
    await state.bus.ping()
    await state.bus.close()
    with pytest.raises(RuntimeError):
        await state.bus.ping()


async def test_second_instance_shares_sessions_and_events(state: State) -> None:
    """A second instance sees the same leases, snapshots and channel; both publish contiguously."""
    async with state.peer() as other:
        await state.store.put("s", {"v": 1})
        assert await other.store.get("s") == {"v": 1}
        assert await state.store.claim("s", "A", ttl_s=5) == "A"
        assert await other.store.claim("s", "B", ttl_s=5) == "A"
        async with contextlib.aclosing(other.bus.subscribe("c")) as events:
            consumer = asyncio.create_task(_collect(events, 20))
            await asyncio.sleep(0.05)
            seqs = await asyncio.gather(
                *(bus.publish("c", {"n": n}) for n in range(10) for bus in (state.bus, other.bus))
            )
            got = await asyncio.wait_for(consumer, STEP_S)
    assert sorted(seqs) == list(range(1, 21))
    assert [seq for seq, _ in got] == list(range(1, 21))


async def test_database_state_outlives_the_process(tmp_path: Path) -> None:
    """Without Redis, a snapshot and a channel written by one process are there for the next one: the
    snapshot reads back, history replays, and numbering goes on after the last event."""
    db = await migrated_database(tmp_path)
    store, bus = open_durable_state(db)
    await store.put("s1", {"phase": "listening", "seq": 40}, ttl_s=60)
    await store.put("gone", {"x": 1}, ttl_s=0.001)
    for n in range(3):
        await bus.publish("events:i1", {"n": n})
    await bus.close()
    await store.close()
    await db.close()

    db = Database(db.url)  # a new process: nothing in memory
    store, bus = open_durable_state(db)
    try:
        assert await store.get("s1") == {"phase": "listening", "seq": 40}
        assert await store.get("gone") is None
        assert await bus.history("events:i1") == [(1, {"n": 0}), (2, {"n": 1}), (3, {"n": 2})]
        assert await bus.publish("events:i1", {"n": 3}) == 4
        events = bus.subscribe("events:i1", after=2)
        async with contextlib.aclosing(events):
            assert [await anext(events), await anext(events)] == [(3, {"n": 2}), (4, {"n": 3})]
        await bus.trim("events:i1", 1)
    finally:
        await bus.close()
        await store.close()
        await db.close()
    db = Database(db.url)
    _, bus = open_durable_state(db)
    try:
        assert await bus.history("events:i1") == [(4, {"n": 3})], "a trim is kept in the table too"
    finally:
        await bus.close()
        await db.close()
