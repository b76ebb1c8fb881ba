"""Billing cycles: anchors, clamping, DST, tiling (property tests and worked examples)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capwatch.analysis.cycles import CycleRule, cycle_from_dates, local_midnight
from capwatch.models import Cycle

ZONES = ["America/New_York", "Europe/London", "Australia/Sydney", "Pacific/Chatham", "UTC"]
# Zones whose clocks change at local midnight (no midnight, or two of them).
MIDNIGHT_DST_ZONES = ["America/Santiago", "America/Havana", "America/Asuncion", "Asia/Beirut"]

instants = st.datetimes(
    min_value=datetime(1995, 1, 1), max_value=datetime(2060, 12, 31), timezones=st.just(UTC)
)
anchors = st.one_of(st.none(), st.integers(min_value=1, max_value=31))
zones = st.sampled_from(ZONES + MIDNIGHT_DST_ZONES).map(ZoneInfo)


def _is_day_start(instant: datetime, tz: ZoneInfo) -> bool:
    """True when ``instant`` is the first instant of its local day."""
    local = instant.astimezone(tz)
    before = (instant - timedelta(seconds=1)).astimezone(tz)
    return before.date() < local.date() and instant.tzinfo is not None


def _clamped_anchor(rule: CycleRule, start: datetime) -> int:
    import calendar

    local = start.astimezone(rule.timezone)
    return min(rule.start_day or 1, calendar.monthrange(local.year, local.month)[1])


@settings(max_examples=300, deadline=None)
@given(instant=instants, anchor=anchors, tz=zones)
def test_cycle_properties(instant: datetime, anchor: int | None, tz: ZoneInfo) -> None:
    rule = CycleRule(anchor, tz)
    cycle = rule.cycle_at(instant)
    assert instant in cycle
    assert cycle.start.tzinfo is UTC and cycle.end.tzinfo is UTC
    nxt = rule.following(cycle)
    prev = rule.preceding(cycle)
    assert nxt.start == cycle.end
    assert prev.end == cycle.start
    assert rule.preceding(nxt) == cycle
    assert rule.following(prev) == cycle
    assert 28 <= len(rule.local_days(cycle)) <= 31
    local_start = cycle.start.astimezone(tz)
    assert _is_day_start(cycle.start, tz)
    assert local_start.day == _clamped_anchor(rule, cycle.start)
    assert 0 <= rule.day_index(instant) < len(rule.local_days(cycle))
    assert rule.local_days(cycle)[rule.day_index(instant)] == instant.astimezone(tz).date()


@settings(max_examples=60, deadline=None)
@given(
    start=instants,
    days=st.integers(min_value=0, max_value=400),
    anchor=anchors,
    tz=zones,
)
def test_cycles_tile_time(start: datetime, days: int, anchor: int | None, tz: ZoneInfo) -> None:
    rule = CycleRule(anchor, tz)
    end = start + timedelta(days=days, hours=1)
    cycles = rule.cycles_between(start, end)
    assert cycles[0].start <= start < cycles[0].end
    assert cycles[-1].start < end <= cycles[-1].end
    for a, b in itertools.pairwise(cycles):
        assert a.end == b.start
        assert a.start < a.end
    # Every instant in the span is in exactly one of them.
    probe = start
    while probe < end:
        assert sum(probe in c for c in cycles) == 1
        probe += timedelta(hours=37)


@pytest.mark.parametrize(
    ("anchor", "instant", "start", "end"),
    [
        (None, "2024-03-15T12:00", "2024-03-01", "2024-04-01"),
        (1, "2024-03-01T00:00", "2024-03-01", "2024-04-01"),
        (31, "2023-02-15T00:00", "2023-01-31", "2023-02-28"),
        (31, "2023-03-01T00:00", "2023-02-28", "2023-03-31"),
        (31, "2024-02-29T12:00", "2024-02-29", "2024-03-31"),
        (31, "2024-04-30T00:00", "2024-04-30", "2024-05-31"),
        (30, "2024-02-29T23:59", "2024-02-29", "2024-03-30"),
        (15, "2024-01-14T23:59:59", "2023-12-15", "2024-01-15"),
        (15, "2024-12-20T00:00", "2024-12-15", "2025-01-15"),
    ],
)
def test_worked_examples(anchor: int | None, instant: str, start: str, end: str) -> None:
    tz = ZoneInfo("America/New_York")
    rule = CycleRule(anchor, tz)
    cycle = rule.cycle_at(datetime.fromisoformat(instant).replace(tzinfo=tz))
    assert cycle.start.astimezone(tz) == datetime.fromisoformat(start).replace(tzinfo=tz)
    assert cycle.end.astimezone(tz) == datetime.fromisoformat(end).replace(tzinfo=tz)


def test_dst_cycle_lengths_in_hours() -> None:
    rule = CycleRule(1, ZoneInfo("Europe/London"))
    march = rule.cycle_at(datetime(2024, 3, 10, tzinfo=UTC))
    october = rule.cycle_at(datetime(2024, 10, 10, tzinfo=UTC))
    assert march.length_seconds == (31 * 24 - 1) * 3600  # spring forward loses an hour
    assert october.length_seconds == (31 * 24 + 1) * 3600  # fall back gains one
    assert march.start == datetime(2024, 3, 1, tzinfo=UTC)
    assert october.start == datetime(2024, 9, 30, 23, tzinfo=UTC)  # BST midnight


def test_missing_midnight_takes_the_transition() -> None:
    # Chile springs forward at 24:00 on 2024-09-07: local 2024-09-08 starts at 01:00 (UTC-3).
    tz = ZoneInfo("America/Santiago")
    start = local_midnight(date(2024, 9, 8), tz)
    assert start == datetime(2024, 9, 8, 4, tzinfo=UTC)
    assert start.astimezone(tz).replace(tzinfo=None) == datetime(2024, 9, 8, 1)
    rule = CycleRule(8, tz)
    assert rule.cycle_at(start).start == start
    assert rule.cycle_at(start - timedelta(microseconds=1)).end == start


def test_ambiguous_midnight_takes_the_first() -> None:
    # Cuba falls back from 01:00 to 00:00 on 2024-11-03, so that midnight happens twice.
    tz = ZoneInfo("America/Havana")
    start = local_midnight(date(2024, 11, 3), tz)
    assert start == datetime(2024, 11, 3, 4, tzinfo=UTC)  # 00:00 CDT (UTC-4), the first one
    assert (start + timedelta(hours=1)).astimezone(tz).hour == 0  # the second midnight


def test_cycle_from_dates() -> None:
    tz = ZoneInfo("America/New_York")
    cycle = cycle_from_dates(date(2024, 10, 15), date(2024, 11, 14), tz)
    assert cycle == Cycle(
        datetime(2024, 10, 15, 4, tzinfo=UTC), datetime(2024, 11, 15, 5, tzinfo=UTC)
    )
    with pytest.raises(ValueError, match="ends before it starts"):
        cycle_from_dates(date(2024, 11, 15), date(2024, 11, 14), tz)


@pytest.mark.parametrize("bad", [0, 32, -1, True])
def test_bad_anchor(bad: int) -> None:
    with pytest.raises(ValueError, match="start_day"):
        CycleRule(bad, ZoneInfo("UTC"))


def test_naive_instant_rejected() -> None:
    with pytest.raises(ValueError, match="naive"):
        CycleRule(1, ZoneInfo("UTC")).cycle_at(datetime(2024, 1, 1))


def test_next_cycle_follows_the_rule_a_billing_day_or_the_same_length() -> None:
    """After a cycle ends with no reading of the next: calendar, ISP billing day, 28 days."""
    from datetime import date

    from capwatch.analysis.cycles import CycleRule, cycle_from_dates, next_cycle, span_of
    from capwatch.models import Cycle

    ny = ZoneInfo("America/New_York")
    rule = CycleRule(None, ny)
    november = rule.cycle_at(datetime(2026, 11, 15, tzinfo=UTC))
    assert next_cycle(rule, november) == rule.cycle_at(datetime(2026, 12, 15, tzinfo=UTC))
    billing = cycle_from_dates(date(2026, 10, 14), date(2026, 11, 13), ny)
    assert next_cycle(rule, billing) == cycle_from_dates(date(2026, 11, 14), date(2026, 12, 13), ny)
    mobile = cycle_from_dates(date(2026, 10, 20), date(2026, 11, 16), ny)  # 28 days
    after = next_cycle(rule, mobile)
    assert after == cycle_from_dates(date(2026, 11, 17), date(2026, 12, 14), ny)
    assert after.start == mobile.end  # contiguous across the DST change of 1 November
    # a stored cycle without an end: the rule's span, or a month from its own start day
    assert span_of(rule, november.start, None) == november
    assert span_of(rule, billing.start, None) == billing
    assert span_of(rule, mobile.start, mobile.end) == mobile
    odd = Cycle(datetime(2026, 11, 3, 7, 30, tzinfo=UTC), datetime(2026, 11, 10, 7, 30, tzinfo=UTC))
    assert next_cycle(rule, odd) == Cycle(odd.end, odd.end + (odd.end - odd.start))
