"""Queries on interviews, their questions, answers and evaluations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.store.models import (
    Answer,
    Candidate,
    CvStatus,
    Evaluation,
    HrAction,
    Interview,
    Question,
    User,
    utcnow,
)


async def get(session: AsyncSession, interview_id: str) -> Interview | None:
    return await session.get(Interview, interview_id)


async def evaluation_for(session: AsyncSession, interview_id: str) -> Evaluation | None:
    result = await session.exec(select(Evaluation).where(Evaluation.interview_id == interview_id))
    return result.first()


async def with_people(
    session: AsyncSession, *, cv_status: CvStatus | None = None
) -> Sequence[tuple[Interview, Candidate, User | None, Evaluation | None]]:
    """Every interview joined with its candidate, interviewer and evaluation, newest first."""
    query = (
        select(Interview, Candidate, User, Evaluation)
        .join(Candidate, col(Candidate.id) == col(Interview.candidate_id))
        .join(User, col(User.id) == col(Interview.interviewer_id), isouter=True)
        .join(Evaluation, col(Evaluation.interview_id) == col(Interview.id), isouter=True)
    )
    if cv_status is not None:
        query = query.where(col(Candidate.cv_status) == cv_status.value)
    rows = await session.exec(query.order_by(col(Interview.created_at).desc()))
    return rows.all()


async def delete_cascade(session: AsyncSession, interview: Interview) -> None:
    """Delete an interview with its answers, questions and evaluation (in the caller's transaction)."""
    for table in (HrAction, Answer, Question, Evaluation):
        await session.exec(delete(table).where(col(table.interview_id) == interview.id))
    await session.delete(interview)
    await session.flush()


async def questions_of(session: AsyncSession, interview_id: str) -> Sequence[Question]:
    rows = await session.exec(
        select(Question).where(Question.interview_id == interview_id).order_by(col(Question.order))
    )
    return rows.all()


async def hr_actions_of(session: AsyncSession, interview_id: str) -> Sequence[HrAction]:
    """What HR did from the monitor, oldest first."""
    rows = await session.exec(
        select(HrAction).where(HrAction.interview_id == interview_id).order_by(col(HrAction.created_at))
    )
    return rows.all()


async def questions_by_interview(
    session: AsyncSession, interview_ids: Sequence[str]
) -> dict[str, list[Question]]:
    """The questions of many interviews in one query, each list in asking order."""
    found: dict[str, list[Question]] = {interview_id: [] for interview_id in interview_ids}
    if not interview_ids:
        return found
    rows = await session.exec(
        select(Question)
        .where(col(Question.interview_id).in_(list(interview_ids)))
        .order_by(col(Question.interview_id), col(Question.order))
    )
    for question in rows.all():
        found[question.interview_id].append(question)
    return found


async def answers_of(session: AsyncSession, interview_id: str) -> Sequence[Answer]:
    rows = await session.exec(select(Answer).where(Answer.interview_id == interview_id))
    return rows.all()


async def answer_for(session: AsyncSession, question_id: str) -> Answer | None:
    rows = await session.exec(select(Answer).where(Answer.question_id == question_id))
    return rows.first()


async def get_answer(session: AsyncSession, answer_id: str) -> Answer | None:
    return await session.get(Answer, answer_id)


async def get_question(session: AsyncSession, interview_id: str, question_id: str) -> Question | None:
    question = await session.get(Question, question_id)
    return question if question is not None and question.interview_id == interview_id else None


async def replace_questions(session: AsyncSession, interview_id: str, questions: Sequence[Question]) -> None:
    """Delete the interview's questions and add ``questions`` (numbered 1..n in the given order)."""
    await session.exec(delete(Question).where(col(Question.interview_id) == interview_id))
    await session.flush()
    for order, question in enumerate(questions, start=1):
        question.interview_id = interview_id
        question.order = order
        session.add(question)
    await session.flush()


async def for_person(
    session: AsyncSession, user_id: str, statuses: Sequence[str] = ()
) -> Sequence[Interview]:
    """Interviews where the user is the candidate or the creator, newest first."""
    query = select(Interview).where(
        or_(col(Interview.candidate_id) == user_id, col(Interview.owner_id) == user_id)
    )
    if statuses:
        query = query.where(col(Interview.status).in_(list(statuses)))
    rows = await session.exec(query.order_by(col(Interview.created_at).desc()))
    return rows.all()


async def search(
    session: AsyncSession,
    *,
    statuses: Sequence[str] = (),
    candidate_id: str | None = None,
    owner_id: str | None = None,
    scheduled_from: datetime | None = None,
    scheduled_to: datetime | None = None,
    skip: int = 0,
    limit: int = 100,
) -> Sequence[Interview]:
    query = select(Interview)
    if statuses:
        query = query.where(col(Interview.status).in_(list(statuses)))
    if candidate_id:
        query = query.where(col(Interview.candidate_id) == candidate_id)
    if owner_id:
        query = query.where(col(Interview.owner_id) == owner_id)
    if scheduled_from:
        query = query.where(col(Interview.scheduled_at) >= scheduled_from)
    if scheduled_to:
        query = query.where(col(Interview.scheduled_at) <= scheduled_to)
    rows = await session.exec(query.order_by(col(Interview.created_at).desc()).offset(skip).limit(limit))
    return rows.all()


async def unscored_answers(session: AsyncSession) -> Sequence[Answer]:
    """Answers whose scoring was queued or running (to resume after a restart)."""
    rows = await session.exec(select(Answer).where(col(Answer.status).in_(["submitted", "processing"])))
    return rows.all()


async def move_status(session: AsyncSession, interview_id: str, old: str, new: str) -> bool:
    """Atomically move an interview from ``old`` to ``new``; False when it was not in ``old``."""
    result = await session.exec(
        update(Interview)
        .where(col(Interview.id) == interview_id, col(Interview.status) == old)
        .values(status=new, updated_at=utcnow())
    )
    return bool(result.rowcount == 1)
