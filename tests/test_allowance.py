"""Daily allowance and pace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from capwatch.analysis import daily_allowance, days_left, pace
from capwatch.models import Cycle

GB = 10**9
CYCLE = Cycle(datetime(2025, 11, 1, tzinfo=UTC), datetime(2025, 12, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("used", "cap", "day", "expected"),
    [
        (600 * GB, 1200 * GB, 15, 40 * GB),  # 600 GB left over 15 days
        (0, 1200 * GB, 0, 40 * GB),  # first instant of the cycle
        (1300 * GB, 1200 * GB, 10, 0),  # cap already reached
        (100 * GB, None, 10, None),  # unlimited
        (100 * GB, 1200 * GB, 30, None),  # cycle over
    ],
)
def test_daily_allowance(used: int, cap: int | None, day: int, expected: int | None) -> None:
    now = CYCLE.start + timedelta(days=day)
    assert daily_allowance(used, cap, now, CYCLE) == expected


def test_last_hours_count_as_one_day() -> None:
    now = CYCLE.end - timedelta(hours=6)
    assert daily_allowance(1100 * GB, 1200 * GB, now, CYCLE) == 100 * GB
    assert days_left(now, CYCLE) == pytest.approx(0.25)


def test_pace() -> None:
    mid = CYCLE.start + timedelta(days=15)
    assert pace(672 * GB, 1200 * GB, mid, CYCLE) == pytest.approx(1.12)
    assert pace(0, 1200 * GB, CYCLE.start, CYCLE) is None  # first instant: no plan yet
    assert pace(10, None, mid, CYCLE) is None
    assert pace(10, 0, mid, CYCLE) is None


@given(
    used=st.integers(min_value=0, max_value=3000 * GB),
    cap=st.integers(min_value=1, max_value=3000 * GB),
    seconds=st.integers(min_value=0, max_value=30 * 86400 - 1),
)
def test_allowance_never_promises_more_than_is_left(used: int, cap: int, seconds: int) -> None:
    now = CYCLE.start + timedelta(seconds=seconds)
    allowance = daily_allowance(used, cap, now, CYCLE)
    assert allowance is not None
    assert 0 <= allowance <= max(cap - used, 0)
