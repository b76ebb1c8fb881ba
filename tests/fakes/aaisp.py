"""A fake Andrews & Arnold: CHAOS v2 ``/broadband/quota`` + ``/broadband/info`` and quota.aa.net.uk.

Modes: ok, unlimited, bad_password, error, 5xx, html, truncated, 429, empty.
Run standalone: ``python -m tests.fakes.aaisp --port 8081 [--mode ok]``
(login ``test@a.1`` / password ``fake-aa-password``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

MODES = [
    "ok",
    "unlimited",
    "bad_password",
    "error",
    "5xx",
    "html",
    "truncated",
    "429",
    "empty",
    "echo",  # a careless reply that echoes the request form (for secret-leak tests)
]
USERNAME = "test@a.1"
PASSWORD = "fake-aa-password"


@dataclass
class AaispState:
    """What the fake serves and what it saw."""

    mode: str = "ok"
    username: str = USERNAME
    password: str = PASSWORD
    lines: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {
                "ID": "32891",
                "quota_monthly": "200000000000",
                "quota_remaining": "150000000000",
                "quota_timestamp": "2026-11-23 14:00:00",
            }
        ]
    )
    requests: list[dict[str, Any]] = field(default_factory=list)


def _mode_response(state: AaispState) -> Response | None:
    if state.mode == "5xx":
        return Response("upstream broke", status_code=502)
    if state.mode == "429":
        return Response("slow down", status_code=429, headers={"Retry-After": "120"})
    if state.mode == "html":
        return Response(
            "<!DOCTYPE html><html><body>Maintenance</body></html>", media_type="text/html"
        )
    if state.mode == "truncated":
        return Response('{"quota": [{"ID": "32891", "quota_mon', media_type="application/json")
    return None


async def _credentials(request: Request) -> dict[str, str]:
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await request.json()
        return {str(k): str(v) for k, v in body.items()}
    body = (await request.body()).decode("utf-8", errors="replace")
    return dict(parse_qsl(body, keep_blank_values=True))


async def _quota(request: Request) -> Response:
    state: AaispState = request.app.state.fake
    creds = await _credentials(request)
    state.requests.append(
        {
            "path": request.url.path,
            "fields": sorted(creds),
            "ua": request.headers.get("user-agent"),
        }
    )
    early = _mode_response(state)
    if early is not None:
        return early
    login = creds.get("control_login") or creds.get("account_number")
    password = creds.get("control_password") or creds.get("account_password")
    if state.mode == "bad_password" or (login, password) != (state.username, state.password):
        # A&A's real answer (tests/data/real/aaisp/chaos_quota_error_auth.json), HTTP 200
        return JSONResponse({"error": "Control authorisation failed"})
    if state.mode == "error":
        return JSONResponse({"error": "Service temporarily unavailable"})
    lines = [] if state.mode == "empty" else state.lines
    if state.mode == "unlimited":
        lines = [dict(ln, quota_monthly="0", quota_remaining="0") for ln in lines]
    if state.mode == "echo":
        echoed = "&".join(f"{k}={v}" for k, v in creds.items())
        return JSONResponse({"quota": lines, "request": echoed})
    if request.url.path.endswith("/info"):
        info = [dict(ln, login=state.username, postcode="AB1 2CD") for ln in lines]
        return JSONResponse({"info": info})
    return JSONResponse({"quota": lines})


async def _line_quota(request: Request) -> Response:
    state: AaispState = request.app.state.fake
    state.requests.append({"path": "/", "accept": request.headers.get("accept")})
    early = _mode_response(state)
    if early is not None:
        return early
    first = state.lines[0]
    monthly = 0 if state.mode == "unlimited" else int(first["quota_monthly"])
    remaining = 0 if state.mode == "unlimited" else int(first["quota_remaining"])
    if "application/json" not in request.headers.get("accept", ""):
        return Response("<svg xmlns='http://www.w3.org/2000/svg'/>", media_type="image/svg+xml")
    body = {
        "monthly_quota": monthly,
        "monthly_quota_gb": monthly // 10**9,
        "quota_remaining": remaining,
        "quota_remaining_gb": remaining // 10**9,
        "quota_status": "ok",
    }
    return Response(json.dumps(body), media_type="application/json")


def make_app(state: AaispState) -> Starlette:
    """Build the ASGI app serving ``state``."""
    app = Starlette(
        routes=[
            Route("/broadband/quota", _quota, methods=["POST"]),
            Route("/broadband/info", _quota, methods=["POST"]),
            Route("/", _line_quota, methods=["GET"]),
        ]
    )
    app.state.fake = state
    return app


def build(mode: str) -> Starlette:
    """App for standalone runs."""
    return make_app(AaispState(mode=mode))


if __name__ == "__main__":
    from tests.fakes._server import main

    main(build, MODES)
