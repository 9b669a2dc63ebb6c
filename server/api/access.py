"""Who may touch which interview: shared by the route families."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from server.domain.errors import Forbidden, NotFound
from server.store import interviews
from server.store.models import Interview, Role, User

STAFF = (Role.hr, Role.admin)


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
