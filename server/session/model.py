"""The session's inputs that are data: its questions and its configuration (both JSON round-trippable)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from protocol.messages import AUDIO_SAMPLE_RATE, IceServer, SessionSettings

__all__ = ["Question", "SessionConfig"]


class Question(BaseModel):
    """One interview question, as stored (``server.store.models.Question``) and asked."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Annotated[str, Field(min_length=1, max_length=64)]
    order: int
    text: Annotated[str, Field(min_length=1)]
    category: str = "technical"
    expected_minutes: Annotated[int, Field(ge=1, le=30)] = 3
    follow_up_of: str | None = Field(default=None, description="the question this one follows up")


class SessionConfig(BaseModel):
    """How one live session behaves. Durations in seconds unless the name says ``_ms``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    silence_ms: Annotated[int, Field(ge=300, le=30_000)] = 2000
    """Silence after speech that ends an answer (an interview's, not a chat bot's 0.5 s)."""
    max_answer_s: Annotated[float, Field(gt=0)] = 900.0
    """Upper bound of any answer's time limit."""
    answer_time_factor: Annotated[float, Field(gt=0)] = 1.5
    """A question's time limit is ``expected_minutes * 60 * answer_time_factor`` (capped)."""
    barge_in: bool = False
    """Speech while the question plays interrupts it; else it is ignored as echo."""
    heartbeat_s: Annotated[float, Field(gt=0)] = 30.0
    media_timeout_s: Annotated[float, Field(gt=0)] = 30.0
    """How long a joined client may take to get its audio flowing."""
    tts_start_timeout_s: Annotated[float, Field(gt=0)] = 10.0
    """A question whose speech has not started by then is shown as text only."""
    playback_grace_s: Annotated[float, Field(ge=0)] = 5.0
    """Listening starts this long after the speech's end even if the client never says playback.ended."""
    follow_up_timeout_s: Annotated[float, Field(gt=0)] = 10.0
    max_follow_ups: Annotated[int, Field(ge=0, le=5)] = 1
    advance_early: bool = False
    """When no follow-up can come of an answer, ask the next question as soon as the answer ends, while
    the answer is transcribed and stored in the background (one at a time); else wait until it is stored."""
    ice_servers: tuple[IceServer, ...] = ()

    def answer_limit_s(self, question: Question) -> float:
        """The time limit of an answer to ``question``."""
        return min(self.max_answer_s, question.expected_minutes * 60 * self.answer_time_factor)

    def settings(self, barge_in: bool) -> SessionSettings:
        """The ``welcome.config`` a client gets (``barge_in`` as currently set for the session)."""
        return SessionSettings(
            silence_ms=self.silence_ms,
            max_answer_s=self.max_answer_s,
            barge_in=barge_in,
            heartbeat_s=self.heartbeat_s,
            sample_rate=AUDIO_SAMPLE_RATE,
            ice_servers=list(self.ice_servers),
        )
