"""The data behind the account page's burndown chart (one read of the current cycle)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any, TypeVar

from capwatch.models import CycleSummary
from capwatch.service.serialize import _iso
from capwatch.store.api import CYCLE_RESOLUTION, thin_indices

if TYPE_CHECKING:
    from capwatch.config import Settings
    from capwatch.store.api import Store

T = TypeVar("T")
DEFAULT_ALARM_PERCENT = 90.0


def downsample(points: Sequence[T], limit: int) -> list[T]:
    """Keep at most ``limit`` points, evenly spaced, always keeping the first and last."""
    return [points[i] for i in thin_indices(len(points), limit)]


def alarm_percent(settings: Settings, account: str) -> float:
    """The alarm line's level: the highest used-percent alert below 100 (else 90)."""
    levels = [p for p in settings.account(account).alerts.used_percent if p < 100]
    return float(max(levels)) if levels else DEFAULT_ALARM_PERCENT


def _points(series: Sequence[tuple[datetime, int]]) -> list[dict[str, Any]]:
    return [{"t": _iso(t), "bytes": int(b)} for t, b in series]


def burndown_payload(
    settings: Settings,
    store: Store,
    summary: CycleSummary,
    points: int,
    allowance: str | None = None,
) -> dict[str, Any]:
    """Series of the summary's cycle: used (downsampled), ideal, pro-rata, alarm, forecast;
    of one of the plan's allowances when ``allowance`` names one (KeyError if none is so named).
    On a plan with a free window each day says what of it fell in the window (``free_bytes``)."""
    from capwatch.web.plan_burndown import allowance_view, counted_by_day

    name, cycle = summary.account, summary.cycle
    zone = settings.account(name).cycle.zone
    rows = store.readings(name, cycle_start=cycle.start, every=CYCLE_RESOLUTION)
    samples = [(r.observed_at, r.used_bytes) for r in rows]
    series = store.allowance_usage(name, cycle.start) if summary.allowances else {}
    level = alarm_percent(settings, name)
    if allowance is not None:
        shown, own = allowance_view(summary, allowance, series, samples)
        out = burndown_dict(shown, own, level, zone, points)
        out["allowance"] = allowance
        return out
    out = burndown_dict(summary, samples, level, zone, points)
    counted = counted_by_day(summary, series, zone)
    if counted is not None:
        for day in out["daily"]:
            day["free_bytes"] = max(day["used_bytes"] - counted.get(day["day"], 0), 0)
    return out


def burndown_dict(
    summary: CycleSummary,
    samples: Sequence[tuple[datetime, int]],
    level: float,
    zone: tzinfo,
    points: int,
) -> dict[str, Any]:
    """The burndown payload of ``summary``'s cycle from its (time, bytes) samples (pure)."""
    from capwatch.analysis.burndown import burndown

    name, cycle = summary.account, summary.cycle
    kept = [(t, b) for t, b in samples if t <= summary.as_of]
    bd = burndown(kept, cycle, summary.cap_bytes, level, tz=zone)
    f = summary.forecast
    return {
        "account": name,
        "cycle": {"start": _iso(cycle.start), "end": _iso(cycle.end)},
        "as_of": _iso(summary.as_of),
        "cap_bytes": summary.cap_bytes,
        "alarm_percent": level,
        "used": _points(downsample(bd.actual_used, points)),
        "ideal_remaining": _points(bd.ideal_remaining),
        "prorata": _points(bd.prorata_line),
        "alarm": _points(bd.alarm_line),
        "forecast": None
        if f is None
        else {
            "at": _iso(cycle.end),
            "expected_bytes": f.expected_bytes,
            "low_bytes": f.low_bytes,
            "high_bytes": f.high_bytes,
            "level": f.level,
        },
        "daily": [{"day": d.isoformat(), "used_bytes": int(u)} for d, u in bd.daily],
    }
