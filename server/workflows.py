"""Interview work that joins the store and the AI engine: planning questions, scoring answers, reports.

Routes call these; each takes the caller's session (one transaction) except ``score_answer``, which runs in
the background with its own sessions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from server.ai.base import AnswerScore, PlannedQuestion, PlanRequest, ReportInput, ScoreRequest
from server.domain import report as rules
from server.domain.errors import InvalidInput
from server.logs import log
from server.services import Services
from server.store import candidates, interviews
from server.store.models import Answer, AnswerStatus, Interview, InterviewStatus, Question, utcnow


async def plan_interview(
    services: Services,
    session: AsyncSession,
    interview: Interview,
    count: int,
    explicit: Sequence[PlannedQuestion] | None = None,
    from_status: InterviewStatus | None = None,
) -> None:
    """Generate (or take ``explicit``) questions and the AI context; the interview becomes scheduled.

    The AI is asked first, outside any write; with ``from_status`` the interview must still be in that
    status afterwards (an atomic check), so two concurrent calls store questions once (the other gets 400).
    """
    candidate = await candidates.get(session, interview.candidate_id)
    resume = interview.resume_text or (candidate.resume_text if candidate else "") or ""
    request = PlanRequest(
        resume_text=resume,
        job_description=interview.job_description or "",
        job_title=interview.job_title,
        role=interview.role,
        tech_stack=interview.tech_stack,
        count=count,
    )
    plan = await services.ai.plan(request)
    if from_status is not None and not await interviews.move_status(
        session, interview.id, from_status, InterviewStatus.scheduled
    ):
        raise InvalidInput(
            "AI setup already completed", details={"status": ["Questions were already generated"]}
        )
    chosen = list(explicit) if explicit else plan.questions
    source = "hr" if explicit else plan.provider
    questions = [
        Question(
            interview_id=interview.id,
            order=0,
            text=q.text,
            category=q.category,
            difficulty=q.difficulty,
            expected_minutes=q.expected_minutes,
            key_concepts=q.key_concepts,
            source=source,
        )
        for q in chosen
    ]
    await interviews.replace_questions(session, interview.id, questions)
    interview.match_score = plan.match_score
    interview.strengths, interview.gaps = plan.strengths, plan.gaps
    interview.ai_provider, interview.ai_model = plan.provider, plan.model
    interview.status = InterviewStatus.scheduled
    interview.updated_at = utcnow()
    session.add(interview)
    prefetch_speech(services, [q.text for q in questions], interview.voice)


def prefetch_speech(services: Services, texts: list[str], voice: str) -> None:
    """Synthesise questions in the background so they play at once when asked (when enabled)."""
    if services.settings.tts_prefetch and texts:
        services.tts.prefetch(texts, voice)


async def score_answer(services: Services, answer_id: str) -> Answer | None:
    """Score one stored answer now, outside the job queue (own transactions): → completed | failed."""
    async with services.db.session() as session:
        answer = await interviews.get_answer(session, answer_id)
        if answer is None:
            return None
    try:
        async with services.db.session() as session:
            question = await session.get(Question, answer.question_id)
            interview = await interviews.get(session, answer.interview_id)
        result = await services.ai.score(score_request(answer, question, interview))
    except Exception as exc:
        log.error("scoring_failed", answer_id=answer_id, error_type=type(exc).__name__)
        return await _set_failed(services, answer_id, "Scoring failed; it can be retried")
    async with services.db.session() as session:
        stored = await interviews.get_answer(session, answer_id)
        if stored is None:
            return None
        for column, value in score_columns(result).items():
            setattr(stored, column, value)
        stored.updated_at = utcnow()
        session.add(stored)
    return stored


def score_request(answer: Answer, question: Question | None, interview: Interview | None) -> ScoreRequest:
    """What the AI engine needs to score ``answer`` (transcript first, else the typed text)."""
    return ScoreRequest(
        question_text=question.text if question else "",
        category=question.category if question else "technical",
        key_concepts=question.key_concepts if question else [],
        answer_text=answer_text(answer),
        code=answer.code,
        job_description=(interview.job_description or "") if interview else "",
    )


def score_columns(result: AnswerScore) -> dict[str, Any]:
    """The answer columns a score fills in, and the answer's completion."""
    return {
        "ai_accuracy": result.accuracy,
        "ai_communication": result.communication,
        "ai_behaviour": result.behaviour,
        "ai_score": result.overall,
        "ai_feedback": result.feedback,
        "ai_evidence": result.evidence,
        "ai_provider": result.provider,
        "ai_model": result.model,
        "status": AnswerStatus.completed.value,
        "failure_reason": None,
    }


async def _set_failed(services: Services, answer_id: str, reason: str) -> Answer | None:
    async with services.db.session() as session:
        stored = await interviews.get_answer(session, answer_id)
        if stored is not None:
            stored.status, stored.failure_reason, stored.updated_at = AnswerStatus.failed, reason, utcnow()
            session.add(stored)
    return stored


def answer_text(answer: Answer) -> str:
    return (answer.transcript or answer.text or "").strip()


async def report_001(services: Services, session: AsyncSession, interview: Interview) -> dict[str, Any]:
    """Seed 001's report: ``incomplete`` without answers, ``processing`` while any is unscored."""
    answers = [
        a for a in await interviews.answers_of(session, interview.id) if a.status != AnswerStatus.failed
    ]
    if not answers:
        return {"status": "incomplete", "message": "Interview answers not found"}
    if any(a.status != AnswerStatus.completed for a in answers):
        done = sum(a.status == AnswerStatus.completed for a in answers)
        return {"status": "processing", "message": f"Answers are being scored ({done}/{len(answers)} done)"}
    questions = {q.id: q for q in await interviews.questions_of(session, interview.id)}
    answers.sort(key=lambda a: questions[a.question_id].order if a.question_id in questions else 0)
    scores = rules.mean_scores(
        [
            rules.ScoredAnswer(a.ai_accuracy or 0, a.ai_communication or 0, a.ai_behaviour or 0)
            for a in answers
        ]
    )
    verdict = rules.decision(scores)
    summary = await _summary(services, session, interview, answers, questions, scores, verdict)
    return {
        "decision": verdict,
        "scores": {
            "technical": scores.technical,
            "communication": scores.communication,
            "behavior": scores.behaviour,
        },
        "strengths": interview.strengths,
        "gaps": interview.gaps,
        "questions": [
            {
                "question_id": a.question_id,
                "accuracy": a.ai_accuracy,
                "communication": a.ai_communication,
                "behavior": a.ai_behaviour,
                "feedback": a.ai_feedback,
                "transcript": a.transcript,
                "emotion": a.emotion,
                "confidence": a.confidence,
                "delivery": a.metrics.get("delivery") if a.metrics else None,
            }
            for a in answers
        ],
        "summary": summary,
        "match_score": interview.match_score,
        "interview_status": interview.status,
    }


async def _summary(
    services: Services,
    session: AsyncSession,
    interview: Interview,
    answers: list[Answer],
    questions: dict[str, Question],
    scores: rules.Scores,
    verdict: str,
) -> str:
    """The report summary, written once the interview is finished and then kept."""
    if interview.summary and interview.status in (InterviewStatus.completed, InterviewStatus.evaluated):
        return interview.summary
    result = await services.ai.summarise(
        ReportInput(
            job_title=interview.job_title,
            strengths=interview.strengths,
            gaps=interview.gaps,
            decision=verdict,
            technical=scores.technical,
            communication=scores.communication,
            behaviour=scores.behaviour,
            answers=[
                (
                    questions[a.question_id].text if a.question_id in questions else "",
                    answer_text(a),
                    a.ai_feedback or "",
                )
                for a in answers
            ],
        )
    )
    if interview.status in (InterviewStatus.completed, InterviewStatus.evaluated):
        interview.summary = result.summary
        session.add(interview)
    return result.summary


def require_text(answer: Answer, minimum: int = 1) -> str:
    text = answer_text(answer)
    if len(text) < minimum:
        raise InvalidInput(
            "Answer not ready for scoring"
            if minimum <= 1
            else f"Answer is too short to evaluate (min {minimum} characters)",
            details={"answer": ["No transcript or text to score" if minimum <= 1 else "Too short"]},
        )
    return text
