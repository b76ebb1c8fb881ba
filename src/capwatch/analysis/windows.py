"""Time-of-day accounting (pure): which instants lie in a plan's windows, and how a counter
source's bytes between two polls split across them.

A window is wall-clock time in the account's zone (02:00-08:00 every day); it opens the first
instant the wall clock reads its start and closes the first instant it reads its end, so on
the night the clocks change it lasts what the clock says: a 02:00-08:00 window is 5 real hours
in New York on 8 March 2026 (02:00 never shows; it opens at the change, 03:00 EDT) and 7 in
Sydney on 5 April 2026 (02:00 shows twice; it opens at the first). A counter's bytes between two
polls are spread evenly over that time (a counter cannot say when within the interval they
passed) and split in proportion to the time inside and outside the windows; the bytes of one
interval come from :func:`capwatch.analysis.counters.advance`, so wraps, reboots, resets and
cycle boundaries are counted exactly as the cycle's total is.

A flow source knows when its bytes passed: each flow's bytes are spread evenly over its own
[start, end] and kept per quarter hour (:func:`spread_over_slots`, :data:`SLOT`, aligned on the
Unix epoch, so on every zone's quarter hours); :func:`slots_split` splits those quarter hours
across the windows, exactly for windows that open and close on a quarter hour (a window edge
within one is met by spreading that quarter hour's bytes evenly over it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from capwatch.models import CounterSample, CounterState, Cycle, as_utc

__all__ = [
    "SLOT",
    "Window",
    "WindowSplit",
    "interval_bytes",
    "local_to_utc",
    "slot_start",
    "slots_split",
    "split_interval",
    "spread_over_slots",
    "window_spans",
    "window_usage",
]

_US = timedelta(microseconds=1)
_ZERO = timedelta(0)
SLOT = timedelta(minutes=15)
"""The resolution flow bytes are kept at in time (every zone's offset is whole quarter hours)."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Window:
    """A weekly window: it starts on ``weekdays`` (Monday 0) at ``start_minute`` after local
    midnight and ends ``end_minute`` after that same midnight (past 1440 on the next day)."""

    weekdays: frozenset[int]
    start_minute: int
    end_minute: int


@dataclass(frozen=True, slots=True)
class WindowSplit:
    """Bytes of an interval inside and outside the windows."""

    inside: int
    outside: int

    def counted(self, counts: str) -> int:
        """The part that counts against an allowance whose ``counts`` is all/outside/inside."""
        if counts == "inside":
            return self.inside
        if counts == "outside":
            return self.outside
        return self.inside + self.outside


def local_to_utc(day: date, minute: int, zone: tzinfo) -> datetime:
    """The first instant the wall clock in ``zone`` reads ``minute`` after midnight of ``day``
    (or later: a time the clocks skip maps to the instant they change)."""
    naive = datetime(day.year, day.month, day.day) + timedelta(minutes=minute)
    first = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == naive:
        return first  # exists (and if it shows twice, fold 0 is the first time)
    # a skipped time: the change lies between the two readings of it; find it to the second
    low = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
    high, offset_after = first, first.astimezone(zone).utcoffset()
    while high - low > timedelta(seconds=1):
        mid = low + (high - low) / 2
        if mid.astimezone(zone).utcoffset() == offset_after:
            high = mid
        else:
            low = mid
    return high.replace(microsecond=0) + (timedelta(seconds=1) if high.microsecond else _ZERO)


def window_spans(
    windows: Iterable[Window], zone: tzinfo, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The UTC spans within [start, end) when any window is open, merged and ascending."""
    start, end = as_utc(start), as_utc(end)
    if end <= start:
        return []
    first_day = start.astimezone(zone).date() - timedelta(days=2)  # windows begun earlier
    last_day = end.astimezone(zone).date()
    raw: list[tuple[datetime, datetime]] = []
    for window in windows:
        day = first_day
        while day <= last_day:
            if day.weekday() in window.weekdays:
                opens = local_to_utc(day, window.start_minute, zone)
                closes = local_to_utc(day, window.end_minute, zone)
                lo, hi = max(opens, start), min(closes, end)
                if lo < hi:
                    raw.append((lo, hi))
            day += timedelta(days=1)
    raw.sort()
    merged: list[tuple[datetime, datetime]] = []
    for lo, hi in raw:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def split_interval(
    nbytes: int, start: datetime, end: datetime, windows: Sequence[Window], zone: tzinfo
) -> WindowSplit:
    """Split ``nbytes`` spread evenly over [start, end) into the parts inside and outside the
    windows, in proportion to time (to the microsecond; the parts add up to ``nbytes``)."""
    nbytes = max(int(nbytes), 0)
    start, end = as_utc(start), as_utc(end)
    total_us = (end - start) // _US
    if nbytes == 0:
        return WindowSplit(0, 0)
    if total_us <= 0:
        # no time to spread over (two polls at one instant): the instant decides
        open_now = bool(window_spans(windows, zone, end, end + _US))
        return WindowSplit(nbytes, 0) if open_now else WindowSplit(0, nbytes)
    inside_us = sum((hi - lo) // _US for lo, hi in window_spans(windows, zone, start, end))
    inside = nbytes * inside_us // total_us
    return WindowSplit(inside, nbytes - inside)


def interval_bytes(
    before: Mapping[str, CounterState], after: Mapping[str, CounterState], cycle: Cycle
) -> list[tuple[datetime, datetime, int]]:
    """(since, until, bytes) each counter added to ``cycle`` between two polls' states: the
    difference of its ``cycle_bytes``, over the time since its last poll (from the cycle's
    start when that poll was in an earlier cycle). A counter seen for the first time adds 0."""
    out: list[tuple[datetime, datetime, int]] = []
    for key, new in after.items():
        old = before.get(key)
        if old is None or as_utc(new.cycle_start) != cycle.start:
            continue
        if as_utc(old.cycle_start) > cycle.start:
            continue
        same_cycle = as_utc(old.cycle_start) == cycle.start
        added = new.cycle_bytes - (old.cycle_bytes if same_cycle else 0)
        if added <= 0:
            continue
        since = max(as_utc(old.observed_at), cycle.start)
        out.append((since, as_utc(new.observed_at), added))
    return out


def window_usage(
    before: Mapping[str, CounterState],
    samples: Sequence[CounterSample],
    observed_at: datetime,
    cycle: Cycle,
    windows: Sequence[Window],
    zone: tzinfo,
    *,
    max_rate_bps: float | None = None,
) -> tuple[WindowSplit, dict[str, CounterState]]:
    """One poll of a counter source, split: the bytes it adds to ``cycle`` inside and outside
    the windows, and the counters' new states (as :func:`~capwatch.analysis.counters.advance`)."""
    from capwatch.analysis.counters import advance

    _total, after = advance(before, samples, observed_at, cycle, max_rate_bps=max_rate_bps)
    inside = outside = 0
    for since, until, added in interval_bytes(before, after, cycle):
        part = split_interval(added, since, until, windows, zone)
        inside += part.inside
        outside += part.outside
    return WindowSplit(inside, outside), after


def slot_start(at: datetime) -> datetime:
    """The start of the quarter hour (aligned on the Unix epoch) that holds ``at``."""
    at = as_utc(at)
    return at - (at - _EPOCH) % SLOT


def spread_over_slots(nbytes: int, start: datetime, end: datetime) -> dict[datetime, int]:
    """``nbytes`` spread evenly over [start, end], per quarter hour (the parts add up to
    ``nbytes``); a flow of one instant lands whole in its quarter hour."""
    nbytes = max(int(nbytes), 0)
    start, end = as_utc(start), as_utc(end)
    if nbytes == 0:
        return {}
    if end <= start:
        return {slot_start(start): nbytes}
    total_us = (end - start) // _US
    out: dict[datetime, int] = {}
    given = 0
    slot = slot_start(start)
    while slot < end:
        upto = min(slot + SLOT, end)
        # cumulative rounding: what has passed by ``upto``, less what was already given
        passed = nbytes * ((upto - start) // _US) // total_us
        if passed > given:
            out[slot] = passed - given
            given = passed
        slot += SLOT
    return out


def slots_split(
    slots: Mapping[datetime, int], windows: Sequence[Window], zone: tzinfo
) -> WindowSplit:
    """The bytes of quarter hours (keyed by their start) inside and outside the windows, each
    quarter hour's bytes split in proportion to its time in them."""
    if not slots:
        return WindowSplit(0, 0)
    ordered = sorted((as_utc(at), n) for at, n in slots.items())
    spans = window_spans(windows, zone, ordered[0][0], ordered[-1][0] + SLOT)
    slot_us = SLOT // _US
    inside = total = 0
    i = 0
    for at, nbytes in ordered:
        until = at + SLOT
        while i < len(spans) and spans[i][1] <= at:
            i += 1
        open_us = 0
        j = i
        while j < len(spans) and spans[j][0] < until:
            open_us += (min(spans[j][1], until) - max(spans[j][0], at)) // _US
            j += 1
        inside += nbytes * open_us // slot_us
        total += nbytes
    return WindowSplit(inside, total - inside)
