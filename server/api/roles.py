"""Job roles (seed 003 ``/api/roles``); seed 004's ``job_title`` is a role id."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field, StringConstraints, field_validator
from sqlalchemy.exc import IntegrityError

from server.api.catalogs import Patch
from server.api.deps import CurrentUser, DbSession
from server.api.pagination import Page, Skip, limit_param
from server.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from server.store import roles
from server.store.models import JobRole, Role, User, utcnow

router = APIRouter(prefix="/api/roles", tags=["roles"])

RoleName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Category = Annotated[str | None, Field(max_length=100)]
Skill = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Skills = Annotated[list[Skill], Field(max_length=100)]


class RoleCreate(BaseModel):
    role_name: RoleName
    role_category: Category = None
    role_description: Annotated[str | None, Field(max_length=5000)] = None
    typical_skills: Skills = Field(default_factory=list)


class RoleUpdate(Patch):
    """A blank or null name is a 422 (as on create); a null ``typical_skills`` clears the list."""

    not_null = frozenset({"role_name"})

    role_name: RoleName | None = None
    role_category: Category = None
    role_description: Annotated[str | None, Field(max_length=5000)] = None
    typical_skills: Skills | None = None


class RoleOut(BaseModel):
    role_id: int
    role_name: str
    role_category: str | None
    role_description: str | None
    typical_skills: list[str]
    created_by: str | None
    created_at: datetime
    updated_at: datetime

    @field_validator("created_at", "updated_at")
    @classmethod
    def _utc(cls, moment: datetime) -> datetime:
        """SQLite hands back naive datetimes; they are UTC (so both databases answer with a ``Z``)."""
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment

    @classmethod
    def of(cls, role: JobRole) -> RoleOut:
        return cls(role_id=role.id or 0, **role.model_dump(exclude={"id"}))


def _duplicate(name: str) -> InvalidInput:
    return InvalidInput(
        f"Role '{name}' already exists", details={"role_name": ["A role with this name exists"]}
    )


MAX_ID = 2**31 - 1  # PostgreSQL INTEGER; a larger id cannot exist (and would fail in the driver)


async def _get(session: DbSession, role_id: int) -> JobRole:
    role = await roles.get(session, role_id) if 1 <= role_id <= MAX_ID else None
    if role is None:
        raise NotFound("Role not found")
    return role


def _may_change(user: User, role: JobRole) -> None:
    if user.role != Role.admin and role.created_by != user.id:
        raise Forbidden("Only the creator of this role or an admin may change it")


@router.get("", response_model=Page[RoleOut], summary="List roles")
@router.get("/", response_model=Page[RoleOut], include_in_schema=False)
async def list_roles(
    session: DbSession,
    _user: CurrentUser,
    skip: Skip = 0,
    limit: Annotated[int, limit_param(50)] = 50,
    search: Annotated[str | None, Query(max_length=200)] = None,
    category: Annotated[str | None, Query(max_length=100)] = None,
) -> Page[RoleOut]:
    total, rows = await roles.listing(session, search=search, category=category, skip=skip, limit=limit)
    return Page(total=total, skip=skip, limit=limit, data=[RoleOut.of(r) for r in rows])


@router.post("", status_code=201, response_model=RoleOut, summary="Create a role")
@router.post("/", status_code=201, response_model=RoleOut, include_in_schema=False)
async def create_role(body: RoleCreate, session: DbSession, user: CurrentUser) -> RoleOut:
    name = body.role_name
    if await roles.by_name(session, name) is not None:
        raise _duplicate(name)
    role = JobRole(**body.model_dump(exclude={"role_name"}), role_name=name, created_by=user.id)
    session.add(role)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise _duplicate(name) from exc
    return RoleOut.of(role)


@router.get("/{role_id}", response_model=RoleOut, summary="One role")
async def get_role(role_id: int, session: DbSession, _user: CurrentUser) -> RoleOut:
    return RoleOut.of(await _get(session, role_id))


@router.put("/{role_id}", response_model=RoleOut, summary="Update a role (creator or admin)")
@router.patch("/{role_id}", response_model=RoleOut, include_in_schema=False)
async def update_role(role_id: int, body: RoleUpdate, session: DbSession, user: CurrentUser) -> RoleOut:
    role = await _get(session, role_id)
    _may_change(user, role)
    changes = body.model_dump(exclude_unset=True)
    if "role_name" in changes:
        name = changes.pop("role_name")
        other = await roles.by_name(session, name)
        if other is not None and other.id != role.id:
            raise _duplicate(name)
        role.role_name = name
    for field, value in changes.items():
        setattr(role, field, value if field != "typical_skills" else (value or []))
    role.updated_at = utcnow()
    session.add(role)
    return RoleOut.of(role)


@router.delete("/{role_id}", status_code=204, summary="Delete a role (creator or admin; not while in use)")
async def delete_role(role_id: int, session: DbSession, user: CurrentUser) -> Response:
    role = await _get(session, role_id)
    _may_change(user, role)
    await session.delete(role)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict("This role is in use by candidates or interviews") from exc
    return Response(status_code=204)
