"""``InterviewSession``: the live interview as a sans-I/O state machine.

Inputs are method calls (client messages, media and VAD events, transcripts, storage results, clock ticks);
outputs are queued: messages for the client's connection (:meth:`InterviewSession.drain_messages`) and
effects for the shell (:meth:`InterviewSession.drain_effects`). Nothing here awaits, sleeps, opens a socket
or reads a file, so the whole interview can be driven and checked from a test, line by line.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Concatenate, Literal, ParamSpec, TypeVar

from pydantic import ValidationError

from protocol.messages import (
    AnswerDone,
    AnswerSaved,
    ClientJoined,
    ClientLeft,
    ClientMessage,
    CloseCode,
    EndReason,
    ErrorMessage,
    Hello,
    InterviewCompleted,
    Listening,
    MonitorEvent,
    Phase,
    PhaseChanged,
    Ping,
    PlaybackEnded,
    Pong,
    ProtocolError,
    QuestionAdded,
    QuestionAudioEnd,
    QuestionAudioStart,
    QuestionInfo,
    QuestionStarted,
    RtcAnswer,
    RtcCandidate,
    RtcOffer,
    ServerMessage,
    ServerRtcCandidate,
    SessionEnd,
    SessionEnded,
    SessionState,
    SettingsUpdate,
    SpeechStarted,
    SpeechStopped,
    Thinking,
    TranscriptFinal,
    TranscriptPartial,
    Welcome,
    check_version,
    encode,
    parse_client_message,
)
from server.session.effects import (
    AddIceCandidate,
    Close,
    CompleteInterview,
    Effect,
    EndInterview,
    NegotiateMedia,
    Publish,
    SaveAnswer,
    SaveSnapshot,
    ScoreAnswer,
    SpeakQuestion,
    StartRecording,
    StopRecording,
    StopSpeaking,
    SuggestFollowUp,
    Transcribe,
)
from server.session.model import Question, SessionConfig
from server.session.state import Attempt, PendingAnswer

__all__ = ["RESTORE_SEQ_GAP", "SNAPSHOT_FORMAT", "InterviewSession", "InvalidPhase", "Outgoing"]

logger = logging.getLogger(__name__)

SNAPSHOT_FORMAT = "viva.session/1"
RESTORE_SEQ_GAP = 1000
"""After a restore ``seq`` jumps by this much, so a number sent by a process that died before its last
snapshot was written is never used twice."""

_EPSILON_S = 1e-6  # clock comparisons tolerate float rounding (2.0 s of silence is 1.9999999 s)
_TERMINAL = (Phase.completed, Phase.ended)
_ATTEMPT_PHASES = (Phase.asking, Phase.listening)

P = ParamSpec("P")
R = TypeVar("R")


class InvalidPhase(ProtocolError):
    """An input the session does not accept in its current phase (code 4012; not fatal for a client)."""

    def __init__(self, phase: Phase, what: str, request_id: str | None = None) -> None:
        super().__init__(
            CloseCode.INVALID_PHASE, f"{what} is not accepted in phase {phase}", request_id=request_id
        )
        self.phase = phase


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message for one connection; send ``text`` as a text frame."""

    connection: int
    message: ServerMessage

    @property
    def text(self) -> str:
        return encode(self.message)


def _input(
    method: Callable[Concatenate[InterviewSession, P], R],
) -> Callable[Concatenate[InterviewSession, P], R]:
    """Mark a public input: when it returns (or raises), queue a SaveSnapshot if the snapshot changed."""

    @functools.wraps(method)
    def run(self: InterviewSession, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        finally:
            self._persist_if_changed()

    return run


class InterviewSession:
    """One live interview: feed it inputs, then drain its messages and effects.

    The shell's loop, for every input (including :meth:`restore`): call the input, send every
    :meth:`drain_messages` item to its connection, then run every :meth:`drain_effects` item in order.
    Call inputs from one thread (one event loop); none of them blocks.

    Inputs that report the shell's work (``audio_*``, ``transcript_*``, ``answer_saved``...) refer to a
    question id; a report about a question the session has moved past is ignored, while one that breaks
    the effect's contract (a second ``answer_saved``) raises :class:`InvalidPhase`.
    """

    def __init__(
        self,
        *,
        session_id: str,
        interview_id: str,
        questions: Sequence[Question],
        report_url: str,
        config: SessionConfig | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``questions`` in the order they are asked; ``clock`` gives seconds (epoch, so that times in
        snapshots and :class:`SaveAnswer` survive a restart). Raises ValueError for no or duplicate ids."""
        ids = [question.id for question in questions]
        if not ids or len(set(ids)) != len(ids):
            raise ValueError("a session needs at least one question, with distinct ids")
        self.session_id = session_id
        self.interview_id = interview_id
        self.report_url = report_url
        self.config = config or SessionConfig()
        self._clock = clock
        self._questions = list(questions)
        self._index = 0
        self._phase = Phase.lobby
        self._seq = 0
        self._answered: dict[str, str] = {}
        self._follow_ups_used = 0
        self._barge_in = self.config.barge_in
        self._attempt: Attempt | None = None
        self._pending: PendingAnswer | None = None
        self._background: PendingAnswer | None = None  # an earlier answer still being stored (advance_early)
        self._started_at: float | None = None
        self._finished_at: float | None = None
        self._media_wait_since = 0.0
        self._connections = 0
        self._connection: int | None = None
        self._media = False
        self._last_heard = 0.0
        self._messages: list[Outgoing] = []
        self._effects: list[Effect] = []
        self._persisted: dict[str, Any] | None = None

    # ------------------------------------------------------------------ reading

    @property
    def phase(self) -> Phase:
        return self._phase

    @property
    def seq(self) -> int:
        """The last sequence number given to a message or event."""
        return self._seq

    @property
    def connection(self) -> int | None:
        """The id of the connection that receives messages, if a client is joined."""
        return self._connection

    @property
    def questions(self) -> tuple[Question, ...]:
        return tuple(self._questions)

    @property
    def current(self) -> Question | None:
        """The question being asked or answered now (or next, between questions); None when none is left."""
        return self._questions[self._index] if self._index < len(self._questions) else None

    @property
    def answered(self) -> dict[str, str]:
        """Question id -> answer id of every stored answer."""
        return dict(self._answered)

    def drain_messages(self) -> list[Outgoing]:
        """Take the queued messages, oldest first (send them before running the effects)."""
        messages, self._messages = self._messages, []
        return messages

    def drain_effects(self) -> list[Effect]:
        """Take the queued effects, in the order they must run."""
        effects, self._effects = self._effects, []
        return effects

    # ------------------------------------------------------------------ inputs: the client

    @_input
    def join(self, hello: Hello) -> int:
        """A socket said ``hello`` and the shell authenticated its token: return its connection id.

        Pass that id with every later input about this socket. A previously joined connection is closed
        (4009). A different major version (4010) or an ended interview (4003) closes the new one instead.
        """
        self._connections += 1
        connection = self._connections
        try:
            check_version(hello.protocol, hello.id)
            if self._phase is Phase.ended:
                raise ProtocolError(CloseCode.FORBIDDEN, "this interview has ended", fatal=True)
        except ProtocolError as exc:
            self._fail(connection, exc)
            return connection
        if self._connection is not None:
            self._close(self._connection, CloseCode.REPLACED, "replaced by a newer connection")
        self._attach(connection)
        self._send(self._welcome(hello), connection)
        self._resync(hello)
        return connection

    @_input
    def receive_text(self, connection: int, text: str | bytes) -> None:
        """A text frame from a joined socket. Never raises for the client's mistakes: a refused message
        queues an ``error`` (with its request id), and a close when the error is fatal."""
        if connection != self._connection:
            logger.debug("session %s: frame from stale connection %s ignored", self.session_id, connection)
            return
        self._last_heard = self._clock()
        try:
            self._receive(connection, parse_client_message(text))
        except ProtocolError as exc:
            self._fail(connection, exc)

    @_input
    def receive(self, connection: int, message: ClientMessage) -> None:
        """A parsed message from a joined socket; raises :class:`InvalidPhase` / :class:`ProtocolError`
        when it is refused (:meth:`receive_text` turns those into ``error`` replies)."""
        if connection == self._connection:
            self._last_heard = self._clock()
            self._receive(connection, message)

    def _receive(self, connection: int, message: ClientMessage) -> None:
        match message:
            case Ping():
                self._send(Pong(id=message.id))
            case PlaybackEnded():
                self._on_playback_ended(message)
            case AnswerDone():
                self._on_answer_done(message)
            case RtcOffer():
                self._require_open_phase(message.type, message.id)
                self._effects.append(NegotiateMedia(connection, message.sdp, message.id))
            case RtcCandidate():
                self._require_open_phase(message.type, message.id)
                candidate = AddIceCandidate(
                    connection, message.candidate, message.sdpMid, message.sdpMLineIndex
                )
                self._effects.append(candidate)
            case SessionEnd():
                self._end("candidate_left")
            case SettingsUpdate():
                self._barge_in = self._barge_in if message.barge_in is None else message.barge_in
            case Hello():
                raise InvalidPhase(self._phase, "hello on a joined connection", message.id)

    @_input
    def disconnected(self, connection: int, code: int | None = None) -> None:
        """The socket closed, whoever closed it. The session waits in ``lobby`` for a resume; an answer
        being stored is still stored."""
        if connection == self._connection:
            self._drop_client(code, "connection closed")

    # ------------------------------------------------------------------ inputs: media and speech

    @_input
    def media_connected(self, connection: int) -> None:
        """The candidate's audio flows on this connection (WebRTC track live, or first PCM frame)."""
        if connection != self._connection or self._media:
            return
        self._media = True
        if self._phase is Phase.media_connecting:
            self._next_question()

    @_input
    def media_disconnected(self, connection: int) -> None:
        """The connection's audio stopped (peer failed or closed): the question is asked again once the
        client reconnects its media."""
        if connection != self._connection or not self._media:
            return
        self._media = False
        if self._phase in _ATTEMPT_PHASES:
            self._abandon()
            self._wait_for_media()

    @_input
    def rtc_answer(self, connection: int, sdp: str, request_id: str | None = None) -> None:
        """The peer's SDP answer to :class:`NegotiateMedia`."""
        self._send(RtcAnswer(id=request_id, sdp=sdp), connection)

    @_input
    def rtc_candidate(
        self, connection: int, candidate: str, sdp_mid: str | None = None, sdp_mline_index: int | None = None
    ) -> None:
        """A local ICE candidate of the connection's peer, for the client."""
        message = ServerRtcCandidate(candidate=candidate, sdpMid=sdp_mid, sdpMLineIndex=sdp_mline_index)
        self._send(message, connection)

    @_input
    def rtc_failed(self, connection: int, request_id: str | None = None) -> None:
        """The offer could not be answered; the client may offer again."""
        error = ErrorMessage(
            code=int(CloseCode.BAD_MESSAGE), message="the offer could not be negotiated", id=request_id
        )
        self._send(error, connection)

    @_input
    def audio_started(self, question_id: str, sample_rate: int) -> None:
        """The first frame of the question's speech is about to be sent (queues ``question.audio.start``)."""
        attempt = self._asking(question_id)
        if attempt is not None:
            attempt.audio_started_at = self._clock()
            self._send(
                QuestionAudioStart(seq=self._next_seq(), question_id=question_id, sample_rate=sample_rate)
            )

    @_input
    def audio_finished(self, question_id: str, duration_s: float) -> None:
        """The last frame was sent; ``duration_s`` is the speech's length (bounds the client's playback)."""
        attempt = self._asking(question_id)
        if attempt is None:
            return
        if attempt.audio_started_at is None:
            self._speech_unavailable(attempt)
            return
        attempt.audio_done = True
        attempt.playback_deadline = attempt.audio_started_at + duration_s + self.config.playback_grace_s
        self._send(QuestionAudioEnd(seq=self._next_seq(), question_id=question_id))

    @_input
    def audio_failed(self, question_id: str) -> None:
        """No (more) speech could be made: the question stays as text and listening starts."""
        attempt = self._asking(question_id)
        if attempt is not None:
            self._speech_unavailable(attempt)

    @_input
    def speech_started(self, at: float | None = None) -> None:
        """VAD heard speech begin (``at``: when, if earlier than now). Ignored as echo while a question
        plays, unless barge-in is on; ignored outside an answer."""
        when = self._clock() if at is None else at
        if self._phase is Phase.asking and self._barge_in and self._attempt is not None:
            self._interrupt(self._attempt)
        attempt = self._attempt
        if self._phase is not Phase.listening or attempt is None or attempt.speaking:
            return
        attempt.speaking = True
        attempt.silence_since = None
        attempt.speech_at = when if attempt.speech_at is None else attempt.speech_at
        self._broadcast(SpeechStarted(seq=self._next_seq(), question_id=attempt.question_id))

    @_input
    def speech_stopped(self, at: float | None = None) -> None:
        """VAD heard speech end (``at``: when); the answer ends after ``silence_ms`` of silence."""
        attempt = self._attempt
        if self._phase is not Phase.listening or attempt is None or not attempt.speaking:
            return
        attempt.speaking = False
        attempt.silence_since = self._clock() if at is None else at
        self._broadcast(SpeechStopped(seq=self._next_seq(), question_id=attempt.question_id))

    @_input
    def transcript_partial(self, question_id: str, text: str) -> None:
        """Live words of the answer being recorded; ignored once the answer has ended."""
        attempt = self._attempt
        if self._phase is Phase.listening and attempt is not None and attempt.question_id == question_id:
            self._broadcast(TranscriptPartial(seq=self._next_seq(), question_id=question_id, text=text))

    # ------------------------------------------------------------------ inputs: storage and AI

    @_input
    def transcript_final(
        self,
        question_id: str,
        text: str,
        confidence: float | None = None,
        media_ref: str | None = None,
        transcript: dict[str, Any] | None = None,
    ) -> None:
        """The result of :class:`Transcribe`: queues ``transcript.final`` and :class:`SaveAnswer` (whose
        ``transcript`` carries the opaque details given here, e.g. words with timings)."""
        pending = self._pending_in("transcribing", question_id, "transcript_final")
        pending.text, pending.confidence, pending.media_ref = text, confidence, media_ref
        pending.transcript, pending.stage = transcript, "saving"
        final = TranscriptFinal(
            seq=self._next_seq(), question_id=question_id, text=text, confidence=confidence
        )
        pending.final_seq = final.seq
        self._broadcast(final)
        self._effects.append(self._save_answer(pending))
        self._maybe_request_follow_up(pending)

    @_input
    def transcript_failed(self, question_id: str, media_ref: str | None = None) -> None:
        """:class:`Transcribe` failed: the answer is saved without text (its media kept for later)."""
        pending = self._pending_in("transcribing", question_id, "transcript_failed")
        pending.media_ref, pending.transcript_ok, pending.stage = media_ref, False, "saving"
        self._effects.append(self._save_answer(pending))

    @_input
    def answer_saved(self, question_id: str, answer_id: str) -> None:
        """:class:`SaveAnswer` committed: only now is ``answer.saved`` sent; scoring starts; the interview
        moves on (after the follow-up decision, if one was asked for)."""
        pending = self._pending_in("saving", question_id, "answer_saved")
        pending.stage, pending.answer_id = "saved", answer_id
        self._answered[question_id] = answer_id
        self._broadcast(AnswerSaved(seq=self._next_seq(), question_id=question_id, answer_id=answer_id))
        self._effects.append(ScoreAnswer(answer_id, question_id))
        if pending is self._background:
            self._background = None
            if self._phase is Phase.thinking and self._pending is None:
                self._next_question()  # the interview waited for this answer before finishing
            return
        self._maybe_advance()

    @_input
    def save_failed(self, question_id: str) -> None:
        """:class:`SaveAnswer` failed: the client is told, and the question is asked again (an answer
        stored in the background: right after the current question)."""
        pending = self._pending_in("saving", question_id, "save_failed")
        message = "your answer could not be saved; please answer the question again"
        if pending is self._background:
            self._background = None
            self._requeue(question_id)
            self._send(ErrorMessage(code=int(CloseCode.INTERNAL), message=message))
            if self._phase is Phase.thinking and self._pending is None:
                self._next_question()
            return
        self._pending = None
        if self._phase is Phase.thinking:
            self._send(ErrorMessage(code=int(CloseCode.INTERNAL), message=message))
            self._next_question()

    @_input
    def follow_up_ready(self, question_id: str, question: Question | None) -> None:
        """The outcome of :class:`SuggestFollowUp` (``None``: no follow-up); it is asked next. A late
        outcome (after ``follow_up_timeout_s``) is ignored."""
        pending = self._pending
        if pending is None or pending.question_id != question_id or pending.follow_up != "requested":
            logger.info("session %s: late follow-up for %s ignored", self.session_id, question_id)
            return
        pending.follow_up = "done"
        if question is not None:
            self._insert(question.model_copy(update={"follow_up_of": question_id}), "ai")
            self._follow_ups_used += 1
        self._maybe_advance()

    @_input
    def add_question(self, question: Question, added_by: str | None = None) -> None:
        """HR adds a question, asked right after the current one. Raises InvalidPhase once the interview
        is over, ValueError if its id is already used."""
        if self._phase in _TERMINAL:
            raise InvalidPhase(self._phase, "add_question")
        self._insert(question, "hr", added_by)

    @_input
    def terminate(self) -> None:
        """End the interview from the server side (HR ended it, or it was cancelled)."""
        self._end("terminated")

    @_input
    def tick(self) -> None:
        """Check the clocks: heartbeat, media timeout, speech playback, silence and time limit, follow-up
        timeout. Call it regularly (every 100-250 ms) while a client is joined or an answer is pending."""
        now = self._clock()
        if self._connection is not None and now - self._last_heard > self.config.heartbeat_s + _EPSILON_S:
            self._fail(self._connection, ProtocolError(CloseCode.TIMEOUT, "heartbeat lost", fatal=True))
        checks: dict[Phase, Callable[[float], None]] = {
            Phase.media_connecting: self._tick_media,
            Phase.asking: self._tick_asking,
            Phase.listening: self._tick_listening,
            Phase.thinking: self._tick_thinking,
        }
        check = checks.get(self._phase)
        if check is not None:
            check(now)

    # ------------------------------------------------------------------ snapshot

    def snapshot(self) -> dict[str, Any]:
        """The session's state as JSON-serialisable data (connections and queues are not part of it)."""
        return {
            "format": SNAPSHOT_FORMAT,
            "session_id": self.session_id,
            "interview_id": self.interview_id,
            "report_url": self.report_url,
            "config": self.config.model_dump(mode="json"),
            "phase": self._phase.value,
            "seq": self._seq,
            "questions": [question.model_dump(mode="json") for question in self._questions],
            "index": self._index,
            "answered": dict(self._answered),
            "follow_ups_used": self._follow_ups_used,
            "barge_in": self._barge_in,
            "attempt": None if self._attempt is None else self._attempt.to_dict(),
            "pending": None if self._pending is None else self._pending.to_dict(),
            "background": None if self._background is None else self._background.to_dict(),
            "started_at": self._started_at,
            "finished_at": self._finished_at,
        }

    @classmethod
    def restore(
        cls,
        snapshot: Mapping[str, Any],
        *,
        clock: Callable[[], float] = time.time,
        config: SessionConfig | None = None,
    ) -> InterviewSession:
        """Rebuild a session from :meth:`snapshot` in a process where none of its work is running.

        So the session is recovered: a question being asked or answered will be asked again; in
        ``thinking``, a stored answer moves the interview on and an unstored one is asked again. No client
        is joined (``lobby``, unless the interview is over) and ``seq`` jumps by :data:`RESTORE_SEQ_GAP`.
        Drain its outputs after this call. Raises ValueError for a malformed snapshot.
        """
        if snapshot.get("format") != SNAPSHOT_FORMAT:
            raise ValueError(f"not a {SNAPSHOT_FORMAT} snapshot")
        try:
            session = cls(
                session_id=snapshot["session_id"],
                interview_id=snapshot["interview_id"],
                questions=[Question.model_validate(question) for question in snapshot["questions"]],
                report_url=snapshot["report_url"],
                config=config or SessionConfig.model_validate(snapshot["config"]),
                clock=clock,
            )
            session._load(snapshot)
        except (KeyError, TypeError) as exc:
            raise ValueError("malformed session snapshot") from exc
        session._recover()
        session._persist_if_changed()
        return session

    def _load(self, snapshot: Mapping[str, Any]) -> None:
        """Copy the snapshot's state in (the phase included: loading is not a transition)."""
        self._phase = Phase(snapshot["phase"])
        self._seq = int(snapshot["seq"])
        self._index = int(snapshot["index"])
        self._answered = dict(snapshot["answered"])
        self._follow_ups_used = int(snapshot["follow_ups_used"])
        self._barge_in = bool(snapshot["barge_in"])
        attempt, pending = snapshot["attempt"], snapshot["pending"]
        self._attempt = None if attempt is None else Attempt.from_dict(attempt)
        self._pending = None if pending is None else PendingAnswer.from_dict(pending)
        background = snapshot.get("background")
        self._background = None if background is None else PendingAnswer.from_dict(background)
        self._started_at = snapshot["started_at"]
        self._finished_at = snapshot["finished_at"]

    def _recover(self) -> None:
        """Bring a loaded session to where it can go on without the work that died with its process."""
        self._seq += RESTORE_SEQ_GAP
        self._attempt = None
        background, self._background = self._background, None
        if background is not None and background.question_id not in self._answered:
            self._requeue(background.question_id)
        pending, self._pending = self._pending, None
        if self._phase in (Phase.media_connecting, *_ATTEMPT_PHASES):
            self._enter(Phase.lobby)
        elif self._phase is Phase.thinking:
            if pending is not None and pending.question_id in self._answered:
                self._index += 1
            self._next_question()

    @_input
    def reconcile(self, stored: Mapping[str, str], *, seq_floor: int = 0, follow_ups_used: int = 0) -> None:
        """Make a session that was just created or restored agree with what outlived it.

        ``stored`` maps question id → answer id of every answer in the database, the truth for answers:
        each counts as answered whatever the snapshot says, and is never asked again (a question at or
        after the current one moves before it). ``seq_floor`` is the highest ``seq`` already sent or
        published (numbering goes on after it, with :data:`RESTORE_SEQ_GAP` to spare) and
        ``follow_ups_used`` the AI follow-ups already stored (the budget never grows back). Call it before
        any client joins. Raises :class:`InvalidPhase` once a client has joined.
        """
        if self._connections:
            raise InvalidPhase(self._phase, "reconcile with a client joined")
        known = {question.id for question in self._questions}
        found = {qid: aid for qid, aid in stored.items() if qid in known and qid not in self._answered}
        self._answered.update(found)
        self._follow_ups_used = max(self._follow_ups_used, follow_ups_used)
        if seq_floor and seq_floor >= self._seq:
            self._seq = seq_floor + RESTORE_SEQ_GAP
        if not found or self._phase is Phase.completed:
            return
        self._started_at = self._clock() if self._started_at is None else self._started_at
        done, rest = self._questions[: self._index], self._questions[self._index :]
        moved = [question for question in rest if question.id in self._answered]
        self._questions = done + moved + [question for question in rest if question.id not in self._answered]
        self._index += len(moved)
        logger.info("session %s: %d stored answers reconciled", self.session_id, len(found))

    def _persist_if_changed(self) -> None:
        snapshot = self.snapshot()
        if snapshot != self._persisted:
            before = self._persisted or {}
            acknowledges = snapshot["answered"] != before.get("answered") or (
                snapshot["phase"] in (Phase.completed.value, Phase.ended.value)
                and snapshot["phase"] != before.get("phase")
            )
            self._persisted = snapshot
            self._effects.append(SaveSnapshot(snapshot, before_messages=acknowledges))

    # ------------------------------------------------------------------ the phase

    def _enter(self, phase: Phase) -> None:
        """The one place the phase changes: logs the transition and publishes ``phase.changed``."""
        previous = self._phase
        if phase is previous:
            return
        self._phase = phase
        logger.info("session %s: %s -> %s", self.session_id, previous, phase)
        self._publish(PhaseChanged(seq=self._next_seq(), phase=phase, previous=previous))

    # ------------------------------------------------------------------ output helpers

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _send(self, message: ServerMessage, connection: int | None = None) -> None:
        """Queue a message for ``connection`` (default: the joined client; dropped when none)."""
        target = self._connection if connection is None else connection
        if target is not None:
            self._messages.append(Outgoing(target, message))

    def _publish(self, event: MonitorEvent) -> None:
        self._effects.append(Publish(event, self._clock()))

    def _broadcast(self, message: MonitorEvent) -> None:
        """Send to the client (if joined) and publish for monitors: one message, one ``seq``."""
        if not isinstance(message, PhaseChanged | ClientJoined | ClientLeft | QuestionAdded):
            self._send(message)
        self._publish(message)

    def _fail(self, connection: int, error: ProtocolError) -> None:
        """Reply ``error`` to the connection; close it too when the error is fatal."""
        self._send(error.to_message(), connection)
        if error.fatal:
            self._close(connection, error.code, error.message)

    def _close(self, connection: int, code: CloseCode, reason: str) -> None:
        self._effects.append(Close(connection, int(code), reason))
        if connection == self._connection:
            self._drop_client(int(code), reason)

    # ------------------------------------------------------------------ clients

    def _attach(self, connection: int) -> None:
        resumed = self._started_at is not None
        self._connection, self._media, self._last_heard = connection, False, self._clock()
        self._publish(ClientJoined(seq=self._next_seq(), resumed=resumed))
        if self._phase is Phase.lobby:
            self._wait_for_media()

    def _drop_client(self, code: int | None, reason: str) -> None:
        """Forget the joined client: an attempt in progress is abandoned; the session waits in lobby."""
        self._connection, self._media = None, False
        self._publish(ClientLeft(seq=self._next_seq(), code=code, reason=reason))
        if self._phase in _ATTEMPT_PHASES:
            self._abandon()
        if self._phase in (Phase.media_connecting, *_ATTEMPT_PHASES):
            self._enter(Phase.lobby)

    def _welcome(self, hello: Hello) -> Welcome:
        current = self.current
        state = SessionState(
            question=None if current is None else self._info(current),
            answered=list(self._answered),
            total=len(self._questions),
        )
        return Welcome(
            seq=self._next_seq(),
            id=hello.id,
            session_id=self.session_id,
            interview_id=self.interview_id,
            phase=self._phase,
            resumed=self._started_at is not None,
            config=self.config.settings(self._barge_in),
            state=state,
        )

    def _resync(self, hello: Hello) -> None:
        """After ``welcome``: re-send what a (re)joining client lacks to go on from the current phase."""
        pending = self._pending
        if self._phase is Phase.thinking and pending is not None and pending.final_seq is not None:
            seen = hello.resume and hello.last_seq is not None and hello.last_seq >= pending.final_seq
            if not seen:
                final = TranscriptFinal(
                    seq=self._next_seq(),
                    question_id=pending.question_id,
                    text=pending.text,
                    confidence=pending.confidence,
                )
                self._send(final)
        elif self._phase is Phase.completed and self._connection is not None:
            self._send(self._completed_message())
            self._close(self._connection, CloseCode.NORMAL, "interview completed")

    def _require_open_phase(self, what: str, request_id: str | None) -> None:
        if self._phase in _TERMINAL:
            raise InvalidPhase(self._phase, what, request_id)

    # ------------------------------------------------------------------ questions

    def _info(self, question: Question) -> QuestionInfo:
        return question_info(question, self._questions.index(question) + 1, len(self._questions))

    def _question(self, question_id: str) -> Question:
        return next(question for question in self._questions if question.id == question_id)

    def _known(self, question_id: str, request_id: str | None) -> None:
        if all(question.id != question_id for question in self._questions):
            raise ProtocolError(
                CloseCode.NOT_FOUND, "no such question in this interview", request_id=request_id
            )

    def _insert(self, question: Question, source: Literal["ai", "hr"], added_by: str | None = None) -> None:
        """Insert ``question`` right after the current one and tell the monitors."""
        if any(existing.id == question.id for existing in self._questions):
            raise ValueError(f"question id {question.id!r} is already in the session")
        self._questions.insert(min(self._index + 1, len(self._questions)), question)
        info = self._info(question)
        event = QuestionAdded(seq=self._next_seq(), source=source, added_by=added_by, **info.model_dump())
        self._publish(event)

    def _next_question(self) -> None:
        """Go on with the question at ``_index``: ask it, or wait for the client or its media, or finish
        (once no answer is still being stored: until then the session waits in ``thinking``)."""
        if self._index >= len(self._questions):
            if self._background is None:
                self._complete()
            else:
                self._enter(Phase.thinking)
        elif self._connection is None:
            self._enter(Phase.lobby)
        elif not self._media:
            self._wait_for_media()
        else:
            self._ask()

    def _wait_for_media(self) -> None:
        self._media_wait_since = self._clock()
        self._enter(Phase.media_connecting)

    def _ask(self) -> None:
        question = self._questions[self._index]
        now = self._clock()
        self._attempt = Attempt(question_id=question.id, asked_at=now)
        self._started_at = now if self._started_at is None else self._started_at
        self._enter(Phase.asking)
        self._broadcast(QuestionStarted(seq=self._next_seq(), **self._info(question).model_dump()))
        self._effects.append(SpeakQuestion(question))

    def _asking(self, question_id: str) -> Attempt | None:
        """The attempt a speech report is about, or None when the report is stale."""
        attempt = self._attempt
        if self._phase is Phase.asking and attempt is not None and attempt.question_id == question_id:
            return attempt
        logger.debug("session %s: stale speech report for %s ignored", self.session_id, question_id)
        return None

    def _speech_unavailable(self, attempt: Attempt) -> None:
        attempt.audio_done = True
        self._send(QuestionAudioEnd(seq=self._next_seq(), question_id=attempt.question_id, ok=False))
        self._listen()

    def _interrupt(self, attempt: Attempt) -> None:
        """Barge-in: stop the question's speech and listen at once."""
        if not attempt.audio_done:
            self._effects.append(StopSpeaking(attempt.question_id))
            attempt.audio_done = True
            end = QuestionAudioEnd(seq=self._next_seq(), question_id=attempt.question_id, interrupted=True)
            self._send(end)
        self._listen()

    def _abandon(self) -> None:
        """Drop the attempt in progress: stop its speech or discard its recording."""
        attempt, self._attempt = self._attempt, None
        if attempt is None:
            return
        if self._phase is Phase.asking and not attempt.audio_done:
            self._effects.append(StopSpeaking(attempt.question_id))
        elif self._phase is Phase.listening:
            self._effects.append(StopRecording(attempt.question_id, keep=False))

    # ------------------------------------------------------------------ answers

    def _on_playback_ended(self, message: PlaybackEnded) -> None:
        self._known(message.question_id, message.id)
        attempt = self._attempt
        if (
            attempt is None
            or attempt.question_id != message.question_id
            or self._phase not in _ATTEMPT_PHASES
        ):
            raise InvalidPhase(self._phase, "playback.ended for this question", message.id)
        if self._phase is Phase.asking:
            if not attempt.audio_done:
                self._effects.append(StopSpeaking(attempt.question_id))
                attempt.audio_done = True
            self._listen()

    def _on_answer_done(self, message: AnswerDone) -> None:
        self._known(message.question_id, message.id)
        attempt = self._attempt
        if (
            self._phase is Phase.listening
            and attempt is not None
            and attempt.question_id == message.question_id
        ):
            self._end_answer("answer_done")
            return
        pending = self._pending
        if message.question_id in self._answered or (pending and pending.question_id == message.question_id):
            return  # this answer already ended: a repeated answer.done is harmless
        raise InvalidPhase(self._phase, "answer.done for this question", message.id)

    def _listen(self) -> None:
        attempt = self._attempt
        if attempt is None:
            return
        limit = self.config.answer_limit_s(self._questions[self._index])
        now = self._clock()
        attempt.listening_at, attempt.deadline = now, now + limit
        self._enter(Phase.listening)
        self._broadcast(Listening(seq=self._next_seq(), question_id=attempt.question_id, deadline_s=limit))
        self._effects.append(StartRecording(attempt.question_id))

    def _end_answer(self, reason: EndReason) -> None:
        """The answer is over: stop recording, transcribe, and wait for it to be stored."""
        attempt, self._attempt = self._attempt, None
        if attempt is None:
            return
        now = self._clock()
        ended = attempt.silence_since if reason == "silence" and attempt.silence_since is not None else now
        listening_at = attempt.listening_at if attempt.listening_at is not None else attempt.asked_at
        self._pending = PendingAnswer(attempt.question_id, listening_at, attempt.speech_at, ended, reason)
        self._enter(Phase.thinking)
        self._broadcast(Thinking(seq=self._next_seq(), question_id=attempt.question_id, reason=reason))
        self._effects.append(StopRecording(attempt.question_id, keep=True))
        self._effects.append(Transcribe(attempt.question_id))
        if self._may_advance_early(attempt.question_id):
            self._background, self._pending = self._pending, None
            self._index += 1
            self._next_question()

    def _may_advance_early(self, question_id: str) -> bool:
        """With ``advance_early``: no follow-up can come of this answer, another question follows, and no
        earlier answer is still being stored."""
        question = self._question(question_id)
        return (
            self.config.advance_early
            and self._background is None
            and self._index + 1 < len(self._questions)
            and (
                self._follow_ups_used >= self.config.max_follow_ups
                or question.follow_up_of is not None
                or any(other.follow_up_of == question.id for other in self._questions)
            )
        )

    def _requeue(self, question_id: str) -> None:
        """Ask an earlier question again, right after the current one (its answer was not stored)."""
        question = self._question(question_id)
        position = self._questions.index(question)
        if position <= self._index:
            self._questions.pop(position)
            self._index -= 1
        self._questions.insert(min(self._index + 1, len(self._questions)), question)

    def _pending_in(self, stage: str, question_id: str, what: str) -> PendingAnswer:
        """The answer (pending, or stored in the background) that a shell report is about."""
        for pending in (self._pending, self._background):
            if pending is not None and pending.question_id == question_id and pending.stage == stage:
                return pending
        raise InvalidPhase(self._phase, f"{what} for {question_id!r}")

    def _save_answer(self, pending: PendingAnswer) -> SaveAnswer:
        return SaveAnswer(
            question_id=pending.question_id,
            text=pending.text,
            confidence=pending.confidence,
            media_ref=pending.media_ref,
            transcript_ok=pending.transcript_ok,
            listening_at=pending.listening_at,
            speech_at=pending.speech_at,
            ended_at=pending.ended_at,
            end_reason=pending.reason,
            transcript=pending.transcript,
        )

    def _maybe_request_follow_up(self, pending: PendingAnswer) -> None:
        """Ask the engine for a follow-up, while the budget lasts, to an answer that is not one itself and
        that HR has not already followed up."""
        question = self._question(pending.question_id)
        if (
            self._phase is not Phase.thinking
            or self._follow_ups_used >= self.config.max_follow_ups
            or question.follow_up_of is not None
            or any(other.follow_up_of == question.id for other in self._questions)
            or not pending.text.strip()
        ):
            return
        pending.follow_up = "requested"
        pending.follow_up_deadline = self._clock() + self.config.follow_up_timeout_s
        self._effects.append(SuggestFollowUp(question.id, question.text, pending.text))

    def _maybe_advance(self) -> None:
        """Once the pending answer is stored and its follow-up decided, go on to the next question."""
        pending = self._pending
        if pending is None or pending.stage != "saved" or pending.follow_up == "requested":
            return
        self._pending = None
        if self._phase is Phase.thinking:
            self._index += 1
            self._next_question()

    # ------------------------------------------------------------------ the end

    def _completed_message(self) -> InterviewCompleted:
        return InterviewCompleted(
            seq=self._next_seq(),
            report_url=self.report_url,
            answered=len(self._answered),
            total=len(self._questions),
        )

    def _complete(self) -> None:
        self._finished_at = self._clock()
        self._enter(Phase.completed)
        self._broadcast(self._completed_message())
        self._effects.append(CompleteInterview())
        if self._connection is not None:
            self._close(self._connection, CloseCode.NORMAL, "interview completed")

    def _end(self, reason: Literal["candidate_left", "terminated"]) -> None:
        """Stop early (the candidate left, or HR ended it); an answer being stored is still stored."""
        if self._phase in _TERMINAL:
            return
        self._abandon()
        self._finished_at = self._clock()
        self._enter(Phase.ended)
        ended = SessionEnded(seq=self._next_seq(), reason=reason)
        self._broadcast(ended)
        self._effects.append(EndInterview(reason))
        if self._connection is not None:
            self._close(self._connection, CloseCode.NORMAL, "interview ended")

    # ------------------------------------------------------------------ clocks

    def _tick_media(self, now: float) -> None:
        waited = now - self._media_wait_since + _EPSILON_S
        if self._connection is not None and waited >= self.config.media_timeout_s:
            error = ProtocolError(CloseCode.TIMEOUT, "the audio did not connect in time", fatal=True)
            self._fail(self._connection, error)

    def _tick_asking(self, now: float) -> None:
        attempt = self._attempt
        if attempt is None:
            return
        now += _EPSILON_S
        if attempt.audio_started_at is None and now - attempt.asked_at >= self.config.tts_start_timeout_s:
            self._effects.append(StopSpeaking(attempt.question_id))
            self._speech_unavailable(attempt)
        elif attempt.playback_deadline is not None and now >= attempt.playback_deadline:
            self._listen()

    def _tick_listening(self, now: float) -> None:
        attempt = self._attempt
        if attempt is None:
            return
        now += _EPSILON_S
        silent_s = None if attempt.speaking or attempt.silence_since is None else now - attempt.silence_since
        if attempt.deadline is not None and now >= attempt.deadline:
            self._end_answer("time_limit")
        elif silent_s is not None and silent_s * 1000 >= self.config.silence_ms:
            self._end_answer("silence")

    def _tick_thinking(self, now: float) -> None:
        pending = self._pending
        if pending is None or pending.follow_up != "requested":
            return
        if pending.follow_up_deadline is not None and now + _EPSILON_S >= pending.follow_up_deadline:
            logger.info("session %s: no follow-up in time for %s", self.session_id, pending.question_id)
            pending.follow_up = "done"
            self._maybe_advance()


def question_info(question: Question, number: int, total: int) -> QuestionInfo:
    """A question as clients show it: its 1-based ``number`` among ``total``."""
    return QuestionInfo(
        question_id=question.id,
        number=number,
        total=total,
        text=question.text,
        category=question.category,
        expected_minutes=question.expected_minutes,
        is_follow_up=question.follow_up_of is not None,
        follow_up_of=question.follow_up_of,
    )


@dataclass(frozen=True)
class SnapshotView:
    """What a snapshot says about a session, read without restoring it (no recovery, no outputs)."""

    phase: Phase
    questions: list[QuestionInfo]
    current: QuestionInfo | None
    answered: list[str]


def view_snapshot(snapshot: Mapping[str, Any]) -> SnapshotView:
    """Read a :meth:`InterviewSession.snapshot` for display. Raises ValueError when it is malformed."""
    try:
        questions = [Question.model_validate(q) for q in snapshot["questions"]]
        infos = [question_info(q, n, len(questions)) for n, q in enumerate(questions, 1)]
        index = int(snapshot["index"])
        return SnapshotView(
            phase=Phase(snapshot["phase"]),
            questions=infos,
            current=infos[index] if 0 <= index < len(infos) else None,
            answered=list(snapshot["answered"]),
        )
    except (KeyError, TypeError, ValidationError) as exc:
        raise ValueError("malformed session snapshot") from exc
