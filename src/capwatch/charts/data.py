"""What a cycle chart shows, as plain values, and how it is built from the store.

:class:`ChartData` is the renderer's only input (bytes and aware UTC datetimes, the zone only
names how to label the axis), so the renderer is tested on hand-made data and the builder on a
real store. :func:`summary_from_chart` turns the same data into the :class:`CycleSummary`
numbers the reports print, so chart and text never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from capwatch.errors import InputError
from capwatch.models import AccountStatus, Cycle, CycleSummary, DeviceUsage, Forecast, utcnow
from capwatch.store.api import CYCLE_RESOLUTION, CycleRecord, Store

if TYPE_CHECKING:
    from capwatch.config import Settings

GB = 1_000_000_000


@dataclass(frozen=True, slots=True)
class ChartData:
    """Everything the cycle chart draws: usage series, cap, alarm, forecast, daily bars."""

    account: str
    cycle: Cycle
    times: tuple[datetime, ...]
    used: tuple[int, ...]
    cap_bytes: int | None
    zone: str = "UTC"
    alarm_percent: float = 90.0
    now: datetime | None = None
    forecast: Forecast | None = None
    daily: tuple[tuple[date, int], ...] = ()
    devices: tuple[DeviceUsage, ...] = ()
    title: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def latest_bytes(self) -> int | None:
        """The newest usage value, or None before the first reading."""
        return self.used[-1] if self.used else None

    @property
    def latest_at(self) -> datetime | None:
        """When the newest usage value was observed."""
        return self.times[-1] if self.times else None

    @property
    def is_open(self) -> bool:
        """True while ``now`` lies inside the cycle (a forecast and a today marker apply)."""
        return self.now is not None and self.now in self.cycle

    def pro_rata_bytes(self, at: datetime) -> int | None:
        """Usage that would reach exactly the cap at cycle end, at instant ``at``."""
        if not self.cap_bytes:
            return None
        frac = (at - self.cycle.start).total_seconds() / self.cycle.length_seconds
        return int(self.cap_bytes * min(max(frac, 0.0), 1.0))


def zone_of(account: Any) -> str:
    """The IANA zone name of an account's billing cycle (``account.cycle.zone``), else UTC."""
    zone = getattr(getattr(account, "cycle", None), "zone", None)
    key = getattr(zone, "key", None) or (str(zone) if zone else None)
    return key or "UTC"


def alarm_percent_of(account: Any) -> float:
    """The alarm line: the highest configured used-percent alert under 100, else 90."""
    levels = getattr(getattr(account, "alerts", None), "used_percent", None) or []
    under = [float(v) for v in levels if float(v) < 100]
    return max(under) if under else 90.0


def daily_increments(
    rows: Sequence[tuple[date, int]], start_bytes: int = 0
) -> tuple[tuple[date, int], ...]:
    """Per-day usage from each day's last cumulative value (negatives, meter resets, -> 0)."""
    out: list[tuple[date, int]] = []
    prev = start_bytes
    for day, used in rows:
        out.append((day, max(used - prev, 0)))
        prev = used
    return tuple(out)


def naive_forecast(data: ChartData, now: datetime) -> Forecast | None:
    """Linear pace (as of the latest reading) to cycle end; the interval narrows with time."""
    if not data.used or not data.times or now not in data.cycle:
        return None
    used, at = data.used[-1], min(data.times[-1], now)
    elapsed = max((at - data.cycle.start).total_seconds(), 3600.0)
    remaining = max((data.cycle.end - at).total_seconds(), 0.0)
    frac = elapsed / data.cycle.length_seconds
    more = used / elapsed * remaining
    spread = 0.1 + 0.6 * (1.0 - min(frac, 1.0))
    return Forecast(
        expected_bytes=int(used + more),
        low_bytes=int(used + more * (1 - spread)),
        high_bytes=int(used + more * (1 + spread)),
        method="linear",
    )


def cycle_span(start: datetime, end: datetime | None, zone: str, start_day: int | None) -> Cycle:
    """The span of a stored cycle under the account's rule (see ``analysis.cycles.span_of``)."""
    from capwatch.analysis.cycles import CycleRule, span_of

    return span_of(CycleRule(start_day, ZoneInfo(zone)), start, end)


def pick_cycle(records: Sequence[CycleRecord], month: str | None, zone: str) -> CycleRecord:
    """The cycle whose local start falls in ``month`` (YYYY-MM), or the newest one."""
    if not records:
        raise InputError("no readings stored for this account yet")
    if month is None:
        return max(records, key=lambda r: r.cycle_start)
    for rec in records:
        if rec.cycle_start.astimezone(ZoneInfo(zone)).strftime("%Y-%m") == month:
            return rec
    known = ", ".join(
        sorted(r.cycle_start.astimezone(ZoneInfo(zone)).strftime("%Y-%m") for r in records)
    )
    raise InputError(f"--cycle {month}: no such cycle (known: {known})")


def build_chart_data(
    store: Store,
    account: str,
    *,
    zone: str = "UTC",
    start_day: int | None = None,
    month: str | None = None,
    now: datetime | None = None,
    forecast: Forecast | None = None,
    alarm_percent: float = 90.0,
    cap_bytes: int | None = None,
) -> ChartData:
    """Load one cycle of ``account`` (the newest, or the one starting in ``month``).

    ``forecast`` is the summary's forecast of the open cycle (``account_summary``); without one
    no projection is drawn, as status and the pages show none. ``cap_bytes`` is the
    configured cap, used when the readings carry none.
    """
    now = now or utcnow()
    rec = pick_cycle(store.cycles(account), month, zone)
    cycle = cycle_span(rec.cycle_start, rec.cycle_end, zone, start_day)
    readings = [
        r
        for r in store.readings(account, cycle_start=rec.cycle_start, every=CYCLE_RESOLUTION)
        if r.observed_at <= now
    ]
    cap = next((r.cap_bytes for r in reversed(readings) if r.cap_bytes), None)
    days = [(d.day, d.used_bytes) for d in store.daily_usage(account, rec.cycle_start)]
    local_start = rec.cycle_start.astimezone(ZoneInfo(zone)).strftime("%B %Y")
    data = ChartData(
        account=account,
        cycle=cycle,
        times=tuple(r.observed_at for r in readings),
        used=tuple(r.used_bytes for r in readings),
        cap_bytes=cap or rec.cap_bytes or cap_bytes,
        zone=zone,
        alarm_percent=alarm_percent,
        now=now,
        daily=daily_increments(days),
        devices=tuple(store.devices(account, rec.cycle_start)[:5]),
        title=f"{account}: cycle of {local_start}",
    )
    if data.is_open and forecast is not None:
        # the summary's forecast, never one of the chart's own: every surface shows one figure
        return replace(data, forecast=forecast)
    return data


def summary_from_chart(
    data: ChartData, *, overage_cost: float | None = None, now: datetime | None = None
) -> CycleSummary:
    """The numbers people act on, from the same data the chart shows."""
    now = now or data.now or utcnow()
    as_of = min(max(now, data.cycle.start), data.cycle.end)
    days_left = max((data.cycle.end - as_of).total_seconds() / 86400.0, 0.0)
    used = data.latest_bytes
    allowance = None
    pace = None
    if data.cap_bytes and used is not None:
        remaining = max(data.cap_bytes - used, 0)
        allowance = int(remaining / max(days_left, 1.0)) if days_left > 0 else 0
        target = data.pro_rata_bytes(min(data.latest_at or as_of, as_of))
        pace = used / target if target else None
    return CycleSummary(
        account=data.account,
        cycle=data.cycle,
        as_of=as_of,
        used_bytes=used,
        cap_bytes=data.cap_bytes,
        forecast=data.forecast,
        daily_allowance_bytes=allowance,
        days_left=days_left,
        pace=pace,
        overage_cost=overage_cost,
        last_reading_at=data.latest_at,
        status=AccountStatus.OK if used is not None else AccountStatus.NEW,
    )


def overage_cost(projected: int | None, cap: int | None, account: Any) -> float | None:
    """Overage charge for ``projected`` bytes under the account's block pricing, if set.

    Reads ``account.overage`` (``block_bytes``, ``block_cost``, ``max_charge``) when config has
    it; Xfinity-style defaults are not assumed.
    """
    ov = getattr(account, "overage", None)
    block = getattr(ov, "block_bytes", None)
    cost = getattr(ov, "block_cost", None)
    if not (projected and cap and block and cost) or projected <= cap:
        return None if not (block and cost) else 0.0
    blocks = -(-(projected - cap) // int(block))
    charge = float(blocks * float(cost))
    cap_charge = getattr(ov, "max_charge", None)
    return min(charge, float(cap_charge)) if cap_charge else charge


def chart_for_account(
    settings: Settings,
    store: Store,
    account: str,
    *,
    month: str | None = None,
    now: datetime | None = None,
    forecast: Forecast | None = None,
) -> ChartData:
    """:func:`build_chart_data` with the account's zone, cycle rule, alarm and cap from config."""
    acc = settings.account(account)
    return build_chart_data(
        store,
        account,
        zone=zone_of(acc),
        start_day=acc.cycle.start_day,
        month=month,
        now=now,
        forecast=forecast,
        alarm_percent=alarm_percent_of(acc),
        cap_bytes=acc.cap_bytes,
    )
