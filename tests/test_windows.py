"""Time-of-day accounting at the instants where it goes wrong: the nights the clocks change,
window edges, a cycle boundary, and counters that wrap inside a window."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from capwatch.analysis.windows import (
    Window,
    local_to_utc,
    split_interval,
    window_spans,
    window_usage,
)
from capwatch.models import CounterSample, CounterState, Cycle

EVERY_DAY = frozenset(range(7))
NIGHT = Window(EVERY_DAY, 2 * 60, 8 * 60)  # the 02:00-08:00 free window
NY, LONDON, SYDNEY = (
    ZoneInfo(z) for z in ("America/New_York", "Europe/London", "Australia/Sydney")
)
GB = 10**9


def _local(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone).astimezone(UTC)  # type: ignore[misc]


# (zone, night of, window from, to (minutes), real hours the window is open)
LENGTHS = [
    (NY, date(2026, 3, 8), 120, 480, 5),  # 02:00 never shows: opens at the change
    (NY, date(2026, 11, 1), 120, 480, 6),  # the repeated hour is 01:00-02:00, before it
    (NY, date(2026, 11, 1), 60, 480, 8),  # ... and inside this one
    (NY, date(2026, 3, 29), 120, 480, 6),  # an ordinary night in New York
    (LONDON, date(2026, 3, 29), 120, 480, 6),  # 01:00-02:00 skipped, before the window
    (LONDON, date(2026, 3, 29), 60, 480, 6),  # 01:00 never shows: opens at 02:00 BST
    (LONDON, date(2026, 10, 25), 120, 480, 6),
    (LONDON, date(2026, 10, 25), 60, 480, 8),  # 01:00-02:00 twice
    (LONDON, date(2026, 3, 8), 120, 480, 6),
    (SYDNEY, date(2026, 3, 29), 120, 480, 6),  # no change on the European dates
    (SYDNEY, date(2026, 10, 25), 120, 480, 6),
    (SYDNEY, date(2026, 4, 5), 120, 480, 7),  # 02:00 shows twice: opens at the first
    (SYDNEY, date(2026, 10, 4), 120, 480, 5),  # 02:00 never shows
    (NY, date(2026, 3, 8), 0, 150, 2),  # until 02:30, which never shows: closes at the change
    (LONDON, date(2026, 10, 25), 0, 90, 1.5),  # until 01:30, which shows twice: the first time
    (NY, date(2026, 3, 7), 22 * 60, 30 * 60, 7),  # 22:00-06:00 across the spring change
    (NY, date(2026, 10, 31), 22 * 60, 30 * 60, 9),  # ... and the autumn one
    (LONDON, date(2026, 10, 24), 22 * 60, 30 * 60, 9),
]


@pytest.mark.parametrize(("zone", "day", "start", "end", "hours"), LENGTHS)
def test_a_window_lasts_what_the_wall_clock_says(
    zone: ZoneInfo, day: date, start: int, end: int, hours: float
) -> None:
    window = Window(frozenset({day.weekday()}), start, end)
    lo = local_to_utc(day, 0, zone) - timedelta(hours=6)
    spans = window_spans([window], zone, lo, lo + timedelta(days=3))
    assert len(spans) == 1
    assert spans[0][1] - spans[0][0] == timedelta(hours=hours)


def test_a_skipped_start_opens_at_the_change() -> None:
    assert local_to_utc(date(2026, 3, 8), 150, NY) == datetime(2026, 3, 8, 7, 0, tzinfo=UTC)
    assert local_to_utc(date(2026, 10, 4), 120, SYDNEY) == datetime(2026, 10, 3, 16, tzinfo=UTC)


# (zone, interval start, interval end (local wall times), bytes, bytes inside the window)
SPLITS = [
    (LONDON, (2026, 6, 1, 2), (2026, 6, 1, 3), 10 * GB, 10 * GB),  # all inside
    (LONDON, (2026, 6, 1, 1), (2026, 6, 1, 2), 10 * GB, 0),  # ends as the window opens
    (LONDON, (2026, 6, 1, 8), (2026, 6, 1, 9), 10 * GB, 0),  # starts as it closes
    (LONDON, (2026, 6, 1, 1), (2026, 6, 1, 3), 10 * GB, 5 * GB),  # across the opening edge
    (LONDON, (2026, 6, 1, 7), (2026, 6, 1, 10), 9 * GB, 3 * GB),  # across the closing edge
    (LONDON, (2026, 5, 31, 20), (2026, 6, 1, 20), 24 * GB, 6 * GB),  # a whole day
    # the spring night in New York: 00:00-12:00 is 11 real hours, 5 of them in the window
    (NY, (2026, 3, 8, 0), (2026, 3, 8, 12), 11 * GB, 5 * GB),
    # the autumn night: 00:00-12:00 is 13 real hours, 6 in the window
    (NY, (2026, 11, 1, 0), (2026, 11, 1, 12), 13 * GB, 6 * GB),
    (LONDON, (2026, 3, 29, 0), (2026, 3, 29, 12), 11 * GB, 6 * GB),
    (LONDON, (2026, 10, 25, 0), (2026, 10, 25, 12), 13 * GB, 6 * GB),
    (SYDNEY, (2026, 4, 5, 0), (2026, 4, 5, 12), 13 * GB, 7 * GB),
    (SYDNEY, (2026, 10, 4, 0), (2026, 10, 4, 12), 11 * GB, 5 * GB),
    (SYDNEY, (2026, 3, 29, 0), (2026, 3, 29, 12), 12 * GB, 6 * GB),
]


@pytest.mark.parametrize(("zone", "start", "end", "nbytes", "inside"), SPLITS)
def test_bytes_split_in_proportion_to_time(
    zone: ZoneInfo, start: tuple[int, ...], end: tuple[int, ...], nbytes: int, inside: int
) -> None:
    split = split_interval(nbytes, _local(zone, *start), _local(zone, *end), [NIGHT], zone)
    assert (split.inside, split.outside) == (inside, nbytes - inside)
    assert split.counted("outside") == nbytes - inside and split.counted("all") == nbytes


def test_parts_always_add_up() -> None:
    start = _local(NY, 2026, 3, 8, 1, 17)
    for n in (0, 1, 7, 999_999_999_999):
        split = split_interval(n, start, start + timedelta(hours=3, seconds=7), [NIGHT], NY)
        assert split.inside + split.outside == n


def _state(key: str, value: int, at: datetime, cycle: Cycle, cycle_bytes: int) -> CounterState:
    return CounterState(key, value, 32, "boot1", at, cycle.start, cycle_bytes)


def test_a_counter_that_wraps_inside_the_window_counts_inside() -> None:
    cycle = Cycle(_local(LONDON, 2026, 6, 1), _local(LONDON, 2026, 7, 1))
    before = {"wan:rx": _state("wan:rx", 2**32 - 1000, _local(LONDON, 2026, 6, 3, 3), cycle, 7)}
    sample = CounterSample("wan:rx", 5000, width=32, epoch="boot1")
    split, after = window_usage(
        before, [sample], _local(LONDON, 2026, 6, 3, 4), cycle, [NIGHT], LONDON
    )
    assert (split.inside, split.outside) == (6000, 0)  # the wrap: 1000 to the top, 5000 after
    assert after["wan:rx"].cycle_bytes == 7 + 6000


def test_a_wrap_across_the_window_edge_splits_by_time() -> None:
    cycle = Cycle(_local(NY, 2026, 3, 1), _local(NY, 2026, 4, 1))
    before = {"wan:rx": _state("wan:rx", 2**32 - 6000, _local(NY, 2026, 3, 8, 0), cycle, 0)}
    sample = CounterSample("wan:rx", 5000, width=32, epoch="boot1")
    # 00:00 -> 12:00 on the spring night: 11 real hours, 5 in the window
    split, _ = window_usage(before, [sample], _local(NY, 2026, 3, 8, 12), cycle, [NIGHT], NY)
    assert (split.inside, split.outside) == (5000, 6000)


def test_across_a_cycle_boundary_only_the_new_cycles_share_is_split() -> None:
    old = Cycle(_local(LONDON, 2026, 10, 1), _local(LONDON, 2026, 11, 1))
    new = Cycle(old.end, _local(LONDON, 2026, 12, 1))
    overnight = Window(EVERY_DAY, 22 * 60, 30 * 60)  # 22:00-06:00, across the boundary
    last = _local(LONDON, 2026, 10, 31, 22)
    before = {"eth0:rx": CounterState("eth0:rx", 0, 64, "b", last, old.start, 50 * GB)}
    sample = CounterSample("eth0:rx", 4 * GB, width=64, epoch="b")
    at = _local(LONDON, 2026, 11, 1, 2)  # 4 hours later; 2 of them in the new cycle
    split, after = window_usage(before, [sample], at, new, [overnight], LONDON)
    assert (split.inside, split.outside) == (2 * GB, 0)
    assert after["eth0:rx"].cycle_bytes == 2 * GB


def test_a_free_night_across_the_boundary_with_day_traffic_after() -> None:
    old = Cycle(_local(LONDON, 2026, 10, 1), _local(LONDON, 2026, 11, 1))
    new = Cycle(old.end, _local(LONDON, 2026, 12, 1))
    last = _local(LONDON, 2026, 10, 31, 20)
    before = {"eth0:rx": CounterState("eth0:rx", 0, 64, "b", last, old.start, 0)}
    sample = CounterSample("eth0:rx", 16 * GB, width=64, epoch="b")
    # 20:00 Oct 31 -> 12:00 Nov 1 is 16 h; the new cycle's 12 h hold the 02:00-08:00 window
    split, _ = window_usage(before, [sample], _local(LONDON, 2026, 11, 1, 12), new, [NIGHT], LONDON)
    assert (split.inside, split.outside) == (6 * GB, 6 * GB)


def test_a_first_sight_adds_nothing() -> None:
    cycle = Cycle(_local(LONDON, 2026, 6, 1), _local(LONDON, 2026, 7, 1))
    sample = CounterSample("eth0:rx", 10 * GB)
    split, after = window_usage({}, [sample], _local(LONDON, 2026, 6, 2), cycle, [NIGHT], LONDON)
    assert (split.inside, split.outside) == (0, 0) and "eth0:rx" in after


def test_weekday_windows_follow_the_local_day() -> None:
    weekend = Window(frozenset({5, 6}), 0, 1440)  # all of Saturday and Sunday, local
    spans = window_spans([weekend], SYDNEY, _local(SYDNEY, 2026, 6, 1), _local(SYDNEY, 2026, 6, 8))
    assert spans == [(_local(SYDNEY, 2026, 6, 6), _local(SYDNEY, 2026, 6, 8))]  # merged
