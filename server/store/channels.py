"""The names under which one interview's live state lives in the SessionStore and on the EventBus."""

from __future__ import annotations


def events_channel(interview_id: str) -> str:
    """The interview's event stream: the room's events, scores, HR notes, the report (for monitors)."""
    return f"interview:{interview_id}"


def commands_channel(interview_id: str) -> str:
    """Commands for the instance that holds the interview's live session (HR actions from elsewhere)."""
    return f"interview-commands:{interview_id}"


def snapshot_key(interview_id: str) -> str:
    """The live session's snapshot (and, as a lease on the same name, which instance holds it)."""
    return f"live:{interview_id}"
