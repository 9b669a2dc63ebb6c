"""Connection quality: the levels, and when the room tells the monitors."""

from __future__ import annotations

from server.live.room import BYTES_PER_S, QualityWatch
from server.session.quality import assess


def test_levels_follow_missing_audio_loss_and_jitter() -> None:
    """Full audio with little loss and jitter is good; gaps, loss or jitter lower the level."""
    assert assess(1.0, 0.0, 5.0) == "good"
    assert assess(0.8, None, None) == "fair"
    assert assess(1.0, 0.05, 5.0) == "fair"
    assert assess(1.0, 0.0, 150.0) == "poor"
    assert assess(0.3, 0.0, 0.0) == "poor"


def test_the_watch_reports_changes_and_loss_between_measures() -> None:
    """The first measure is reported (loss so far); an unchanged level is not repeated; later, loss is the
    window's share."""
    watch = QualityWatch()
    watch.since -= 5
    watch.audio_bytes = 5 * BYTES_PER_S
    first = watch.measure("webrtc", (100, 0, 4.0))
    assert first is not None and first["level"] == "good" and first["packet_loss"] == 0
    watch.since -= 5
    watch.audio_bytes = 5 * BYTES_PER_S
    assert watch.measure("webrtc", (200, 0, 4.0)) is None, "same level: not repeated"
    watch.since -= 5
    watch.audio_bytes = 5 * BYTES_PER_S
    worse = watch.measure("webrtc", (280, 20, 4.0))
    assert worse is not None and worse["level"] == "poor" and worse["packet_loss"] == 0.2
