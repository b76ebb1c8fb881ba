"""Billing cycles: which cycle holds an instant, and the cycles around it (pure).

A cycle starts at local midnight of the *anchor* day in the account's time zone and ends
(exclusive) at the next cycle's start. The anchor is clamped to the month's last day, so an
anchor of 31 starts cycles on Jan 31, Feb 28 (29 in leap years), Mar 31, Apr 30, ...

Daylight saving time: a cycle boundary is the first instant of the anchor day on the local
clock. When local midnight exists once, that is it. When it exists twice (clocks go back over
midnight) the earlier one is taken. When it does not exist (clocks jump forward over midnight,
as in Chile, Cuba or Paraguay) the boundary is the transition instant itself: the first moment
whose local date is the anchor day.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from capwatch.models import Cycle, as_utc

__all__ = ["CycleRule", "cycle_from_dates", "local_midnight", "next_cycle", "span_of"]

_ONE_SECOND = timedelta(seconds=1)


def local_midnight(day: date, tz: tzinfo) -> datetime:
    """Return the first instant (aware UTC) whose local date in ``tz`` is ``day``."""
    naive = datetime.combine(day, time())
    early = naive.replace(tzinfo=tz, fold=0)
    utc = early.astimezone(UTC)
    back = utc.astimezone(tz)
    if back.replace(tzinfo=None) == naive:
        return utc  # midnight exists; fold=0 is the earlier of two when ambiguous
    # Midnight falls in a gap: the day begins at the transition. Search between the two
    # readings of the missing wall time (offset after, offset before) for the first instant
    # whose local date is ``day``.
    low = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    high = utc
    if low > high:
        low, high = high, low
    while high - low > _ONE_SECOND:
        mid = low + (high - low) / 2
        mid = mid.replace(microsecond=0)
        if mid <= low:
            break
        if mid.astimezone(tz).date() >= day:
            high = mid
        else:
            low = mid
    return high


def _month_add(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


@dataclass(frozen=True)
class CycleRule:
    """How an account's billing cycles fall: anchor day of month (None = 1) and time zone."""

    start_day: int | None
    timezone: tzinfo

    def __post_init__(self) -> None:
        day = self.start_day
        if day is not None and (isinstance(day, bool) or not 1 <= day <= 31):
            raise ValueError(f"cycle start_day must be 1..31 or None, got {day!r}")
        if not isinstance(self.timezone, tzinfo):
            raise ValueError(f"cycle timezone must be a tzinfo, got {self.timezone!r}")

    @property
    def anchor(self) -> int:
        """The anchor day of month (1 for a calendar month)."""
        return self.start_day or 1

    def _anchor_date(self, year: int, month: int) -> date:
        last = calendar.monthrange(year, month)[1]
        return date(year, month, min(self.anchor, last))

    def _boundary(self, year: int, month: int) -> datetime:
        return local_midnight(self._anchor_date(year, month), self.timezone)

    def _cycle_of_month(self, year: int, month: int) -> Cycle:
        ny, nm = _month_add(year, month, 1)
        return Cycle(self._boundary(year, month), self._boundary(ny, nm))

    def cycle_at(self, instant: datetime) -> Cycle:
        """Return the cycle holding the aware ``instant`` (start inclusive, end exclusive)."""
        utc = as_utc(instant)
        local = utc.astimezone(self.timezone)
        year, month = local.year, local.month
        if utc < self._boundary(year, month):
            year, month = _month_add(year, month, -1)
        # Guard against odd clocks (a fold right at a boundary): step until it fits.
        for _ in range(3):
            cycle = self._cycle_of_month(year, month)
            if utc < cycle.start:
                year, month = _month_add(year, month, -1)
            elif utc >= cycle.end:
                year, month = _month_add(year, month, 1)
            else:
                return cycle
        return self._cycle_of_month(year, month)

    def following(self, cycle: Cycle) -> Cycle:
        """Return the cycle right after ``cycle`` (its start is ``cycle.end``)."""
        return self.cycle_at(cycle.end)

    def preceding(self, cycle: Cycle) -> Cycle:
        """Return the cycle right before ``cycle`` (its end is ``cycle.start``)."""
        return self.cycle_at(as_utc(cycle.start) - timedelta(microseconds=1))

    def cycles_between(self, start: datetime, end: datetime) -> list[Cycle]:
        """Return, in order, every cycle overlapping the half-open span ``[start, end)``."""
        first, last = as_utc(start), as_utc(end)
        if last <= first:
            return []
        cycles = [self.cycle_at(first)]
        while cycles[-1].end < last:
            cycles.append(self.following(cycles[-1]))
        return cycles

    def day_index(self, instant: datetime) -> int:
        """Return the 0-based local day of ``instant`` within its cycle."""
        cycle = self.cycle_at(instant)
        today = as_utc(instant).astimezone(self.timezone).date()
        return (today - cycle.start.astimezone(self.timezone).date()).days

    def local_days(self, cycle: Cycle) -> list[date]:
        """Return the local dates of ``cycle``, first to last."""
        first = as_utc(cycle.start).astimezone(self.timezone).date()
        stop = as_utc(cycle.end).astimezone(self.timezone).date()
        return [first + timedelta(days=i) for i in range((stop - first).days)]


def span_of(rule: CycleRule, start: datetime, end: datetime | None) -> Cycle:
    """The span of a stored cycle starting at ``start``: its recorded ``end`` when known, else
    the configured rule's cycle (when ``start`` is one of its boundaries), else a month from
    ``start``'s local day (an ISP's own billing day).
    """
    start = as_utc(start)
    if end is not None and as_utc(end) > start:
        return Cycle(start, as_utc(end))
    calendar = rule.cycle_at(start)
    if calendar.start == start:
        return calendar
    return CycleRule(start.astimezone(rule.timezone).day, rule.timezone).cycle_at(start)


def next_cycle(rule: CycleRule, cycle: Cycle) -> Cycle:
    """The cycle after ``cycle``: the rule's, a month on from an ISP's billing day, or a cycle
    of the same length (mobile plans' 28 days).
    """
    if rule.cycle_at(cycle.start) == cycle:
        return rule.following(cycle)
    zone = rule.timezone
    monthly = CycleRule(as_utc(cycle.start).astimezone(zone).day, zone)
    if monthly.cycle_at(cycle.start) == cycle:
        return monthly.following(cycle)
    first, stop = as_utc(cycle.start).astimezone(zone), as_utc(cycle.end).astimezone(zone)
    if first.time() == stop.time() == time():
        days = (stop.date() - first.date()).days
        return Cycle(cycle.end, local_midnight(stop.date() + timedelta(days=days), zone))
    return Cycle(cycle.end, cycle.end + (cycle.end - cycle.start))


def cycle_from_dates(start: date, end_inclusive: date, tz: tzinfo) -> Cycle:
    """Build a cycle from an ISP's inclusive local date range (end becomes next midnight)."""
    if end_inclusive < start:
        raise ValueError(
            f"cycle range ends before it starts: {start.isoformat()} to {end_inclusive.isoformat()}"
        )
    return Cycle(local_midnight(start, tz), local_midnight(end_inclusive + timedelta(days=1), tz))
