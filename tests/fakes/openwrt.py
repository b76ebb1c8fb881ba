"""A fake OpenWrt router: uhttpd's ``/ubus`` JSON-RPC with rpcd's sessions, on 127.0.0.1.

It answers ``session login``, ``network.interface.wan status``, ``network.device status`` and
``system info`` with the real replies in tests/data/real/openwrt/ (the OpenWrt ubus page's
examples), counters and uptime set from the state, inside the JSON-RPC envelope the same page
shows (``{"jsonrpc": "2.0", "id": N, "result": [status, data]}``).

``file exec`` of ``/usr/libexec/nlbwmon-action`` (``periods``, ``download -f json -g mac,ip``)
answers as rpcd's file plugin does, ``{"code": 0, "stdout": ...}``, with the real nlbw table of
tests/data/real/nlbw/ re-filled from ``nlbw_rows`` and ``nlbw_periods``.

Modes: ok, expire (every session dies after one call: ``result: [6]``, as an rpcd session that
timed out), access_denied (the same with the -32002 "Access denied" error), deny_always (login
works, every other call is refused), not_json, no_stats.
Run standalone: ``python -m tests.fakes.openwrt --port 8080`` (root / ``fake-openwrt-password``).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

REAL = Path(__file__).resolve().parent.parent / "data" / "real" / "openwrt"
NLBW = REAL.parent / "nlbw"
NLBW_ACTION = "/usr/libexec/nlbwmon-action"
MODES = ["ok", "expire", "access_denied", "deny_always", "not_json", "no_stats"]
PASSWORD = "fake-openwrt-password"


@dataclass
class OpenwrtState:
    """What the fake serves and what it saw."""

    mode: str = "ok"
    user: str = "root"
    password: str = PASSWORD
    rx_bytes: int = 0  # the real reply's eth0 figures
    tx_bytes: int = 17_409_452
    uptime_s: int = 20_756
    sessions: dict[str, int] = field(default_factory=dict)  # sid -> calls made with it
    logins: int = 0
    calls: list[str] = field(default_factory=list)
    # nlbwmon: the kept periods and the current period's rows (mac, ip, rx_bytes, tx_bytes)
    nlbw_periods: list[str] = field(default_factory=lambda: ["2026-11-01", "2026-12-01"])
    nlbw_rows: list[tuple[str, str, int, int]] = field(default_factory=list)


def _real(name: str) -> Any:
    return json.loads((REAL / name).read_text(encoding="utf-8"))


def make_app(state: OpenwrtState) -> Starlette:
    """The fake router's ASGI app."""

    async def ubus(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
            sid, obj, method, args = body["params"]
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"jsonrpc": "2.0", "id": None, "error": {"code": -32700}})
        rid = body.get("id")

        def reply(status: int, data: Any = None) -> Response:
            result = [status] if data is None else [status, data]
            return JSONResponse({"jsonrpc": "2.0", "id": rid, "result": result})

        if (obj, method) == ("session", "login"):
            if args.get("username") != state.user or args.get("password") != state.password:
                return reply(6)
            state.logins += 1
            data = _real("session_login.json")["result"][1]
            data["ubus_rpc_session"] = secrets.token_hex(16)
            state.sessions[data["ubus_rpc_session"]] = 0
            return reply(0, data)
        if sid not in state.sessions or state.mode == "deny_always":
            if state.mode == "access_denied":
                return JSONResponse(_real("access_denied.json") | {"id": rid})
            return reply(6)
        state.sessions[sid] += 1
        if state.mode in ("expire", "access_denied"):
            del state.sessions[sid]  # the next call with it finds the session timed out
        state.calls.append(f"{obj} {method}")
        if state.mode == "not_json":
            return Response("<html>LuCI</html>", media_type="text/html")
        if (obj, method) == ("network.interface.wan", "status"):
            return reply(0, _real("network_interface_wan_status.json"))
        if (obj, method) == ("network.device", "status"):
            if args.get("name") != "eth1":
                return reply(4)
            data = _real("network_device_status_eth0.json")
            data["statistics"].update(rx_bytes=state.rx_bytes, tx_bytes=state.tx_bytes)
            if state.mode == "no_stats":
                del data["statistics"]
            return reply(0, data)
        if (obj, method) == ("file", "exec"):
            return reply(0, _nlbw_exec(state, args))
        if (obj, method) == ("system", "info"):
            return reply(0, _real("system_info.json") | {"uptime": state.uptime_s})
        return JSONResponse(
            {"jsonrpc": "2.0", "id": rid, "error": {"code": -32000, "message": "Object not found"}}
        )

    return Starlette(routes=[Route("/ubus", ubus, methods=["POST"])])


def _nlbw_exec(state: OpenwrtState, args: dict[str, Any]) -> dict[str, Any]:
    """What rpcd's ``file exec`` answers for the nlbwmon helper (exit code, stdout)."""
    if args.get("command") != NLBW_ACTION:
        return {"code": 127, "stderr": "sh: not found"}
    params = args.get("params") or []
    if params == ["periods"]:
        quoted = ", ".join(f'"{p}"' for p in state.nlbw_periods)
        return {"code": 0, "stdout": "{ " + f'"periods": [ {quoted} ]' + " }"}
    if params == ["download", "-f", "json", "-g", "mac,ip"]:
        table = json.loads((NLBW / "download_mac_ip.json").read_text(encoding="utf-8"))
        real_row = table["data"][0]
        col = {name: i for i, name in enumerate(table["columns"])}
        rows = []
        for mac, ip, rx, tx in state.nlbw_rows:
            row = list(real_row)
            row[col["mac"]], row[col["ip"]] = mac, ip
            row[col["rx_bytes"]], row[col["tx_bytes"]] = rx, tx
            rows.append(row)
        table["data"] = rows
        return {"code": 0, "stdout": json.dumps(table, separators=(",", ":"))}
    return {"code": 1, "stderr": f"Unknown option {params[-1] if params else ''}"}


if __name__ == "__main__":  # pragma: no cover - manual runs
    from tests.fakes._server import main

    main(lambda mode: make_app(OpenwrtState(mode=mode)), MODES)
