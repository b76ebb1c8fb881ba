"""The hourly and daily rollups: kept by every write, built by the migration, and the series read
from them equal to the same series computed from the raw readings."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

import capwatch.store._readings as readings_mod
from capwatch.errors import InputError
from capwatch.models import Reading
from capwatch.store import PollRecord, Store, migrate, open_store
from capwatch.store import _records as rec
from capwatch.store import schema as s
from capwatch.store.engine import WRITE

NY = ZoneInfo("America/New_York")
_names = itertools.count()


# the reference: the same series from every raw reading ----------------------------------------
def _key(r: Reading) -> tuple[datetime, str]:
    return (r.observed_at, r.source)


def bucket_of(r: Reading, rollup: str, tz: ZoneInfo) -> date | datetime:
    """The rollup bucket of a reading: its UTC hour, or its local day in ``tz``."""
    if rollup == "hour":
        return r.observed_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return r.observed_at.astimezone(tz).date()


def _thin(items: Sequence[Any], limit: int) -> list[Any]:
    """Evenly thinned, both ends kept (the formula the readings route has always used)."""
    if len(items) <= limit:
        return list(items)
    if limit == 1:
        return [items[-1]]
    step = (len(items) - 1) / (limit - 1)
    return [items[round(i * step)] for i in range(limit)]


def _inside(r: Reading, start: datetime | None, end: datetime | None) -> bool:
    return (start is None or r.observed_at >= start) and (end is None or r.observed_at < end)


def _lasts(every: Sequence[Reading], rollup: str, tz: ZoneInfo) -> list[Reading]:
    """The last reading of each (cycle, bucket)."""
    groups: dict[tuple[datetime, date | datetime], Reading] = {}
    for r in every:
        k = (r.cycle_start, bucket_of(r, rollup, tz))
        if k not in groups or _key(r) > _key(groups[k]):
            groups[k] = r
    return list(groups.values())


def expected_series(
    every: Sequence[Reading],
    start: datetime | None,
    end: datetime | None,
    points: int,
    rollup: str,
    tz: ZoneInfo,
    lasts: Sequence[Reading] | None = None,
) -> list[Reading]:
    """What ``rollup_readings`` promises, computed in Python from all of an account's readings
    (``lasts``: their :func:`_lasts` for ``rollup``, when already at hand)."""
    ranged = sorted((r for r in every if _inside(r, start, end)), key=_key)
    if not ranged:
        return []
    lasts = _lasts(every, rollup, tz) if lasts is None else lasts
    chosen = {_key(r): r for r in lasts if _inside(r, start, end)}
    chosen.setdefault(_key(ranged[0]), ranged[0])
    chosen.setdefault(_key(ranged[-1]), ranged[-1])
    return _thin([chosen[k] for k in sorted(chosen)], points)


def auto_rollup(
    every: Sequence[Reading], start: datetime | None, end: datetime | None, points: int, tz: Any
) -> str:
    """``hour`` when the range holds at most 4 x ``points`` hourly buckets, else ``day``."""
    hours = sum(_inside(r, start, end) for r in _lasts(every, "hour", tz))
    return "hour" if hours <= 4 * points else "day"


def stored_rollup(store: Store, name: str, rollup: str) -> dict[Any, tuple[Any, ...]]:
    """The rollup table's rows of an account, keyed by (cycle_start, bucket)."""
    t = s.hourly_usage if rollup == "hour" else s.daily_usage
    col = t.c.hour if rollup == "hour" else t.c.day
    query = (
        select(t.c.cycle_start, col, t.c.max_used_bytes, t.c.last_used_bytes, t.c.cap_bytes)
        .add_columns(t.c.last_observed_at, t.c.last_source)
        .join(s.accounts, s.accounts.c.id == t.c.account_id)
        .where(s.accounts.c.name == name)
    )
    with store.engine.connect() as conn:  # type: ignore[attr-defined]
        return {(r[0], r[1]): tuple(r[2:]) for r in conn.execute(query)}


def expected_rollup(every: Sequence[Reading], rollup: str, tz: ZoneInfo) -> dict[Any, Any]:
    """The rollup rows recomputed from the raw readings."""
    groups: dict[Any, list[Reading]] = {}
    for r in every:
        groups.setdefault((r.cycle_start, bucket_of(r, rollup, tz)), []).append(r)
    out = {}
    for k, rows in groups.items():
        last = max(rows, key=_key)
        out[k] = (
            max(r.used_bytes for r in rows),
            last.used_bytes,
            last.cap_bytes,
            last.observed_at,
            last.source,
        )
    return out


# a seeded account with what real histories hold -----------------------------------------------
def household(name: str) -> list[Reading]:
    """Thirteen-minute readings over ~8 months in New York: both DST changes, cycles starting on
    the 15th at local midnight, a three-day and a five-hour gap, a counter reset mid-cycle,
    and a second source reading at the same instants now and then."""
    at = datetime(2026, 2, 10, 3, 4, tzinfo=UTC)
    end = datetime(2026, 11, 20, tzinfo=UTC)
    gaps = [
        (datetime(2026, 5, 2, tzinfo=UTC), datetime(2026, 5, 5, 7, tzinfo=UTC)),
        (datetime(2026, 8, 9, 13, 30, tzinfo=UTC), datetime(2026, 8, 9, 18, 30, tzinfo=UTC)),
    ]
    out: list[Reading] = []
    used, cycle = 0, None
    n = 0
    while at < end:
        local = at.astimezone(NY)
        y, m = local.year, local.month
        if local.day < 15:
            y, m = (y, m - 1) if m > 1 else (y - 1, 12)
        start = datetime(y, m, 15, tzinfo=NY).astimezone(UTC)
        if start != cycle:
            cycle, used = start, 0
        if not any(a <= at < b for a, b in gaps):
            used += 1_000_000 + (n * 7919) % 50_000_000
            if local.date() == date(2026, 7, 3) and local.hour == 12 and local.minute < 13:
                used = 1234  # the counter restarted: the cycle figure drops mid-cycle
            out.append(Reading(name, at, cycle, used, 1229 * 10**9, "isp"))
            if n % 97 == 0:
                out.append(Reading(name, at, cycle, used + 5, None, "csv"))
        n += 1
        at += timedelta(minutes=13)
    return out


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    st_ = open_store(store_url)
    yield st_
    st_.close()


def _seed(store: Store, name: str, zone: str = "America/New_York") -> list[Reading]:
    every = household(name)
    store.ensure_account(name, "test", zone)
    cut = len(every) * 2 // 3
    with mock.patch.object(readings_mod, "CHUNK", 997):
        store.add_readings(every[:cut])
    for r in every[cut : cut + 300]:  # polls, some of them repeats of imported readings
        store.record_poll(PollRecord(r))
    store.add_readings(every[cut - 50 :])  # a re-import overlapping both
    return every


def _ranges() -> list[tuple[datetime | None, datetime | None]]:
    def ny(*a: int) -> datetime:
        return datetime(*a, tzinfo=NY)  # type: ignore[misc]

    return [
        (None, None),
        (ny(2026, 3, 7, 22, 31), ny(2026, 3, 9, 4, 0)),  # the 23-hour day (spring forward)
        (ny(2026, 10, 31, 23, 0), ny(2026, 11, 2)),  # the 25-hour day (fall back)
        (ny(2026, 4, 14, 23), ny(2026, 4, 15, 1)),  # a cycle boundary at local midnight
        (ny(2026, 5, 1), ny(2026, 5, 6)),  # across the three-day gap
        (ny(2026, 7, 3, 11, 30), ny(2026, 7, 3, 13, 17)),  # the counter reset
        (None, ny(2026, 6, 1, 0, 3)),
        (ny(2026, 9, 1, 9, 59), None),
        (ny(2026, 8, 9, 9), ny(2026, 8, 9, 9)),  # empty
        (ny(2030, 1, 1), None),  # after everything
    ]


@pytest.mark.parametrize("rollup", ["hour", "day", None])
def test_series_from_rollups_equals_the_raw_computation(store: Store, rollup: str | None) -> None:
    name = f"home{next(_names)}"
    every = _seed(store, name)
    stored = sorted({_key(r): r for r in reversed(every)}.values(), key=_key)  # first copy wins
    assert store.readings(name) == stored
    lasts = {r: _lasts(stored, r, NY) for r in ("hour", "day")}
    hour_ends = sorted(r.observed_at for r in lasts["hour"])
    day_ends = sorted(r.observed_at for r in lasts["day"])
    on_edges = [  # ranges opening on a bucket's last reading, closing just after or on one
        (hour_ends[100], day_ends[30] + timedelta(microseconds=1)),
        (day_ends[3], day_ends[40]),
        (hour_ends[7], hour_ends[8]),
    ]
    for start, end in [*_ranges(), *on_edges]:
        for points in (1, 2, 7, 100, 500, 5000):
            use = rollup or auto_rollup(stored, start, end, points, NY)
            got = store.rollup_readings(name, start, end, points, rollup)
            want = expected_series(stored, start, end, points, use, NY, lasts[use])
            assert got == want, (start, end, points, use)
    assert expected_rollup(stored, "hour", NY) == stored_rollup(store, name, "hour")
    assert expected_rollup(stored, "day", NY) == stored_rollup(store, name, "day")


def test_both_rollups_are_used_by_default(store: Store) -> None:
    name = f"home{next(_names)}"
    every = _seed(store, name)
    assert auto_rollup(every, None, None, 100, NY) == "day"
    assert auto_rollup(every, None, None, 2000, NY) == "hour"
    hours = store.rollup_readings(name, None, None, 2000)
    assert len(hours) == 2000 and hours == store.rollup_readings(name, None, None, 2000, "hour")
    days = store.rollup_readings(name, None, None, 100)
    assert days == store.rollup_readings(name, None, None, 100, "day") != hours[:100]


def test_a_time_zone_change_rebuilds_the_days_and_keeps_the_hours(store: Store) -> None:
    name = f"home{next(_names)}"
    every = _seed(store, name)
    stored = sorted({_key(r): r for r in reversed(every)}.values(), key=_key)
    hours = stored_rollup(store, name, "hour")
    store.ensure_account(name, "test", "Asia/Kolkata")  # +05:30: days move, UTC hours do not
    kolkata = ZoneInfo("Asia/Kolkata")
    assert stored_rollup(store, name, "hour") == hours
    assert stored_rollup(store, name, "day") == expected_rollup(stored, "day", kolkata)
    got = store.rollup_readings(name, None, None, 300, "day")
    assert got == expected_series(stored, None, None, 300, "day", kolkata)


def _counts(store: Store, name: str) -> tuple[int, int, int]:
    with store.engine.connect() as conn:  # type: ignore[attr-defined]
        aid = select(s.accounts.c.id).where(s.accounts.c.name == name).scalar_subquery()
        return tuple(  # type: ignore[return-value]
            conn.scalar(select(func.count()).select_from(t).where(t.c.account_id == aid))
            for t in (s.readings, s.hourly_usage, s.daily_usage)
        )


def test_a_failed_poll_leaves_neither_reading_nor_rollup(store: Store) -> None:
    name = f"poll{next(_names)}"
    at = datetime(2026, 3, 8, 6, 30, tzinfo=UTC)
    first = Reading(name, at, at, 10, None, "isp")
    assert store.record_poll(PollRecord(first))
    boom = RuntimeError("disk went away after the rollups were written")
    with (
        mock.patch.object(rec, "insert_raw_counters", side_effect=boom),
        pytest.raises(RuntimeError),
    ):
        store.record_poll(PollRecord(Reading(name, at + timedelta(minutes=5), at, 20, None, "isp")))
    assert _counts(store, name) == (1, 1, 1)
    assert stored_rollup(store, name, "hour") == expected_rollup([first], "hour", NY)
    assert store.rollup_readings(name, None, None, 10) == [first]


def test_a_failed_import_leaves_neither_reading_nor_rollup(store: Store) -> None:
    name = f"import{next(_names)}"
    at = datetime(2026, 3, 8, 6, 30, tzinfo=UTC)
    good = [Reading(name, at + timedelta(minutes=i), at, i, None, "csv") for i in range(20)]
    bad = Reading(name, datetime(2026, 3, 9), at, 1, None, "csv")  # naive: refused
    with mock.patch.object(readings_mod, "CHUNK", 3), pytest.raises(InputError):
        store.add_readings([*good, bad])
    assert name not in store.account_names()
    assert _counts(store, name) == (0, 0, 0)


def test_bad_arguments_are_input_errors(store: Store) -> None:
    with pytest.raises(InputError, match="rollup must be one of"):
        store.rollup_readings("x", None, None, 10, "week")
    with pytest.raises(InputError, match="points must be a positive integer"):
        store.rollup_readings("x", None, None, 0)
    with pytest.raises(InputError, match="naive datetime"):
        store.rollup_readings("x", datetime(2026, 1, 1), None, 10)
    assert store.rollup_readings("nobody", None, None, 10) == []


def _downgrade(store: Store, revision: str) -> None:
    from alembic import command

    cfg = migrate.alembic_config()
    with store.engine.execution_options(**{WRITE: True}).begin() as conn:  # type: ignore[attr-defined]
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def test_the_migration_builds_rollups_of_existing_readings(store_url: str) -> None:
    store = open_store(store_url)
    names = [f"old{next(_names)}", f"old{next(_names)}"]
    every = {n: _seed(store, n) for n in names}
    before = {n: stored_rollup(store, n, "hour") for n in names}
    _downgrade(store, "0004_plan_usage_and_topups")
    assert migrate.stored_revision(store.engine) == "0004_plan_usage_and_topups"  # type: ignore[attr-defined]
    store.close()

    store = open_store(store_url)  # opening migrates to head: 0003 fills hourly_usage
    assert migrate.stored_revision(store.engine) == migrate.HEAD  # type: ignore[attr-defined]
    for n in names:
        assert stored_rollup(store, n, "hour") == before[n]
    # polls after the upgrade fold into the rows the migration wrote (same keys, no twins)
    n = names[0]
    last = max(every[n], key=_key)
    late = [
        Reading(
            n, last.observed_at + timedelta(minutes=m), last.cycle_start, 10**12 + m, None, "isp"
        )
        for m in (1, 2, 3)
    ]
    for r in late:
        assert store.record_poll(PollRecord(r))
    stored = sorted({_key(r): r for r in reversed([*every[n], *late])}.values(), key=_key)
    assert stored_rollup(store, n, "hour") == expected_rollup(stored, "hour", NY)
    got = store.rollup_readings(n, None, None, 400, "hour")
    assert got == expected_series(stored, None, None, 400, "hour", NY)
    store.close()


specs = st.lists(
    st.tuples(
        st.integers(0, 2),  # cycle
        st.integers(0, 60 * 24 * 40),  # minutes after 2026-03-01 05:00 UTC (across DST)
        st.integers(0, 2**40),  # used bytes (resets: any order)
        st.sampled_from(["isp", "csv"]),
    ),
    min_size=1,
    max_size=30,
)
T0 = datetime(2026, 3, 1, 5, tzinfo=UTC)
STARTS = [T0, T0 + timedelta(days=14, hours=3), T0 + timedelta(days=31)]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=specs,
    bounds=st.tuples(
        st.one_of(st.none(), st.integers(0, 60 * 24 * 40)),
        st.one_of(st.none(), st.integers(0, 60 * 24 * 40)),
    ),
    points=st.integers(1, 12),
    rollup=st.sampled_from(["hour", "day"]),
    split=st.integers(0, 30),
)
def test_any_readings_any_range(
    store: Store,
    rows: list[tuple[int, int, int, str]],
    bounds: tuple[int | None, int | None],
    points: int,
    rollup: str,
    split: int,
) -> None:
    name = f"h{next(_names)}"
    store.ensure_account(name, "test", "America/New_York")
    batch = [
        Reading(name, T0 + timedelta(minutes=m), STARTS[c], u, None, src) for c, m, u, src in rows
    ]
    store.add_readings(batch[:split])
    for r in batch[split:]:
        store.record_poll(PollRecord(r))
    stored = sorted({_key(r): r for r in reversed(batch)}.values(), key=_key)
    start, end = (None if b is None else T0 + timedelta(minutes=b) for b in bounds)
    got = store.rollup_readings(name, start, end, points, rollup)
    assert got == expected_series(stored, start, end, points, rollup, NY)
    assert stored_rollup(store, name, rollup) == expected_rollup(stored, rollup, NY)


def _plans(store: Store, call: Any) -> list[str]:
    """The query plan of every statement ``call`` runs."""
    from sqlalchemy import event

    engine = store.engine  # type: ignore[attr-defined]
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    plans = []
    with engine.connect() as conn:
        if store.dialect == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")
        for statement, params in seen:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue  # BEGIN / ROLLBACK
            if store.dialect == "sqlite":
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
                plans.append("\n".join(str(r[-1]) for r in rows))
            else:
                rows = conn.exec_driver_sql("EXPLAIN " + statement, params).all()
                plans.append("\n".join(str(r[0]) for r in rows))
    return plans


@pytest.mark.parametrize("rollup", ["hour", "day", None])
def test_long_range_reads_search_indexes_and_never_scan_a_table(
    store: Store, rollup: str | None
) -> None:
    name = f"plan{next(_names)}"
    at = datetime(2026, 3, 1, tzinfo=UTC)
    store.add_readings(
        Reading(name, at + timedelta(minutes=17 * i), at, i, None, "x") for i in range(3000)
    )
    start, end = at + timedelta(days=3), at + timedelta(days=30)
    plans = _plans(store, lambda: store.rollup_readings(name, start, end, 50, rollup))
    assert len(plans) >= 5
    for plan in plans:
        if store.dialect == "sqlite":
            assert "SEARCH" in plan and "SCAN readings" not in plan, plan
            assert "SCAN hourly_usage" not in plan and "SCAN daily_usage" not in plan, plan
        else:
            assert "Seq Scan" not in plan, plan


def test_prune_and_account_removal_keep_rollups_and_readings_together(store: Store) -> None:
    """Prune never deletes readings (so it leaves the rollups alone); removing an account row
    cascades to its readings and both rollups alike."""
    name = f"gone{next(_names)}"
    at = datetime(2026, 3, 1, tzinfo=UTC)
    every = [Reading(name, at + timedelta(minutes=9 * i), at, i, None, "x") for i in range(500)]
    store.add_readings(every)
    store.prune(at + timedelta(days=3650))
    assert stored_rollup(store, name, "hour") == expected_rollup(every, "hour", ZoneInfo("UTC"))
    assert _counts(store, name) == (500, 75, 4)
    with store.engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(s.accounts.delete().where(s.accounts.c.name == name))
    with store.engine.connect() as conn:  # type: ignore[attr-defined]
        for t in (s.readings, s.hourly_usage, s.daily_usage):
            assert conn.scalar(select(func.count()).select_from(t)) == 0, t.name
