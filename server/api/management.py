"""Interview management (seed 004) at ``/api/interview-management/``, HR and admin only.

Every response uses the ``{success, message, data}`` / ``{success, message, error, details}`` envelope
(errors are shaped by ``server.api.errors`` for this prefix). Paths answer with and without the slash.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, Field

from server.api.deps import DbSession, ServicesDep, StaffUser
from server.api.forms import ParsedBody, body_with_file, read_upload, store, stored_file
from server.api.views import cv_item, interviewer, iso
from server.domain import evaluation as rules
from server.domain.errors import InvalidInput, NotFound
from server.jobs.pipeline import transcribe_voice_note
from server.store import candidates, files, interviews, roles, users
from server.store.models import (
    RATING_FIELDS,
    Candidate,
    CvStatus,
    Decision,
    Evaluation,
    Interview,
    InterviewStatus,
    Role,
    User,
    utcnow,
)

router = APIRouter(prefix="/api/interview-management", tags=["interview-management"])
T = TypeVar("T")


class Envelope(BaseModel, Generic[T]):
    success: bool = True
    message: str
    data: T | None = None


class CvOut(BaseModel):
    id: str
    name: str
    job_title: int | None
    job_title_name: str | None
    place: str | None
    email: str
    phone_number: str | None
    interview_status: CvStatus


class InterviewerOut(BaseModel):
    id: str
    email: str
    first_name: str
    last_name: str
    job_role: str | None


class EvaluationOut(BaseModel):
    interview_id: str
    candidate_name: str
    appearance: int | None
    knowledge: int | None
    confidence: int | None
    attitude: int | None
    communication: int | None
    languages: str | None
    expected_salary: str | None
    experience: str | None
    remark: str | None
    voice_note: str | None
    voice_note_transcript: str | None
    voice_note_status: str | None
    average_rating: float | None
    created_at: str | None
    updated_at: str | None


class InterviewOut(BaseModel):
    id: str
    candidate: CvOut
    interviewer: InterviewerOut | None
    scheduled_at: str | None
    status: Decision
    evaluation: EvaluationOut | None
    created_at: str | None
    updated_at: str | None


class InterviewListItem(BaseModel):
    id: str
    candidate_name: str
    candidate_email: str
    candidate_phone: str | None
    job_title: str | None
    place: str | None
    district: str | None
    interviewer_name: str | None
    scheduled_at: str | None
    status: Decision
    cv_status: CvStatus
    has_evaluation: bool
    created_at: str | None
    updated_at: str | None


class OngoingItem(BaseModel):
    id: str
    candidate: CvOut
    interviewer_name: str | None
    scheduled_at: str | None
    status: Decision
    evaluation_completed: bool
    created_at: str | None
    updated_at: str | None


class StartIn(BaseModel):
    candidate_id: uuid.UUID
    scheduled_at: datetime
    interviewer_id: Annotated[str | int | None, Field(description="User id of an HR or admin account")] = None


class StatusIn(BaseModel):
    status: Decision
    remark: Annotated[str | None, Field(max_length=500)] = None


def _both(method: str, path: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``path`` (with the slash, in the OpenAPI document) and the same path without it."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        router.add_api_route(path, func, methods=[method], **kwargs)
        bare = path.rstrip("/")
        extra = {k: v for k, v in kwargs.items() if k not in ("summary", "description")}
        router.add_api_route(bare, func, methods=[method], include_in_schema=False, **extra)
        return func

    return decorate


def ok(message: str, data: Any = None, status: int = 200, with_data: bool = True) -> JSONResponse:
    body: dict[str, Any] = {"success": True, "message": message}
    if with_data:
        body["data"] = data
    return JSONResponse(body, status_code=status)


_NOT_FOUND = "The requested interview does not exist"


async def _interview(session: DbSession, interview_id: str) -> Interview:
    found = await interviews.get(session, interview_id)
    if found is None:
        raise NotFound("Interview not found", details=_NOT_FOUND)
    return found


def _is_empty(evaluation: Evaluation) -> bool:
    keys = (*RATING_FIELDS, "languages", "expected_salary", "experience", "remark", "voice_note_path")
    return all(getattr(evaluation, key) in (None, "") for key in keys)


def _voice_note_status(evaluation: Evaluation) -> str | None:
    if not evaluation.voice_note_path:
        return None
    return "transcribing" if evaluation.voice_note_transcript is None else "transcribed"


def evaluation_view(evaluation: Evaluation, candidate: Candidate) -> dict[str, Any]:
    ratings = {field: getattr(evaluation, field) for field in RATING_FIELDS}
    voice = evaluation.voice_note_path
    return {
        "interview_id": evaluation.interview_id,
        "candidate_name": candidate.name,
        **ratings,
        "languages": evaluation.languages,
        "expected_salary": evaluation.expected_salary,
        "experience": evaluation.experience,
        "remark": evaluation.remark,
        "voice_note": f"{router.prefix}/{evaluation.interview_id}/evaluation/voice-note/" if voice else None,
        "voice_note_transcript": evaluation.voice_note_transcript,
        "voice_note_status": None
        if not voice
        else ("transcribed" if evaluation.voice_note_transcript is not None else "transcribing"),
        "average_rating": rules.average_rating(ratings),
        "created_at": iso(evaluation.created_at),
        "updated_at": iso(evaluation.updated_at),
    }


async def _detail(session: DbSession, interview: Interview) -> dict[str, Any]:
    candidate = await candidates.get(session, interview.candidate_id)
    assert candidate is not None  # a foreign key
    names = await roles.names(session, {candidate.job_role_id} if candidate.job_role_id else set())
    person = await users.get(session, interview.interviewer_id) if interview.interviewer_id else None
    found = await interviews.evaluation_for(session, interview.id)
    return {
        "id": interview.id,
        "candidate": cv_item(candidate, names.get(candidate.job_role_id or 0)),
        "interviewer": interviewer(person),
        "scheduled_at": iso(interview.scheduled_at),
        "status": interview.decision,
        "evaluation": evaluation_view(found, candidate) if found else None,
        "created_at": iso(interview.created_at),
        "updated_at": iso(interview.updated_at),
    }


@_both(
    "GET",
    "/cvs-for-interview/",
    response_model=Envelope[list[CvOut]],
    summary="CVs available for interview (pending; `?all=true` for every CV)",
)
async def cvs_for_interview(
    session: DbSession,
    _staff: StaffUser,
    all: Annotated[str | None, Query(description="`true` to list every CV regardless of status")] = None,
) -> JSONResponse:
    every = (all or "").strip().lower() in ("true", "1", "yes")
    _, rows = await candidates.listing(session, statuses=() if every else (CvStatus.pending,))
    names = await roles.names(session, {c.job_role_id for c in rows if c.job_role_id})
    data = [cv_item(c, names.get(c.job_role_id or 0)) for c in rows]
    return ok(f"Found {len(data)} CV(s) available for interview", data)


@_both(
    "POST",
    "/start-interview/",
    status_code=201,
    response_model=Envelope[InterviewOut],
    summary="Start an interview for a pending CV",
)
async def start_interview(body: StartIn, session: DbSession, _staff: StaffUser) -> JSONResponse:
    """pending → ongoing, creating the interview and its empty evaluation in one transaction.

    The answer shows the interview as it was before the evaluation record was added (``evaluation: null``,
    as in seed 004's example); the interview's detail carries the record from then on."""
    candidate = await candidates.get(session, str(body.candidate_id))
    if candidate is None:
        raise NotFound("Candidate not found", details="No candidate found with the provided ID")
    person = await _interviewer(session, body.interviewer_id)
    refusal = rules.start_refusal(candidate.name, candidate.cv_status)
    if refusal is None and not await candidates.move_status(
        session, candidate.id, CvStatus.pending, CvStatus.ongoing
    ):
        refusal = f"Interview for {candidate.name} is already in progress"
    if refusal is not None:
        raise InvalidInput(details={"candidate_id": [refusal]})
    await session.refresh(candidate)
    names = await roles.names(session, {candidate.job_role_id} if candidate.job_role_id else set())
    scheduled = body.scheduled_at if body.scheduled_at.tzinfo else body.scheduled_at.replace(tzinfo=UTC)
    interview = Interview(
        candidate_id=candidate.id,
        interviewer_id=person.id if person else None,
        owner_id=_staff.id,
        job_role_id=candidate.job_role_id,
        job_title=names.get(candidate.job_role_id or 0),
        resume_path=candidate.resume_path,
        resume_text=candidate.resume_text,
        scheduled_at=scheduled,
        status=InterviewStatus.created,
    )
    session.add(interview)
    await session.flush()
    detail = await _detail(session, interview)
    session.add(Evaluation(interview_id=interview.id))
    await session.flush()
    return ok(f"Interview started successfully for {candidate.name}", detail, 201)


async def _interviewer(session: DbSession, interviewer_id: str | int | None) -> User | None:
    if interviewer_id is None or interviewer_id == "":
        return None
    person = await users.get(session, str(interviewer_id))
    if person is None or not person.is_active or person.role not in (Role.hr, Role.admin):
        raise InvalidInput(details={"interviewer_id": ["Interviewer with this ID does not exist"]})
    return person


@_both("GET", "/", response_model=Envelope[list[InterviewListItem]], summary="List all interviews")
async def list_interviews(session: DbSession, _staff: StaffUser) -> JSONResponse:
    rows = await interviews.with_people(session)
    names = await roles.names(session, {c.job_role_id for _, c, _, _ in rows if c.job_role_id})
    data = [
        {
            "id": i.id,
            "candidate_name": c.name,
            "candidate_email": c.email,
            "candidate_phone": c.phone_number,
            "job_title": i.job_title or names.get(c.job_role_id or 0),
            "place": c.place,
            "district": c.district,
            "interviewer_name": u.name if u else None,
            "scheduled_at": iso(i.scheduled_at),
            "status": i.decision,
            "cv_status": c.cv_status,
            "has_evaluation": e is not None,
            "created_at": iso(i.created_at),
            "updated_at": iso(i.updated_at),
        }
        for i, c, u, e in rows
    ]
    return ok(f"Found {len(data)} interview(s)", data)


@_both(
    "GET",
    "/ongoing-interviews/",
    response_model=Envelope[list[OngoingItem]],
    summary="Interviews whose CV is ongoing",
)
async def ongoing_interviews(session: DbSession, _staff: StaffUser) -> JSONResponse:
    rows = await interviews.with_people(session, cv_status=CvStatus.ongoing)
    names = await roles.names(session, {c.job_role_id for _, c, _, _ in rows if c.job_role_id})
    data = [
        {
            "id": i.id,
            "candidate": cv_item(c, names.get(c.job_role_id or 0)),
            "interviewer_name": u.name if u else None,
            "scheduled_at": iso(i.scheduled_at),
            "status": i.decision,
            "evaluation_completed": e is not None and all(getattr(e, f) is not None for f in RATING_FIELDS),
            "created_at": iso(i.created_at),
            "updated_at": iso(i.updated_at),
        }
        for i, c, u, e in rows
    ]
    message = f"Found {len(data)} ongoing interview(s)" if data else "No ongoing interviews found"
    return ok(message, data)


@_both("GET", "/{interview_id}/", response_model=Envelope[InterviewOut], summary="One interview")
async def get_interview(interview_id: str, session: DbSession, _staff: StaffUser) -> JSONResponse:
    interview = await _interview(session, interview_id)
    return ok("Interview retrieved successfully", await _detail(session, interview))


@_both(
    "PATCH",
    "/{interview_id}/update-status/",
    response_model=Envelope[InterviewOut],
    summary="Set the decision (selected/rejected/pending); the CV status follows",
)
async def update_status(
    interview_id: str, body: StatusIn, session: DbSession, _staff: StaffUser
) -> JSONResponse:
    interview = await _interview(session, interview_id)
    candidate = await candidates.get(session, interview.candidate_id)
    assert candidate is not None
    interview.decision = body.status
    if body.remark is not None:
        interview.decision_remark = body.remark
    interview.updated_at = candidate.updated_at = utcnow()
    candidate.cv_status = rules.cv_status_for(body.status)
    session.add_all([interview, candidate])
    await session.flush()
    return ok(
        f"Interview status updated to '{body.status.value}' successfully", await _detail(session, interview)
    )


_EVALUATION_DOC = {
    "requestBody": {
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        **{f: {"type": "integer", "minimum": 0, "maximum": 10} for f in RATING_FIELDS},
                        **{
                            f: {"type": "string"}
                            for f in ("languages", "expected_salary", "experience", "remark")
                        },
                    },
                }
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        **{
                            f: {"type": "string"}
                            for f in (*RATING_FIELDS, "languages", "expected_salary", "experience", "remark")
                        },
                        "voice_note": {
                            "type": "string",
                            "format": "binary",
                            "description": "mp3, wav or m4a",
                        },
                    },
                }
            },
        }
    }
}
VoiceNoteBody = Annotated[ParsedBody, Depends(body_with_file("voice_note"), scope="function")]
_TEXT_LIMITS = {"languages": 500, "experience": 10_000, "remark": 10_000}


def _evaluation_changes(fields: dict[str, Any]) -> dict[str, Any]:
    """Validate every field first (so nothing is half-applied); errors for all bad fields at once."""
    changes: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for key, value in fields.items():
        try:
            if key in RATING_FIELDS:
                changes[key] = rules.parse_rating(key, value)
            elif key == "expected_salary":
                changes[key] = rules.parse_salary(value)
            elif key in _TEXT_LIMITS:
                changes[key] = _text(key, value)
        except InvalidInput as exc:
            errors.update(exc.details or {})
    if errors:
        raise InvalidInput("Invalid evaluation data", details=errors)
    return changes


def _text(key: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(details={key: ["Not a valid string."]})
    if len(value) > _TEXT_LIMITS[key]:
        raise InvalidInput(
            details={key: [f"Ensure this field has no more than {_TEXT_LIMITS[key]} characters."]}
        )
    return value.strip() or None


async def save_evaluation(
    interview_id: str,
    request: Request,
    staff: StaffUser,
    body: VoiceNoteBody,
    session: DbSession,
    services: ServicesDep,
) -> JSONResponse:
    interview = await _interview(session, interview_id)
    changes = _evaluation_changes(body.fields)
    if body.upload is not None:
        kind = files.VOICE_NOTE_KIND.with_limit(services.settings.max_voice_note_bytes)
        content, ext = await read_upload(body.upload, kind, "voice_note")
        changes["voice_note_path"] = await store(services.settings.uploads_dir, kind, content, ext)
        changes["voice_note_transcript"] = None
    found = await interviews.evaluation_for(session, interview.id)
    created = found is None or _is_empty(found)
    record = found or Evaluation(interview_id=interview.id)
    for key, value in changes.items():
        setattr(record, key, value)
    record.evaluated_by = staff.id
    record.updated_at = interview.updated_at = utcnow()
    session.add_all([record, interview])
    await session.flush()
    candidate = await candidates.get(session, interview.candidate_id)
    assert candidate is not None
    verb = "created" if created and request.method == "POST" else "updated"
    if body.upload is not None:
        await session.commit()
        services.jobs.spawn(transcribe_voice_note(services, record.id))
    return ok(
        f"Interview evaluation {verb} successfully",
        evaluation_view(record, candidate),
        201 if verb == "created" else 200,
    )


for _method in ("POST", "PUT", "PATCH"):
    _both(
        _method,
        "/{interview_id}/evaluation/",
        response_model=Envelope[EvaluationOut],
        openapi_extra=_EVALUATION_DOC,
        summary=f"Create or update the evaluation ({_method})",
        status_code=201 if _method == "POST" else 200,
    )(save_evaluation)


@_both(
    "GET",
    "/{interview_id}/evaluation/voice-note/",
    response_class=FileResponse,
    summary="Download the evaluation's voice note",
)
async def voice_note(
    interview_id: str, session: DbSession, services: ServicesDep, _staff: StaffUser
) -> FileResponse:
    await _interview(session, interview_id)
    found = await interviews.evaluation_for(session, interview_id)
    if found is None or not found.voice_note_path:
        raise NotFound("Voice note not found", details="This evaluation has no voice note")
    return stored_file(services.settings.uploads_dir, found.voice_note_path)


@_both("DELETE", "/{interview_id}/", response_model=Envelope[None], summary="Delete an interview")
async def delete_interview(interview_id: str, session: DbSession, _staff: StaffUser) -> JSONResponse:
    """An ongoing CV goes back to pending."""
    interview = await _interview(session, interview_id)
    candidate = await candidates.get(session, interview.candidate_id)
    await interviews.delete_cascade(session, interview)
    if candidate is not None and candidate.cv_status == CvStatus.ongoing:
        candidate.cv_status = CvStatus.pending
        candidate.updated_at = utcnow()
        session.add(candidate)
    return ok("Interview deleted successfully", with_data=False)
