"""enrolment: one-time tokens and issued terminal certificates (issue #13)

Revision ID: 0004
Revises: 0003 (region/day indexes)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "enrolment_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("terminal", sa.String(length=40), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("enrolment_tokens", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enrolment_tokens_terminal"), ["terminal"],
                              unique=False)
    op.create_table(
        "terminal_certificates",
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("terminal", sa.String(length=40), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("issued_at", sa.BigInteger(), nullable=False),
        sa.Column("not_after", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("serial"),
    )
    with op.batch_alter_table("terminal_certificates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_terminal_certificates_terminal"), ["terminal"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_terminal_certificates_revoked_at"),
                              ["revoked_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("terminal_certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_terminal_certificates_revoked_at"))
        batch_op.drop_index(batch_op.f("ix_terminal_certificates_terminal"))
    op.drop_table("terminal_certificates")
    with op.batch_alter_table("enrolment_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrolment_tokens_terminal"))
    op.drop_table("enrolment_tokens")
