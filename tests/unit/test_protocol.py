"""The wire protocol: parsing with error codes, the version rule, encoding, the schema and the spec."""

from __future__ import annotations

import json
import re
import subprocess
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from protocol import gen_schema
from protocol.messages import (
    MAX_MESSAGE_CHARS,
    PROTOCOL,
    AnswerSaved,
    ClientMessage,
    CloseCode,
    ErrorMessage,
    Hello,
    IceServer,
    InterviewCompleted,
    MonitorEvent,
    Phase,
    PhaseChanged,
    Pong,
    ProtocolError,
    ProtocolVersion,
    QuestionAudioStart,
    QuestionStarted,
    ServerMessage,
    SessionSettings,
    SessionState,
    Welcome,
    check_version,
    encode,
    parse_client_message,
    parse_hello,
    parse_monitor_event,
    parse_server_message,
)
from protocol.monitor import MonitorClientMessage, MonitorFrame

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "protocol" / "README.md").read_text(encoding="utf-8")

CLIENT_EXAMPLES: list[dict[str, Any]] = [
    {"type": "hello", "id": "h1", "token": "tok", "protocol": "1.0", "resume": True, "last_seq": 7},
    {"type": "ping", "id": "p1"},
    {"type": "playback.ended", "question_id": "q1"},
    {"type": "answer.done", "id": "d1", "question_id": "q1"},
    {"type": "rtc.offer", "id": "o1", "sdp": "v=0"},
    {"type": "rtc.candidate", "candidate": "candidate:1 1 udp 1 192.0.2.1 5000 typ host", "sdpMid": "0"},
    {"type": "session.end", "reason": "bye"},
    {"type": "settings.update", "barge_in": True},
]


def union_members(union: Any) -> list[type[BaseModel]]:
    """The model classes of an ``Annotated[A | B, Field(discriminator=...)]`` union."""
    return list(typing.get_args(typing.get_args(union)[0]))


def type_names(union: Any) -> list[str]:
    return [typing.get_args(model.model_fields["type"].annotation)[0] for model in union_members(union)]


@pytest.mark.parametrize("data", CLIENT_EXAMPLES, ids=[example["type"] for example in CLIENT_EXAMPLES])
def test_every_client_message_type_parses(data: dict[str, Any]) -> None:
    """Each client message type parses from JSON into its model, keeping its fields."""
    message = parse_client_message(json.dumps(data))
    assert message.type == data["type"]
    assert message.model_dump(exclude_unset=True) == data


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{not json", "invalid JSON"),
        ("[1, 2]", "JSON object"),
        ('"hello"', "JSON object"),
        ('{"id": "x"}', "missing 'type'"),
        ('{"type": "answer.skip"}', "unknown message type"),
        ('{"type": "answer.done"}', "question_id"),
        ('{"type": "answer.done", "question_id": 5}', "question_id"),
        ('{"type": "hello", "token": "", "protocol": "1.0"}', "token"),
        ('{"type": "hello", "token": "t", "protocol": "1.0", "resume": "yes"}', "resume"),
        ("x" * (MAX_MESSAGE_CHARS + 1), "longer than"),
    ],
)
def test_bad_frames_raise_protocol_error_4000(text: str, fragment: str) -> None:
    """Malformed JSON, a missing or unknown type and bad fields all raise a non-fatal ProtocolError 4000."""
    with pytest.raises(ProtocolError) as caught:
        parse_client_message(text)
    error = caught.value
    assert (error.code, error.fatal) == (CloseCode.BAD_MESSAGE, False)
    assert fragment in error.message and "Traceback" not in error.message


def test_a_parse_error_echoes_the_request_id_but_never_the_input() -> None:
    """The error reply carries the bad message's id, and its text does not repeat what was sent."""
    with pytest.raises(ProtocolError) as caught:
        parse_client_message(
            '{"type": "answer.done", "id": "r9", "question_id": "SECRET", "x": 1, "bad": []}'[:-1]
        )
    assert caught.value.request_id is None  # not even JSON: no id to echo
    with pytest.raises(ProtocolError) as caught:
        parse_client_message('{"type": "answer.done", "id": "r9", "question_id": ["SECRET"]}')
    reply = caught.value.to_message()
    assert reply == ErrorMessage(id="r9", code=4000, message=reply.message)
    assert "SECRET" not in reply.message


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    """A field added by a newer minor version is ignored, not refused."""
    message = parse_client_message('{"type": "ping", "id": "p", "sent_at": 123}')
    assert message.type == "ping" and message.id == "p"


def test_the_token_never_shows_in_a_repr() -> None:
    """hello's token is left out of its repr, so logging the message does not leak it."""
    hello = Hello(token="secret-token", protocol="1.0")
    assert "secret-token" not in repr(hello)


@pytest.mark.parametrize(
    ("version", "code"),
    [
        ("1.0", None),
        ("1.7", None),
        ("1.999", None),
        ("2.0", 4010),
        ("0.9", 4010),
        ("1", 4000),
        ("v1.0", 4000),
    ],
)
def test_same_major_is_compatible_and_another_is_refused(version: str, code: int | None) -> None:
    """The version rule: same major is compatible; another major is 4010; a malformed version is 4000."""
    if code is None:
        assert check_version(version).major == PROTOCOL.major
        return
    with pytest.raises(ProtocolError) as caught:
        check_version(version)
    assert caught.value.code == code and caught.value.fatal


def test_versions_compare_by_major() -> None:
    """ProtocolVersion parses MAJOR.MINOR and is compatible exactly when the majors match."""
    assert ProtocolVersion.parse("1.3") == ProtocolVersion(1, 3)
    assert ProtocolVersion(1, 3).compatible_with(ProtocolVersion(1, 0))
    assert not ProtocolVersion(2, 0).compatible_with(ProtocolVersion(1, 9))
    assert str(PROTOCOL) == "1.0"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('{"type": "ping"}', 4001),
        ('{"type": "hello", "token": "t", "protocol": "3.1"}', 4010),
        ('{"type": "hello", "token": "t", "protocol": "one"}', 4000),
        ("nope", 4000),
    ],
)
def test_the_first_frame_must_be_a_compatible_hello(text: str, code: int) -> None:
    """parse_hello fails fatally: 4001 for another message, 4010 for another major, 4000 if malformed."""
    with pytest.raises(ProtocolError) as caught:
        parse_hello(text)
    assert caught.value.code == code and caught.value.fatal


def test_parse_hello_accepts_a_good_hello() -> None:
    """A well-formed hello of the same major parses, with its defaults."""
    hello = parse_hello('{"type": "hello", "token": "t", "protocol": "1.2"}')
    assert (hello.resume, hello.last_seq, hello.client.ua) == (False, None, None)


def server_samples() -> list[BaseModel]:
    question = {
        "question_id": "q1",
        "number": 1,
        "total": 2,
        "text": "Tell me about yourself.",
        "category": "intro",
        "expected_minutes": 2,
    }
    settings = SessionSettings(
        silence_ms=2000,
        max_answer_s=900,
        barge_in=False,
        heartbeat_s=30,
        ice_servers=[IceServer(urls="stun:x")],
    )
    return [
        Welcome(
            seq=1,
            id="h",
            session_id="s",
            interview_id="i",
            phase=Phase.media_connecting,
            resumed=False,
            config=settings,
            state=SessionState(question=None, answered=[], total=2),
        ),
        QuestionStarted(seq=2, **question),
        QuestionAudioStart(seq=3, question_id="q1", sample_rate=22050),
        AnswerSaved(seq=4, question_id="q1", answer_id="a1"),
        InterviewCompleted(seq=5, report_url="/r", answered=2, total=2),
        Pong(id="p"),
        ErrorMessage(code=4012, message="no"),
    ]


@pytest.mark.parametrize("message", server_samples(), ids=lambda m: m.type)
def test_server_messages_round_trip_through_text(message: BaseModel) -> None:
    """encode() then parse_server_message() gives the same message back, and None fields are omitted."""
    text = encode(message)
    assert parse_server_message(text) == message
    assert "null" not in text and json.loads(text)["type"] == message.type


def test_monitor_events_parse_from_bus_dicts() -> None:
    """A published event read back from the EventBus as a dict parses into its model."""
    event = PhaseChanged(seq=3, phase=Phase.asking, previous=Phase.media_connecting)
    assert parse_monitor_event(json.loads(encode(event))) == event
    assert parse_monitor_event(encode(event)) == event


def test_close_codes_live_in_one_enum_in_the_4000_range() -> None:
    """Every code but the standard normal closure is in 4000-4999, and none is repeated."""
    values = [code.value for code in CloseCode]
    assert len(values) == len(set(values))
    assert all(4000 <= value <= 4999 for value in values if value != CloseCode.NORMAL)


def test_the_readme_documents_every_type_and_code() -> None:
    """protocol/README.md names every message type, every close code and every phase."""
    types = type_names(ClientMessage) + type_names(ServerMessage) + type_names(MonitorEvent)
    types += type_names(MonitorClientMessage) + type_names(MonitorFrame) + ["monitor.welcome", "monitor.ack"]
    missing = [name for name in types if f"`{name}`" not in README]
    missing += [str(code.value) for code in CloseCode if not re.search(rf"\b{code.value}\b", README)]
    missing += [phase.value for phase in Phase if phase.value not in README]
    assert missing == []


def test_the_schema_file_is_up_to_date() -> None:
    """protocol/schema.json is exactly what the models generate, and lists the three unions."""
    assert gen_schema.SCHEMA_PATH.read_text(encoding="utf-8") == gen_schema.render()
    schema = json.loads(gen_schema.render())
    assert {"ClientMessage", "ServerMessage", "MonitorEvent"} <= set(schema["$defs"])
    assert schema["$defs"]["Hello"]["required"][0] == "type"


def test_check_mode_fails_on_a_stale_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """gen_schema --check exits 1 for a stale file and writes nothing; without --check it rewrites it."""
    stale = tmp_path / "schema.json"
    stale.write_text("{}\n", encoding="utf-8")
    monkeypatch.setattr(gen_schema, "SCHEMA_PATH", stale)
    assert gen_schema.main(["--check"]) == 1
    assert stale.read_text(encoding="utf-8") == "{}\n"
    assert gen_schema.main([]) == 0
    assert gen_schema.main(["--check"]) == 0


def test_the_script_checks_the_committed_schema() -> None:
    """scripts/gen-protocol-schema --check passes on the committed schema."""
    result = subprocess.run(
        [str(ROOT / "scripts" / "gen-protocol-schema"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
