"""The one place that computes the numbers every consumer shows (:class:`CycleSummary`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any

from capwatch.analysis.allowance import daily_allowance, days_left, pace
from capwatch.analysis.forecast import forecast_cycle
from capwatch.analysis.overage import overage_cost
from capwatch.analysis.plan import AllowanceInput, summarize_allowance
from capwatch.models import AccountStatus, Cycle, CycleSummary, Forecast, Reading, as_utc

Sample = tuple[datetime, int]


def cycle_samples(readings: Sequence[Reading], cycle: Cycle, now: datetime) -> list[Sample]:
    """(time, bytes) of the readings inside ``cycle`` up to ``now``, ascending."""
    inside = [r for r in readings if r.observed_at in cycle and r.observed_at <= now]
    inside.sort(key=lambda r: r.observed_at)
    return [(as_utc(r.observed_at), r.used_bytes) for r in inside]


def _forecast(
    samples: list[Sample],
    cycle: Cycle,
    cap: int | None,
    history: Sequence[Sequence[Sample]],
    now: datetime,
    tz: tzinfo,
) -> Forecast | None:
    if not samples and not any(history):
        return None
    fc = forecast_cycle(samples, cycle.start, cycle.end, cap, history, now, tz=tz)
    return None if fc.method == "no-data" else fc


def summarize(
    *,
    account: str,
    cycle: Cycle,
    readings: Sequence[Reading],
    cap_bytes: int | None,
    history: Sequence[Sequence[Sample]] = (),
    now: datetime,
    status: AccountStatus = AccountStatus.OK,
    last_error: str | None = None,
    consecutive_failures: int = 0,
    last_success_at: datetime | None = None,
    overage: Any = None,
    tz: tzinfo | None = None,
    provider: str | None = None,
    unlimited: bool | None = None,
    previous: Reading | None = None,
    note: str | None = None,
    allowances: Sequence[AllowanceInput] = (),
) -> CycleSummary:
    """Used, forecast, allowance, pace and overage of ``account`` in ``cycle`` as of ``now``.

    ``cap_bytes`` None falls back to the newest reading's cap (None again means unlimited,
    unless ``unlimited`` says otherwise); ``previous`` is the newest reading of an earlier cycle,
    whose time is the last reading's while this cycle has none; ``overage`` is an
    :class:`Overage`, :class:`OverageTerms` or settings-like object; ``allowances`` are the
    plan's (each with its own use and forecast).
    """
    now = as_utc(now)
    zone = tz or UTC
    samples = cycle_samples(readings, cycle, now)
    inside = [r for r in readings if r.observed_at in cycle and r.observed_at <= now]
    newest = max(inside, key=lambda r: r.observed_at) if inside else None
    cap = cap_bytes if cap_bytes is not None else (newest.cap_bytes if newest else None)
    # The newest figure is the source's word (an ISP may correct itself downward); counter
    # sources only ever grow within a cycle, so for them this is also the largest.
    used = newest.used_bytes if newest is not None else None
    fc = _forecast(samples, cycle, cap, history, now, zone)
    projected = fc.expected_bytes if fc is not None else used
    last = newest or previous
    return CycleSummary(
        account=account,
        cycle=cycle,
        as_of=now,
        used_bytes=used,
        cap_bytes=cap,
        forecast=fc,
        daily_allowance_bytes=daily_allowance(used, cap, now, cycle) if used is not None else None,
        days_left=days_left(now, cycle),
        # Nothing counted yet (a first run's baseline, an ISP's 0 GB on day one): nothing to
        # pace, rather than "0.00x", which reads as far under plan.
        pace=pace(used, cap, now, cycle) if used else None,
        overage_cost=overage_cost(projected, cap, overage) if projected is not None else None,
        last_reading_at=last.observed_at if last is not None else None,
        status=status,
        last_error=last_error,
        consecutive_failures=consecutive_failures,
        last_success_at=last_success_at,
        provider=provider,
        unlimited=(cap is None and newest is not None) if unlimited is None else unlimited,
        note=note,
        allowances=tuple(
            summarize_allowance(a, cycle, now, zone, samples, history, overage) for a in allowances
        ),
    )
