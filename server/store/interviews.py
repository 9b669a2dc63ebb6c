"""Queries on interviews, their questions, answers and evaluations."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.store.models import Answer, Candidate, CvStatus, Evaluation, Interview, Question, User


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
    for table in (Answer, Question, Evaluation):
        await session.exec(delete(table).where(col(table.interview_id) == interview.id))
    await session.delete(interview)
    await session.flush()
