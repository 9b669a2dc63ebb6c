"""Account administration for admins: create HR and admin accounts, list, change role, deactivate."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field, field_validator
from sqlalchemy.exc import IntegrityError

from server.api.deps import AdminUser, DbSession
from server.api.forms import Email
from server.api.pagination import Page, Skip, limit_param
from server.domain import accounts
from server.domain.errors import InvalidInput, NotFound
from server.security import hash_password
from server.store import candidates, users
from server.store.models import Role, User

router = APIRouter(prefix="/api/users", tags=["users"])

Name = Annotated[str, Field(min_length=1, max_length=200)]


class UserCreate(BaseModel):
    email: Email
    password: Annotated[str, Field(min_length=8, max_length=256)]
    name: Name
    role: Role = Role.hr
    job_role: Annotated[str | None, Field(max_length=200)] = None


class UserUpdate(BaseModel):
    name: Name | None = None
    role: Role | None = None
    job_role: Annotated[str | None, Field(max_length=200)] = None
    is_active: bool | None = None
    password: Annotated[str | None, Field(min_length=8, max_length=256)] = None


class UserOut(BaseModel):
    id: str
    email: str
    name: str
    role: Role
    job_role: str | None
    is_active: bool
    created_at: datetime
    updated_at: datetime

    @field_validator("created_at", "updated_at")
    @classmethod
    def _utc(cls, moment: datetime) -> datetime:
        """SQLite hands back naive datetimes; they are UTC (so both databases answer with a ``Z``)."""
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls.model_validate(user, from_attributes=True)


async def _get(session: DbSession, user_id: str) -> User:
    user = await users.get(session, user_id)
    if user is None:
        raise NotFound("User not found")
    return user


@router.post("", status_code=201, response_model=UserOut, summary="Create an account (any role)")
async def create_user(body: UserCreate, session: DbSession, _admin: AdminUser) -> UserOut:
    await accounts.check_account_email(session, str(body.email), candidate=body.role == Role.candidate)
    # A candidate account for an email already in the pool takes over that pool entry (as register does).
    pooled = await candidates.by_email(session, str(body.email)) if body.role == Role.candidate else None
    try:
        user = await users.create(
            session,
            email=str(body.email),
            name=body.name.strip(),
            password_hash=hash_password(body.password),
            role=body.role,
            job_role=body.job_role,
            user_id=pooled.id if pooled else None,
        )
    except IntegrityError as exc:
        raise InvalidInput(
            "Email already registered", details={"email": ["Email already registered"]}
        ) from exc
    return UserOut.of(user)


@router.get("", response_model=Page[UserOut], summary="List accounts")
async def list_users(
    session: DbSession,
    _admin: AdminUser,
    skip: Skip = 0,
    limit: Annotated[int, limit_param(50)] = 50,
    role: Role | None = None,
    search: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[UserOut]:
    total, rows = await users.listing(session, role=role, search=search, skip=skip, limit=limit)
    return Page(total=total, skip=skip, limit=limit, data=[UserOut.of(u) for u in rows])


@router.get("/{user_id}", response_model=UserOut, summary="One account")
async def get_user(user_id: str, session: DbSession, _admin: AdminUser) -> UserOut:
    return UserOut.of(await _get(session, user_id))


@router.patch("/{user_id}", response_model=UserOut, summary="Change name, role, password or active flag")
async def update_user(user_id: str, body: UserUpdate, session: DbSession, admin: AdminUser) -> UserOut:
    """A role change, deactivation or new password revokes the account's existing tokens."""
    user = await _get(session, user_id)
    if user.id == admin.id and (body.is_active is False or (body.role and body.role != Role.admin)):
        raise InvalidInput(
            "You cannot deactivate or demote your own account",
            details={"user_id": ["Cannot deactivate or demote yourself"]},
        )
    revoke = (
        (body.role is not None and body.role != user.role) or body.is_active is False or bool(body.password)
    )
    for field in ("name", "role", "job_role", "is_active"):
        value = getattr(body, field)
        if value is not None:
            setattr(user, field, value)
    if body.password:
        user.password_hash = hash_password(body.password)
    if revoke:
        user.token_version += 1
    users.touch(user)
    session.add(user)
    await users.ensure_pool_row(session, user)
    return UserOut.of(user)


@router.delete("/{user_id}", status_code=204, summary="Deactivate an account (its tokens stop working)")
async def deactivate_user(user_id: str, session: DbSession, admin: AdminUser) -> Response:
    user = await _get(session, user_id)
    if user.id == admin.id:
        raise InvalidInput(
            "You cannot deactivate your own account", details={"user_id": ["Cannot deactivate yourself"]}
        )
    user.is_active = False
    user.token_version += 1
    users.touch(user)
    session.add(user)
    return Response(status_code=204)
