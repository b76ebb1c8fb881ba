"""Shared plumbing of the SQL store: engines, transactions, accounts, input checks."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Table, select
from sqlalchemy.engine import URL, Connection, Engine

from capwatch.errors import InputError
from capwatch.models import utcnow
from capwatch.store import schema as s
from capwatch.store.engine import WRITE, display_url, wrap_errors

MAX_BIGINT = (1 << 63) - 1


def utc(value: object, place: str) -> datetime:
    """``value`` as an aware UTC datetime, or :class:`InputError` naming ``place``."""
    if not isinstance(value, datetime):
        raise InputError(f"{place}: expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError(f"{place}: naive datetime {value.isoformat()} (a time zone is required)")
    return value.astimezone(UTC)


def byte_count(value: object, place: str, *, nullable: bool = False) -> int | None:
    """A non-negative BIGINT byte count, or :class:`InputError` naming ``place``."""
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{place}: expected an integer number of bytes, got {value!r}")
    if value < 0:
        raise InputError(f"{place}: negative byte count {value}")
    if value > MAX_BIGINT:
        raise InputError(f"{place}: byte count {value} is too large")
    return value


def label(value: object, place: str, max_len: int) -> str:
    """A non-empty string of at most ``max_len`` characters, or :class:`InputError`."""
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{place}: expected a non-empty string, got {value!r}")
    if len(value) > max_len:
        raise InputError(f"{place}: longer than {max_len} characters")
    return value


def zone(name: str, place: str) -> ZoneInfo:
    """The IANA time zone ``name``, or :class:`InputError` naming ``place``."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InputError(f"{place}: unknown time zone {name!r}") from exc


def insert(conn: Connection, table: Table) -> Any:
    """The dialect's INSERT (with ``on_conflict_do_*``) for ``table``."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


class StoreBase:
    """Engine, URL and account bookkeeping shared by the store's parts."""

    def __init__(self, url: URL, engine: Engine) -> None:
        self._url = url
        self._engine = engine
        self._wengine = engine.execution_options(**{WRITE: True})
        self.url_display: str = display_url(url)
        self.dialect: str = engine.dialect.name

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for maintenance tools and tests)."""
        return self._engine

    def close(self) -> None:
        """Release connections."""
        self._engine.dispose()

    @contextlib.contextmanager
    def _read(self) -> Iterator[Connection]:
        with wrap_errors("cannot read", self._url), self._engine.connect() as conn:
            yield conn

    @contextlib.contextmanager
    def _write(self) -> Iterator[Connection]:
        with wrap_errors("cannot write to", self._url), self._wengine.begin() as conn:
            yield conn

    # accounts -----------------------------------------------------------------------------
    def account_names(self) -> list[str]:
        """Every account ever stored, sorted."""
        with self._read() as conn:
            return list(conn.scalars(select(s.accounts.c.name).order_by(s.accounts.c.name)))

    @staticmethod
    def _account_id(conn: Connection, name: str) -> int | None:
        return conn.scalar(select(s.accounts.c.id).where(s.accounts.c.name == name))

    @staticmethod
    def _account(conn: Connection, name: str, place: str) -> tuple[int, ZoneInfo]:
        """Id and time zone of ``name``, creating it (provider unknown, UTC) when missing."""
        label(name, f"{place}: account", 100)
        t = s.accounts
        row = conn.execute(select(t.c.id, t.c.timezone).where(t.c.name == name)).first()
        if row is None:
            values = {"name": name, "provider": "", "timezone": "UTC", "created_at": utcnow()}
            conn.execute(insert(conn, t).values(values).on_conflict_do_nothing())
            row = conn.execute(select(t.c.id, t.c.timezone).where(t.c.name == name)).one()
        return int(row.id), zone(row.timezone, f"{place}: account {name!r}")
