"""The HR monitor socket ``/ws/monitor/{interview_id}``: its client actions, its replies and the events it
relays beyond the room's own (scores, notes, the report).

The monitor speaks the same envelope and version rule as the room (``protocol/README.md``): the first
message is ``hello``; ``ping`` is answered by ``pong``; refused messages get ``error``. Every frame of the
interview's stream carries ``seq``: on the monitor socket that is the position in the interview's event
stream (1, 2, 3, ... with no gaps), which also holds events published outside the room (an answer's
scores, HR notes, the report). A monitor that reconnects with ``hello.last_seq`` gets exactly the frames
after it.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from protocol.messages import (
    MAX_MESSAGE_CHARS,
    PROTOCOL_VERSION,
    AnswerSaved,
    ClientJoined,
    ClientLeft,
    CloseCode,
    Hello,
    InterviewCompleted,
    Listening,
    Phase,
    PhaseChanged,
    Ping,
    ProtocolError,
    QuestionAdded,
    QuestionInfo,
    QuestionStarted,
    RequestId,
    RtcCandidate,
    RtcOffer,
    SessionEnded,
    SpeechStarted,
    SpeechStopped,
    Thinking,
    TranscriptFinal,
    TranscriptPartial,
    _Client,
    _describe,
    _request_id,
    _Sequenced,
    _Server,
)

__all__ = [
    "AnswerScored",
    "CandidateInfo",
    "ConnectionQuality",
    "MonitorAck",
    "MonitorClientMessage",
    "MonitorEnd",
    "MonitorFollowUp",
    "MonitorFrame",
    "MonitorNote",
    "MonitorState",
    "MonitorWelcome",
    "NoteAdded",
    "ReportReady",
    "ScoreValues",
    "parse_monitor_frame",
    "parse_monitor_message",
]

# --------------------------------------------------------------------------- monitor -> server


class MonitorFollowUp(_Client):
    """HR adds a question, asked right after the current one."""

    type: Literal["monitor.follow_up"] = "monitor.follow_up"
    text: Annotated[str, Field(min_length=5, max_length=1000)]


class MonitorNote(_Client):
    """A private note (never shown to the candidate), on ``question_id`` or else the current question."""

    type: Literal["monitor.note"] = "monitor.note"
    text: Annotated[str, Field(min_length=1, max_length=2000)]
    question_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None


class MonitorEnd(_Client):
    """HR ends the interview now; answers already stored (and one being stored) are kept."""

    type: Literal["monitor.end"] = "monitor.end"
    reason: Annotated[str, Field(max_length=200)] | None = None


MonitorClientMessage = Annotated[
    Hello | Ping | MonitorFollowUp | MonitorNote | MonitorEnd | RtcOffer | RtcCandidate,
    Field(discriminator="type"),
]

# --------------------------------------------------------------------------- server -> monitor


class CandidateInfo(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str


class MonitorState(BaseModel):
    """Where the interview stands when the monitor joins (the history replay follows)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    phase: Phase | None = Field(description="the live session's phase; null before it has started")
    status: str = Field(description="the interview's stored status (scheduled, in_progress, completed, ...)")
    live: bool = Field(description="a server instance holds the session now")
    candidate: CandidateInfo | None = None
    job_title: str | None = None
    question: QuestionInfo | None = Field(default=None, description="the current question")
    questions: list[QuestionInfo]
    answered: list[str] = Field(description="ids of the questions whose answers are stored")


class MonitorWelcome(_Server):
    """The reply to ``hello``; then the stream's frames after ``from_seq`` (history, then live)."""

    type: Literal["monitor.welcome"] = "monitor.welcome"
    id: RequestId | None = None
    interview_id: str
    protocol: str = PROTOCOL_VERSION
    from_seq: int = Field(ge=0, description="frames with a larger seq follow")
    state: MonitorState
    ice_servers: list[dict[str, Any]] = []


class MonitorAck(_Server):
    """An HR action was recorded (its effect shows in the stream: question.added, note.added, ...)."""

    type: Literal["monitor.ack"] = "monitor.ack"
    id: RequestId | None = None
    action: Literal["follow_up", "note", "end"]
    action_id: str
    question_id: str | None = None


class ScoreValues(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    accuracy: float
    communication: float
    behaviour: float
    overall: float


class AnswerScored(_Sequenced):
    """An answer's AI scores landed (0-100)."""

    type: Literal["answer.scored"] = "answer.scored"
    question_id: str
    answer_id: str
    scores: ScoreValues
    feedback: str
    provider: str


class NoteAdded(_Sequenced):
    """HR left a private note (monitors only)."""

    type: Literal["note.added"] = "note.added"
    note_id: str
    question_id: str | None = None
    text: str
    author_id: str
    author_name: str


class ConnectionQuality(_Sequenced):
    """The candidate's connection, measured by the instance holding the session: sent when the level
    changes, and at least every 30 s while media flows."""

    type: Literal["connection.quality"] = "connection.quality"
    level: Literal["good", "fair", "poor"]
    transport: Literal["webrtc", "pcm"]
    audio_ratio: float = Field(description="audio seconds received per second (1.0: nothing missing)")
    packet_loss: float | None = Field(default=None, description="fraction of RTP packets lost (WebRTC)")
    jitter_ms: float | None = Field(default=None, description="RTP interarrival jitter (WebRTC)")


class ReportReady(_Sequenced):
    """Every answer is scored and the interview is over: the report's headline (full report at the URL)."""

    type: Literal["report.ready"] = "report.ready"
    report_url: str
    decision: str
    scores: dict[str, float]


MonitorFrame = Annotated[
    PhaseChanged
    | ClientJoined
    | ClientLeft
    | QuestionAdded
    | QuestionStarted
    | Listening
    | SpeechStarted
    | SpeechStopped
    | TranscriptPartial
    | TranscriptFinal
    | Thinking
    | AnswerSaved
    | InterviewCompleted
    | SessionEnded
    | AnswerScored
    | NoteAdded
    | ConnectionQuality
    | ReportReady,
    Field(discriminator="type"),
]
"""A frame of the interview's stream as the monitor socket sends it."""

# --------------------------------------------------------------------------- parsing

_CLIENT: TypeAdapter[MonitorClientMessage] = TypeAdapter(MonitorClientMessage)
_FRAME: TypeAdapter[Any] = TypeAdapter(MonitorFrame)


def parse_monitor_message(text: str | bytes) -> MonitorClientMessage:
    """Parse a frame from a monitor client, or raise a non-fatal :class:`ProtocolError` (4000)."""
    if len(text) > MAX_MESSAGE_CHARS:
        raise ProtocolError(CloseCode.BAD_MESSAGE, f"message longer than {MAX_MESSAGE_CHARS} characters")
    try:
        return _CLIENT.validate_json(text)
    except ValidationError as exc:
        raise ProtocolError(CloseCode.BAD_MESSAGE, _describe(exc), request_id=_request_id(text)) from None


def parse_monitor_frame(data: dict[str, Any]) -> Any:
    """Validate a frame of the stream (for clients and tests); raises pydantic's ``ValidationError``."""
    return _FRAME.validate_python(data)
