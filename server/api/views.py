"""JSON views of domain rows shared by several route modules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator

from server.store.models import Candidate, User

MIN_YEAR, MAX_YEAR = 1900, 9000


def _storable_moment(moment: datetime) -> datetime:
    """A moment the databases can store: in UTC (naive means UTC) and within years 1900–9000."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise ValueError(f"Date must be between the years {MIN_YEAR} and {MAX_YEAR}")
    return moment.astimezone(UTC)


Moment = Annotated[datetime, AfterValidator(_storable_moment)]


def iso(moment: datetime | None) -> str | None:
    """UTC ISO 8601 with a ``Z`` (SQLite hands back naive datetimes; they are UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def cv_item(candidate: Candidate, role_name: str | None) -> dict[str, Any]:
    """A CV as seed 004 shows it (``job_title`` is the role id, ``job_title_name`` its name)."""
    return {
        "id": candidate.id,
        "name": candidate.name,
        "job_title": candidate.job_role_id,
        "job_title_name": role_name,
        "place": candidate.place,
        "email": candidate.email,
        "phone_number": candidate.phone_number,
        "interview_status": candidate.cv_status,
    }


def interviewer(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    first, _, last = user.name.strip().partition(" ")
    return {
        "id": user.id,
        "email": user.email,
        "first_name": first,
        "last_name": last.strip(),
        "job_role": user.job_role,
    }
