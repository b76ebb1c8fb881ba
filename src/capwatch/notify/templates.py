"""The rows of the numbers people act on, and their plain-text and email-safe HTML renderings
(the Jinja2 templates ``email.txt`` and ``email.html``; see :mod:`capwatch.templating`).

The HTML is a single table-based column (max 600 px) with inline CSS only, which is what email
clients render reliably; the chart is referenced as ``cid:`` and sent inline by the adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from capwatch.models import CycleSummary, DeviceUsage
from capwatch.notify.message import CHART_NAME
from capwatch.templating import money
from capwatch.units import format_bytes as gb
from capwatch.units import format_days, format_pace, format_percent, format_range, format_shift

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


def summary_rows(s: CycleSummary, *, currency: str = "$", final: bool = False) -> list[Row]:
    """Used, cap, %, projected with interval, allowance, days left and overage, as rows."""
    rows: list[Row] = []
    used, cap = s.used_bytes, s.cap_bytes
    over_now = bool(cap and used is not None and used > cap)
    pct = f" ({format_percent(s.percent)} of {gb(cap)})" if s.percent is not None and cap else ""
    rows.append(Row("Used", f"{gb(used) if used is not None else '-'}{pct}", over_now))
    if cap:
        rows.append(Row("Cap", gb(cap)))
        if s.remaining_bytes is not None and not final:
            rows.append(Row("Remaining", gb(s.remaining_bytes), s.remaining_bytes == 0))
    elif s.allowances:
        rows.append(Row("Cap", "per allowance (below)"))
    elif s.unlimited:
        rows.append(Row("Cap", "none (unlimited)"))
    else:
        rows.append(Row("Cap", "not known yet"))
    fc = s.forecast
    if fc is not None and not final:
        over = bool(cap and fc.expected_bytes > cap)
        pct_fc = f" ({format_percent(100 * fc.expected_bytes / cap)})" if cap else ""
        rng = f"{format_range(fc.low_bytes, fc.high_bytes)} ({fc.level:.0%} range)"
        rows.append(Row("Projected at cycle end", f"{gb(fc.expected_bytes)}{pct_fc}", over))
        rows.append(Row("Likely range", rng, bool(cap and fc.low_bytes > cap)))
        if fc.shift is not None:
            rows.append(Row("Why it moved", format_shift(fc.shift)))
    if not final:
        if s.daily_allowance_bytes is not None:
            rows.append(Row("Daily allowance", f"{gb(s.daily_allowance_bytes)} per day"))
        rows.append(Row("Days left", format_days(s.days_left)))
        if s.pace is not None:
            rows.append(Row("Pace (1x is even)", format_pace(s.pace), s.pace > 1.0))
    if s.overage_cost:
        label = "Overage charge" if final else "Projected overage charge"
        rows.append(Row(label, money(s.overage_cost, currency), True))
    rows.extend(allowance_rows(s, final=final))
    return rows


def allowance_rows(s: CycleSummary, *, final: bool = False) -> list[Row]:
    """One row per allowance of the plan: used of its size, and (not final) where it heads."""
    rows = []
    for a in s.allowances:
        label = f"Allowance {a.name}"
        if a.used_bytes is None:
            rows.append(Row(label, f"{gb(a.size_bytes)}; use not known (one ISP total)"))
            continue
        pct = f" ({format_percent(100 * a.used_bytes / a.size_bytes)})" if a.size_bytes else ""
        value = f"{gb(a.used_bytes)} of {gb(a.size_bytes)}{pct}"
        over = a.used_bytes > a.size_bytes
        if not final and a.projected_bytes is not None:
            value += f", projected {gb(a.projected_bytes)}"
            over = over or a.projected_bytes > a.size_bytes
        rows.append(Row(label, value, over))
    return rows


def render_text(body: Body) -> str:
    """The plain-text part: aligned ``label: value`` lines (``email.txt``)."""
    from capwatch.templating import render

    rows = (*body.rows, *body.extra_rows)
    width = max((len(r.label) for r in rows), default=0)
    return render("email.txt", body=body, rows=rows, width=width)


def render_html(body: Body, *, chart: bool = True) -> str:
    """The HTML part (``email.html``, on the base layout the pages share): one inline-styled
    table column, the chart inline via ``cid:``."""
    from capwatch.templating import render

    rows = (*body.rows, *body.extra_rows)
    return render(
        "email.html", body=body, rows=rows, chart=chart, chart_name=CHART_NAME, red=RED, grey=GREY
    )


def inline_preview(html_text: str, png: bytes | None) -> str:
    """The HTML with the ``cid:`` chart replaced by a data URI, for a browser preview."""
    import base64

    if not png:
        return html_text
    uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    return html_text.replace(f"cid:{CHART_NAME}", uri)
