"""Queries for seed 003's catalogs (companies, skills, question bank) and tracked interviews.

Lists return ``(total, rows)`` for the ``{total, skip, limit, data}`` envelope. A tracked interview is
visible to its owner only (``owner_id=None`` means every owner: an admin's view). Statistics are GROUP BY
aggregates computed in the database.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Text, case, cast, func, or_, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from server.store.models import JobRole, utcnow
from server.store.tracking_models import (
    DIFFICULTY_RANK,
    BankQuestion,
    Company,
    InterviewQuestionLink,
    InterviewRound,
    QuestionCategory,
    QuestionDifficulty,
    Skill,
    TrackedInterview,
)

M = TypeVar("M", bound=SQLModel)
MAX_ID = 2**31 - 1  # PostgreSQL INTEGER: a larger id cannot exist (and would fail in the driver)


def like_pattern(text: str) -> str:
    """``%text%`` (lower-cased) for ``LIKE ... ESCAPE '\\'``: wildcards in ``text`` match literally."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contains(column: Any, text: str) -> ColumnElement[bool]:
    """Case-insensitive substring match."""
    return func.lower(column).like(like_pattern(text), escape="\\")


async def get(session: AsyncSession, model: type[M], row_id: int) -> M | None:
    """The row with this integer id, or None (ids outside PostgreSQL's INTEGER range never exist)."""
    return await session.get(model, row_id) if 1 <= row_id <= MAX_ID else None


async def _page(
    session: AsyncSession, query: SelectOfScalar[M], skip: int, limit: int
) -> tuple[int, list[M]]:
    total = (await session.exec(select(func.count()).select_from(query.subquery()))).one()
    rows = await session.exec(query.offset(skip).limit(limit))
    return int(total), list(rows.all())


# ---------------------------------------------------------------- companies and skills


async def company_by_name(session: AsyncSession, name: str) -> Company | None:
    query = select(Company).where(func.lower(Company.company_name) == name.strip().lower())
    return (await session.exec(query)).first()


async def companies(
    session: AsyncSession, *, search: str | None, skip: int, limit: int
) -> tuple[int, list[Company]]:
    query = select(Company)
    if search:
        query = query.where(contains(Company.company_name, search))
    return await _page(session, query.order_by(col(Company.company_name), col(Company.id)), skip, limit)


async def skill_by_name(session: AsyncSession, name: str) -> Skill | None:
    query = select(Skill).where(func.lower(Skill.skill_name) == name.strip().lower())
    return (await session.exec(query)).first()


async def skills(
    session: AsyncSession,
    *,
    search: str | None,
    category: str | None,
    is_trending: bool | None,
    skip: int,
    limit: int,
) -> tuple[int, list[Skill]]:
    query = select(Skill)
    if search:
        query = query.where(contains(Skill.skill_name, search))
    if category:
        query = query.where(func.lower(Skill.skill_category) == category.strip().lower())
    if is_trending is not None:
        query = query.where(col(Skill.is_trending).is_(is_trending))
    return await _page(session, query.order_by(col(Skill.skill_name), col(Skill.id)), skip, limit)


# ---------------------------------------------------------------- question bank


@dataclass(frozen=True)
class QuestionFilter:
    category: QuestionCategory | None = None
    difficulty: QuestionDifficulty | None = None
    search: str | None = None
    tags: tuple[str, ...] = ()
    is_active: bool | None = True


def _has_any_tag(tags: tuple[str, ...]) -> ColumnElement[bool]:
    """Whether the JSON ``tags`` list holds any of ``tags`` (any case).

    The list is stored as JSON text (``["a", "b"]``), so an element matches its quoted JSON form; tags are
    validated to a charset without quotes or backslashes, so a quoted match is always a whole element.
    """
    text = func.lower(cast(BankQuestion.tags, Text))
    return or_(*(text.like(like_pattern(json.dumps(tag)), escape="\\") for tag in tags))


def _question_order(sort_by: str, descending: bool) -> list[Any]:
    column: Any
    if sort_by == "question_difficulty":
        column = case(DIFFICULTY_RANK, value=BankQuestion.question_difficulty, else_=len(DIFFICULTY_RANK))
    else:
        column = getattr(BankQuestion, sort_by)
    key = column.desc() if descending else column.asc()
    tie = col(BankQuestion.id).desc() if descending else col(BankQuestion.id).asc()
    return [key.nulls_last(), tie]


async def questions(
    session: AsyncSession, where: QuestionFilter, *, sort_by: str, descending: bool, skip: int, limit: int
) -> tuple[int, list[BankQuestion]]:
    query = select(BankQuestion)
    if where.category is not None:
        query = query.where(BankQuestion.question_category == where.category.value)
    if where.difficulty is not None:
        query = query.where(BankQuestion.question_difficulty == where.difficulty.value)
    if where.search:
        query = query.where(contains(BankQuestion.question_text, where.search))
    if where.tags:
        query = query.where(_has_any_tag(where.tags))
    if where.is_active is not None:
        query = query.where(col(BankQuestion.is_active).is_(where.is_active))
    return await _page(session, query.order_by(*_question_order(sort_by, descending)), skip, limit)


async def count_question_use(session: AsyncSession, question_id: int) -> None:
    """Count one more ask of the question and refresh its average answer rating (atomic UPDATEs)."""
    mean = (
        select(func.avg(InterviewQuestionLink.answer_quality_rating))
        .where(InterviewQuestionLink.question_id == question_id)
        .scalar_subquery()
    )
    await session.exec(
        update(BankQuestion)
        .where(col(BankQuestion.id) == question_id)
        .values(times_asked=BankQuestion.times_asked + 1, average_rating=mean, updated_at=utcnow())
    )


# ---------------------------------------------------------------- tracked interviews


@dataclass(frozen=True)
class InterviewRow:
    """A tracked interview with its company's and role's names (for lists)."""

    interview: TrackedInterview
    company_name: str | None
    role_name: str | None


@dataclass(frozen=True)
class InterviewFilter:
    owner_id: str | None  # None: every owner (an admin)
    company_id: int | None = None
    role_id: int | None = None
    interview_type: str | None = None
    interview_status: str | None = None
    interview_result: str | None = None
    seniority_level: str | None = None
    is_remote: bool | None = None


def _interview_conditions(where: InterviewFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if where.owner_id is not None:
        conditions.append(col(TrackedInterview.owner_id) == where.owner_id)
    for name in ("company_id", "role_id", "interview_type", "interview_status", "interview_result"):
        value = getattr(where, name)
        if value is not None:
            conditions.append(getattr(TrackedInterview, name) == value)
    if where.seniority_level is not None:
        conditions.append(col(TrackedInterview.seniority_level) == where.seniority_level)
    if where.is_remote is not None:
        conditions.append(col(TrackedInterview.is_remote).is_(where.is_remote))
    return conditions


def _interview_order(sort_by: str, descending: bool) -> list[Any]:
    column: Any = (
        col(Company.company_name) if sort_by == "company_name" else getattr(TrackedInterview, sort_by)
    )
    key = column.desc() if descending else column.asc()
    tie = col(TrackedInterview.id).desc() if descending else col(TrackedInterview.id).asc()
    return [key.nulls_last(), tie]


async def interviews(
    session: AsyncSession, where: InterviewFilter, *, sort_by: str, descending: bool, skip: int, limit: int
) -> tuple[int, list[InterviewRow]]:
    conditions = _interview_conditions(where)
    total = (await session.exec(select(func.count()).select_from(TrackedInterview).where(*conditions))).one()
    query = (
        select(TrackedInterview, Company.company_name, JobRole.role_name)
        .outerjoin(Company, col(TrackedInterview.company_id) == col(Company.id))
        .outerjoin(JobRole, col(TrackedInterview.role_id) == col(JobRole.id))
        .where(*conditions)
        .order_by(*_interview_order(sort_by, descending))
        .offset(skip)
        .limit(limit)
    )
    rows = await session.exec(query)
    return int(total), [InterviewRow(row[0], row[1], row[2]) for row in rows.all()]


async def rounds(session: AsyncSession, interview_id: int) -> Sequence[InterviewRound]:
    query = select(InterviewRound).where(InterviewRound.interview_id == interview_id)
    rows = await session.exec(query.order_by(col(InterviewRound.round_number), col(InterviewRound.id)))
    return rows.all()


async def round_by_number(session: AsyncSession, interview_id: int, number: int) -> InterviewRound | None:
    query = select(InterviewRound).where(
        InterviewRound.interview_id == interview_id, InterviewRound.round_number == number
    )
    return (await session.exec(query)).first()


async def links(session: AsyncSession, interview_id: int) -> list[tuple[InterviewQuestionLink, BankQuestion]]:
    """The interview's questions in the order asked (unordered ones last), each with its bank question."""
    query = (
        select(InterviewQuestionLink, BankQuestion)
        .join(BankQuestion, col(InterviewQuestionLink.question_id) == col(BankQuestion.id))
        .where(InterviewQuestionLink.interview_id == interview_id)
        .order_by(col(InterviewQuestionLink.order_asked).asc().nulls_last(), col(InterviewQuestionLink.id))
    )
    return [(link, question) for link, question in (await session.exec(query)).all()]


async def link_for(
    session: AsyncSession, interview_id: int, question_id: int
) -> InterviewQuestionLink | None:
    query = select(InterviewQuestionLink).where(
        InterviewQuestionLink.interview_id == interview_id, InterviewQuestionLink.question_id == question_id
    )
    return (await session.exec(query)).first()


# ---------------------------------------------------------------- statistics


async def _grouped(session: AsyncSession, column: Any, *conditions: ColumnElement[bool]) -> dict[str, int]:
    query = select(column, func.count()).where(*conditions).group_by(column).order_by(column)
    return {str(key): int(count) for key, count in (await session.exec(query)).all() if key is not None}


async def overview(session: AsyncSession, owner_id: str | None) -> dict[str, Any]:
    """Seed 003's ``/api/stats/overview``: the owner's interviews (None: all) and the active bank."""
    mine = [col(TrackedInterview.owner_id) == owner_id] if owner_id is not None else []
    active = col(BankQuestion.is_active).is_(True)
    by_status = await _grouped(session, col(TrackedInterview.interview_status), *mine)
    by_result = await _grouped(session, col(TrackedInterview.interview_result), *mine)
    by_category = await _grouped(session, col(BankQuestion.question_category), active)
    by_difficulty = await _grouped(session, col(BankQuestion.question_difficulty), active)
    companies_total = (await session.exec(select(func.count()).select_from(Company))).one()
    return {
        "total_interviews": sum(by_status.values()),
        "total_questions": sum(by_category.values()),
        "total_companies": int(companies_total),
        "interviews_by_status": by_status,
        "interviews_by_result": by_result,
        "questions_by_category": by_category,
        "questions_by_difficulty": by_difficulty,
    }
