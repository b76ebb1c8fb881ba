"""Long ranges of readings read from the hourly and daily rollups, thinned by the database.

A range of years is five small queries whatever its length: the range's first and last readings
(primary-key lookups), how many rollup rows it holds (an index range), and the rows to keep,
picked by their rank so that only ``points`` of them ever leave the database. The rollups are
kept in the writer's transaction by :mod:`capwatch.store._aggregates` and built for older stores
by the ``0005_reading_rollups`` migration.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, case, func, select
from sqlalchemy.engine import Connection

from capwatch.errors import InputError
from capwatch.models import Reading
from capwatch.store import _records as rec
from capwatch.store import schema as s
from capwatch.store._base import StoreBase, utc
from capwatch.store.api import ROLLUPS, thin_indices

TABLES = {"hour": s.hourly_usage, "day": s.daily_usage}
HOUR_ROWS = 4
"""The hourly rollup serves a range holding at most this many hourly rows per point asked for;
a longer one is read by day, so the rows ranked stay a few times ``points`` (or one per day)."""


def _span(col: Any, lo: datetime | None, hi: datetime | None) -> list[Any]:
    out = []
    if lo is not None:
        out.append(col >= lo)
    if hi is not None:
        out.append(col < hi)
    return out


def _edge(
    conn: Connection, aid: int, account: str, span: list[Any], *, newest: bool
) -> Reading | None:
    """The first (or, with ``newest``, the last) reading of the range, by its primary key."""
    r = s.readings
    order = (r.c.observed_at.desc(), r.c.source.desc()) if newest else (r.c.observed_at, r.c.source)
    query = (
        select(r.c.observed_at, r.c.source, r.c.cycle_start, r.c.used_bytes, r.c.cap_bytes)
        .where(r.c.account_id == aid, *span)
        .order_by(*order)
        .limit(1)
    )
    row = conn.execute(query).first()
    return None if row is None else rec.reading(account, row)


def _is(t: Table, reading: Reading) -> Any:
    match = and_(t.c.last_observed_at == reading.observed_at, t.c.last_source == reading.source)
    return func.coalesce(func.sum(case((match, 1), else_=0)), 0)


def _count(
    conn: Connection,
    t: Table,
    where: list[Any],
    first: Reading,
    last: Reading,
) -> tuple[int, bool, bool]:
    """Rows of rollup ``t`` in the range, and whether the range's first and last readings are
    among them (each reading is the last of at most one bucket)."""
    query = select(func.count(), _is(t, first), _is(t, last)).where(*where)
    n, has_first, has_last = conn.execute(query).one()
    return int(n), bool(has_first), bool(has_last)


def _ranked(conn: Connection, t: Table, where: list[Any], ranks: list[int]) -> dict[int, Any]:
    """The rows of ``t`` (ranked from 1 by last reading) whose rank is in ``ranks``."""
    rank = func.row_number().over(order_by=(t.c.last_observed_at, t.c.last_source))
    inner = (
        select(
            t.c.last_observed_at,
            t.c.last_source,
            t.c.cycle_start,
            t.c.last_used_bytes,
            t.c.cap_bytes,
            rank.label("rank"),
        )
        .where(*where)
        .subquery()
    )
    query = select(inner).where(inner.c["rank"].in_(ranks))
    return {int(row[-1]): row[:-1] for row in conn.execute(query)}


class RollupsMixin(StoreBase):
    """Reads of long ranges from the rollups."""

    def rollup_readings(
        self,
        account: str,
        start: datetime | None,
        end: datetime | None,
        points: int,
        rollup: str | None = None,
    ) -> list[Reading]:
        """A long range of readings in at most ``points``, read from a rollup, not the readings.

        The series is the last reading of each bucket (``rollup``: ``hour`` or ``day``; by
        default ``hour`` when the range holds at most 4 x ``points`` hours, else ``day``) of each
        cycle whose last reading lies in [start, end), with the range's first and last readings,
        ascending, then thinned like :func:`~capwatch.store.api.thin_indices`.
        """
        if rollup is not None and rollup not in ROLLUPS:
            raise InputError(f"rollup_readings: rollup must be one of {ROLLUPS}, not {rollup!r}")
        if isinstance(points, bool) or not isinstance(points, int) or points < 1:
            raise InputError(f"rollup_readings: points must be a positive integer, not {points!r}")
        lo = None if start is None else utc(start, "rollup_readings: start")
        hi = None if end is None else utc(end, "rollup_readings: end")
        with self._read() as conn:
            aid = self._account_id(conn, account)
            span = _span(s.readings.c.observed_at, lo, hi)
            first = None if aid is None else _edge(conn, aid, account, span, newest=False)
            if aid is None or first is None:
                return []
            last = _edge(conn, aid, account, span, newest=True) or first
            rollup = rollup or self._pick(conn, aid, lo, hi, points)
            t = TABLES[rollup]
            where = self._where(t, aid, lo, hi)
            counted = _count(conn, t, where, first, last)
            n, has_first, has_last = counted
            pre = 0 if has_first else 1
            post = 0 if has_last or last == first else 1
            picks = thin_indices(pre + n + post, points)
            ranks = [j - pre + 1 for j in picks if pre <= j < pre + n]
            rows = _ranked(conn, t, where, ranks) if ranks else {}
        out = []
        for j in picks:
            if j < pre:
                out.append(first)
            elif j >= pre + n:
                out.append(last)
            else:
                out.append(rec.reading(account, rows[j - pre + 1]))
        return out

    def _pick(
        self, conn: Connection, aid: int, lo: datetime | None, hi: datetime | None, points: int
    ) -> str:
        """``hour`` when the range holds at most :data:`HOUR_ROWS` x ``points`` hourly rows
        (counted no further than that), else ``day``."""
        t = s.hourly_usage
        bound = HOUR_ROWS * points
        inner = select(t.c.account_id).where(*self._where(t, aid, lo, hi)).limit(bound + 1)
        hours = conn.scalar(select(func.count()).select_from(inner.subquery()))
        return "hour" if int(hours or 0) <= bound else "day"

    @staticmethod
    def _where(t: Table, aid: int, lo: datetime | None, hi: datetime | None) -> list[Any]:
        return [t.c.account_id == aid, *_span(t.c.last_observed_at, lo, hi)]
