"""Aggregates kept as readings arrive equal a recomputation from the raw readings."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

import capwatch.store._readings as readings_mod
from capwatch.models import Reading
from capwatch.store import PollRecord, Store, open_store
from capwatch.store import schema as s

BASE = datetime(2026, 1, 1, 5, tzinfo=UTC)
STARTS = [BASE, BASE + timedelta(days=31), BASE + timedelta(days=59)]
ZONES = ["UTC", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]
_names = itertools.count()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A migrated store shared by every hypothesis example (accounts keep them apart)."""
    st_ = open_store(store_url)
    yield st_
    st_.close()


reading_specs = st.lists(
    st.tuples(
        st.integers(0, 2),  # cycle
        st.integers(0, 60 * 24 * 35),  # minutes after the cycle start (days cross boundaries)
        st.integers(0, 2**40),  # used bytes
        st.one_of(st.none(), st.integers(0, 2**41)),  # cap
        st.sampled_from(["isp", "csv"]),  # source
    ),
    min_size=1,
    max_size=18,
)


def _last(rows: list[Reading]) -> Reading:
    return max(rows, key=lambda r: (r.observed_at, r.source))


def _expected(stored: list[Reading], tz: ZoneInfo) -> tuple[dict[Any, Any], list[Any]]:
    days: dict[tuple[datetime, date], list[Reading]] = {}
    cyc: dict[datetime, list[Reading]] = {}
    for r in stored:
        days.setdefault((r.cycle_start, r.observed_at.astimezone(tz).date()), []).append(r)
        cyc.setdefault(r.cycle_start, []).append(r)
    daily = {}
    for key, rows in days.items():
        last = _last(rows)
        daily[key] = (
            max(r.used_bytes for r in rows),
            last.used_bytes,
            last.cap_bytes,
            last.observed_at,
        )
    starts = sorted(cyc)
    cycles = []
    for i, start in enumerate(starts):
        rows, last = cyc[start], _last(cyc[start])
        end = starts[i + 1] if i + 1 < len(starts) else None
        first = min(r.observed_at for r in rows)
        cycles.append(
            (
                start,
                end,
                last.used_bytes,
                last.cap_bytes,
                len(rows),
                first,
                last.observed_at,
                last.source,
            )
        )
    return daily, cycles[::-1]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    specs=reading_specs,
    zone=st.sampled_from(ZONES),
    split=st.integers(0, 18),
    chunk=st.integers(1, 4),
)
def test_aggregates_match_recomputation(
    store: Store,
    specs: list[tuple[int, int, int, int | None, str]],
    zone: str,
    split: int,
    chunk: int,
) -> None:
    name = f"acct{next(_names)}"
    store.ensure_account(name, "test", zone)
    batch = [
        Reading(name, STARTS[c] + timedelta(minutes=m), STARTS[c], used, cap, src)
        for c, m, used, cap, src in specs
    ]
    with mock.patch.object(readings_mod, "CHUNK", chunk):
        store.add_readings(batch[:split])
    for r in batch[split:]:
        store.record_poll(PollRecord(r))

    stored: dict[tuple[datetime, str], Reading] = {}
    for r in batch:  # the first copy of a (time, source) wins, as in the store
        stored.setdefault((r.observed_at, r.source), r)
    assert sorted(store.readings(name), key=lambda r: (r.observed_at, r.source)) == sorted(
        stored.values(), key=lambda r: (r.observed_at, r.source)
    )
    daily, cycles = _expected(list(stored.values()), ZoneInfo(zone))

    got_cycles = [
        (
            c.cycle_start,
            c.cycle_end,
            c.used_bytes,
            c.cap_bytes,
            c.readings,
            c.first_observed_at,
            c.last_observed_at,
            c.source,
        )
        for c in store.cycles(name)
    ]
    assert got_cycles == cycles
    d = s.daily_usage
    query = (
        select(
            d.c.cycle_start,
            d.c.day,
            d.c.max_used_bytes,
            d.c.last_used_bytes,
            d.c.cap_bytes,
            d.c.last_observed_at,
        )
        .join(s.accounts, s.accounts.c.id == d.c.account_id)
        .where(s.accounts.c.name == name)
    )
    with store.engine.connect() as conn:  # type: ignore[attr-defined]
        got_daily = {(r[0], r[1]): tuple(r[2:]) for r in conn.execute(query)}
    assert got_daily == daily
    for start in {c[0] for c in cycles}:
        api = store.daily_usage(name, start)
        assert [x.day for x in api] == sorted(k[1] for k in daily if k[0] == start)
        assert all(x.used_bytes == daily[(start, x.day)][1] for x in api)
