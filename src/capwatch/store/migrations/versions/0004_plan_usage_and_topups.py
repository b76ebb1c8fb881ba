"""A plan's allowances: ``allowance_usage`` (what counted against each allowance of a counter
source's plan, the newest figure of each half hour of a cycle) and ``topups`` (data bought on
top of an allowance, recorded with `capwatch topup`).

Revision ID: 0004_plan_usage_and_topups
Revises: 0003_device_counters
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_plan_usage_and_topups"
down_revision = "0003_device_counters"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _account(table: str) -> sa.Column[int]:
    return sa.Column(
        "account_id",
        sa.Integer,
        sa.ForeignKey("accounts.id", ondelete="CASCADE", name=f"fk_{table}_account_id_accounts"),
        nullable=False,
    )


def upgrade() -> None:
    """Create the allowance usage and top-up tables."""
    op.create_table(
        "allowance_usage",
        _account("allowance_usage"),
        sa.Column("allowance", sa.String(64), nullable=False),
        sa.Column("cycle_start", TS, nullable=False),
        sa.Column("span_start", TS, nullable=False),
        sa.Column("observed_at", TS, nullable=False),
        sa.Column("used_bytes", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint(
            "account_id", "allowance", "cycle_start", "span_start", name="pk_allowance_usage"
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "topups",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        _account("topups"),
        sa.Column("allowance", sa.String(64), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_topups"),
    )
    op.create_index("ix_topups_account_id_at", "topups", ["account_id", "at"])


def downgrade() -> None:
    """Drop the allowance usage and top-up tables."""
    op.drop_index("ix_topups_account_id_at", table_name="topups")
    op.drop_table("topups")
    op.drop_table("allowance_usage")
