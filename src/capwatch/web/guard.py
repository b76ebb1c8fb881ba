"""What every response passes through: the Host check (DNS rebinding) and security headers.

A page on another site can make a browser send requests to 127.0.0.1 under its own host name
(DNS rebinding); only the names this server is really reached by are accepted. Every answer
carries a strict Content-Security-Policy (scripts and styles from this server only; inline
``style`` attributes, which the pages use for bar widths, are allowed) and refuses framing.
"""

from __future__ import annotations

import socket
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

if TYPE_CHECKING:
    from capwatch.config import Settings

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARD_BINDS = ("0.0.0.0", "::", "")


def _machine_names() -> set[str]:
    """This machine's names and interface addresses (for a bind on every address)."""
    import psutil

    names = {socket.gethostname(), socket.getfqdn(), f"{socket.gethostname()}.local"}
    for addrs in psutil.net_if_addrs().values():
        for addr in addrs:
            if addr.family in (socket.AF_INET, socket.AF_INET6):
                names.add(addr.address.split("%", 1)[0])
    return names


def allowed_hosts(settings: Settings) -> frozenset[str]:
    """The Host names (lower case, without port or brackets) this server answers to."""
    web = settings.web
    names = {*LOOPBACK_NAMES, web.host.strip("[]"), *web.allowed_hosts}
    if web.base_url:
        host = urlsplit(web.base_url).hostname
        if host:
            names.add(host)
    if web.host.strip("[]") in WILDCARD_BINDS:
        names |= _machine_names()
    return frozenset(n.lower() for n in names if n)


def host_of(header: str) -> str:
    """The host part of a Host header: ``[::1]:8485`` -> ``::1``, ``Pi:80`` -> ``pi``."""
    value = header.strip().lower()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value


def install(app: object, settings: Settings) -> None:
    """Add the Host check and the security headers to ``app`` (a FastAPI app)."""
    allowed = allowed_hosts(settings)

    async def guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        host = host_of(request.headers.get("host", ""))
        if host not in allowed:
            response: Response = PlainTextResponse(
                f"unknown host {host!r}: add it to web.allowed_hosts to serve it", status_code=400
            )
        else:
            response = await call_next(request)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        return response

    app.middleware("http")(guard)  # type: ignore[attr-defined]
