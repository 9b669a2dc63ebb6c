"""UTS #39 skeletons of account and pool emails (look-alike addresses are refused in one indexed query)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 22:30:00.000000

Existing rows are backfilled from their stored email with the same function the app uses
(``server.store.emails.skeleton``). The emails themselves are left as stored: folding an old address could
collide with another row's.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from server.store.emails import skeleton

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLES = ("users", "candidates")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("email_skeleton", sa.String(length=1024), nullable=True))
        _backfill(table)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("email_skeleton", existing_type=sa.String(length=1024), nullable=False)
            batch_op.create_index(batch_op.f(f"ix_{table}_email_skeleton"), ["email_skeleton"], unique=False)


def _backfill(name: str) -> None:
    table = sa.table(
        name, sa.column("id", sa.String), sa.column("email", sa.String), sa.column("email_skeleton")
    )
    connection = op.get_bind()
    for row_id, email in connection.execute(sa.select(table.c.id, table.c.email)).all():
        connection.execute(
            sa.update(table).where(table.c.id == row_id).values(email_skeleton=skeleton(email))
        )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_email_skeleton"))
            batch_op.drop_column("email_skeleton")
