"""Devices as people know them and their per-day byte counts: ``devices`` (a MAC, or an
address where no MAC is known, with its name, vendor and first/last seen),
``device_addresses`` (the IPv4 and IPv6 addresses folded onto a device) and ``device_days``
(bytes counted per device, local day and source; a flow collector adds to them as it counts).

Revision ID: 0002_devices_and_device_days
Revises: 0001_initial_schema
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_devices_and_device_days"
down_revision = "0001_initial_schema"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _account(table: str) -> sa.Column[int]:
    return sa.Column(
        "account_id",
        sa.Integer,
        sa.ForeignKey("accounts.id", ondelete="CASCADE", name=f"fk_{table}_account_id_accounts"),
        nullable=False,
    )


def upgrade() -> None:
    """Create the three device tables."""
    op.create_table(
        "devices",
        _account("devices"),
        sa.Column("device_key", sa.String(64), nullable=False),
        sa.Column("mac", sa.String(17), nullable=True),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("vendor", sa.String(200), nullable=True),
        sa.Column("first_seen", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "device_key", name="pk_devices"),
    )
    op.create_table(
        "device_addresses",
        _account("device_addresses"),
        sa.Column("address", sa.String(45), nullable=False),
        sa.Column("device_key", sa.String(64), nullable=False),
        sa.Column("last_seen", TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "address", name="pk_device_addresses"),
    )
    op.create_table(
        "device_days",
        _account("device_days"),
        sa.Column("device_key", sa.String(64), nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("last_observed_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "device_key", "day", "source", name="pk_device_days"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_device_days_account_id_day", "device_days", ["account_id", "day"])


def downgrade() -> None:
    """Drop the three device tables."""
    op.drop_index("ix_device_days_account_id_day", table_name="device_days")
    for table in ("device_days", "device_addresses", "devices"):
        op.drop_table(table)
