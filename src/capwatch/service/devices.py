"""The "who used it" view of one account: the store's device data for a cycle, summarised
once (:func:`capwatch.analysis.devices.devices_view`) for the CLI, the API and the page."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from capwatch.analysis.devices import USUAL_LOOKBACK_DAYS, DevicesView, devices_view
from capwatch.errors import InputError

if TYPE_CHECKING:
    from capwatch.config import Settings
    from capwatch.models import Cycle, DeviceUsage
    from capwatch.store.api import Store


def parse_month(value: str, place: str = "--cycle") -> tuple[int, int]:
    """``YYYY-MM`` as (year, month), or InputError naming ``place``."""
    try:
        year, month = (int(p) for p in value.split("-"))
        date(year, month, 1)
    except ValueError:
        raise InputError(f"{place}: expected YYYY-MM, got {value!r}") from None
    return year, month


def account_devices(
    settings: Settings,
    store: Store,
    account: str,
    now: datetime,
    *,
    month: str | None = None,
    day: date | None = None,
) -> tuple[Cycle, DevicesView]:
    """The cycle shown (the current one, the one starting in ``month``, or the one holding
    ``day``) and its devices view, whose day is ``day`` or yesterday (the cycle's last day for
    a past cycle)."""
    from capwatch.analysis.cycles import CycleRule, local_midnight
    from capwatch.charts.data import daily_increments
    from capwatch.service.views import current_cycle

    acc = settings.account(account)
    zone = acc.cycle.zone
    rule = CycleRule(acc.cycle.start_day, zone)
    if month is not None:
        year, mon = parse_month(month)
        cycle = rule.cycle_at(local_midnight(date(year, mon, min(rule.anchor, 28)), zone))
    elif day is not None:
        cycle = rule.cycle_at(local_midnight(day, zone))
    else:
        cycle = current_cycle(rule, next(iter(store.cycles(account, limit=1)), None), now)
    days = rule.local_days(cycle)
    today = now.astimezone(zone).date()
    shown = day or min(today - timedelta(days=1), days[-1])
    if shown < days[0]:
        shown = days[0]
    records = {c.cycle_start: c for c in store.cycles(account)}
    record = records.get(cycle.start)
    cumulative = [(d.day, d.used_bytes) for d in store.daily_usage(account, cycle.start)]
    meter_daily = dict(daily_increments(cumulative)) if cumulative else None
    # The devices are counted through the view's day, so the meter is too: the last reading
    # of that day (today's traffic would otherwise all read as "no device"); a cycle shown to
    # its last day has its own total.
    through = [used for d, used in cumulative if d <= shown]
    meter = through[-1] if through else None
    if record is not None and shown >= days[-1]:
        meter = record.used_bytes
    view = devices_view(
        account,
        store.device_list(account),
        store.device_days(
            account, days[0] - timedelta(days=USUAL_LOOKBACK_DAYS), days[-1] + timedelta(days=1)
        ),
        days,
        shown,
        meter_bytes=meter,
        meter_daily=meter_daily,
        names=settings.device_names,
    )
    return cycle, view


def view_dict(cycle: Any, view: Any) -> dict[str, Any]:
    """The devices view as a JSON-ready dict (the CLI's --json has the same shape)."""
    return {
        "account": view.account,
        "cycle_start": cycle.start.isoformat(),
        "cycle_end": cycle.end.isoformat(),
        "day": view.day.isoformat(),
        "days": [d.isoformat() for d in view.days],
        "meter_bytes": view.meter_bytes,
        "devices_bytes": view.devices_bytes,
        "unaccounted_bytes": view.unaccounted_bytes,
        "unaccounted_daily": (
            list(view.unaccounted_daily) if view.unaccounted_daily is not None else None
        ),
        "devices": [
            {
                "key": r.key,
                "name": r.name,
                "vendor": r.vendor,
                "mac": r.mac,
                "addresses": list(r.addresses),
                "cycle_bytes": r.cycle_bytes,
                "share": r.share,
                "day_bytes": r.day_bytes,
                "usual_bytes": r.usual_bytes,
                "daily": list(r.daily),
                "sources": list(r.sources),
                "isp": r.isp,
                "summed": r.summed,
                "named": r.named,
            }
            for r in view.rows
        ],
    }


def named_devices(
    settings: Settings, store: Store, account: str, now: datetime
) -> list[DeviceUsage]:
    """This cycle's bytes of every device the user named (a rename or ``[device_names]``), by
    device key (so a series outlives a rename), for the exporters; 0 for a named device quiet
    this cycle, so its Home Assistant sensor stays."""
    from capwatch.analysis.devices import is_named
    from capwatch.devices import display_name
    from capwatch.models import DeviceUsage

    listed = store.device_list(account)
    named = [(d, display_name(d, settings.device_names)) for d in listed]
    named = [(d, n) for d, n in named if is_named(d, n)]
    if not named:
        return []
    _, view = account_devices(settings, store, account, now)
    cycle = {r.key: r.cycle_bytes for r in view.rows}
    return sorted(
        (DeviceUsage(d.key, cycle.get(d.key, 0), n) for d, n in named),
        key=lambda u: (u.name or "", u.device_id),
    )


METRIC_TOP_DEVICES = 10
"""Devices exported with a series of their own on /metrics; the rest add up to ``other``."""


def metric_devices(
    settings: Settings, store: Store, account: str, now: datetime
) -> list[DeviceUsage]:
    """This cycle's bytes of the top devices and one ``other`` for the rest (a bounded set of
    ``device`` label values), for the exporters' per-device table; [] without device data."""
    from capwatch.models import DeviceUsage

    if not store.device_list(account):
        return []
    _, view = account_devices(settings, store, account, now)
    rows = [r for r in view.rows if r.summed]  # an ISP's gateway beside LAN devices: no twice
    top = rows[:METRIC_TOP_DEVICES]
    out = [DeviceUsage(r.key, r.cycle_bytes, r.name) for r in top]
    rest = sum(r.cycle_bytes for r in rows[METRIC_TOP_DEVICES:])
    if len(rows) > METRIC_TOP_DEVICES:
        out.append(DeviceUsage("other", rest, "other devices"))
    return out
