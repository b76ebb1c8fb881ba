"""A fake FRITZ!Box on 127.0.0.1: TR-064 descriptions, SCPDs and SOAP actions, as a real box.

It serves the real ``tr64desc.xml`` and ``igddesc.xml`` and the real SCPDs of a FRITZ!Box 7590
(rendered to XML from fritzconnection's serialised capture of that box, ``description.json``),
and answers ``WANCommonIFC1 GetAddonInfos`` and ``DeviceInfo1 GetInfo`` with the real replies in
tests/data/real/fritz/, their counters and uptime set from the state. As a real box does, the
TR-064 controls under ``/upnp/control/`` want an HTTP digest login (MD5, qop=auth) and the IGD
controls under ``/igdupnp/control/`` none.

Modes: ok, no_64 (GetAddonInfos without the 64-bit counters), not_xml (a SOAP answer that is
not XML), tr64_off (no tr64desc.xml: "Allow access for applications" is off).
Run standalone: ``python -m tests.fakes.fritz --port 49000`` (user ``cw-fritz-user``, password
``fake-fritz-password``).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

REAL = Path(__file__).resolve().parent.parent / "data" / "real" / "fritz"
MODES = ["ok", "no_64", "not_xml", "tr64_off"]
USER = "cw-fritz-user"
PASSWORD = "fake-fritz-password"
REALM = "F!Box SOAP-Auth"
UNAUTHORIZED_HTML = (
    "<HTML><HEAD><TITLE>401 Unauthorized (ERR_NONE)</TITLE></HEAD><BODY>"
    "<H1>401 Unauthorized</H1></BODY></HTML>"
)  # invented: the box's 401 page is HTML, which is what fritzconnection checks for


@dataclass
class FritzState:
    """What the fake serves and what it saw."""

    mode: str = "ok"
    user: str = USER
    password: str = PASSWORD
    received: int = 197_786_211_361  # the real reply's figures
    sent: int = 30_680_066_212
    uptime_s: int = 97_384
    actions: list[str] = field(default_factory=list)
    logins_refused: int = 0
    nonce: str = field(default_factory=lambda: secrets.token_hex(8).upper())


@cache
def _scpds() -> dict[str, str]:
    """SCPD XML by SCPDURL, rendered from the serialised capture of a real box."""
    out: dict[str, str] = {}
    for description in json.loads((REAL / "description.json").read_text(encoding="utf-8")):
        _collect(description["device"], out)
    return out


def _collect(device: dict[str, Any], out: dict[str, str]) -> None:
    for service in device.get("services", []):
        out[service["attributes"]["SCPDURL"]] = _render_scpd(service["scpd"])
    for sub in device.get("devices", []):
        _collect(sub, out)


def _tag(name: str, value: Any) -> str:
    return "" if value is None else f"<{name}>{escape(str(value))}</{name}>"


def _render_scpd(scpd: dict[str, Any]) -> str:
    version = scpd.get("specVersion") or {"major": "1", "minor": "0"}
    actions = "".join(
        "<action>"
        + _tag("name", action["name"])
        + "<argumentList>"
        + "".join(
            "<argument>"
            + _tag("name", arg["name"])
            + _tag("direction", arg["direction"])
            + _tag("relatedStateVariable", arg["relatedStateVariable"])
            + "</argument>"
            for arg in action["arguments"]
        )
        + "</argumentList></action>"
        for action in scpd["actions"]
    )
    variables = "".join(_render_variable(v) for v in scpd["state_variables"])
    return (
        '<?xml version="1.0"?>\n<scpd xmlns="urn:dslforum-org:service-1-0">'
        f"<specVersion>{_tag('major', version['major'])}{_tag('minor', version['minor'])}"
        f"</specVersion><actionList>{actions}</actionList>"
        f"<serviceStateTable>{variables}</serviceStateTable></scpd>\n"
    )


def _render_variable(variable: dict[str, Any]) -> str:
    attrs = variable["attributes"]
    allowed = "".join(_tag("allowedValue", v) for v in attrs.get("allowed_values") or [])
    span = variable.get("allowedValueRange") or {}
    limits = "".join(_tag(k, span.get(k)) for k in ("minimum", "maximum", "step"))
    return (
        '<stateVariable sendEvents="no">'
        + _tag("name", attrs["name"])
        + _tag("dataType", attrs["dataType"])
        + _tag("defaultValue", attrs.get("defaultValue"))
        + (f"<allowedValueList>{allowed}</allowedValueList>" if allowed else "")
        + (f"<allowedValueRange>{limits}</allowedValueRange>" if limits else "")
        + "</stateVariable>"
    )


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def _digest_ok(state: FritzState, request: Request) -> bool:
    """Check an ``Authorization: Digest`` header (MD5, qop=auth) against the state's login."""
    header = request.headers.get("authorization", "")
    if not header.startswith("Digest "):
        return False
    parts = dict(re.findall(r'(\w+)="?([^",]*)"?', header[len("Digest ") :]))
    if parts.get("username") != state.user or parts.get("nonce") != state.nonce:
        return False
    ha1 = _md5(f"{state.user}:{REALM}:{state.password}")
    ha2 = _md5(f"{request.method}:{parts.get('uri', '')}")
    expected = _md5(
        f"{ha1}:{state.nonce}:{parts.get('nc', '')}:{parts.get('cnonce', '')}:"
        f"{parts.get('qop', '')}:{ha2}"
    )
    return parts.get("response") == expected


def _challenge(state: FritzState) -> Response:
    value = f'Digest realm="{REALM}", nonce="{state.nonce}", algorithm=MD5, qop="auth"'
    return Response(
        UNAUTHORIZED_HTML,
        status_code=401,
        media_type="text/html",
        headers={"WWW-Authenticate": value},
    )


def _not_found() -> Response:
    # the bare "text/html" type (no charset) is what fritzconnection takes for "not there"
    return Response("<html><body>404</body></html>", 404, headers={"content-type": "text/html"})


def _xml(text: str) -> Response:
    return Response(text, media_type="text/xml")


def _addon_infos(state: FritzState) -> str:
    text = (REAL / "GetAddonInfos_telegraf.xml").read_text(encoding="utf-8")
    if state.mode == "no_64":
        return re.sub(r"<NewX_AVM_DE_TotalBytes\w+64>\d+</NewX_AVM_DE_TotalBytes\w+64>\n", "", text)
    text = text.replace(">197786211361<", f">{state.received}<")
    return text.replace(">30680066212<", f">{state.sent}<")


def _get_info(state: FritzState) -> str:
    text = (REAL / "GetInfo_7490_readme.xml").read_text(encoding="utf-8")
    return text.replace("<NewUpTime>97384<", f"<NewUpTime>{state.uptime_s}<")


def make_app(state: FritzState) -> Starlette:
    """The fake box's ASGI app."""

    async def description(request: Request) -> Response:
        name = request.path_params["name"]
        if name in ("tr64desc.xml", "igddesc.xml"):
            if name == "tr64desc.xml" and state.mode == "tr64_off":
                return _not_found()
            return _xml((REAL / name).read_text(encoding="utf-8"))
        scpd = _scpds().get(f"/{name}")
        if scpd is None:
            return _not_found()
        return _xml(scpd)

    async def control(request: Request) -> Response:
        path = request.url.path
        if path.startswith("/upnp/") and not _digest_ok(state, request):
            if request.headers.get("authorization"):
                state.logins_refused += 1
            return _challenge(state)
        action = request.headers.get("soapaction", "").strip('"').rsplit("#", 1)[-1]
        state.actions.append(f"{path}#{action}")
        if state.mode == "not_xml":
            return Response("the box is busy", media_type="text/xml")
        if path == "/igdupnp/control/WANCommonIFC1" and action == "GetAddonInfos":
            return _xml(_addon_infos(state))
        if path == "/upnp/control/deviceinfo" and action == "GetInfo":
            return _xml(_get_info(state))
        return Response("unknown action", status_code=500, media_type="text/plain")

    return Starlette(
        routes=[
            Route("/{name:str}", description, methods=["GET"]),
            Route("/{kind:str}/control/{service:str}", control, methods=["POST"]),
        ]
    )


if __name__ == "__main__":  # pragma: no cover - manual runs
    from tests.fakes._server import main

    main(lambda mode: make_app(FritzState(mode=mode)), MODES)
