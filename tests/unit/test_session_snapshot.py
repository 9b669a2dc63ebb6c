"""Session snapshots, restore after a server restart, and resume after a dropped socket."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from protocol.messages import AnswerSaved, QuestionStarted, TranscriptFinal, Welcome
from server.session import (
    RESTORE_SEQ_GAP,
    CompleteInterview,
    InterviewSession,
    InvalidPhase,
    Phase,
    SaveAnswer,
    SaveSnapshot,
    SessionConfig,
)
from tests.unit.support import FOLLOW_UP, QUESTIONS, Room, closes, of_type


def restart(room: Room) -> InterviewSession:
    """Simulate a server restart: the snapshot goes through JSON into a new session on the same clock."""
    room.drain()
    room.session = InterviewSession.restore(json.loads(json.dumps(room.session.snapshot())), clock=room.clock)
    room.conn = 0
    return room.session


def in_lobby(room: Room) -> None:
    pass


def media_connecting(room: Room) -> None:
    room.join()


def asking(room: Room) -> None:
    room.asking()


def listening(room: Room) -> None:
    room.listening()
    room.session.speech_started()


def thinking_unsaved(room: Room) -> None:
    room.listening()
    room.answer()


def thinking_saved(room: Room) -> None:
    room.listening()
    room.answer()
    room.session.answer_saved("q1", "a1")  # waits for the follow-up decision


def completed(room: Room) -> None:
    room.complete("q1", "a1")
    room.session.follow_up_ready("q1", None)


def ended(room: Room) -> None:
    room.listening()
    room.session.terminate()


# (drive the session there, the phase it is in, the phase and question index after a restore)
PHASES: list[tuple[Callable[[Room], None], Phase, Phase, int]] = [
    (in_lobby, Phase.lobby, Phase.lobby, 0),
    (media_connecting, Phase.media_connecting, Phase.lobby, 0),
    (asking, Phase.asking, Phase.lobby, 0),
    (listening, Phase.listening, Phase.lobby, 0),
    (thinking_unsaved, Phase.thinking, Phase.lobby, 0),
    (thinking_saved, Phase.thinking, Phase.completed, 1),
    (completed, Phase.completed, Phase.completed, 1),
    (ended, Phase.ended, Phase.ended, 0),
]


def one_question_room() -> Room:
    return Room(SessionConfig(max_follow_ups=1), questions=QUESTIONS[:1])


@pytest.mark.parametrize(("drive", "phase", "after", "index"), PHASES, ids=[p[0].__name__ for p in PHASES])
def test_snapshot_round_trips_through_json_at_every_phase(
    drive: Callable[[Room], None], phase: Phase, after: Phase, index: int
) -> None:
    """At every phase the snapshot is JSON; restoring it keeps the interview's data, recovers in-flight
    work to the documented phase, and restoring the restored session's snapshot changes nothing more."""
    room = one_question_room()
    drive(room)
    assert room.phase() is phase
    before = room.session.snapshot()
    assert json.loads(json.dumps(before)) == before
    restored = restart(room)
    after_snapshot = restored.snapshot()
    assert (restored.phase, after_snapshot["index"]) == (after, index)
    for key in (
        "session_id",
        "interview_id",
        "report_url",
        "config",
        "questions",
        "answered",
        "follow_ups_used",
    ):
        assert after_snapshot[key] == before[key], key
    assert after_snapshot["seq"] >= before["seq"] + RESTORE_SEQ_GAP
    assert after_snapshot["attempt"] is None and after_snapshot["pending"] is None
    again = InterviewSession.restore(after_snapshot, clock=room.clock).snapshot()
    assert {**again, "seq": 0} == {**after_snapshot, "seq": 0}
    assert again["seq"] == after_snapshot["seq"] + RESTORE_SEQ_GAP


def test_restore_queues_a_snapshot_and_the_phase_change() -> None:
    """A restored session queues its phase.changed event and a SaveSnapshot for the shell to run."""
    room = one_question_room()
    listening(room)
    restart(room)
    effects = room.effects()
    assert isinstance(effects[-1], SaveSnapshot) and effects[-1].snapshot["phase"] == "lobby"


def test_restore_refuses_a_foreign_snapshot() -> None:
    """A snapshot of another format, or with fields missing, is a ValueError."""
    with pytest.raises(ValueError):
        InterviewSession.restore({"format": "other"})
    snapshot: dict[str, Any] = Room().session.snapshot()
    del snapshot["questions"]
    with pytest.raises(ValueError):
        InterviewSession.restore(snapshot)


def test_a_restart_before_the_answer_is_stored_asks_it_again_once() -> None:
    """Restarted while thinking before the save: the resumed client is asked the question again, and the
    answer is saved (and acknowledged) exactly once."""
    room = Room()
    room.listening()
    room.answer()
    assert len(of_type(room.effects(), SaveAnswer)) == 1
    restart(room)
    room.join(resume=True, last_seq=room.session.seq)
    (welcome,) = room.messages()
    assert isinstance(welcome, Welcome) and welcome.resumed and welcome.state.answered == []
    room.session.media_connected(room.conn)
    assert of_type(room.messages(), QuestionStarted)[0].question_id == "q1"
    room.listening()
    room.answer()
    room.session.answer_saved("q1", "a1")
    room.drain()
    assert len(of_type(room.done, SaveAnswer)) == 2  # the second replaces the never-acknowledged first
    assert [m.question_id for m in of_type(room.sent, AnswerSaved)] == ["q1"]
    assert room.session.answered == {"q1": "a1"}


def test_a_restart_after_the_answer_is_stored_moves_on() -> None:
    """Restarted while thinking after the save (a follow-up was pending): the next question comes next."""
    room = Room(SessionConfig(max_follow_ups=1))
    thinking_saved(room)
    restart(room)
    room.join(resume=True)
    (welcome,) = room.messages()
    assert isinstance(welcome, Welcome) and welcome.state.answered == ["q1"]
    assert welcome.state.question is not None and welcome.state.question.question_id == "q2"
    room.session.media_connected(room.conn)
    assert of_type(room.messages(), QuestionStarted)[0].question_id == "q2"
    room.session.follow_up_ready("q1", FOLLOW_UP)  # from the dead process's engine call: ignored
    assert [q.id for q in room.session.questions] == ["q1", "q2", "q3"]


def test_a_restart_after_the_last_answer_is_stored_completes_the_interview() -> None:
    """If the stored answer was the last one, the restored session completes the interview itself."""
    room = one_question_room()
    thinking_saved(room)
    restart(room)
    assert CompleteInterview() in room.effects()


def test_a_dropped_socket_mid_answer_resumes_with_the_question_again() -> None:
    """The socket drops while listening: the recording is discarded, and the resumed client hears the
    question again from the start."""
    room = Room()
    room.listening()
    room.session.speech_started()
    room.session.disconnected(room.conn, 1006)
    assert room.phase() is Phase.lobby
    room.drain()
    room.join(resume=True, last_seq=room.session.seq)
    (welcome,) = room.messages()
    assert isinstance(welcome, Welcome) and welcome.phase == Phase.media_connecting and welcome.resumed
    room.session.media_connected(room.conn)
    assert of_type(room.messages(), QuestionStarted)[0].question_id == "q1"


@pytest.mark.parametrize(("last_seq_offset", "resent"), [(-1, True), (0, False)])
def test_resuming_while_thinking_resends_a_missed_final_transcript(
    last_seq_offset: int, resent: bool
) -> None:
    """While the answer is stored, a resuming client gets transcript.final again unless its last_seq
    shows it already had it; answer.saved then arrives as usual."""
    room = Room()
    room.listening()
    room.answer()
    final_seq = of_type(room.messages(), TranscriptFinal)[0].seq
    room.session.disconnected(room.conn)
    room.join(resume=True, last_seq=final_seq + last_seq_offset)
    messages = room.messages()
    assert isinstance(messages[0], Welcome) and messages[0].phase == Phase.thinking
    assert bool(of_type(messages, TranscriptFinal)) is resent
    room.session.answer_saved("q1", "a1")
    messages = room.messages()
    assert of_type(messages, AnswerSaved)[0].question_id == "q1"
    assert room.phase() is Phase.media_connecting  # the new connection has not brought its audio yet


def test_resuming_a_completed_interview_says_so_and_closes() -> None:
    """A client rejoining a completed session gets welcome, interview.completed, and a close 1000."""
    room = one_question_room()
    completed(room)
    restart(room)
    room.join(resume=True)
    messages, effects = room.drain()
    assert [m.type for m in messages] == ["welcome", "interview.completed"]
    assert closes(effects) == [(room.conn, 1000)]


def test_reconcile_moves_past_answers_the_database_holds_that_the_snapshot_missed() -> None:
    """The holder died after storing q1's answer but before its snapshot said so: the session restored from
    the older snapshot counts q1 as answered (the database is the truth) and asks q2 next."""
    room = Room()
    thinking_unsaved(room)  # q1 answered, SaveAnswer issued; the snapshot does not record the answer
    restored = restart(room)
    restored.reconcile({"q1": "a1"})
    room.join(resume=True)
    (welcome,) = room.messages()
    assert isinstance(welcome, Welcome) and welcome.resumed and welcome.state.answered == ["q1"]
    room.session.media_connected(room.conn)
    assert of_type(room.messages(), QuestionStarted)[0].question_id == "q2"
    assert room.session.answered == {"q1": "a1"}


def test_reconcile_a_new_session_with_stored_answers_resumes_it() -> None:
    """No snapshot survived (a new session object) but two answers and three events did: the session is
    resumed at q3, numbering goes on after the published events, and the AI follow-up budget stays spent."""
    room = Room(SessionConfig(max_follow_ups=1))
    room.session.reconcile({"q2": "a2", "q1": "a1", "elsewhere": "a9"}, seq_floor=40, follow_ups_used=1)
    snapshot = room.session.snapshot()
    assert (snapshot["index"], snapshot["answered"]) == (2, {"q1": "a1", "q2": "a2"})
    assert snapshot["follow_ups_used"] == 1 and snapshot["seq"] == 40 + RESTORE_SEQ_GAP
    assert isinstance(room.effects()[-1], SaveSnapshot)
    room.join()
    (welcome,) = room.messages()
    assert isinstance(welcome, Welcome) and welcome.resumed and welcome.seq > 40


def test_reconcile_never_asks_an_answered_question_that_was_queued_again() -> None:
    """A question queued again (its save looked failed) whose answer the database does hold moves before the
    current one instead of being asked a second time; unanswered questions keep their order."""
    room = Room()
    room.session.reconcile({"q3": "a3"})
    assert [q.id for q in room.session.questions] == ["q3", "q1", "q2"]
    assert room.session.current is not None and room.session.current.id == "q1"


def test_reconcile_refuses_once_a_client_has_joined() -> None:
    room = Room()
    room.join()
    with pytest.raises(InvalidPhase):
        room.session.reconcile({"q1": "a1"})
