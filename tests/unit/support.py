"""Helpers shared by the session tests: a ``Room`` that drives an ``InterviewSession`` on a manual clock, its
questions, and filters over what it sends and asks for."""

from __future__ import annotations

import json
from typing import Any

from protocol.messages import Hello, ServerMessage
from server.session import Close, Effect, InterviewSession, Phase, Publish, Question, SessionConfig
from server.session.replay import ManualClock

T0 = 1000.0
QUESTIONS = (
    Question(id="q1", order=1, text="Tell me about yourself.", category="intro", expected_minutes=2),
    Question(id="q2", order=2, text="How would you design a rate limiter?", expected_minutes=3),
    Question(id="q3", order=3, text="Describe a conflict in your team.", category="behavioral"),
)
FOLLOW_UP = Question(id="f1", order=4, text="Which pipeline was the hardest, and why?", category="follow_up")


class Room:
    """A session on a manual clock, with helpers that play the client and the shell."""

    def __init__(
        self, config: SessionConfig | None = None, questions: tuple[Question, ...] = QUESTIONS
    ) -> None:
        self.clock = ManualClock(T0)
        self.session = InterviewSession(
            session_id="s1",
            interview_id="iv1",
            questions=questions,
            report_url="/interviews/iv1/report",
            config=config or SessionConfig(max_follow_ups=0),
            clock=self.clock,
        )
        self.conn = 0
        self.sent: list[ServerMessage] = []
        self.done: list[Effect] = []

    def phase(self) -> Phase:
        """The session's phase (a call, so that type checkers do not narrow it across inputs)."""
        return self.session.phase

    def at(self, seconds: float) -> None:
        """Move the clock to ``T0 + seconds``."""
        self.clock.now = T0 + seconds

    def join(self, **fields: Any) -> int:
        self.conn = self.session.join(Hello(token="t", protocol=fields.pop("protocol", "1.0"), **fields))
        return self.conn

    def send(self, **message: Any) -> None:
        self.session.receive_text(self.conn, json.dumps(message))

    def drain(self) -> tuple[list[ServerMessage], list[Effect]]:
        messages = [out.message for out in self.session.drain_messages()]
        effects = self.session.drain_effects()
        self.sent += messages
        self.done += effects
        return messages, effects

    def messages(self) -> list[ServerMessage]:
        return self.drain()[0]

    def effects(self) -> list[Effect]:
        return self.drain()[1]

    def asking(self, question: str = "q1") -> None:
        """Join, connect media: the first question is being asked."""
        self.join()
        self.session.media_connected(self.conn)
        assert self.phase() is Phase.asking
        self.drain()

    def listening(self, question: str = "q1") -> None:
        """From asking ``question``: its speech plays to the end, then listening starts."""
        if self.phase() is not Phase.asking:
            self.asking()
        self.session.audio_started(question, 22050)
        self.session.audio_finished(question, 2.0)
        self.send(type="playback.ended", question_id=question)
        assert self.phase() is Phase.listening
        self.drain()

    def answer(self, question: str = "q1", text: str = "I build data pipelines in Python.") -> None:
        """From listening: speak, press done, transcribe; the answer is waiting to be saved."""
        self.session.speech_started()
        self.session.speech_stopped()
        self.send(type="answer.done", question_id=question)
        self.session.transcript_final(question, text, 0.9)
        assert self.phase() is Phase.thinking

    def complete(self, question: str, answer_id: str) -> None:
        """Listen to, answer and save ``question``."""
        self.listening(question)
        self.answer(question)
        self.session.answer_saved(question, answer_id)


def of_type(items: list[Any], kind: type) -> list[Any]:
    return [item for item in items if isinstance(item, kind)]


def published(effects: list[Effect]) -> list[Any]:
    return [effect.event for effect in effects if isinstance(effect, Publish)]


def closes(effects: list[Effect]) -> list[tuple[int, int]]:
    return [(effect.connection, effect.code) for effect in effects if isinstance(effect, Close)]
