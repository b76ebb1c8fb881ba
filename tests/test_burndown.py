"""Burndown series and daily usage bars."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from capwatch.analysis import burndown, daily_usage
from capwatch.models import Cycle

GB = 10**9
TZ = ZoneInfo("America/New_York")
CYCLE = Cycle(datetime(2025, 11, 1, tzinfo=TZ), datetime(2025, 12, 1, tzinfo=TZ))


def _samples() -> list[tuple[datetime, int]]:
    s = CYCLE.start
    return [
        (s + timedelta(hours=10), 5 * GB),
        (s + timedelta(hours=22), 12 * GB),
        (s + timedelta(days=1, hours=9), 20 * GB),
        (s + timedelta(days=1, hours=20), 18 * GB),  # meter goes backwards: held at 20
        (s + timedelta(days=3, hours=8), 40 * GB),  # a day with no reading in between
    ]


def test_lines_span_the_cycle() -> None:
    b = burndown(_samples(), CYCLE, 1000 * GB)
    assert b.ideal_remaining == [(CYCLE.start, 1000 * GB), (CYCLE.end, 0)]
    assert b.prorata_line == [(CYCLE.start, 0), (CYCLE.end, 1000 * GB)]
    assert b.alarm_line == [(CYCLE.start, 0), (CYCLE.end, 900 * GB)]
    assert [r for _, r in b.actual_remaining] == [995 * GB, 988 * GB, 980 * GB, 960 * GB]


def test_daily_usage_per_local_day() -> None:
    assert daily_usage(_samples(), CYCLE, TZ) == [
        (date(2025, 11, 1), 12 * GB),
        (date(2025, 11, 2), 8 * GB),
        (date(2025, 11, 3), 0),
        (date(2025, 11, 4), 20 * GB),
    ]


def test_unlimited_and_empty() -> None:
    b = burndown(_samples(), CYCLE, None)
    assert b.ideal_remaining == b.prorata_line == b.alarm_line == b.actual_remaining == []
    assert b.actual_used[-1][1] == 40 * GB
    empty = burndown([], CYCLE, 1000 * GB)
    assert empty.actual_remaining == [] and empty.daily == []
    assert empty.ideal_remaining[0] == (CYCLE.start, 1000 * GB)


def test_cap_reached_remaining_floors_at_zero() -> None:
    b = burndown(_samples(), CYCLE, 30 * GB)
    assert b.actual_remaining[-1][1] == 0


def test_bad_alarm_percent() -> None:
    with pytest.raises(ValueError, match="burndown: alarm_percent"):
        burndown([], CYCLE, 1, alarm_percent=0)
