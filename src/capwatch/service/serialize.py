"""Stable JSON shapes shared by `--json` output and the API (documented in the README)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from capwatch.models import AllowanceSummary, CycleSummary, PollLogEntry, Reading, RegimeShift
from capwatch.store.api import CycleRecord

SCHEMA_VERSION = 1


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def summary_to_dict(s: CycleSummary) -> dict[str, Any]:
    """A CycleSummary as JSON-ready data: bytes as integers, instants as UTC ISO 8601."""
    f = s.forecast
    return {
        "account": s.account,
        "status": s.status.value,
        "as_of": _iso(s.as_of),
        "cycle": {"start": _iso(s.cycle.start), "end": _iso(s.cycle.end)},
        "used_bytes": s.used_bytes,
        "cap_bytes": s.cap_bytes,
        "unlimited": s.unlimited,
        "remaining_bytes": s.remaining_bytes,
        "percent": round(s.percent, 2) if s.percent is not None else None,
        "forecast": None
        if f is None
        else {
            "expected_bytes": f.expected_bytes,
            "low_bytes": f.low_bytes,
            "high_bytes": f.high_bytes,
            "level": f.level,
            "method": f.method,
            "shift": None if f.shift is None else shift_to_dict(f.shift),
        },
        "daily_allowance_bytes": s.daily_allowance_bytes,
        "days_left": round(s.days_left, 3),
        "pace": round(s.pace, 4) if s.pace is not None else None,
        "overage_cost": s.overage_cost,
        "last_reading_at": _iso(s.last_reading_at),
        "last_success_at": _iso(s.last_success_at),
        "consecutive_failures": s.consecutive_failures,
        "last_error": s.last_error,
        "note": s.note,
        "allowances": [allowance_to_dict(a) for a in s.allowances],
    }


def allowance_to_dict(a: AllowanceSummary) -> dict[str, Any]:
    """One allowance of the plan as JSON-ready data (``used_bytes`` null: cannot be known)."""
    return {
        "name": a.name,
        "counts": a.counts,
        "windows": a.windows or None,
        "at_end": a.at_end,
        "slowdown_mbps": a.slowdown_mbps,
        "size_bytes": a.size_bytes,
        "base_bytes": a.base_bytes,
        "rollover_bytes": a.rollover_bytes,
        "topup_bytes": a.topup_bytes,
        "used_bytes": a.used_bytes,
        "remaining_bytes": a.remaining_bytes,
        "projected_bytes": a.projected_bytes,
        "projected_low_bytes": a.projected_low_bytes,
        "projected_high_bytes": a.projected_high_bytes,
        "overage_cost": a.overage_cost,
        "split_known": a.split_known,
        "note": a.note,
        "busiest_outside": None
        if a.busiest is None
        else {
            "from": _clock(a.busiest.start_minute),
            "to": _clock(a.busiest.end_minute),
            "bytes": a.busiest.bytes,
            "window_from": _clock(a.busiest.window_start_minute),
        },
    }


def _clock(minute: int) -> str:
    """Minutes after midnight as "HH:MM" ("24:00" is midnight at a stretch's end)."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def shift_to_dict(shift: RegimeShift) -> dict[str, Any]:
    """The change of regime a forecast followed, with the sentence every surface shows."""
    from capwatch.units import format_shift

    return {
        "since": shift.since.isoformat(),
        "ratio": round(shift.ratio, 3),
        "before_bytes_per_day": shift.before_bytes_per_day,
        "after_bytes_per_day": shift.after_bytes_per_day,
        "against": shift.against,
        "text": format_shift(shift),
    }


def reading_to_dict(r: Reading) -> dict[str, Any]:
    """A Reading as JSON-ready data."""
    return {
        "account": r.account,
        "observed_at": _iso(r.observed_at),
        "cycle_start": _iso(r.cycle_start),
        "used_bytes": r.used_bytes,
        "cap_bytes": r.cap_bytes,
        "source": r.source,
    }


def cycle_to_dict(c: CycleRecord, now: datetime | None = None) -> dict[str, Any]:
    """A cycle aggregate as JSON-ready data (``closed`` when ``now`` is given)."""
    out = {
        "account": c.account,
        "start": _iso(c.cycle_start),
        "end": _iso(c.cycle_end),
        "used_bytes": c.used_bytes,
        "cap_bytes": c.cap_bytes,
        "readings": c.readings,
        "first_observed_at": _iso(c.first_observed_at),
        "last_observed_at": _iso(c.last_observed_at),
        "source": c.source,
        "from_isp_history": c.from_history,
        "lower_bound": c.lower_bound,
    }
    if now is not None:
        out["closed"] = c.cycle_end is not None and c.cycle_end <= now
    return out


def poll_entry_to_dict(e: PollLogEntry) -> dict[str, Any]:
    """A poll log line as JSON-ready data."""
    return {
        "account": e.account,
        "started_at": _iso(e.started_at),
        "duration_s": round(e.duration_s, 3),
        "outcome": e.outcome.value,
        "error_class": e.error_class,
        "message": e.message,
        "reading_stored": e.reading_stored,
    }
