"""Accounts (seed 001 §1): register, login, me."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import AfterValidator, BaseModel, Field, ValidationError
from sqlalchemy.exc import IntegrityError

from server.api.deps import CurrentUser, DbSession, ServicesDep, client_address
from server.api.forms import Email, read_form
from server.domain import accounts
from server.domain.errors import InvalidInput
from server.security import hash_password, verify_password
from server.store import candidates, emails, users
from server.store.models import Role, User

router = APIRouter(prefix="/auth", tags=["auth"])


class RegisterIn(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    email: Email
    password: Annotated[str, Field(min_length=8, max_length=256)]


class LoginIn(BaseModel):
    email: Annotated[str, Field(min_length=1, max_length=320), AfterValidator(emails.normalize)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"


class MeOut(BaseModel):
    id: str
    name: str
    email: str
    role: str


@router.post("/register", response_model=TokenOut, summary="Register a candidate account")
async def register(body: RegisterIn, session: DbSession, services: ServicesDep) -> TokenOut:
    """Always creates a candidate; a pool entry with the same email becomes this user's pool row. An email
    that looks like an account's, or like another pool entry's, is refused as a duplicate is."""
    email = str(body.email)
    await accounts.check_account_email(session, email, candidate=True)
    pooled = await candidates.by_email(session, email)
    try:
        user = await users.create(
            session,
            email=email,
            name=body.name.strip(),
            password_hash=hash_password(body.password),
            role=Role.candidate,
            user_id=pooled.id if pooled else None,
        )
    except IntegrityError as exc:
        raise InvalidInput(
            "Email already registered", details={"email": ["Email already registered"]}
        ) from exc
    return TokenOut(access_token=services.tokens.issue(user.id, user.role, user.token_version))


async def _login_fields(request: Request) -> LoginIn:
    """JSON ``{email, password}`` or the OAuth2 password form (``username``, ``password``)."""
    content_type = request.headers.get("content-type", "")
    raw: Any
    try:
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await read_form(request)
            raw = {"email": form.get("username") or form.get("email"), "password": form.get("password")}
        else:
            raw = await request.json()
        return LoginIn.model_validate(raw)
    except (ValueError, ValidationError) as exc:
        raise InvalidInput(
            "Email and password are required",
            details={"email": ["This field is required."], "password": ["This field is required."]},
        ) from exc


@router.post(
    "/login",
    response_model=TokenOut,
    summary="Log in and get a bearer token",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": LoginIn.model_json_schema()},
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {"username": {"type": "string"}, "password": {"type": "string"}},
                        "required": ["username", "password"],
                    }
                },
            },
        }
    },
)
async def login(request: Request, session: DbSession, services: ServicesDep) -> TokenOut:
    body = await _login_fields(request)
    address = client_address(request)
    await services.login_throttle.check(body.email, address)
    user = await users.by_email(session, body.email)
    if not verify_password(user.password_hash if user else None, body.password) or user is None:
        await services.login_throttle.failed(body.email, address)
        raise InvalidInput("Invalid credentials")
    if not user.is_active:
        raise InvalidInput("Invalid credentials")
    await services.login_throttle.succeeded(body.email)
    return TokenOut(access_token=services.tokens.issue(user.id, user.role, user.token_version))


@router.get(
    "/me",
    response_model=MeOut,
    summary="The signed-in user",
    responses={401: {"description": "Missing, invalid or expired token"}},
)
async def me(user: CurrentUser) -> MeOut:
    return MeOut(id=user.id, name=user.name, email=user.email, role=user.role)


def user_out(user: User) -> dict[str, Any]:
    return {"id": user.id, "name": user.name, "email": user.email, "role": user.role}
