"""The live interview protocol: room-socket messages, monitor events, codes and the version rule.

Every JSON message is an object whose ``type`` is a dotted name (``question.started``). Client messages may
carry ``id``, a request id echoed in the reply or error it causes. Server messages that belong to the
session's stream carry ``seq``, the per-session sequence number (strictly increasing, shared with the events
published for monitors). ``protocol/README.md`` is the readable spec; ``protocol/schema.json`` is generated
from these models by ``scripts/gen-protocol-schema``.

Nothing here does I/O: :func:`parse_client_message` turns text into a typed message or raises
:class:`ProtocolError`, and :func:`encode` turns a server message into text.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

__all__ = [
    "AUDIO_CHANNELS",
    "AUDIO_FORMAT",
    "AUDIO_SAMPLE_RATE",
    "HELLO_TIMEOUT_S",
    "MAX_MESSAGE_CHARS",
    "PROTOCOL",
    "PROTOCOL_VERSION",
    "AnswerDone",
    "AnswerSaved",
    "ClientInfo",
    "ClientJoined",
    "ClientLeft",
    "ClientMessage",
    "CloseCode",
    "EndReason",
    "ErrorMessage",
    "Hello",
    "IceServer",
    "InterviewCompleted",
    "Listening",
    "MonitorEvent",
    "Phase",
    "PhaseChanged",
    "Ping",
    "PlaybackEnded",
    "Pong",
    "ProtocolError",
    "ProtocolVersion",
    "QuestionAdded",
    "QuestionAudioEnd",
    "QuestionAudioStart",
    "QuestionInfo",
    "QuestionStarted",
    "RtcAnswer",
    "RtcCandidate",
    "RtcOffer",
    "ServerMessage",
    "ServerRtcCandidate",
    "SessionEnd",
    "SessionEnded",
    "SessionMoved",
    "SessionSettings",
    "SessionState",
    "SettingsUpdate",
    "SpeechStarted",
    "SpeechStopped",
    "Thinking",
    "TranscriptFinal",
    "TranscriptPartial",
    "Welcome",
    "check_version",
    "encode",
    "parse_client_message",
    "parse_hello",
    "parse_monitor_event",
    "parse_server_message",
]

PROTOCOL_VERSION = "1.0"
"""The version this server speaks; see :class:`ProtocolVersion` for the compatibility rule."""

MAX_MESSAGE_CHARS = 64 * 1024
"""A text message longer than this is refused (4000) before it is parsed."""

HELLO_TIMEOUT_S = 10.0
"""A socket that has not sent ``hello`` this long after opening is closed with 4008."""

AUDIO_SAMPLE_RATE = 16_000
"""Sample rate of the candidate's audio when the client streams PCM over the socket instead of WebRTC."""

AUDIO_FORMAT: Literal["pcm_s16le"] = "pcm_s16le"
AUDIO_CHANNELS: Literal[1] = 1


class CloseCode(enum.IntEnum):
    """Every error code and close code of the room and monitor sockets.

    ``NORMAL`` is the standard WebSocket normal closure (the interview completed or ended); every
    Viva-specific code is in 4000-4999, mirroring the HTTP status it resembles.
    """

    NORMAL = 1000
    BAD_MESSAGE = 4000  # invalid JSON, unknown type, missing or malformed field, message too large
    UNAUTHORIZED = 4001  # hello missing, or its token invalid or expired
    FORBIDDEN = 4003  # not this candidate's interview, or the interview is not open (ended, cancelled)
    NOT_FOUND = 4004  # no such interview, or a question id that is not in it
    TIMEOUT = 4008  # no hello in time, heartbeat lost, media never connected
    REPLACED = 4009  # a newer connection joined the same session
    UNSUPPORTED_VERSION = 4010  # hello.protocol has another major version
    INVALID_PHASE = 4012  # a valid message that the session does not accept in its current phase
    MOVED = 4307  # another server instance holds the session: reconnect there (``session.moved``)
    RATE_LIMITED = 4029  # too many messages, or too many live sessions
    INTERNAL = 4500  # the server failed (the message never says how)


class ProtocolError(Exception):
    """A message the server refuses: becomes an ``error`` reply, and a close when ``fatal``.

    ``message`` is written for the client; it never contains a stack trace or the offending input.
    """

    def __init__(
        self, code: CloseCode, message: str, *, request_id: str | None = None, fatal: bool = False
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id
        self.fatal = fatal

    def to_message(self) -> ErrorMessage:
        """The ``error`` reply for this refusal."""
        return ErrorMessage(code=int(self.code), message=self.message, id=self.request_id)


_VERSION_PATTERN = r"^(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})$"
_VERSION_RE = re.compile(_VERSION_PATTERN)


@dataclass(frozen=True, order=True)
class ProtocolVersion:
    """``MAJOR.MINOR``. Same major: compatible (a minor adds optional fields and message types, which
    receivers ignore or answer with 4000). Different major: the server closes with 4010."""

    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> ProtocolVersion:
        """Parse ``"1.0"``; anything else raises a fatal :class:`ProtocolError` (4000)."""
        match = _VERSION_RE.match(text)
        if match is None:
            raise ProtocolError(CloseCode.BAD_MESSAGE, "protocol must look like '1.0'", fatal=True)
        return cls(int(match.group(1)), int(match.group(2)))

    def compatible_with(self, other: ProtocolVersion) -> bool:
        return self.major == other.major

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


PROTOCOL = ProtocolVersion.parse(PROTOCOL_VERSION)


def check_version(text: str, request_id: str | None = None) -> ProtocolVersion:
    """Return the client's version if compatible with :data:`PROTOCOL`, else raise a fatal 4010."""
    version = ProtocolVersion.parse(text)
    if not version.compatible_with(PROTOCOL):
        raise ProtocolError(
            CloseCode.UNSUPPORTED_VERSION,
            f"protocol {version} is not supported; this server speaks {PROTOCOL}",
            request_id=request_id,
            fatal=True,
        )
    return version


class Phase(enum.StrEnum):
    """Where a live session is; see the phase diagram in ``protocol/README.md``."""

    lobby = "lobby"  # no client joined (not started yet, or the client left / the server restarted)
    media_connecting = "media_connecting"  # joined; waiting for the candidate's audio to flow
    asking = "asking"  # the question is shown and its speech is playing
    listening = "listening"  # recording the answer; waiting for its end
    thinking = "thinking"  # answer captured; transcribing and storing it (and maybe a follow-up)
    completed = "completed"  # every question answered (terminal)
    ended = "ended"  # stopped early by the candidate or HR (terminal)


EndReason = Literal["silence", "answer_done", "time_limit"]
"""Why an answer ended: the silence after speech, the client's ``answer.done``, or the time limit."""

RequestId = Annotated[str, Field(min_length=1, max_length=64)]
QuestionId = Annotated[str, Field(min_length=1, max_length=64)]
Seq = Annotated[int, Field(ge=1)]


def _type_required(schema: dict[str, Any]) -> None:
    """JSON Schema: ``type`` is required on the wire, though the models fill it in for Python callers."""
    schema["required"] = ["type", *(name for name in schema.get("required", []) if name != "type")]
    schema["properties"]["type"].pop("default", None)


# --------------------------------------------------------------------------- client -> server


class _Client(BaseModel):
    """Client messages: unknown fields are ignored (a newer minor version may add some)."""

    model_config = ConfigDict(frozen=True, extra="ignore", strict=True, json_schema_extra=_type_required)

    type: str
    id: RequestId | None = None


class ClientInfo(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", strict=True)

    ua: Annotated[str, Field(max_length=512)] | None = None


class Hello(_Client):
    """The first message on a socket: who the client is and which protocol it speaks."""

    type: Literal["hello"] = "hello"
    token: Annotated[str, Field(min_length=1, max_length=4096, repr=False)]
    protocol: Annotated[str, Field(pattern=_VERSION_PATTERN, examples=["1.0"])]
    resume: bool = False
    last_seq: Annotated[int, Field(ge=0)] | None = None
    client: ClientInfo = ClientInfo()


class Ping(_Client):
    type: Literal["ping"] = "ping"


class PlaybackEnded(_Client):
    """The client finished playing (or skipped) the question's speech."""

    type: Literal["playback.ended"] = "playback.ended"
    question_id: QuestionId


class AnswerDone(_Client):
    """The candidate says the answer is complete."""

    type: Literal["answer.done"] = "answer.done"
    question_id: QuestionId


class RtcOffer(_Client):
    type: Literal["rtc.offer"] = "rtc.offer"
    sdp: Annotated[str, Field(min_length=1)]


class RtcCandidate(_Client):
    """A trickled ICE candidate (``candidate: ""`` marks the end of candidates)."""

    type: Literal["rtc.candidate"] = "rtc.candidate"
    candidate: str
    sdpMid: str | None = None
    sdpMLineIndex: Annotated[int, Field(ge=0)] | None = None


class SessionEnd(_Client):
    """The candidate leaves the interview for good (it ends; answers already saved are kept)."""

    type: Literal["session.end"] = "session.end"
    reason: Annotated[str, Field(max_length=200)] | None = None


class SettingsUpdate(_Client):
    """Change a client-controlled setting; omitted fields keep their value."""

    type: Literal["settings.update"] = "settings.update"
    barge_in: bool | None = None


ClientMessage = Annotated[
    Hello | Ping | PlaybackEnded | AnswerDone | RtcOffer | RtcCandidate | SessionEnd | SettingsUpdate,
    Field(discriminator="type"),
]


# --------------------------------------------------------------------------- server -> client


class _Server(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra=_type_required)

    type: str


class _Sequenced(_Server):
    """A message of the session's stream: ``seq`` orders it among every message and monitor event."""

    seq: Seq


class IceServer(BaseModel):
    """One entry of ``RTCConfiguration.iceServers`` (empty list by default: host candidates only)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    urls: str | list[str]
    username: str | None = None
    credential: str | None = None


class SessionSettings(BaseModel):
    """What the client needs to know about the session's behaviour."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    silence_ms: int = Field(description="silence after speech that ends an answer")
    max_answer_s: float = Field(description="upper bound of any question's answer time")
    barge_in: bool = Field(description="speech while a question plays interrupts it (else: ignored)")
    heartbeat_s: float = Field(description="the server drops a client it has not heard from this long")
    sample_rate: int = Field(default=AUDIO_SAMPLE_RATE, description="PCM the client streams (no WebRTC)")
    ice_servers: list[IceServer] = []


class QuestionInfo(BaseModel):
    """A question as the client shows it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    question_id: QuestionId
    number: Annotated[int, Field(ge=1, description="1-based position, follow-ups included")]
    total: Annotated[int, Field(ge=1, description="questions in the interview so far")]
    text: str
    category: str
    expected_minutes: Annotated[int, Field(ge=1)]
    is_follow_up: bool = False
    follow_up_of: QuestionId | None = None


class SessionState(BaseModel):
    """Where the interview stands, so a (re)joining client can draw its screen at once."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    question: QuestionInfo | None = Field(default=None, description="the current question, if one is left")
    answered: list[str] = Field(description="ids of the questions whose answers are stored")
    total: int


class Welcome(_Sequenced):
    """The reply to ``hello``: the session joined, its phase, settings and state."""

    type: Literal["welcome"] = "welcome"
    id: RequestId | None = None
    session_id: str
    interview_id: str
    protocol: str = PROTOCOL_VERSION
    phase: Phase
    resumed: bool = Field(description="the interview had already started before this hello")
    config: SessionSettings
    state: SessionState


class QuestionStarted(QuestionInfo, _Sequenced):
    """A question begins (also again after a resume): show it; its speech follows."""

    type: Literal["question.started"] = "question.started"


class QuestionAudioStart(_Sequenced):
    """Binary frames that follow, until ``question.audio.end``, are this question's speech."""

    type: Literal["question.audio.start"] = "question.audio.start"
    question_id: QuestionId
    sample_rate: Annotated[int, Field(ge=8000, le=48000)]
    format: Literal["pcm_s16le"] = AUDIO_FORMAT
    channels: Literal[1] = AUDIO_CHANNELS


class QuestionAudioEnd(_Sequenced):
    """No more audio for this question: ``ok`` false when none could be made, ``interrupted`` on barge-in."""

    type: Literal["question.audio.end"] = "question.audio.end"
    question_id: QuestionId
    ok: bool = True
    interrupted: bool = False


class Listening(_Sequenced):
    """The server records the answer; it ends on silence, ``answer.done`` or after ``deadline_s``."""

    type: Literal["listening"] = "listening"
    question_id: QuestionId
    deadline_s: float


class SpeechStarted(_Sequenced):
    type: Literal["speech.started"] = "speech.started"
    question_id: QuestionId


class SpeechStopped(_Sequenced):
    type: Literal["speech.stopped"] = "speech.stopped"
    question_id: QuestionId


class TranscriptPartial(_Sequenced):
    type: Literal["transcript.partial"] = "transcript.partial"
    question_id: QuestionId
    text: str


class TranscriptFinal(_Sequenced):
    type: Literal["transcript.final"] = "transcript.final"
    question_id: QuestionId
    text: str
    confidence: Annotated[float, Field(ge=0, le=1)] | None = None


class Thinking(_Sequenced):
    """The answer ended (``reason`` says why); it is being transcribed and stored."""

    type: Literal["thinking"] = "thinking"
    question_id: QuestionId
    reason: EndReason


class AnswerSaved(_Sequenced):
    """The answer is stored in the database (never sent before)."""

    type: Literal["answer.saved"] = "answer.saved"
    question_id: QuestionId
    answer_id: str


class InterviewCompleted(_Sequenced):
    """Every question is answered; the server then closes with 1000."""

    type: Literal["interview.completed"] = "interview.completed"
    report_url: str
    answered: int
    total: int


class SessionEnded(_Sequenced):
    """The interview stopped early; the server then closes with 1000."""

    type: Literal["session.ended"] = "session.ended"
    reason: Literal["candidate_left", "terminated"]


class SessionMoved(_Server):
    """Another server instance holds this session: reconnect to ``url`` (when known) or retry here after
    ``retry_after_s``. Close 4307 follows."""

    type: Literal["session.moved"] = "session.moved"
    id: RequestId | None = None
    url: str | None = None
    retry_after_s: float = 1.0


class Pong(_Server):
    type: Literal["pong"] = "pong"
    id: RequestId | None = None


class ErrorMessage(_Server):
    """A refused message (``id`` echoes its request id); a close follows when the error is fatal."""

    type: Literal["error"] = "error"
    id: RequestId | None = None
    code: int
    message: str


class RtcAnswer(_Server):
    type: Literal["rtc.answer"] = "rtc.answer"
    id: RequestId | None = None
    sdp: str


class ServerRtcCandidate(_Server):
    type: Literal["rtc.candidate"] = "rtc.candidate"
    candidate: str
    sdpMid: str | None = None
    sdpMLineIndex: Annotated[int, Field(ge=0)] | None = None


ServerMessage = Annotated[
    Welcome
    | QuestionStarted
    | QuestionAudioStart
    | QuestionAudioEnd
    | Listening
    | SpeechStarted
    | SpeechStopped
    | TranscriptPartial
    | TranscriptFinal
    | Thinking
    | AnswerSaved
    | InterviewCompleted
    | SessionEnded
    | SessionMoved
    | Pong
    | ErrorMessage
    | RtcAnswer
    | ServerRtcCandidate,
    Field(discriminator="type"),
]


# --------------------------------------------------------------------------- monitor events


class PhaseChanged(_Sequenced):
    type: Literal["phase.changed"] = "phase.changed"
    phase: Phase
    previous: Phase


class ClientJoined(_Sequenced):
    type: Literal["client.joined"] = "client.joined"
    resumed: bool


class ClientLeft(_Sequenced):
    """The candidate's connection closed (``code`` when the server closed it)."""

    type: Literal["client.left"] = "client.left"
    code: int | None = None
    reason: str


class QuestionAdded(QuestionInfo, _Sequenced):
    """A question was inserted after the current one: an AI follow-up or one added by HR."""

    type: Literal["question.added"] = "question.added"
    source: Literal["ai", "hr"]
    added_by: str | None = Field(default=None, description="the HR user who added it (source hr)")


MonitorEvent = Annotated[
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
    | SessionEnded,
    Field(discriminator="type"),
]
"""What the session publishes on the EventBus for the HR monitor (each with its session ``seq``)."""


# --------------------------------------------------------------------------- parsing and encoding

_CLIENT: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)
_SERVER: TypeAdapter[ServerMessage] = TypeAdapter(ServerMessage)
_MONITOR: TypeAdapter[MonitorEvent] = TypeAdapter(MonitorEvent)


def parse_client_message(text: str | bytes) -> ClientMessage:
    """Parse one text frame from a client, or raise a non-fatal :class:`ProtocolError` (4000).

    The error's ``request_id`` is the message's ``id`` when the frame was a JSON object carrying one.
    """
    if len(text) > MAX_MESSAGE_CHARS:
        raise ProtocolError(CloseCode.BAD_MESSAGE, f"message longer than {MAX_MESSAGE_CHARS} characters")
    try:
        return _CLIENT.validate_json(text)
    except ValidationError as exc:
        raise ProtocolError(CloseCode.BAD_MESSAGE, _describe(exc), request_id=_request_id(text)) from None


def parse_hello(text: str | bytes) -> Hello:
    """Parse the first frame of a socket: a ``hello`` with a compatible version, else a fatal error.

    4000 when the frame is malformed, 4001 when it is another message, 4010 for another major version.
    """
    try:
        message = parse_client_message(text)
    except ProtocolError as exc:
        exc.fatal = True
        tokenless = _tokenless_hello(text)
        if tokenless is not None:
            raise ProtocolError(
                CloseCode.UNAUTHORIZED, "hello needs a token", request_id=tokenless or None, fatal=True
            ) from exc
        raise
    if not isinstance(message, Hello):
        raise ProtocolError(
            CloseCode.UNAUTHORIZED, "the first message must be hello", request_id=message.id, fatal=True
        )
    check_version(message.protocol, message.id)
    return message


def _tokenless_hello(text: str | bytes) -> str | None:
    """For a JSON ``hello`` whose token is missing or empty (4001 in the code table, not a malformed 4000):
    its request id, or "" without one. None for any other frame."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # a frame nested too deep for the parser is no hello either
        return None
    if not isinstance(data, dict) or data.get("type") != "hello" or data.get("token"):
        return None
    request_id = data.get("id")
    return request_id if isinstance(request_id, str) and len(request_id) <= 64 else ""


def parse_server_message(text: str | bytes) -> ServerMessage:
    """Parse a server message (for clients and tests); raises pydantic's ``ValidationError``."""
    return _SERVER.validate_json(text)


def parse_monitor_event(data: str | bytes | dict[str, Any]) -> MonitorEvent:
    """Parse a published event (text or the dict read from the EventBus); raises ``ValidationError``."""
    if isinstance(data, dict):
        return _MONITOR.validate_python(data)
    return _MONITOR.validate_json(data)


def encode(message: BaseModel) -> str:
    """The text frame for a server message or event (fields left at ``None`` are omitted)."""
    return message.model_dump_json(exclude_none=True)


def _describe(exc: ValidationError) -> str:
    """A short, input-free description of the first validation error."""
    error = exc.errors(include_url=False, include_input=False, include_context=False)[0]
    kind = error["type"]
    if kind == "json_invalid":
        return "invalid JSON"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "a message must be a JSON object"
    if kind == "union_tag_not_found":
        return "missing 'type'"
    if kind == "union_tag_invalid":
        return "unknown message type"
    location = ".".join(str(part) for part in error["loc"][1:])
    return f"{location}: {error['msg']}" if location else str(error["msg"])


def _request_id(text: str | bytes) -> str | None:
    """The ``id`` of a frame that failed validation, when it is a JSON object with a short string id."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # deeply nested arrays/objects exhaust json's recursion limit
        return None
    value = data.get("id") if isinstance(data, dict) else None
    return value if isinstance(value, str) and 0 < len(value) <= 64 else None
