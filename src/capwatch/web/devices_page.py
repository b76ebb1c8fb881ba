"""The account page's "Who used it" section: a stacked daily bar by device for the cycle, the
top devices, and the part no device accounts for (drawn, not hidden). Geometry only; the
figures are the one devices summary's (:mod:`capwatch.analysis.devices`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from capwatch.analysis.devices import DeviceRow, DevicesView, source_label
from capwatch.units import format_bytes

TOP_DEVICES = 5
"""Devices drawn with their own colour; the rest share "other devices"."""
WIDTH, HEIGHT = 400.0, 150.0
TOP, BOTTOM = 20.0, 16.0
"""Gutters of the view box: the tallest day's figure above the bars, day numbers below."""
CHAR_W = 7.0
"""Width of one character of the chart's 12 px labels, in view-box units (a generous mean)."""


@dataclass(frozen=True, slots=True)
class Segment:
    """One device's part of one day's bar."""

    x: float
    y: float
    w: float
    h: float
    css: str
    title: str


@dataclass(frozen=True, slots=True)
class Legend:
    """A row of the table under the chart."""

    name: str
    vendor: str | None
    css: str
    cycle_bytes: int
    share: float | None
    day_bytes: int | None
    usual_bytes: int | None
    source: str = ""
    key: str | None = None
    """The device's key (None for the summary rows)."""
    named: bool = False
    """The name is the user's (a rename or the config's), not its MAC or address."""
    unrenamed: str = ""
    """The name shown once a rename is cleared."""


@dataclass(frozen=True, slots=True)
class WhoUsedIt:
    """What the section draws."""

    segments: list[Segment]
    legend: list[Legend]
    width: float
    height: float
    day_label: str
    has_meter: bool
    gateways: list[Legend] = field(default_factory=list)
    """The ISP's per-gateway figures beside LAN-counted devices (not stacked, not summed)."""
    others: list[Legend] = field(default_factory=list)
    """The devices "other devices" adds up (listed under it, to be renamed too)."""
    ticks: list[tuple[float, str]] = field(default_factory=list)
    """(x, day of the month) under the bars, as many as fit apart."""
    peak: str = ""
    """The tallest day's total, written above the line at the bars' top."""
    peak_y: float = TOP
    span: str = ""
    """The days shown ("Nov 1–19")."""
    meter_bytes: int | None = None
    devices_bytes: int = 0
    unaccounted_bytes: int | None = None


def _ticks(days: tuple[date, ...], slot: float) -> list[tuple[float, str]]:
    """Day numbers under every ``step``-th bar, the smallest step whose labels stay apart."""
    step = next((s for s in (1, 2, 3, 5, 7, 10) if s * slot >= 2 * CHAR_W + 6), 14)
    return [
        (round(i * slot + slot / 2, 1), f"{d:%-d}") for i, d in enumerate(days) if i % step == 0
    ]


def _row(r: DeviceRow, css: str) -> Legend:
    """The table row of one device."""
    return Legend(
        r.name,
        r.vendor,
        css,
        r.cycle_bytes,
        r.share,
        r.day_bytes,
        r.usual_bytes,
        source_label(r),
        r.key,
        r.named,
        r.unrenamed,
    )


def who_used_it(view: DevicesView) -> WhoUsedIt | None:
    """The section of ``view`` (None when the account has no device data in the cycle)."""
    if not view.rows:
        return None
    summed = [r for r in view.rows if r.summed]
    top = summed[:TOP_DEVICES]
    rest = summed[TOP_DEVICES:]
    series: list[tuple[str, str, tuple[int, ...]]] = [
        (r.name, f"dev{i}", r.daily) for i, r in enumerate(top)
    ]
    if rest:
        other = tuple(sum(r.daily[i] for r in rest) for i in range(len(view.days)))
        series.append(("other devices", "devother", other))
    if view.unaccounted_daily is not None:
        series.append(("no device (meter − devices)", "nodev", view.unaccounted_daily))
    totals = [sum(s[2][i] for s in series) for i in range(len(view.days))]
    peak = max(totals, default=0) or 1
    slot = WIDTH / max(len(view.days), 1)
    segments = []
    for i, day in enumerate(view.days):
        y = HEIGHT - BOTTOM
        for name, css, values in series:
            if not values[i]:
                continue
            h = (HEIGHT - BOTTOM - TOP) * values[i] / peak
            y -= h
            title = f"{day:%a %b %-d}: {name} {format_bytes(values[i])}"
            segments.append(
                Segment(
                    round(i * slot + slot * 0.1, 1),
                    round(y, 1),
                    round(slot * 0.8, 1),
                    round(h, 1),
                    css,
                    title,
                )
            )
    legend = [_row(r, f"dev{i}") for i, r in enumerate(top)]
    if rest:
        total = sum(r.cycle_bytes for r in rest)
        share = total / view.meter_bytes if view.meter_bytes else None
        legend.append(
            Legend(f"{len(rest)} other devices", None, "devother", total, share, None, None)
        )
    if view.unaccounted_bytes is not None:
        share = view.unaccounted_bytes / view.meter_bytes if view.meter_bytes else None
        legend.append(
            Legend(
                "no device", "meter − devices", "nodev", view.unaccounted_bytes, share, None, None
            )
        )
    gateways = [_row(r, "") for r in view.rows if not r.summed]
    first, last = view.days[0], view.days[-1]
    span = f"{first:%b %-d}"
    if last != first:
        span += (
            f"–{last:%-d}"
            if (last.year, last.month) == (first.year, first.month)
            else (f"–{last:%b %-d}")
        )
    return WhoUsedIt(
        segments,
        legend,
        WIDTH,
        HEIGHT,
        f"{view.day:%b %-d}",
        view.meter_bytes is not None,
        gateways,
        others=[_row(r, "devother") for r in rest],
        ticks=_ticks(view.days, slot),
        peak=f"{format_bytes(max(totals, default=0))} a day at most",
        span=span,
        meter_bytes=view.meter_bytes,
        devices_bytes=view.devices_bytes,
        unaccounted_bytes=view.unaccounted_bytes,
    )
