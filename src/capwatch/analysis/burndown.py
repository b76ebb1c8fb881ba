"""Burndown series ready for charts: ideal and actual remaining, pro-rata and alarm lines.

The ideal line runs from the cap at cycle start to 0 at cycle end (remaining space); the
pro-rata 100% line and the alarm line (xfinity-monitor's) run in used-space terms from 0 to the
cap and to ``alarm_percent`` of it. Daily bars are per local day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from capwatch.analysis.forecast_prep import clean_samples
from capwatch.models import Cycle

Sample = tuple[datetime, int]
Point = tuple[datetime, int]


@dataclass(frozen=True, slots=True)
class Burndown:
    """Series of one cycle; the cap-bound ones are empty when the cap is unlimited."""

    ideal_remaining: list[Point]
    actual_remaining: list[Point]
    actual_used: list[Point]
    prorata_line: list[Point]
    alarm_line: list[Point]
    alarm_percent: float
    daily: list[tuple[date, int]]


def burndown(
    samples: Sequence[Sample],
    cycle: Cycle,
    cap_bytes: int | None,
    alarm_percent: float = 90,
    tz: tzinfo | None = None,
) -> Burndown:
    """Series for a burndown chart of ``cycle`` (a meter going backwards is held at its max)."""
    if not 0 < alarm_percent <= 100:
        raise ValueError(f"burndown: alarm_percent must be in (0, 100], got {alarm_percent}")
    used = clean_samples(samples, cycle.start, cycle.end - timedelta(microseconds=1))
    daily = daily_usage(samples, cycle, tz)
    if cap_bytes is None:
        return Burndown([], [], used, [], [], alarm_percent, daily)
    ends = (cycle.start, cycle.end)
    return Burndown(
        ideal_remaining=[(cycle.start, cap_bytes), (cycle.end, 0)],
        actual_remaining=[(t, max(cap_bytes - u, 0)) for t, u in used],
        actual_used=used,
        prorata_line=[(ends[0], 0), (ends[1], cap_bytes)],
        alarm_line=[(ends[0], 0), (ends[1], int(cap_bytes * alarm_percent / 100))],
        alarm_percent=alarm_percent,
        daily=daily,
    )


def daily_usage(
    samples: Sequence[Sample], cycle: Cycle, tz: tzinfo | None = None
) -> list[tuple[date, int]]:
    """Usage per local day from the cycle's first day to the last sample's (0 when idle).

    A day's usage is its last reading minus the previous day's last reading, so usage a lagging
    meter reports late shows on the day it was reported.
    """
    zone = tz or cycle.start.tzinfo
    if zone is None:
        raise ValueError(f"daily_usage: naive cycle start {cycle.start.isoformat()}")
    used = clean_samples(samples, cycle.start, cycle.end - timedelta(microseconds=1))
    if not used:
        return []
    last_by_day: dict[date, int] = {}
    for t, u in used:
        last_by_day[t.astimezone(zone).date()] = u
    day = cycle.start.astimezone(zone).date()
    final = used[-1][0].astimezone(zone).date()
    out: list[tuple[date, int]] = []
    previous = 0
    while day <= final:
        value = last_by_day.get(day, previous)
        out.append((day, value - previous))
        previous = value
        day += timedelta(days=1)
    return out
