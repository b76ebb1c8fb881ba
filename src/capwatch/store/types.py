"""Column types: aware UTC datetimes on both SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """An instant: ``timestamptz`` on PostgreSQL, UTC text on SQLite; always aware UTC in Python.

    Naive datetimes are refused at bind time, so nothing local or ambiguous is ever stored.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        """Convert an aware datetime to UTC (naive UTC on SQLite, which has no time zones)."""
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"an aware datetime is required, not {value!r}")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime whatever the database handed back."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


_TWO_63 = 1 << 63
_TWO_64 = 1 << 64


class UInt64(TypeDecorator[int]):
    """An unsigned 64-bit counter kept losslessly in a signed BIGINT (two's complement)."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        """Map 0..2**64-1 onto the signed BIGINT range."""
        if value is None:
            return None
        v = int(value)
        if not 0 <= v < _TWO_64:
            raise ValueError(f"counter value {v} is outside 0..2**64-1")
        return v - _TWO_64 if v >= _TWO_63 else v

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        """Map a signed BIGINT back onto 0..2**64-1."""
        if value is None:
            return None
        v = int(value)
        return v + _TWO_64 if v < 0 else v
