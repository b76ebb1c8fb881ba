"""Readings and what comes with them: polls, bulk imports, aggregates, counters, devices."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Select, cast, extract, func, select
from sqlalchemy.engine import Connection

from capwatch.errors import InputError
from capwatch.models import CounterState, DeviceUsage, Reading, utcnow
from capwatch.store import _aggregates as agg
from capwatch.store import _records as rec
from capwatch.store import schema as s
from capwatch.store._base import StoreBase, insert, label, utc, zone
from capwatch.store._devices import add_isp_device_days
from capwatch.store._plan import check_usage, upsert_allowance_usage
from capwatch.store.api import CycleRecord, DailyUsage, PollRecord

CHUNK = 5000
"""Readings per INSERT batch of :meth:`ReadingsMixin.add_readings`."""


def check_reading(r: object, place: str) -> Reading:
    """Validate one reading (aware instants, byte counts, labels); InputError names ``place``."""
    if not isinstance(r, Reading):
        raise InputError(f"{place}: expected a Reading, got {type(r).__name__}")
    label(r.account, f"{place}: account", 100)
    where = f"{place} ({r.account})"
    label(r.source, f"{where}: source", 64)
    utc(r.observed_at, f"{where}: observed_at")
    utc(r.cycle_start, f"{where}: cycle_start")
    rec.bytes_field(r.used_bytes, f"{where}: used_bytes")
    rec.bytes_field(r.cap_bytes, f"{where}: cap_bytes", nullable=True)
    return r


def _row(account_id: int, tz: ZoneInfo, r: Reading, cycle_end: datetime | None = None) -> agg.Row:
    observed = utc(r.observed_at, "observed_at")
    return agg.Row(
        account_id,
        observed,
        r.source,
        utc(r.cycle_start, "cycle_start"),
        r.used_bytes,
        r.cap_bytes,
        observed.astimezone(tz).date(),
        cycle_end,
    )


class ReadingsMixin(StoreBase):
    """Writes and reads of readings and their aggregates."""

    def ensure_account(self, name: str, provider: str, timezone: str) -> None:
        """Create the account row if missing, or update its provider and time zone."""
        label(name, "account name", 100)
        if not isinstance(provider, str) or len(provider) > 64:
            raise InputError(f"account {name!r}: provider must be a string of ≤ 64 characters")
        tz = zone(timezone, f"account {name!r}: timezone")
        t = s.accounts
        with self._write() as conn:
            row = conn.execute(select(t.c.id, t.c.timezone).where(t.c.name == name)).first()
            if row is None:
                values = {
                    "name": name,
                    "provider": provider,
                    "timezone": timezone,
                    "created_at": utcnow(),
                }
                conn.execute(insert(conn, t).values(values))
                return
            conn.execute(
                t.update().where(t.c.id == row.id).values(provider=provider, timezone=timezone)
            )
            if row.timezone != timezone:
                agg.rebuild_daily(conn, int(row.id), tz)

    # writes -------------------------------------------------------------------------------
    def record_poll(self, record: PollRecord) -> bool:
        """Store a reading and what came with it; False if that reading was already stored."""
        if not isinstance(record, PollRecord):
            raise InputError(f"record_poll: expected a PollRecord, got {type(record).__name__}")
        reading = check_reading(record.reading, "poll reading")
        cycle_end = None
        if record.cycle_end is not None:
            cycle_end = utc(record.cycle_end, "poll reading: cycle_end")
            if cycle_end <= utc(reading.cycle_start, "poll reading: cycle_start"):
                raise InputError(
                    f"poll reading ({reading.account}): cycle_end {cycle_end.isoformat()} "
                    "is not after its cycle_start"
                )
        checked = rec.check_poll_extras(record)
        usage = check_usage(record.allowance_usage)
        with self._write() as conn:
            aid, tz = self._account(conn, reading.account, "poll reading")
            row = _row(aid, tz, reading, cycle_end)
            t = s.readings
            stmt = insert(conn, t).values(row.params()).on_conflict_do_nothing()
            # RETURNING, not rowcount: psycopg reports -1 for INSERT .. ON CONFLICT here.
            stored = conn.execute(stmt.returning(t.c.account_id)).first() is not None
            if stored:
                self._write_poll_extras(conn, aid, tz, row, record, checked)
                upsert_allowance_usage(conn, aid, usage)
            if record.log is not None:
                entry = dataclasses.replace(record.log, reading_stored=stored)
                rec.insert_log(conn, aid, entry)
        return stored

    @staticmethod
    def _write_poll_extras(
        conn: Connection,
        aid: int,
        tz: ZoneInfo,
        row: agg.Row,
        record: PollRecord,
        checked: rec.PollExtras,
    ) -> None:
        agg.apply_new_readings(conn, [row])
        agg.backfill_history(
            conn, aid, row.cycle_start, row.source, row.observed_at, checked.history
        )
        agg.infer_cycle_ends(conn, [aid])
        agg.upsert_devices(conn, aid, row.cycle_start, row.observed_at, record.devices)
        add_isp_device_days(
            conn,
            aid,
            tz,
            (row.cycle_start, row.cycle_end),
            row.observed_at,
            row.source,
            record.devices,
        )
        rec.upsert_counter_states(conn, aid, checked.counter_states)
        rec.insert_raw_counters(conn, aid, row.observed_at, record.raw_counters)
        if record.payload is not None:
            rec.archive_payload(conn, aid, row.observed_at, record.payload)

    def add_readings(self, readings: Iterable[Reading]) -> int:
        """Store many readings in one transaction (imports); returns how many were new."""
        new = 0
        accounts: dict[str, tuple[int, ZoneInfo]] = {}
        chunk: dict[tuple[int, datetime, str], agg.Row] = {}
        with self._write() as conn:
            for n, reading in enumerate(readings, start=1):
                r = check_reading(reading, f"reading {n}")
                if r.account not in accounts:
                    accounts[r.account] = self._account(conn, r.account, f"reading {n}")
                row = _row(*accounts[r.account], r)
                chunk.setdefault((row.account_id, row.observed_at, row.source), row)
                if len(chunk) >= CHUNK:
                    new += self._insert_chunk(conn, list(chunk.values()))
                    chunk.clear()
            if chunk:
                new += self._insert_chunk(conn, list(chunk.values()))
            agg.infer_cycle_ends(conn, (aid for aid, _tz in accounts.values()))
        return new

    @staticmethod
    def _insert_chunk(conn: Connection, rows: list[agg.Row]) -> int:
        t = s.readings
        stmt = (
            insert(conn, t)
            .on_conflict_do_nothing()
            .returning(t.c.account_id, t.c.observed_at, t.c.source)
        )
        inserted = {tuple(k) for k in conn.execute(stmt, [r.params() for r in rows])}
        fresh = [r for r in rows if (r.account_id, r.observed_at, r.source) in inserted]
        agg.apply_new_readings(conn, fresh)
        return len(fresh)

    # reads --------------------------------------------------------------------------------
    def readings(
        self,
        account: str,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        cycle_start: datetime | None = None,
        limit: int | None = None,
        every: timedelta | None = None,
    ) -> list[Reading]:
        """Readings of an account, ascending by time, within [start, end) (first ``limit``).

        With ``every``, only the newest reading of each ``every``-long span (aligned on the Unix
        epoch) is returned, thinned by the database: a month of one-minute polls reads as 1,488
        half-hour readings, and the newest reading is always among them.
        """
        r = s.readings
        query = self._readings_query(account)
        if start is not None:
            query = query.where(r.c.observed_at >= utc(start, "readings: start"))
        if end is not None:
            query = query.where(r.c.observed_at < utc(end, "readings: end"))
        if cycle_start is not None:
            query = self._within_cycle(query, account, utc(cycle_start, "readings: cycle_start"))
        if every is not None:
            query = self._thinned(query, every)
        cols = query.selected_columns
        query = query.order_by(cols.observed_at, cols.source)
        if limit is not None:
            query = query.limit(max(int(limit), 0))
        with self._read() as conn:
            return [rec.reading(account, row) for row in conn.execute(query)]

    def _thinned(self, query: Select[Any], every: timedelta) -> Select[Any]:
        """The newest row of each ``every``-long span of ``query`` (a window function)."""
        seconds = int(every.total_seconds())
        if seconds < 1:
            raise InputError(f"readings: every must be at least one second, not {every}")
        r = s.readings
        if self.dialect == "sqlite":  # instants are stored as UTC text there
            epoch: Any = cast(func.strftime("%s", r.c.observed_at), BigInteger)
        else:
            epoch = cast(func.floor(extract("epoch", r.c.observed_at)), BigInteger)
        newest_first = func.row_number().over(
            partition_by=epoch // seconds, order_by=(r.c.observed_at.desc(), r.c.source.desc())
        )
        inner = query.add_columns(newest_first.label("rank_in_span")).subquery()
        return select(*(inner.c[c.name] for c in query.selected_columns)).where(
            inner.c.rank_in_span == 1
        )

    @staticmethod
    def _readings_query(account: str) -> Select[Any]:
        r, a = s.readings, s.accounts
        return select(
            r.c.observed_at, r.c.source, r.c.cycle_start, r.c.used_bytes, r.c.cap_bytes
        ).where(r.c.account_id == select(a.c.id).where(a.c.name == account).scalar_subquery())

    @staticmethod
    def _within_cycle(query: Select[Any], account: str, start: datetime) -> Select[Any]:
        """Restrict to one cycle through the primary key: the cycle aggregate knows its span."""
        r, c, a = s.readings, s.cycles, s.accounts
        span = select(c).where(
            c.c.account_id == select(a.c.id).where(a.c.name == account).scalar_subquery(),
            c.c.cycle_start == start,
        )
        first = span.with_only_columns(c.c.first_observed_at).scalar_subquery()
        last = span.with_only_columns(c.c.last_observed_at).scalar_subquery()
        return query.where(
            r.c.cycle_start == start, r.c.observed_at >= first, r.c.observed_at <= last
        )

    def latest_reading(self, account: str) -> Reading | None:
        """The newest reading of an account."""
        r = s.readings
        query = self._readings_query(account).order_by(r.c.observed_at.desc(), r.c.source.desc())
        with self._read() as conn:
            row = conn.execute(query.limit(1)).first()
        return None if row is None else rec.reading(account, row)

    def iter_readings(self, account: str | None = None) -> Iterator[Reading]:
        """Every reading (of one account or all, by account), ascending by time; streams."""
        r, a = s.readings, s.accounts
        query = (
            select(
                a.c.name,
                r.c.observed_at,
                r.c.source,
                r.c.cycle_start,
                r.c.used_bytes,
                r.c.cap_bytes,
            )
            .join(a, a.c.id == r.c.account_id)
            .order_by(r.c.account_id, r.c.observed_at, r.c.source)
        )
        if account is not None:
            query = query.where(a.c.name == account)
        with self._read() as conn:
            result = conn.execution_options(yield_per=1000).execute(query)
            for row in result:
                yield rec.reading(row[0], row[1:])

    def daily_usage(self, account: str, cycle_start: datetime) -> list[DailyUsage]:
        """The per-day aggregate of one cycle, ascending."""
        d, a = s.daily_usage, s.accounts
        query = (
            select(d)
            .join(a, a.c.id == d.c.account_id)
            .where(a.c.name == account, d.c.cycle_start == utc(cycle_start, "cycle_start"))
            .order_by(d.c.day)
        )
        with self._read() as conn:
            return [rec.daily(account, row) for row in conn.execute(query)]

    def cycles(self, account: str, limit: int | None = None) -> list[CycleRecord]:
        """Cycle aggregates of an account, newest first."""
        c, a = s.cycles, s.accounts
        query = (
            select(c)
            .join(a, a.c.id == c.c.account_id)
            .where(a.c.name == account)
            .order_by(c.c.cycle_start.desc())
        )
        if limit is not None:
            query = query.limit(max(int(limit), 0))
        with self._read() as conn:
            return [rec.cycle(account, row) for row in conn.execute(query)]

    def counter_states(self, account: str) -> dict[str, CounterState]:
        """Where each raw counter of a counter source stood at the last poll."""
        c, a = s.counter_states, s.accounts
        query = select(c).join(a, a.c.id == c.c.account_id).where(a.c.name == account)
        with self._read() as conn:
            return {row.key: rec.counter_state(row) for row in conn.execute(query)}

    def devices(self, account: str, cycle_start: datetime) -> list[DeviceUsage]:
        """Latest per-device usage of a cycle, largest first."""
        d, a = s.device_usage, s.accounts
        query = (
            select(d.c.device_id, d.c.used_bytes, d.c.name)
            .join(a, a.c.id == d.c.account_id)
            .where(a.c.name == account, d.c.cycle_start == utc(cycle_start, "cycle_start"))
            .order_by(d.c.used_bytes.desc(), d.c.device_id)
        )
        with self._read() as conn:
            return [DeviceUsage(row[0], int(row[1]), row[2]) for row in conn.execute(query)]
