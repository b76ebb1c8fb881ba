"""A fake JSON endpoint for ``http_json``: a router page and a token-protected carrier API.

Routes: GET /router/usage (no auth), POST /carrier/usage (``Authorization: Bearer <token>``,
JSON body ``{"account": ...}``), GET /carrier/usage?api_key=... (key in the query).
Modes: ok, unauthorised, 5xx, html, truncated, 429, unlimited, empty.
Run standalone: ``python -m tests.fakes.httpjson --port 8085 [--mode ok]``
(token ``fake-bearer-token-123``, key ``fake-query-key-456``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

MODES = ["ok", "unauthorised", "5xx", "html", "truncated", "429", "unlimited", "empty"]
TOKEN = "fake-bearer-token-123"
QUERY_KEY = "fake-query-key-456"


@dataclass
class HttpJsonState:
    """What the fake serves and what it saw."""

    mode: str = "ok"
    token: str = TOKEN
    query_key: str = QUERY_KEY
    requests: list[dict[str, Any]] = field(default_factory=list)


def _router_body() -> dict[str, Any]:
    return {
        "model": "FakeRouter 9000",
        "wan": {"rx_bytes": 812345678901, "tx_bytes": 45678901234},
        "plan": {"cap": "1.2 TB", "period": {"start": "2026-11-01", "end": "2026-11-30"}},
        "updated": 1795413600,
    }


def _carrier_body(unlimited: bool) -> dict[str, Any]:
    return {
        "data": {
            "usage": {"used": "123.4 GB", "limit": None if unlimited else "500 GB"},
            "cycle": {"start": "2026-11-05T00:00:00-05:00", "end": "2026-12-05T00:00:00-05:00"},
            "asOf": "2026-11-23T10:00:00Z",
        },
        "echo": {"token": TOKEN},
    }


def _early(state: HttpJsonState, request: Request) -> Response | None:
    state.requests.append(
        {
            "path": request.url.path,
            "method": request.method,
            "ua": request.headers.get("user-agent"),
        }
    )
    if state.mode == "5xx":
        return Response("bad gateway", status_code=502)
    if state.mode == "429":
        return Response("slow", status_code=429, headers={"Retry-After": "30"})
    if state.mode == "html":
        return Response("<!DOCTYPE html><html><body>Login</body></html>", media_type="text/html")
    if state.mode == "truncated":
        return Response('{"data": {"usage": {"used": "12', media_type="application/json")
    if state.mode == "empty":
        return JSONResponse({})
    return None


async def _router(request: Request) -> Response:
    state: HttpJsonState = request.app.state.fake
    return _early(state, request) or JSONResponse(_router_body())


async def _carrier_post(request: Request) -> Response:
    state: HttpJsonState = request.app.state.fake
    early = _early(state, request)
    if early is not None:
        return early
    body = await request.json()
    state.requests[-1]["body"] = body
    if state.mode == "unauthorised" or request.headers.get("authorization") != (
        f"Bearer {state.token}"
    ):
        return JSONResponse({"error": "invalid token"}, status_code=401)
    return JSONResponse(_carrier_body(state.mode == "unlimited"))


async def _carrier_get(request: Request) -> Response:
    state: HttpJsonState = request.app.state.fake
    early = _early(state, request)
    if early is not None:
        return early
    if state.mode == "unauthorised" or request.query_params.get("api_key") != state.query_key:
        return JSONResponse({"error": "invalid key"}, status_code=403)
    return JSONResponse(_carrier_body(state.mode == "unlimited"))


def make_app(state: HttpJsonState) -> Starlette:
    """Build the ASGI app serving ``state``."""
    app = Starlette(
        routes=[
            Route("/router/usage", _router, methods=["GET"]),
            Route("/carrier/usage", _carrier_post, methods=["POST"]),
            Route("/carrier/usage", _carrier_get, methods=["GET"]),
        ]
    )
    app.state.fake = state
    return app


def build(mode: str) -> Starlette:
    """App for standalone runs."""
    return make_app(HttpJsonState(mode=mode))


if __name__ == "__main__":
    from tests.fakes._server import main

    main(build, MODES)
