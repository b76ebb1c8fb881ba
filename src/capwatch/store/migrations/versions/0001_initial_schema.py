"""Initial schema: accounts, readings and their aggregates, counters, devices, payloads,
alert state, poll log and the notification outbox.

Revision ID: 0001_initial_schema
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial_schema"
down_revision = None
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


def _accounts_and_readings() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
        sa.UniqueConstraint("name", name="uq_accounts_name"),
    )
    op.create_table(
        "readings",
        _account("readings"),
        sa.Column("observed_at", TS, nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("cycle_start", TS, nullable=False),
        sa.Column("used_bytes", sa.BigInteger, nullable=False),
        sa.Column("cap_bytes", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("account_id", "observed_at", "source", name="pk_readings"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "daily_usage",
        _account("daily_usage"),
        sa.Column("cycle_start", TS, nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("max_used_bytes", sa.BigInteger, nullable=False),
        sa.Column("last_used_bytes", sa.BigInteger, nullable=False),
        sa.Column("cap_bytes", sa.BigInteger, nullable=True),
        sa.Column("last_observed_at", TS, nullable=False),
        sa.Column("last_source", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "cycle_start", "day", name="pk_daily_usage"),
    )
    op.create_table(
        "cycles",
        _account("cycles"),
        sa.Column("cycle_start", TS, nullable=False),
        sa.Column("cycle_end", TS, nullable=True),
        sa.Column("used_bytes", sa.BigInteger, nullable=False),
        sa.Column("cap_bytes", sa.BigInteger, nullable=True),
        sa.Column("readings", sa.Integer, nullable=False),
        sa.Column("first_observed_at", TS, nullable=True),
        sa.Column("last_observed_at", TS, nullable=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("from_history", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "cycle_start", name="pk_cycles"),
    )


def _counters_devices_payloads() -> None:
    op.create_table(
        "counter_states",
        _account("counter_states"),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("last_value", sa.BigInteger, nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("epoch", sa.String(128), nullable=False),
        sa.Column("observed_at", TS, nullable=False),
        sa.Column("cycle_start", TS, nullable=False),
        sa.Column("cycle_bytes", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "key", name="pk_counter_states"),
    )
    op.create_table(
        "raw_counters",
        _account("raw_counters"),
        sa.Column("observed_at", TS, nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("value", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "observed_at", "key", name="pk_raw_counters"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "device_usage",
        _account("device_usage"),
        sa.Column("cycle_start", TS, nullable=False),
        sa.Column("device_id", sa.String(128), nullable=False),
        sa.Column("observed_at", TS, nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("used_bytes", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "cycle_start", "device_id", name="pk_device_usage"),
    )
    op.create_table(
        "payloads",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        _account("payloads"),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("first_seen", TS, nullable=False),
        sa.Column("last_seen", TS, nullable=False),
        sa.Column("times_seen", sa.Integer, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_payloads"),
        sa.UniqueConstraint("account_id", "sha256", name="uq_payloads_account_id_sha256"),
    )


def _alerts_log_outbox() -> None:
    op.create_table(
        "alert_states",
        _account("alert_states"),
        sa.Column("rule", sa.String(100), nullable=False),
        sa.Column("level", sa.String(64), nullable=False),
        sa.Column("cycle_start", TS, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("fired_at", TS, nullable=True),
        sa.Column("resolved_at", TS, nullable=True),
        sa.Column("last_value", sa.Float, nullable=True),
        sa.Column("message", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("account_id", "rule", "level", name="pk_alert_states"),
    )
    op.create_table(
        "poll_log",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        _account("poll_log"),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("duration_s", sa.Float, nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("error_class", sa.String(100), nullable=True),
        sa.Column("message", sa.Text, nullable=True),
        sa.Column("reading_stored", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_poll_log"),
    )
    op.create_index("ix_poll_log_account", "poll_log", ["account_id", "started_at"])
    op.create_index("ix_poll_log_started", "poll_log", ["started_at"])
    op.create_table(
        "outbox",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("account", sa.String(100), nullable=True),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("key", name="uq_outbox_key"),
    )
    op.create_index("ix_outbox_pending", "outbox", ["sent_at", "created_at"])


def upgrade() -> None:
    """Create every table of the first schema."""
    _accounts_and_readings()
    _counters_devices_payloads()
    _alerts_log_outbox()


def downgrade() -> None:
    """Drop every table of the first schema."""
    for table in (
        "outbox",
        "poll_log",
        "alert_states",
        "payloads",
        "device_usage",
        "raw_counters",
        "counter_states",
        "cycles",
        "daily_usage",
        "readings",
        "accounts",
    ):
        op.drop_table(table)
