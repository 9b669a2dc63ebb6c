"""Seed 003's interview tracker: a job seeker's interviews, their rounds and questions, and statistics.

A tracked interview belongs to the signed-in user who created it; another user's id answers 404 (an admin
sees every interview). DELETE is a soft delete to ``cancelled``. Ids in a body that name nothing (company,
role, question, round) are a 400 with the field named, as elsewhere in Viva; ids in the path are 404s.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from fastapi import Body as JsonBody
from pydantic import Field, StringConstraints
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from server import practice
from server.api.catalogs import (
    Body,
    CompanyOut,
    Id,
    Out,
    Patch,
    QuestionOut,
    Text100,
    Text200,
    Text5000,
    Text20000,
    apply,
)
from server.api.deps import CurrentUser, DbSession, ServicesDep
from server.api.pagination import Page, Skip, limit_param
from server.api.roles import RoleOut
from server.domain.errors import InvalidInput, NotFound
from server.store import interviews as domain_interviews
from server.store import tracking
from server.store.models import JobRole, Role, User, utcnow
from server.store.tracking_models import (
    BankQuestion,
    Company,
    InterviewQuestionLink,
    InterviewRound,
    InterviewType,
    RoundResult,
    RoundType,
    Seniority,
    TrackedInterview,
    TrackingResult,
    TrackingStatus,
)

router = APIRouter()
interviews_router = APIRouter(prefix="/api/interviews", tags=["interview tracking"])
stats_router = APIRouter(prefix="/api/stats", tags=["statistics"])

Rating = Annotated[int | None, Field(ge=1, le=10)]
RefId = Annotated[int | None, Field(ge=1)]
FilterId = Annotated[int | None, Query(ge=1, le=tracking.MAX_ID)]
SkillName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]

# ---------------------------------------------------------------- tracked interviews


class InterviewUpdate(Patch):
    not_null = frozenset(
        {"interview_type", "interview_status", "interview_result", "main_skills_required", "is_remote"}
    )

    company_id: RefId = None
    role_id: RefId = None
    custom_role_title: Text200 = None
    interview_type: InterviewType | None = None
    seniority_level: Seniority | None = None
    interview_status: TrackingStatus | None = None
    interview_result: TrackingResult | None = None
    job_description: Text20000 = None
    main_skills_required: Annotated[list[SkillName] | None, Field(max_length=50)] = None
    required_experience_years: Annotated[int | None, Field(ge=0, le=60)] = None
    job_location: Text200 = None
    is_remote: bool | None = None
    salary_range: Text100 = None
    application_date: date | None = None
    first_interview_date: date | None = None
    preparation_notes: Text20000 = None
    overall_feedback: Text20000 = None
    strengths: Text20000 = None
    areas_for_improvement: Text20000 = None
    overall_rating: Rating = None


class InterviewIn(InterviewUpdate):
    interview_type: InterviewType = InterviewType.actual
    interview_status: TrackingStatus = TrackingStatus.scheduled
    interview_result: TrackingResult = TrackingResult.pending
    main_skills_required: Annotated[list[SkillName], Field(max_length=50)] = Field(default_factory=list)
    is_remote: bool = False


class InterviewSummary(Out):
    interview_id: int
    company_id: int | None
    company_name: str | None
    role_id: int | None
    role_name: str | None
    custom_role_title: str | None
    interview_type: InterviewType
    seniority_level: Seniority | None
    interview_status: TrackingStatus
    interview_result: TrackingResult
    job_location: str | None
    is_remote: bool
    salary_range: str | None
    application_date: date | None
    first_interview_date: date | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: tracking.InterviewRow) -> InterviewSummary:
        interview = row.interview
        return cls(
            **interview.model_dump(include=set(cls.model_fields)),
            interview_id=interview.id or 0,
            company_name=row.company_name,
            role_name=row.role_name or interview.custom_role_title,
        )


class RoundOut(Out):
    round_id: int
    interview_id: int
    round_number: int
    round_name: str | None
    round_type: RoundType
    scheduled_date: date | None
    scheduled_time: time | None
    duration_minutes: int | None
    is_virtual: bool
    meeting_platform: str | None
    interviewer_name: str | None
    interviewer_title: str | None
    round_status: TrackingStatus
    round_result: RoundResult
    rating: int | None
    feedback: str | None
    notes: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, round_: InterviewRound) -> RoundOut:
        return cls(round_id=round_.id or 0, **round_.model_dump(exclude={"id"}))


class LinkOut(Out):
    interview_question_id: int
    interview_id: int
    question_id: int
    round_id: int | None
    was_asked: bool
    order_asked: int | None
    candidate_answer: str | None
    answer_quality_rating: int | None
    time_taken_minutes: int | None
    was_prepared: bool
    confidence_level: int | None
    what_went_well: str | None
    what_could_improve: str | None
    question_text: str
    question_category: str
    question_difficulty: str
    question: QuestionOut
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, link: InterviewQuestionLink, question: BankQuestion) -> LinkOut:
        return cls(
            interview_question_id=link.id or 0,
            question_text=question.question_text,
            question_category=question.question_category,
            question_difficulty=question.question_difficulty,
            question=QuestionOut.of(question),
            **link.model_dump(exclude={"id"}),
        )


class InterviewDetail(InterviewSummary):
    created_by: str
    job_description: str | None
    main_skills_required: list[str]
    required_experience_years: int | None
    preparation_notes: str | None
    overall_feedback: str | None
    strengths: str | None
    areas_for_improvement: str | None
    overall_rating: int | None
    company: CompanyOut | None
    role: RoleOut | None
    rounds: list[RoundOut]
    questions: list[LinkOut]


SortBy = Literal["created_at", "application_date", "first_interview_date", "company_name", "interview_status"]


def _admin(user: User) -> bool:
    return user.role == Role.admin


async def _interview(session: AsyncSession, interview_id: int, user: User) -> TrackedInterview:
    """The caller's interview (any interview for an admin); 404 for an unknown id or another user's."""
    interview = await tracking.get(session, TrackedInterview, interview_id)
    if interview is None or (interview.owner_id != user.id and not _admin(user)):
        raise NotFound("Interview not found")
    return interview


async def _check_refs(session: AsyncSession, changes: dict[str, Any]) -> None:
    """400 when the body names a company or role that does not exist."""
    for field, model, what in (("company_id", Company, "Company"), ("role_id", JobRole, "Role")):
        ref = changes.get(field)
        if ref is not None and await tracking.get(session, model, ref) is None:
            raise InvalidInput(f"{what} not found", details={field: [f"{what} with this ID does not exist"]})


async def _detail(session: AsyncSession, interview: TrackedInterview) -> InterviewDetail:
    company = await tracking.get(session, Company, interview.company_id) if interview.company_id else None
    role = await tracking.get(session, JobRole, interview.role_id) if interview.role_id else None
    interview_id = interview.id or 0
    return InterviewDetail(
        **interview.model_dump(include=set(InterviewDetail.model_fields)),
        interview_id=interview_id,
        company_name=company.company_name if company else None,
        role_name=role.role_name if role else interview.custom_role_title,
        created_by=interview.owner_id,
        company=CompanyOut.of(company) if company else None,
        role=RoleOut.of(role) if role else None,
        rounds=[RoundOut.of(r) for r in await tracking.rounds(session, interview_id)],
        questions=[LinkOut.of(link, q) for link, q in await tracking.links(session, interview_id)],
    )


@interviews_router.get("", response_model=Page[InterviewSummary], summary="List my tracked interviews")
@interviews_router.get("/", response_model=Page[InterviewSummary], include_in_schema=False)
async def list_interviews(
    session: DbSession,
    user: CurrentUser,
    skip: Skip = 0,
    limit: Annotated[int, limit_param(20)] = 20,
    company_id: FilterId = None,
    role_id: FilterId = None,
    interview_type: InterviewType | None = None,
    interview_status: TrackingStatus | None = None,
    interview_result: TrackingResult | None = None,
    seniority_level: Seniority | None = None,
    is_remote: bool | None = None,
    sort_by: SortBy = "created_at",
    order: Annotated[Literal["asc", "desc"], Query()] = "desc",
) -> Page[InterviewSummary]:
    where = tracking.InterviewFilter(
        owner_id=None if _admin(user) else user.id,
        company_id=company_id,
        role_id=role_id,
        interview_type=interview_type,
        interview_status=interview_status,
        interview_result=interview_result,
        seniority_level=seniority_level,
        is_remote=is_remote,
    )
    total, rows = await tracking.interviews(
        session, where, sort_by=sort_by, descending=order == "desc", skip=skip, limit=limit
    )
    return Page(total=total, skip=skip, limit=limit, data=[InterviewSummary.of(row) for row in rows])


@interviews_router.post("", status_code=201, response_model=InterviewDetail, summary="Track an interview")
@interviews_router.post("/", status_code=201, response_model=InterviewDetail, include_in_schema=False)
async def create_interview(body: InterviewIn, session: DbSession, user: CurrentUser) -> InterviewDetail:
    fields = body.model_dump()
    await _check_refs(session, fields)
    interview = TrackedInterview(**fields, owner_id=user.id)
    session.add(interview)
    await session.flush()
    return await _detail(session, interview)


@interviews_router.get("/{interview_id}", response_model=InterviewDetail, summary="One interview, in full")
async def get_interview(interview_id: Id, session: DbSession, user: CurrentUser) -> InterviewDetail:
    return await _detail(session, await _interview(session, interview_id, user))


@interviews_router.put(
    "/{interview_id}", response_model=InterviewDetail, summary="Update an interview (partial)"
)
@interviews_router.patch("/{interview_id}", response_model=InterviewDetail, include_in_schema=False)
async def update_interview(
    interview_id: Id, body: InterviewUpdate, session: DbSession, user: CurrentUser
) -> InterviewDetail:
    interview = await _interview(session, interview_id, user)
    changes = body.model_dump(exclude_unset=True)
    await _check_refs(session, changes)
    apply(interview, changes)
    session.add(interview)
    await session.flush()
    return await _detail(session, interview)


@interviews_router.delete("/{interview_id}", status_code=204, summary="Cancel an interview (soft delete)")
async def delete_interview(interview_id: Id, session: DbSession, user: CurrentUser) -> Response:
    interview = await _interview(session, interview_id, user)
    apply(interview, {"interview_status": TrackingStatus.cancelled})
    session.add(interview)
    return Response(status_code=204)


# ---------------------------------------------------------------- rounds


class RoundUpdate(Patch):
    not_null = frozenset({"round_number", "round_type", "is_virtual", "round_status", "round_result"})

    round_number: Annotated[int | None, Field(ge=1, le=100)] = None
    round_name: Text200 = None
    round_type: RoundType | None = None
    scheduled_date: date | None = None
    scheduled_time: time | None = None
    duration_minutes: Annotated[int | None, Field(ge=1, le=1440)] = None
    is_virtual: bool | None = None
    meeting_platform: Text100 = None
    interviewer_name: Text200 = None
    interviewer_title: Text200 = None
    round_status: TrackingStatus | None = None
    round_result: RoundResult | None = None
    rating: Rating = None
    feedback: Text20000 = None
    notes: Text20000 = None


class RoundIn(RoundUpdate):
    interview_id: int | None = Field(default=None, description="Optional; must match the path")
    round_type: RoundType = RoundType.other
    is_virtual: bool = True
    round_status: TrackingStatus = TrackingStatus.scheduled
    round_result: RoundResult = RoundResult.pending


def _same_interview(body_id: int | None, interview_id: int) -> None:
    if body_id is not None and body_id != interview_id:
        raise InvalidInput(
            "interview_id does not match the URL",
            details={"interview_id": ["Must match the interview in the URL"]},
        )


async def _round_number_free(
    session: AsyncSession, interview_id: int, number: int, current: int | None
) -> None:
    other = await tracking.round_by_number(session, interview_id, number)
    if other is not None and other.id != current:
        raise InvalidInput(
            f"Round {number} already exists",
            details={"round_number": ["This interview has a round with this number"]},
        )


def _note_first_date(interview: TrackedInterview, round_: InterviewRound) -> None:
    """Keep ``first_interview_date`` at the earliest scheduled round (when it is unset or later)."""
    day = round_.scheduled_date
    if day is not None and (interview.first_interview_date is None or day < interview.first_interview_date):
        apply(interview, {"first_interview_date": day})


async def _flush_round(session: AsyncSession, number: int) -> None:
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent request took the number
        raise InvalidInput(
            f"Round {number} already exists",
            details={"round_number": ["This interview has a round with this number"]},
        ) from exc


@interviews_router.get(
    "/{interview_id}/rounds", response_model=list[RoundOut], summary="An interview's rounds"
)
@interviews_router.get("/{interview_id}/rounds/", response_model=list[RoundOut], include_in_schema=False)
async def list_rounds(interview_id: Id, session: DbSession, user: CurrentUser) -> list[RoundOut]:
    interview = await _interview(session, interview_id, user)
    return [RoundOut.of(r) for r in await tracking.rounds(session, interview.id or 0)]


@interviews_router.post(
    "/{interview_id}/rounds", status_code=201, response_model=RoundOut, summary="Add a round (number: next)"
)
@interviews_router.post(
    "/{interview_id}/rounds/", status_code=201, response_model=RoundOut, include_in_schema=False
)
async def create_round(interview_id: Id, body: RoundIn, session: DbSession, user: CurrentUser) -> RoundOut:
    interview = await _interview(session, interview_id, user)
    _same_interview(body.interview_id, interview_id)
    existing = await tracking.rounds(session, interview_id)
    number = body.round_number or max((r.round_number for r in existing), default=0) + 1
    await _round_number_free(session, interview_id, number, None)
    fields = body.model_dump(exclude={"interview_id", "round_number"})
    round_ = InterviewRound(**fields, interview_id=interview_id, round_number=number)
    session.add(round_)
    _note_first_date(interview, round_)
    await _flush_round(session, number)
    return RoundOut.of(round_)


@interviews_router.put("/{interview_id}/rounds/{round_id}", response_model=RoundOut, summary="Update a round")
@interviews_router.patch(
    "/{interview_id}/rounds/{round_id}", response_model=RoundOut, include_in_schema=False
)
async def update_round(
    interview_id: Id, round_id: Id, body: RoundUpdate, session: DbSession, user: CurrentUser
) -> RoundOut:
    interview = await _interview(session, interview_id, user)
    round_ = await tracking.get(session, InterviewRound, round_id)
    if round_ is None or round_.interview_id != interview_id:
        raise NotFound("Round not found")
    changes = body.model_dump(exclude_unset=True)
    if "round_number" in changes:
        await _round_number_free(session, interview_id, changes["round_number"], round_.id)
    apply(round_, changes)
    session.add(round_)
    _note_first_date(interview, round_)
    await _flush_round(session, round_.round_number)
    return RoundOut.of(round_)


# ---------------------------------------------------------------- questions asked in an interview


class LinkIn(Body):
    interview_id: int | None = Field(default=None, description="Optional; must match the path")
    question_id: Annotated[int, Field(ge=1)]
    round_id: RefId = None
    was_asked: bool = True
    order_asked: Annotated[int | None, Field(ge=1, le=1000)] = None
    candidate_answer: Text20000 = None
    answer_quality_rating: Rating = None
    time_taken_minutes: Annotated[int | None, Field(ge=0, le=600)] = None
    was_prepared: bool = False
    confidence_level: Rating = None
    what_went_well: Text5000 = None
    what_could_improve: Text5000 = None


def _missing(field: str, what: str) -> InvalidInput:
    return InvalidInput(f"{what} not found", details={field: [f"{what} with this ID does not exist"]})


async def _linkable(session: AsyncSession, interview_id: int, body: LinkIn) -> BankQuestion:
    """The bank question to link; 400 for an unknown or inactive question, a foreign round, a repeat."""
    question = await tracking.get(session, BankQuestion, body.question_id)
    if question is None:
        raise _missing("question_id", "Question")
    if not question.is_active:
        raise InvalidInput("Question is inactive", details={"question_id": ["This question was deleted"]})
    if body.round_id is not None:
        round_ = await tracking.get(session, InterviewRound, body.round_id)
        if round_ is None or round_.interview_id != interview_id:
            raise _missing("round_id", "Round")
    if await tracking.link_for(session, interview_id, body.question_id) is not None:
        raise InvalidInput(
            "Question already linked", details={"question_id": ["This question is linked to the interview"]}
        )
    return question


@interviews_router.get(
    "/{interview_id}/questions", response_model=list[LinkOut], summary="Questions asked in an interview"
)
@interviews_router.get("/{interview_id}/questions/", response_model=list[LinkOut], include_in_schema=False)
async def list_links(interview_id: Id, session: DbSession, user: CurrentUser) -> list[LinkOut]:
    interview = await _interview(session, interview_id, user)
    return [LinkOut.of(link, q) for link, q in await tracking.links(session, interview.id or 0)]


@interviews_router.post(
    "/{interview_id}/questions", status_code=201, response_model=LinkOut, summary="Link a bank question"
)
@interviews_router.post(
    "/{interview_id}/questions/", status_code=201, response_model=LinkOut, include_in_schema=False
)
async def link_question(interview_id: Id, body: LinkIn, session: DbSession, user: CurrentUser) -> LinkOut:
    interview = await _interview(session, interview_id, user)
    _same_interview(body.interview_id, interview_id)
    question = await _linkable(session, interview_id, body)
    link = InterviewQuestionLink(**body.model_dump(exclude={"interview_id"}), interview_id=interview_id)
    session.add(link)
    interview.updated_at = utcnow()
    session.add(interview)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent request linked it first
        raise InvalidInput("Question already linked", details={"question_id": ["Already linked"]}) from exc
    await tracking.count_question_use(session, body.question_id)
    await session.refresh(question)
    return LinkOut.of(link, question)


# ---------------------------------------------------------------- practice mode


class PracticeIn(Body):
    num_questions: Annotated[int, Field(ge=1, le=10)] = 5
    voice: Literal["male", "female"] = "female"


class PracticeQuestion(Body):
    question_id: str
    text: str
    category: str


class PracticeOut(Body):
    interview_id: int
    practice_interview_id: str
    status: str
    room_url: str
    socket_url: str
    report_url: str
    questions: list[PracticeQuestion]


@interviews_router.post(
    "/{interview_id}/practice",
    status_code=201,
    response_model=PracticeOut,
    summary="Start a live practice session for a mock or practice interview",
    description="Creates an interview in the live room with questions from the question bank for the "
    "role (and the AI engine when the bank has too few). Take it at `room_url`; when its report is "
    "ready, the tracked interview's rating, feedback, strengths and areas for improvement are filled in.",
)
async def start_practice(
    interview_id: Id,
    session: DbSession,
    user: CurrentUser,
    services: ServicesDep,
    body: Annotated[PracticeIn | None, JsonBody()] = None,
) -> PracticeOut:
    tracked = await _interview(session, interview_id, user)
    choice = body or PracticeIn()
    live = await practice.start(services, session, user, tracked, choice.num_questions, choice.voice)
    questions = await domain_interviews.questions_of(session, live.id)
    return PracticeOut(
        interview_id=interview_id,
        practice_interview_id=live.id,
        status=str(live.status),
        room_url=f"/room/{live.id}",
        socket_url=f"/ws/interviews/{live.id}",
        report_url=f"/interviews/{live.id}/report",
        questions=[PracticeQuestion(question_id=q.id, text=q.text, category=q.category) for q in questions],
    )


# ---------------------------------------------------------------- statistics


class Overview(Body):
    total_interviews: int
    total_questions: int
    total_companies: int
    interviews_by_status: dict[str, int]
    interviews_by_result: dict[str, int]
    questions_by_category: dict[str, int]
    questions_by_difficulty: dict[str, int]


@stats_router.get(
    "/overview", response_model=Overview, summary="My interviews and the question bank in numbers"
)
async def stats_overview(session: DbSession, user: CurrentUser) -> Overview:
    return Overview(**await tracking.overview(session, None if _admin(user) else user.id))


router.include_router(interviews_router)
router.include_router(stats_router)
