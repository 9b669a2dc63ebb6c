"""Interview lifecycle rules and each family's words for the statuses (no I/O)."""

from __future__ import annotations

from server.domain.errors import InvalidInput
from server.store.models import InterviewStatus

S = InterviewStatus

# Seed 001 (`/interviews`) vocabulary.
STATUS_001 = {
    S.created: "created",
    S.scheduled: "questions_generated",
    S.in_progress: "in_progress",
    S.completed: "completed",
    S.evaluated: "completed",
    S.cancelled: "cancelled",
}
# Seed 000 (`/api/v1/interview`) vocabulary.
STATUS_000 = {
    S.created: "pending_questions",
    S.scheduled: "scheduled",
    S.in_progress: "in_progress",
    S.completed: "completed",
    S.evaluated: "evaluated",
    S.cancelled: "cancelled",
}
FINISHED = frozenset({S.completed, S.evaluated})
ACTIVE = frozenset({S.created, S.scheduled, S.in_progress})
VOICES = ("male", "female")
DEFAULT_VOICE = "female"
MIN_QUESTIONS, MAX_QUESTIONS = 1, 20


def require(
    status: InterviewStatus, allowed: set[InterviewStatus] | frozenset[InterviewStatus], message: str
) -> None:
    """Raise a 400 with ``message`` unless ``status`` is one of ``allowed``."""
    if status not in allowed:
        raise InvalidInput(message, details={"status": [f"Interview is {STATUS_001[status]}"]})


def check_voice(voice: str | None) -> str:
    if voice not in VOICES:
        raise InvalidInput(
            "Invalid voice: use 'male' or 'female'", details={"voice": ["Must be male or female"]}
        )
    return voice


def questions_editable(status: InterviewStatus, answered: int) -> bool:
    """HR may change the questions until the interview starts (and nothing has been answered)."""
    return status in (S.created, S.scheduled) and answered == 0
