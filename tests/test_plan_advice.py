"""Where the use outside a free window went (issue 20's advice): the busiest stretch of the
local day from an allowance's stored series, said only when it can be known and stands out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from capwatch.analysis.plan_advice import busiest_outside, clock_bins
from capwatch.analysis.windows import Window, split_interval
from capwatch.units import format_clock

NY = ZoneInfo("America/New_York")
NIGHT = (Window(frozenset(range(7)), 120, 480),)  # 02:00-08:00 every day
GB = 10**9


def _series(start: datetime, days: int, per_hour: dict[int, int], step_h: int = 1) -> list:
    """An "outside" allowance's cumulative figure, polled every ``step_h`` hours."""
    out, used, at = [], 0, start
    while at < start + timedelta(days=days):
        nxt = at + timedelta(hours=step_h)
        added = sum(
            per_hour.get((at + timedelta(hours=i)).astimezone(NY).hour, 0) for i in range(step_h)
        )
        used += split_interval(added, at, nxt, NIGHT, NY).outside
        out.append((nxt, used))
        at = nxt
    return out


START = datetime(2026, 11, 1, 4, tzinfo=UTC)  # local midnight, the night the clocks go back


def test_the_evening_peak_is_found_and_worded() -> None:
    evening = {h: GB for h in (21, 22, 23)} | {h: GB // 20 for h in range(9, 21)}
    got = busiest_outside(_series(START, 10, evening), START, NIGHT, NY)
    assert got is not None
    assert (got.start_minute, got.end_minute, got.window_start_minute) == (1260, 1440, 120)
    # ten evenings of three hours, every byte once, but for the last hour: the clocks went
    # back, so 240 hours from midnight on the 1st end at 23:00 on the 10th
    assert got.bytes == 29 * GB
    assert (format_clock(got.start_minute), format_clock(got.end_minute)) == ("9 p.m.", "midnight")


def test_polls_hours_apart_spread_their_bytes_only_over_time_outside_the_window() -> None:
    """A poll every 4 hours: the bytes counted between 00:00 and 04:00 lie in 00:00-02:00, the
    only part outside the window, so none land in the window's own half hours."""
    series = [(START + timedelta(hours=4), 2 * GB)]
    bins = clock_bins(series, START, NIGHT, NY)
    assert sum(bins) == pytest.approx(2 * GB)
    assert bins[4:16] == [0.0] * 12  # 02:00-08:00
    # 1 November: the clock shows 01:00-02:00 twice, so 00:00-02:00 is three real hours
    assert bins[0] == pytest.approx(bins[1]) and bins[2] == pytest.approx(2 * bins[0])


def test_even_use_or_no_series_says_nothing() -> None:
    even = dict.fromkeys(range(24), GB // 10)
    assert busiest_outside(_series(START, 5, even), START, NIGHT, NY) is None
    assert busiest_outside([], START, NIGHT, NY) is None  # an ISP total: nothing is stored
    assert busiest_outside([(START + timedelta(hours=1), 0)], START, NIGHT, NY) is None


def test_a_stretch_across_midnight_and_the_window_edges() -> None:
    late = {h: GB for h in (23, 0, 1)}
    got = busiest_outside(_series(START, 5, late), START, NIGHT, NY)
    assert got is not None and (got.start_minute, got.end_minute) == (1380, 120)
    assert format_clock(got.end_minute) == "2 a.m."  # stops where the free window opens
    morning = {h: GB for h in (8, 9)} | {7: 5 * GB}  # 7 a.m. is in the window: not counted
    got = busiest_outside(_series(START, 5, morning), START, NIGHT, NY)
    assert got is not None and (got.start_minute, got.end_minute) == (480, 600)
    assert got.bytes == 10 * GB


@pytest.mark.parametrize(
    ("minute", "text"),
    [(0, "midnight"), (1440, "midnight"), (720, "noon"), (150, "2:30 a.m."), (1260, "9 p.m.")],
)
def test_format_clock(minute: int, text: str) -> None:
    assert format_clock(minute) == text
