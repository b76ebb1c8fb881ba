"""A fake Internode Customer Tools API v1.5 (HTTP Basic auth, XML).

Routes: GET /api/v1.5/ (services), GET /api/v1.5/{id}/usage, GET /api/v1.5/{id}/history.
Modes: ok, bad_password, bad_password_404 (the real 404 page), 5xx, html, truncated, 429,
unlimited, empty (no services), error.
Run standalone: ``python -m tests.fakes.internode --port 8084 [--mode ok]``
(user ``fakeuser`` / password ``fake-node-password``).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

MODES = [
    "ok", "bad_password", "bad_password_404", "5xx", "html", "truncated", "429", "unlimited",
    "empty", "error",
]  # fmt: skip
REAL_404 = (
    Path(__file__).resolve().parent.parent / "data/real/internode/error_404_bad_credentials.html"
)
USERNAME = "fakeuser"
PASSWORD = "fake-node-password"
SERVICE_ID = "1917923"
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'


@dataclass
class InternodeState:
    """What the fake serves and what it saw."""

    mode: str = "ok"
    username: str = USERNAME
    password: str = PASSWORD
    used: int = 123456789012
    quota: int = 500_000_000_000
    rollover: str = "2026-12-14"
    history_start: date = date(2026, 9, 14)
    history_days: int = 70
    daily: int = 2_000_000_000
    requests: list[dict[str, Any]] = field(default_factory=list)


def _xml(body: str) -> Response:
    return Response(HEAD + body, media_type="text/xml")


def _authorised(state: InternodeState, request: Request) -> bool:
    header = request.headers.get("authorization", "")
    if not header.startswith("Basic "):
        return False
    user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    return state.mode != "bad_password" and (user, password) == (state.username, state.password)


def _early(state: InternodeState, request: Request) -> Response | None:
    state.requests.append({"path": request.url.path, "ua": request.headers.get("user-agent")})
    if state.mode == "5xx":
        return Response("internal error", status_code=500)
    if state.mode == "429":
        return Response("too many", status_code=429)
    if state.mode == "html":
        return Response(
            "<!DOCTYPE html><html><body>Internode</body></html>", media_type="text/html"
        )
    if state.mode == "bad_password_404":  # as a real exchange recorded it
        return Response(REAL_404.read_text(), status_code=404, media_type="text/html")
    if not _authorised(state, request):
        return Response(
            HEAD + "<error><msg>Authentication failed</msg></error>",
            status_code=401,
            media_type="text/xml",
            headers={"WWW-Authenticate": 'Basic realm="internode"'},
        )
    if state.mode == "error":
        return _xml("<error><msg>Service temporarily unavailable</msg></error>")
    return None


async def _services(request: Request) -> Response:
    state: InternodeState = request.app.state.fake
    early = _early(state, request)
    if early is not None:
        return early
    if state.mode == "empty":
        return _xml('<internode><api><services count="0"></services></api></internode>')
    return _xml(
        '<internode><api><services count="1">'
        f'<service type="Personal_ADSL" href="/api/v1.5/{SERVICE_ID}">{SERVICE_ID}</service>'
        "</services></api></internode>"
    )


async def _usage(request: Request) -> Response:
    state: InternodeState = request.app.state.fake
    early = _early(state, request)
    if early is not None:
        return early
    quota = 0 if state.mode == "unlimited" else state.quota
    body = (
        f'<internode><api><service type="Personal_ADSL" request="usage">{SERVICE_ID}'
        f'</service><traffic name="total" rollover="{state.rollover}" '
        f'plan-interval="Monthly" quota="{quota}" unit="bytes">{state.used}</traffic>'
        "</api></internode>"
    )
    if state.mode == "truncated":
        body = body[: len(body) - 40]
    return _xml(body)


async def _history(request: Request) -> Response:
    state: InternodeState = request.app.state.fake
    early = _early(state, request)
    if early is not None:
        return early
    items = "".join(
        f'<usage day="{(state.history_start + timedelta(days=i)).isoformat()}">'
        f'<traffic name="total" unit="bytes">{state.daily}</traffic></usage>'
        for i in range(state.history_days)
    )
    return _xml(
        f'<internode><api><service type="Personal_ADSL" request="history">{SERVICE_ID}'
        f"</service><usagelist>{items}</usagelist></api></internode>"
    )


def make_app(state: InternodeState) -> Starlette:
    """Build the ASGI app serving ``state``."""
    app = Starlette(
        routes=[
            Route("/api/v1.5/", _services, methods=["GET"]),
            Route("/api/v1.5/{sid}/usage", _usage, methods=["GET"]),
            Route("/api/v1.5/{sid}/history", _history, methods=["GET"]),
        ]
    )
    app.state.fake = state
    return app


def build(mode: str) -> Starlette:
    """App for standalone runs."""
    return make_app(InternodeState(mode=mode))


if __name__ == "__main__":
    from tests.fakes._server import main

    main(build, MODES)
