"""The JSON API under /api/v1 (shapes in :mod:`capwatch.service.serialize`, models in schemas)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.exceptions import RequestValidationError

from capwatch.errors import ConfigError
from capwatch.service import serialize
from capwatch.web import schemas
from capwatch.web.burndown import downsample
from capwatch.web.history import cached_burndown, cached_summary, readings_window

MAX_POINTS = 5000
NameParam = Annotated[str, Path(description="Account name", max_length=100)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown account", "model": schemas.ErrorOut}
}
CSRF_HEADER = "X-Capwatch-Request"
CSRF_PARAMETER = {
    "name": CSRF_HEADER,
    "in": "header",
    "required": True,
    "description": 'Must be "1": a page on another site cannot send it (CSRF protection).',
    "schema": {"type": "string", "enum": ["1"]},
    "example": "1",
}

__all__ = ["MAX_POINTS", "build_api_router", "downsample"]


def _ctx(request: Request) -> tuple[Any, Any]:
    return request.app.state.settings, request.app.state.store


def _account(request: Request, name: str) -> Any:
    settings, _ = _ctx(request)
    try:
        return settings.account(name)
    except ConfigError:
        raise HTTPException(status_code=404, detail=f"unknown account {name!r}") from None


def _invalid(field: str, value: datetime, kind: str, msg: str) -> RequestValidationError:
    """A 422 shaped as FastAPI's own (the HTTPValidationError schema), naming the query field."""
    error = {"type": kind, "loc": ["query", field], "msg": msg, "input": value.isoformat()}
    return RequestValidationError([error])


def _aware(value: datetime | None, field: str) -> datetime | None:
    """The instant in UTC; 422 naming ``field`` when it has no offset or cannot be UTC."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise _invalid(field, value, "timezone_aware", f"{field}: a UTC offset is required")
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise _invalid(field, value, "datetime_range", f"{field}: out of range") from None


def _summary(request: Request, name: str) -> Any:
    return cached_summary(request.app.state, name)


def _read_routes(router: APIRouter) -> None:
    @router.get(
        "/accounts",
        summary="Every account with its current cycle and forecast",
        response_model=list[schemas.SummaryOut],
    )
    def accounts(request: Request) -> list[dict[str, Any]]:
        """Summaries of every configured account."""
        settings, _ = _ctx(request)
        return [serialize.summary_to_dict(_summary(request, a.name)) for a in settings.accounts]

    @router.get(
        "/accounts/{name}",
        summary="One account's current cycle and forecast",
        response_model=schemas.SummaryOut,
        responses=NOT_FOUND,
    )
    def account(request: Request, name: NameParam) -> dict[str, Any]:
        """The summary of one account."""
        _account(request, name)
        return serialize.summary_to_dict(_summary(request, name))

    @router.get(
        "/accounts/{name}/burndown",
        summary="The current cycle's burndown series, forecast and daily usage",
        response_model=schemas.BurndownOut,
        responses=NOT_FOUND,
    )
    def burndown(
        request: Request,
        name: NameParam,
        points: Annotated[int, Query(ge=2, le=MAX_POINTS)] = 400,
        allowance: Annotated[
            str | None,
            Query(
                max_length=64,
                description="One of the plan's allowances: its own series, size and forecast.",
            ),
        ] = None,
    ) -> dict[str, Any]:
        """Used bytes (downsampled), ideal, pro-rata and alarm lines, forecast, daily bars."""
        acc = _account(request, name)
        if allowance is not None and allowance not in {a.name for a in acc.allowances}:
            raise HTTPException(
                status_code=404, detail=f"account {name!r} has no allowance {allowance!r}"
            )
        return cached_burndown(request.app.state, name, points, allowance)

    @router.get(
        "/accounts/{name}/readings",
        summary="Readings in a range, downsampled",
        response_model=list[schemas.ReadingOut],
        responses=NOT_FOUND,
    )
    def readings(
        request: Request,
        name: NameParam,
        start: Annotated[datetime | None, Query(description="ISO 8601 with offset")] = None,
        end: Annotated[datetime | None, Query(description="ISO 8601 with offset")] = None,
        points: Annotated[int, Query(ge=1, le=MAX_POINTS)] = 500,
    ) -> list[dict[str, Any]]:
        """Readings of an account within [start, end), at most ``points`` of them."""
        _account(request, name)
        _, store = _ctx(request)
        rows = readings_window(store, name, _aware(start, "start"), _aware(end, "end"), points)
        return [serialize.reading_to_dict(r) for r in rows]

    @router.get(
        "/accounts/{name}/cycles",
        summary="Earlier cycles, newest first",
        response_model=list[schemas.CycleOut],
        responses=NOT_FOUND,
    )
    def cycles(
        request: Request, name: NameParam, limit: Annotated[int, Query(ge=1, le=240)] = 24
    ) -> list[dict[str, Any]]:
        """Cycle aggregates of an account."""
        from capwatch.service.views import closed_cycles

        _account(request, name)
        settings, store = _ctx(request)
        now = request.app.state.clock()
        return [
            serialize.cycle_to_dict(c, now)
            for c in closed_cycles(settings, store, name, now, limit=limit)
        ]


def _detail_routes(router: APIRouter) -> None:
    @router.get(
        "/accounts/{name}/devices",
        summary="Per-device usage in the current cycle",
        response_model=list[schemas.DeviceOut],
        responses=NOT_FOUND,
    )
    def devices(request: Request, name: NameParam) -> list[dict[str, Any]]:
        """Devices of the current cycle, largest first (when the source reports them)."""
        _account(request, name)
        _, store = _ctx(request)
        return device_dicts(store, name)

    @router.get(
        "/accounts/{name}/alerts",
        summary="Alert states of an account",
        response_model=list[schemas.AlertOut],
        responses=NOT_FOUND,
    )
    def alerts(request: Request, name: NameParam) -> list[dict[str, Any]]:
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

    @router.get(
        "/accounts/{name}/polls",
        summary="The poll log, newest first",
        response_model=list[schemas.PollEntryOut],
        responses=NOT_FOUND,
    )
    def polls(
        request: Request, name: NameParam, limit: Annotated[int, Query(ge=1, le=500)] = 50
    ) -> list[dict[str, Any]]:
        """Recent polls of an account with their outcome and error."""
        _account(request, name)
        _, store = _ctx(request)
        return [serialize.poll_entry_to_dict(e) for e in store.poll_log(name, limit=limit)]


def device_dicts(store: Any, name: str) -> list[dict[str, Any]]:
    """Per-device usage of the account's newest cycle as JSON-ready dicts."""
    latest = store.latest_reading(name)
    if latest is None:
        return []
    return [
        {"device_id": d.device_id, "name": d.name, "used_bytes": d.used_bytes}
        for d in store.devices(name, latest.cycle_start)
    ]


def _poll_route(router: APIRouter) -> None:
    @router.post(
        "/accounts/{name}/poll",
        summary="Poll an account now",
        response_model=schemas.PollNowOut,
        responses={
            403: {
                "description": f"Missing {CSRF_HEADER}: 1 (CSRF protection)",
                "model": schemas.ErrorOut,
            },
            **NOT_FOUND,
            503: {"description": "No poller runs in this process", "model": schemas.ErrorOut},
        },
        # read by hand below, so a missing header is a 403 (a refusal), not a 422
        openapi_extra={"parameters": [CSRF_PARAMETER]},
    )
    async def poll_now(request: Request, name: NameParam) -> dict[str, Any]:
        """Poll now; needs the header ``X-Capwatch-Request: 1`` (CSRF protection)."""
        _account(request, name)
        if request.headers.get(CSRF_HEADER) != "1":
            raise HTTPException(status_code=403, detail="missing X-Capwatch-Request: 1 header")
        coordinator = request.app.state.coordinator
        if coordinator is None:
            raise HTTPException(status_code=503, detail="polling is not running in this process")
        result = await coordinator.poll_now(name)  # rate-limited, coalesced, no forced login
        await asyncio.sleep(0)
        return {
            "account": name,
            "outcome": result.outcome.value,
            "stored": result.stored,
            "skipped": result.skipped,
            "message": result.message,
            "reading": serialize.reading_to_dict(result.reading) if result.reading else None,
        }


def build_api_router() -> APIRouter:
    """The /api/v1 routes."""
    router = APIRouter(prefix="/api/v1", tags=["api"])
    _read_routes(router)
    _detail_routes(router)
    _poll_route(router)
    from capwatch.web.devices_api import add_device_routes

    add_device_routes(router)
    return router
