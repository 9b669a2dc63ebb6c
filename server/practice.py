"""Practice mode (seed 003): a ``mock`` or ``practice`` interview that a job seeker tracks starts a live
session in the interview room, with questions from the question bank (and the AI engine when the bank
has too few for the role); when its report is ready, the results flow back into the tracked interview.
"""

from __future__ import annotations

from statistics import fmean
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.ai.base import Category, PlannedQuestion, PlanRequest
from server.domain.errors import Conflict, InvalidInput
from server.services import Services
from server.store import candidates, interviews, tracking
from server.store.models import Candidate, Interview, JobRole, User, utcnow
from server.store.tracking_models import BankQuestion, InterviewType, TrackedInterview, TrackingStatus
from server.workflows import plan_interview

PRACTICE_TYPES = (InterviewType.mock, InterviewType.practice)
_CATEGORY: dict[str, Category] = {
    "technical": "technical",
    "behavioral": "behavioral",
    "leadership": "behavioral",
    "situational": "behavioral",
    "culture_fit": "behavioral",
    "system_design": "system_design",
    "coding": "coding",
}


async def start(
    services: Services, session: AsyncSession, user: User, tracked: TrackedInterview, count: int, voice: str
) -> Interview:
    """Create the practice interview (scheduled, questions ready) for ``user``; raises InvalidInput for an
    ``actual`` interview, Conflict when the user's email belongs to another candidate record."""
    if tracked.interview_type not in PRACTICE_TYPES:
        raise InvalidInput(
            "Only mock and practice interviews start a practice session",
            details={"interview_type": [f"is {tracked.interview_type}; expected mock or practice"]},
        )
    role = await tracking.get(session, JobRole, tracked.role_id) if tracked.role_id else None
    title = role.role_name if role else (tracked.custom_role_title or "Practice interview")
    skills = list(tracked.main_skills_required or (role.typical_skills if role else []))
    candidate = await _candidate_for(session, user)
    interview = Interview(
        candidate_id=candidate.id,
        owner_id=user.id,
        job_role_id=tracked.role_id,
        job_title=title,
        role=title,
        job_description=tracked.job_description,
        tech_stack=skills,
        voice=voice,
        tracked_interview_id=tracked.id,
    )
    session.add(interview)
    await session.flush()
    chosen = await _bank_questions(session, [title, *skills], count)
    planned = [_planned(q) for q in chosen]
    if len(planned) < count:
        request = PlanRequest(
            job_description=tracked.job_description or "", job_title=title, role=title, tech_stack=skills
        )
        planned += (await services.ai.plan(request.model_copy(update={"count": count}))).questions
    await plan_interview(services, session, interview, count, explicit=planned[:count])
    for question in chosen:
        question.times_practiced += 1
        session.add(question)
    tracked.interview_status, tracked.updated_at = TrackingStatus.in_progress, utcnow()
    session.add(tracked)
    return interview


async def _candidate_for(session: AsyncSession, user: User) -> Candidate:
    """The user's own candidate record (same id), created on first practice."""
    found = await candidates.get(session, user.id)
    if found is not None:
        return found
    taken = await session.exec(select(Candidate).where(col(Candidate.email) == user.email))
    if taken.first() is not None:
        raise Conflict("Your email belongs to another candidate record; ask HR to link it")
    candidate = Candidate(id=user.id, name=user.name, email=user.email, created_by=user.id)
    session.add(candidate)
    await session.flush()
    return candidate


async def _bank_questions(session: AsyncSession, words: list[str], count: int) -> list[BankQuestion]:
    """Active bank questions whose tags or key concepts name the role or its skills, least practised
    first."""
    wanted = {w.strip().lower() for w in words if w and w.strip()}
    rows = (await session.exec(select(BankQuestion).where(col(BankQuestion.is_active)))).all()
    matching = [q for q in rows if wanted & {t.lower() for t in [*q.tags, *q.key_concepts]}]
    matching.sort(key=lambda q: (q.times_practiced, q.id or 0))
    return matching[:count]


def _planned(question: BankQuestion) -> PlannedQuestion:
    return PlannedQuestion(
        text=question.question_text[:2000],
        category=_CATEGORY.get(question.question_category, "technical"),
        difficulty="hard" if question.question_difficulty == "expert" else question.question_difficulty,
        expected_minutes=max(1, min(30, question.time_to_answer_minutes or 3)),
        key_concepts=question.key_concepts[:12],
    )


async def record_results(services: Services, interview_id: str, report: dict[str, Any]) -> None:
    """Write a finished practice session's results into its tracked interview (idempotent): rating 1-10
    from the mean score, the summary as feedback, the best and weakest answers' feedback."""
    async with services.db.session() as session:
        interview = await interviews.get(session, interview_id)
        if interview is None or interview.tracked_interview_id is None:
            return
        tracked = await tracking.get(session, TrackedInterview, interview.tracked_interview_id)
        if tracked is None:
            return
        tracked.overall_rating = max(1, min(10, round(fmean(report["scores"].values()) / 10)))
        tracked.overall_feedback = report.get("summary") or tracked.overall_feedback
        ranked = sorted(report["questions"], key=_answer_mean, reverse=True)
        if ranked:
            tracked.strengths = ranked[0].get("feedback") or tracked.strengths
            tracked.areas_for_improvement = ranked[-1].get("feedback") or tracked.areas_for_improvement
        tracked.interview_status, tracked.updated_at = TrackingStatus.completed, utcnow()
        session.add(tracked)


def _answer_mean(answer: dict[str, Any]) -> float:
    return fmean(float(answer.get(k) or 0) for k in ("accuracy", "communication", "behavior"))
