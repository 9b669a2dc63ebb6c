"""Route dependencies: services, a database unit of work, and the role guards."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel.ext.asyncio.session import AsyncSession

from server.domain.access import authenticate
from server.domain.errors import Forbidden, NotAuthenticated
from server.services import Services
from server.store.models import Role, User

bearer = HTTPBearer(auto_error=False, description="JWT access token from /auth/login")


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_session(services: ServicesDep) -> AsyncIterator[AsyncSession]:
    """One unit of work per request: committed when the route returns, rolled back when it raises."""
    async with services.db.session() as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def current_user(
    services: ServicesDep,
    session: DbSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> User:
    """The signed-in, active user; 401 for a missing, bad, expired or revoked token."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated("Authentication credentials were not provided")
    return await authenticate(session, services.tokens, credentials.credentials)


CurrentUser = Annotated[User, Depends(current_user)]


def require_roles(*roles: Role) -> Callable[..., Coroutine[Any, Any, User]]:
    """A dependency that lets only ``roles`` through (403 otherwise)."""

    async def guard(user: CurrentUser) -> User:
        if user.role not in roles:
            raise Forbidden()
        return user

    return guard


StaffUser = Annotated[User, Depends(require_roles(Role.hr, Role.admin))]
AdminUser = Annotated[User, Depends(require_roles(Role.admin))]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
