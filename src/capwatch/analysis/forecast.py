"""Where will this billing cycle end? A forecast with an honest 80% interval.

The method (``method="capwatch-2"``):

1. Clean the meter (:mod:`capwatch.analysis.forecast_prep`): running maximum (a meter that goes
   backwards is a correction the next reading catches up with), half the rounding step added,
   every sample moved back by the meter's lag estimated from when each cycle's meter leaves
   zero. A flat stretch longer than the household needs to move the meter by a few steps,
   followed by a jump that makes up for it, is a stalled meter: its flat readings count as
   missed polls, so the catch-up is spread over the stall instead of read as days of zero use
   and then a spike; a stall still open at the last reading makes the projection run from
   when the meter stopped, so a stall neither fires nor suppresses an alert by itself. Missed
   polls need nothing special: usage between readings is spread linearly.
2. Cut the cleaned curve at local midnights into daily use; trim spikes; divide by weekday
   factors learned from earlier cycles (:mod:`capwatch.analysis.forecast_stats`).
3. The household's level (:mod:`capwatch.analysis.forecast_level`): the earlier cycles' prior
   and this cycle's mean blended by precision, so the prior fades as this cycle's days
   accumulate; when the days from some day on differ from everything before beyond chance
   (a change-point test at a family-wise 5% rate), the recent regime alone sets the level.
   The last day's deviation from the level carries into the next days by the autocorrelation.
4. Project the rest of the cycle day by day with the weekday shape, plus the expected spike
   volume per day. The interval's variance adds the level's uncertainty, day-to-day noise
   inflated by persistence, spike variance and a change of habit that may still come (the
   change-point test's own prior, applied to the days left); its width is then scaled by how
   far off the same estimator was when replayed on this household's own earlier cycles
   (conformal-style, shrunk towards the model's own width while few replays exist).

Edges: no samples and no history -> expected 0, interval 0..cap (or 0..0 when unlimited),
``method="no-data"``; no samples with history -> the prior alone; the first hours of a cycle
lean on the prior; an unlimited cap changes nothing (the cap is only used for the no-data
interval); a cap already reached is just a large ``used``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, time, timedelta, tzinfo
from statistics import NormalDist

from capwatch.analysis.forecast_level import (
    Rate,
    calibration_scale,
    estimate_rate,
    remaining_moments,
    trim_current,
)
from capwatch.analysis.forecast_prep import (
    Sample,
    clean_samples,
    daily_increments,
    estimate_lag,
    granularity,
    infer_start,
    lagged_points,
    unstall,
)
from capwatch.analysis.forecast_stats import HistoryProfile, history_profile
from capwatch.models import Forecast

METHOD = "capwatch-2"


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
    seen = unstall(seen, step)
    past = [(st, en, unstall(s, step)) for st, en, s in past]
    lag_s = estimate_lag([(st, s) for st, _, s in past] + [(cycle_start, seen)], step)
    past_days = [daily_increments(lagged_points(s, st, lag_s, step), st, zone) for st, _, s in past]
    profile = history_profile(past_days)
    points = lagged_points(seen, cycle_start, lag_s, step)
    as_of = points[-1][0]
    days = daily_increments(points, cycle_start, zone)
    current = trim_current(days, profile)
    rate = estimate_rate(current, profile.series, profile, as_of.astimezone(zone).date())
    used = points[-1][1]
    if rate is None:
        high = cap_bytes if cap_bytes is not None and not seen else int(used)
        return Forecast(int(used), int(used), max(high, int(used)), level, "no-data")
    scale = calibration_scale(past_days, profile)
    return _project(used, rate, profile, as_of, cycle_end, zone, level, scale)


def _project(
    used: float,
    rate: Rate,
    profile: HistoryProfile,
    as_of: datetime,
    cycle_end: datetime,
    zone: tzinfo,
    level: float,
    scale: float,
) -> Forecast:
    """Add the expected rest of the cycle to ``used`` and put an interval around it."""
    rest, var = remaining_moments(rate, profile, _remaining_weights(as_of, cycle_end, zone))
    expected = used + rest
    half = _z(level) * scale * math.sqrt(max(var, 0.0))
    low = max(used, expected - half)
    high = expected + half
    return Forecast(int(expected), int(low), math.ceil(high), level, METHOD, rate.shift)


def _z(level: float) -> float:
    """Two-sided normal quantile for a central interval of ``level``."""
    return NormalDist().inv_cdf(0.5 + level / 2)
