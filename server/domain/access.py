"""Who is asking, and what they may do with an interview: one rule each, for REST and both sockets.

- :func:`authenticate`: a bearer token → the active account it was issued to (the token's version must
  be the account's current one, so a password change, deactivation or role change revokes it at once).
- :func:`visible_interview`: the interview a user may read (staff: any; others: their own).
- :func:`may_take`: the candidate may take this interview now (the live room).
- :func:`may_watch`: HR and admins may watch a live interview (the monitor).
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from server.domain.errors import Forbidden, NotAuthenticated, NotFound
from server.security import TokenService
from server.store import interviews, users
from server.store.models import Interview, InterviewStatus, Role, User

STAFF = (Role.hr, Role.admin)
JOINABLE = (InterviewStatus.scheduled, InterviewStatus.in_progress)


async def authenticate(session: AsyncSession, tokens: TokenService, token: str) -> User:
    """The active account ``token`` was issued to; NotAuthenticated for a bad, expired or revoked token."""
    claims = tokens.verify(token)
    user = await users.get(session, claims.user_id)
    if user is None or not user.is_active or user.token_version != claims.version:
        raise NotAuthenticated("Invalid or expired token")
    return user


def is_staff(user: User) -> bool:
    return user.role in STAFF


def is_participant(user: User, interview: Interview) -> bool:
    """The interview's candidate, or the account that created it."""
    return user.id in (interview.candidate_id, interview.owner_id)


async def visible_interview(
    session: AsyncSession, user: User, interview_id: str, *, hide_as_404: bool = True
) -> Interview:
    """The interview if the user may see it (staff: all; others: their own). Otherwise 404 (001) or 403."""
    interview = await interviews.get(session, interview_id)
    if interview is None:
        raise NotFound("Interview not found")
    if not is_staff(user) and not is_participant(user, interview):
        if hide_as_404:
            raise NotFound("Interview not found")
        raise Forbidden("You may only access your own interviews")
    return interview


def may_take(user: User, interview: Interview | None) -> Interview:
    """``interview`` if ``user`` may take it live now.

    NotFound when it does not exist or is not theirs (a stranger learns nothing); Forbidden when the
    account is not its candidate or the interview is not scheduled or in progress.
    """
    if interview is None or not is_participant(user, interview):
        raise NotFound("Interview not found")
    if user.role != Role.candidate and user.id != interview.candidate_id:
        raise Forbidden("Only the candidate takes the interview")
    if interview.status not in JOINABLE:
        raise Forbidden(f"The interview is {interview.status}, not open")
    return interview


def may_watch(user: User, interview: Interview | None) -> Interview:
    """``interview`` if ``user`` may watch it live: Forbidden for a role other than HR or admin, NotFound
    for an unknown interview."""
    if not is_staff(user):
        raise Forbidden("Only HR and admins may monitor interviews")
    if interview is None:
        raise NotFound("Interview not found")
    return interview
