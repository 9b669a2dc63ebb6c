"""Mutable per-question state of a session: the attempt being asked, and the answer being stored."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

__all__ = ["Attempt", "PendingAnswer"]

Stage = Literal["transcribing", "saving", "saved"]
FollowUpState = Literal["none", "requested", "done"]


@dataclass
class Attempt:
    """One asking of a question: from ``question.started`` until its answer ends (or is abandoned)."""

    question_id: str
    asked_at: float
    audio_started_at: float | None = None
    audio_done: bool = False  # the speech stream ended (finished, failed, interrupted or skipped)
    playback_deadline: float | None = None  # listen from then on even without playback.ended
    listening_at: float | None = None
    deadline: float | None = None  # the answer's time limit, as a clock time
    speech_at: float | None = None  # the first speech of the answer
    speaking: bool = False
    silence_since: float | None = None  # when the last speech stopped

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Attempt:
        return cls(**data)


@dataclass
class PendingAnswer:
    """An answer captured but not yet done with: transcribing, then saving, then (maybe) a follow-up."""

    question_id: str
    listening_at: float
    speech_at: float | None
    ended_at: float
    reason: str
    stage: Stage = "transcribing"
    text: str = ""
    confidence: float | None = None
    media_ref: str | None = None
    transcript_ok: bool = True
    transcript: dict[str, Any] | None = None
    final_seq: int | None = None  # seq of its transcript.final
    answer_id: str | None = None
    follow_up: FollowUpState = "none"
    follow_up_deadline: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PendingAnswer:
        return cls(**data)
