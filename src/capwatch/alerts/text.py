"""Human units for alert texts: decimal GB/TB as ISPs count, local dates."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo


def fmt_bytes(n: int | float) -> str:
    """``1.13 TB``, ``512 GB``, ``3.4 GB``, ``120 MB`` (decimal units, as caps are sold)."""
    value = float(n)
    if abs(value) >= 1e12:
        return f"{value / 1e12:.2f} TB"
    if abs(value) >= 1e11:
        return f"{value / 1e9:.0f} GB"
    if abs(value) >= 1e9:
        return f"{value / 1e9:.1f} GB"
    return f"{value / 1e6:.0f} MB"


def fmt_range(low: int, high: int) -> str:
    """``1.05–1.21 TB`` when both ends share a unit, else both spelled out."""
    a, b = fmt_bytes(low), fmt_bytes(high)
    unit_a, unit_b = a.split()[1], b.split()[1]
    if unit_a == unit_b:
        return f"{a.split()[0]}–{b}"
    return f"{a}–{b}"


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
