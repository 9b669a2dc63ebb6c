"""Recording answers: the rule that a stored live answer is final, written once for every caller.

The database is the truth for answers. A live answer, once its row is written and acknowledged, is never
replaced or doubled by a later live save for the same question — whether that save comes from a retry
whose first commit did succeed, from a session restored from an older snapshot, or from another instance
that took the session over. (The REST families keep their own documented rules for text answers before
an interview is submitted; an HR "ask again" creates a new question, and so a new answer.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from server.store import interviews
from server.store.db import Database
from server.store.models import Answer, AnswerStatus, utcnow


@dataclass(frozen=True)
class LiveAnswer:
    """What the live room captured for one question."""

    text: str
    media_path: str
    metrics: dict[str, Any] = field(default_factory=dict)
    emotion: str | None = None
    confidence: str | None = None


@dataclass(frozen=True)
class Recorded:
    answer_id: str
    created: bool
    """False when an answer was already stored for the question: it was kept exactly as it was."""


async def record_live_answer(
    db: Database, interview_id: str, question_id: str, answer: LiveAnswer
) -> Recorded:
    """Store ``answer`` as the answer to ``question_id``, queued for scoring, unless one is stored already;
    committed when this returns, so the caller may acknowledge it.

    Idempotent: with a stored answer, nothing is written and its id is returned (``created=False``). Two
    concurrent first saves are settled by the table's one-answer-per-question constraint: the loser gets
    the winner's id.
    """
    try:
        async with db.session() as session:
            stored = await interviews.answer_for(session, question_id)
            if stored is not None:
                return Recorded(stored.id, created=False)
            row = Answer(
                interview_id=interview_id,
                question_id=question_id,
                text=answer.text,
                transcript=answer.text,
                media_path=answer.media_path,
                metrics=answer.metrics,
                emotion=answer.emotion,
                confidence=answer.confidence,
                status=AnswerStatus.submitted,
                updated_at=utcnow(),
            )
            session.add(row)
            await session.flush()
            answer_id: str = row.id
    except IntegrityError:
        async with db.session() as session:
            winner = await interviews.answer_for(session, question_id)
        if winner is None:
            raise
        return Recorded(winner.id, created=False)
    return Recorded(answer_id, created=True)


async def stored_answers(session: AsyncSession, interview_id: str) -> dict[str, str]:
    """Question id → answer id of every answer stored for the interview (what a live session must
    count as answered, whatever its snapshot says)."""
    return {answer.question_id: answer.id for answer in await interviews.answers_of(session, interview_id)}


def ai_follow_ups(sources: Iterable[str]) -> int:
    """How many of the interview's questions (given by their sources) are AI follow-ups: the budget
    already spent."""
    return sum(1 for source in sources if source == "follow_up")
