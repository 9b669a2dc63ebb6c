"""Seed 003's shared catalogs: companies, skills and the question bank (roles live in ``roles``).

Any signed-in user may read and add; only an entry's creator or an admin may change or delete it (403).
Names are unique in any case (400). Deleting a question is a soft delete (``is_active`` false); a company
that tracked interviews use cannot be deleted (409).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationInfo, field_validator
from sqlalchemy.exc import IntegrityError

from server.api.deps import CurrentUser, DbSession
from server.api.pagination import Page, Skip, limit_param
from server.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.store import tracking
from server.store.models import Role, User, utcnow
from server.store.tracking_models import (
    BankQuestion,
    Company,
    MarketDemand,
    QuestionCategory,
    QuestionDifficulty,
    Skill,
)

router = APIRouter()
companies_router = APIRouter(prefix="/api/companies", tags=["companies"])
skills_router = APIRouter(prefix="/api/skills", tags=["skills"])
questions_router = APIRouter(prefix="/api/questions", tags=["questions"])

# ---------------------------------------------------------------- shared field types

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ShortName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


Text50 = Annotated[str | None, Field(max_length=50)]
Text100 = Annotated[str | None, Field(max_length=100)]
Text200 = Annotated[str | None, Field(max_length=200)]
Text500 = Annotated[str | None, Field(max_length=500)]
Text5000 = Annotated[str | None, Field(max_length=5000)]
Text20000 = Annotated[str | None, Field(max_length=20000)]


Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Lines = Annotated[list[Line], Field(max_length=50)]
Tag = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=50, pattern=r"^[A-Za-z0-9 ._+#/-]+$"),
]
Tags = Annotated[list[Tag], Field(max_length=20)]
Id = Annotated[int, Path(description="Integer id")]
QuestionText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=2000)]


class Body(BaseModel):
    """Bodies ignore unknown fields (seed 003 clients send ``created_by``; the caller is the creator)."""

    model_config = ConfigDict(extra="ignore")


class Patch(Body):
    """A partial update: only the fields sent change; ``null`` clears a field, except those in ``not_null``.

    A create model subclasses its patch model and narrows the required fields.
    """

    not_null: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name in cls.not_null:
            raise ValueError("may not be null")
        return value


class Out(BaseModel):
    @field_validator("created_at", "updated_at", check_fields=False)
    @classmethod
    def _utc(cls, moment: datetime) -> datetime:
        """SQLite hands back naive datetimes; they are UTC (so both databases answer with a ``Z``)."""
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def may_change(user: User, created_by: str | None, what: str) -> None:
    """403 unless ``user`` created the entry or is an admin."""
    if user.role != Role.admin and created_by != user.id:
        raise Forbidden(f"Only the creator of this {what} or an admin may change it")


def duplicate(field: str, what: str, name: str) -> InvalidInput:
    return InvalidInput(
        f"{what} '{name}' already exists", details={field: [f"A {what.lower()} with this name exists"]}
    )


def apply(row: Any, changes: dict[str, Any]) -> None:
    for field, value in changes.items():
        setattr(row, field, value)
    row.updated_at = utcnow()


async def flush_unique(session: DbSession, error: InvalidInput) -> None:
    """Flush; a unique-index violation (a concurrent duplicate) becomes ``error``."""
    try:
        await session.flush()
    except IntegrityError as exc:
        raise error from exc


# ---------------------------------------------------------------- companies


class CompanyUpdate(Patch):
    not_null = frozenset({"company_name"})

    company_name: Name | None = None
    industry: Text100 = None
    company_size: Text50 = None
    headquarters: Text200 = None
    website: Text500 = None
    company_description: Text5000 = None


class CompanyIn(CompanyUpdate):
    company_name: Name


class CompanyOut(Out):
    company_id: int
    company_name: str
    industry: str | None
    company_size: str | None
    headquarters: str | None
    website: str | None
    company_description: str | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, company: Company) -> CompanyOut:
        return cls(company_id=company.id or 0, **company.model_dump(exclude={"id"}))


async def _company(session: DbSession, company_id: int) -> Company:
    company = await tracking.get(session, Company, company_id)
    if company is None:
        raise NotFound("Company not found")
    return company


async def _unique_company(session: DbSession, name: str, current: int | None = None) -> None:
    other = await tracking.company_by_name(session, name)
    if other is not None and other.id != current:
        raise duplicate("company_name", "Company", name)


@companies_router.get("", response_model=Page[CompanyOut], summary="List companies")
@companies_router.get("/", response_model=Page[CompanyOut], include_in_schema=False)
async def list_companies(
    session: DbSession,
    _user: CurrentUser,
    skip: Skip = 0,
    limit: Annotated[int, limit_param(50)] = 50,
    search: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[CompanyOut]:
    total, rows = await tracking.companies(session, search=search, skip=skip, limit=limit)
    return Page(total=total, skip=skip, limit=limit, data=[CompanyOut.of(row) for row in rows])


@companies_router.post("", status_code=201, response_model=CompanyOut, summary="Create a company")
@companies_router.post("/", status_code=201, response_model=CompanyOut, include_in_schema=False)
async def create_company(body: CompanyIn, session: DbSession, user: CurrentUser) -> CompanyOut:
    await _unique_company(session, body.company_name)
    company = Company(**body.model_dump(), created_by=user.id)
    session.add(company)
    await flush_unique(session, duplicate("company_name", "Company", body.company_name))
    return CompanyOut.of(company)


@companies_router.get("/{company_id}", response_model=CompanyOut, summary="One company")
async def get_company(company_id: Id, session: DbSession, _user: CurrentUser) -> CompanyOut:
    return CompanyOut.of(await _company(session, company_id))


@companies_router.put(
    "/{company_id}", response_model=CompanyOut, summary="Update a company (creator or admin)"
)
@companies_router.patch("/{company_id}", response_model=CompanyOut, include_in_schema=False)
async def update_company(
    company_id: Id, body: CompanyUpdate, session: DbSession, user: CurrentUser
) -> CompanyOut:
    company = await _company(session, company_id)
    may_change(user, company.created_by, "company")
    changes = body.model_dump(exclude_unset=True)
    if "company_name" in changes:
        await _unique_company(session, changes["company_name"], company.id)
    apply(company, changes)
    session.add(company)
    await flush_unique(session, duplicate("company_name", "Company", company.company_name))
    return CompanyOut.of(company)


@companies_router.delete("/{company_id}", status_code=204, summary="Delete a company (creator or admin)")
async def delete_company(company_id: Id, session: DbSession, user: CurrentUser) -> Response:
    company = await _company(session, company_id)
    may_change(user, company.created_by, "company")
    await session.delete(company)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict("This company is in use by tracked interviews") from exc
    return Response(status_code=204)


# ---------------------------------------------------------------- skills


class SkillUpdate(Patch):
    not_null = frozenset({"skill_name", "is_trending"})

    skill_name: ShortName | None = None
    skill_category: Text100 = None
    skill_type: Text50 = None
    skill_description: Text5000 = None
    is_trending: bool | None = None
    market_demand: MarketDemand | None = None


class SkillIn(SkillUpdate):
    skill_name: ShortName
    is_trending: bool = False


class SkillOut(Out):
    skill_id: int
    skill_name: str
    skill_category: str | None
    skill_type: str | None
    skill_description: str | None
    is_trending: bool
    market_demand: MarketDemand | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, skill: Skill) -> SkillOut:
        return cls(skill_id=skill.id or 0, **skill.model_dump(exclude={"id"}))


async def _skill(session: DbSession, skill_id: int) -> Skill:
    skill = await tracking.get(session, Skill, skill_id)
    if skill is None:
        raise NotFound("Skill not found")
    return skill


async def _unique_skill(session: DbSession, name: str, current: int | None = None) -> None:
    other = await tracking.skill_by_name(session, name)
    if other is not None and other.id != current:
        raise duplicate("skill_name", "Skill", name)


@skills_router.get("", response_model=Page[SkillOut], summary="List skills")
@skills_router.get("/", response_model=Page[SkillOut], include_in_schema=False)
async def list_skills(
    session: DbSession,
    _user: CurrentUser,
    skip: Skip = 0,
    limit: Annotated[int, limit_param(20)] = 20,
    search: Annotated[str | None, Query(max_length=200)] = None,
    category: Annotated[str | None, Query(max_length=100)] = None,
    is_trending: bool | None = None,
) -> Page[SkillOut]:
    total, rows = await tracking.skills(
        session, search=search, category=category, is_trending=is_trending, skip=skip, limit=limit
    )
    return Page(total=total, skip=skip, limit=limit, data=[SkillOut.of(row) for row in rows])


@skills_router.post("", status_code=201, response_model=SkillOut, summary="Create a skill")
@skills_router.post("/", status_code=201, response_model=SkillOut, include_in_schema=False)
async def create_skill(body: SkillIn, session: DbSession, user: CurrentUser) -> SkillOut:
    await _unique_skill(session, body.skill_name)
    skill = Skill(**body.model_dump(), created_by=user.id)
    session.add(skill)
    await flush_unique(session, duplicate("skill_name", "Skill", body.skill_name))
    return SkillOut.of(skill)


@skills_router.get("/{skill_id}", response_model=SkillOut, summary="One skill")
async def get_skill(skill_id: Id, session: DbSession, _user: CurrentUser) -> SkillOut:
    return SkillOut.of(await _skill(session, skill_id))


@skills_router.put("/{skill_id}", response_model=SkillOut, summary="Update a skill (creator or admin)")
@skills_router.patch("/{skill_id}", response_model=SkillOut, include_in_schema=False)
async def update_skill(skill_id: Id, body: SkillUpdate, session: DbSession, user: CurrentUser) -> SkillOut:
    skill = await _skill(session, skill_id)
    may_change(user, skill.created_by, "skill")
    changes = body.model_dump(exclude_unset=True)
    if "skill_name" in changes:
        await _unique_skill(session, changes["skill_name"], skill.id)
    apply(skill, changes)
    session.add(skill)
    await flush_unique(session, duplicate("skill_name", "Skill", skill.skill_name))
    return SkillOut.of(skill)


@skills_router.delete("/{skill_id}", status_code=204, summary="Delete a skill (creator or admin)")
async def delete_skill(skill_id: Id, session: DbSession, user: CurrentUser) -> Response:
    skill = await _skill(session, skill_id)
    may_change(user, skill.created_by, "skill")
    await session.delete(skill)
    return Response(status_code=204)


# ---------------------------------------------------------------- question bank


class QuestionUpdate(Patch):
    not_null = frozenset(
        {"question_text", "question_category", "question_difficulty", "key_concepts", "common_mistakes"}
        | {"tips_and_tricks", "tags", "is_active"}
    )

    question_text: QuestionText | None = None
    question_category: QuestionCategory | None = None
    question_difficulty: QuestionDifficulty | None = None
    answer_summary: Text5000 = None
    key_concepts: Lines | None = None
    common_mistakes: Lines | None = None
    tips_and_tricks: Lines | None = None
    time_to_answer_minutes: Annotated[int | None, Field(ge=1, le=240)] = None
    tags: Tags | None = None
    is_active: bool | None = None

    @field_validator("tags")
    @classmethod
    def _unique_tags(cls, tags: list[str] | None) -> list[str] | None:
        """Tags compare in any case; the first spelling of a repeated tag is kept."""
        if tags is None:
            return None
        seen: dict[str, str] = {}
        for tag in tags:
            seen.setdefault(tag.lower(), tag)
        return list(seen.values())


class QuestionIn(QuestionUpdate):
    question_text: QuestionText
    question_category: QuestionCategory = QuestionCategory.technical
    question_difficulty: QuestionDifficulty = QuestionDifficulty.medium
    key_concepts: Lines = Field(default_factory=list)
    common_mistakes: Lines = Field(default_factory=list)
    tips_and_tricks: Lines = Field(default_factory=list)
    tags: Tags = Field(default_factory=list)
    is_active: bool = True


class QuestionOut(Out):
    question_id: int
    question_text: str
    question_category: QuestionCategory
    question_difficulty: QuestionDifficulty
    answer_summary: str | None
    key_concepts: list[str]
    common_mistakes: list[str]
    tips_and_tricks: list[str]
    time_to_answer_minutes: int | None
    tags: list[str]
    times_asked: int
    times_practiced: int
    average_rating: float | None
    is_active: bool
    created_by: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, question: BankQuestion) -> QuestionOut:
        fields = question.model_dump(exclude={"id", "average_rating"})
        rating = round(question.average_rating, 2) if question.average_rating is not None else None
        return cls(question_id=question.id or 0, average_rating=rating, **fields)


QuestionSort = Literal[
    "created_at", "times_asked", "times_practiced", "average_rating", "question_difficulty"
]
Order = Literal["asc", "desc"]


async def _question(session: DbSession, question_id: int) -> BankQuestion:
    question = await tracking.get(session, BankQuestion, question_id)
    if question is None:
        raise NotFound("Question not found")
    return question


@questions_router.get("", response_model=Page[QuestionOut], summary="List questions")
@questions_router.get("/", response_model=Page[QuestionOut], include_in_schema=False)
async def list_questions(
    session: DbSession,
    _user: CurrentUser,
    skip: Skip = 0,
    limit: Annotated[int, limit_param(20)] = 20,
    category: QuestionCategory | None = None,
    difficulty: QuestionDifficulty | None = None,
    search: Annotated[str | None, Query(max_length=200)] = None,
    tags: Annotated[list[Tag] | None, Query(max_length=20, description="Any of these tags (repeat)")] = None,
    is_active: bool = True,
    sort_by: QuestionSort = "created_at",
    order: Order = "desc",
) -> Page[QuestionOut]:
    where = tracking.QuestionFilter(category, difficulty, search, tuple(tags or ()), is_active)
    total, rows = await tracking.questions(
        session, where, sort_by=sort_by, descending=order == "desc", skip=skip, limit=limit
    )
    return Page(total=total, skip=skip, limit=limit, data=[QuestionOut.of(row) for row in rows])


@questions_router.post("", status_code=201, response_model=QuestionOut, summary="Create a question")
@questions_router.post("/", status_code=201, response_model=QuestionOut, include_in_schema=False)
async def create_question(body: QuestionIn, session: DbSession, user: CurrentUser) -> QuestionOut:
    question = BankQuestion(**body.model_dump(), created_by=user.id)
    session.add(question)
    await session.flush()
    return QuestionOut.of(question)


@questions_router.get(
    "/category/{category}", response_model=list[QuestionOut], summary="Active questions in one category"
)
async def questions_in_category(
    category: QuestionCategory,
    session: DbSession,
    _user: CurrentUser,
    skip: Skip = 0,
    limit: Annotated[int, limit_param(100)] = 100,
) -> list[QuestionOut]:
    where = tracking.QuestionFilter(category=category)
    _total, rows = await tracking.questions(
        session, where, sort_by="created_at", descending=True, skip=skip, limit=limit
    )
    return [QuestionOut.of(row) for row in rows]


@questions_router.get("/{question_id}", response_model=QuestionOut, summary="One question (active or not)")
async def get_question(question_id: Id, session: DbSession, _user: CurrentUser) -> QuestionOut:
    return QuestionOut.of(await _question(session, question_id))


@questions_router.put(
    "/{question_id}", response_model=QuestionOut, summary="Update a question (creator or admin)"
)
@questions_router.patch("/{question_id}", response_model=QuestionOut, include_in_schema=False)
async def update_question(
    question_id: Id, body: QuestionUpdate, session: DbSession, user: CurrentUser
) -> QuestionOut:
    question = await _question(session, question_id)
    may_change(user, question.created_by, "question")
    apply(question, body.model_dump(exclude_unset=True))
    session.add(question)
    await session.flush()
    return QuestionOut.of(question)


@questions_router.delete(
    "/{question_id}", status_code=204, summary="Soft-delete a question (creator or admin)"
)
async def delete_question(question_id: Id, session: DbSession, user: CurrentUser) -> Response:
    question = await _question(session, question_id)
    may_change(user, question.created_by, "question")
    apply(question, {"is_active": False})
    session.add(question)
    return Response(status_code=204)


for _sub in (companies_router, skills_router, questions_router):
    router.include_router(_sub)
