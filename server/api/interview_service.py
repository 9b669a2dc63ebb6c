"""The interview service (seeds 000/002) at ``/api/v1/interview``.

HR and admins schedule and review; candidates answer and see only their own interviews (403 otherwise).
Scores: ``ai_score`` and ``overall_score`` are 0–100; HR scores (``hr_score``, ``hr_overall_score``) are
on the documented 0–5 scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, model_validator
from sqlmodel.ext.asyncio.session import AsyncSession

from server.ai.base import Category, Difficulty, PlannedQuestion, PlanRequest
from server.api.deps import CurrentUser, DbSession, ServicesDep, StaffUser
from server.api.pagination import Skip
from server.api.views import Moment, iso
from server.domain import lifecycle
from server.domain import report as rules
from server.domain.access import is_participant, visible_interview
from server.domain.errors import Forbidden, InvalidInput, NotFound
from server.store import candidates, interviews
from server.store.models import (
    Answer,
    AnswerStatus,
    CvStatus,
    Interview,
    InterviewStatus,
    Question,
    Role,
    User,
    utcnow,
)
from server.workflows import plan_interview, require_text, score_answer

router = APIRouter(prefix="/api/v1/interview", tags=["interview-service (seeds 000/002)"])
S = InterviewStatus
AI_EVALUATION_MIN_CHARS = 10
Status000 = Literal["pending_questions", "scheduled", "in_progress", "completed", "evaluated", "cancelled"]
FROM_000 = {word: status for status, word in lifecycle.STATUS_000.items()}


def _word(label: str) -> str:
    return "_".join(label.strip().lower().replace("-", " ").split())


def label(word: str) -> str:
    """A stored category or difficulty in seed 000's words: ``Behavioral``, ``Medium``, ``System Design``."""
    return " ".join(part.capitalize() for part in word.split("_"))


class QuestionIn(BaseModel):
    text: Annotated[str, Field(min_length=5, max_length=2000)]
    category: Category = "technical"
    difficulty: Difficulty = "medium"
    expected_duration_minutes: Annotated[int, Field(ge=1, le=30)] = 3

    @model_validator(mode="before")
    @classmethod
    def _lowercase(cls, data: Any) -> Any:
        """Any case and spacing: ``"System Design"``, ``"system-design"`` and ``"system_design"`` agree."""
        if isinstance(data, dict):
            data = {
                k: (_word(v) if k in ("category", "difficulty") and isinstance(v, str) else v)
                for k, v in data.items()
            }
        return data

    def planned(self) -> PlannedQuestion:
        return PlannedQuestion(
            text=self.text.strip(),
            category=self.category,
            difficulty=self.difficulty,
            expected_minutes=self.expected_duration_minutes,
        )


class QuestionOut(BaseModel):
    id: str
    text: str
    category: str = Field(
        description="Intro | Technical | Gap | Behavioral | System Design | Coding | Follow Up"
    )
    difficulty: str = Field(description="Easy | Medium | Hard")
    expected_duration_minutes: int
    order: int | None = None


class ScheduleIn(BaseModel):
    candidate_id: Annotated[str, Field(min_length=1, max_length=64)]
    job_title: Annotated[str, Field(min_length=1, max_length=200)]
    job_description: Annotated[str, Field(max_length=20_000)] = ""
    role: Annotated[str | None, Field(max_length=200)] = None
    tech_stack: Annotated[list[Annotated[str, Field(min_length=1, max_length=60)]], Field(max_length=30)] = []
    num_questions: Annotated[int, Field(ge=lifecycle.MIN_QUESTIONS, le=lifecycle.MAX_QUESTIONS)] = 5
    scheduled_by_id: str | None = Field(default=None, description="Ignored: the signed-in HR/admin schedules")
    scheduled_at: Moment | None = None
    questions: Annotated[list[QuestionIn] | None, Field(min_length=1, max_length=20)] = Field(
        default=None, description="Explicit questions; replaces AI generation"
    )


class QuestionsIn(BaseModel):
    questions: Annotated[list[QuestionIn], Field(min_length=1, max_length=20)]


class InterviewOut(BaseModel):
    id: str
    candidate_id: str
    job_title: str | None
    job_description: str | None
    role: str | None
    tech_stack: list[str]
    status: str
    scheduled_at: str | None
    scheduled_by_id: str | None
    questions: list[QuestionOut]
    match_score: float | None
    strengths: list[str]
    gaps: list[str]
    created_at: str | None
    updated_at: str | None
    completed_at: str | None


class AnswerSubmit(BaseModel):
    question_id: Annotated[str, Field(min_length=1, max_length=64)]
    answer_text: Annotated[str | None, Field(max_length=20_000)] = None
    code_answer: Annotated[str | None, Field(max_length=50_000)] = None
    video_url: Annotated[str | None, Field(max_length=2048)] = None


class SubmitIn(AnswerSubmit):
    interview_id: Annotated[str, Field(min_length=1, max_length=64)]


class BulkSubmitIn(BaseModel):
    interview_id: Annotated[str, Field(min_length=1, max_length=64)]
    answers: Annotated[list[AnswerSubmit], Field(max_length=50)]


class AnswerOut(BaseModel):
    id: str
    response_id: str = Field(description="Same as id; the {response_id} of /responses/{response_id}/evaluate")
    interview_id: str
    question_id: str
    candidate_id: str
    answer_text: str | None
    code_answer: str | None
    video_url: str | None
    status: str
    ai_score: float | None = Field(description="0–100")
    ai_feedback: str | None
    ai_provider: str | None
    hr_score: float | None = Field(description="0–5")
    hr_feedback: str | None
    submitted_at: str | None


class QuestionResult(BaseModel):
    question_id: str
    question_text: str
    candidate_answer_text: str | None
    candidate_code_answer: str | None
    ai_score: float | None = Field(description="0–100")
    ai_feedback: str | None
    hr_score: float | None = Field(description="0–5")
    hr_feedback: str | None


class ResultOut(BaseModel):
    interview_id: str
    candidate_id: str
    overall_score: float | None = Field(description="0–100: the HR score when given, else the mean AI score")
    overall_feedback: str | None
    status: str = Field(description="evaluated | pending_hr_review")
    questions: list[QuestionResult]
    hr_overall_feedback: str | None
    hr_overall_score: float | None = Field(description="0–5")
    hr_recommendation: str | None


class QuestionReview(BaseModel):
    question_id: str
    hr_score: Annotated[float | None, Field(ge=0, le=5)] = None
    hr_feedback: Annotated[str | None, Field(max_length=5000)] = None


class HREvaluationIn(BaseModel):
    hr_feedback: Annotated[str | None, Field(max_length=10_000)] = None
    hr_score: Annotated[float | None, Field(ge=0, le=5, description="0–5")] = None
    hr_recommendation: Annotated[str | None, Field(max_length=64)] = None
    questions: list[QuestionReview] = Field(default_factory=list)


class SubmittedAll(BaseModel):
    message: str
    interview_id: str
    status: str


def _question_out(question: Question) -> QuestionOut:
    return QuestionOut(
        id=question.id,
        text=question.text,
        category=label(question.category),
        difficulty=label(question.difficulty),
        expected_duration_minutes=question.expected_minutes,
        order=question.order,
    )


async def _interview_out(session: AsyncSession, interview: Interview) -> InterviewOut:
    return _interview_view(interview, await interviews.questions_of(session, interview.id))


async def _interviews_out(session: AsyncSession, rows: Sequence[Interview]) -> list[InterviewOut]:
    """Many interviews with their questions, read in one query rather than one per interview."""
    questions = await interviews.questions_by_interview(session, [row.id for row in rows])
    return [_interview_view(row, questions[row.id]) for row in rows]


def _interview_view(interview: Interview, questions: Sequence[Question]) -> InterviewOut:
    return InterviewOut(
        id=interview.id,
        candidate_id=interview.candidate_id,
        job_title=interview.job_title,
        job_description=interview.job_description,
        role=interview.role,
        tech_stack=interview.tech_stack,
        status=lifecycle.STATUS_000[interview.status],
        scheduled_at=iso(interview.scheduled_at),
        scheduled_by_id=interview.owner_id,
        questions=[_question_out(q) for q in questions],
        match_score=interview.match_score,
        strengths=interview.strengths,
        gaps=interview.gaps,
        created_at=iso(interview.created_at),
        updated_at=iso(interview.updated_at),
        completed_at=iso(interview.completed_at),
    )


def _answer_out(answer: Answer, candidate_id: str) -> AnswerOut:
    return AnswerOut(
        id=answer.id,
        response_id=answer.id,
        interview_id=answer.interview_id,
        question_id=answer.question_id,
        candidate_id=candidate_id,
        answer_text=answer.text,
        code_answer=answer.code,
        video_url=answer.video_url,
        status=answer.status,
        ai_score=answer.ai_score,
        ai_feedback=answer.ai_feedback,
        ai_provider=answer.ai_provider,
        hr_score=rules.stored_to_hr(answer.hr_score),
        hr_feedback=answer.hr_feedback,
        submitted_at=iso(answer.created_at),
    )


async def _result_out(session: AsyncSession, interview: Interview) -> ResultOut:
    questions = await interviews.questions_of(session, interview.id)
    answers = {a.question_id: a for a in await interviews.answers_of(session, interview.id)}
    rows = []
    for question in questions:
        answer = answers.get(question.id)
        rows.append(
            QuestionResult(
                question_id=question.id,
                question_text=question.text,
                candidate_answer_text=answer.text if answer else None,
                candidate_code_answer=answer.code if answer else None,
                ai_score=answer.ai_score if answer else None,
                ai_feedback=answer.ai_feedback if answer else None,
                hr_score=rules.stored_to_hr(answer.hr_score) if answer else None,
                hr_feedback=answer.hr_feedback if answer else None,
            )
        )
    total = rules.total_score(interview.hr_overall_score, [a.ai_score for a in answers.values()])
    return ResultOut(
        interview_id=interview.id,
        candidate_id=interview.candidate_id,
        overall_score=total,
        overall_feedback=interview.hr_feedback or interview.summary,
        status="evaluated" if interview.status == S.evaluated else "pending_hr_review",
        questions=rows,
        hr_overall_feedback=interview.hr_feedback,
        hr_overall_score=rules.stored_to_hr(interview.hr_overall_score),
        hr_recommendation=interview.hr_recommendation,
    )


async def _own(session: AsyncSession, user: User, interview_id: str) -> Interview:
    return await visible_interview(session, user, interview_id, hide_as_404=False)


@router.get("/default-questions", response_model=list[QuestionOut], summary="Default questions (public)")
async def default_questions(services: ServicesDep) -> list[QuestionOut]:
    plan = await services.ai.plan(PlanRequest(count=5))
    return [
        QuestionOut(
            id=f"default-{n}",
            text=q.text,
            category=label(q.category),
            difficulty=label(q.difficulty),
            expected_duration_minutes=q.expected_minutes,
            order=n,
        )
        for n, q in enumerate(plan.questions, start=1)
    ]


@router.post(
    "/schedule",
    status_code=201,
    response_model=InterviewOut,
    summary="Schedule an interview; questions are generated for the role and tech stack",
)
async def schedule(
    body: ScheduleIn, staff: StaffUser, session: DbSession, services: ServicesDep
) -> InterviewOut:
    candidate = await candidates.get(session, body.candidate_id)
    if candidate is None:
        raise NotFound("Candidate not found")
    if candidate.cv_status in (CvStatus.selected, CvStatus.rejected):
        raise InvalidInput(
            f"Candidate status is '{candidate.cv_status}'. Cannot schedule a new interview.",
            details={"candidate_id": ["Candidate already has a decision"]},
        )
    when = body.scheduled_at or utcnow()
    interview = Interview(
        candidate_id=candidate.id,
        owner_id=staff.id,
        interviewer_id=staff.id,
        job_title=body.job_title.strip(),
        job_description=body.job_description,
        role=body.role,
        tech_stack=body.tech_stack,
        job_role_id=candidate.job_role_id,
        resume_path=candidate.resume_path,
        resume_text=candidate.resume_text,
        scheduled_at=when,
        status=S.created,
    )
    session.add(interview)
    await session.flush()
    explicit = [q.planned() for q in body.questions] if body.questions else None
    await plan_interview(
        services, session, interview, count=len(explicit or []) or body.num_questions, explicit=explicit
    )
    await candidates.move_status(session, candidate.id, CvStatus.pending, CvStatus.ongoing)
    return await _interview_out(session, interview)


@router.put(
    "/{interview_id}/questions",
    response_model=InterviewOut,
    summary="Replace the questions (HR/admin, until the interview starts)",
)
async def edit_questions(
    interview_id: str, body: QuestionsIn, staff: StaffUser, session: DbSession
) -> InterviewOut:
    interview = await _own(session, staff, interview_id)
    answered = len(await interviews.answers_of(session, interview.id))
    if not lifecycle.questions_editable(interview.status, answered):
        raise InvalidInput(
            "Questions can only be changed before the interview starts",
            details={"status": [lifecycle.STATUS_000[interview.status]]},
        )
    questions = [
        Question(
            interview_id=interview.id,
            order=0,
            text=q.text.strip(),
            category=q.category,
            difficulty=q.difficulty,
            expected_minutes=q.expected_duration_minutes,
            source="hr",
        )
        for q in body.questions
    ]
    await interviews.replace_questions(session, interview.id, questions)
    interview.status, interview.updated_at = S.scheduled, utcnow()
    session.add(interview)
    return await _interview_out(session, interview)


@router.get("/all", response_model=list[InterviewOut], summary="Every interview (HR/admin), with filters")
async def all_interviews(
    staff: StaffUser,
    session: DbSession,
    status: Status000 | None = None,
    candidate_id: Annotated[str | None, Query(max_length=64)] = None,
    hr_id: Annotated[str | None, Query(max_length=64, description="Who scheduled it")] = None,
    date_from: Moment | None = None,
    date_to: Moment | None = None,
    skip: Skip = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[InterviewOut]:
    rows = await interviews.search(
        session,
        statuses=[FROM_000[status]] if status else (),
        candidate_id=candidate_id,
        owner_id=hr_id,
        scheduled_from=date_from,
        scheduled_to=date_to,
        skip=skip,
        limit=limit,
    )
    return await _interviews_out(session, rows)


@router.get("/results/all", response_model=list[ResultOut], summary="Results of every finished interview")
async def all_results(staff: StaffUser, session: DbSession) -> list[ResultOut]:
    rows = await interviews.search(session, statuses=[S.completed, S.evaluated], limit=1000)
    return [await _result_out(session, row) for row in rows]


async def _store_answer(session: AsyncSession, interview: Interview, item: AnswerSubmit) -> Answer:
    question = await interviews.get_question(session, interview.id, item.question_id)
    if question is None:
        raise NotFound("Question not found in this interview")
    if not (item.answer_text or "").strip() and not (item.code_answer or "").strip() and not item.video_url:
        raise InvalidInput(
            "An answer needs answer_text, code_answer or video_url",
            details={"answer_text": ["This field may not be blank."]},
        )
    answer = await interviews.answer_for(session, question.id) or Answer(
        interview_id=interview.id, question_id=question.id
    )
    answer.text, answer.code, answer.video_url = (
        (item.answer_text or "").strip() or None,
        item.code_answer,
        item.video_url,
    )
    answer.status, answer.updated_at = AnswerStatus.submitted, utcnow()
    answer.ai_score = answer.ai_accuracy = answer.ai_communication = answer.ai_behaviour = None
    session.add(answer)
    return answer


async def _answerable(
    session: AsyncSession, user: User, interview_id: str, *, final_submit: bool = False
) -> Interview:
    """The candidate's own interview, open for answers (scheduled → in progress on the first answer).

    The final submit (``submit-all``) also accepts an interview that the last single response completed,
    so a front end that submits each answer and then presses "submit all" gets no error.
    """
    if user.role != Role.candidate:
        raise Forbidden("Only candidates submit responses")
    interview = await _own(session, user, interview_id)
    if not is_participant(user, interview):
        raise Forbidden("You may only answer your own interviews")
    open_statuses = {S.scheduled, S.in_progress} | ({S.completed} if final_submit else set())
    if interview.status not in open_statuses:
        raise InvalidInput(
            "This interview is not open for answers",
            details={"status": [lifecycle.STATUS_000[interview.status]]},
        )
    if interview.status == S.scheduled:
        await lifecycle.start(session, interview)
    return interview


async def _all_answered(session: AsyncSession, interview: Interview) -> bool:
    await session.flush()
    questions = await interviews.questions_of(session, interview.id)
    answered = {a.question_id for a in await interviews.answers_of(session, interview.id)}
    return bool(questions) and all(q.id in answered for q in questions)


@router.post(
    "/submit-response",
    response_model=AnswerOut,
    summary="Submit one answer (candidate); the interview completes once every question is answered",
)
async def submit_response(
    body: SubmitIn, user: CurrentUser, session: DbSession, services: ServicesDep
) -> AnswerOut:
    interview = await _answerable(session, user, body.interview_id)
    answer = await _store_answer(session, interview, body)
    interview.updated_at = utcnow()
    session.add(interview)
    if await _all_answered(session, interview):
        await lifecycle.complete(session, interview)
    await session.commit()
    if answer.text or answer.code:
        services.jobs.notify(answer.id)
    return _answer_out(answer, interview.candidate_id)


@router.post(
    "/submit-all", response_model=SubmittedAll, summary="Submit every answer and complete (candidate)"
)
async def submit_all(
    body: BulkSubmitIn, user: CurrentUser, session: DbSession, services: ServicesDep
) -> SubmittedAll:
    interview = await _answerable(session, user, body.interview_id, final_submit=True)
    ids = [item.question_id for item in body.answers]
    if len(set(ids)) != len(ids):
        raise InvalidInput(
            "Each question may be answered once", details={"answers": ["Duplicate question_id"]}
        )
    stored = [await _store_answer(session, interview, item) for item in body.answers]
    if not stored and not await interviews.answers_of(session, interview.id):
        raise InvalidInput("No answers were submitted", details={"answers": ["Submit at least one answer"]})
    await lifecycle.complete(session, interview)
    await session.commit()
    for answer in stored:
        if answer.text or answer.code:
            services.jobs.notify(answer.id)
    return SubmittedAll(
        message="Interview responses submitted successfully.", interview_id=interview.id, status="completed"
    )


@router.get("/candidate/me", response_model=list[InterviewOut], summary="My active and upcoming interviews")
async def candidate_me(user: CurrentUser, session: DbSession) -> list[InterviewOut]:
    rows = await interviews.for_person(session, user.id, statuses=[s.value for s in lifecycle.ACTIVE])
    return await _interviews_out(session, [row for row in rows if row.candidate_id == user.id])


@router.get("/candidate/history", response_model=list[InterviewOut], summary="My finished interviews")
async def candidate_history(user: CurrentUser, session: DbSession) -> list[InterviewOut]:
    rows = await interviews.for_person(session, user.id, statuses=[s.value for s in lifecycle.FINISHED])
    return await _interviews_out(session, [row for row in rows if row.candidate_id == user.id])


@router.get("/results/{interview_id}", response_model=ResultOut, summary="Results (400 until completed)")
async def results(interview_id: str, user: CurrentUser, session: DbSession) -> ResultOut:
    interview = await _own(session, user, interview_id)
    if interview.status not in lifecycle.FINISHED:
        raise InvalidInput(
            "Results are available once the interview is completed",
            details={"status": [lifecycle.STATUS_000[interview.status]]},
        )
    return await _result_out(session, interview)


@router.post("/{interview_id}/results", response_model=ResultOut, summary="HR evaluation: status → evaluated")
async def submit_results(
    interview_id: str, body: HREvaluationIn, staff: StaffUser, session: DbSession
) -> ResultOut:
    interview = await _own(session, staff, interview_id)
    if interview.status not in lifecycle.FINISHED:
        raise InvalidInput(
            "The interview must be completed before it is evaluated",
            details={"status": [lifecycle.STATUS_000[interview.status]]},
        )
    answers = {a.question_id: a for a in await interviews.answers_of(session, interview.id)}
    for review in body.questions:
        if review.question_id not in answers:
            raise InvalidInput("No answer for that question", details={"questions": [review.question_id]})
    for review in body.questions:
        answer = answers[review.question_id]
        if review.hr_score is not None:
            answer.hr_score = rules.hr_to_stored(review.hr_score)
        if review.hr_feedback is not None:
            answer.hr_feedback = review.hr_feedback
        session.add(answer)
    if body.hr_score is not None:
        interview.hr_overall_score = rules.hr_to_stored(body.hr_score)
    interview.hr_feedback = body.hr_feedback if body.hr_feedback is not None else interview.hr_feedback
    interview.hr_recommendation = body.hr_recommendation or interview.hr_recommendation
    interview.status, interview.updated_at = S.evaluated, utcnow()
    session.add(interview)
    await session.flush()
    return await _result_out(session, interview)


@router.post(
    "/responses/{response_id}/evaluate",
    response_model=AnswerOut,
    summary="Run the AI evaluation of one response now (HR/admin; at least 10 characters)",
)
async def evaluate_response(
    response_id: str, staff: StaffUser, session: DbSession, services: ServicesDep
) -> AnswerOut:
    answer = await interviews.get_answer(session, response_id)
    if answer is None:
        raise NotFound("Response not found")
    require_text(answer, AI_EVALUATION_MIN_CHARS)
    interview = await interviews.get(session, answer.interview_id)
    assert interview is not None
    await session.commit()
    scored = await score_answer(services, answer.id)
    if scored is None or scored.status != AnswerStatus.completed:
        raise InvalidInput("AI evaluation failed; try again", details={"response": ["Evaluation failed"]})
    return _answer_out(scored, interview.candidate_id)


@router.get(
    "/{interview_id}/responses", response_model=list[AnswerOut], summary="All responses of an interview"
)
async def responses(interview_id: str, user: CurrentUser, session: DbSession) -> list[AnswerOut]:
    interview = await _own(session, user, interview_id)
    questions = {q.id: q.order for q in await interviews.questions_of(session, interview.id)}
    answers = sorted(
        await interviews.answers_of(session, interview.id), key=lambda a: questions.get(a.question_id, 0)
    )
    return [_answer_out(a, interview.candidate_id) for a in answers]


@router.get("/{interview_id}", response_model=InterviewOut, summary="One interview with its questions")
async def get_interview(interview_id: str, user: CurrentUser, session: DbSession) -> InterviewOut:
    return await _interview_out(session, await _own(session, user, interview_id))
