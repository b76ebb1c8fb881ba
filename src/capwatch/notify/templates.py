"""Plain-text and email-safe HTML renderings of the numbers people act on.

The HTML is a single table-based column (max 600 px) with inline CSS only, which is what email
clients render reliably; the chart is referenced as ``cid:`` and sent inline by the adapter.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from capwatch.charts.data import gb
from capwatch.models import CycleSummary, DeviceUsage
from capwatch.notify.message import CHART_NAME

RED = "#d32f2f"
GREY = "#616161"


@dataclass(frozen=True, slots=True)
class Row:
    """One labelled number; ``alert`` paints it red."""

    label: str
    value: str
    alert: bool = False


@dataclass(frozen=True, slots=True)
class Body:
    """Everything a report shows, already formatted for people."""

    heading: str
    lead: str
    rows: Sequence[Row]
    devices: Sequence[DeviceUsage] = ()
    notes: Sequence[str] = ()
    link: str | None = None
    footer: str = ""
    extra_rows: Sequence[Row] = field(default=())


def local_time(at: datetime | None, zone: str) -> str:
    """``Sun Nov 22, 08:00 CST`` in the account's zone; ``-`` when unknown."""
    if at is None:
        return "-"
    return at.astimezone(ZoneInfo(zone)).strftime("%a %b %-d, %H:%M %Z")


def money(value: float, currency: str = "$") -> str:
    """``$30.00``."""
    return f"{currency}{value:,.2f}"


def summary_rows(s: CycleSummary, *, currency: str = "$", final: bool = False) -> list[Row]:
    """Used, cap, %, projected with interval, allowance, days left and overage, as rows."""
    rows: list[Row] = []
    used, cap = s.used_bytes, s.cap_bytes
    over_now = bool(cap and used is not None and used > cap)
    pct = f" ({s.percent:.0f}% of {gb(cap)})" if s.percent is not None and cap else ""
    rows.append(Row("Used", f"{gb(used) if used is not None else '-'}{pct}", over_now))
    if cap:
        rows.append(Row("Cap", gb(cap)))
        if s.remaining_bytes is not None and not final:
            rows.append(Row("Remaining", gb(s.remaining_bytes), s.remaining_bytes == 0))
    elif s.unlimited:
        rows.append(Row("Cap", "none (unlimited)"))
    else:
        rows.append(Row("Cap", "not known yet"))
    fc = s.forecast
    if fc is not None and not final:
        over = bool(cap and fc.expected_bytes > cap)
        pct_fc = f" ({100 * fc.expected_bytes / cap:.0f}%)" if cap else ""
        rng = f"{gb(fc.low_bytes)} to {gb(fc.high_bytes)}, {fc.level:.0%} range"
        rows.append(Row("Projected at cycle end", f"{gb(fc.expected_bytes)}{pct_fc}", over))
        rows.append(Row("Likely range", rng, bool(cap and fc.low_bytes > cap)))
    if not final:
        if s.daily_allowance_bytes is not None:
            rows.append(Row("Daily allowance", f"{gb(s.daily_allowance_bytes)} per day"))
        rows.append(Row("Days left", f"{s.days_left:.1f}"))
        if s.pace is not None:
            rows.append(Row("Pace", f"{s.pace:.2f}x the even pace", s.pace > 1.0))
    if s.overage_cost:
        label = "Overage charge" if final else "Projected overage charge"
        rows.append(Row(label, money(s.overage_cost, currency), True))
    return rows


def render_text(body: Body) -> str:
    """The plain-text part: aligned ``label: value`` lines."""
    width = max((len(r.label) for r in (*body.rows, *body.extra_rows)), default=0)
    lines = [body.heading, "", body.lead, ""]
    for r in (*body.rows, *body.extra_rows):
        mark = "  (!)" if r.alert else ""
        lines.append(f"{r.label + ':':<{width + 1}} {r.value}{mark}")
    if body.devices:
        lines += ["", "Top devices:"]
        lines += [f"  {d.name or d.device_id}: {gb(d.used_bytes)}" for d in body.devices]
    if body.notes:
        lines += ["", *body.notes]
    if body.link:
        lines += ["", f"Dashboard: {body.link}"]
    if body.footer:
        lines += ["", body.footer]
    return "\n".join(lines) + "\n"


def _row_html(r: Row) -> str:
    colour = RED if r.alert else "#212121"
    return (
        '<tr><td style="padding:6px 8px;color:#616161;font-size:15px;">'
        f"{html.escape(r.label)}</td>"
        f'<td style="padding:6px 8px;text-align:right;font-size:16px;font-weight:bold;'
        f'color:{colour};">{html.escape(r.value)}</td></tr>'
    )


def render_html(body: Body, *, chart: bool = True) -> str:
    """The HTML part: one inline-styled table column, the chart inline via ``cid:``."""
    e = html.escape
    rows = "".join(_row_html(r) for r in (*body.rows, *body.extra_rows))
    parts = [
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        '<body style="margin:0;padding:0;background:#f5f5f5;">'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
        'style="background:#f5f5f5;"><tr><td align="center" style="padding:12px;">'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
        'style="max-width:600px;background:#ffffff;border-radius:6px;'
        'font-family:Helvetica,Arial,sans-serif;color:#212121;">',
        f'<tr><td style="padding:16px 16px 4px;font-size:20px;font-weight:bold;">'
        f"{e(body.heading)}</td></tr>",
        f'<tr><td style="padding:4px 16px 12px;font-size:16px;">{e(body.lead)}</td></tr>',
        '<tr><td style="padding:0 8px;"><table role="presentation" width="100%" '
        f'cellpadding="0" cellspacing="0">{rows}</table></td></tr>',
    ]
    if chart:
        parts.append(
            f'<tr><td style="padding:12px 8px;"><img src="cid:{CHART_NAME}" width="584" '
            'alt="Usage chart" style="display:block;width:100%;max-width:584px;height:auto;">'
            "</td></tr>"
        )
    if body.devices:
        items = "".join(
            f'<tr><td style="padding:4px 8px;">{e(d.name or d.device_id)}</td>'
            f'<td style="padding:4px 8px;text-align:right;">{e(gb(d.used_bytes))}</td></tr>'
            for d in body.devices
        )
        parts.append(
            '<tr><td style="padding:8px 16px 0;font-weight:bold;">Top devices</td></tr>'
            '<tr><td style="padding:0 8px;"><table role="presentation" width="100%" '
            f'style="font-size:15px;">{items}</table></td></tr>'
        )
    for note in body.notes:
        parts.append(f'<tr><td style="padding:8px 16px;font-size:15px;">{e(note)}</td></tr>')
    if body.link:
        parts.append(
            f'<tr><td style="padding:8px 16px;"><a href="{e(body.link, quote=True)}" '
            'style="color:#1565c0;font-size:15px;">Open the dashboard</a></td></tr>'
        )
    parts.append(
        f'<tr><td style="padding:12px 16px 16px;font-size:12px;color:{GREY};">'
        f"{e(body.footer)}</td></tr></table></td></tr></table></body></html>"
    )
    return "".join(parts)


def inline_preview(html_text: str, png: bytes | None) -> str:
    """The HTML with the ``cid:`` chart replaced by a data URI, for a browser preview."""
    import base64

    if not png:
        return html_text
    uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return html_text.replace(f"cid:{CHART_NAME}", uri)
