"""Server-rendered pages: the overview of every account (``overview.html``) and its routes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from capwatch.errors import ConfigError
from capwatch.models import AlertState, CycleSummary, utcnow
from capwatch.service.advice import next_step
from capwatch.templating import render
from capwatch.web.sparkline import Sparkline

SPARK_POINTS = 48


@dataclass(frozen=True, slots=True)
class OverviewRow:
    """What the overview shows of one account."""

    summary: CycleSummary
    alerts: list[AlertState]
    spark: Sparkline | None
    next: str

    @property
    def over(self) -> bool:
        """The projection passes the cap."""
        s, f = self.summary, self.summary.forecast
        return bool(f and s.cap_bytes and f.expected_bytes > s.cap_bytes)


def overview_row(
    s: CycleSummary, alerts: list[AlertState] | None = None, spark: Sparkline | None = None
) -> OverviewRow:
    """One account's row: its summary, its active alerts (oldest first), sparkline, next step."""
    ordered = sorted(alerts or [], key=lambda a: (a.fired_at is None, a.fired_at))
    return OverviewRow(s, ordered, spark, next_step(s))


def render_overview(
    summaries: list[CycleSummary],
    now: datetime | None = None,
    alerts: dict[str, list[AlertState]] | None = None,
    store_error: str | None = None,
    *,
    sparks: dict[str, Sparkline | None] | None = None,
    first_run: bool = False,
    gateways: list[str] | None = None,
) -> str:
    """The overview page: every account's usage against its cap, a small burndown, its active
    alerts and what to do next (and, first of all, a store that cannot be written)."""
    from capwatch.config.account import COUNTER_DEFAULT_CAP

    alerts, sparks = alerts or {}, sparks or {}
    rows = [overview_row(s, alerts.get(s.account), sparks.get(s.account)) for s in summaries]
    return render(
        "overview.html",
        rows=rows,
        now=now or utcnow(),
        store_error=store_error,
        first_run=first_run,
        router=(gateways or [""])[0].split(" (")[0],
        default_cap=COUNTER_DEFAULT_CAP,
        refresh=30,
        script=False,
    )


def build_pages_router() -> APIRouter:
    """The HTML routes."""
    router = APIRouter(include_in_schema=False)

    @router.get("/", response_class=HTMLResponse)
    def overview(request: Request) -> str:
        """The status overview."""
        from capwatch.lan import only_host_meter
        from capwatch.web.history import cached_burndown, cached_summary
        from capwatch.web.sparkline import sparkline

        state = request.app.state
        summaries = [cached_summary(state, a.name) for a in state.settings.accounts]
        alerts = {
            s.account: [a for a in state.store.alert_states(s.account).values() if a.active]
            for s in summaries
        }
        sparks = {
            s.account: sparkline(cached_burndown(state, s.account, SPARK_POINTS)) for s in summaries
        }
        coordinator = state.coordinator
        failing = coordinator is not None and coordinator.store_failures
        error = coordinator.last_store_error if failing else None
        settings = state.settings
        first_run = only_host_meter(settings)
        gateways = state.gateways() if first_run else []
        return render_overview(
            summaries,
            state.clock(),
            alerts,
            error,
            sparks=sparks,
            first_run=first_run,
            gateways=gateways,
        )

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
