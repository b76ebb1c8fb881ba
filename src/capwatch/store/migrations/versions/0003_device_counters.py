"""Where each client's cumulative byte counter on a polled device source (UniFi, nlbwmon)
stood at its last read: ``device_counters`` (per account, source scope and client; the counter,
the run it belongs to, the client's address and MAC). It is written in the same transaction as
the deltas it produced, so a restart neither loses nor double-counts bytes.

Revision ID: 0003_device_counters
Revises: 0002_devices_and_device_days
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_device_counters"
down_revision = "0002_devices_and_device_days"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the device counter table."""
    op.create_table(
        "device_counters",
        sa.Column(
            "account_id",
            sa.Integer,
            sa.ForeignKey(
                "accounts.id", ondelete="CASCADE", name="fk_device_counters_account_id_accounts"
            ),
            nullable=False,
        ),
        sa.Column("scope", sa.String(200), nullable=False),
        sa.Column("client", sa.String(64), nullable=False),
        sa.Column("value", sa.BigInteger, nullable=False),
        sa.Column("mark", sa.String(64), nullable=True),
        sa.Column("address", sa.String(45), nullable=False),
        sa.Column("mac", sa.String(17), nullable=True),
        sa.Column("observed_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "scope", "client", name="pk_device_counters"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    """Drop the device counter table."""
    op.drop_table("device_counters")
