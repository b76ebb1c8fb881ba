"""The JSON API under /api/v1 (shapes in :mod:`capwatch.service.serialize`)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request

from capwatch.errors import ConfigError
from capwatch.models import utcnow
from capwatch.service import serialize

MAX_POINTS = 5000


def _ctx(request: Request) -> tuple[Any, Any]:
    return request.app.state.settings, request.app.state.store


def _account(request: Request, name: str) -> Any:
    settings, _ = _ctx(request)
    try:
        return settings.account(name)
    except ConfigError:
        raise HTTPException(status_code=404, detail=f"unknown account {name!r}") from None


def _aware(value: datetime | None, field: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise HTTPException(status_code=422, detail=f"{field}: a UTC offset is required")
    return value


def downsample(points: list[Any], limit: int) -> list[Any]:
    """Keep at most ``limit`` points, evenly spaced, always keeping the first and last."""
    if limit <= 0 or len(points) <= limit:
        return points
    if limit == 1:
        return [points[-1]]
    step = (len(points) - 1) / (limit - 1)
    return [points[round(i * step)] for i in range(limit)]


def build_api_router() -> APIRouter:
    """The /api/v1 routes."""
    router = APIRouter(prefix="/api/v1", tags=["api"])

    @router.get("/accounts", summary="Every account with its current cycle and forecast")
    def accounts(request: Request) -> list[dict[str, Any]]:
        """Summaries of every configured account."""
        from capwatch.service.views import account_summary

        settings, store = _ctx(request)
        now = utcnow()
        return [
            serialize.summary_to_dict(account_summary(settings, store, a.name, now))
            for a in settings.accounts
        ]

    @router.get("/accounts/{name}", summary="One account's current cycle and forecast")
    def account(request: Request, name: str) -> dict[str, Any]:
        """The summary of one account."""
        from capwatch.service.views import account_summary

        _account(request, name)
        settings, store = _ctx(request)
        return serialize.summary_to_dict(account_summary(settings, store, name, utcnow()))

    @router.get("/accounts/{name}/readings", summary="Readings in a range, downsampled")
    def readings(
        request: Request,
        name: str,
        start: Annotated[datetime | None, Query(description="ISO 8601 with offset")] = None,
        end: Annotated[datetime | None, Query(description="ISO 8601 with offset")] = None,
        points: Annotated[int, Query(ge=1, le=MAX_POINTS)] = 500,
    ) -> list[dict[str, Any]]:
        """Readings of an account within [start, end), at most ``points`` of them."""
        _account(request, name)
        _, store = _ctx(request)
        rows = store.readings(name, _aware(start, "start"), _aware(end, "end"))
        return [serialize.reading_to_dict(r) for r in downsample(rows, points)]

    @router.get("/accounts/{name}/cycles", summary="Earlier cycles, newest first")
    def cycles(
        request: Request, name: str, limit: Annotated[int, Query(ge=1, le=240)] = 24
    ) -> list[dict[str, Any]]:
        """Cycle aggregates of an account."""
        _account(request, name)
        _, store = _ctx(request)
        return [serialize.cycle_to_dict(c) for c in store.cycles(name, limit=limit)]

    @router.get("/accounts/{name}/devices", summary="Per-device usage in the current cycle")
    def devices(request: Request, name: str) -> list[dict[str, Any]]:
        """Devices of the current cycle, largest first (when the source reports them)."""
        _account(request, name)
        _, store = _ctx(request)
        latest = store.latest_reading(name)
        if latest is None:
            return []
        return [
            {"device_id": d.device_id, "name": d.name, "used_bytes": d.used_bytes}
            for d in store.devices(name, latest.cycle_start)
        ]

    @router.get("/accounts/{name}/alerts", summary="Alert states of an account")
    def alerts(request: Request, name: str) -> list[dict[str, Any]]:
        """Latched alert states: active ones first."""
        _account(request, name)
        _, store = _ctx(request)
        states = sorted(store.alert_states(name).values(), key=lambda s: (not s.active, s.rule))
        return [
            {
                "rule": s.rule,
                "level": s.level,
                "active": s.active,
                "cycle_start": serialize._iso(s.cycle_start),
                "fired_at": serialize._iso(s.fired_at),
                "resolved_at": serialize._iso(s.resolved_at),
                "message": s.message,
            }
            for s in states
        ]

    @router.get("/accounts/{name}/polls", summary="The poll log, newest first")
    def polls(
        request: Request, name: str, limit: Annotated[int, Query(ge=1, le=500)] = 50
    ) -> list[dict[str, Any]]:
        """Recent polls of an account with their outcome and error."""
        _account(request, name)
        _, store = _ctx(request)
        return [serialize.poll_entry_to_dict(e) for e in store.poll_log(name, limit=limit)]

    @router.post("/accounts/{name}/poll", summary="Poll an account now")
    async def poll_now(request: Request, name: str) -> dict[str, Any]:
        """Poll now; needs the header ``X-Capwatch-Request: 1`` (CSRF protection)."""
        _account(request, name)
        if request.headers.get("x-capwatch-request") != "1":
            raise HTTPException(status_code=403, detail="missing X-Capwatch-Request header")
        coordinator = request.app.state.coordinator
        if coordinator is None:
            raise HTTPException(status_code=503, detail="polling is not running in this process")
        async with request.app.state.poll_lock:
            result = await coordinator.poll_account(name, force=True)
        await asyncio.sleep(0)
        return {
            "account": name,
            "outcome": result.outcome.value,
            "stored": result.stored,
            "skipped": result.skipped,
            "message": result.message,
            "reading": serialize.reading_to_dict(result.reading) if result.reading else None,
        }

    return router
