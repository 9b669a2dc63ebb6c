"""The shared per-instance subscription behind HR monitors: every follower gets every event, in order."""

from __future__ import annotations

import asyncio
import contextlib

from server.live.fanout import Fanout
from server.store.state import MemoryEventBus


async def take(fanout: Fanout, channel: str, after: int, count: int) -> list[int]:
    """The seqs of the first ``count`` events after ``after``."""
    seqs: list[int] = []
    async with contextlib.aclosing(fanout.follow(channel, after)) as events:
        async for seq, event in events:
            assert event["n"] == seq
            seqs.append(seq)
            if len(seqs) == count:
                return seqs
    return seqs


async def publish(bus: MemoryEventBus, channel: str, count: int) -> None:
    for _ in range(count):
        seq = len(await bus.history(channel)) + 1
        assert await bus.publish(channel, {"n": seq}) == seq


async def test_followers_share_one_feed_and_miss_nothing() -> None:
    """Followers joining at different points, one far behind the ring, each get exactly their events;
    the channel has one feed while followed and none after."""
    bus = MemoryEventBus()
    fanout = Fanout(bus, keep=5)
    await publish(bus, "c", 20)  # older than the ring will ever hold
    early = asyncio.create_task(take(fanout, "c", 0, 60))
    late = asyncio.create_task(take(fanout, "c", 18, 42))
    await asyncio.sleep(0.01)
    assert len(fanout.feeds) == 1 and fanout.feeds["c"].users == 2
    await publish(bus, "c", 40)
    assert await early == list(range(1, 61))
    assert await late == list(range(19, 61))
    assert fanout.feeds == {}
    await fanout.close()
    await bus.close()


async def test_a_follower_that_stops_reading_catches_up_from_history() -> None:
    """A follower that reads nothing while many events pass (more than the ring keeps) later gets them all,
    in order, while memory holds only the ring."""
    bus = MemoryEventBus()
    fanout = Fanout(bus, keep=8)
    stream = fanout.follow("c", 0)
    fast = asyncio.create_task(take(fanout, "c", 0, 100))
    await publish(bus, "c", 1)
    first = await anext(stream)
    await publish(bus, "c", 99)
    assert await fast == list(range(1, 101))
    assert len(fanout.feeds["c"].ring) == 8
    rest = [first[0]] + [(await anext(stream))[0] for _ in range(99)]
    assert rest == list(range(1, 101))
    await stream.aclose()
    await fanout.close()
    await bus.close()
