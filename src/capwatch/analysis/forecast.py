"""Where will this billing cycle end? A forecast with an honest 80% interval.

The method (``method="capwatch-1"``):

1. Clean the meter (:mod:`capwatch.analysis.forecast_prep`): running maximum (a meter that goes
   backwards is a correction the next reading catches up with), half the rounding step added,
   every sample moved back by the meter's lag estimated from when each cycle's meter leaves
   zero. Missed polls need nothing special: the projection runs from the last reading's true
   time, and usage between readings is spread linearly.
2. Cut the cleaned curve at local midnights into daily use; trim spikes; divide by weekday
   factors learned from earlier cycles (:mod:`capwatch.analysis.forecast_stats`).
3. The household's level blends two estimates by their precision: this cycle's mean daily use
   (its variance: day-to-day noise, inflated by the persistence measured on earlier cycles,
   over the days seen) and the earlier cycles' recency-weighted mean (half-life 60 days; its
   variance adds the drift between cycles beyond what noise explains). So earlier cycles are a
   prior that fades as this cycle's days accumulate, and a lasting change of habit takes over.
   The last day's deviation from the level carries into the next days by the autocorrelation.
4. Project the rest of the cycle day by day with the weekday shape, plus the expected spike
   volume per day. The interval adds the level's uncertainty (its standard error plus the drift
   between cycles beyond noise, times the remaining days, squared), day-to-day noise inflated by
   persistence, and spike variance (times the remaining days).

Edges: no samples and no history -> expected 0, interval 0..cap (or 0..0 when unlimited),
``method="no-data"``; no samples with history -> the prior alone; the first hours of a cycle
lean on the prior; an unlimited cap changes nothing (the cap is only used for the no-data
interval); a cap already reached is just a large ``used``.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from capwatch.analysis.forecast_prep import (
    DayUse,
    Sample,
    clean_samples,
    daily_increments,
    estimate_lag,
    granularity,
    infer_start,
    lagged_points,
)
from capwatch.analysis.forecast_stats import (
    HistoryProfile,
    ceiling,
    history_profile,
    long_run_factor,
)
from capwatch.models import Forecast

Z80 = 1.2815515655446004
LEVEL_HALF_LIFE_DAYS = 60.0
DEFAULT_AUTOCORR = (0.4, 0.2, 0.1)
FALLBACK_DRIFT_CV = 0.15  # cycle-to-cycle drift assumed until three cycles show it
MIN_DAILY_CV = 0.1  # no household is steadier than this from day to day
METHOD = "capwatch-1"


@dataclass(frozen=True, slots=True)
class _Rate:
    mean: float
    mean_var: float
    noise_var: float
    deviation: float
    autocorr: tuple[float, ...]


def _history_cycles(
    history: Sequence[Sequence[Sample]], cycle_start: datetime, tz: tzinfo
) -> list[tuple[datetime, datetime, list[Sample]]]:
    """Earlier cycles as (start, end, cleaned samples); each ends where the next begins."""
    cleaned = [clean_samples(s, min(t for t, _ in s)) if s else [] for s in history]
    starts = [infer_start(s, tz) if s else None for s in cleaned]
    out: list[tuple[datetime, datetime, list[Sample]]] = []
    for i, samples in enumerate(cleaned):
        start = starts[i]
        if start is None or not samples:
            continue
        nxt = next((s for s in starts[i + 1 :] if s is not None), cycle_start)
        out.append((start, max(nxt, samples[-1][0]), samples))
    return out


def _trim_current(days: Sequence[DayUse], profile: HistoryProfile) -> list[tuple[date, float]]:
    """This cycle's whole days, spikes trimmed, divided by the weekday factors."""
    whole = [d for d in days if d.fraction >= 0.999]
    if len(whole) >= 5:
        top = ceiling([d.used for d in whole])
    elif profile.prior_rate is not None and profile.ceiling_ratio is not None:
        top = profile.prior_rate * profile.ceiling_ratio
    else:
        top = math.inf
    return [(d.day, min(d.used, top) / profile.weekday[d.day.weekday()]) for d in whole]


def _weighted(series: Sequence[tuple[date, float]], last_day: date) -> tuple[float, float]:
    """Recency-weighted mean and effective count of a daily series."""
    ws = [0.5 ** ((last_day - d).days / LEVEL_HALF_LIFE_DAYS) for d, _ in series]
    sw = sum(ws)
    mean = sum(w * y for w, (_, y) in zip(ws, series, strict=True)) / sw
    return mean, sw * sw / sum(w * w for w in ws)


def _current_rate(days: Sequence[DayUse], profile: HistoryProfile, last_day: date) -> _Rate | None:
    """The household's level: this cycle's days against the earlier cycles' prior."""
    current = _trim_current(days, profile)
    everything = [*profile.series, *current]
    if not everything:
        return None
    pooled, _ = _weighted(everything, last_day)
    noise_var = profile.noise_var
    if noise_var is None:
        ys = [y for _, y in everything]
        spread = statistics.variance(ys) if len(ys) > 1 else 0.0
        noise_var = max(spread, (0.5 * pooled) ** 2)
    noise_var = max(noise_var, (MIN_DAILY_CV * pooled) ** 2)
    autocorr = profile.autocorr or DEFAULT_AUTOCORR
    lrv = noise_var * long_run_factor(autocorr)
    estimates: list[tuple[float, float]] = []
    if profile.series:
        mean_h, n_h = _weighted(profile.series, last_day)
        drift = profile.drift_var if profile.cycles >= 3 else (FALLBACK_DRIFT_CV * mean_h) ** 2
        estimates.append((mean_h, lrv / n_h + drift))
    if current:
        estimates.append((statistics.fmean(y for _, y in current), lrv / len(current)))
    precision = sum(1.0 / max(v, 1.0) for _, v in estimates)
    mean = sum(m / max(v, 1.0) for m, v in estimates) / precision
    deviation = current[-1][1] - mean if current else 0.0
    return _Rate(mean, 1.0 / precision, noise_var, deviation, autocorr)


def _remaining_weights(start: datetime, end: datetime, tz: tzinfo) -> list[tuple[int, float]]:
    """(weekday, fraction of the day) for each local day piece in ``[start, end)``."""
    out: list[tuple[int, float]] = []
    at = start
    while at < end:
        local = at.astimezone(tz)
        next_midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=tz)
        stop = min(next_midnight, end)
        out.append((local.weekday(), (stop - at).total_seconds() / 86400.0))
        at = stop
    return out


def forecast_cycle(
    samples: Sequence[Sample],
    cycle_start: datetime,
    cycle_end: datetime,
    cap_bytes: int | None,
    history: Sequence[Sequence[Sample]] = (),
    now: datetime | None = None,
    *,
    tz: tzinfo | None = None,
    level: float = 0.8,
) -> Forecast:
    """Forecast the cycle's final usage with an interval (80% by default); see module doc."""
    zone = tz or cycle_start.tzinfo
    if zone is None or cycle_start.utcoffset() is None:
        raise ValueError(f"forecast_cycle: naive cycle_start {cycle_start.isoformat()}")
    seen = clean_samples(samples, cycle_start, now)
    past = _history_cycles(history, cycle_start, zone)
    step = granularity([u for _, u in seen] + [u for *_, s in past for _, u in s])
    lag_s = estimate_lag([(st, s) for st, _, s in past] + [(cycle_start, seen)], step)
    past_days = [daily_increments(lagged_points(s, st, lag_s, step), st, zone) for st, _, s in past]
    profile = history_profile(past_days)
    points = lagged_points(seen, cycle_start, lag_s, step)
    as_of = points[-1][0]
    rate = _current_rate(
        daily_increments(points, cycle_start, zone), profile, as_of.astimezone(zone).date()
    )
    used = points[-1][1]
    if rate is None:
        high = cap_bytes if cap_bytes is not None and not seen else int(used)
        return Forecast(int(used), int(used), max(high, int(used)), level, "no-data")
    return _project(used, rate, profile, as_of, cycle_end, zone, level)


def _project(
    used: float,
    rate: _Rate,
    profile: HistoryProfile,
    as_of: datetime,
    cycle_end: datetime,
    zone: tzinfo,
    level: float,
) -> Forecast:
    """Add the expected rest of the cycle to ``used`` and put an interval around it."""
    pieces = _remaining_weights(as_of, cycle_end, zone)
    shaped = sum(frac * profile.weekday[wd] for wd, frac in pieces)
    days = sum(frac for _, frac in pieces)
    persist = sum(rate.autocorr[: max(int(days), 0)])
    expected = used + rate.mean * shaped + rate.deviation * persist + profile.spike_rate * days
    noise = rate.noise_var * long_run_factor(rate.autocorr)
    var = (
        rate.mean_var * shaped**2
        + noise * sum(frac * profile.weekday[wd] ** 2 for wd, frac in pieces)
        + profile.spike_var * days
    )
    half = _z(level) * math.sqrt(max(var, 0.0))
    low = max(used, expected - half)
    high = expected + half
    return Forecast(int(expected), int(low), math.ceil(high), level, METHOD)


def _z(level: float) -> float:
    """Two-sided normal quantile for a central interval of ``level``."""
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + level / 2)
