"""Who used it: per-device figures of a cycle, computed once for every view and the alert.

Pure functions over what the store holds (devices, per-device per-day bytes, the household
meter's cycle total). A device's day is the largest figure any one source counted for it
(two sources watching the same device are not added).

An ISP's own per-device figures (source ``isp:<provider>``: Xfinity's ``devices[]``, one per
gateway) count a level above the LAN: a gateway's bytes hold every LAN device's behind it. So a
device a LAN source counted shows the LAN source's figures only (they are per day, the ISP's
arrive in whole GB when polled); and while any LAN source counts devices, the ISP's devices are
listed with their source but are not ``summed``: left out of the devices' sum, the part no device
accounts for and the stacked chart, which would otherwise count the same bytes twice. Without a
LAN source the ISP's devices are the devices. Its "usual day" is the median of its
days before the day in question (up to :data:`USUAL_LOOKBACK_DAYS`, from its first counted
day on, a day without traffic counting as 0); fewer than :data:`USUAL_MIN_DAYS` such days
give no usual day.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from capwatch.devices import display_name
from capwatch.models import Device, DeviceDay

USUAL_LOOKBACK_DAYS = 28
USUAL_MIN_DAYS = 3
ISP_SOURCE_PREFIX = "isp:"
"""Device days an ISP reported (the store's ``capwatch.store._devices.ISP_SOURCE_PREFIX``)."""


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """One device's figures in a cycle."""

    key: str
    name: str
    vendor: str | None
    mac: str | None
    addresses: tuple[str, ...]
    cycle_bytes: int
    share: float | None
    """Of the household meter's cycle total (None without a meter figure)."""
    day_bytes: int
    """On the view's day (yesterday by default)."""
    usual_bytes: int | None
    daily: tuple[int, ...]
    """Each day of the cycle up to the view's day, first to last."""
    sources: tuple[str, ...] = ()
    """The sources whose figures these are (``netflow``; ``xfinity`` for an ISP's)."""
    isp: bool = False
    """The ISP's own per-device (per-gateway) figure, not a LAN source's count."""
    summed: bool = True
    """In the devices' sum and the chart (False: an ISP figure holding LAN-counted devices)."""
    named: bool = False
    """Its name is the user's (a rename or ``[device_names]``), not its MAC or address."""
    unrenamed: str = ""
    """The name it shows without a rename (the config's, else its MAC or address)."""


@dataclass(frozen=True, slots=True)
class DevicesView:
    """The devices of one account's cycle (the summed ones first, each part largest first) and
    what no device accounts for."""

    account: str
    days: tuple[date, ...]
    day: date
    rows: tuple[DeviceRow, ...]
    meter_bytes: int | None
    devices_bytes: int
    unaccounted_bytes: int | None
    """The meter minus the devices' sum, never negative (None without a meter figure)."""
    unaccounted_daily: tuple[int, ...] | None = None


def is_named(device: Device, name: str) -> bool:
    """Whether ``name`` (the device's display name) is one the user gave it."""
    return name != replace(device, name=None).label


def per_device_day(days: Iterable[DeviceDay]) -> dict[str, dict[date, int]]:
    """Bytes per device key and day: the largest any one source counted."""
    return {key: series for key, (series, _, _) in device_series(days).items()}


def device_series(
    days: Iterable[DeviceDay],
) -> dict[str, tuple[dict[date, int], tuple[str, ...], bool]]:
    """Per device key: its bytes per day, the sources they come from, and whether they are
    the ISP's (a LAN source's figures win over the ISP's; see the module docstring)."""
    lan: dict[str, dict[date, int]] = {}
    isp: dict[str, dict[date, int]] = {}
    sources: dict[tuple[str, bool], set[str]] = {}
    for d in days:
        from_isp = d.source.startswith(ISP_SOURCE_PREFIX)
        slot = (isp if from_isp else lan).setdefault(d.key, {})
        slot[d.day] = max(slot.get(d.day, 0), d.bytes)
        sources.setdefault((d.key, from_isp), set()).add(d.source.removeprefix(ISP_SOURCE_PREFIX))
    out = {k: (v, tuple(sorted(sources[(k, False)])), False) for k, v in lan.items()}
    for key, series in isp.items():
        if key not in out:
            out[key] = (series, tuple(sorted(sources[(key, True)])), True)
    return out


def usual_day(series: Mapping[date, int], day: date) -> int | None:
    """The median of the device's days before ``day`` (see the module docstring)."""
    earlier = [d for d in series if d < day]
    if not earlier:
        return None
    first = max(min(earlier), day - timedelta(days=USUAL_LOOKBACK_DAYS))
    span = [series.get(first + timedelta(days=i), 0) for i in range((day - first).days)]
    if len(span) < USUAL_MIN_DAYS:
        return None
    return int(statistics.median(span))


def devices_view(
    account: str,
    devices: Sequence[Device],
    device_days: Iterable[DeviceDay],
    cycle_days: Sequence[date],
    day: date,
    *,
    meter_bytes: int | None,
    meter_daily: Mapping[date, int] | None = None,
    names: Mapping[str, str] | None = None,
) -> DevicesView:
    """The view of ``cycle_days`` up to and including ``day``; ``device_days`` may reach back
    before the cycle (for the usual day)."""
    series = device_series(device_days)
    shown = tuple(d for d in cycle_days if d <= day)
    by_key = {d.key: d for d in devices}
    rows = []
    for key, (per_day, sources, from_isp) in series.items():
        daily = tuple(per_day.get(d, 0) for d in shown)
        total = sum(daily)
        device = by_key.get(key)
        name = display_name(device, names or {}) if device else key.removeprefix("ip:")
        rows.append(
            DeviceRow(
                key=key,
                name=name,
                vendor=device.vendor if device else None,
                mac=device.mac if device else None,
                addresses=device.addresses if device else (),
                cycle_bytes=total,
                share=total / meter_bytes if meter_bytes else None,
                day_bytes=per_day.get(day, 0),
                usual_bytes=usual_day(per_day, day),
                daily=daily,
                sources=sources,
                isp=from_isp,
                named=device is not None and is_named(device, name),
                unrenamed=(
                    display_name(replace(device, name=None), names or {}) if device else name
                ),
            )
        )
    rows = [r for r in rows if r.cycle_bytes or r.day_bytes]
    if any(not r.isp for r in rows):
        rows = [replace(r, summed=False) if r.isp else r for r in rows]
    rows.sort(key=lambda r: (not r.summed, -r.cycle_bytes, r.name))
    summed = [r for r in rows if r.summed]
    devices_bytes = sum(r.cycle_bytes for r in summed)
    unaccounted = None if meter_bytes is None else max(meter_bytes - devices_bytes, 0)
    unaccounted_daily = None
    if meter_daily is not None:
        unaccounted_daily = tuple(
            max(meter_daily.get(d, 0) - sum(r.daily[i] for r in summed), 0)
            for i, d in enumerate(shown)
        )
    return DevicesView(
        account=account,
        days=shown,
        day=day,
        rows=tuple(rows),
        meter_bytes=meter_bytes,
        devices_bytes=devices_bytes,
        unaccounted_bytes=unaccounted,
        unaccounted_daily=unaccounted_daily,
    )


def source_label(row: DeviceRow) -> str:
    """Where a row's figures come from, for people: ``netflow``, ``xfinity (ISP)``."""
    text = ", ".join(row.sources)
    if row.isp:
        return f"{text} (ISP, per gateway)" if not row.summed else f"{text} (ISP)"
    return text


SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[int], width: int = 14) -> str:
    """The last ``width`` values as block characters scaled to their largest."""
    tail = list(values)[-width:]
    top = max(tail, default=0)
    if top <= 0:
        return " " * len(tail)
    return "".join(
        SPARKS[min(int(v / top * (len(SPARKS) - 1) + 0.5), 7)] if v else " " for v in tail
    )
