"""advance_early: the next question starts as soon as an answer ends; the answer is stored meanwhile,
and is never lost (a failed save or a restart asks that question again)."""

from __future__ import annotations

from protocol.messages import AnswerSaved, ErrorMessage, InterviewCompleted, QuestionStarted, TranscriptFinal
from server.session import InterviewSession, Phase, SaveAnswer, SessionConfig, SpeakQuestion
from tests.unit.support import FOLLOW_UP, QUESTIONS, Room, of_type

EARLY = SessionConfig(max_follow_ups=0, advance_early=True)


def end_answer(room: Room, question: str) -> None:
    """From listening ``question``: the candidate speaks and presses done (no transcript yet)."""
    room.session.speech_started()
    room.session.speech_stopped()
    room.send(type="answer.done", question_id=question)


def started(room: Room) -> list[str]:
    return [m.question_id for m in of_type(room.messages(), QuestionStarted)]


def test_the_next_question_starts_when_the_answer_ends() -> None:
    """answer.done → thinking and at once the next question (with its speech), before the transcript;
    transcript.final, the save and answer.saved follow during the next question."""
    room = Room(EARLY)
    room.listening("q1")
    end_answer(room, "q1")
    messages, effects = room.drain()
    assert [type(m).__name__ for m in messages][-2:] == ["Thinking", "QuestionStarted"]
    assert [e.question.id for e in of_type(effects, SpeakQuestion)] == ["q2"]
    assert room.phase() is Phase.asking
    room.session.transcript_final("q1", "I build data pipelines.", 0.9)
    messages, effects = room.drain()
    assert of_type(messages, TranscriptFinal) and of_type(effects, SaveAnswer)
    room.session.answer_saved("q1", "a1")
    assert [m.question_id for m in of_type(room.messages(), AnswerSaved)] == ["q1"]
    assert room.phase() is Phase.asking and room.session.answered == {"q1": "a1"}


def test_without_the_setting_the_session_waits_for_the_save() -> None:
    """By default the next question starts only once the answer is stored."""
    room = Room()
    room.listening("q1")
    end_answer(room, "q1")
    assert started(room) == [] and room.phase() is Phase.thinking


def test_a_possible_follow_up_keeps_the_session_waiting() -> None:
    """While the follow-up budget lasts, the session waits for the answer (a follow-up is asked next)."""
    room = Room(SessionConfig(max_follow_ups=1, advance_early=True))
    room.listening("q1")
    end_answer(room, "q1")
    assert started(room) == [] and room.phase() is Phase.thinking


def test_a_failed_background_save_asks_that_question_again_next() -> None:
    """The client is told, and the question whose answer was lost comes right after the current one."""
    room = Room(EARLY)
    room.listening("q1")
    end_answer(room, "q1")
    room.session.transcript_final("q1", "text", 0.9)
    room.drain()
    room.session.save_failed("q1")
    assert of_type(room.messages(), ErrorMessage)
    assert [q.id for q in room.session.questions] == ["q2", "q1", "q3"]
    room.listening("q2")
    end_answer(room, "q2")
    assert started(room) == ["q1"]


def test_the_interview_completes_only_once_every_answer_is_stored() -> None:
    """After the last answer the session waits in thinking while an earlier one is still being stored."""
    room = Room(EARLY, questions=QUESTIONS[:2])
    room.listening("q1")
    end_answer(room, "q1")
    room.drain()
    room.listening("q2")
    end_answer(room, "q2")
    room.session.transcript_final("q2", "second", 0.9)
    room.session.answer_saved("q2", "a2")
    assert room.phase() is Phase.thinking and not of_type(room.messages(), InterviewCompleted)
    room.session.transcript_final("q1", "first", 0.9)
    room.session.answer_saved("q1", "a1")
    assert room.phase() is Phase.completed and of_type(room.messages(), InterviewCompleted)


def test_a_restart_asks_again_a_question_whose_answer_was_not_stored() -> None:
    """A snapshot taken while an answer was stored in the background: after a restart that question is
    asked again (after the one that was being asked), and a stored one is not."""
    room = Room(EARLY)
    room.listening("q1")
    end_answer(room, "q1")
    room.drain()
    restored = InterviewSession.restore(room.session.snapshot(), clock=room.clock)
    assert [q.id for q in restored.questions] == ["q2", "q1", "q3"]
    assert restored.current is not None and restored.current.id == "q2"
    room.session.transcript_final("q1", "first", 0.9)
    room.session.answer_saved("q1", "a1")
    stored = InterviewSession.restore(room.session.snapshot(), clock=room.clock)
    assert [q.id for q in stored.questions] == ["q1", "q2", "q3"] and stored.answered == {"q1": "a1"}


def test_a_follow_up_answer_advances_early_even_with_budget_left() -> None:
    """An answer to a follow-up cannot itself be followed up, so the next question starts at once."""
    follow_up = FOLLOW_UP.model_copy(update={"follow_up_of": "q1"})
    room = Room(SessionConfig(max_follow_ups=1, advance_early=True), questions=(follow_up, *QUESTIONS[1:]))
    room.listening("f1")
    end_answer(room, "f1")
    assert started(room) == ["q2"]
