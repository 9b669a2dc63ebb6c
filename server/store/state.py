"""Live-session state: session snapshots, session ownership, counters and event channels.

Two small interfaces, each with an in-memory twin and a Redis implementation:

* :class:`SessionStore` -- JSON snapshots of live sessions, an owner lease per session (which
  server instance drives it), and fixed-window counters.
* :class:`EventBus` -- per-channel, append-only event history with integer sequence numbers,
  and subscriptions that replay history then follow live events.

The memory twins serve a single process (development, tests); the Redis implementations let
several processes share sessions and events. :func:`open_state` picks one from a URL.

Values are JSON: what goes in must be JSON-serialisable, and what comes out is a fresh copy
(so mutating a returned dict never changes stored state), in both backends.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from redis.asyncio import Redis

__all__ = [
    "DEFAULT_CHANNEL_MAX_LEN",
    "DEFAULT_CHANNEL_TTL_S",
    "EventBus",
    "MemoryEventBus",
    "MemorySessionStore",
    "RedisEventBus",
    "RedisSessionStore",
    "SessionStore",
    "open_state",
]

DEFAULT_CHANNEL_MAX_LEN = 10_000
"""Events kept per channel (Redis trims approximately: ``MAXLEN ~``)."""

DEFAULT_CHANNEL_TTL_S = 24 * 3600.0
"""A channel idle this long (no publish) is dropped, history and sequence counter included."""

Event = dict[str, Any]
Snapshot = dict[str, Any]
Entry = tuple[int, Event]


# --------------------------------------------------------------------------- interfaces


class SessionStore(Protocol):
    """Live-session snapshots, owner leases and fixed-window counters."""

    async def get(self, session_id: str) -> Snapshot | None:
        """Return the stored snapshot (a fresh copy), or None if absent or expired."""
        ...

    async def put(self, session_id: str, snapshot: Snapshot, ttl_s: float | None = None) -> None:
        """Store (replace) the snapshot; it expires after ``ttl_s`` seconds, never if None.

        A put without ``ttl_s`` clears any expiry set by an earlier put. Durations (``ttl_s`` here,
        in :meth:`claim` and :meth:`incr`) must be positive (ValueError) and are rounded to ms.
        """
        ...

    async def delete(self, session_id: str) -> None:
        """Remove the snapshot; no error if it is absent. The owner lease is left alone."""
        ...

    async def claim(self, session_id: str, owner: str, ttl_s: float) -> str:
        """Take the session's owner lease if it is free, and return the owner now holding it.

        Atomic: of several concurrent claimers exactly one wins. If ``owner`` already holds the
        lease its expiry is pushed to ``ttl_s`` from now (so claim doubles as a heartbeat). The
        caller owns the session iff the returned value equals ``owner``. A lease not refreshed
        within ``ttl_s`` expires, so a dead instance releases its sessions.
        """
        ...

    async def owner(self, session_id: str) -> str | None:
        """Return the current lease holder, or None."""
        ...

    async def release(self, session_id: str, owner: str) -> bool:
        """Drop the lease if ``owner`` holds it (atomically); return whether it was dropped."""
        ...

    async def incr(self, key: str, window_s: float) -> int:
        """Add one to a fixed-window counter and return the new count.

        The window opens at the first increment and lasts ``window_s`` seconds; the next
        increment after it closes starts again from 1. Counter keys are separate from sessions.
        """
        ...

    async def ping(self) -> None:
        """Raise if the backend is unreachable (or closed)."""
        ...

    async def close(self) -> None:
        """Release resources. Idempotent."""
        ...


class EventBus(Protocol):
    """Per-channel ordered event history with replay-then-follow subscriptions."""

    async def publish(self, channel: str, event: Event) -> int:
        """Append ``event`` to the channel and return its sequence number.

        Sequence numbers are positive ints, strictly increasing per channel (contiguous unless
        the channel expired in between), assigned atomically across publishers and processes.
        Raises RuntimeError once the bus is closed.
        """
        ...

    async def history(self, channel: str, after: int = 0, limit: int | None = None) -> list[Entry]:
        """Return retained events with ``seq > after``, oldest first, at most ``limit`` of them.

        Only the last ``max_len`` events (about, for Redis) of a channel are retained.
        """
        ...

    def subscribe(self, channel: str, after: int = 0) -> AsyncGenerator[Entry, None]:
        """Iterate ``(seq, event)`` with ``seq > after``: retained history, then live events.

        No gaps and no duplicates across the switch from history to live. Iteration ends when
        the bus is closed. A consumer that stops early should ``aclose()`` the iterator (e.g.
        ``async with contextlib.aclosing(bus.subscribe(ch)) as events: ...``) so that resources
        are freed promptly rather than at garbage collection. A subscriber that falls more than
        ``max_len`` events behind skips the events trimmed meanwhile.
        """
        ...

    async def trim(self, channel: str, max_len: int) -> None:
        """Keep at most the last ``max_len`` events of the channel (approximately, for Redis)."""
        ...

    async def ping(self) -> None:
        """Raise if the backend is unreachable (or closed)."""
        ...

    async def close(self) -> None:
        """End all subscriptions and release resources. Idempotent."""
        ...


# --------------------------------------------------------------------------- helpers


def _encode(value: dict[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _decode(raw: str | bytes) -> dict[str, Any]:
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise ValueError(f"stored value is not a JSON object: {type(value).__name__}")
    return value


def _text(raw: Any) -> str:
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def _ms(seconds: float) -> int:
    """Seconds to a positive whole number of milliseconds (ValueError if not positive)."""
    if not seconds > 0:
        raise ValueError(f"a duration must be positive, got {seconds!r}")
    return max(1, round(seconds * 1000))


_SWEEP_INTERVAL_S = 60.0


# --------------------------------------------------------------------------- memory


@dataclass
class _Expiring:
    value: str
    expires_at: float | None  # time.monotonic() deadline

    def alive(self, now: float) -> bool:
        return self.expires_at is None or now < self.expires_at


class MemorySessionStore(SessionStore):
    """In-process :class:`SessionStore`; expired entries are dropped lazily and swept periodically."""

    def __init__(self) -> None:
        self._snapshots: dict[str, _Expiring] = {}
        self._owners: dict[str, _Expiring] = {}
        self._counters: dict[str, tuple[int, float]] = {}  # key -> (count, window end)
        self._next_sweep = time.monotonic() + _SWEEP_INTERVAL_S
        self._closed = False

    def _live(self, table: dict[str, _Expiring], key: str) -> str | None:
        entry = table.get(key)
        if entry is None:
            return None
        if entry.alive(time.monotonic()):
            return entry.value
        del table[key]
        return None

    def _sweep(self) -> None:
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + _SWEEP_INTERVAL_S
        for table in (self._snapshots, self._owners):
            for key in [k for k, e in table.items() if not e.alive(now)]:
                del table[key]
        for key in [k for k, (_, end) in self._counters.items() if now >= end]:
            del self._counters[key]

    async def get(self, session_id: str) -> Snapshot | None:
        raw = self._live(self._snapshots, session_id)
        return None if raw is None else _decode(raw)

    async def put(self, session_id: str, snapshot: Snapshot, ttl_s: float | None = None) -> None:
        deadline = None if ttl_s is None else time.monotonic() + _ms(ttl_s) / 1000
        self._snapshots[session_id] = _Expiring(_encode(snapshot), deadline)
        self._sweep()

    async def delete(self, session_id: str) -> None:
        self._snapshots.pop(session_id, None)

    async def claim(self, session_id: str, owner: str, ttl_s: float) -> str:
        deadline = time.monotonic() + _ms(ttl_s) / 1000
        current = self._live(self._owners, session_id)
        if current is None or current == owner:
            self._owners[session_id] = _Expiring(owner, deadline)
            self._sweep()
            return owner
        return current

    async def owner(self, session_id: str) -> str | None:
        return self._live(self._owners, session_id)

    async def release(self, session_id: str, owner: str) -> bool:
        if self._live(self._owners, session_id) != owner:
            return False
        del self._owners[session_id]
        return True

    async def incr(self, key: str, window_s: float) -> int:
        now = time.monotonic()
        count, end = self._counters.get(key, (0, now))
        if now >= end:
            count, end = 0, now + _ms(window_s) / 1000
        self._counters[key] = (count + 1, end)
        self._sweep()
        return count + 1

    async def ping(self) -> None:
        if self._closed:
            raise RuntimeError("session store is closed")

    async def close(self) -> None:
        self._closed = True


@dataclass
class _Channel:
    max_len: int
    seq: int = 0
    events: deque[tuple[int, str]] = field(default_factory=deque)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    subscribers: int = 0
    touched: float = field(default_factory=time.monotonic)

    def after(self, after: int, limit: int | None = None) -> list[Entry]:
        # Sequence numbers are contiguous within the deque, so the start index is computed.
        first = self.events[0][0] if self.events else self.seq + 1
        start = max(0, after + 1 - first)
        stop = len(self.events) if limit is None else min(len(self.events), start + limit)
        return [(seq, _decode(raw)) for seq, raw in (self.events[i] for i in range(start, stop))]


class MemoryEventBus(EventBus):
    """In-process :class:`EventBus`: a bounded deque per channel and an asyncio.Condition.

    Channels idle longer than ``channel_ttl_s`` with no subscriber are dropped (their
    sequence numbers restart at 1, like an expired Redis channel).
    """

    def __init__(
        self, *, max_len: int = DEFAULT_CHANNEL_MAX_LEN, channel_ttl_s: float = DEFAULT_CHANNEL_TTL_S
    ) -> None:
        if max_len < 1:
            raise ValueError("max_len must be at least 1")
        self._max_len = max_len
        self._ttl_s = channel_ttl_s
        self._channels: dict[str, _Channel] = {}
        self._next_sweep = time.monotonic() + _SWEEP_INTERVAL_S
        self._closed = False

    def _channel(self, name: str) -> _Channel:
        chan = self._channels.get(name)
        if chan is None:
            chan = self._channels[name] = _Channel(self._max_len)
        return chan

    def _sweep(self) -> None:
        now = time.monotonic()
        if now < self._next_sweep:
            return
        self._next_sweep = now + _SWEEP_INTERVAL_S
        stale = [n for n, c in self._channels.items() if not c.subscribers and now - c.touched > self._ttl_s]
        for name in stale:
            del self._channels[name]

    async def publish(self, channel: str, event: Event) -> int:
        if self._closed:
            raise RuntimeError("event bus is closed")
        raw = _encode(event)
        self._sweep()
        chan = self._channel(channel)
        chan.seq += 1
        chan.events.append((chan.seq, raw))
        while len(chan.events) > chan.max_len:
            chan.events.popleft()
        chan.touched = time.monotonic()
        async with chan.changed:
            chan.changed.notify_all()
        return chan.seq

    async def history(self, channel: str, after: int = 0, limit: int | None = None) -> list[Entry]:
        chan = self._channels.get(channel)
        return [] if chan is None else chan.after(after, limit)

    async def subscribe(self, channel: str, after: int = 0) -> AsyncGenerator[Entry, None]:
        chan = self._channel(channel)
        chan.subscribers += 1
        try:
            last = after
            while not self._closed:
                batch = chan.after(last)
                for item in batch:
                    yield item
                    last = item[0]
                if not batch:
                    await self._wait_past(chan, last)
        finally:
            chan.subscribers -= 1

    async def _wait_past(self, chan: _Channel, seq: int) -> None:
        """Wait until the channel has an event after ``seq`` or the bus is closed."""
        async with chan.changed:
            await chan.changed.wait_for(lambda: self._closed or chan.seq > seq)

    async def trim(self, channel: str, max_len: int) -> None:
        chan = self._channels.get(channel)
        while chan is not None and len(chan.events) > max(0, max_len):
            chan.events.popleft()

    async def ping(self) -> None:
        if self._closed:
            raise RuntimeError("event bus is closed")

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for chan in list(self._channels.values()):
            async with chan.changed:
                chan.changed.notify_all()


# --------------------------------------------------------------------------- redis

_CLAIM = """
local cur = redis.call('GET', KEYS[1])
if not cur then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ARGV[1]
end
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return cur
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

_INCR = """
local n = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n
"""

# KEYS: seq counter, stream. ARGV: event json, max len, ttl ms.
# Entry ids are "<seq>-0". If the counter was lost but the stream survives, resume after its last id.
_PUBLISH = """
local seq = redis.call('INCR', KEYS[1])
if seq == 1 then
  local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)
  if last[1] then
    seq = tonumber(string.match(last[1][1], '^(%d+)')) + 1
    redis.call('SET', KEYS[1], seq)
  end
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], string.format('%d-0', seq), 'e', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return seq
"""

Closer = Callable[[], Awaitable[None]]


class _OnceCloser:
    """Runs ``on_close`` at most once."""

    def __init__(self, on_close: Closer | None) -> None:
        self._on_close = on_close
        self.closed = False

    async def __call__(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._on_close is not None:
            await self._on_close()


class RedisSessionStore(SessionStore):
    """:class:`SessionStore` on Redis. Keys: ``{prefix}session:<id>``, ``{prefix}owner:<id>``,
    ``{prefix}counter:<key>``.

    ``on_close`` is awaited once by :meth:`close` (e.g. to close the shared client); the client
    itself is not closed otherwise.
    """

    def __init__(self, client: Redis, *, prefix: str = "viva:", on_close: Closer | None = None) -> None:
        self._redis = client
        self._prefix = prefix
        self._close = _OnceCloser(on_close)
        self._claim = client.register_script(_CLAIM)
        self._release = client.register_script(_RELEASE)
        self._incr = client.register_script(_INCR)

    def _key(self, kind: str, name: str) -> str:
        return f"{self._prefix}{kind}:{name}"

    async def get(self, session_id: str) -> Snapshot | None:
        raw = await self._redis.get(self._key("session", session_id))
        return None if raw is None else _decode(raw)

    async def put(self, session_id: str, snapshot: Snapshot, ttl_s: float | None = None) -> None:
        px = None if ttl_s is None else _ms(ttl_s)
        await self._redis.set(self._key("session", session_id), _encode(snapshot), px=px)

    async def delete(self, session_id: str) -> None:
        await self._redis.delete(self._key("session", session_id))

    async def claim(self, session_id: str, owner: str, ttl_s: float) -> str:
        keys = [self._key("owner", session_id)]
        return _text(await self._claim(keys=keys, args=[owner, _ms(ttl_s)]))

    async def owner(self, session_id: str) -> str | None:
        raw = await self._redis.get(self._key("owner", session_id))
        return None if raw is None else _text(raw)

    async def release(self, session_id: str, owner: str) -> bool:
        return bool(await self._release(keys=[self._key("owner", session_id)], args=[owner]))

    async def incr(self, key: str, window_s: float) -> int:
        return int(await self._incr(keys=[self._key("counter", key)], args=[_ms(window_s)]))

    async def ping(self) -> None:
        if self._close.closed:
            raise RuntimeError("session store is closed")
        await self._redis.ping()

    async def close(self) -> None:
        await self._close()


class RedisEventBus(EventBus):
    """:class:`EventBus` on Redis streams, one stream per channel.

    Keys: ``{prefix}bus:{<channel>}`` (stream, entry ids ``<seq>-0``, field ``e`` = event JSON) and
    ``{prefix}bus:{<channel>}:seq`` (counter); the braces keep both in one Redis Cluster slot.
    Every publish trims the stream to about ``max_len`` and sets both keys to expire after
    ``channel_ttl_s``. Subscriptions poll with ``XREAD BLOCK`` (one pooled connection each while
    waiting), so they see events published by any process. ``block_ms`` must stay well under the
    client's socket timeout (redis-py's default is 5 s): a block as long as the timeout makes every idle
    wait end in a TimeoutError and a dropped connection.
    """

    def __init__(
        self,
        client: Redis,
        *,
        prefix: str = "viva:",
        max_len: int = DEFAULT_CHANNEL_MAX_LEN,
        channel_ttl_s: float = DEFAULT_CHANNEL_TTL_S,
        block_ms: int = 2_000,
        on_close: Closer | None = None,
    ) -> None:
        if max_len < 1:
            raise ValueError("max_len must be at least 1")
        self._redis = client
        self._prefix = prefix
        self._max_len = max_len
        self._ttl_ms = _ms(channel_ttl_s)
        self._block_ms = block_ms
        self._close = _OnceCloser(on_close)
        self._closing = False
        self._reads: set[asyncio.Task[Any]] = set()
        self._publish = client.register_script(_PUBLISH)

    def _stream(self, channel: str) -> str:
        return f"{self._prefix}bus:{{{channel}}}"

    @staticmethod
    def _entries(raw: Any) -> list[Entry]:
        return [(int(_text(eid).split("-", 1)[0]), _decode(fields["e"])) for eid, fields in raw or []]

    async def publish(self, channel: str, event: Event) -> int:
        if self._closing:
            raise RuntimeError("event bus is closed")
        stream = self._stream(channel)
        args: list[str | int] = [_encode(event), self._max_len, self._ttl_ms]
        return int(await self._publish(keys=[f"{stream}:seq", stream], args=args))

    async def history(self, channel: str, after: int = 0, limit: int | None = None) -> list[Entry]:
        if limit is not None and limit < 1:
            return []
        raw = await self._redis.xrange(self._stream(channel), min=f"{max(0, after) + 1}-0", count=limit)
        return self._entries(raw)

    async def _read(self, stream: str, last: int) -> list[Entry]:
        reply: Any = await self._redis.xread({stream: f"{max(0, last)}-0"}, count=500, block=self._block_ms)
        if not reply:
            return []
        # RESP2 replies [[stream, entries]]; RESP3 replies {stream: [entries]}.
        entries = next(iter(reply.values()))[0] if isinstance(reply, dict) else reply[0][1]
        return self._entries(entries)

    async def subscribe(self, channel: str, after: int = 0) -> AsyncGenerator[Entry, None]:
        stream, last = self._stream(channel), after
        while not self._closing:
            task = asyncio.create_task(self._read(stream, last))
            self._reads.add(task)
            try:
                await asyncio.wait([task])  # close() cancels the task; our own cancel leaves it
            finally:
                self._reads.discard(task)
                if not task.done():
                    task.cancel()
                    await asyncio.wait([task])
            if task.cancelled() or self._closing:  # redis-py may turn close()'s cancel into an error
                return
            for item in task.result():
                yield item
                last = item[0]

    async def trim(self, channel: str, max_len: int) -> None:
        await self._redis.xtrim(self._stream(channel), maxlen=max(0, max_len), approximate=True)

    async def ping(self) -> None:
        if self._closing:
            raise RuntimeError("event bus is closed")
        await self._redis.ping()

    async def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        pending = list(self._reads)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
        await self._close()


# --------------------------------------------------------------------------- factory


def _shared_closer(client: Redis, users: int) -> Closer:
    """A closer to hand to each of ``users`` owners; the last call closes ``client``."""
    remaining = users

    async def close() -> None:
        nonlocal remaining
        remaining -= 1
        if remaining == 0:
            await client.aclose()

    return close


async def open_state(redis_url: str | None, *, prefix: str = "viva:") -> tuple[SessionStore, EventBus]:
    """Open the session store and event bus: memory twins if ``redis_url`` is empty, else Redis.

    The Redis pair shares one client, closed when both have been closed. Nothing is contacted
    here: call ``ping()`` to check that the backend is reachable.
    """
    if not redis_url:
        return MemorySessionStore(), MemoryEventBus()
    client = Redis.from_url(redis_url, decode_responses=True)
    closer = _shared_closer(client, 2)
    return (
        RedisSessionStore(client, prefix=prefix, on_close=closer),
        RedisEventBus(client, prefix=prefix, on_close=closer),
    )
