"""How many sockets this instance takes, and how fast each may send: the live sockets' limits.

Every room and monitor socket is admitted by :class:`SocketGate` right after the WebSocket handshake
(before ``hello``, so that a flood of idle sockets counts too) and holds a :class:`SocketQuota` until it
closes (``release``). Both limits are per instance and in memory, on purpose: a socket lives on one
instance, and counting its messages must not cost a Redis round trip per audio frame.
"""

from __future__ import annotations

import itertools
from collections import Counter

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import FixedWindowRateLimiter

from protocol.messages import CloseCode, ProtocolError

TOO_MANY_SOCKETS = "this server has too many connections; try again shortly"
TOO_MANY_FROM_ADDRESS = "too many connections from your address; try again shortly"
TOO_FAST = "too many messages; slow down and reconnect"


class SocketQuota:
    """One open socket's message budget: ``allow`` before handling each frame."""

    def __init__(self, gate: SocketGate, key: str, address: str) -> None:
        self._gate, self.key, self.address = gate, key, address
        self._released = False

    async def allow(self, *, binary: bool = False) -> bool:
        """Count one frame (a text message, or a binary audio frame); False once the socket is over its
        rate: the caller must then refuse with :data:`CloseCode.RATE_LIMITED` and close."""
        item = self._gate.audio if binary else self._gate.text
        return await self._gate.limiter.hit(item, "socket", "audio" if binary else "text", self.key)

    def refusal(self) -> ProtocolError:
        return ProtocolError(CloseCode.RATE_LIMITED, TOO_FAST, fatal=True)

    def release(self) -> None:
        """Give the socket's place back (idempotent); call it when the socket closes."""
        if not self._released:
            self._released = True
            self._gate.leave(self.address)


class SocketGate:
    """Admission (open sockets per instance and per client address) and per-socket message rates.

    ``max_per_address`` 0 turns the per-address limit off (behind a proxy that is not trusted for
    ``X-Forwarded-For`` every client has the proxy's address).
    """

    def __init__(
        self, max_sockets: int, max_per_address: int, messages_per_s: int, audio_frames_per_s: int
    ) -> None:
        self.max_sockets, self.max_per_address = max_sockets, max_per_address
        self.open = 0
        self.by_address: Counter[str] = Counter()
        self.limiter = FixedWindowRateLimiter(MemoryStorage())
        self.text = RateLimitItemPerSecond(messages_per_s)
        self.audio = RateLimitItemPerSecond(audio_frames_per_s)
        self._ids = itertools.count(1)

    def admit(self, address: str | None) -> SocketQuota:
        """Take one socket's place; the caller must ``release`` the quota when the socket closes.

        Raises ProtocolError (4029, fatal, a "try again" message) when the instance or the address is full.
        """
        address = address or "unknown"
        if self.open >= self.max_sockets:
            raise ProtocolError(CloseCode.RATE_LIMITED, TOO_MANY_SOCKETS, fatal=True)
        if self.max_per_address and self.by_address[address] >= self.max_per_address:
            raise ProtocolError(CloseCode.RATE_LIMITED, TOO_MANY_FROM_ADDRESS, fatal=True)
        self.open += 1
        self.by_address[address] += 1
        return SocketQuota(self, str(next(self._ids)), address)

    def leave(self, address: str) -> None:
        self.open -= 1
        self.by_address[address] -= 1
        if self.by_address[address] <= 0:
            del self.by_address[address]
