"""Queries on the candidate pool."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.store import emails
from server.store.models import Candidate, CvStatus, Interview, utcnow
from server.store.tracking import contains


async def get(session: AsyncSession, candidate_id: str) -> Candidate | None:
    return await session.get(Candidate, candidate_id)


async def by_email(session: AsyncSession, email: str) -> Candidate | None:
    result = await session.exec(select(Candidate).where(Candidate.email == emails.normalize(email)))
    return result.first()


async def look_alike(session: AsyncSession, email: str, *, other_than: str | None = None) -> Candidate | None:
    """A pool entry, other than ``other_than``, whose email looks like ``email`` (the same confusable
    skeleton; the same address included)."""
    query = select(Candidate).where(Candidate.email_skeleton == emails.skeleton(email))
    if other_than is not None:
        query = query.where(Candidate.id != other_than)
    return (await session.exec(query)).first()


async def listing(
    session: AsyncSession,
    *,
    search: str | None = None,
    statuses: Sequence[CvStatus] = (),
    job_role_id: int | None = None,
    skip: int = 0,
    limit: int | None = None,
) -> tuple[int, Sequence[Candidate]]:
    query = select(Candidate)
    if search:
        query = query.where(
            or_(
                contains(Candidate.name, search),
                contains(Candidate.email, search),
                contains(func.coalesce(Candidate.phone_number, ""), search),
                contains(func.coalesce(Candidate.place, ""), search),
            )
        )
    if statuses:
        query = query.where(col(Candidate.cv_status).in_([s.value for s in statuses]))
    if job_role_id is not None:
        query = query.where(Candidate.job_role_id == job_role_id)
    total = (await session.exec(select(func.count()).select_from(query.subquery()))).one()
    query = query.order_by(col(Candidate.created_at).desc(), col(Candidate.name)).offset(skip)
    rows = await session.exec(query.limit(limit) if limit is not None else query)
    return int(total), rows.all()


async def move_status(session: AsyncSession, candidate_id: str, old: CvStatus, new: CvStatus) -> bool:
    """Atomically move a CV from ``old`` to ``new``; False if it was not in ``old`` (a concurrent change)."""
    result = await session.exec(
        update(Candidate)
        .where(col(Candidate.id) == candidate_id, col(Candidate.cv_status) == old.value)
        .values(cv_status=new.value, updated_at=utcnow())
    )
    return bool(result.rowcount == 1)


async def interview_count(session: AsyncSession, candidate_id: str) -> int:
    query = select(func.count()).select_from(Interview).where(Interview.candidate_id == candidate_id)
    return int((await session.exec(query)).one())
