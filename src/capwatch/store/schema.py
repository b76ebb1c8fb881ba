"""The tables as SQLAlchemy Core objects (the runtime view of the Alembic migrations).

Every change here needs a new revision in ``migrations/versions``; a test compares the two.
Instants are :class:`UtcDateTime`, byte counts BIGINT, raw counters :class:`UInt64`.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from capwatch.store.types import UInt64, UtcDateTime

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

# An autoincrementing key: BIGINT on PostgreSQL, the rowid alias on SQLite.
IdType = BigInteger().with_variant(Integer(), "sqlite")


def _account_fk() -> Column[int]:
    return Column(
        "account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False
    )


accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("provider", String(64), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

readings = Table(
    "readings",
    metadata,
    _account_fk(),
    Column("observed_at", UtcDateTime, nullable=False),
    Column("source", String(64), nullable=False),
    Column("cycle_start", UtcDateTime, nullable=False),
    Column("used_bytes", BigInteger, nullable=False),
    Column("cap_bytes", BigInteger, nullable=True),
    PrimaryKeyConstraint("account_id", "observed_at", "source"),
    sqlite_with_rowid=False,
)

daily_usage = Table(
    "daily_usage",
    metadata,
    _account_fk(),
    Column("cycle_start", UtcDateTime, nullable=False),
    Column("day", Date, nullable=False),
    Column("max_used_bytes", BigInteger, nullable=False),
    Column("last_used_bytes", BigInteger, nullable=False),
    Column("cap_bytes", BigInteger, nullable=True),
    Column("last_observed_at", UtcDateTime, nullable=False),
    Column("last_source", String(64), nullable=False),
    PrimaryKeyConstraint("account_id", "cycle_start", "day"),
    Index("ix_daily_usage_last_reading", "account_id", "last_observed_at", "last_source"),
)

# The hourly rollup: the last reading of each UTC hour of each cycle (zone-independent, so a
# time zone change leaves it alone); with daily_usage it serves long ranges of readings.
hourly_usage = Table(
    "hourly_usage",
    metadata,
    _account_fk(),
    Column("cycle_start", UtcDateTime, nullable=False),
    Column("hour", UtcDateTime, nullable=False),
    Column("max_used_bytes", BigInteger, nullable=False),
    Column("last_used_bytes", BigInteger, nullable=False),
    Column("cap_bytes", BigInteger, nullable=True),
    Column("last_observed_at", UtcDateTime, nullable=False),
    Column("last_source", String(64), nullable=False),
    PrimaryKeyConstraint("account_id", "cycle_start", "hour"),
    Index("ix_hourly_usage_last_reading", "account_id", "last_observed_at", "last_source"),
)

cycles = Table(
    "cycles",
    metadata,
    _account_fk(),
    Column("cycle_start", UtcDateTime, nullable=False),
    Column("cycle_end", UtcDateTime, nullable=True),
    Column("used_bytes", BigInteger, nullable=False),
    Column("cap_bytes", BigInteger, nullable=True),
    Column("readings", Integer, nullable=False),
    Column("first_observed_at", UtcDateTime, nullable=True),
    Column("last_observed_at", UtcDateTime, nullable=True),
    Column("source", String(64), nullable=False),
    Column("from_history", Boolean, nullable=False),
    PrimaryKeyConstraint("account_id", "cycle_start"),
)

counter_states = Table(
    "counter_states",
    metadata,
    _account_fk(),
    Column("key", String(128), nullable=False),
    Column("last_value", UInt64, nullable=False),
    Column("width", Integer, nullable=False),
    Column("epoch", String(128), nullable=False),
    Column("observed_at", UtcDateTime, nullable=False),
    Column("cycle_start", UtcDateTime, nullable=False),
    Column("cycle_bytes", BigInteger, nullable=False),
    PrimaryKeyConstraint("account_id", "key"),
)

raw_counters = Table(
    "raw_counters",
    metadata,
    _account_fk(),
    Column("observed_at", UtcDateTime, nullable=False),
    Column("key", String(128), nullable=False),
    Column("value", UInt64, nullable=False),
    PrimaryKeyConstraint("account_id", "observed_at", "key"),
    sqlite_with_rowid=False,
)

device_usage = Table(
    "device_usage",
    metadata,
    _account_fk(),
    Column("cycle_start", UtcDateTime, nullable=False),
    Column("device_id", String(128), nullable=False),
    Column("observed_at", UtcDateTime, nullable=False),
    Column("name", String(200), nullable=True),
    Column("used_bytes", BigInteger, nullable=False),
    PrimaryKeyConstraint("account_id", "cycle_start", "device_id"),
)

devices = Table(
    "devices",
    metadata,
    _account_fk(),
    Column("device_key", String(64), nullable=False),
    Column("mac", String(17), nullable=True),
    Column("name", String(200), nullable=True),
    Column("vendor", String(200), nullable=True),
    Column("first_seen", UtcDateTime, nullable=False),
    Column("last_seen", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("account_id", "device_key"),
)

device_addresses = Table(
    "device_addresses",
    metadata,
    _account_fk(),
    Column("address", String(45), nullable=False),
    Column("device_key", String(64), nullable=False),
    Column("last_seen", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("account_id", "address"),
)

device_days = Table(
    "device_days",
    metadata,
    _account_fk(),
    Column("device_key", String(64), nullable=False),
    Column("day", Date, nullable=False),
    Column("source", String(64), nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("last_observed_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("account_id", "device_key", "day", "source"),
    Index("ix_device_days_account_id_day", "account_id", "day"),
    sqlite_with_rowid=False,
)

device_counters = Table(
    "device_counters",
    metadata,
    _account_fk(),
    Column("scope", String(200), nullable=False),
    Column("client", String(64), nullable=False),
    Column("value", BigInteger, nullable=False),
    Column("mark", String(64), nullable=True),
    Column("address", String(45), nullable=False),
    Column("mac", String(17), nullable=True),
    Column("observed_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("account_id", "scope", "client"),
    sqlite_with_rowid=False,
)

payloads = Table(
    "payloads",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _account_fk(),
    Column("sha256", String(64), nullable=False),
    Column("first_seen", UtcDateTime, nullable=False),
    Column("last_seen", UtcDateTime, nullable=False),
    Column("times_seen", Integer, nullable=False),
    Column("body", Text, nullable=False),
    UniqueConstraint("account_id", "sha256"),
)

alert_states = Table(
    "alert_states",
    metadata,
    _account_fk(),
    Column("rule", String(100), nullable=False),
    Column("level", String(64), nullable=False),
    Column("cycle_start", UtcDateTime, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("fired_at", UtcDateTime, nullable=True),
    Column("resolved_at", UtcDateTime, nullable=True),
    Column("last_value", Float, nullable=True),
    Column("message", Text, nullable=True),
    PrimaryKeyConstraint("account_id", "rule", "level"),
)

poll_log = Table(
    "poll_log",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _account_fk(),
    Column("started_at", UtcDateTime, nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("error_class", String(100), nullable=True),
    Column("message", Text, nullable=True),
    Column("reading_stored", Boolean, nullable=False),
    Index("ix_poll_log_account", "account_id", "started_at"),
    Index("ix_poll_log_started", "started_at"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("kind", String(64), nullable=False),
    Column("account", String(100), nullable=True),
    Column("payload", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("sent_at", UtcDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Index("ix_outbox_pending", "sent_at", "created_at"),
)

allowance_usage = Table(
    "allowance_usage",
    metadata,
    _account_fk(),
    Column("allowance", String(64), nullable=False),
    Column("cycle_start", UtcDateTime, nullable=False),
    Column("span_start", UtcDateTime, nullable=False),
    Column("observed_at", UtcDateTime, nullable=False),
    Column("used_bytes", BigInteger, nullable=False),
    PrimaryKeyConstraint("account_id", "allowance", "cycle_start", "span_start"),
    sqlite_with_rowid=False,
)

# A flow source's counted bytes per quarter hour (UTC, aligned on the epoch), spread over each
# flow's own times: what splits an ISP total across a plan's windows.
flow_slots = Table(
    "flow_slots",
    metadata,
    _account_fk(),
    Column("source", String(64), nullable=False),
    Column("slot_start", UtcDateTime, nullable=False),
    Column("bytes", BigInteger, nullable=False),
    PrimaryKeyConstraint("account_id", "source", "slot_start"),
    sqlite_with_rowid=False,
)

topups = Table(
    "topups",
    metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    _account_fk(),
    Column("allowance", String(64), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("note", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_topups_account_id_at", "account_id", "at"),
)
