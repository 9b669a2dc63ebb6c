"""One EventBus subscription per channel per instance, shared by every local follower (HR monitors).

Fifty monitors of one interview cost one Redis read per batch of events, not fifty. Each channel's feed
keeps the last ``keep`` events in memory; a follower that falls further behind (it stopped reading, or it
resumes from an old sequence number) catches up from the bus's history, so memory stays bounded whatever
the followers do.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import itertools
from collections import deque
from collections.abc import AsyncGenerator

from server.logs import log
from server.store.state import Entry, EventBus

RETRY_S = 1.0
HISTORY_BATCH = 500


class _Feed:
    def __init__(self, keep: int) -> None:
        self.ring: deque[Entry] = deque(maxlen=keep)
        self.last = 0  # the newest seq this feed has seen
        self.users = 0
        self.new = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def add(self, entries: list[Entry]) -> None:
        self.ring.extend(entries)
        self.last = entries[-1][0]
        woken, self.new = self.new, asyncio.Event()
        woken.set()

    def after(self, cursor: int) -> list[Entry]:
        """Ring entries with seq > cursor, oldest first."""
        start = bisect.bisect_right(self.ring, cursor, key=lambda entry: entry[0])
        return list(itertools.islice(self.ring, start, None))

    def floor(self) -> int:
        """Every event after this seq that the feed has seen is in the ring."""
        return self.ring[0][0] - 1 if self.ring else self.last


class Fanout:
    """Shared subscriptions: ``follow(channel, after)`` yields like ``EventBus.subscribe``."""

    def __init__(self, bus: EventBus, keep: int = 1000) -> None:
        self.bus, self.keep = bus, keep
        self.feeds: dict[str, _Feed] = {}

    async def follow(self, channel: str, after: int = 0) -> AsyncGenerator[Entry, None]:
        """Every event of ``channel`` with seq > ``after``: history, then live; no gaps, no duplicates."""
        feed = self._acquire(channel, after)
        cursor = after
        try:
            while True:
                if cursor < feed.floor():  # behind the ring: catch up from the bus's history
                    entries = await self.bus.history(channel, cursor, HISTORY_BATCH) or feed.after(cursor)
                else:
                    entries = feed.after(cursor)
                if not entries:
                    await feed.new.wait()
                    continue
                for entry in entries:
                    yield entry
                    cursor = entry[0]
        finally:
            self._release(channel, feed)

    def _acquire(self, channel: str, after: int) -> _Feed:
        feed = self.feeds.get(channel)
        if feed is None:
            feed = self.feeds[channel] = _Feed(self.keep)
            feed.last = after
            feed.task = asyncio.create_task(self._read(channel, feed), name=f"fanout-{channel}")
        feed.users += 1
        return feed

    def _release(self, channel: str, feed: _Feed) -> None:
        feed.users -= 1
        if feed.users <= 0 and self.feeds.get(channel) is feed:
            del self.feeds[channel]
            if feed.task is not None:
                feed.task.cancel()

    async def _read(self, channel: str, feed: _Feed) -> None:
        """The feed's one subscription; after a bus failure it follows again from the last event seen."""
        while True:
            try:
                async with contextlib.aclosing(self.bus.subscribe(channel, feed.last)) as events:
                    async for entry in events:
                        feed.add([entry])
                return  # the bus was closed
            except Exception as exc:
                log.warning("fanout_interrupted", error_type=type(exc).__name__)
                await asyncio.sleep(RETRY_S)

    async def close(self) -> None:
        tasks = [feed.task for feed in self.feeds.values() if feed.task is not None]
        self.feeds.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
