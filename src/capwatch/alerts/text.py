"""Local dates for alert texts (sizes are written by :mod:`capwatch.units`, as everywhere)."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo


def fmt_end(end: datetime, tz: tzinfo) -> str:
    """The last local day of a cycle ending (exclusive) at ``end``, as ``Dec 1``-style text.

    A cycle ending at local midnight is named by the day it ends on, as ISPs do ("by Dec 1").
    """
    local = end.astimezone(tz)
    if local.hour == local.minute == local.second == 0:
        day = local.date()
    else:
        day = (local + timedelta(days=1)).date()
    return f"{day:%b} {day.day}"
