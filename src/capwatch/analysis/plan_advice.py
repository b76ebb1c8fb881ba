"""Where the use outside a free window went (pure): the busiest stretch of the local day.

From an allowance's stored series (its cumulative figure, newest of each half hour) the bytes
between two figures are spread evenly over the part of that time outside the windows (the
figure only counts traffic outside them), and summed by the local clock's half hour. The
stretch of ``hours`` with the most is the use that, moved into the free window, would not have
counted. Nothing is said when the series is empty or no stretch stands out (``min_share``):
with even use every three hours of the day hold the same and there is nothing to move.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo

from capwatch.analysis.windows import Window, window_spans
from capwatch.models import BusyStretch, as_utc

_SLOT = timedelta(minutes=30)
_BINS = 48


def _outside(
    start: datetime, end: datetime, windows: Sequence[Window], zone: tzinfo
) -> list[tuple[datetime, datetime]]:
    """The parts of [start, end) when no window is open."""
    out, at = [], start
    for lo, hi in window_spans(windows, zone, start, end):
        if lo > at:
            out.append((at, lo))
        at = max(at, hi)
    if at < end:
        out.append((at, end))
    return out


def _slot_end(at: datetime) -> datetime:
    seconds = int(at.timestamp())
    return datetime.fromtimestamp(seconds - seconds % 1800, UTC) + _SLOT


def clock_bins(
    samples: Sequence[tuple[datetime, int]],
    cycle_start: datetime,
    windows: Sequence[Window],
    zone: tzinfo,
) -> list[float]:
    """Bytes counted outside the windows by local half hour of the day (48 bins)."""
    bins = [0.0] * _BINS
    prev_t, prev_u = as_utc(cycle_start), 0
    for t, used in samples:
        t = as_utc(t)
        added = used - prev_u
        if added > 0 and t > prev_t:
            parts = _outside(prev_t, t, windows, zone)
            total = sum((hi - lo).total_seconds() for lo, hi in parts)
            for lo, hi in parts:
                at = lo
                while at < hi:
                    nxt = min(_slot_end(at), hi)
                    local = at.astimezone(zone)
                    share = (nxt - at).total_seconds() / total
                    bins[(local.hour * 60 + local.minute) // 30] += added * share
                    at = nxt
        if t > prev_t:
            prev_t, prev_u = t, max(used, prev_u)
    return bins


def busiest_outside(
    samples: Sequence[tuple[datetime, int]],
    cycle_start: datetime,
    windows: Sequence[Window],
    zone: tzinfo,
    *,
    hours: int = 3,
    min_share: float = 0.2,
) -> BusyStretch | None:
    """The ``hours`` of the local day that counted most outside the windows, if they hold at
    least ``min_share`` of all that counted (None otherwise, or without windows or use)."""
    if not windows or not samples:
        return None
    bins = clock_bins(samples, cycle_start, windows, zone)
    total = sum(bins)
    if total <= 0:
        return None
    width = hours * 2
    best, best_at = -1.0, 0
    for first in range(_BINS):
        got = sum(bins[(first + i) % _BINS] for i in range(width))
        if got > best:
            best, best_at = got, first
    if best < min_share * total:
        return None
    # trim empty half hours at the ends (the window's own, where nothing counted)
    lo, hi = best_at, best_at + width
    while hi - lo > 1 and bins[lo % _BINS] <= 0:
        lo += 1
    while hi - lo > 1 and bins[(hi - 1) % _BINS] <= 0:
        hi -= 1
    start = (lo % _BINS) * 30
    end = start + (hi - lo) * 30
    return BusyStretch(
        start, end if end <= 1440 else end - 1440, round(best), windows[0].start_minute
    )
