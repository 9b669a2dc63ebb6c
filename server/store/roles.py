"""Queries on job roles (seed 003 `/api/roles`; seed 004's `job_title` is a role id)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.store.models import JobRole
from server.store.tracking import contains


async def get(session: AsyncSession, role_id: int) -> JobRole | None:
    return await session.get(JobRole, role_id)


async def by_name(session: AsyncSession, name: str) -> JobRole | None:
    result = await session.exec(select(JobRole).where(func.lower(JobRole.role_name) == name.strip().lower()))
    return result.first()


async def listing(
    session: AsyncSession, *, search: str | None, category: str | None, skip: int, limit: int
) -> tuple[int, Sequence[JobRole]]:
    query = select(JobRole)
    if search:
        query = query.where(contains(JobRole.role_name, search))
    if category:
        query = query.where(func.lower(JobRole.role_category) == category.lower())
    total = (await session.exec(select(func.count()).select_from(query.subquery()))).one()
    rows = await session.exec(query.order_by(col(JobRole.role_name)).offset(skip).limit(limit))
    return int(total), rows.all()


async def names(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await session.exec(select(JobRole.id, JobRole.role_name).where(col(JobRole.id).in_(ids)))
    return {int(role_id): name for role_id, name in rows.all() if role_id is not None}
