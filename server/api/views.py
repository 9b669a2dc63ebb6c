"""JSON views of domain rows shared by several route modules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from server.store.models import Candidate, User


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
