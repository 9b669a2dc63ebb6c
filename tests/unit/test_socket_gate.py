"""SocketGate: admission per instance and per address, and each socket's message budget."""

from __future__ import annotations

import pytest

from protocol.messages import CloseCode, ProtocolError
from server.live.limits import SocketGate


def test_admission_counts_per_instance_and_per_address() -> None:
    """The per-address limit refuses a third socket from one address while another address gets in; the
    instance limit refuses everyone; a released place is free again."""
    gate = SocketGate(max_sockets=3, max_per_address=2, messages_per_s=5, audio_frames_per_s=50)
    first, second = gate.admit("10.0.0.1"), gate.admit("10.0.0.1")
    with pytest.raises(ProtocolError) as refused:
        gate.admit("10.0.0.1")
    assert refused.value.code == CloseCode.RATE_LIMITED and "try again" in refused.value.message
    other = gate.admit("10.0.0.2")
    with pytest.raises(ProtocolError, match="too many connections to this server|this server has too many"):
        gate.admit("10.0.0.3")
    first.release()
    first.release()  # idempotent
    assert gate.open == 2 and gate.by_address["10.0.0.1"] == 1
    gate.admit("10.0.0.1")
    second.release()
    other.release()


def test_unlimited_per_address_when_zero() -> None:
    gate = SocketGate(max_sockets=10, max_per_address=0, messages_per_s=5, audio_frames_per_s=50)
    quotas = [gate.admit("127.0.0.1") for _ in range(10)]
    assert gate.open == 10
    for quota in quotas:
        quota.release()
    assert gate.open == 0 and not gate.by_address


async def test_messages_beyond_the_rate_are_refused() -> None:
    """Text messages and audio frames have separate budgets per socket and per second."""
    gate = SocketGate(max_sockets=10, max_per_address=0, messages_per_s=5, audio_frames_per_s=50)
    quota, neighbour = gate.admit("a"), gate.admit("a")
    assert [await quota.allow() for _ in range(6)] == [True] * 5 + [False]
    assert all([await quota.allow(binary=True) for _ in range(50)])
    assert await neighbour.allow()
    assert quota.refusal().code == CloseCode.RATE_LIMITED and quota.refusal().fatal
