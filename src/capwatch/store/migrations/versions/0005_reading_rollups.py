"""Rollups of the readings for long ranges: ``hourly_usage`` (the last reading, and the highest
figure, of each UTC hour of each cycle, as ``daily_usage`` is of each local day), filled from
the readings already stored, and an index on both rollups' last reading (time, source), so a
range of years is ranked in the database and only the rows it keeps are read.

Revision ID: 0005_reading_rollups
Revises: 0004_plan_usage_and_topups
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_reading_rollups"
down_revision = "0004_plan_usage_and_topups"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)

# The UTC hour of a reading, in the form each database keeps instants in: SQLAlchemy writes
# "YYYY-MM-DD HH:MM:SS.ffffff" text on SQLite, so the hour is that text's first 13 characters.
HOUR_SQL = {
    "sqlite": "substr(observed_at, 1, 13) || ':00:00.000000'",
    "postgresql": "date_trunc('hour', observed_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
}

# The last reading of each (account, cycle, hour) by (observed_at, source), the key the store
# orders by, with the highest figure of the group: what the store's upserts keep.
FILL = """
INSERT INTO hourly_usage (account_id, cycle_start, hour, max_used_bytes, last_used_bytes,
                          cap_bytes, last_observed_at, last_source)
SELECT account_id, cycle_start, hour, max_used, used_bytes, cap_bytes, observed_at, source
FROM (
    SELECT account_id, cycle_start, {hour} AS hour, used_bytes, cap_bytes, observed_at, source,
           max(used_bytes) OVER (PARTITION BY account_id, cycle_start, {hour}) AS max_used,
           row_number() OVER (
               PARTITION BY account_id, cycle_start, {hour}
               ORDER BY observed_at DESC, source DESC
           ) AS rn
    FROM readings
) AS ranked
WHERE rn = 1
"""


def upgrade() -> None:
    """Create the hourly rollup, fill it from the readings, index both rollups by time."""
    op.create_table(
        "hourly_usage",
        sa.Column(
            "account_id",
            sa.Integer,
            sa.ForeignKey(
                "accounts.id", ondelete="CASCADE", name="fk_hourly_usage_account_id_accounts"
            ),
            nullable=False,
        ),
        sa.Column("cycle_start", TS, nullable=False),
        sa.Column("hour", TS, nullable=False),
        sa.Column("max_used_bytes", sa.BigInteger, nullable=False),
        sa.Column("last_used_bytes", sa.BigInteger, nullable=False),
        sa.Column("cap_bytes", sa.BigInteger, nullable=True),
        sa.Column("last_observed_at", TS, nullable=False),
        sa.Column("last_source", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "cycle_start", "hour", name="pk_hourly_usage"),
    )
    dialect = op.get_bind().dialect.name
    op.execute(FILL.format(hour=HOUR_SQL[dialect]))
    for table in ("hourly_usage", "daily_usage"):  # ranks come from the index, unsorted
        op.create_index(
            f"ix_{table}_last_reading", table, ["account_id", "last_observed_at", "last_source"]
        )


def downgrade() -> None:
    """Drop the hourly rollup and the daily one's time index."""
    op.drop_index("ix_daily_usage_last_reading", table_name="daily_usage")
    op.drop_index("ix_hourly_usage_last_reading", table_name="hourly_usage")
    op.drop_table("hourly_usage")
