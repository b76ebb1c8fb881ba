"""A fake Netgear LTE modem (LM1200 web API) on 127.0.0.1, with the login eternalegypt drives.

``GET /model.json`` without a session answers a guest's model (``session.secToken`` only, as
eternalegypt reads it; the rest of a guest's reply is not known, so it is left out);
``POST /Forms/config`` with ``session.password`` and the token sets the session cookie and
redirects to ``/index.html``; with the cookie, ``GET /model.json`` is the real LM1200 reply in
tests/data/real/netgear_lte/ with the usage fields set from the state.

Modes: ok, not_json, no_meter (model.json without ``wwan.dataUsage``).
Run standalone: ``python -m tests.fakes.netgear_lte --port 8089`` (password
``fake-netgear-pass``).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

REAL = Path(__file__).resolve().parent.parent / "data" / "real" / "netgear_lte"
MODES = ["ok", "not_json", "no_meter"]
PASSWORD = "fake-netgear-pass"


@dataclass
class NetgearState:
    """What the fake serves and what it saw."""

    mode: str = "ok"
    password: str = PASSWORD
    generic: dict[str, Any] = field(default_factory=dict)  # overrides of the real block
    token: str = field(default_factory=lambda: secrets.token_hex(12))
    sessions: set[str] = field(default_factory=set)
    logins: int = 0
    refused: int = 0


def make_app(state: NetgearState) -> Starlette:
    """The fake modem's ASGI app."""

    async def model(request: Request) -> Response:
        if request.cookies.get("sessionId") not in state.sessions:
            return JSONResponse({"session": {"userRole": "Guest", "secToken": state.token}})
        if state.mode == "not_json":
            return Response("<html>LM1200</html>", media_type="text/html")
        data = json.loads((REAL / "model_lm1200_ha.json").read_text(encoding="utf-8"))
        data["session"]["secToken"] = state.token
        data["wwan"]["dataUsage"]["generic"].update(state.generic)
        if state.mode == "no_meter":
            del data["wwan"]["dataUsage"]
        return JSONResponse(data)

    async def config(request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        if form.get("token") != state.token or form.get("session.password") != state.password:
            state.refused += 1
            return RedirectResponse("/index.html", status_code=302)
        state.logins += 1
        sid = secrets.token_hex(16)
        state.sessions.add(sid)
        response = RedirectResponse("/index.html", status_code=302)
        response.set_cookie("sessionId", sid, httponly=True)
        return response

    async def index(request: Request) -> Response:
        return HTMLResponse("<html><head><title>LM1200</title></head><body></body></html>")

    return Starlette(
        routes=[
            Route("/model.json", model, methods=["GET"]),
            Route("/Forms/config", config, methods=["POST"]),
            Route("/index.html", index, methods=["GET"]),
        ]
    )


if __name__ == "__main__":  # pragma: no cover - manual runs
    from tests.fakes._server import main

    main(lambda mode: make_app(NetgearState(mode=mode)), MODES)
