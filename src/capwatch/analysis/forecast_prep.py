"""Turn a meter's raw samples into clean cumulative points and per-local-day increments.

A meter read off an ISP lags the truth by hours, rounds down (to whole GB for Xfinity), misses
polls and now and then goes backwards after a correction. The helpers here:

- :func:`clean_samples` keeps the samples inside the cycle up to ``now`` and drops any sample
  below the running maximum, so a dip is a glitch treated like a missed poll (the usage a meter
  has shown cannot be un-used; a lasting correction downwards holds the old maximum until the
  meter passes it again);
- :func:`granularity` finds the meter's rounding step (1 GB, 1 MB, ...) from the values;
- :func:`estimate_lag` estimates how many seconds the meter runs behind, from when each cycle's
  meter first leaves zero;
- :func:`daily_increments` spreads the usage between samples linearly over time (in the meter's
  own, lagged, time) and cuts it at local midnights.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

Sample = tuple[datetime, int]

MAX_LAG_S = 36 * 3600.0
STALL_STEPS = 3.0
_STEPS = (10**9, 10**8, 10**7, 10**6, 10**3)


@dataclass(frozen=True, slots=True)
class DayUse:
    """Usage of one local day of a cycle; ``fraction`` < 1 for a day only partly seen."""

    day: date
    used: float
    fraction: float


def clean_samples(
    samples: Sequence[Sample], start: datetime, now: datetime | None = None
) -> list[Sample]:
    """Samples in ``[start, now]``, sorted; those below the running maximum are dropped."""
    out: list[Sample] = []
    peak = 0
    for t, used in sorted(samples, key=lambda s: s[0]):
        if t < start or (now is not None and t > now) or used < peak:
            continue
        peak = int(used)
        out.append((t, peak))
    return out


def granularity(values: Sequence[int]) -> int:
    """The coarsest rounding step that divides every value (1 when none fits)."""
    nonzero = [v for v in values if v]
    if len(nonzero) < 2:
        return 1
    for step in _STEPS:
        if all(v % step == 0 for v in nonzero):
            return step
    return 1


def infer_start(samples: Sequence[Sample], tz: tzinfo) -> datetime:
    """The local midnight that opens a cycle whose first sample is ``samples[0]``."""
    first = samples[0][0].astimezone(tz).date()
    return datetime.combine(first, time(0), tzinfo=tz)


def cycle_lag(samples: Sequence[Sample], start: datetime, step: int) -> float | None:
    """Seconds the meter lagged in one cycle, from when it first left zero; None if unknown."""
    last_zero: datetime | None = None
    for t, used in samples:
        if used == 0:
            last_zero = t
            continue
        if last_zero is None:
            return None
        span = (samples[-1][0] - start).total_seconds()
        if span <= 0 or samples[-1][1] <= 0:
            return None
        rate = samples[-1][1] / span
        midpoint = (last_zero - start).total_seconds() + (t - last_zero).total_seconds() / 2
        lag = midpoint - step / rate
        return min(max(lag, 0.0), MAX_LAG_S)
    return None


def estimate_lag(cycles: Sequence[tuple[datetime, Sequence[Sample]]], step: int) -> float:
    """The median lag over cycles that show it (0 when none does)."""
    lags = [lag for start, s in cycles if s and (lag := cycle_lag(s, start, step)) is not None]
    return statistics.median(lags) if lags else 0.0


def _local_midnights(start: datetime, until: datetime, tz: tzinfo) -> list[datetime]:
    day = start.astimezone(tz).date()
    out: list[datetime] = []
    while True:
        day += timedelta(days=1)
        edge = datetime.combine(day, time(0), tzinfo=tz)
        if edge >= until:
            return out
        out.append(edge)


def daily_increments(
    points: Sequence[tuple[datetime, float]], start: datetime, tz: tzinfo
) -> list[DayUse]:
    """Per-local-day usage from cumulative ``points`` (time, bytes) that begin at ``start``.

    Usage between two points is spread linearly; the last day is partial up to the last point.
    One pass over the points (the edges are increasing), so the cost is linear in their number.
    """
    if not points:
        return []
    end = points[-1][0]
    edges = [start, *_local_midnights(start, end, tz), end]
    values = _interpolate_increasing(points, edges)
    out: list[DayUse] = []
    for i in range(len(edges) - 1):
        lo, hi = edges[i], edges[i + 1]
        day_start = datetime.combine(lo.astimezone(tz).date(), time(0), tzinfo=tz)
        full = (day_start + timedelta(days=1) - day_start).total_seconds()
        frac = (hi - lo).total_seconds() / full
        if frac > 0:
            out.append(DayUse(lo.astimezone(tz).date(), values[i + 1] - values[i], min(frac, 1.0)))
    return out


def _interpolate_increasing(
    points: Sequence[tuple[datetime, float]], edges: Sequence[datetime]
) -> list[float]:
    """The cumulative curve at each of the increasing ``edges``, linear between points."""
    out: list[float] = []
    i = 0
    n = len(points)
    for at in edges:
        while i < n and points[i][0] < at:
            i += 1
        if i == 0:
            out.append(points[0][1])
        elif i == n:
            out.append(points[-1][1])
        else:
            (t0, v0), (t1, v1) = points[i - 1], points[i]
            span = (t1 - t0).total_seconds()
            frac = (at - t0).total_seconds() / span if span > 0 else 1.0
            out.append(v0 + (v1 - v0) * frac)
    return out


def unstall(samples: Sequence[Sample], step: int, max_stall_s: float = MAX_LAG_S) -> list[Sample]:
    """Drop the readings of a stalled meter, so its catch-up is spread over the stall.

    A meter that shows the same value for longer than its household takes to move it by
    ``STALL_STEPS`` rounding steps (at its pace so far) and then jumps by at least
    half of what that pace would have added over the flat stretch was lagging, not measuring zero
    use: the flat readings after the first are dropped, as missed polls would be, and the jump
    is spread linearly over the stretch. A flat stretch still open at the end is dropped the same
    way while it is shorter than ``max_stall_s`` (a meter is not trusted to be stalled longer than
    it is trusted to lag), so the projection runs from when the meter stopped moving. Flat
    stretches with no jump after them (a household away) are kept as they are.
    """
    if len(samples) < 3:
        return list(samples)
    pace = _pace(samples)
    if pace <= 0:
        return list(samples)
    quiet = STALL_STEPS * max(step, 1) / pace
    out: list[Sample] = []
    i = 0
    n = len(samples)
    while i < n:
        j = i
        while j + 1 < n and samples[j + 1][1] == samples[i][1]:
            j += 1
        out.append(samples[i])
        flat = (samples[j][0] - samples[i][0]).total_seconds()
        if j > i and flat > quiet:
            if j + 1 < n:
                gap = (samples[j + 1][0] - samples[i][0]).total_seconds()
                lagging = samples[j + 1][1] - samples[i][1] >= 0.5 * pace * gap
            else:
                lagging = flat <= max_stall_s
            if not lagging:
                out.extend(samples[i + 1 : j + 1])
        else:
            out.extend(samples[i + 1 : j + 1])
        i = j + 1
    return out


def _pace(samples: Sequence[Sample]) -> float:
    """Bytes per second of the meter from its first reading to its last."""
    t0, v0 = samples[0]
    t1, v1 = samples[-1]
    span = (t1 - t0).total_seconds()
    return (v1 - v0) / span if span > 0 else 0.0


def lagged_points(
    samples: Sequence[Sample], start: datetime, lag_s: float, step: int
) -> list[tuple[datetime, float]]:
    """Cumulative points in true time: each sample moved back by the lag, half a step added.

    Starts with ``(start, 0)``; times are kept increasing and never before ``start``.
    """
    points: list[tuple[datetime, float]] = [(start, 0.0)]
    half = step / 2 if step > 1 else 0.0
    for t, used in samples:
        at = t - timedelta(seconds=lag_s)
        value = used + half if used > 0 else 0.0
        if at <= points[-1][0]:
            if value > points[-1][1]:
                points[-1] = (points[-1][0], value)
            continue
        points.append((at, value))
    return points
