"""Unit and property tests of the month-end forecast, edges included."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from capwatch.analysis import forecast_cycle
from capwatch.analysis.forecast_prep import (
    clean_samples,
    cycle_lag,
    daily_increments,
    granularity,
    lagged_points,
    unstall,
)
from capwatch.analysis.forecast_stats import ceiling, weekday_factors
from capwatch.models import Forecast

GB = 10**9
TZ = ZoneInfo("America/Chicago")
START = datetime(2025, 3, 1, tzinfo=TZ)
END = datetime(2025, 4, 1, tzinfo=TZ)
CAP = 1229 * GB


def meter(
    start: datetime,
    days: float,
    per_day: float,
    *,
    poll_h: float = 2,
    lag_h: float = 0,
    spikes: dict[int, float] | None = None,
) -> list[tuple[datetime, int]]:
    """A synthetic meter: steady use, whole-GB floor, optional lag and one-day spikes."""
    out = []
    t = start + timedelta(hours=poll_h / 2)
    while t < start + timedelta(days=days):
        true_h = max((t - start).total_seconds() / 3600 - lag_h, 0.0)
        used = per_day * true_h / 24
        for day, extra in (spikes or {}).items():
            if true_h >= day * 24 + 12:
                used += extra
        out.append((t, int(used // GB) * GB))
        t += timedelta(hours=poll_h)
    return out


def history_cycles(per_day: float, n: int = 3) -> list[list[tuple[datetime, int]]]:
    """``n`` earlier cycles of 30 days at ``per_day`` ending at START."""
    out = []
    for i in range(n, 0, -1):
        s = START - timedelta(days=30 * i)
        out.append(meter(s, 30, per_day))
    return out


def test_steady_use_is_forecast_close_to_truth() -> None:
    samples = meter(START, 10, 30 * GB)
    fc = forecast_cycle(samples, START, END, CAP, now=START + timedelta(days=10), tz=TZ)
    truth = 31 * 30 * GB
    assert abs(fc.expected_bytes - truth) < 0.05 * truth
    assert fc.low_bytes <= truth <= fc.high_bytes
    assert fc.level == 0.8 and fc.method == "capwatch-2"


def test_history_prior_steers_the_first_hour() -> None:
    history = history_cycles(40 * GB)
    samples = meter(START, 1 / 24, 40 * GB, poll_h=1)
    fc = forecast_cycle(samples, START, END, CAP, history, now=START + timedelta(hours=1), tz=TZ)
    truth = 31 * 40 * GB
    assert abs(fc.expected_bytes - truth) < 0.1 * truth
    assert fc.low_bytes < fc.expected_bytes < fc.high_bytes


def test_no_readings_and_no_history_gives_zero_with_cap_wide_interval() -> None:
    fc = forecast_cycle([], START, END, CAP, now=START + timedelta(days=3))
    assert (fc.expected_bytes, fc.low_bytes, fc.high_bytes) == (0, 0, CAP)
    assert fc.method == "no-data"


def test_no_readings_with_history_uses_the_prior() -> None:
    fc = forecast_cycle([], START, END, CAP, history_cycles(20 * GB), now=START, tz=TZ)
    assert abs(fc.expected_bytes - 31 * 20 * GB) < 0.1 * 31 * 20 * GB
    assert fc.high_bytes > fc.expected_bytes > fc.low_bytes >= 0


def test_unlimited_cap_still_forecasts() -> None:
    samples = meter(START, 8, 50 * GB)
    fc = forecast_cycle(samples, START, END, None, now=START + timedelta(days=8), tz=TZ)
    assert fc.expected_bytes > 8 * 50 * GB
    assert fc.high_bytes > fc.low_bytes
    empty = forecast_cycle([], START, END, None, now=START)
    assert (empty.low_bytes, empty.high_bytes) == (0, 0)


def test_cap_already_reached_never_forecasts_below_used() -> None:
    samples = meter(START, 20, 80 * GB)
    used = samples[-1][1]
    assert used > CAP
    fc = forecast_cycle(samples, START, END, CAP, now=START + timedelta(days=20), tz=TZ)
    assert fc.low_bytes >= used
    assert fc.expected_bytes > CAP


def test_meter_going_backwards_is_held_at_its_running_max() -> None:
    samples = meter(START, 10, 30 * GB)
    dipped = [*samples[:-20], *((t, u - 50 * GB) for t, u in samples[-20:-10]), *samples[-10:]]
    now = START + timedelta(days=10)
    a = forecast_cycle(samples, START, END, CAP, now=now, tz=TZ)
    b = forecast_cycle(dipped, START, END, CAP, now=now, tz=TZ)
    assert abs(a.expected_bytes - b.expected_bytes) < 0.02 * a.expected_bytes
    assert b.low_bytes >= samples[-1][1]
    hour = timedelta(hours=1)
    cleaned = clean_samples([(START, 5), (START + hour, 3), (START + 2 * hour, 6)], START)
    assert cleaned == [(START, 5), (START + 2 * hour, 6)]


def test_a_one_off_spike_is_not_a_new_rate() -> None:
    now = START + timedelta(days=12)
    plain = meter(START, 12, 20 * GB)
    spiky = meter(START, 12, 20 * GB, spikes={9: 100 * GB})
    history = history_cycles(20 * GB)
    a = forecast_cycle(plain, START, END, CAP, history, now=now, tz=TZ)
    b = forecast_cycle(spiky, START, END, CAP, history, now=now, tz=TZ)
    naive_jump = 100 * GB * 31 / 12
    assert b.expected_bytes - a.expected_bytes < 0.5 * naive_jump + 100 * GB
    assert b.expected_bytes >= a.expected_bytes + 90 * GB


def test_samples_after_now_are_ignored() -> None:
    samples = meter(START, 20, 30 * GB)
    now = START + timedelta(days=5)
    cut = [s for s in samples if s[0] <= now]
    assert forecast_cycle(samples, START, END, CAP, now=now, tz=TZ) == forecast_cycle(
        cut, START, END, CAP, now=now, tz=TZ
    )


def test_lag_and_rounding_are_estimated() -> None:
    samples = meter(START, 5, 48 * GB, poll_h=1, lag_h=10)
    lag = cycle_lag(samples, START, GB)
    assert lag is not None and 8 * 3600 <= lag <= 12 * 3600
    assert granularity([u for _, u in samples]) == GB
    assert granularity([2_000_000, 5_000_000]) == 10**6
    assert granularity([1_500_000, 3_000_000]) == 10**3
    assert granularity([7]) == 1


def test_daily_increments_cut_at_local_midnight() -> None:
    points = lagged_points(meter(START, 3, 24 * GB, poll_h=1), START, 0, 1)
    days = daily_increments(points, START, TZ)
    assert [d.day.day for d in days] == [1, 2, 3]
    assert all(abs(d.used - 24 * GB) < 2 * GB for d in days[:2])
    assert days[-1].fraction < 1


def test_weekday_factors_find_weekend_shape() -> None:
    from capwatch.analysis.forecast_prep import DayUse

    start = datetime(2025, 1, 6, tzinfo=UTC).date()  # a Monday
    cycle = [
        DayUse(start + timedelta(days=i), (20.0 if (i % 7) >= 5 else 10.0), 1.0) for i in range(28)
    ]
    factors = weekday_factors([cycle, cycle, cycle])
    assert factors[5] > 1.2 > 0.9 > factors[0]
    assert abs(sum(factors) / 7 - 1) < 1e-9
    assert ceiling([10, 10, 11, 9, 10]) >= 30


def test_bad_cycle_start_is_rejected() -> None:
    with pytest.raises(ValueError, match="forecast_cycle: naive cycle_start"):
        forecast_cycle([], datetime(2025, 3, 1), END, CAP)


@settings(max_examples=40, deadline=None)
@given(
    per_day=st.floats(min_value=0, max_value=200 * GB),
    days=st.floats(min_value=0.05, max_value=30),
    lag_h=st.floats(min_value=0, max_value=24),
    with_history=st.booleans(),
)
def test_interval_is_ordered_and_never_below_the_meter(
    per_day: float, days: float, lag_h: float, with_history: bool
) -> None:
    samples = meter(START, days, per_day, poll_h=3, lag_h=lag_h)
    history = history_cycles(per_day, 2) if with_history else []
    now = START + timedelta(days=days)
    fc = forecast_cycle(samples, START, END, CAP, history, now=now, tz=TZ)
    used = samples[-1][1] if samples else 0
    assert used <= fc.low_bytes <= fc.expected_bytes <= fc.high_bytes


def meter_by_day(
    start: datetime,
    days: float,
    rate: Callable[[float], float],
    *,
    poll_h: float = 2,
    stalls: Sequence[tuple[float, float]] = (),
) -> list[tuple[datetime, int]]:
    """A whole-GB meter whose daily use is ``rate(day)``; during each (from, to) stall, in days,
    it repeats its last value and then catches up in one jump."""
    out: list[tuple[datetime, int]] = []
    step_h = 0.25
    total = 0.0
    h = 0.0
    t = poll_h / 2
    shown = 0
    while t < days * 24:
        while h < t:
            total += rate(h / 24) * step_h / 24
            h += step_h
        if not any(a * 24 <= t < b * 24 for a, b in stalls):
            shown = int(total // GB) * GB
        out.append((start + timedelta(hours=t), shown))
        t += poll_h
    return out


@pytest.mark.parametrize("factor", [2.0, 0.5])
def test_a_lasting_change_of_habit_moves_the_forecast_within_a_day(factor: float) -> None:
    history = history_cycles(30 * GB)
    base = 30 * GB
    change = 12

    def rate(day: float) -> float:
        return base * (factor if day >= change else 1.0)

    truth = base * change + base * factor * (31 - change)
    steady = meter(START, 20, base)
    changed = meter_by_day(START, 20, rate)
    before = forecast_cycle(
        [s for s in steady if s[0] <= START + timedelta(days=change + 1)],
        START,
        END,
        CAP,
        history,
        now=START + timedelta(days=change + 1),
        tz=TZ,
    )
    after_day = forecast_cycle(
        [s for s in changed if s[0] <= START + timedelta(days=change + 1)],
        START,
        END,
        CAP,
        history,
        now=START + timedelta(days=change + 1),
        tz=TZ,
    )
    # within a day of the change the forecast has moved towards the new total
    moved = after_day.expected_bytes - before.expected_bytes
    assert moved * (truth - before.expected_bytes) > 0
    # a week on, the recent regime sets the rate: most of the way to the truth
    now = START + timedelta(days=change + 7)
    week = forecast_cycle(
        [s for s in changed if s[0] <= now], START, END, CAP, history, now=now, tz=TZ
    )
    no_change = base * 31
    assert abs(week.expected_bytes - truth) < 0.35 * abs(no_change - truth)


def _alerts(fc: Forecast) -> bool:
    return fc.low_bytes >= 0.9 * CAP


@pytest.mark.parametrize("per_day", [30 * GB, 50 * GB])
def test_a_stalled_meter_neither_fires_nor_suppresses_an_alert(per_day: float) -> None:
    history = history_cycles(per_day)
    stall = (9.2, 10.6)  # 34 hours without progress, then one jump

    def rate(day: float) -> float:
        return per_day

    steady = meter_by_day(START, 14, rate)
    stalled = meter_by_day(START, 14, rate, stalls=[stall])
    for day in (9.5, 10.0, 10.5, 10.7, 11.0, 12.0):
        now = START + timedelta(days=day)
        a = forecast_cycle(
            [s for s in steady if s[0] <= now], START, END, CAP, history, now=now, tz=TZ
        )
        b = forecast_cycle(
            [s for s in stalled if s[0] <= now], START, END, CAP, history, now=now, tz=TZ
        )
        assert _alerts(a) == _alerts(b), day
        assert abs(a.expected_bytes - b.expected_bytes) < 0.04 * a.expected_bytes, day
    assert _alerts(a) == (per_day * 31 > CAP)


def test_unstall_spreads_a_catch_up_and_keeps_a_quiet_spell() -> None:
    hour = timedelta(hours=1)
    flat_then_jump = [
        (START + i * hour, (i if i < 10 else (10 if i < 40 else i)) * GB) for i in range(50)
    ]
    kept = unstall(flat_then_jump, GB)
    assert [t for t, _ in kept] == [START + i * hour for i in (*range(11), *range(40, 50))]
    away = [
        (START + i * hour, (i if i < 10 else (10 if i < 40 else 10 + i - 40)) * GB)
        for i in range(50)
    ]
    assert unstall(away, GB) == away


@pytest.mark.parametrize("factor", [2.0, 0.5])
def test_the_forecast_says_which_change_of_regime_it_followed(factor: float) -> None:
    """The shift the forecast followed names the day it began and its size, for every surface
    to say why the forecast moved ("usage since the 12th runs at 2x the cycle's start")."""
    history = history_cycles(30 * GB)
    change = 12

    def rate(day: float) -> float:
        return 30 * GB * (factor if day >= change else 1.0)

    changed = meter_by_day(START, 20, rate)
    now = START + timedelta(days=change + 5)
    fc = forecast_cycle(
        [s for s in changed if s[0] <= now], START, END, CAP, history, now=now, tz=TZ
    )
    assert fc.shift is not None
    assert abs((fc.shift.since - (START + timedelta(days=change)).date()).days) <= 1
    assert fc.shift.against == "cycle"
    assert abs(fc.shift.ratio - factor) < 0.2 * factor
    assert abs(fc.shift.after_bytes_per_day - 30 * GB * factor) < 0.2 * 30 * GB * factor
    # steady use, the same history: nothing to explain
    steady = meter(START, change + 5, 30 * GB)
    calm = forecast_cycle(steady, START, END, CAP, history, now=now, tz=TZ)
    assert calm.shift is None


def test_a_change_still_to_come_widens_the_interval_and_shrinks_as_days_run_out() -> None:
    """The change-point prior (1/365 a day, of the order of the level) applied to the days left:
    nothing with no day left, growing with the days left faster than linear, and proportional
    to the level squared."""
    from capwatch.analysis.forecast_level import future_change_var

    assert future_change_var(10.0, 0.0) == 0.0
    one, ten, twenty = (future_change_var(10.0, d) for d in (1.0, 10.0, 20.0))
    assert 0 < one < ten < twenty
    assert twenty > 4 * ten  # about (days left)^3
    assert future_change_var(20.0, 10.0) == pytest.approx(4 * ten)
    # 25 days left at 40 GB a day: a standard deviation of about 156 GB (40 x sqrt(5525 / 365))
    assert future_change_var(40e9, 25.0) ** 0.5 == pytest.approx(155.6e9, rel=0.01)
