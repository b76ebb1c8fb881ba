"""The account page: the figures server-rendered from the summary (``account.html``), charts
drawn by /static/chart.js from the API, and the earlier cycles as a small server-drawn chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from capwatch.models import AlertState, CycleSummary, DeviceUsage, PollLogEntry, PollOutcome
from capwatch.service.advice import next_step
from capwatch.store.api import CycleRecord
from capwatch.templating import render
from capwatch.units import format_bytes

if TYPE_CHECKING:
    from capwatch.config import Settings
    from capwatch.store.api import Store

CYCLES_SHOWN = 12
FAILURES_SHOWN = 20
CHAR_W = 7.0
"""Width of one character of the chart's 12 px labels, in view-box units (a generous mean)."""


@dataclass(frozen=True, slots=True)
class Bar:
    """One cycle's bar: geometry, its tooltip, and the labels that fit (empty when they don't)."""

    x: float
    w: float
    y: float
    h: float
    cx: float
    value_y: float
    over: bool
    title: str
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class Bars:
    """The earlier-cycles chart in a ``width`` x ``height`` view box."""

    bars: list[Bar]
    cap_y: float | None
    width: float = 400.0
    height: float = 150.0


def _fits(text: str, slot: float) -> bool:
    return len(text) * CHAR_W <= slot - 4


def cycle_bars(cycles: list[CycleRecord], tz: tzinfo) -> Bars | None:
    """Earlier cycles oldest first: a bar each, labels only where they fit beside each other
    (the month, with its year when there is room; the value on top when there is room)."""
    if not cycles:
        return None
    ordered = list(reversed(cycles))
    w, h = 400.0, 150.0
    top = max([c.used_bytes for c in ordered] + [c.cap_bytes or 0 for c in ordered]) or 1
    slot = w / len(ordered)
    long_labels = all(_fits(f"{c.cycle_start.astimezone(tz):%b %Y}", slot) for c in ordered)
    bars = []
    for i, c in enumerate(ordered):
        start = c.cycle_start.astimezone(tz)
        bh = (h - 40) * c.used_bytes / top  # 20 below for the month, 20 above for the value
        size = format_bytes(c.used_bytes)
        label = f"{start:%b %Y}" if long_labels else f"{start:%b}"
        bars.append(
            Bar(
                x=round(i * slot + slot * 0.15, 1),
                w=round(slot * 0.7, 1),
                y=round(h - 20 - bh, 1),
                h=round(bh, 1),
                cx=round(i * slot + slot / 2, 1),
                value_y=round(h - 25 - bh, 1),
                over=bool(c.cap_bytes and c.used_bytes > c.cap_bytes),
                title=f"{start:%b %Y}: {size}",
                label=label if _fits(label, slot) else "",
                value=size if _fits(size, slot) else "",
            )
        )
    cap = max((c.cap_bytes or 0) for c in ordered)
    cap_y = round(h - 20 - (h - 40) * cap / top, 1) if cap else None
    return Bars(bars, cap_y, w, h)


def render_account(
    s: CycleSummary,
    cycles: list[CycleRecord],
    devices: list[DeviceUsage],
    polls: list[PollLogEntry],
    tz: tzinfo,
    alerts: list[AlertState] | None = None,
    who: Any = None,
) -> str:
    """The account page's HTML (``alerts``: the account's active alerts, shown first)."""
    earlier = [c for c in cycles if c.cycle_start < s.cycle.start][:CYCLES_SHOWN]
    failed = [e for e in polls if e.outcome is not PollOutcome.OK][:FAILURES_SHOWN]
    from capwatch.web.plan_page import plan_context

    return render(
        "account.html",
        **plan_context(s),
        s=s,
        alerts=sorted(alerts or [], key=lambda a: (a.fired_at is None, a.fired_at)),
        next=next_step(s),
        bars=cycle_bars(earlier, tz),
        cycles=earlier,
        zone=tz,
        devices=devices,
        polls_ok=sum(1 for e in polls if e.outcome is PollOutcome.OK),
        polls_total=len(polls),
        failures=failed,
        who=who,
        script=True,
        refresh=None,
    )


def account_html(state: Any, name: str) -> str:
    """Read what the account page shows (``state`` is ``app.state``) and render it."""
    from capwatch.service.views import closed_cycles
    from capwatch.web.history import cached_summary

    settings: Settings = state.settings
    store: Store = state.store
    summary = cached_summary(state, name)
    devices = store.devices(name, summary.cycle.start)
    return render_account(
        summary,
        closed_cycles(settings, store, name, state.clock(), limit=CYCLES_SHOWN + 1),
        devices,
        store.poll_log(name, limit=100),
        settings.account(name).cycle.zone,
        [a for a in store.alert_states(name).values() if a.active],
        _who_used_it(settings, store, name, state.clock()),
    )


def _who_used_it(settings: Settings, store: Store, name: str, now: Any) -> Any:
    """The "Who used it" section, or None without device data."""
    if not store.device_list(name):
        return None
    from capwatch.service.devices import account_devices
    from capwatch.web.devices_page import who_used_it

    _, view = account_devices(settings, store, name, now)
    return who_used_it(view)
