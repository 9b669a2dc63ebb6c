"""Effects: the work an :class:`~server.session.machine.InterviewSession` asks its shell to do.

The shell runs each effect in order after sending the drained messages, and reports the outcome through
the input named in the effect's docstring. Effects are plain data; :meth:`as_dict` is their JSON form
(used by the example conversations in ``protocol/examples``).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from protocol.messages import MonitorEvent
from server.session.model import Question

__all__ = [
    "AddIceCandidate",
    "Close",
    "CompleteInterview",
    "Effect",
    "EndInterview",
    "NegotiateMedia",
    "Publish",
    "SaveAnswer",
    "SaveSnapshot",
    "ScoreAnswer",
    "SpeakQuestion",
    "StartRecording",
    "StopRecording",
    "StopSpeaking",
    "SuggestFollowUp",
    "Transcribe",
]


@dataclass(frozen=True, slots=True)
class _Effect:
    @property
    def name(self) -> str:
        """The effect's name in JSON: its class name in snake case (``speak_question``)."""
        return re.sub(r"(?<!^)(?=[A-Z])", "_", type(self).__name__).lower()

    def as_dict(self) -> dict[str, Any]:
        """``{"effect": name, **fields}`` with JSON values."""
        data: dict[str, Any] = {"effect": self.name}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            data[field.name] = value.model_dump(mode="json") if isinstance(value, BaseModel) else value
        return data


@dataclass(frozen=True, slots=True)
class SpeakQuestion(_Effect):
    """Stream the question's speech to the session's connection as binary frames.

    Call ``audio_started(question_id, sample_rate)`` before the first frame (it queues
    ``question.audio.start``; send it before the frames), then ``audio_finished(question_id, duration_s)``
    after the last one, or ``audio_failed(question_id)`` if no speech could be made. Stop at once on
    :class:`StopSpeaking` for the same question (and then report nothing).
    """

    question: Question


@dataclass(frozen=True, slots=True)
class StopSpeaking(_Effect):
    """Cancel the question's speech stream (barge-in, skip, disconnect); send no further frames."""

    question_id: str


@dataclass(frozen=True, slots=True)
class StartRecording(_Effect):
    """Record the candidate's audio (and video) for this answer and feed VAD and partial transcripts.

    Include the pipeline's pre-roll (about 0.5 s) so the speech that triggered VAD is not clipped. Report
    ``speech_started`` / ``speech_stopped`` and ``transcript_partial(question_id, text)`` while recording.
    """

    question_id: str


@dataclass(frozen=True, slots=True)
class StopRecording(_Effect):
    """Stop recording; ``keep`` false means the attempt was abandoned: discard what was recorded."""

    question_id: str
    keep: bool


@dataclass(frozen=True, slots=True)
class Transcribe(_Effect):
    """Transcribe the recording just stopped (with ``keep``), then report
    ``transcript_final(question_id, text, confidence, media_ref, transcript)`` or
    ``transcript_failed(question_id, media_ref)``."""

    question_id: str


@dataclass(frozen=True, slots=True)
class SaveAnswer(_Effect):
    """Store the answer (insert, or replace the one answer a question may have), then report
    ``answer_saved(question_id, answer_id)`` or ``save_failed(question_id)``.

    Times are the session clock's (epoch seconds by default). ``transcript_ok`` false: transcription
    failed and ``text`` is empty; the media can be processed again later.
    """

    question_id: str
    text: str
    confidence: float | None
    media_ref: str | None
    transcript_ok: bool
    listening_at: float
    speech_at: float | None
    ended_at: float
    end_reason: str
    transcript: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ScoreAnswer(_Effect):
    """Score the stored answer in the background (nothing to report back to the session)."""

    answer_id: str
    question_id: str


@dataclass(frozen=True, slots=True)
class SuggestFollowUp(_Effect):
    """Ask the AI engine for a follow-up to a thin answer; store it as a question (source ``follow_up``),
    then report ``follow_up_ready(question_id, question)`` with it, or with ``None`` when there is none."""

    question_id: str
    question_text: str
    answer_text: str


@dataclass(frozen=True, slots=True)
class NegotiateMedia(_Effect):
    """Answer the client's WebRTC offer on this connection's peer; report ``rtc_answer(connection, sdp,
    request_id)`` or ``rtc_failed(connection, request_id)``, then ``media_connected(connection)`` when the
    candidate's audio flows. Server ICE candidates go out with ``rtc_candidate(...)``."""

    connection: int
    sdp: str
    request_id: str | None


@dataclass(frozen=True, slots=True)
class AddIceCandidate(_Effect):
    """Give the client's trickled ICE candidate to this connection's peer."""

    connection: int
    candidate: str
    sdp_mid: str | None
    sdp_mline_index: int | None


@dataclass(frozen=True, slots=True)
class Publish(_Effect):
    """Publish the event on the session's EventBus channel (``event.seq`` is the session's number)."""

    event: MonitorEvent
    at: float

    def as_dict(self) -> dict[str, Any]:
        """The event without the publication time (the examples ignore timestamps)."""
        return {"effect": self.name, "event": self.event.model_dump(mode="json", exclude_none=True)}


@dataclass(frozen=True, slots=True)
class CompleteInterview(_Effect):
    """Every question is answered: mark the interview completed and start its report."""


@dataclass(frozen=True, slots=True)
class EndInterview(_Effect):
    """The interview stopped early (``candidate_left`` or ``terminated``); saved answers are kept."""

    reason: str


@dataclass(frozen=True, slots=True)
class Close(_Effect):
    """Close that connection's socket with the code (after sending its drained messages); tear down its
    peer. Report ``disconnected(connection)`` as usual when it is closed."""

    connection: int
    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class SaveSnapshot(_Effect):
    """Write the snapshot to the SessionStore (the latest one wins; do not mutate it).

    ``before_messages``: the snapshot records something the queued messages acknowledge (a stored answer,
    the end of the interview): write it before sending them. Otherwise it may follow them.
    """

    snapshot: dict[str, Any]
    before_messages: bool = False

    def as_dict(self) -> dict[str, Any]:
        """A summary: the phase and sequence number the snapshot records."""
        return {"effect": self.name, "phase": self.snapshot["phase"], "seq": self.snapshot["seq"]}


Effect = (
    SpeakQuestion
    | StopSpeaking
    | StartRecording
    | StopRecording
    | Transcribe
    | SaveAnswer
    | ScoreAnswer
    | SuggestFollowUp
    | NegotiateMedia
    | AddIceCandidate
    | Publish
    | CompleteInterview
    | EndInterview
    | Close
    | SaveSnapshot
)
