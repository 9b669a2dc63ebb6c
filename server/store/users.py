"""Queries on accounts."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.store import emails
from server.store.models import Candidate, Role, User, utcnow


async def get(session: AsyncSession, user_id: str) -> User | None:
    return await session.get(User, user_id)


async def by_email(session: AsyncSession, email: str) -> User | None:
    result = await session.exec(select(User).where(User.email == emails.normalize(email)))
    return result.first()


async def look_alike(session: AsyncSession, email: str) -> User | None:
    """An account whose email looks like ``email`` (the same confusable skeleton; the same address too)."""
    result = await session.exec(select(User).where(User.email_skeleton == emails.skeleton(email)))
    return result.first()


async def create(
    session: AsyncSession,
    *,
    email: str,
    name: str,
    password_hash: str,
    role: Role,
    job_role: str | None = None,
    user_id: str | None = None,
) -> User:
    """Add a user (flushes, so unique-email violations raise here). Candidates also get a pool row."""
    user = User(
        email=emails.normalize(email), name=name, password_hash=password_hash, role=role, job_role=job_role
    )
    if user_id:
        user.id = user_id
    session.add(user)
    await ensure_pool_row(session, user)
    await session.flush()
    return user


async def ensure_pool_row(session: AsyncSession, user: User) -> None:
    """A candidate account has a candidate-pool row with the same id (created when missing)."""
    if user.role == Role.candidate and await session.get(Candidate, user.id) is None:
        session.add(Candidate(id=user.id, name=user.name, email=user.email, created_by=user.id))


async def listing(
    session: AsyncSession, *, role: Role | None, search: str | None, skip: int, limit: int
) -> tuple[int, Sequence[User]]:
    query = select(User)
    if role is not None:
        query = query.where(User.role == role)
    if search:
        like = f"%{search.lower()}%"
        query = query.where(or_(func.lower(User.name).like(like), func.lower(User.email).like(like)))
    total = (await session.exec(select(func.count()).select_from(query.subquery()))).one()
    rows = await session.exec(query.order_by(col(User.created_at)).offset(skip).limit(limit))
    return int(total), rows.all()


def touch(user: User) -> None:
    user.updated_at = utcnow()
