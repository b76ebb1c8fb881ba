"""``flow_slots``: a flow source's counted bytes per quarter hour, spread over each flow's own
start and end, from which an ISP total is split across a plan's windows.

Revision ID: 0006_flow_slots
Revises: 0005_reading_rollups
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_flow_slots"
down_revision = "0005_reading_rollups"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the flow quarter-hour table."""
    op.create_table(
        "flow_slots",
        sa.Column(
            "account_id",
            sa.Integer,
            sa.ForeignKey(
                "accounts.id", ondelete="CASCADE", name="fk_flow_slots_account_id_accounts"
            ),
            nullable=False,
        ),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("slot_start", TS, nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "source", "slot_start", name="pk_flow_slots"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    """Drop the flow quarter-hour table."""
    op.drop_table("flow_slots")
