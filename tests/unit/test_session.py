"""The live interview state machine, driven input by input with a manual clock (no I/O anywhere)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from protocol.messages import (
    AnswerDone,
    AnswerSaved,
    CloseCode,
    ErrorMessage,
    Hello,
    InterviewCompleted,
    Listening,
    PhaseChanged,
    Pong,
    QuestionAudioEnd,
    QuestionStarted,
    RtcAnswer,
    SessionEnded,
    SpeechStarted,
    Thinking,
    TranscriptFinal,
    TranscriptPartial,
    Welcome,
)
from server.session import (
    AddIceCandidate,
    CompleteInterview,
    EndInterview,
    InterviewSession,
    InvalidPhase,
    NegotiateMedia,
    Phase,
    SaveAnswer,
    SaveSnapshot,
    ScoreAnswer,
    SessionConfig,
    SpeakQuestion,
    StartRecording,
    StopRecording,
    StopSpeaking,
    SuggestFollowUp,
    Transcribe,
)
from tests.unit.support import FOLLOW_UP, QUESTIONS, T0, Room, closes, of_type, published

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------------- sans I/O


def test_importing_the_session_pulls_in_no_io_frameworks() -> None:
    """A fresh interpreter importing server.session has not imported asyncio, Starlette, aiortc or Redis."""
    code = (
        "import sys, server.session, server.session.replay, protocol; "
        "io = ('asyncio', 'starlette', 'fastapi', 'aiortc', 'redis', 'sqlalchemy'); "
        "bad = [m for m in io if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_session_needs_distinct_question_ids() -> None:
    """Constructing a session with no questions or a repeated id is a ValueError."""
    with pytest.raises(ValueError):
        InterviewSession(session_id="s", interview_id="i", questions=[], report_url="/r")
    with pytest.raises(ValueError):
        InterviewSession(session_id="s", interview_id="i", questions=[QUESTIONS[0]] * 2, report_url="/r")


# ---------------------------------------------------------------------- phases


def test_join_sends_welcome_and_waits_for_media() -> None:
    """hello gets a welcome (echoing its id) with the settings and state, and the session waits for media."""
    room = Room()
    room.join(id="h1")
    messages, effects = room.drain()
    (welcome,) = messages
    assert isinstance(welcome, Welcome) and welcome.id == "h1" and welcome.phase == Phase.media_connecting
    assert welcome.config.silence_ms == 2000 and welcome.config.sample_rate == 16000
    assert welcome.state.question is not None and welcome.state.question.question_id == "q1"
    assert welcome.state.total == 3 and not welcome.resumed
    assert room.phase() is Phase.media_connecting
    assert isinstance(effects[-1], SaveSnapshot)


def test_media_connected_asks_the_first_question() -> None:
    """When the audio flows, question 1 is shown (number, total, text) and its speech is requested."""
    room = Room()
    room.join()
    room.drain()
    room.session.media_connected(room.conn)
    messages, effects = room.drain()
    (started,) = messages
    assert isinstance(started, QuestionStarted)
    assert (started.question_id, started.number, started.total, started.is_follow_up) == ("q1", 1, 3, False)
    assert of_type(effects, SpeakQuestion) == [SpeakQuestion(QUESTIONS[0])]


def test_playback_ended_starts_listening_and_recording() -> None:
    """After the client played the question, the server listens with the question's time limit and records."""
    room = Room()
    room.asking()
    room.session.audio_started("q1", 22050)
    room.session.audio_finished("q1", 2.0)
    room.drain()
    room.send(type="playback.ended", question_id="q1")
    messages, effects = room.drain()
    (listening,) = messages
    assert isinstance(listening, Listening) and (listening.question_id, listening.deadline_s) == ("q1", 180.0)
    assert of_type(effects, StartRecording) == [StartRecording("q1")]


def test_a_message_in_the_wrong_phase_raises_invalid_phase() -> None:
    """answer.done while the question still plays raises InvalidPhase from receive (code 4012)."""
    room = Room()
    room.asking()
    with pytest.raises(InvalidPhase) as caught:
        room.session.receive(room.conn, AnswerDone(question_id="q1"))
    assert caught.value.code == CloseCode.INVALID_PHASE and caught.value.phase is Phase.asking
    with pytest.raises(InvalidPhase):
        room.session.receive(room.conn, Hello(token="t", protocol="1.0"))


def test_receive_text_turns_a_wrong_phase_into_an_error_reply() -> None:
    """Over text, a message in the wrong phase gets an error 4012 with its request id, and nothing changes."""
    room = Room()
    room.asking()
    room.send(type="answer.done", id="r1", question_id="q1")
    messages, effects = room.drain()
    (error,) = messages
    assert isinstance(error, ErrorMessage) and (error.id, error.code) == ("r1", 4012)
    assert effects == [] and room.phase() is Phase.asking


def test_unknown_question_ids_are_not_found() -> None:
    """A message naming a question that is not in the interview gets error 4004."""
    room = Room()
    room.listening()
    room.send(type="answer.done", id="r1", question_id="nope")
    (error,) = room.messages()
    assert isinstance(error, ErrorMessage) and error.code == 4004 and error.id == "r1"


def test_every_transition_is_logged_and_published(caplog: pytest.LogCaptureFixture) -> None:
    """Each phase change is logged once by the one setter and published as phase.changed."""
    room = Room(questions=QUESTIONS[:1])
    with caplog.at_level(logging.INFO, logger="server.session.machine"):
        room.complete("q1", "a1")
    room.drain()
    changes = [(e.previous, e.phase) for e in published(room.done) if isinstance(e, PhaseChanged)]
    assert changes == [
        (Phase.lobby, Phase.media_connecting),
        (Phase.media_connecting, Phase.asking),
        (Phase.asking, Phase.listening),
        (Phase.listening, Phase.thinking),
        (Phase.thinking, Phase.completed),
    ]
    assert [r.getMessage() for r in caplog.records] == [f"session s1: {a} -> {b}" for a, b in changes]


# ---------------------------------------------------------------------- the end of an answer


def test_silence_after_speech_ends_the_answer() -> None:
    """silence_ms (2 s) after the speech stopped ends the answer, dated at the speech's end."""
    room = Room()
    room.listening()
    room.at(10)
    room.session.speech_started()
    room.at(15)
    room.session.speech_stopped(at=T0 + 14.8)
    room.drain()
    room.at(16.7)
    room.session.tick()
    assert room.phase() is Phase.listening
    room.at(16.8)
    room.session.tick()
    messages, effects = room.drain()
    assert of_type(messages, Thinking)[0].reason == "silence"
    assert of_type(effects, StopRecording) == [StopRecording("q1", keep=True)]
    assert of_type(effects, Transcribe) == [Transcribe("q1")]
    room.session.transcript_final("q1", "Hello.", 0.8)
    (save,) = of_type(room.effects(), SaveAnswer)
    assert (save.speech_at, save.ended_at, save.end_reason) == (T0 + 10, T0 + 14.8, "silence")


def test_silence_before_any_speech_does_not_end_the_answer() -> None:
    """A candidate who has not spoken yet is not cut off by the silence rule."""
    room = Room()
    room.listening()
    room.at(25)
    room.send(type="ping")
    room.session.tick()
    assert room.phase() is Phase.listening


def test_the_silence_threshold_is_configurable() -> None:
    """With silence_ms 800, 0.8 s of silence ends the answer."""
    room = Room(SessionConfig(silence_ms=800, max_follow_ups=0))
    room.listening()
    room.session.speech_started()
    room.session.speech_stopped()
    room.at(0.8)
    room.session.tick()
    assert room.phase() is Phase.thinking


def test_speech_resuming_before_the_threshold_keeps_listening() -> None:
    """A pause shorter than silence_ms followed by more speech does not end the answer."""
    room = Room()
    room.listening()
    room.session.speech_started()
    room.session.speech_stopped()
    room.at(1.5)
    room.session.speech_started()
    room.at(4)
    room.session.tick()
    assert room.phase() is Phase.listening


def test_answer_done_ends_the_answer() -> None:
    """The client's answer.done ends the answer at once."""
    room = Room()
    room.listening()
    room.session.speech_started()
    room.send(type="answer.done", question_id="q1")
    (thinking,) = of_type(room.messages(), Thinking)
    assert thinking.reason == "answer_done" and room.phase() is Phase.thinking


def test_a_repeated_answer_done_is_ignored() -> None:
    """A second answer.done for the same answer (a double click) is neither an error nor a second end."""
    room = Room()
    room.listening()
    room.send(type="answer.done", question_id="q1")
    room.drain()
    room.send(type="answer.done", question_id="q1")
    assert room.drain() == ([], [])


def test_the_time_limit_ends_the_answer_even_mid_speech() -> None:
    """expected_minutes * 60 * answer_time_factor after listening began, the answer ends."""
    room = Room(SessionConfig(answer_time_factor=1.0, heartbeat_s=1000, max_follow_ups=0))
    room.listening()  # q1 expects 2 minutes
    room.session.speech_started()
    room.at(119.9)
    room.session.tick()
    assert room.phase() is Phase.listening
    room.at(120)
    room.session.tick()
    assert of_type(room.messages(), Thinking)[0].reason == "time_limit"


def test_max_answer_s_caps_the_time_limit() -> None:
    """A question's limit never exceeds max_answer_s."""
    room = Room(SessionConfig(max_answer_s=30, max_follow_ups=0))
    room.asking()
    room.session.audio_failed("q1")
    (listening,) = of_type(room.messages(), Listening)
    assert listening.deadline_s == 30


# ---------------------------------------------------------------------- echo and barge-in


def test_speech_while_asking_is_ignored_as_echo_by_default() -> None:
    """Without barge-in, VAD events while the question plays change nothing and send nothing."""
    room = Room()
    room.asking()
    room.session.speech_started()
    room.session.speech_stopped()
    assert room.drain() == ([], []) and room.phase() is Phase.asking


def test_barge_in_interrupts_the_question() -> None:
    """With barge-in, speech stops the question's audio and starts listening with the speech counted."""
    room = Room(SessionConfig(barge_in=True, max_follow_ups=0))
    room.asking()
    room.session.audio_started("q1", 22050)
    room.drain()
    room.session.speech_started(at=T0 - 0.1)
    messages, effects = room.drain()
    assert [type(m) for m in messages] == [QuestionAudioEnd, Listening, SpeechStarted]
    assert of_type(messages, QuestionAudioEnd)[0].interrupted
    assert of_type(effects, StopSpeaking) == [StopSpeaking("q1")]
    assert of_type(effects, StartRecording) == [StartRecording("q1")]
    room.session.audio_finished("q1", 3.0)  # the cancelled stream's late report
    assert room.messages() == []


def test_the_client_can_turn_barge_in_on() -> None:
    """settings.update with barge_in true makes the next speech interrupt the question."""
    room = Room()
    room.asking()
    room.send(type="settings.update", barge_in=True)
    room.session.speech_started()
    assert room.phase() is Phase.listening


# ---------------------------------------------------------------------- the question's speech


def test_listening_starts_after_playback_even_without_the_client() -> None:
    """If playback.ended never comes, listening starts at the speech's end plus playback_grace_s."""
    room = Room()
    room.asking()
    room.session.audio_started("q1", 22050)
    room.session.audio_finished("q1", 3.0)
    room.at(7.9)
    room.session.tick()
    assert room.phase() is Phase.asking
    room.at(8.0)
    room.session.tick()
    assert room.phase() is Phase.listening


def test_a_question_whose_speech_never_starts_is_shown_as_text() -> None:
    """After tts_start_timeout_s without audio, the speech is cancelled and listening starts."""
    room = Room()
    room.asking()
    room.at(10)
    room.session.tick()
    messages, effects = room.drain()
    assert of_type(messages, QuestionAudioEnd)[0].ok is False
    assert StopSpeaking("q1") in effects and room.phase() is Phase.listening


def test_failed_speech_goes_straight_to_listening() -> None:
    """audio_failed ends the audio with ok false and starts listening."""
    room = Room()
    room.asking()
    room.session.audio_failed("q1")
    messages = room.messages()
    assert [type(m) for m in messages] == [QuestionAudioEnd, Listening]


def test_skipping_the_question_audio_stops_the_stream() -> None:
    """playback.ended before the speech finished stops the stream and starts listening."""
    room = Room()
    room.asking()
    room.session.audio_started("q1", 22050)
    room.drain()
    room.send(type="playback.ended", question_id="q1")
    assert StopSpeaking("q1") in room.effects() and room.phase() is Phase.listening


def test_stale_speech_and_transcript_reports_are_ignored() -> None:
    """Reports about a question the session has moved past change nothing."""
    room = Room()
    room.listening()
    room.session.audio_started("q1", 22050)
    room.session.audio_failed("q1")
    room.send(type="answer.done", question_id="q1")
    room.drain()
    room.session.transcript_partial("q1", "late words")
    assert of_type(room.messages(), TranscriptPartial) == []


# ---------------------------------------------------------------------- storing answers


def test_answer_saved_is_sent_only_after_the_shell_stored_the_answer() -> None:
    """transcript.final comes with SaveAnswer; answer.saved and ScoreAnswer only after answer_saved."""
    room = Room()
    room.listening()
    room.session.transcript_partial("q1", "I build")
    assert of_type(room.messages(), TranscriptPartial)[0].text == "I build"
    room.answer(text="I build pipelines.")
    messages, effects = room.drain()
    assert of_type(messages, TranscriptFinal)[0].text == "I build pipelines."
    assert of_type(messages, AnswerSaved) == [] and of_type(effects, ScoreAnswer) == []
    assert of_type(effects, SaveAnswer)[0].text == "I build pipelines."
    room.session.answer_saved("q1", "a1")
    messages, effects = room.drain()
    assert of_type(messages, AnswerSaved)[0].answer_id == "a1"
    assert of_type(effects, ScoreAnswer) == [ScoreAnswer("a1", "q1")]
    assert of_type(messages, QuestionStarted)[0].question_id == "q2"


def test_reporting_a_save_twice_breaks_the_contract() -> None:
    """A second answer_saved (or a transcript for an answer not being transcribed) raises InvalidPhase."""
    room = Room()
    room.listening()
    room.answer()
    room.session.answer_saved("q1", "a1")
    with pytest.raises(InvalidPhase):
        room.session.answer_saved("q1", "a1")
    with pytest.raises(InvalidPhase):
        room.session.transcript_final("q2", "text")


def test_a_failed_save_asks_the_question_again() -> None:
    """save_failed tells the client (4500) and asks the same question again; nothing is acknowledged."""
    room = Room()
    room.listening()
    room.answer()
    room.drain()
    room.session.save_failed("q1")
    messages = room.messages()
    assert of_type(messages, ErrorMessage)[0].code == 4500
    assert of_type(messages, QuestionStarted)[0].question_id == "q1"
    assert of_type(messages, AnswerSaved) == [] and room.session.answered == {}


def test_a_failed_transcription_still_saves_the_answer() -> None:
    """transcript_failed saves the answer without text (transcript_ok false) and asks for no follow-up."""
    room = Room(SessionConfig())
    room.listening()
    room.send(type="answer.done", question_id="q1")
    room.drain()
    room.session.transcript_failed("q1", media_ref="m/q1.webm")
    effects = room.effects()
    (save,) = of_type(effects, SaveAnswer)
    assert (save.text, save.transcript_ok, save.media_ref) == ("", False, "m/q1.webm")
    assert of_type(effects, SuggestFollowUp) == []


# ---------------------------------------------------------------------- follow-ups


def test_follow_ups_are_bounded_per_interview() -> None:
    """With max_follow_ups 1, one follow-up is asked for and asked; no later answer gets another."""
    room = Room(SessionConfig(max_follow_ups=1))
    room.listening()
    room.answer()
    (suggest,) = of_type(room.effects(), SuggestFollowUp)
    assert (suggest.question_id, suggest.answer_text) == ("q1", "I build data pipelines in Python.")
    room.session.answer_saved("q1", "a1")
    assert room.phase() is Phase.thinking  # waits for the follow-up decision
    room.session.follow_up_ready("q1", FOLLOW_UP)
    (started,) = of_type(room.messages(), QuestionStarted)
    assert (started.question_id, started.is_follow_up, started.follow_up_of) == ("f1", True, "q1")
    assert (started.number, started.total) == (2, 4)
    suggestions = 0
    for question, answer_id in (("f1", "a2"), ("q2", "a3"), ("q3", "a4")):
        room.listening(question)
        room.answer(question)
        suggestions += len(of_type(room.effects(), SuggestFollowUp))
        room.session.answer_saved(question, answer_id)
    assert suggestions == 0 and room.phase() is Phase.completed


def test_no_follow_up_moves_on() -> None:
    """follow_up_ready with None moves to the next question, and the budget stays unspent."""
    room = Room(SessionConfig(max_follow_ups=1))
    room.listening()
    room.answer()
    room.session.answer_saved("q1", "a1")
    room.session.follow_up_ready("q1", None)
    assert of_type(room.messages(), QuestionStarted)[0].question_id == "q2"
    room.listening("q2")
    room.answer("q2")
    assert len(of_type(room.effects(), SuggestFollowUp)) == 1


def test_a_slow_follow_up_is_given_up_and_a_late_one_ignored() -> None:
    """After follow_up_timeout_s the interview moves on; the follow-up arriving later is dropped."""
    room = Room(SessionConfig(max_follow_ups=1, follow_up_timeout_s=5))
    room.listening()
    room.answer()
    room.session.answer_saved("q1", "a1")
    room.at(5)
    room.session.tick()
    assert room.phase() is Phase.asking
    room.session.follow_up_ready("q1", FOLLOW_UP)
    assert [q.id for q in room.session.questions] == ["q1", "q2", "q3"]


def test_hr_can_add_a_question_after_the_current_one() -> None:
    """add_question inserts the question right after the current one, published as question.added."""
    room = Room()
    room.listening()
    room.session.add_question(FOLLOW_UP)
    assert [q.id for q in room.session.questions] == ["q1", "f1", "q2", "q3"]
    events = published(room.effects())
    assert events[0].type == "question.added" and events[0].source == "hr"
    with pytest.raises(ValueError):
        room.session.add_question(FOLLOW_UP)


# ---------------------------------------------------------------------- connections


def test_a_silent_client_is_dropped_with_4008() -> None:
    """No message for heartbeat_s closes the connection (4008) and abandons the attempt."""
    room = Room()
    room.listening()
    room.at(29)
    room.send(type="ping", id="p")
    assert room.messages() == [Pong(id="p")]
    room.at(59)
    room.session.tick()
    assert room.phase() is Phase.listening
    room.at(59.1)
    room.session.tick()
    messages, effects = room.drain()
    assert of_type(messages, ErrorMessage)[0].code == 4008
    assert closes(effects) == [(room.conn, 4008)]
    assert StopRecording("q1", keep=False) in effects and room.phase() is Phase.lobby


def test_media_that_never_connects_times_out() -> None:
    """A joined client whose audio never flows is closed with 4008 after media_timeout_s."""
    room = Room(SessionConfig(media_timeout_s=5, max_follow_ups=0))
    room.join()
    room.at(5)
    room.session.tick()
    assert closes(room.effects()) == [(room.conn, 4008)]


def test_a_newer_connection_replaces_the_joined_one() -> None:
    """A second hello closes the first connection with 4009, and the first one's frames are then ignored."""
    room = Room()
    room.listening()
    first = room.conn
    second = room.join()
    messages, effects = room.drain()
    assert closes(effects) == [(first, 4009)]
    assert isinstance(messages[0], Welcome) and room.session.connection == second
    room.session.receive_text(first, json.dumps({"type": "ping"}))
    room.session.disconnected(first)
    assert room.drain() == ([], []) and room.session.connection == second


def test_another_major_version_is_closed_with_4010() -> None:
    """hello with protocol 2.0 gets error 4010 and a close, leaving the session alone."""
    room = Room()
    room.join(protocol="2.0", id="h")
    messages, effects = room.drain()
    (error,) = messages
    assert isinstance(error, ErrorMessage) and (error.id, error.code) == ("h", 4010)
    assert closes(effects) == [(room.conn, 4010)] and room.session.connection is None


def test_media_loss_mid_answer_asks_the_question_again() -> None:
    """Audio lost while listening discards the attempt; the question restarts when the audio returns."""
    room = Room()
    room.listening()
    room.session.media_disconnected(room.conn)
    assert StopRecording("q1", keep=False) in room.effects()
    assert room.phase() is Phase.media_connecting
    room.session.media_connected(room.conn)
    assert of_type(room.messages(), QuestionStarted)[0].question_id == "q1"


def test_webrtc_signalling_is_relayed() -> None:
    """rtc.offer and rtc.candidate become effects for the connection's peer; the answer goes back."""
    room = Room()
    room.join()
    room.drain()
    room.send(type="rtc.offer", id="o1", sdp="v=0")
    room.send(type="rtc.candidate", candidate="candidate:1", sdpMid="0", sdpMLineIndex=0)
    effects = room.effects()
    assert effects == [
        NegotiateMedia(room.conn, "v=0", "o1"),
        AddIceCandidate(room.conn, "candidate:1", "0", 0),
    ]
    room.session.rtc_answer(room.conn, "v=0 answer", "o1")
    assert room.messages() == [RtcAnswer(id="o1", sdp="v=0 answer")]


# ---------------------------------------------------------------------- the end


def test_the_last_saved_answer_completes_the_interview() -> None:
    """After the last answer is stored: interview.completed with the report, CompleteInterview, close 1000."""
    room = Room(questions=QUESTIONS[:1])
    room.listening()
    room.answer()
    room.drain()
    room.session.answer_saved("q1", "a1")
    messages, effects = room.drain()
    completed = messages[-1]
    assert isinstance(completed, InterviewCompleted) and completed.report_url == "/interviews/iv1/report"
    assert CompleteInterview() in effects and closes(effects) == [(room.conn, 1000)]
    assert room.phase() is Phase.completed


def test_the_candidate_can_leave_and_the_answer_in_flight_is_still_stored() -> None:
    """session.end ends the interview (close 1000); an answer being saved is still saved and scored."""
    room = Room()
    room.listening()
    room.answer()
    room.drain()
    room.send(type="session.end")
    messages, effects = room.drain()
    assert of_type(messages, SessionEnded)[0].reason == "candidate_left"
    assert EndInterview("candidate_left") in effects and closes(effects) == [(room.conn, 1000)]
    room.session.answer_saved("q1", "a1")
    effects = room.effects()
    assert ScoreAnswer("a1", "q1") in effects and room.session.answered == {"q1": "a1"}
    assert room.phase() is Phase.ended


def test_hr_can_terminate_and_nobody_can_rejoin() -> None:
    """terminate ends the interview; a later hello is refused with 4003."""
    room = Room()
    room.listening()
    room.session.terminate()
    assert StopRecording("q1", keep=False) in room.effects()
    room.join()
    assert closes(room.effects()) == [(room.conn, 4003)]


# ---------------------------------------------------------------------- sequence numbers and snapshots


def test_sequence_numbers_strictly_increase_across_messages_and_events() -> None:
    """Every sequenced message and published event gets the next seq; a published message keeps its seq."""
    room = Room(SessionConfig(max_follow_ups=1))
    room.listening("q1")
    room.session.transcript_partial("q1", "words")
    room.answer("q1")
    room.session.answer_saved("q1", "a1")
    room.session.follow_up_ready("q1", FOLLOW_UP)
    for question, answer_id in (("f1", "a2"), ("q2", "a3"), ("q3", "a4")):
        room.complete(question, answer_id)
    room.drain()
    assert room.phase() is Phase.completed
    sent = [(m.type, m.seq) for m in room.sent if hasattr(m, "seq")]
    events = [(e.type, e.seq) for e in published(room.done)]
    for trail in (sent, events):
        assert [seq for _, seq in trail] == sorted({seq for _, seq in trail})
    both = {seq: kind for kind, seq in sent + events}
    assert len(both) == len(set(sent) | set(events))  # a seq never names two different things
    assert {pair for pair in sent if pair[0] == "question.started"} <= set(events)


def test_every_change_queues_one_snapshot_last() -> None:
    """An input that changes the state queues exactly one SaveSnapshot, after its other effects."""
    room = Room()
    room.join()
    effects = room.effects()
    assert isinstance(effects[-1], SaveSnapshot) and len(of_type(effects, SaveSnapshot)) == 1
    assert effects[-1].snapshot == room.session.snapshot()
    room.send(type="ping")
    assert room.effects() == []  # a pong changes nothing worth saving
