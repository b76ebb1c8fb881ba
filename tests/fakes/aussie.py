"""A fake Aussie Broadband: ``myaussie-auth`` login and the ``myaussie-api`` routes on one host.

Routes: POST /login (JSON username/password; sets ``myaussie_cookie``), GET /services,
GET /broadband/{id}/usage, POST /2fa/send, POST /2fa/verify.
Modes: ok, bad_password, 5xx, html, truncated, 429, unlimited, empty, mfa.
Run standalone: ``python -m tests.fakes.aussie --port 8082 [--mode ok]``
(username ``fake@example.com`` / password ``fake-aussie-password``; MFA code ``123456``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

MODES = ["ok", "bad_password", "5xx", "html", "truncated", "429", "unlimited", "empty", "mfa"]
USERNAME = "fake@example.com"
PASSWORD = "fake-aussie-password"
MFA_CODE = "123456"
SERVICE_ID = 2345678


@dataclass
class AussieState:
    """What the fake serves and what it saw."""

    mode: str = "ok"
    username: str = USERNAME
    password: str = PASSWORD
    valid_cookies: set[str] = field(default_factory=set)
    unverified_cookies: set[str] = field(default_factory=set)
    logins: int = 0
    usage_calls: int = 0
    mfa_sent: list[str] = field(default_factory=list)
    services: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {"service_id": 99001, "type": "VOIP", "name": "Home phone"},
            {"service_id": SERVICE_ID, "type": "NBN", "name": "NBN 100/20", "nbnDetails": {}},
        ]
    )
    usage: dict[str, Any] = field(
        default_factory=lambda: {
            "usedMb": 123456,
            "downloadedMb": 110000,
            "uploadedMb": 13456,
            "remainingMb": 876544,
            "daysTotal": 30,
            "daysRemaining": 8,
            "lastUpdated": "2026-11-23 09:15:42",
        }
    )
    _counter: Any = field(default_factory=lambda: itertools.count(1))

    def new_cookie(self) -> str:
        """Mint a session cookie value."""
        return f"fake-session-{next(self._counter)}-{'x' * 24}"


def _early(state: AussieState) -> Response | None:
    if state.mode == "5xx":
        return Response("bad gateway", status_code=503)
    if state.mode == "429":
        body = {"errors": {"username": ["Too many attempts. Please try again in 42 seconds."]}}
        return JSONResponse(body, status_code=429, headers={"Retry-After": "42"})
    if state.mode == "html":
        return Response("<!DOCTYPE html><html><body>Down</body></html>", media_type="text/html")
    return None


def _authorised(state: AussieState, request: Request) -> Response | None:
    cookie = request.cookies.get("myaussie_cookie", "")
    if cookie in state.unverified_cookies:
        return JSONResponse({"message": "Two factor authentication required"}, status_code=403)
    if cookie not in state.valid_cookies:
        return JSONResponse({"message": "Unauthenticated."}, status_code=401)
    return None


async def _login(request: Request) -> Response:
    state: AussieState = request.app.state.fake
    early = _early(state)
    if early is not None:
        return early
    body = await request.json()
    state.logins += 1
    if state.mode == "bad_password" or (body.get("username"), body.get("password")) != (
        state.username,
        state.password,
    ):
        errors = {"username": ["These credentials do not match our records."]}
        return JSONResponse(
            {"message": "The given data was invalid.", "errors": errors}, status_code=422
        )
    cookie = state.new_cookie()
    answer: dict[str, Any] = {"refreshToken": f"refresh-{cookie}", "expiresIn": 3600}
    if state.mode == "mfa":
        state.unverified_cookies.add(cookie)
        answer["twoFactorAuth"] = {"required": True, "methods": ["sms", "email"]}
    else:
        state.valid_cookies.add(cookie)
    response = JSONResponse(answer)
    response.set_cookie("myaussie_cookie", cookie, httponly=True)
    return response


async def _send_code(request: Request) -> Response:
    state: AussieState = request.app.state.fake
    cookie = request.cookies.get("myaussie_cookie", "")
    if cookie not in state.unverified_cookies:
        return JSONResponse({"message": "Unauthenticated."}, status_code=401)
    state.mfa_sent.append((await request.json()).get("method", ""))
    return JSONResponse({"message": "Code sent"})


async def _verify(request: Request) -> Response:
    state: AussieState = request.app.state.fake
    cookie = request.cookies.get("myaussie_cookie", "")
    if cookie not in state.unverified_cookies:
        return JSONResponse({"message": "Unauthenticated."}, status_code=401)
    if (await request.json()).get("token") != MFA_CODE:
        return JSONResponse({"message": "Invalid code"}, status_code=422)
    state.unverified_cookies.discard(cookie)
    state.valid_cookies.add(cookie)
    return JSONResponse({"message": "Verified"})


async def _services(request: Request) -> Response:
    state: AussieState = request.app.state.fake
    refused = _early(state) or _authorised(state, request)
    if refused is not None:
        return refused
    data = [] if state.mode == "empty" else state.services
    return JSONResponse({"data": data, "links": {}, "meta": {"current_page": 1}})


async def _usage(request: Request) -> Response:
    state: AussieState = request.app.state.fake
    refused = _early(state) or _authorised(state, request)
    if refused is not None:
        return refused
    state.usage_calls += 1
    if str(request.path_params["sid"]) != str(SERVICE_ID):
        return JSONResponse({"message": "Not found"}, status_code=404)
    if state.mode == "truncated":
        return Response('{"usedMb": 1234, "downloa', media_type="application/json")
    body = dict(state.usage)
    if state.mode == "unlimited":
        body["remainingMb"] = None
    return JSONResponse(body)


def make_app(state: AussieState) -> Starlette:
    """Build the ASGI app serving ``state``."""
    app = Starlette(
        routes=[
            Route("/login", _login, methods=["POST"]),
            Route("/2fa/send", _send_code, methods=["POST"]),
            Route("/2fa/verify", _verify, methods=["POST"]),
            Route("/services", _services, methods=["GET"]),
            Route("/broadband/{sid}/usage", _usage, methods=["GET"]),
        ]
    )
    app.state.fake = state
    return app


def build(mode: str) -> Starlette:
    """App for standalone runs."""
    return make_app(AussieState(mode=mode))


if __name__ == "__main__":
    from tests.fakes._server import main

    main(build, MODES)
