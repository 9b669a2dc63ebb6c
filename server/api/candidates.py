"""The candidate pool (HR and admin): seed 004's CV fields, JSON or multipart with a resume."""

from __future__ import annotations

import re
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy.exc import IntegrityError

from server.api.deps import DbSession, ServicesDep, StaffUser
from server.api.errors import validation_details
from server.api.forms import Email, ParsedBody, body_with_file, read_upload, store
from server.api.pagination import Page, Skip, limit_param
from server.api.views import cv_item, iso
from server.domain import accounts
from server.domain.errors import Conflict, InvalidInput, NotFound
from server.store import candidates, files, roles, users
from server.store.models import Candidate, CvStatus, utcnow

router = APIRouter(prefix="/api/candidates", tags=["candidates"])

PHONE = re.compile(r"^\+?[0-9][0-9 ()\-]{4,24}$")
Text = Annotated[str | None, Field(max_length=120)]


class CandidateFields(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    email: Email
    phone_number: Annotated[str | None, Field(max_length=32)] = None
    place: Text = None
    district: Text = None
    job_title: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="Job role id (see /api/roles)"
    )

    @field_validator("phone_number")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        if not PHONE.match(value):
            raise ValueError("Enter a valid phone number")
        return value.strip()

    @field_validator("name", "place", "district", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value


class CandidateUpdate(CandidateFields):
    name: Annotated[str | None, Field(min_length=1, max_length=200)] = None  # type: ignore[assignment]
    email: Email | None = None  # type: ignore[assignment]


class ResumeOut(BaseModel):
    filename: str | None
    url: str
    text_chars: int


class CandidateOut(BaseModel):
    id: str
    name: str
    email: str
    phone_number: str | None
    place: str | None
    district: str | None
    job_title: int | None
    job_title_name: str | None
    interview_status: CvStatus
    is_registered: bool
    resume: ResumeOut | None
    resume_text: str | None = None
    created_at: str | None
    updated_at: str | None


def _out(
    candidate: Candidate, role_name: str | None, registered: bool, with_text: bool = False
) -> CandidateOut:
    resume = None
    if candidate.resume_path:
        resume = ResumeOut(
            filename=candidate.resume_filename,
            url=f"/api/candidates/{candidate.id}/resume",
            text_chars=len(candidate.resume_text or ""),
        )
    return CandidateOut(
        **cv_item(candidate, role_name),
        district=candidate.district,
        is_registered=registered,
        resume=resume,
        resume_text=candidate.resume_text if with_text else None,
        created_at=iso(candidate.created_at),
        updated_at=iso(candidate.updated_at),
    )


async def _detail(session: DbSession, candidate: Candidate) -> CandidateOut:
    names = await roles.names(session, {candidate.job_role_id} if candidate.job_role_id else set())
    registered = await users.get(session, candidate.id) is not None
    return _out(candidate, names.get(candidate.job_role_id or 0), registered, with_text=True)


async def _get(session: DbSession, candidate_id: str) -> Candidate:
    candidate = await candidates.get(session, candidate_id)
    if candidate is None:
        raise NotFound("Candidate not found")
    return candidate


def _validate(model: type[CandidateFields], fields: dict[str, Any]) -> CandidateFields:
    try:
        return model.model_validate({k: (None if v == "" else v) for k, v in fields.items()})
    except ValidationError as exc:
        raise InvalidInput("Invalid candidate data", details=validation_details(exc)) from exc


async def _apply(session: DbSession, candidate: Candidate, data: dict[str, Any]) -> None:
    if "job_title" in data:
        role_id = data.pop("job_title")
        if role_id is not None and await roles.get(session, role_id) is None:
            raise InvalidInput(
                "Unknown job title", details={"job_title": ["Job role with this ID does not exist"]}
            )
        candidate.job_role_id = role_id
    if "email" in data:
        email = str(data.pop("email"))
        await accounts.check_pool_email(session, email, other_than=candidate.id)
        candidate.email = email
    for key, value in data.items():
        setattr(candidate, key, value)


async def _attach_resume(services: ServicesDep, candidate: Candidate, upload: Any) -> None:
    kind = files.RESUME_KIND.with_limit(services.settings.max_resume_bytes)
    content, ext = await read_upload(upload, kind, "resume")
    text = await anyio.to_thread.run_sync(files.extract_resume_text, content, ext)
    candidate.resume_path = await store(services.settings.uploads_dir, kind, content, ext)
    candidate.resume_filename = (upload.filename or f"resume.{ext}")[-255:]
    candidate.resume_text = text


ResumeBody = Annotated[ParsedBody, Depends(body_with_file("resume"), scope="function")]
_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": CandidateFields.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        **{k: {"type": "string"} for k in CandidateFields.model_fields},
                        "resume": {"type": "string", "format": "binary", "description": "PDF or DOCX"},
                    },
                }
            },
        },
    }
}


@router.get("", response_model=Page[CandidateOut], summary="List the pool (search, status filter)")
@router.get("/", response_model=Page[CandidateOut], include_in_schema=False)
async def list_candidates(
    session: DbSession,
    _staff: StaffUser,
    skip: Skip = 0,
    limit: Annotated[int, limit_param(50)] = 50,
    search: Annotated[str | None, Query(max_length=200)] = None,
    status: Annotated[list[CvStatus] | None, Query(description="CV status; repeatable")] = None,
    job_title: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Page[CandidateOut]:
    total, rows = await candidates.listing(
        session, search=search, statuses=status or (), job_role_id=job_title, skip=skip, limit=limit
    )
    names = await roles.names(session, {c.job_role_id for c in rows if c.job_role_id})
    registered = {c.id for c in rows if await users.get(session, c.id) is not None}
    data = [_out(c, names.get(c.job_role_id or 0), c.id in registered) for c in rows]
    return Page(total=total, skip=skip, limit=limit, data=data)


@router.post(
    "",
    status_code=201,
    response_model=CandidateOut,
    openapi_extra=_BODY_DOC,
    summary="Add a candidate (JSON, or multipart with a `resume` PDF/DOCX)",
)
@router.post("/", status_code=201, response_model=CandidateOut, include_in_schema=False)
async def create_candidate(
    staff: StaffUser, body: ResumeBody, session: DbSession, services: ServicesDep
) -> CandidateOut:
    data = _validate(CandidateFields, body.fields).model_dump()
    await accounts.check_pool_email(session, str(data["email"]))
    candidate = Candidate(name=data["name"], email=str(data["email"]), created_by=staff.id)
    await _apply(session, candidate, data)
    if body.upload is not None:
        await _attach_resume(services, candidate, body.upload)
    session.add(candidate)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise InvalidInput(
            "Email already in the pool", details={"email": ["A candidate with this email exists"]}
        ) from exc
    return await _detail(session, candidate)


@router.get("/{candidate_id}", response_model=CandidateOut, summary="One candidate, with resume text")
async def get_candidate(candidate_id: str, session: DbSession, _staff: StaffUser) -> CandidateOut:
    return await _detail(session, await _get(session, candidate_id))


@router.patch(
    "/{candidate_id}",
    response_model=CandidateOut,
    openapi_extra=_BODY_DOC,
    summary="Update a candidate (JSON, or multipart with a new `resume`)",
)
@router.put("/{candidate_id}", response_model=CandidateOut, include_in_schema=False)
async def update_candidate(
    candidate_id: str, _staff: StaffUser, body: ResumeBody, session: DbSession, services: ServicesDep
) -> CandidateOut:
    candidate = await _get(session, candidate_id)
    data = _validate(CandidateUpdate, body.fields).model_dump(exclude_unset=True)
    for required in ("name", "email"):
        if required in data and data[required] is None:
            raise InvalidInput("Invalid candidate data", details={required: ["This field may not be null."]})
    await _apply(session, candidate, data)
    if body.upload is not None:
        await _attach_resume(services, candidate, body.upload)
    candidate.updated_at = utcnow()
    session.add(candidate)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise InvalidInput(
            "Email already in the pool", details={"email": ["A candidate with this email exists"]}
        ) from exc
    return await _detail(session, candidate)


@router.delete("/{candidate_id}", status_code=204, summary="Remove a candidate with no interviews")
async def delete_candidate(candidate_id: str, session: DbSession, _staff: StaffUser) -> Response:
    candidate = await _get(session, candidate_id)
    if await candidates.interview_count(session, candidate.id):
        raise Conflict("This candidate has interviews; delete those first")
    if await users.get(session, candidate.id) is not None:
        raise Conflict("This candidate has an account; deactivate the account instead")
    await session.delete(candidate)
    return Response(status_code=204)


@router.get(
    "/{candidate_id}/resume",
    summary="Download the candidate's resume",
    response_class=FileResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
async def download_resume(
    candidate_id: str, session: DbSession, services: ServicesDep, _staff: StaffUser
) -> FileResponse:
    candidate = await _get(session, candidate_id)
    if not candidate.resume_path:
        raise NotFound("This candidate has no resume")
    path = files.resolve_stored(services.settings.uploads_dir, candidate.resume_path)
    media = (
        "application/pdf"
        if path.suffix == ".pdf"
        else ("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    )
    return FileResponse(
        path,
        media_type=media,
        filename=candidate.resume_filename or path.name,
        headers={"X-Content-Type-Options": "nosniff"},
    )
