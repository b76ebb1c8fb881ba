"""A fake UniFi Network application on 127.0.0.1 (HTTPS): a UniFi OS console or a classic
controller, as aiounifi talks to them.

``GET /`` answers 200 on UniFi OS and redirects to ``/manage`` on a classic controller; the
login is ``POST /api/auth/login`` (UniFi OS: the real login reply of tests/data/real/unifi/,
a ``TOKEN`` cookie and an ``x-csrf-token`` header) or ``POST /api/login`` (classic: the
``{"meta": {"rc": "ok"}}`` envelope and a ``unifises`` cookie); ``stat/sta`` (under
``/proxy/network`` on UniFi OS) serves the real wired and wireless client records with the
byte counters and session start set from the state. A refused login is what aiounifi's tests
show: 401 on UniFi OS, ``api.err.Invalid`` on a classic controller; a call without a live
session is 401 ``api.err.LoginRequired``. ``POST stat/report/daily.user`` answers the rows of
``reports`` whose ``time`` is within the body's ``start``..``end`` (the row shape of
tests/data/real/unifi/stat_report_daily_user_row.json, **invented**: see SOURCES.md), or, with
``reports_available`` off, 404 on UniFi OS and ``api.err.NotFound`` on a classic controller;
``stat/sysinfo`` the real system information record with ``timezone`` set from the state.
Run standalone: ``python -m tests.fakes.unifi --port 8443`` (needs a cert: see the tests).
"""

from __future__ import annotations

import copy
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

REAL = Path(__file__).resolve().parent.parent / "data" / "real" / "unifi"
PASSWORD = "fake-unifi-password"
WIRED_MAC = "ac:cc:de:12:34:56"  # the real records' MACs
WIRELESS_MAC = "00:00:00:00:00:01"


def _real(name: str) -> Any:
    return json.loads((REAL / name).read_text(encoding="utf-8"))


@dataclass
class UnifiState:
    """What the fake serves and what it saw."""

    unifi_os: bool = True
    user: str = "capwatch"
    password: str = PASSWORD
    site: str = "default"
    # mac -> (rx_bytes, tx_bytes, assoc_time); a client left out is not connected
    clients: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    sessions: set[str] = field(default_factory=set)
    logins: int = 0
    refused_logins: int = 0
    calls: list[str] = field(default_factory=list)
    # daily report rows: (mac, controller midnight in ms, rx_bytes, tx_bytes)
    reports: list[tuple[str, int, float, float]] = field(default_factory=list)
    reports_available: bool = True
    # the zone stat/sysinfo says (the real record's "timezone" replaced); None: no sysinfo (404)
    timezone: str | None = "America/New_York"
    report_bodies: list[dict[str, Any]] = field(default_factory=list)

    def expire_sessions(self) -> None:
        """Forget every session (as a console that restarted)."""
        self.sessions.clear()


def _client(mac: str, rx: int, tx: int, assoc: int) -> dict[str, Any]:
    record: dict[str, Any] = copy.deepcopy(
        _real("stat_sta_wired_client.json" if mac == WIRED_MAC else "stat_sta_wireless_client.json")
    )
    if record["is_wired"]:
        record.update({"wired-rx_bytes": rx, "wired-tx_bytes": tx})
    else:
        record.update(rx_bytes=rx, tx_bytes=tx)
    record.update(assoc_time=assoc, latest_assoc_time=assoc)
    return record


def make_app(state: UnifiState) -> Starlette:
    """The fake console's ASGI app."""
    cookie = "TOKEN" if state.unifi_os else "unifises"

    async def root(request: Request) -> Response:
        if state.unifi_os:
            return Response("<html>UniFi OS</html>", media_type="text/html")
        return RedirectResponse("/manage", status_code=302)

    async def login(request: Request) -> Response:
        is_os_path = request.url.path == "/api/auth/login"
        if is_os_path != state.unifi_os:
            return Response("Not Found", status_code=404)
        body = json.loads(await request.body())
        if body.get("username") != state.user or body.get("password") != state.password:
            state.refused_logins += 1
            if state.unifi_os:
                return JSONResponse({}, status_code=401)
            return JSONResponse(
                {"meta": {"rc": "error", "msg": "api.err.Invalid"}, "data": []}, status_code=400
            )
        state.logins += 1
        token = secrets.token_hex(16)
        state.sessions.add(token)
        if state.unifi_os:
            reply = JSONResponse(_real("login_unifi_os.json"))
            reply.headers["x-csrf-token"] = secrets.token_hex(8)
        else:
            reply = JSONResponse({"meta": {"rc": "ok"}, "data": []})
        reply.set_cookie(cookie, token, httponly=True, secure=True)
        return reply

    async def stat_sta(request: Request) -> Response:
        prefix = "/proxy/network" if state.unifi_os else ""
        if request.url.path != f"{prefix}/api/s/{state.site}/stat/sta":
            return JSONResponse(
                {"meta": {"rc": "error", "msg": "api.err.NoSiteContext"}, "data": []},
                status_code=400,
            )
        if request.cookies.get(cookie) not in state.sessions:
            return JSONResponse(
                {"meta": {"rc": "error", "msg": "api.err.LoginRequired"}, "data": []},
                status_code=401,
            )
        state.calls.append("stat/sta")
        data = [_client(mac, *counters) for mac, counters in state.clients.items()]
        return JSONResponse({"meta": {"rc": "ok"}, "data": data})

    def _report_row(mac: str, stamp: int, rx: float, tx: float) -> dict[str, Any]:
        row: dict[str, Any] = _real("stat_report_daily_user_row.json")
        when = datetime.fromtimestamp(stamp / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        row.update(time=stamp, datetime=when, oid=mac, user=mac, rx_bytes=rx, tx_bytes=tx)
        return row

    async def daily_user(request: Request) -> Response:
        prefix = "/proxy/network" if state.unifi_os else ""
        if not request.url.path.startswith(prefix + "/api/"):
            return Response("Not Found", status_code=404)
        if request.cookies.get(cookie) not in state.sessions:
            return JSONResponse(
                {"meta": {"rc": "error", "msg": "api.err.LoginRequired"}, "data": []},
                status_code=401,
            )
        if not state.reports_available:
            if state.unifi_os:
                return Response("Not Found", status_code=404)
            return JSONResponse(
                {"meta": {"rc": "error", "msg": "api.err.NotFound"}, "data": []},
                status_code=400,
            )
        body = json.loads(await request.body())
        state.report_bodies.append(body)
        state.calls.append("daily.user")
        start, end = body["start"], body["end"]
        data = [_report_row(*r) for r in state.reports if start <= r[1] <= end]
        return JSONResponse({"meta": {"rc": "ok"}, "data": data})

    async def sysinfo(request: Request) -> Response:
        if request.cookies.get(cookie) not in state.sessions:
            return JSONResponse(
                {"meta": {"rc": "error", "msg": "api.err.LoginRequired"}, "data": []},
                status_code=401,
            )
        state.calls.append("sysinfo")
        if state.timezone is None:
            return Response("Not Found", status_code=404)
        record = _real("stat_sysinfo.json") | {"timezone": state.timezone}
        return JSONResponse({"meta": {"rc": "ok"}, "data": [record]})

    return Starlette(
        routes=[
            Route("/", root),
            Route("/api/auth/login", login, methods=["POST"]),
            Route("/api/login", login, methods=["POST"]),
            Route("/proxy/network/api/s/{site}/stat/sta", stat_sta),
            Route("/api/s/{site}/stat/sta", stat_sta),
            Route("/proxy/network/api/s/{site}/stat/sysinfo", sysinfo),
            Route("/api/s/{site}/stat/sysinfo", sysinfo),
            Route(
                "/proxy/network/api/s/{site}/stat/report/daily.user", daily_user, methods=["POST"]
            ),
            Route("/api/s/{site}/stat/report/daily.user", daily_user, methods=["POST"]),
        ]
    )


if __name__ == "__main__":  # pragma: no cover - manual runs
    from tests.fakes._server import main

    main(lambda mode: make_app(UnifiState(unifi_os=mode == "unifi_os")), ["unifi_os", "classic"])
