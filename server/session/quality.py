"""How good the candidate's connection is, from what the shell measured (no I/O)."""

from __future__ import annotations

from typing import Literal

Level = Literal["good", "fair", "poor"]


def assess(audio_ratio: float, packet_loss: float | None, jitter_ms: float | None) -> Level:
    """``audio_ratio``: seconds of audio received per second of wall time (1.0 when nothing is missing);
    ``packet_loss``: fraction of RTP packets lost; ``jitter_ms``: RTP interarrival jitter (WebRTC only)."""
    loss, jitter = packet_loss or 0.0, jitter_ms or 0.0
    if audio_ratio < 0.5 or loss > 0.10 or jitter > 100:
        return "poor"
    if audio_ratio < 0.9 or loss > 0.02 or jitter > 30:
        return "fair"
    return "good"
