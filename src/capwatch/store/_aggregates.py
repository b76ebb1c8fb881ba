"""Aggregates kept as readings arrive: per local day, per UTC hour and per cycle, upserted in
the writer's transaction so pages read a few rows whatever the length of history.

"Last" means greatest by ``(observed_at, source)``, the readings' unique key within an account,
so the result does not depend on the order readings arrive in (imports, late polls).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import Table, and_, case, delete, func, or_, select, update
from sqlalchemy.engine import Connection

from capwatch.models import CycleTotal, DeviceUsage
from capwatch.store import schema as s
from capwatch.store._base import insert

PAGE = 5000


class Row(NamedTuple):
    """A checked reading ready for the readings table, with its local day."""

    account_id: int
    observed_at: datetime
    source: str
    cycle_start: datetime
    used_bytes: int
    cap_bytes: int | None
    day: date
    cycle_end: datetime | None = None

    @property
    def hour(self) -> datetime:
        """The UTC hour the reading falls in (the hourly rollup's bucket)."""
        return self.observed_at.replace(minute=0, second=0, microsecond=0)

    def params(self) -> dict[str, Any]:
        """Parameters of the readings INSERT."""
        return {
            "account_id": self.account_id,
            "observed_at": self.observed_at,
            "source": self.source,
            "cycle_start": self.cycle_start,
            "used_bytes": self.used_bytes,
            "cap_bytes": self.cap_bytes,
        }


def _newer(ex_at: Any, ex_src: Any, at: Any, src: Any) -> Any:
    return or_(ex_at > at, and_(ex_at == at, ex_src > src))


def _bucket_params(rows: Iterable[Row], column: str) -> list[dict[str, Any]]:
    """Rollup rows of ``rows`` keyed by (account, cycle, ``column``: ``day`` or ``hour``)."""
    out: dict[tuple[int, datetime, date | datetime], dict[str, Any]] = {}
    for r in rows:
        bucket = r.day if column == "day" else r.hour
        key = (r.account_id, r.cycle_start, bucket)
        cur = out.get(key)
        if cur is None:
            out[key] = {
                "account_id": r.account_id,
                "cycle_start": r.cycle_start,
                column: bucket,
                "max_used_bytes": r.used_bytes,
                "last_used_bytes": r.used_bytes,
                "cap_bytes": r.cap_bytes,
                "last_observed_at": r.observed_at,
                "last_source": r.source,
            }
            continue
        cur["max_used_bytes"] = max(cur["max_used_bytes"], r.used_bytes)
        if (r.observed_at, r.source) > (cur["last_observed_at"], cur["last_source"]):
            cur["last_used_bytes"] = r.used_bytes
            cur["cap_bytes"] = r.cap_bytes
            cur["last_observed_at"] = r.observed_at
            cur["last_source"] = r.source
    return list(out.values())


def _cycle_params(rows: Iterable[Row]) -> list[dict[str, Any]]:
    out: dict[tuple[int, datetime], dict[str, Any]] = {}
    for r in rows:
        key = (r.account_id, r.cycle_start)
        cur = out.get(key)
        if cur is None:
            out[key] = {
                "account_id": r.account_id,
                "cycle_start": r.cycle_start,
                "cycle_end": r.cycle_end,
                "used_bytes": r.used_bytes,
                "cap_bytes": r.cap_bytes,
                "readings": 1,
                "first_observed_at": r.observed_at,
                "last_observed_at": r.observed_at,
                "source": r.source,
                "from_history": False,
            }
            continue
        cur["readings"] += 1
        cur["first_observed_at"] = min(cur["first_observed_at"], r.observed_at)
        if (r.observed_at, r.source) > (cur["last_observed_at"], cur["source"]):
            cur["used_bytes"] = r.used_bytes
            cur["cap_bytes"] = r.cap_bytes
            cur["last_observed_at"] = r.observed_at
            cur["source"] = r.source
            cur["cycle_end"] = r.cycle_end or cur["cycle_end"]
    return list(out.values())


def _upsert_buckets(conn: Connection, t: Table, column: str, params: list[dict[str, Any]]) -> None:
    """Fold bucket rows into rollup ``t`` (daily_usage or hourly_usage): max and last win."""
    stmt = insert(conn, t)
    ex = stmt.excluded
    newer = _newer(ex.last_observed_at, ex.last_source, t.c.last_observed_at, t.c.last_source)
    stmt = stmt.on_conflict_do_update(
        index_elements=[t.c.account_id, t.c.cycle_start, t.c[column]],
        set_={
            "max_used_bytes": case(
                (ex.max_used_bytes > t.c.max_used_bytes, ex.max_used_bytes),
                else_=t.c.max_used_bytes,
            ),
            "last_used_bytes": case((newer, ex.last_used_bytes), else_=t.c.last_used_bytes),
            "cap_bytes": case((newer, ex.cap_bytes), else_=t.c.cap_bytes),
            "last_observed_at": case((newer, ex.last_observed_at), else_=t.c.last_observed_at),
            "last_source": case((newer, ex.last_source), else_=t.c.last_source),
        },
    )
    conn.execute(stmt, params)


def _upsert_daily(conn: Connection, params: list[dict[str, Any]]) -> None:
    _upsert_buckets(conn, s.daily_usage, "day", params)


def _upsert_cycles(conn: Connection, params: list[dict[str, Any]]) -> None:
    t = s.cycles
    stmt = insert(conn, t)
    ex = stmt.excluded
    newer = and_(
        t.c.from_history.is_(False),
        or_(
            t.c.last_observed_at.is_(None),
            _newer(ex.last_observed_at, ex.source, t.c.last_observed_at, t.c.source),
        ),
    )
    first = or_(t.c.first_observed_at.is_(None), ex.first_observed_at < t.c.first_observed_at)
    last = or_(t.c.last_observed_at.is_(None), ex.last_observed_at > t.c.last_observed_at)
    stmt = stmt.on_conflict_do_update(
        index_elements=[t.c.account_id, t.c.cycle_start],
        set_={
            "readings": t.c.readings + ex.readings,
            "first_observed_at": case((first, ex.first_observed_at), else_=t.c.first_observed_at),
            "last_observed_at": case((last, ex.last_observed_at), else_=t.c.last_observed_at),
            "used_bytes": case((newer, ex.used_bytes), else_=t.c.used_bytes),
            "cycle_end": case(
                (and_(newer, ex.cycle_end.is_not(None)), ex.cycle_end), else_=t.c.cycle_end
            ),
            "cap_bytes": case((newer, ex.cap_bytes), else_=t.c.cap_bytes),
            "source": case((newer, ex.source), else_=t.c.source),
        },
    )
    conn.execute(stmt, params)


def apply_new_readings(conn: Connection, rows: Sequence[Row]) -> None:
    """Fold readings that were just inserted into the daily, hourly and cycle aggregates."""
    if not rows:
        return
    _upsert_daily(conn, _bucket_params(rows, "day"))
    _upsert_buckets(conn, s.hourly_usage, "hour", _bucket_params(rows, "hour"))
    _upsert_cycles(conn, _cycle_params(rows))


def infer_cycle_ends(conn: Connection, account_ids: Iterable[int]) -> None:
    """Close each cycle not reported by the ISP at the start of the account's next cycle.

    A cycle keeps the end its readings brought (the ISP's, or the calendar's) unless the next
    cycle starts earlier; one without an end (imports, older stores) gets the next one's start.
    """
    ids = sorted(set(account_ids))
    if not ids:
        return
    t = s.cycles
    nxt = t.alias("nxt")
    following = (
        select(func.min(nxt.c.cycle_start))
        .where(nxt.c.account_id == t.c.account_id, nxt.c.cycle_start > t.c.cycle_start)
        .scalar_subquery()
    )
    conn.execute(
        update(t)
        .where(
            t.c.account_id.in_(ids),
            t.c.from_history.is_(False),
            following.is_not(None),
            or_(t.c.cycle_end.is_(None), t.c.cycle_end > following),
        )
        .values(cycle_end=following)
    )


def upsert_devices(
    conn: Connection,
    account_id: int,
    cycle_start: datetime,
    observed_at: datetime,
    devices: Iterable[DeviceUsage],
) -> None:
    """Keep the latest usage of each device in a cycle (older observations never win)."""
    params: dict[str, dict[str, Any]] = {}
    for d in devices:
        params[d.device_id] = {
            "account_id": account_id,
            "cycle_start": cycle_start,
            "device_id": d.device_id,
            "observed_at": observed_at,
            "name": d.name,
            "used_bytes": d.used_bytes,
        }
    if not params:
        return
    t = s.device_usage
    stmt = insert(conn, t)
    ex = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=[t.c.account_id, t.c.cycle_start, t.c.device_id],
        set_={
            "observed_at": ex.observed_at,
            "name": func.coalesce(ex.name, t.c.name),
            "used_bytes": ex.used_bytes,
        },
        where=ex.observed_at >= t.c.observed_at,
    )
    conn.execute(stmt, list(params.values()))


def backfill_history(
    conn: Connection,
    account_id: int,
    current_start: datetime,
    source: str,
    observed_at: datetime,
    history: Iterable[tuple[CycleTotal, datetime, datetime]],
) -> None:
    """Write ISP-reported totals of cycles before the current one (they win over readings)."""
    t = s.cycles
    for total, start, end in history:
        if start >= current_start:
            continue
        values = {
            "account_id": account_id,
            "cycle_start": start,
            "cycle_end": end,
            "used_bytes": total.used_bytes,
            "cap_bytes": total.cap_bytes,
            "readings": 0,
            "first_observed_at": None,
            "last_observed_at": None,
            "source": source,
            "from_history": True,
        }
        stmt = insert(conn, t).values(values)
        ex = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.c.account_id, t.c.cycle_start],
            set_={
                "cycle_end": ex.cycle_end,
                "used_bytes": ex.used_bytes,
                "cap_bytes": ex.cap_bytes,
                "source": ex.source,
                "from_history": True,
            },
        )
        conn.execute(stmt)
        upsert_devices(conn, account_id, start, observed_at, total.devices)


def rebuild_daily(conn: Connection, account_id: int, tz: Any) -> None:
    """Recompute an account's daily aggregate from its readings (after a time zone change)."""
    conn.execute(delete(s.daily_usage).where(s.daily_usage.c.account_id == account_id))
    r = s.readings
    after: tuple[datetime, str] | None = None
    while True:
        query = select(
            r.c.observed_at, r.c.source, r.c.cycle_start, r.c.used_bytes, r.c.cap_bytes
        ).where(r.c.account_id == account_id)
        if after is not None:
            query = query.where(
                or_(
                    r.c.observed_at > after[0],
                    and_(r.c.observed_at == after[0], r.c.source > after[1]),
                )
            )
        page = conn.execute(query.order_by(r.c.observed_at, r.c.source).limit(PAGE)).all()
        if not page:
            return
        batch = [
            Row(account_id, obs, src, cs, used, cap, obs.astimezone(tz).date())
            for obs, src, cs, used, cap in page
        ]
        _upsert_daily(conn, _bucket_params(batch, "day"))  # upserts fold pages together correctly
        after = (page[-1][0], page[-1][1])
