"""Tables of seed 003's job-seeker side: catalogs (companies, skills, question bank) and tracked interviews.

Job roles are the shared ``job_roles`` table (``server.store.models.JobRole``). A tracked interview belongs
to the user who created it (``owner_id``); the catalogs are shared, and each row remembers its creator.
Enumerated fields are stored as short strings; the vocabularies below are the API's (seed 003).
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import JSON, Column, Date, DateTime, Text, Time, UniqueConstraint
from sqlalchemy import String as SaString
from sqlmodel import Field, SQLModel


def _now() -> datetime:
    return datetime.now(UTC)


def _ts() -> Any:
    return Field(default_factory=_now, sa_type=DateTime(timezone=True))


def _json_list() -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False))


def _text() -> Any:
    return Field(default=None, sa_type=Text)


def _enum(default: enum.StrEnum | None, length: int = 16, index: bool = False) -> Any:
    """A column holding one value of an enum (as its string: rows read back hold plain strings)."""
    return Field(default=default.value if default else None, index=index, sa_type=SaString(length))


class InterviewType(enum.StrEnum):
    actual = "actual"
    mock = "mock"
    practice = "practice"


class TrackingStatus(enum.StrEnum):
    scheduled = "scheduled"
    in_progress = "in_progress"
    completed = "completed"
    cancelled = "cancelled"
    rescheduled = "rescheduled"


class TrackingResult(enum.StrEnum):
    pending = "pending"
    passed = "passed"
    failed = "failed"
    offer_received = "offer_received"
    offer_accepted = "offer_accepted"
    offer_declined = "offer_declined"


class Seniority(enum.StrEnum):
    intern = "intern"
    junior = "junior"
    mid = "mid"
    senior = "senior"
    staff = "staff"
    principal = "principal"
    lead = "lead"
    manager = "manager"
    director = "director"


class RoundType(enum.StrEnum):
    phone_screen = "phone_screen"
    recruiter_screen = "recruiter_screen"
    technical = "technical"
    coding = "coding"
    system_design = "system_design"
    behavioral = "behavioral"
    take_home = "take_home"
    case_study = "case_study"
    onsite = "onsite"
    hiring_manager = "hiring_manager"
    hr = "hr"
    final = "final"
    other = "other"


class RoundResult(enum.StrEnum):
    pending = "pending"
    passed = "passed"
    failed = "failed"


class QuestionCategory(enum.StrEnum):
    technical = "technical"
    behavioral = "behavioral"
    product = "product"
    system_design = "system_design"
    coding = "coding"
    case_study = "case_study"
    data_science = "data_science"
    leadership = "leadership"
    situational = "situational"
    culture_fit = "culture_fit"
    general = "general"


class QuestionDifficulty(enum.StrEnum):
    easy = "easy"
    medium = "medium"
    hard = "hard"
    expert = "expert"


class MarketDemand(enum.StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    very_high = "very_high"


DIFFICULTY_RANK = {level: rank for rank, level in enumerate(QuestionDifficulty)}


class Company(SQLModel, table=True):
    __tablename__ = "companies"

    id: int | None = Field(default=None, primary_key=True)
    company_name: str = Field(index=True, unique=True, max_length=200)
    industry: str | None = Field(default=None, max_length=100)
    company_size: str | None = Field(default=None, max_length=50)
    headquarters: str | None = Field(default=None, max_length=200)
    website: str | None = Field(default=None, max_length=500)
    company_description: str | None = _text()
    created_by: str | None = Field(default=None, max_length=36)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class Skill(SQLModel, table=True):
    __tablename__ = "skills"

    id: int | None = Field(default=None, primary_key=True)
    skill_name: str = Field(index=True, unique=True, max_length=100)
    skill_category: str | None = Field(default=None, max_length=100)
    skill_type: str | None = Field(default=None, max_length=50)
    skill_description: str | None = _text()
    is_trending: bool = False
    market_demand: str | None = _enum(None)
    created_by: str | None = Field(default=None, max_length=36)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class BankQuestion(SQLModel, table=True):
    """A question in the shared bank; ``is_active`` false is a soft delete."""

    __tablename__ = "question_bank"

    id: int | None = Field(default=None, primary_key=True)
    question_text: str = Field(sa_type=Text)
    question_category: str = _enum(QuestionCategory.technical, 32, index=True)
    question_difficulty: str = _enum(QuestionDifficulty.medium, index=True)
    answer_summary: str | None = _text()
    key_concepts: list[str] = _json_list()
    common_mistakes: list[str] = _json_list()
    tips_and_tricks: list[str] = _json_list()
    time_to_answer_minutes: int | None = None
    tags: list[str] = _json_list()
    times_asked: int = 0
    times_practiced: int = 0
    average_rating: float | None = None
    is_active: bool = Field(default=True, index=True)
    created_by: str | None = Field(default=None, max_length=36)
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class TrackedInterview(SQLModel, table=True):
    """An interview (application) that a job seeker tracks; DELETE sets the status to ``cancelled``."""

    __tablename__ = "tracked_interviews"

    id: int | None = Field(default=None, primary_key=True)
    owner_id: str = Field(foreign_key="users.id", index=True, max_length=36)
    company_id: int | None = Field(default=None, foreign_key="companies.id", index=True)
    role_id: int | None = Field(default=None, foreign_key="job_roles.id", index=True)
    custom_role_title: str | None = Field(default=None, max_length=200)
    interview_type: str = _enum(InterviewType.actual)
    seniority_level: str | None = _enum(None)
    interview_status: str = _enum(TrackingStatus.scheduled, index=True)
    interview_result: str = _enum(TrackingResult.pending, 20)
    job_description: str | None = _text()
    main_skills_required: list[str] = _json_list()
    required_experience_years: int | None = None
    job_location: str | None = Field(default=None, max_length=200)
    is_remote: bool = False
    salary_range: str | None = Field(default=None, max_length=100)
    application_date: date | None = Field(default=None, sa_type=Date)
    first_interview_date: date | None = Field(default=None, sa_type=Date)
    preparation_notes: str | None = _text()
    overall_feedback: str | None = _text()
    strengths: str | None = _text()
    areas_for_improvement: str | None = _text()
    overall_rating: int | None = None
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class InterviewRound(SQLModel, table=True):
    __tablename__ = "interview_rounds"
    __table_args__ = (UniqueConstraint("interview_id", "round_number", name="uq_round_number"),)

    id: int | None = Field(default=None, primary_key=True)
    interview_id: int = Field(foreign_key="tracked_interviews.id", index=True)
    round_number: int
    round_name: str | None = Field(default=None, max_length=200)
    round_type: str = _enum(RoundType.other, 32)
    scheduled_date: date | None = Field(default=None, sa_type=Date)
    scheduled_time: time | None = Field(default=None, sa_type=Time)
    duration_minutes: int | None = None
    is_virtual: bool = True
    meeting_platform: str | None = Field(default=None, max_length=100)
    interviewer_name: str | None = Field(default=None, max_length=200)
    interviewer_title: str | None = Field(default=None, max_length=200)
    round_status: str = _enum(TrackingStatus.scheduled)
    round_result: str = _enum(RoundResult.pending)
    rating: int | None = None
    feedback: str | None = _text()
    notes: str | None = _text()
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class InterviewQuestionLink(SQLModel, table=True):
    """A bank question asked (or prepared) in a tracked interview, with how the answer went."""

    __tablename__ = "interview_questions"
    __table_args__ = (UniqueConstraint("interview_id", "question_id", name="uq_interview_question"),)

    id: int | None = Field(default=None, primary_key=True)
    interview_id: int = Field(foreign_key="tracked_interviews.id", index=True)
    question_id: int = Field(foreign_key="question_bank.id", index=True)
    round_id: int | None = Field(default=None, foreign_key="interview_rounds.id", index=True)
    was_asked: bool = True
    order_asked: int | None = None
    candidate_answer: str | None = _text()
    answer_quality_rating: int | None = None
    time_taken_minutes: int | None = None
    was_prepared: bool = False
    confidence_level: int | None = None
    what_went_well: str | None = _text()
    what_could_improve: str | None = _text()
    created_at: datetime = _ts()
    updated_at: datetime = _ts()
