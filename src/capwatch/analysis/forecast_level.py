"""The household's daily level for the rest of a cycle, and how far to trust it.

Three steps, each from a principle rather than from constants fitted to a set of traces:

- **Prior against this cycle.** The earlier cycles' recency-weighted mean (half-life 60 days,
  about two cycles) and this cycle's mean are blended by their precision: the prior's variance
  is its sampling noise plus the drift between cycles beyond what noise explains, this cycle's
  is the long-run (persistence-inflated) day-to-day variance over the days seen. So the prior
  fades as the days accumulate, and late in a cycle the forecast is ``used + this cycle's rate
  x days left``.
- **A change of regime.** Whether the days from some day of this cycle on run at a new level
  is weighed by Bayes: a lasting change of habit is expected about once a year (a prior of
  1/365 per day) and to be of the order of the level itself; the evidence compares the median
  of the days from the split on with the prior and the median of this cycle's days before it,
  against the household's long-run day-to-day variance (or, if larger, what this cycle's days
  show around the two regimes). The level is the two models' mixture by their posterior
  weights, the change model's being the mean of the recent days alone, and the mixture's
  spread goes into the level's variance. Medians make one download, or days away that are
  over, no regime; the drift between cycles is part of the prior's variance, so an ordinary
  month-to-month wobble is not taken for a change. Late in a cycle after a change, the
  forecast is ``used + the recent regime's rate x days left``.
- **A change still to come.** The same prior says a change may yet come in the days left: on
  each remaining day with probability 1/365, of a size of the order of the level, moving every
  day after it. Its variance, ``level^2 / 365 x sum over the days left of (days after it)^2``,
  goes into the interval (not the expected value: a change is as likely up as down), so the
  interval is wide enough early in a cycle for habits that change, and narrows as the days
  left run out.
- **Calibration on the household's own past.** The same estimator is replayed on the
  household's earlier cycles (cut at days 3, 7, 14 and 21, with the cycles before each as its
  history) and the standardised errors of those replays give the scale of the interval
  (conformal-style): ``scale^2 = (K0 + sum z^2) / (K0 + n)``, shrunk towards a calibrated
  model (scale 1) by K0 = 4 pseudo-errors, one cycle's worth of cuts. The replays can widen the
  interval but not narrow it below the model's own width: they run on whole days and miss
  what the live meter adds (lag, rounding, a partly seen day), so they understate its errors.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from capwatch.analysis.forecast_prep import DayUse
from capwatch.analysis.forecast_stats import (
    HistoryProfile,
    ceiling,
    full_days,
    long_run_factor,
)
from capwatch.models import RegimeShift

LEVEL_HALF_LIFE_DAYS = 60.0
DEFAULT_AUTOCORR = (0.4, 0.2, 0.1)
FALLBACK_DRIFT_CV = 0.15  # cycle-to-cycle drift assumed until three cycles show it
MIN_DAILY_CV = 0.1  # no household is steadier than this from day to day
CHANGE_PER_DAY = 1 / 365  # a household changes its habits about once a year
MIN_RECENT_DAYS = 3  # a regime needs three whole days: a median of two is a mean
MEDIAN_VAR = math.pi / 2
CALIBRATION_CUTS = (3, 7, 14, 21)
CALIBRATION_PSEUDO = 4.0
MAX_SCALE = 3.0


@dataclass(frozen=True, slots=True)
class Rate:
    """The level (bytes/day, weekday-normalised), its variance, and what carries forward."""

    mean: float
    mean_var: float
    noise_var: float
    deviation: float
    autocorr: tuple[float, ...]
    shift: RegimeShift | None = None


def weighted(
    series: Sequence[tuple[date, float]], last_day: date, half_life: float = LEVEL_HALF_LIFE_DAYS
) -> tuple[float, float]:
    """Recency-weighted mean and effective count of a daily series."""
    ws = [0.5 ** ((last_day - d).days / half_life) for d, _ in series]
    sw = sum(ws)
    mean = sum(w * y for w, (_, y) in zip(ws, series, strict=True)) / sw
    return mean, sw * sw / sum(w * w for w in ws)


def trim_current(days: Sequence[DayUse], profile: HistoryProfile) -> list[tuple[date, float]]:
    """This cycle's whole days, spikes trimmed, divided by the weekday factors."""
    whole = [d for d in days if d.fraction >= 0.999]
    if len(whole) >= 5:
        top = ceiling([d.used for d in whole])
    elif profile.prior_rate is not None and profile.ceiling_ratio is not None:
        top = profile.prior_rate * profile.ceiling_ratio
    else:
        top = math.inf
    return [(d.day, min(d.used, top) / profile.weekday[d.day.weekday()]) for d in whole]


def change_point(
    prior: tuple[float, float] | None, current: Sequence[float], noise_var: float, lrf: float
) -> tuple[int, float] | None:
    """The likeliest first day of a new regime in ``current`` and the probability that there is
    one (Bayesian: a lasting change is expected about once a year, i.e. a prior of 1/365 per
    day, and its size is of the order of the level itself); None when there is no candidate.

    ``prior`` is (mean, variance) of the earlier cycles' level; ``noise_var`` the household's
    day-to-day variance and ``lrf`` how persistence inflates it over several days. Each
    candidate split compares the median of the days from it on (a regime is what most of them
    show, so one download day is not one; the median's variance is pi/2 times the mean's) with
    the precision-weighted mean of the prior and the median of this cycle's days before it
    (medians on both sides, so days away are not a regime once they are over). The noise that
    judges a split is the larger of the household's usual noise and what this cycle's days
    show around the two regimes (a two-sample t-test with the history as its floor), so a
    cycle noisier than the household's past does not make its noise look like a change.
    """
    n = len(current)
    first = 1 if prior is not None else 3
    last = n - MIN_RECENT_DAYS
    if last < first:
        return None
    sums = [0.0]
    squares = [0.0]
    for y in current:
        sums.append(sums[-1] + y)
        squares.append(squares[-1] + y * y)
    best_bf, best_k, total_bf = 0.0, first, 0.0
    for k in range(first, last + 1):
        m = n - k
        s_before = squares[k] - sums[k] ** 2 / k
        s_after = squares[n] - squares[k] - (sums[n] - sums[k]) ** 2 / m
        resid = (s_before + s_after) / max(n - 2, 1)
        lrv = max(noise_var, resid) * lrf
        before = [(statistics.median(current[:k]), MEDIAN_VAR * lrv / k)]
        if prior is not None:
            before.append(prior)
        precision = sum(1.0 / max(v, 1.0) for _, v in before)
        mean_b = sum(mu / max(v, 1.0) for mu, v in before) / precision
        recent = statistics.median(current[k:])
        s2 = MEDIAN_VAR * lrv / m + 1.0 / precision
        tau2 = max(mean_b, 1.0) ** 2
        z2 = (recent - mean_b) ** 2 / s2
        bf = math.sqrt(s2 / (s2 + tau2)) * math.exp(min(0.5 * z2 * tau2 / (s2 + tau2), 700.0))
        total_bf += bf
        if bf > best_bf:
            best_bf, best_k = bf, k
    odds = CHANGE_PER_DAY * total_bf / (1.0 - CHANGE_PER_DAY * (last - first + 1))
    return best_k, odds / (1.0 + odds)


def estimate_rate(
    current: Sequence[tuple[date, float]],
    history: Sequence[tuple[date, float]],
    profile: HistoryProfile,
    last_day: date,
    half_life: float = LEVEL_HALF_LIFE_DAYS,
) -> Rate | None:
    """The level from this cycle's normalised days and the earlier cycles' (see module doc)."""
    everything = [*history, *current]
    if not everything:
        return None
    pooled, _ = weighted(everything, last_day)
    noise_var = profile.noise_var
    if noise_var is None:
        ys = [y for _, y in everything]
        spread = statistics.variance(ys) if len(ys) > 1 else 0.0
        noise_var = max(spread, (0.5 * pooled) ** 2)
    noise_var = max(noise_var, (MIN_DAILY_CV * pooled) ** 2)
    autocorr = profile.autocorr or DEFAULT_AUTOCORR
    lrv = noise_var * long_run_factor(autocorr)
    prior: tuple[float, float] | None = None
    if history:
        mean_h, n_h = weighted(history, last_day, half_life)
        drift = profile.drift_var if profile.cycles >= 3 else (FALLBACK_DRIFT_CV * mean_h) ** 2
        prior = (mean_h, lrv / n_h + drift)
    ys = [y for _, y in current]
    estimates: list[tuple[float, float]] = []
    if prior is not None:
        estimates.append(prior)
    if ys:
        estimates.append((statistics.fmean(ys), lrv / len(ys)))
    precision = sum(1.0 / max(v, 1.0) for _, v in estimates)
    mean = sum(m / max(v, 1.0) for m, v in estimates) / precision
    mean_var = 1.0 / precision
    shift = None
    found = change_point(prior, ys, noise_var, long_run_factor(autocorr))
    if found is not None:
        split, weight = found
        recent = ys[split:]
        mean_r = statistics.fmean(recent)
        var_r = lrv / len(recent)
        mixed = weight * mean_r + (1 - weight) * mean
        mean_var = weight * (var_r + (mean_r - mixed) ** 2) + (1 - weight) * (
            mean_var + (mean - mixed) ** 2
        )
        if weight >= 0.5:
            shift = _shift(current, split, mean_r, prior)
        mean = mixed
    deviation = ys[-1] - mean if ys else 0.0
    return Rate(mean, mean_var, noise_var, deviation, autocorr, shift)


def _shift(
    current: Sequence[tuple[date, float]],
    split: int,
    recent: float,
    prior: tuple[float, float] | None,
) -> RegimeShift | None:
    """The detected change as people read it: the new regime's rate against this cycle's days
    before it, or against the household's usual level when fewer than three days came before
    (one or two days are not a "before" anyone would compare with)."""
    before_days = [y for _, y in current[:split]]
    if len(before_days) >= MIN_RECENT_DAYS or prior is None:
        before, against = statistics.fmean(before_days), "cycle"
    else:
        before, against = prior[0], "usual"
    if before <= 0:
        return None
    return RegimeShift(current[split][0], recent / before, round(before), round(recent), against)


def normalised(days: Sequence[DayUse], weekday: Sequence[float]) -> list[tuple[date, float]]:
    """An earlier cycle's whole days, spikes trimmed, divided by the weekday factors."""
    whole = full_days(days)
    if not whole:
        return []
    top = ceiling([d.used for d in whole])
    return [(d.day, min(d.used, top) / weekday[d.day.weekday()]) for d in whole]


def remaining_moments(
    rate: Rate, profile: HistoryProfile, pieces: Sequence[tuple[int, float]]
) -> tuple[float, float]:
    """Expected use over the remaining day ``pieces`` (weekday, fraction) and its variance."""
    shaped = sum(frac * profile.weekday[wd] for wd, frac in pieces)
    days = sum(frac for _, frac in pieces)
    persist = sum(rate.autocorr[: max(int(days), 0)])
    expected = rate.mean * shaped + rate.deviation * persist + profile.spike_rate * days
    noise = rate.noise_var * long_run_factor(rate.autocorr)
    var = (
        rate.mean_var * shaped**2
        + noise * sum(frac * profile.weekday[wd] ** 2 for wd, frac in pieces)
        + profile.spike_var * days
        + future_change_var(rate.mean, days)
    )
    return expected, var


def future_change_var(level: float, days: float) -> float:
    """Variance from a change of habit that may still come in the ``days`` left: the same prior
    as the change-point test (1/365 per day, a size of the order of the level), a change on
    day j moving the days after it."""
    whole = int(days)
    return CHANGE_PER_DAY * level * level * sum((days - j) ** 2 for j in range(whole))


def _replay(
    cycles: Sequence[Sequence[DayUse]],
    norm: Sequence[Sequence[tuple[date, float]]],
    profile: HistoryProfile,
    half_life: float,
) -> tuple[float, int, float]:
    """Replays on earlier cycles: (sum of squared standardised errors, count, squared error)."""
    z2 = sq = 0.0
    count = 0
    for c in range(1, len(cycles)):
        history = [p for cycle in norm[:c] for p in cycle]
        for cut in CALIBRATION_CUTS:
            if cut >= len(cycles[c]) - 1:
                continue
            rate = estimate_rate(norm[c][:cut], history, profile, cycles[c][cut - 1].day, half_life)
            if rate is None:
                continue
            rest = cycles[c][cut:]
            expected, var = remaining_moments(rate, profile, [(d.day.weekday(), 1.0) for d in rest])
            if var <= 0:
                continue
            err = sum(d.used for d in rest) - expected
            z2 += err * err / var
            sq += err * err
            count += 1
    return z2, count, sq


def calibration_scale(past_days: Sequence[Sequence[DayUse]], profile: HistoryProfile) -> float:
    """How much wider than its model says the interval should be, for this household: the rms
    of the standardised errors of replays on its earlier cycles, shrunk to 1 (see module doc).
    """
    cycles = [full_days(d) for d in past_days]
    cycles = [d for d in cycles if len(d) >= 7]
    norm = [normalised(d, profile.weekday) for d in cycles]
    z2, count, _ = _replay(cycles, norm, profile, LEVEL_HALF_LIFE_DAYS)
    scale = math.sqrt((CALIBRATION_PSEUDO + z2) / (CALIBRATION_PSEUDO + count))
    return min(max(scale, 1.0), MAX_SCALE)
