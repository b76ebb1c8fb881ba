"""Robust statistics over daily usage: spike trimming, weekday shape and the history prior.

Everything is generic: no constant here knows about a particular household.

- a day above ``median + 6 * 1.4826 * MAD`` of its cycle (at least 3 x the median) is a
  spike; it is trimmed to that ceiling and the excess counted apart, so that one 100 GB game
  download raises the expected count of future spikes a little but is not taken as a new rate;
- weekday factors are the mean ratio of each weekday's trimmed use to its cycle's level, shrunk
  towards 1 by the number of days seen, normalised to average 1;
- the prior is the recency-weighted mean of earlier cycles' trimmed, weekday-normalised daily
  rates, with the spread between those cycles as its variance.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from capwatch.analysis.forecast_prep import DayUse

MAD_SCALE = 1.4826
SPIKE_MADS = 6.0
SPIKE_MIN_RATIO = 3.0
WEEKDAY_SHRINK = 5.0
HISTORY_DECAY = 0.7
MAX_LAG = 7
CYCLE_DAYS = 30.0


@dataclass(frozen=True, slots=True)
class HistoryProfile:
    """What earlier cycles say about a household's use (bytes per day)."""

    weekday: tuple[float, ...] = (1.0,) * 7
    prior_rate: float | None = None
    prior_var: float = 0.0
    noise_var: float | None = None
    spike_rate: float = 0.0
    spike_var: float = 0.0
    ceiling_ratio: float | None = None
    cycles: int = 0
    rates: tuple[float, ...] = field(default_factory=tuple)
    series: tuple[tuple[date, float], ...] = ()
    autocorr: tuple[float, ...] = ()
    drift_var: float = 0.0


def ceiling(values: Sequence[float]) -> float:
    """The spike ceiling of a set of daily values: median + 6 MADs, at least 3 x median.

    No ceiling when the median day shows nothing: a meter too coarse for the household's daily
    use (a light user on a whole-GB meter) moves on a few days only, and those are not spikes.
    """
    med = statistics.median(values)
    if med <= 0:
        return math.inf
    mad = statistics.median(abs(v - med) for v in values)
    return max(med + SPIKE_MADS * MAD_SCALE * mad, SPIKE_MIN_RATIO * med)


def full_days(days: Sequence[DayUse]) -> list[DayUse]:
    """Only the days seen whole."""
    return [d for d in days if d.fraction >= 0.999]


def weekday_factors(cycles: Sequence[Sequence[DayUse]]) -> tuple[float, ...]:
    """Weekday factors (Monday first) from earlier cycles, shrunk to 1, averaging 1."""
    ratios: list[list[float]] = [[] for _ in range(7)]
    for days in cycles:
        if len(days) < 7:
            continue
        top = ceiling([d.used for d in days])
        trimmed = [min(d.used, top) for d in days]
        level = statistics.fmean(trimmed)
        if level <= 0:
            continue
        for d, v in zip(days, trimmed, strict=True):
            ratios[d.day.weekday()].append(v / level)
    raw = [(sum(r) + WEEKDAY_SHRINK) / (len(r) + WEEKDAY_SHRINK) if r else 1.0 for r in ratios]
    mean = statistics.fmean(raw)
    return tuple(f / mean for f in raw)


def _cycle_stats(
    days: Sequence[DayUse], weekday: Sequence[float]
) -> tuple[list[float], list[float], float]:
    """(normalised trimmed days, spike excesses, ceiling ratio) of one earlier cycle."""
    top = ceiling([d.used for d in days])
    trimmed = [min(d.used, top) for d in days]
    excess = [d.used - t for d, t in zip(days, trimmed, strict=True)]
    norm = [t / weekday[d.day.weekday()] for d, t in zip(days, trimmed, strict=True)]
    med = statistics.median(d.used for d in days)
    return norm, excess, (top / med if med > 0 else SPIKE_MIN_RATIO)


def autocorrelation(values: Sequence[float], max_lag: int = MAX_LAG) -> tuple[float, ...]:
    """Sample autocorrelation at lags 1..max_lag, clipped to [0, 0.95] (short series: ())."""
    n = len(values)
    if n < 4 * max_lag:
        return ()
    mean = statistics.fmean(values)
    dev = [v - mean for v in values]
    var = sum(d * d for d in dev) / n
    if var <= 0:
        return ()
    out = []
    for k in range(1, max_lag + 1):
        rho = sum(dev[i] * dev[i + k] for i in range(n - k)) / n / var
        out.append(min(max(rho, 0.0), 0.95))
    return tuple(out)


def long_run_factor(autocorr: Sequence[float]) -> float:
    """How much day-to-day persistence inflates the variance of a sum of days."""
    return 1.0 + 2.0 * sum(autocorr)


def history_profile(cycles: Sequence[Sequence[DayUse]]) -> HistoryProfile:
    """Summarise earlier cycles (oldest first, whole days only) into a prior."""
    usable = [full_days(days) for days in cycles]
    usable = [days for days in usable if len(days) >= 7]
    if not usable:
        return HistoryProfile()
    weekday = weekday_factors(usable)
    rates: list[float] = []
    noise: list[float] = []
    excess: list[float] = []
    ceilings: list[float] = []
    series: list[tuple[date, float]] = []
    for days in usable:
        norm, exc, ceil_ratio = _cycle_stats(days, weekday)
        rates.append(statistics.fmean(norm))
        noise.append(statistics.variance(norm))
        excess.extend(exc)
        ceilings.append(ceil_ratio)
        series.extend((d.day, y) for d, y in zip(days, norm, strict=True))
    autocorr = autocorrelation([y for _, y in series])
    noise_var = statistics.fmean(noise)
    expected_spread = noise_var * long_run_factor(autocorr) / CYCLE_DAYS
    weights = [HISTORY_DECAY ** (len(rates) - 1 - i) for i in range(len(rates))]
    prior = sum(w * r for w, r in zip(weights, rates, strict=True)) / sum(weights)
    spread = statistics.variance(rates) if len(rates) >= 3 else (0.3 * prior) ** 2
    return HistoryProfile(
        weekday=weekday,
        prior_rate=prior,
        prior_var=max(spread, (0.1 * prior) ** 2),
        noise_var=noise_var,
        spike_rate=statistics.fmean(excess),
        spike_var=statistics.fmean(e * e for e in excess),
        ceiling_ratio=statistics.median(ceilings),
        cycles=len(rates),
        rates=tuple(rates),
        series=tuple(series),
        autocorr=autocorr,
        drift_var=max(spread - expected_spread, 0.0) if len(rates) >= 3 else 0.0,
    )
