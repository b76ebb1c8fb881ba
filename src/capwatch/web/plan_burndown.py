"""A plan's allowances on the account page's charts: an allowance's burndown (the account's
chart code, with the allowance's own series, size and forecast), and what of each day fell in
the free window (the daily bars shade it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, tzinfo

from capwatch.models import AllowanceSummary, AllowanceUsage, CycleSummary, Forecast


def _find(summary: CycleSummary, name: str) -> AllowanceSummary:
    for a in summary.allowances:
        if a.name == name:
            return a
    raise KeyError(name)


def allowance_view(
    summary: CycleSummary,
    name: str,
    series: Mapping[str, Sequence[AllowanceUsage]],
    samples: Sequence[tuple[datetime, int]],
) -> tuple[CycleSummary, list[tuple[datetime, int]]]:
    """The summary as the allowance ``name`` sees it (its size as the cap, its forecast) and
    its series: its own stored figures, or the account's for one counting all traffic. An
    allowance whose use cannot be known has an empty series and no forecast."""
    a = _find(summary, name)
    forecast = None
    if a.projected_bytes is not None:
        level = summary.forecast.level if summary.forecast is not None else 0.8
        forecast = Forecast(
            a.projected_bytes,
            a.projected_low_bytes if a.projected_low_bytes is not None else a.projected_bytes,
            a.projected_high_bytes if a.projected_high_bytes is not None else a.projected_bytes,
            level,
        )
    if not a.split_known:
        own: list[tuple[datetime, int]] = []
    elif a.counts == "all":
        own = list(samples)
    else:
        own = [(u.observed_at, u.used_bytes) for u in series.get(name, ())]
    shown = replace(
        summary, cap_bytes=a.size_bytes, forecast=forecast, used_bytes=a.used_bytes, allowances=()
    )
    return shown, own


def counted_by_day(
    summary: CycleSummary, series: Mapping[str, Sequence[AllowanceUsage]], zone: tzinfo
) -> dict[str, int] | None:
    """Per local day ("YYYY-MM-DD"), what counted outside the free window (the plan's first
    allowance counting "outside"), from the day's last figures; None without such an
    allowance or its series (the daily bars then have no free part)."""
    metered = next((a for a in summary.allowances if a.counts == "outside" and a.split_known), None)
    if metered is None or not series.get(metered.name):
        return None
    last: dict[str, int] = {}
    for u in series[metered.name]:
        last[u.observed_at.astimezone(zone).date().isoformat()] = u.used_bytes
    out, before = {}, 0
    for day in sorted(last):
        out[day] = last[day] - before
        before = last[day]
    return out
