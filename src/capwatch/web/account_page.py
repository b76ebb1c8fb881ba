"""The account page: numbers server-rendered, charts drawn by /static/chart.js from the API."""

from __future__ import annotations

from datetime import tzinfo
from html import escape
from typing import TYPE_CHECKING, Any

from capwatch.models import AlertState, CycleSummary, DeviceUsage, PollLogEntry, PollOutcome
from capwatch.store.api import CycleRecord
from capwatch.units import format_cap
from capwatch.web.layout import age, alerts_list, gb, page, when
from capwatch.web.pages import meter

if TYPE_CHECKING:
    from capwatch.config import Settings
    from capwatch.store.api import Store

CYCLES_SHOWN = 12
FAILURES_SHOWN = 20


def _cards(s: CycleSummary) -> str:
    f = s.forecast
    cap = format_cap(s.cap_bytes, s.unlimited)
    projected = (
        f'<span data-field="projected" data-bytes="{f.expected_bytes}">{gb(f.expected_bytes)}'
        f'</span><small data-field="range">{gb(f.low_bytes)}–{gb(f.high_bytes)} '
        f"({f.level:.0%} range)</small>"
        if f
        else '<span data-field="projected">-</span>'
    )
    allowance = f"{gb(s.daily_allowance_bytes)}/day" if s.daily_allowance_bytes else "-"
    return f"""<dl class="cards">
<div><dt>Used</dt><dd><span data-field="used" data-bytes="{s.used_bytes or 0}">
{gb(s.used_bytes)}</span><small>of <span data-field="cap" data-bytes="{s.cap_bytes or 0}">
{cap}</span></small></dd></div>
<div><dt>Share of cap</dt><dd>{meter(s)}</dd></div>
<div><dt>Projected at cycle end</dt><dd>{projected}</dd></div>
<div><dt>Allowance</dt><dd><span data-field="allowance">{allowance}</span>
<small>to stay under the cap</small></dd></div>
<div><dt>Days left</dt><dd><span data-field="days_left">{s.days_left:.1f}</span>
<small>cycle ends {when(s.cycle.end)}</small></dd></div>
<div><dt>Last reading</dt><dd><span data-field="last_reading">{when(s.last_reading_at)}</span>
<small>{age(s)}</small></dd></div>
</dl>"""


def _note(s: CycleSummary) -> str:
    if not s.note:
        return ""
    return f'<p class="note" role="status" data-field="note">{escape(s.note)}</p>'


def _cycle_bars(cycles: list[CycleRecord], tz: tzinfo) -> str:
    """Earlier cycles as a small server-drawn SVG bar chart (oldest left)."""
    if not cycles:
        return ""
    ordered = list(reversed(cycles))
    top = max([c.used_bytes for c in ordered] + [c.cap_bytes or 0 for c in ordered]) or 1
    w, h, slot = 400, 150, 400 / len(ordered)
    bars = []
    for i, c in enumerate(ordered):
        bh = (h - 30) * c.used_bytes / top
        over = " over" if c.cap_bytes and c.used_bytes > c.cap_bytes else ""
        start = c.cycle_start.astimezone(tz)
        label = f"{start:%b %Y}: {gb(c.used_bytes)}"
        bars.append(
            f'<rect class="bar{over}" x="{i * slot + slot * 0.15:.1f}" width="{slot * 0.7:.1f}" '
            f'y="{h - 20 - bh:.1f}" height="{bh:.1f}"><title>{escape(label)}</title></rect>'
            f'<text x="{i * slot + slot / 2:.1f}" y="{h - 5}" text-anchor="middle">'
            f"{start:%b %Y}</text>"
            f'<text x="{i * slot + slot / 2:.1f}" y="{max(h - 25 - bh, 12):.1f}" '
            f'text-anchor="middle">{gb(c.used_bytes)}</text>'
        )
    cap = max((c.cap_bytes or 0) for c in ordered)
    cap_line = (
        f'<line class="cap" x1="0" x2="{w}" y1="{h - 20 - (h - 30) * cap / top:.1f}" '
        f'y2="{h - 20 - (h - 30) * cap / top:.1f}"/>'
        if cap
        else ""
    )
    return (
        f'<div class="chart"><svg class="small" viewBox="0 0 {w} {h}" role="img" '
        f'aria-label="Usage of earlier cycles">{"".join(bars)}{cap_line}</svg></div>'
    )


def _cycles_table(cycles: list[CycleRecord], tz: tzinfo) -> str:
    if not cycles:
        return '<p class="muted">No cycles recorded yet.</p>'
    rows = "".join(
        f"<tr><td>{c.cycle_start.astimezone(tz):%Y-%m-%d}</td>"
        f'<td class="num" data-bytes="{c.used_bytes}">{gb(c.used_bytes)}</td>'
        f'<td class="num">{gb(c.cap_bytes) if c.cap_bytes else "-"}</td>'
        f'<td class="num">{f"{100 * c.used_bytes / c.cap_bytes:.0f}%" if c.cap_bytes else "-"}'
        f'</td><td class="num wide">{c.readings}</td></tr>'
        for c in cycles
    )
    return (
        '<table aria-label="Earlier cycles"><thead><tr><th scope="col">Cycle start</th>'
        '<th scope="col" class="num">Used</th><th scope="col" class="num">Cap</th>'
        '<th scope="col" class="num">Share</th><th scope="col" class="num wide">Readings</th>'
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )


def _devices(devices: list[DeviceUsage]) -> str:
    if not devices:
        return '<p class="muted">This source does not report usage per device.</p>'
    rows = "".join(
        f"<tr><td>{escape(d.name or d.device_id)}</td>"
        f'<td class="wide muted">{escape(d.device_id)}</td>'
        f'<td class="num" data-bytes="{d.used_bytes}">{gb(d.used_bytes)}</td></tr>'
        for d in devices
    )
    return (
        '<table aria-label="Devices"><thead><tr><th scope="col">Device</th>'
        '<th scope="col" class="wide">Id</th><th scope="col" class="num">Used</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def _failures(entries: list[PollLogEntry]) -> str:
    failed = [e for e in entries if e.outcome is not PollOutcome.OK][:FAILURES_SHOWN]
    ok = sum(1 for e in entries if e.outcome is PollOutcome.OK)
    summary = f'<p class="muted">{ok} of the last {len(entries)} polls succeeded.</p>'
    if not failed:
        return summary
    rows = "".join(
        f'<tr><td>{when(e.started_at)}</td><td class="wide">{escape(e.outcome.value)}</td>'
        f"<td>{escape(e.error_class or '-')}</td><td>{escape(e.message or '')}</td></tr>"
        for e in failed
    )
    return summary + (
        '<table aria-label="Recent poll failures"><thead><tr><th scope="col">When</th>'
        '<th scope="col" class="wide">Outcome</th><th scope="col">Class</th>'
        '<th scope="col">Message</th>'
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )


LEGEND = """<ul class="legend" aria-label="Legend">
<li><i style="border-color:var(--used)"></i>used</li>
<li><i style="border-color:var(--ideal)"></i>pro-rata 100%</li>
<li><i style="border-color:var(--alarm);border-top-style:dashed"></i>alarm line</li>
<li><i style="border-color:var(--fc);border-top-style:dashed"></i>forecast (band: 80% range)</li>
<li><i style="border-color:var(--bad)"></i>cap</li></ul>"""


def render_account(
    s: CycleSummary,
    cycles: list[CycleRecord],
    devices: list[DeviceUsage],
    polls: list[PollLogEntry],
    tz: tzinfo,
    alerts: list[AlertState] | None = None,
) -> str:
    """The account page's HTML (``alerts``: the account's active alerts, shown first)."""
    name = escape(s.account)
    earlier = [c for c in cycles if c.cycle_start < s.cycle.start][:CYCLES_SHOWN]
    body = f"""<div data-account="{name}">
<h1>{name} <small class="status {s.status.value}" data-field="status">{s.status.value}</small>
</h1>{alerts_list(alerts or [])}{_note(s)}{_cards(s)}
<div class="actions"><button type="button" id="poll-now">Poll now</button>
<span id="poll-status" role="status" aria-live="polite"></span></div>
<section aria-labelledby="h-burndown"><h2 id="h-burndown">This cycle</h2>
<p class="muted" id="burndown-help">Hover or move the keyboard focus along the line
to read the usage at a time.</p>
<figure class="chart" id="burndown" aria-describedby="burndown-help" style="margin:0">
<noscript>The chart needs JavaScript; the numbers above do not.</noscript></figure>{LEGEND}
</section>
<section aria-labelledby="h-daily"><h2 id="h-daily">Usage per day</h2>
<div class="chart" id="daily"></div></section>
<div class="grid2"><section aria-labelledby="h-cycles"><h2 id="h-cycles">Earlier cycles</h2>
{_cycle_bars(earlier, tz)}{_cycles_table(earlier, tz)}</section>
<section aria-labelledby="h-devices"><h2 id="h-devices">Devices this cycle</h2>
{_devices(devices)}
<h2 id="h-polls">Poll log</h2>{_failures(polls)}</section></div>
</div>"""
    return page(f"{s.account} · capwatch", body, script=True)


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
    )
