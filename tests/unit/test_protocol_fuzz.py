"""Property-based tests of the socket protocol: whatever a client sends, the parsers raise only a
ProtocolError with a code from CloseCode and a short message that repeats none of the input; valid
messages round-trip; and a real InterviewSession fed arbitrary frames never raises and only ever emits
messages and events that are valid protocol."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.messages import (
    MAX_MESSAGE_CHARS,
    CloseCode,
    Hello,
    ProtocolError,
    encode,
    parse_client_message,
    parse_hello,
    parse_monitor_event,
    parse_server_message,
)
from protocol.monitor import parse_monitor_message
from server.session import (
    Close,
    InterviewSession,
    NegotiateMedia,
    Publish,
    Question,
    SaveAnswer,
    SessionConfig,
    SpeakQuestion,
    SuggestFollowUp,
    Transcribe,
)
from server.session.replay import ManualClock

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MARKER = "ZQX-INPUT-7"
"""Put in every generated string value: an error message containing it echoed the input."""

Parser = Callable[[str | bytes], Any]
PARSERS: dict[str, Parser] = {
    "client": parse_client_message,
    "hello": parse_hello,
    "monitor": parse_monitor_message,
}
ROOM_TYPES = [
    "hello",
    "ping",
    "playback.ended",
    "answer.done",
    "rtc.offer",
    "rtc.candidate",
    "session.end",
    "settings.update",
]
MONITOR_TYPES = ["hello", "ping", "monitor.follow_up", "monitor.note", "monitor.end", "rtc.offer"]
FIELDS = [
    "type",
    "id",
    "token",
    "protocol",
    "resume",
    "last_seq",
    "client",
    "question_id",
    "sdp",
    "candidate",
    "sdpMid",
    "sdpMLineIndex",
    "reason",
    "barge_in",
    "text",
]

marked_text = st.text(max_size=20).map(lambda s: s + MARKER)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | marked_text
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(FIELDS) | st.text(), inner),
    max_leaves=12,
)
message_like = st.fixed_dictionaries(
    {"type": st.sampled_from(sorted({*ROOM_TYPES, *MONITOR_TYPES})) | marked_text},
    optional={field: json_values for field in FIELDS if field != "type"},
)
deeply_nested = st.sampled_from(["[", '{"a":', '{"type":"ping","x":[']).flatmap(
    lambda opener: st.integers(min_value=1000, max_value=MAX_MESSAGE_CHARS // len(opener)).map(
        lambda depth: opener * depth
    )
)
frames = (
    st.text(max_size=300)
    | st.binary(max_size=300)
    | json_values.map(json.dumps)
    | message_like.map(json.dumps)
    | message_like.map(lambda m: json.dumps(m).encode())
    | deeply_nested
)


def check_refusal(error: ProtocolError, frame: str | bytes) -> None:
    """A refusal names a known code, is short, and carries no traceback and none of the input."""
    assert error.code in set(CloseCode)
    assert len(error.message) <= 200
    assert "Traceback" not in error.message and MARKER not in error.message
    reply = error.to_message()
    assert parse_server_message(encode(reply)) == reply


@FUZZ
@given(frame=frames, parser=st.sampled_from(sorted(PARSERS)))
def test_parsers_raise_only_protocol_errors(frame: str | bytes, parser: str) -> None:
    """Any text, bytes or JSON value either parses or raises a ProtocolError with a clean message."""
    try:
        PARSERS[parser](frame)
    except ProtocolError as error:
        check_refusal(error, frame)


def test_deeply_nested_json_is_a_bad_message() -> None:
    """A frame nested thousands of levels deep is refused with 4000, not a RecursionError (regression)."""
    for parser in PARSERS.values():
        try:
            parser("[" * 50_000)
        except ProtocolError as error:
            assert error.code is CloseCode.BAD_MESSAGE
        else:
            raise AssertionError("a nested array parsed")


ids = st.text(min_size=1, max_size=64)
short = st.text(max_size=200)
room_messages = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("hello"), "token": st.text(min_size=1, max_size=100), "protocol": st.just("1.0")},
        optional={
            "id": ids,
            "resume": st.booleans(),
            "last_seq": st.integers(min_value=0, max_value=2**40),
            "client": st.fixed_dictionaries({}, optional={"ua": st.text(max_size=512)}),
        },
    ),
    st.fixed_dictionaries({"type": st.just("ping")}, optional={"id": ids}),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["playback.ended", "answer.done"]), "question_id": ids}, optional={"id": ids}
    ),
    st.fixed_dictionaries({"type": st.just("rtc.offer"), "sdp": st.text(min_size=1)}, optional={"id": ids}),
    st.fixed_dictionaries(
        {"type": st.just("rtc.candidate"), "candidate": st.text()},
        optional={"sdpMid": st.text(), "sdpMLineIndex": st.integers(min_value=0, max_value=2**31)},
    ),
    st.fixed_dictionaries({"type": st.just("session.end")}, optional={"reason": short, "id": ids}),
    st.fixed_dictionaries({"type": st.just("settings.update")}, optional={"barge_in": st.booleans()}),
)
monitor_messages = st.one_of(
    st.fixed_dictionaries({"type": st.just("ping")}, optional={"id": ids}),
    st.fixed_dictionaries(
        {"type": st.just("monitor.follow_up"), "text": st.text(min_size=5, max_size=1000)},
        optional={"id": ids},
    ),
    st.fixed_dictionaries(
        {"type": st.just("monitor.note"), "text": st.text(min_size=1, max_size=2000)},
        optional={"id": ids, "question_id": ids},
    ),
    st.fixed_dictionaries({"type": st.just("monitor.end")}, optional={"reason": short, "id": ids}),
)


@FUZZ
@given(data=room_messages)
def test_valid_room_messages_round_trip(data: dict[str, Any]) -> None:
    """Every valid room message parses to a model holding exactly its fields, and re-parses to itself."""
    message = parse_client_message(json.dumps(data))
    assert message.model_dump(exclude_unset=True) == data
    assert parse_client_message(message.model_dump_json(exclude_none=True)) == message
    if data["type"] == "hello":
        assert parse_hello(json.dumps(data)) == message


@FUZZ
@given(data=monitor_messages)
def test_valid_monitor_messages_round_trip(data: dict[str, Any]) -> None:
    """Every valid monitor action parses to a model holding exactly its fields, and re-parses to itself."""
    message = parse_monitor_message(json.dumps(data))
    assert message.model_dump(exclude_unset=True) == data
    assert parse_monitor_message(message.model_dump_json(exclude_none=True)) == message


# ------------------------------------------------------------------------------ the session, fuzzed

QUESTIONS = (
    Question(id="q1", order=1, text="Tell me about yourself.", category="intro", expected_minutes=1),
    Question(id="q2", order=2, text="How would you design a rate limiter?", expected_minutes=1),
)
question_ids = st.sampled_from(["q1", "q2", "f1", MARKER])
session_frames = st.one_of(
    frames,
    room_messages.map(json.dumps),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["playback.ended", "answer.done"]), "question_id": question_ids},
        optional={"id": ids},
    ).map(json.dumps),
)
steps = st.lists(
    st.one_of(
        st.tuples(st.just("frame"), session_frames),
        st.tuples(st.just("tick"), st.floats(min_value=0, max_value=120)),
        st.tuples(st.sampled_from(["media", "speech", "media_lost", "rejoin", "leave"]), st.none()),
    ),
    max_size=40,
)


class CooperativeShell:
    """A session plus a shell that does every effect's work at once and reports success."""

    def __init__(self) -> None:
        self.clock = ManualClock(1000.0)
        config = SessionConfig(max_follow_ups=1, barge_in=True)
        self.session = InterviewSession(
            session_id="s1",
            interview_id="iv1",
            questions=QUESTIONS,
            report_url="/interviews/iv1/report",
            config=config,
            clock=self.clock,
        )
        self.conn = self.session.join(Hello(token="t", protocol="1.0"))
        self.saved = 0

    def step(self, kind: str, value: Any) -> None:
        session = self.session
        if kind == "frame":
            session.receive_text(self.conn, value)
        elif kind == "tick":
            self.clock.now += value
            session.tick()
        elif kind == "media":
            session.media_connected(self.conn)
        elif kind == "media_lost":
            session.media_disconnected(self.conn)
        elif kind == "speech":
            session.speech_started()
            session.speech_stopped()
        elif kind == "rejoin":
            self.conn = session.join(Hello(token="t", protocol="1.0", resume=True))
        elif kind == "leave":
            session.disconnected(self.conn, 1006)
        self.drain()

    def drain(self) -> None:
        """Check every queued message and event, then run the effects (which may queue more)."""
        while True:
            for out in self.session.drain_messages():
                assert parse_server_message(out.text) == out.message
            effects = self.session.drain_effects()
            if not effects:
                return
            for effect in effects:
                self.run(effect)

    def run(self, effect: Any) -> None:
        session = self.session
        match effect:
            case Publish(event=event):
                assert parse_monitor_event(encode(event)) == event
            case SpeakQuestion(question=question):
                session.audio_started(question.id, 22050)
                session.audio_finished(question.id, 1.5)
            case Transcribe(question_id=question_id):
                session.transcript_final(question_id, f"An answer {MARKER}", 0.8)
            case SaveAnswer(question_id=question_id):
                self.saved += 1
                session.answer_saved(question_id, f"a{self.saved}")
            case SuggestFollowUp(question_id=question_id):
                follow = Question(id="f1", order=3, text="Which part was hardest?", category="follow_up")
                session.follow_up_ready(question_id, follow if "f1" not in session.answered else None)
            case NegotiateMedia(connection=connection, request_id=request_id):
                session.rtc_answer(connection, "v=0", request_id)
            case Close(connection=connection, code=code):
                session.disconnected(connection, code)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(script=steps)
def test_arbitrary_frames_never_break_a_session(script: list[tuple[str, Any]]) -> None:
    """Arbitrary frames, clock jumps, speech, media loss and reconnects in any order: the session never
    raises, every message it sends and every event it publishes is valid protocol, and its sequence
    numbers only grow."""
    shell = CooperativeShell()
    shell.drain()
    last = shell.session.seq
    for kind, value in script:
        shell.step(kind, value)
        assert shell.session.seq >= last
        last = shell.session.seq
    assert len(shell.session.answered) <= len(shell.session.questions)
