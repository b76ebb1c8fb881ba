"""Daily allowance ("X GB a day for the remaining N days") and pace ("112% of plan")."""

from __future__ import annotations

from datetime import datetime

from capwatch.models import Cycle

SECONDS_PER_DAY = 86400.0


def days_left(now: datetime, cycle: Cycle) -> float:
    """Days (fractional) from ``now`` to the cycle's end, never negative."""
    return max((cycle.end - now).total_seconds() / SECONDS_PER_DAY, 0.0)


def daily_allowance(used: int, cap: int | None, now: datetime, cycle: Cycle) -> int | None:
    """Bytes a day that keep the rest of the cycle under the cap; None if unlimited or over.

    The last partial day counts as one whole day (the allowance never exceeds what is left);
    once the cap is reached the allowance is 0; after the cycle's end it is None.
    """
    if cap is None:
        return None
    left = days_left(now, cycle)
    if left <= 0:
        return None
    remaining = max(cap - used, 0)
    return int(remaining / max(left, 1.0))


def pace(used: int, cap: int | None, now: datetime, cycle: Cycle) -> float | None:
    """Usage against the pro-rata plan (1.12 = running at 112% of plan); None if unknown."""
    if not cap:
        return None
    elapsed = (min(now, cycle.end) - cycle.start).total_seconds()
    if elapsed <= 0 or cycle.length_seconds <= 0:
        return None
    plan = cap * elapsed / cycle.length_seconds
    return used / plan
