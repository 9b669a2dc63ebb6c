"""HR actions from the live monitor (notes, added questions, ended interviews); practice sessions

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 13:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tracked_interview_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_interviews_tracked_interview_id"), ["tracked_interview_id"])
    op.create_table(
        "hr_actions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("interview_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("question_id", sa.String(length=36), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.String(length=36), nullable=False),
        sa.Column("actor_name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["interview_id"], ["interviews.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("hr_actions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hr_actions_interview_id"), ["interview_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("hr_actions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hr_actions_interview_id"))
    op.drop_table("hr_actions")
    with op.batch_alter_table("interviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_interviews_tracked_interview_id"))
        batch_op.drop_column("tracked_interview_id")
