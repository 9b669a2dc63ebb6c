"""The AI interview lifecycle (seed 001) at ``/interviews``: create → setup-ai → start → questions → report.

Another user's interview is a 404. Statuses use 001's words (``questions_generated`` for scheduled).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio
from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from server.api.deps import CurrentUser, DbSession, ServicesDep
from server.api.forms import ParsedBody, body_with_file, read_upload, save_media, store, stored_file
from server.api.views import iso
from server.domain import lifecycle
from server.domain.access import is_participant, visible_interview
from server.domain.errors import Forbidden, InvalidInput, NotFound
from server.jobs.pipeline import media_metrics, transcribe_file
from server.live.hr import action_view
from server.speech.delivery import sentiment
from server.store import candidates, files, interviews
from server.store.models import Answer, AnswerStatus, Interview, InterviewStatus, Question, Role, utcnow
from server.workflows import plan_interview, prefetch_speech, report_001, require_text, score_answer

router = APIRouter(prefix="/interviews", tags=["ai-interviews (seed 001)"])
S = InterviewStatus
ResumeForm = Annotated[ParsedBody, Depends(body_with_file("resume"), scope="function")]
MAX_JD_CHARS = 20_000


class Created(BaseModel):
    interview_id: str
    status: str


class Message(BaseModel):
    message: str


class Started(BaseModel):
    message: str
    voice: str


class NextQuestion(BaseModel):
    question_number: int | None = None
    question_id: str | None = None
    question_text: str | None = None
    total_questions: int | None = None
    voice: str | None = None
    message: str | None = None


class AnswerIn(BaseModel):
    answer_text: Annotated[str, Field(max_length=20_000)] = ""
    code_answer: Annotated[str | None, Field(max_length=50_000)] = None


class AnswerSaved(BaseModel):
    message: str
    answer_id: str
    status: str


class ScoreValues(BaseModel):
    accuracy: float | None
    communication: float | None
    behavior: float | None


class Scored(BaseModel):
    message: str
    score: ScoreValues
    feedback: str | None = None
    evidence: list[str] = Field(default_factory=list)
    provider: str | None = None


class InterviewSummary(BaseModel):
    interview_id: str
    status: str
    job_title: str | None
    job_description: str | None
    questions_count: int
    current_question_index: int
    voice: str
    match_score: float | None
    created_at: str | None


_CREATE_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["resume", "job_description"],
                    "properties": {
                        "resume": {"type": "string", "format": "binary", "description": "PDF or DOCX"},
                        "job_description": {"type": "string", "maxLength": MAX_JD_CHARS},
                        "candidate_id": {"type": "string", "description": "HR/admin only: whose interview"},
                    },
                }
            }
        },
    }
}


@router.post(
    "/create",
    response_model=Created,
    openapi_extra=_CREATE_DOC,
    summary="Create an interview from a resume (PDF/DOCX) and a job description",
)
async def create(user: CurrentUser, body: ResumeForm, session: DbSession, services: ServicesDep) -> Created:
    description = str(body.fields.get("job_description") or "").strip()
    errors: dict[str, list[str]] = {}
    if not description:
        errors["job_description"] = ["This field is required."]
    elif len(description) > MAX_JD_CHARS:
        errors["job_description"] = [f"At most {MAX_JD_CHARS} characters."]
    if body.upload is None:
        errors["resume"] = ["A resume file (PDF or DOCX) is required."]
    if errors:
        raise InvalidInput("Invalid interview data", details=errors)
    assert body.upload is not None
    candidate_id = await _candidate_for(session, user, body.fields.get("candidate_id"))
    kind = files.RESUME_KIND.with_limit(services.settings.max_resume_bytes)
    content, ext = await read_upload(body.upload, kind, "resume")
    text = await anyio.to_thread.run_sync(files.extract_resume_text, content, ext)
    path = await store(services.settings.uploads_dir, kind, content, ext)
    interview = Interview(
        candidate_id=candidate_id,
        owner_id=user.id,
        job_description=description,
        resume_path=path,
        resume_text=text,
        status=S.created,
    )
    session.add(interview)
    await session.flush()
    return Created(interview_id=interview.id, status="created")


async def _candidate_for(session: DbSession, user: Any, requested: object) -> str:
    if user.role == Role.candidate:
        if await candidates.get(session, user.id) is None:
            raise InvalidInput("No candidate profile for this account")
        return str(user.id)
    if not requested:
        raise InvalidInput(
            "candidate_id is required when HR or an admin creates an interview",
            details={"candidate_id": ["This field is required."]},
        )
    if await candidates.get(session, str(requested)) is None:
        raise NotFound("Candidate not found")
    return str(requested)


@router.post(
    "/{interview_id}/setup-ai", response_model=dict[str, Any], summary="Generate the questions (exactly once)"
)
async def setup_ai(
    interview_id: str, user: CurrentUser, session: DbSession, services: ServicesDep
) -> dict[str, Any]:
    interview = await visible_interview(session, user, interview_id)
    if interview.status != S.created:
        raise InvalidInput(
            "AI setup already completed", details={"status": ["Questions were already generated"]}
        )
    await plan_interview(services, session, interview, count=5, from_status=S.created)
    return {
        "message": "AI setup completed",
        "questions_count": len(await interviews.questions_of(session, interview.id)),
        "match_score": interview.match_score,
        "strengths": interview.strengths,
        "gaps": interview.gaps,
        "provider": interview.ai_provider,
    }


@router.post("/{interview_id}/start", response_model=Started, summary="Start the interview with a voice")
async def start(
    interview_id: str,
    user: CurrentUser,
    session: DbSession,
    services: ServicesDep,
    voice: Annotated[str | None, Query(description="male | female")] = None,
) -> Started:
    interview = await visible_interview(session, user, interview_id)
    chosen = lifecycle.check_voice(voice)
    if not await lifecycle.start(session, interview):
        raise InvalidInput(
            "Interview not ready to start", details={"status": [lifecycle.STATUS_001[interview.status]]}
        )
    interview.voice, interview.current_question_index = chosen, 0
    session.add(interview)
    if chosen != lifecycle.DEFAULT_VOICE:
        prefetch_speech(
            services, [q.text for q in await interviews.questions_of(session, interview.id)], chosen
        )
    return Started(message="Interview started", voice=chosen)


@router.get(
    "/{interview_id}/next-question",
    response_model=NextQuestion,
    response_model_exclude_none=True,
    summary="The current question (with its id); completes the interview when none are left",
)
async def next_question(interview_id: str, user: CurrentUser, session: DbSession) -> NextQuestion:
    interview = await visible_interview(session, user, interview_id)
    lifecycle.require(interview.status, {S.in_progress}, "Interview not in progress")
    questions = await interviews.questions_of(session, interview.id)
    index = interview.current_question_index
    if index >= len(questions):
        await lifecycle.complete(session, interview)
        return NextQuestion(message="Interview completed")
    question = questions[index]
    return NextQuestion(
        question_number=index + 1,
        question_id=question.id,
        question_text=question.text,
        total_questions=len(questions),
        voice=interview.voice,
    )


@router.post(
    "/{interview_id}/answer-complete",
    response_model=Message,
    summary="Done with the current answer: move to the next question",
)
async def answer_complete(interview_id: str, user: CurrentUser, session: DbSession) -> Message:
    interview = await visible_interview(session, user, interview_id)
    lifecycle.require(interview.status, {S.in_progress}, "Unable to advance: interview not in progress")
    total = len(await interviews.questions_of(session, interview.id))
    if interview.current_question_index >= total:
        raise InvalidInput("Unable to advance: no more questions", details={"status": ["No more questions"]})
    interview.current_question_index += 1
    interview.updated_at = utcnow()
    session.add(interview)
    return Message(message="Answer recorded, moving to next question")


@router.post("/{interview_id}/end", response_model=Message, summary="End the interview early")
async def end(interview_id: str, user: CurrentUser, session: DbSession) -> Message:
    interview = await visible_interview(session, user, interview_id)
    lifecycle.require(interview.status, {S.in_progress}, "Interview not in progress or already ended")
    await lifecycle.complete(session, interview)
    return Message(message="Interview ended successfully")


async def _answerable(
    session: DbSession, user: Any, interview_id: str, question_id: str
) -> tuple[Interview, Question]:
    """The interview (in progress, the user's own) and one of its questions up to the current one."""
    interview = await visible_interview(session, user, interview_id)
    if not is_participant(user, interview):
        raise Forbidden("Only the candidate answers questions")
    question = await interviews.get_question(session, interview.id, question_id)
    if question is None:
        raise NotFound("Question not found")
    lifecycle.require(interview.status, {S.in_progress}, "Interview not in progress")
    if question.order > interview.current_question_index + 1:
        raise InvalidInput("This question has not been asked yet", details={"question_id": ["Not asked yet"]})
    return interview, question


async def _fresh_answer(session: DbSession, interview: Interview, question: Question) -> Answer:
    """The question's answer row, cleared of any earlier result (a new answer replaces the old one)."""
    stored = await interviews.answer_for(session, question.id) or Answer(
        interview_id=interview.id, question_id=question.id
    )
    for name in (
        "text",
        "code",
        "media_path",
        "transcript",
        "emotion",
        "confidence",
        "ai_accuracy",
        "ai_communication",
        "ai_behaviour",
        "ai_score",
        "ai_feedback",
        "failure_reason",
        "job_worker",
        "job_lease_until",
    ):
        setattr(stored, name, None)
    stored.metrics, stored.ai_evidence, stored.job_attempts = {}, [], 0
    stored.updated_at = utcnow()
    return stored


@router.post(
    "/{interview_id}/questions/{question_id}/answer",
    response_model=AnswerSaved,
    summary="Answer a question in text (and optional code); scored in the background",
)
async def answer(
    interview_id: str,
    question_id: str,
    body: AnswerIn,
    user: CurrentUser,
    session: DbSession,
    services: ServicesDep,
) -> AnswerSaved:
    interview, question = await _answerable(session, user, interview_id, question_id)
    if not body.answer_text.strip() and not (body.code_answer or "").strip():
        raise InvalidInput(
            "An answer needs answer_text or code_answer",
            details={"answer_text": ["This field may not be blank."]},
        )
    stored = await _fresh_answer(session, interview, question)
    stored.text, stored.code, stored.status = (
        body.answer_text.strip(),
        body.code_answer,
        AnswerStatus.submitted,
    )
    session.add(stored)
    await session.commit()
    services.jobs.notify(stored.id)
    return AnswerSaved(message="Answer saved; scoring started", answer_id=stored.id, status="processing")


VideoForm = Annotated[ParsedBody, Depends(body_with_file("video"), scope="function")]
_VIDEO_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["video"],
                    "properties": {
                        "video": {
                            "type": "string",
                            "format": "binary",
                            "description": "WebM, MP4/MOV, Ogg, WAV, MP3 or M4A with an audio track",
                        }
                    },
                }
            }
        },
    }
}


@router.post(
    "/{interview_id}/questions/{question_id}/upload-video",
    response_model=AnswerSaved,
    openapi_extra=_VIDEO_DOC,
    summary="Upload the recorded answer; transcription, analysis and scoring run as a durable job",
)
async def upload_video(
    interview_id: str,
    question_id: str,
    user: CurrentUser,
    body: VideoForm,
    session: DbSession,
    services: ServicesDep,
) -> AnswerSaved:
    interview, question = await _answerable(session, user, interview_id, question_id)
    if body.upload is None:
        raise InvalidInput("A video file is required", details={"video": ["This field is required."]})
    relative = await save_media(services, body.upload, "video")
    stored = await _fresh_answer(session, interview, question)
    stored.media_path, stored.status = relative, AnswerStatus.uploaded
    session.add(stored)
    await session.commit()
    services.jobs.notify(stored.id)
    return AnswerSaved(
        message="Video uploaded successfully. Processing started.", answer_id=stored.id, status="uploaded"
    )


@router.post(
    "/{interview_id}/questions/{question_id}/analyze",
    response_model=dict[str, Any],
    summary="Transcribe and analyse the answer now (usually done by the upload job)",
)
async def analyze(
    interview_id: str, question_id: str, user: CurrentUser, session: DbSession, services: ServicesDep
) -> dict[str, Any]:
    interview = await visible_interview(session, user, interview_id)
    question = await interviews.get_question(session, interview.id, question_id)
    if question is None:
        raise NotFound("Question not found")
    stored = await interviews.answer_for(session, question.id)
    if stored is None:
        raise InvalidInput("No answer to analyse", details={"answer": ["No answer for this question"]})
    if stored.media_path and not stored.transcript:
        transcript, analysis = await transcribe_file(services, stored.media_path)
        stored.transcript, stored.metrics = transcript.text, media_metrics(transcript, analysis)
        stored.emotion, stored.confidence = analysis.emotion, analysis.confidence
    elif not stored.media_path:
        tokens = (stored.text or "").lower().split()
        stored.emotion = stored.emotion or sentiment(tokens)
    stored.updated_at = utcnow()
    session.add(stored)
    return {
        "message": "Analysis completed",
        "transcript": stored.transcript or stored.text,
        "emotion": stored.emotion,
        "confidence": stored.confidence,
        "metrics": stored.metrics,
        "status": stored.status,
    }


@router.post(
    "/{interview_id}/questions/{question_id}/score",
    response_model=Scored,
    summary="Score (or re-score) one answer now",
)
async def score(
    interview_id: str, question_id: str, user: CurrentUser, session: DbSession, services: ServicesDep
) -> Scored:
    interview = await visible_interview(session, user, interview_id)
    question = await interviews.get_question(session, interview.id, question_id)
    if question is None:
        raise NotFound("Question not found")
    stored = await interviews.answer_for(session, question.id)
    if stored is None:
        raise InvalidInput(
            "Answer not ready for scoring", details={"answer": ["No answer for this question"]}
        )
    require_text(stored)
    await session.commit()
    result = await score_answer(services, stored.id)
    if result is None or result.status != AnswerStatus.completed:
        raise InvalidInput("Scoring failed; try again", details={"answer": ["Scoring failed"]})
    return Scored(
        message="Scoring completed",
        feedback=result.ai_feedback,
        evidence=result.ai_evidence,
        provider=result.ai_provider,
        score=ScoreValues(
            accuracy=result.ai_accuracy, communication=result.ai_communication, behavior=result.ai_behaviour
        ),
    )


@router.get(
    "/{interview_id}/report",
    response_model=dict[str, Any],
    summary="The final report (or `incomplete` / `processing`)",
)
async def report(
    interview_id: str, user: CurrentUser, session: DbSession, services: ServicesDep
) -> dict[str, Any]:
    interview = await visible_interview(session, user, interview_id)
    report = await report_001(services, session, interview)
    if user.role in (Role.hr, Role.admin):  # HR's notes and actions from the monitor; never the candidate's
        report["hr_actions"] = [action_view(a) for a in await interviews.hr_actions_of(session, interview.id)]
    return report


@router.get(
    "/{interview_id}/answers/{answer_id}/recording",
    response_class=FileResponse,
    summary="An answer's stored recording: its audio (default) or, for live answers, its camera video",
)
async def recording(
    interview_id: str,
    answer_id: str,
    user: CurrentUser,
    session: DbSession,
    services: ServicesDep,
    kind: Annotated[Literal["audio", "video"], Query()] = "audio",
) -> FileResponse:
    interview = await visible_interview(session, user, interview_id)
    answer = await interviews.get_answer(session, answer_id)
    if answer is None or answer.interview_id != interview.id:
        raise NotFound("Answer not found")
    live = (answer.metrics or {}).get("live") or {}
    stored = live.get("video_path") if kind == "video" else answer.media_path
    if not stored:
        raise NotFound(f"This answer has no {kind} recording")
    return stored_file(services.settings.uploads_dir, stored)


@router.get("", response_model=list[InterviewSummary], summary="The caller's own interviews")
async def mine(
    user: CurrentUser,
    session: DbSession,
    status: Annotated[
        Literal["created", "questions_generated", "in_progress", "completed", "cancelled"] | None, Query()
    ] = None,
) -> list[InterviewSummary]:
    rows = await interviews.for_person(session, user.id)
    questions = await interviews.questions_by_interview(session, [row.id for row in rows])
    out = []
    for row in rows:
        word = lifecycle.STATUS_001[row.status]
        if status and word != status:
            continue
        count = len(questions[row.id])
        out.append(
            InterviewSummary(
                interview_id=row.id,
                status=word,
                job_title=row.job_title,
                job_description=(row.job_description or "")[:500] or None,
                questions_count=count,
                current_question_index=row.current_question_index,
                voice=row.voice,
                match_score=row.match_score,
                created_at=iso(row.created_at),
            )
        )
    return out
