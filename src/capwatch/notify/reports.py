"""The weekly status, the month-end summary and alert messages, as text, HTML and chart.

Reports are built from the store through the same :mod:`capwatch.charts.data` path as the chart,
so the numbers in the text and the picture agree. The numbers come from the service's
``account_summary`` (the analysis forecast) when it is available, else from the chart data.

Scheduling lives here too so the daemon needs no report logic: :func:`due_reports` says which
reports are due, :func:`queue_due_reports` queues a small build request per report in the outbox
(idempotent by key); the report is rendered when it is delivered, from data up to the instant it
was due, so a retry renders the same message.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from capwatch.charts.data import (
    ChartData,
    chart_for_account,
    overage_cost,
    summary_from_chart,
    zone_of,
)
from capwatch.models import AlertEvent, Cycle, CycleSummary, utcnow
from capwatch.notify.message import Report
from capwatch.notify.schedule import DueReport, due_reports, queue_due_reports
from capwatch.notify.templates import Body, Row, render_html, render_text, summary_rows
from capwatch.templating import local_time
from capwatch.units import format_bytes as gb
from capwatch.units import format_percent

if TYPE_CHECKING:
    from capwatch.config import Settings
    from capwatch.store.api import Store

log = logging.getLogger(__name__)

__all__ = [
    "DueReport",
    "Report",
    "alert_from_payload",
    "build_alert",
    "build_monthly",
    "build_weekly",
    "due_reports",
    "last_closed_cycle",
    "queue_due_reports",
]
FOOTER = "Sent by capwatch. Usage as the meter showed it; the ISP's bill is authoritative."


def _analysis_summary(
    settings: Settings, store: Store, account: str, now: datetime
) -> CycleSummary | None:
    """The service's summary (analysis forecast), or None when that layer is not available."""
    try:
        from capwatch.service.views import account_summary
    except ImportError:
        return None
    try:
        return account_summary(settings, store, account, now)
    except ImportError:
        return None


def current_view(
    settings: Settings, store: Store, account: str, now: datetime
) -> tuple[ChartData, CycleSummary]:
    """Chart data and summary of the account's open cycle as of ``now``."""
    acc = settings.account(account)
    summary = _analysis_summary(settings, store, account, now)
    data = chart_for_account(
        settings, store, account, now=now, forecast=summary.forecast if summary else None
    )
    if summary is None or summary.cycle.start != data.cycle.start:
        fc = data.forecast
        cost = overage_cost(fc.expected_bytes if fc else None, data.cap_bytes, acc)
        summary = summary_from_chart(data, overage_cost=cost, now=now)
    return data, summary


def _png(data: ChartData) -> bytes:
    """The email chart of ``data``."""
    from capwatch.charts.render import render_cycle

    return render_cycle(data, "png")


def _currency(settings: Settings, account: str) -> str:
    ov = settings.account(account).overage
    return ov.currency if ov is not None else "$"


def _link(settings: Settings) -> str | None:
    base = settings.web.base_url
    return base.rstrip("/") + "/" if base else None


def _weekly_lead(s: CycleSummary) -> str:
    """One sentence: on track, or heading over."""
    fc, cap = s.forecast, s.cap_bytes
    heading = [a for a in s.allowances if (a.projected_bytes or 0) > a.size_bytes]
    if cap is None and heading:
        a = heading[0]
        return (
            f"Heading over the {a.name} allowance: projected {gb(a.projected_bytes or 0)} "
            f"of {gb(a.size_bytes)}."
        )
    if cap is None or fc is None:
        return f"{gb(s.used_bytes or 0)} used so far this cycle."
    if fc.expected_bytes > cap:
        return f"Heading over the cap: projected {gb(fc.expected_bytes)} of {gb(cap)}."
    if fc.high_bytes > cap:
        return f"On track, but close: projected {gb(fc.expected_bytes)} of {gb(cap)}."
    return f"On track: projected {gb(fc.expected_bytes)} of {gb(cap)}."


def build_weekly(store: Store, settings: Settings, account_name: str, now: datetime) -> Report:
    """The weekly status of one account as of ``now``."""
    from capwatch.service.advice import plan_advice

    data, s = current_view(settings, store, account_name, now)
    zone = data.zone
    pct = f" ({format_percent(s.percent)})" if s.percent is not None else ""
    proj = f", projected {gb(s.forecast.expected_bytes)}" if s.forecast else ""
    over = bool(s.forecast and s.cap_bytes and s.forecast.expected_bytes > s.cap_bytes)
    subject = (
        f"{'Over pace: ' if over else ''}capwatch {account_name}: "
        f"{gb(s.used_bytes or 0)} of {gb(s.cap_bytes) if s.cap_bytes else 'no cap'}{pct}{proj}"
    )
    metered = [a for a in s.allowances if a.used_bytes is not None]
    if s.cap_bytes is None and metered:  # the plan's allowances carry its limits
        a = max(metered, key=lambda a: (a.projected_bytes or 0) / max(a.size_bytes, 1))
        ahead = (a.projected_bytes or 0) > a.size_bytes
        proj = f", projected {gb(a.projected_bytes)}" if a.projected_bytes is not None else ""
        subject = (
            f"{'Over pace: ' if ahead else ''}capwatch {account_name}: {a.name} "
            f"{gb(a.used_bytes or 0)} of {gb(a.size_bytes)}{proj}"
        )
    body = Body(
        heading=f"Weekly usage: {account_name}",
        lead=_weekly_lead(s),
        rows=summary_rows(s, currency=_currency(settings, account_name)),
        devices=data.devices,
        notes=[*plan_advice(s), f"Latest reading: {local_time(s.last_reading_at, zone)}."],
        link=_link(settings),
        footer=FOOTER,
    )
    return Report(subject, render_text(body), render_html(body), _png(data))


def _history_rows(store: Store, account: str, cycle: Cycle, used: int) -> list[Row]:
    """Comparison with the previous cycle and the average of earlier ones."""
    earlier = [c for c in store.cycles(account, limit=13) if c.cycle_start < cycle.start]
    if not earlier:
        return []
    rows = [Row("Previous cycle", gb(earlier[0].used_bytes))]
    if len(earlier) > 1:
        avg = sum(c.used_bytes for c in earlier) / len(earlier)
        rows.append(Row(f"Average of last {len(earlier)}", gb(avg)))
        rows.append(Row("This cycle vs average", f"{(used / avg - 1) * 100:+.0f}%" if avg else "-"))
    return rows


def _missed_end(store: Store, settings: Settings, account: str, cycle: Cycle) -> bool:
    """Whether the cycle's figure is only a lower bound (capwatch missed its end)."""
    from capwatch.service.views import closed_cycles

    return any(
        c.lower_bound
        for c in closed_cycles(settings, store, account, cycle.end, limit=13)
        if c.cycle_start == cycle.start
    )


def build_monthly(store: Store, settings: Settings, account_name: str, cycle: Cycle) -> Report:
    """The month-end summary of a closed cycle."""
    acc = settings.account(account_name)
    zone = zone_of(acc)
    month = cycle.start.astimezone(ZoneInfo(zone)).strftime("%Y-%m")
    data = chart_for_account(settings, store, account_name, month=month, now=cycle.end)
    used = data.latest_bytes or 0
    cost = overage_cost(used, data.cap_bytes, acc)
    s = summary_from_chart(data, overage_cost=cost, now=cycle.end)
    label = cycle.start.astimezone(ZoneInfo(zone)).strftime("%B %Y")
    pct = f" ({format_percent(s.percent)})" if s.percent is not None else ""
    over = bool(data.cap_bytes and used > data.cap_bytes)
    lead = (
        f"Over the cap by {gb(used - (data.cap_bytes or 0))}."
        if over
        else f"Finished under the cap with {gb(s.remaining_bytes or 0)} to spare."
        if data.cap_bytes
        else f"{gb(used)} used."
    )
    notes = [f"Cycle {local_time(cycle.start, zone)} to {local_time(cycle.end, zone)}."]
    if _missed_end(store, settings, account_name, cycle):
        lead = f"At least {gb(used)} used: capwatch was not running at the end of the cycle."
        notes.append(
            f"The last reading came before the cycle ended, so {gb(used)} is a lower bound."
        )
    body = Body(
        heading=f"{label} summary: {account_name}",
        lead=lead,
        rows=summary_rows(s, currency=_currency(settings, account_name), final=True),
        extra_rows=_history_rows(store, account_name, cycle, used),
        devices=data.devices,
        notes=notes,
        link=_link(settings),
        footer=FOOTER,
    )
    subject = (
        f"capwatch {account_name}: {label} used {gb(used)}"
        f"{' of ' + gb(data.cap_bytes) if data.cap_bytes else ''}{pct}"
    )
    return Report(subject, render_text(body), render_html(body), _png(data))


def build_alert(
    event: AlertEvent,
    summary: CycleSummary | None,
    *,
    png: bytes | None = None,
    zone: str = "UTC",
    link: str | None = None,
) -> Report:
    """An alert message: what fired (or resolved) and the numbers behind it."""
    fired = event.kind == "fired"
    verb = "Alert" if fired else "Resolved"
    subject = f"capwatch {event.account}: {verb}: {event.message}"
    rows = summary_rows(summary) if summary is not None else []
    body = Body(
        heading=f"{verb}: {event.account}",
        lead=event.message,
        rows=rows,
        notes=[f"{'Fired' if fired else 'Resolved'} {local_time(event.at, zone)}."],
        link=link,
        footer=FOOTER,
    )
    return Report(subject, render_text(body), render_html(body, chart=png is not None), png)


def _event_from_payload(payload: Mapping[str, Any]) -> AlertEvent:
    """Rebuild the AlertEvent the alerting service queued (ISO datetimes)."""
    at = payload.get("at")
    value = payload.get("value")
    return AlertEvent(
        account=str(payload["account"]),
        rule=str(payload.get("rule", "")),
        level=str(payload.get("level", "")),
        kind=str(payload.get("kind", "fired")),
        at=datetime.fromisoformat(at) if isinstance(at, str) else utcnow(),
        message=str(payload.get("message", "")),
        value=float(value) if isinstance(value, int | float) else None,
    )


def alert_from_payload(
    payload: Mapping[str, Any], store: Store, settings: Settings, now: datetime
) -> Report:
    """Render an outbox item at delivery: a report build request or an alert event."""
    if "report" in payload:
        return _build_requested(payload, store, settings)
    event = _event_from_payload(payload)
    name = event.account
    summary: CycleSummary | None = None
    png: bytes | None = None
    zone = "UTC"
    try:
        zone = zone_of(settings.account(name))
        data, summary = current_view(settings, store, name, event.at)
        png = _png(data)
    except Exception as exc:  # the alert text goes out even when the chart cannot be drawn
        log.warning("alert for %s sent without numbers: %s", name, type(exc).__name__)
    return build_alert(event, summary, png=png, zone=zone, link=_link(settings))


def _build_requested(payload: Mapping[str, Any], store: Store, settings: Settings) -> Report:
    """Build the weekly or monthly report a queued request names."""
    account = str(payload["account"])
    if payload["report"] == "weekly":
        return build_weekly(store, settings, account, datetime.fromisoformat(payload["at"]))
    cycle = Cycle(
        datetime.fromisoformat(payload["cycle_start"]), datetime.fromisoformat(payload["cycle_end"])
    )
    return build_monthly(store, settings, account, cycle)


def last_closed_cycle(store: Store, settings: Settings, account: str, now: datetime) -> Cycle:
    """The newest cycle of ``account`` that ended by ``now`` (InputError when there is none)."""
    from capwatch.charts.data import cycle_span
    from capwatch.errors import InputError

    acc = settings.account(account)
    zone = zone_of(acc)
    for rec in store.cycles(account, limit=6):
        cycle = cycle_span(rec.cycle_start, rec.cycle_end, zone, acc.cycle.start_day)
        if cycle.end <= now:
            return cycle
    raise InputError(f"account {account!r}: no closed cycle stored yet")
