"""A fake Huawei LTE router (HiLink web API) on 127.0.0.1, with its login and session tokens.

The login flow is the one huawei-lte-api drives: ``GET /`` (sets the ``SessionID`` cookie; no
csrf meta tags here), ``GET /api/webserver/token`` (answered "not supported", 100002, as older
firmware does), ``GET /api/webserver/SesTokInfo``, ``GET /api/user/state-login``
(``password_type`` 4) and ``POST /api/user/login`` with the SHA-256 password hash over the
issued token; a good login gets a new session cookie and a fresh ``__RequestVerificationToken``.
``monitoring/month_statistics`` and ``monitoring/start_date`` answer only a logged-in session
(else error 100003), with the real bodies in tests/data/real/huawei_lte/, figures set from the
state.

Modes: ok, not_xml, no_support (month_statistics answers 100002), locked (login answers 108007).
Run standalone: ``python -m tests.fakes.huawei_lte --port 8088`` (admin / ``fake-huawei-pass``).
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

REAL = Path(__file__).resolve().parent.parent / "data" / "real" / "huawei_lte"
MODES = ["ok", "not_xml", "no_support", "locked"]
PASSWORD = "fake-huawei-pass"
XML = '<?xml version="1.0" encoding="UTF-8"?>\n'


@dataclass
class HuaweiState:
    """What the fake serves and what it saw."""

    mode: str = "ok"
    user: str = "admin"
    password: str = PASSWORD
    download: int = 10_179_248_566  # the real reply's figures (mobitra's router)
    upload: int = 350_146_232
    last_clear: str = "2019-10-29"
    start_day: int = 1
    data_limit: str = "0MB"
    set_month_data: int = 0
    tokens: dict[str, str] = field(default_factory=dict)  # session cookie -> issued token
    logged_in: set[str] = field(default_factory=set)
    logins: int = 0
    refused: int = 0
    requests: list[str] = field(default_factory=list)


def _error(code: int) -> Response:
    body = f"{XML}<error>\n<code>{code}</code>\n<message></message>\n</error>\n"
    return Response(body, media_type="text/xml")


def _xml(body: str, **headers: str) -> Response:
    return Response(body, media_type="text/xml", headers=headers)


def _hash(user: str, password: str, token: str) -> str:
    inner = base64.b64encode(hashlib.sha256(password.encode()).hexdigest().encode()).decode()
    outer = hashlib.sha256((user + inner + token).encode()).hexdigest()
    return base64.b64encode(outer.encode()).decode()


def _field(body: str, name: str) -> str:
    match = re.search(f"<{name}>(.*?)</{name}>", body, re.S)
    return match.group(1) if match else ""


def make_app(state: HuaweiState) -> Starlette:
    """The fake router's ASGI app."""

    def session(request: Request) -> str:
        return request.cookies.get("SessionID", "")

    async def home(request: Request) -> Response:
        state.requests.append("GET /")
        cookie = secrets.token_hex(32)
        state.tokens[cookie] = secrets.token_hex(16)
        response = Response("<html><head><title>LTE</title></head></html>", media_type="text/html")
        response.set_cookie("SessionID", cookie, httponly=True)
        return response

    async def api(request: Request) -> Response:
        path = request.path_params["path"]
        state.requests.append(f"{request.method} /api/{path}")
        sid = session(request)
        if path == "webserver/token":
            return _error(100002)
        if path == "webserver/SesTokInfo":
            token = state.tokens.get(sid) or secrets.token_hex(16)
            return _xml(
                f"{XML}<response>\n<SesInfo>SessionID={sid}</SesInfo>\n"
                f"<TokInfo>{token}</TokInfo>\n</response>\n"
            )
        if path == "user/state-login":
            return _xml(
                f"{XML}<response>\n<State>-1</State>\n<Username></Username>\n"
                "<password_type>4</password_type>\n<extern_password_type>1</extern_password_type>"
                "\n<firstlogin>0</firstlogin>\n</response>\n"
            )
        if path == "user/login" and request.method == "POST":
            return await login(request, sid)
        if path == "user/logout":
            state.logged_in.discard(sid)
            return _xml(f"{XML}<response>OK</response>\n")
        if sid not in state.logged_in:
            return _error(100003)
        if state.mode == "not_xml":
            return Response("<html><body>Web UI", media_type="text/html")
        if path == "monitoring/month_statistics":
            if state.mode == "no_support":
                return _error(100002)
            text = (REAL / "month_statistics_mobitra.xml").read_text(encoding="utf-8")
            text = text.replace(">10179248566<", f">{state.download}<")
            text = text.replace(">350146232<", f">{state.upload}<")
            return _xml(text.replace(">2019-10-29<", f">{state.last_clear}<"))
        if path == "monitoring/start_date":
            text = (REAL / "start_date_b525.xml").read_text(encoding="utf-8")
            text = text.replace("<StartDay>1<", f"<StartDay>{state.start_day}<")
            text = text.replace(">0MB<", f">{state.data_limit}<")
            return _xml(text.replace("<SetMonthData>0<", f"<SetMonthData>{state.set_month_data}<"))
        return _error(100002)

    async def login(request: Request, sid: str) -> Response:
        body = (await request.body()).decode("utf-8", "replace")
        token = state.tokens.get(sid, "")
        header = request.headers.get("__RequestVerificationToken", "")
        if state.mode == "locked":
            return _error(108007)
        good = _hash(state.user, state.password, token)
        if not token or header != token or _field(body, "Username") != state.user:
            state.refused += 1
            return _error(108006)
        if _field(body, "Password") != good or _field(body, "password_type") != "4":
            state.refused += 1
            return _error(108006)
        state.logins += 1
        new = secrets.token_hex(32)
        state.logged_in.add(new)
        fresh = secrets.token_hex(16)
        state.tokens[new] = fresh
        response = _xml(f"{XML}<response>OK</response>\n", __RequestVerificationToken=fresh)
        response.set_cookie("SessionID", new, httponly=True)
        return response

    return Starlette(
        routes=[
            Route("/", home, methods=["GET"]),
            Route("/api/{path:path}", api, methods=["GET", "POST"]),
        ]
    )


if __name__ == "__main__":  # pragma: no cover - manual runs
    from tests.fakes._server import main

    main(lambda mode: make_app(HuaweiState(mode=mode)), MODES)
