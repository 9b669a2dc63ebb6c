"""seed 003 tracking: companies, skills, question bank, tracked interviews, rounds, interview questions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "companies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_name", sa.String(length=200), nullable=False),
        sa.Column("industry", sa.String(length=100), nullable=True),
        sa.Column("company_size", sa.String(length=50), nullable=True),
        sa.Column("headquarters", sa.String(length=200), nullable=True),
        sa.Column("website", sa.String(length=500), nullable=True),
        sa.Column("company_description", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_companies_company_name"), ["company_name"], unique=True)

    op.create_table(
        "question_bank",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_text", sa.Text(), nullable=False),
        sa.Column("question_category", sa.String(length=32), nullable=False),
        sa.Column("question_difficulty", sa.String(length=16), nullable=False),
        sa.Column("answer_summary", sa.Text(), nullable=True),
        sa.Column("key_concepts", sa.JSON(), nullable=False),
        sa.Column("common_mistakes", sa.JSON(), nullable=False),
        sa.Column("tips_and_tricks", sa.JSON(), nullable=False),
        sa.Column("time_to_answer_minutes", sa.Integer(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("times_asked", sa.Integer(), nullable=False),
        sa.Column("times_practiced", sa.Integer(), nullable=False),
        sa.Column("average_rating", sa.Float(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("question_bank", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_question_bank_is_active"), ["is_active"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_question_bank_question_category"), ["question_category"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_question_bank_question_difficulty"), ["question_difficulty"], unique=False
        )

    op.create_table(
        "skills",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("skill_name", sa.String(length=100), nullable=False),
        sa.Column("skill_category", sa.String(length=100), nullable=True),
        sa.Column("skill_type", sa.String(length=50), nullable=True),
        sa.Column("skill_description", sa.Text(), nullable=True),
        sa.Column("is_trending", sa.Boolean(), nullable=False),
        sa.Column("market_demand", sa.String(length=16), nullable=True),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("skills", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_skills_skill_name"), ["skill_name"], unique=True)

    op.create_table(
        "tracked_interviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column("role_id", sa.Integer(), nullable=True),
        sa.Column("custom_role_title", sa.String(length=200), nullable=True),
        sa.Column("interview_type", sa.String(length=16), nullable=False),
        sa.Column("seniority_level", sa.String(length=16), nullable=True),
        sa.Column("interview_status", sa.String(length=16), nullable=False),
        sa.Column("interview_result", sa.String(length=20), nullable=False),
        sa.Column("job_description", sa.Text(), nullable=True),
        sa.Column("main_skills_required", sa.JSON(), nullable=False),
        sa.Column("required_experience_years", sa.Integer(), nullable=True),
        sa.Column("job_location", sa.String(length=200), nullable=True),
        sa.Column("is_remote", sa.Boolean(), nullable=False),
        sa.Column("salary_range", sa.String(length=100), nullable=True),
        sa.Column("application_date", sa.Date(), nullable=True),
        sa.Column("first_interview_date", sa.Date(), nullable=True),
        sa.Column("preparation_notes", sa.Text(), nullable=True),
        sa.Column("overall_feedback", sa.Text(), nullable=True),
        sa.Column("strengths", sa.Text(), nullable=True),
        sa.Column("areas_for_improvement", sa.Text(), nullable=True),
        sa.Column("overall_rating", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
        ),
        sa.ForeignKeyConstraint(
            ["role_id"],
            ["job_roles.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("tracked_interviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tracked_interviews_company_id"), ["company_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_tracked_interviews_interview_status"), ["interview_status"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_tracked_interviews_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tracked_interviews_role_id"), ["role_id"], unique=False)

    op.create_table(
        "interview_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("interview_id", sa.Integer(), nullable=False),
        sa.Column("round_number", sa.Integer(), nullable=False),
        sa.Column("round_name", sa.String(length=200), nullable=True),
        sa.Column("round_type", sa.String(length=32), nullable=False),
        sa.Column("scheduled_date", sa.Date(), nullable=True),
        sa.Column("scheduled_time", sa.Time(), nullable=True),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        sa.Column("is_virtual", sa.Boolean(), nullable=False),
        sa.Column("meeting_platform", sa.String(length=100), nullable=True),
        sa.Column("interviewer_name", sa.String(length=200), nullable=True),
        sa.Column("interviewer_title", sa.String(length=200), nullable=True),
        sa.Column("round_status", sa.String(length=16), nullable=False),
        sa.Column("round_result", sa.String(length=16), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("feedback", sa.Text(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["interview_id"],
            ["tracked_interviews.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("interview_id", "round_number", name="uq_round_number"),
    )
    with op.batch_alter_table("interview_rounds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_interview_rounds_interview_id"), ["interview_id"], unique=False)

    op.create_table(
        "interview_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("interview_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("was_asked", sa.Boolean(), nullable=False),
        sa.Column("order_asked", sa.Integer(), nullable=True),
        sa.Column("candidate_answer", sa.Text(), nullable=True),
        sa.Column("answer_quality_rating", sa.Integer(), nullable=True),
        sa.Column("time_taken_minutes", sa.Integer(), nullable=True),
        sa.Column("was_prepared", sa.Boolean(), nullable=False),
        sa.Column("confidence_level", sa.Integer(), nullable=True),
        sa.Column("what_went_well", sa.Text(), nullable=True),
        sa.Column("what_could_improve", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["interview_id"],
            ["tracked_interviews.id"],
        ),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["question_bank.id"],
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["interview_rounds.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("interview_id", "question_id", name="uq_interview_question"),
    )
    with op.batch_alter_table("interview_questions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_interview_questions_interview_id"), ["interview_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_interview_questions_question_id"), ["question_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_interview_questions_round_id"), ["round_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("interview_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interview_questions_round_id"))
        batch_op.drop_index(batch_op.f("ix_interview_questions_question_id"))
        batch_op.drop_index(batch_op.f("ix_interview_questions_interview_id"))

    op.drop_table("interview_questions")
    with op.batch_alter_table("interview_rounds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interview_rounds_interview_id"))

    op.drop_table("interview_rounds")
    with op.batch_alter_table("tracked_interviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracked_interviews_role_id"))
        batch_op.drop_index(batch_op.f("ix_tracked_interviews_owner_id"))
        batch_op.drop_index(batch_op.f("ix_tracked_interviews_interview_status"))
        batch_op.drop_index(batch_op.f("ix_tracked_interviews_company_id"))

    op.drop_table("tracked_interviews")
    with op.batch_alter_table("skills", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_skills_skill_name"))

    op.drop_table("skills")
    with op.batch_alter_table("question_bank", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_question_bank_question_difficulty"))
        batch_op.drop_index(batch_op.f("ix_question_bank_question_category"))
        batch_op.drop_index(batch_op.f("ix_question_bank_is_active"))

    op.drop_table("question_bank")
    with op.batch_alter_table("companies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_companies_company_name"))

    op.drop_table("companies")
