"""The interview's lifecycle: each family's words for the statuses, the rules, and the verbs that move an
interview from one status to the next (through ``store/``)."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from server.domain.errors import InvalidInput
from server.store import interviews
from server.store.models import Interview, InterviewStatus, utcnow

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


# ---------------------------------------------------------------------------- verbs
# Each status transition is written here once; every family, the live room and the jobs call these.


async def start(session: AsyncSession, interview: Interview) -> bool:
    """scheduled → in_progress, atomically: of several concurrent starts exactly one gets True; an
    interview that is not scheduled is left alone (False). Stamps ``started_at``; ``interview`` is
    refreshed from the database either way."""
    started = await interviews.move_status(session, interview.id, S.scheduled, S.in_progress)
    await session.refresh(interview)
    if started:
        interview.started_at = utcnow()
        session.add(interview)
    return started


async def complete(session: AsyncSession, interview: Interview, *, index: int | None = None) -> bool:
    """The interview is over: in_progress (or scheduled, answered without a start) → completed,
    atomically, stamping ``completed_at`` (and the question index reached, when given). False, and
    nothing written, when it is not open (already completed or evaluated, or cancelled)."""
    for old in (S.in_progress, S.scheduled):
        if await interviews.move_status(session, interview.id, old, S.completed):
            await session.refresh(interview)
            interview.completed_at = utcnow()
            if index is not None:
                interview.current_question_index = index
            session.add(interview)
            return True
    await session.refresh(interview)
    return False


async def cancel(session: AsyncSession, interview: Interview) -> bool:
    """scheduled → cancelled (nobody took it), atomically; False when it was not scheduled."""
    cancelled = await interviews.move_status(session, interview.id, S.scheduled, S.cancelled)
    await session.refresh(interview)
    return cancelled
