"""SQLModel tables for the whole Viva domain (see DESIGN.md "one domain").

Scores are stored 0–100; HR evaluation ratings 0–10. Every family maps its own vocabulary onto these.
"""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, String, Text, UniqueConstraint, event
from sqlmodel import Field, SQLModel

from server.store import emails


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


def _ts(**kwargs: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=DateTime(timezone=True), **kwargs)


def _json_list() -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Role(enum.StrEnum):
    candidate = "candidate"
    hr = "hr"
    admin = "admin"


class CvStatus(enum.StrEnum):
    pending = "pending"
    ongoing = "ongoing"
    selected = "selected"
    rejected = "rejected"


class InterviewStatus(enum.StrEnum):
    created = "created"  # exists, no questions yet
    scheduled = "scheduled"  # questions ready, not started
    in_progress = "in_progress"
    completed = "completed"
    evaluated = "evaluated"  # completed and reviewed by HR
    cancelled = "cancelled"


class Decision(enum.StrEnum):
    pending = "pending"
    selected = "selected"
    rejected = "rejected"


class AnswerStatus(enum.StrEnum):
    submitted = "submitted"
    uploaded = "uploaded"
    processing = "processing"
    completed = "completed"
    failed = "failed"


SKELETON_LENGTH = 1024
"""Room for the skeleton of a 320-character address (a character may map to a few)."""


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    email: str = Field(index=True, unique=True, max_length=320)
    email_skeleton: str = Field(default="", index=True, max_length=SKELETON_LENGTH)  # see _email_skeleton
    name: str = Field(max_length=200)
    password_hash: str = Field(max_length=255)
    role: Role = Field(default=Role.candidate, sa_type=String(16))
    job_role: str | None = Field(default=None, max_length=200)
    is_active: bool = True
    token_version: int = 0
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class JobRole(SQLModel, table=True):
    __tablename__ = "job_roles"

    id: int | None = Field(default=None, primary_key=True)
    role_name: str = Field(index=True, unique=True, max_length=200)
    role_category: str | None = Field(default=None, max_length=100)
    role_description: str | None = Field(default=None, sa_type=Text)
    typical_skills: list[str] = _json_list()
    created_by: str | None = Field(default=None, max_length=36)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class Candidate(SQLModel, table=True):
    """A person in the candidate pool; a registered candidate user has a row with the same id."""

    __tablename__ = "candidates"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    name: str = Field(max_length=200)
    email: str = Field(index=True, unique=True, max_length=320)
    email_skeleton: str = Field(default="", index=True, max_length=SKELETON_LENGTH)  # see _email_skeleton
    phone_number: str | None = Field(default=None, max_length=32)
    place: str | None = Field(default=None, max_length=120)
    district: str | None = Field(default=None, max_length=120)
    job_role_id: int | None = Field(default=None, foreign_key="job_roles.id", index=True)
    cv_status: CvStatus = Field(default=CvStatus.pending, index=True, sa_type=String(16))
    resume_path: str | None = Field(default=None, max_length=300)
    resume_filename: str | None = Field(default=None, max_length=255)
    resume_text: str | None = Field(default=None, sa_type=Text)
    created_by: str | None = Field(default=None, max_length=36)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


@event.listens_for(User, "before_insert")
@event.listens_for(User, "before_update")
@event.listens_for(Candidate, "before_insert")
@event.listens_for(Candidate, "before_update")
def _email_skeleton(_mapper: Any, _connection: Any, row: User | Candidate) -> None:
    """The stored look-alike key always follows the stored email, whichever code path wrote the row."""
    row.email_skeleton = emails.skeleton(row.email)


class Interview(SQLModel, table=True):
    __tablename__ = "interviews"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    candidate_id: str = Field(foreign_key="candidates.id", index=True, max_length=36)
    owner_id: str | None = Field(default=None, max_length=36, index=True)
    interviewer_id: str | None = Field(default=None, foreign_key="users.id", max_length=36)
    job_role_id: int | None = Field(default=None, foreign_key="job_roles.id")
    job_title: str | None = Field(default=None, max_length=200)
    job_description: str | None = Field(default=None, sa_type=Text)
    role: str | None = Field(default=None, max_length=200)
    tech_stack: list[str] = _json_list()
    resume_path: str | None = Field(default=None, max_length=300)
    resume_text: str | None = Field(default=None, sa_type=Text)
    scheduled_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    status: InterviewStatus = Field(default=InterviewStatus.created, index=True, sa_type=String(16))
    decision: Decision = Field(default=Decision.pending, sa_type=String(16))
    decision_remark: str | None = Field(default=None, max_length=500)
    voice: str = Field(default="female", max_length=16)
    current_question_index: int = 0
    match_score: float | None = None
    strengths: list[str] = _json_list()
    gaps: list[str] = _json_list()
    ai_provider: str | None = Field(default=None, max_length=64)
    ai_model: str | None = Field(default=None, max_length=128)
    summary: str | None = Field(default=None, sa_type=Text)
    hr_overall_score: float | None = None
    hr_feedback: str | None = Field(default=None, sa_type=Text)
    hr_recommendation: str | None = Field(default=None, max_length=64)
    started_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    completed_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    tracked_interview_id: int | None = Field(default=None, index=True)  # a seed-003 practice session's
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class Question(SQLModel, table=True):
    __tablename__ = "questions"
    __table_args__ = (UniqueConstraint("interview_id", "order", name="uq_question_order"),)

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    interview_id: str = Field(foreign_key="interviews.id", index=True, max_length=36)
    order: int
    text: str = Field(sa_type=Text)
    category: str = Field(default="technical", max_length=64)
    difficulty: str = Field(default="medium", max_length=32)
    expected_minutes: int = 3
    key_concepts: list[str] = _json_list()
    source: str = Field(default="ai", max_length=32)
    created_at: datetime = _ts()


class Answer(SQLModel, table=True):
    __tablename__ = "answers"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    interview_id: str = Field(foreign_key="interviews.id", index=True, max_length=36)
    question_id: str = Field(foreign_key="questions.id", index=True, unique=True, max_length=36)
    text: str | None = Field(default=None, sa_type=Text)
    code: str | None = Field(default=None, sa_type=Text)
    video_url: str | None = Field(default=None, max_length=2048)
    media_path: str | None = Field(default=None, max_length=300)
    transcript: str | None = Field(default=None, sa_type=Text)
    metrics: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    emotion: str | None = Field(default=None, max_length=32)
    confidence: str | None = Field(default=None, max_length=32)
    ai_accuracy: float | None = None
    ai_communication: float | None = None
    ai_behaviour: float | None = None
    ai_score: float | None = None
    ai_feedback: str | None = Field(default=None, sa_type=Text)
    ai_evidence: list[str] = _json_list()
    ai_provider: str | None = Field(default=None, max_length=64)
    ai_model: str | None = Field(default=None, max_length=128)
    hr_score: float | None = None
    hr_feedback: str | None = Field(default=None, sa_type=Text)
    status: AnswerStatus = Field(default=AnswerStatus.submitted, index=True, sa_type=String(16))
    failure_reason: str | None = Field(default=None, max_length=500)
    job_attempts: int = 0
    job_worker: str | None = Field(default=None, max_length=64)
    job_lease_until: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class Evaluation(SQLModel, table=True):
    """HR's evaluation form (seed 004): five ratings 0–10 and remarks."""

    __tablename__ = "evaluations"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    interview_id: str = Field(foreign_key="interviews.id", unique=True, max_length=36)
    appearance: int | None = None
    knowledge: int | None = None
    confidence: int | None = None
    attitude: int | None = None
    communication: int | None = None
    languages: str | None = Field(default=None, max_length=500)
    expected_salary: str | None = Field(default=None, max_length=32)
    experience: str | None = Field(default=None, sa_type=Text)
    remark: str | None = Field(default=None, sa_type=Text)
    voice_note_path: str | None = Field(default=None, max_length=300)
    voice_note_transcript: str | None = Field(default=None, sa_type=Text)
    evaluated_by: str | None = Field(default=None, max_length=36)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class HrAction(SQLModel, table=True):
    """What HR did from the live monitor: a private note, an added question, or ending the interview."""

    __tablename__ = "hr_actions"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    interview_id: str = Field(foreign_key="interviews.id", index=True, max_length=36)
    kind: str = Field(max_length=16)  # note | follow_up | end
    question_id: str | None = Field(default=None, max_length=36)
    text: str = Field(default="", sa_type=Text)
    actor_id: str = Field(max_length=36)
    actor_name: str = Field(max_length=200)
    created_at: datetime = _ts()


RATING_FIELDS = ("appearance", "knowledge", "confidence", "attitude", "communication")

from server.store import tracking_models as tracking_models  # noqa: E402  (registers seed 003 tables)


class LiveSnapshot(SQLModel, table=True):
    """A live session's snapshot, kept here when no Redis is configured (``store/durable.py``)."""

    __tablename__ = "live_snapshots"

    key: str = Field(primary_key=True, max_length=200)
    value: str = Field(sa_type=Text)
    expires_at: float | None = None  # epoch seconds; None: never


class LiveEvent(SQLModel, table=True):
    """One event of a live channel (session events, HR commands), kept here when no Redis is configured."""

    __tablename__ = "live_events"

    channel: str = Field(primary_key=True, max_length=200)
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    payload: str = Field(sa_type=Text)
    created_at: float = Field(index=True)  # epoch seconds, for the idle-channel sweep
