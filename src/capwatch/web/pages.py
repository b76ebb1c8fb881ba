"""Server-rendered pages: the overview of every account and the account page."""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from capwatch.errors import ConfigError
from capwatch.models import AlertState, CycleSummary, utcnow
from capwatch.units import format_cap
from capwatch.web.layout import age, alerts_list, gb, page


def _projected(s: CycleSummary) -> tuple[str, bool]:
    f = s.forecast
    if f is None:
        return "-", False
    text = (
        f'<span data-field="projected" data-bytes="{f.expected_bytes}">'
        f'{gb(f.expected_bytes)}</span><br><small class="muted wide" data-field="range">'
        f"{gb(f.low_bytes)}–{gb(f.high_bytes)}</small>"
    )
    return text, s.cap_bytes is not None and f.expected_bytes > s.cap_bytes


def meter(s: CycleSummary) -> str:
    """The share-of-cap bar with its percentage."""
    pct = s.percent
    hot = " hot" if (pct or 0) >= 90 else ""
    return (
        f'<div class="meter{hot}" role="meter" aria-valuemin="0" aria-valuemax="100" '
        f'aria-valuenow="{min(pct or 0, 100):.1f}" aria-label="{escape(s.account)}: share of cap '
        f'used"><span style="width:{min(pct or 0.0, 100.0):.1f}%"></span></div>'
        f'<span data-field="percent">{f"{pct:.1f}%" if pct is not None else "-"}</span>'
    )


def _row(s: CycleSummary, alerts: list[AlertState] | None = None) -> str:
    projected, over = _projected(s)
    allowance = f"{gb(s.daily_allowance_bytes)}/day" if s.daily_allowance_bytes else "-"
    name = escape(s.account)
    cap = format_cap(s.cap_bytes, s.unlimited)
    # The account's alerts, its new-cycle note and its last error get a row of their own across
    # the table, so a phone (which hides the right-hand columns) shows them too.
    notes = f'<small data-field="note">{escape(s.note)}</small>' if s.note else ""
    if s.last_error:
        notes += f'<small class="failing" data-field="error">{escape(s.last_error)}</small>'
    notes += alerts_list(alerts or [])
    detail = (
        f'<tr class="detail" data-account-detail="{name}"><td colspan="9">{notes}</td></tr>'
        if notes
        else ""
    )
    return (
        f'<tr data-account="{name}"><th scope="row"><a href="/accounts/{name}">{name}</a></th>'
        f'<td class="status {s.status.value}" data-field="status">{s.status.value}</td>'
        f'<td class="num" data-field="used" data-bytes="{s.used_bytes or 0}">'
        f"{gb(s.used_bytes)}</td>"
        f'<td class="num wide" data-field="cap" data-bytes="{s.cap_bytes or 0}">{cap}</td>'
        f"<td>{meter(s)}</td>"
        f'<td class="num{" over" if over else ""}">{projected}</td>'
        f'<td class="num wide" data-field="allowance">{allowance}</td>'
        f'<td class="num wide" data-field="days_left">{s.days_left:.1f}</td>'
        f'<td class="wide" data-field="age">{age(s)}</td></tr>{detail}'
    )


def render_overview(
    summaries: list[CycleSummary],
    now: datetime | None = None,
    alerts: dict[str, list[AlertState]] | None = None,
    store_error: str | None = None,
) -> str:
    """The overview page: every account's usage against its cap and its active alerts (and,
    first of all, a store that cannot be written)."""
    now = now or utcnow()
    alerts = alerts or {}
    rows = "\n".join(_row(s, alerts.get(s.account)) for s in summaries) or (
        '<tr><td colspan="9">No accounts configured.</td></tr>'
    )
    banner = (
        f'<p class="note failing" role="alert" data-field="store-error">The store cannot be '
        f"written, so new readings are lost until it can: {escape(store_error)}</p>"
        if store_error
        else ""
    )
    body = f"""<h1>Data cap status</h1>{banner}
<div class="scroll"><table aria-label="Accounts"><thead><tr><th scope="col">Account</th>
<th scope="col">Status</th>
<th scope="col" class="num">Used</th><th scope="col" class="num wide">Cap</th>
<th scope="col">Share</th><th scope="col" class="num">Projected <span class="wide">(80% range)
</span></th><th scope="col" class="num wide">Allowance</th>
<th scope="col" class="num wide">Days left</th><th scope="col" class="wide">Last reading</th>
</tr></thead><tbody>{rows}</tbody></table></div>
<footer>Updated {escape(now.strftime("%Y-%m-%d %H:%M:%S UTC"))}; refreshes every 30 s.
</footer>"""
    return page("capwatch", body, refresh=30)


def build_pages_router() -> APIRouter:
    """The HTML routes."""
    router = APIRouter(include_in_schema=False)

    @router.get("/", response_class=HTMLResponse)
    def overview(request: Request) -> str:
        """The status overview."""
        from capwatch.web.history import cached_summary

        state = request.app.state
        summaries = [cached_summary(state, a.name) for a in state.settings.accounts]
        alerts = {
            s.account: [a for a in state.store.alert_states(s.account).values() if a.active]
            for s in summaries
        }
        coordinator = state.coordinator
        failing = coordinator is not None and coordinator.store_failures
        error = coordinator.last_store_error if failing else None
        return render_overview(summaries, state.clock(), alerts, error)

    @router.get("/accounts/{name}", response_class=HTMLResponse)
    def account(request: Request, name: str) -> str:
        """One account: numbers, burndown, daily bars, cycles, devices, poll log."""
        from capwatch.web.account_page import account_html

        settings: Any = request.app.state.settings
        try:
            settings.account(name)
        except ConfigError:
            raise HTTPException(status_code=404, detail=f"unknown account {name!r}") from None
        return account_html(request.app.state, name)

    return router
