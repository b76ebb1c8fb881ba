"""A fake Start.ca usage API: ``GET /support/usage/api?key=...`` answering XML in bytes.

Modes: ok, bad_key, 5xx, html, truncated, 429, empty (a fresh month: all zero).
Run standalone: ``python -m tests.fakes.startca --port 8083 [--mode ok]``
(key ``FAKEKEY0123456789``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

MODES = ["ok", "bad_key", "5xx", "html", "truncated", "429", "empty"]
API_KEY = "FAKEKEY0123456789"

USAGE_XML = """<?xml version="1.0" encoding="ISO-8859-15"?>
<usage>
  <version>1.1</version>
  <total> <!-- total actual usage -->
    <download>{total_dl}</download>
    <upload>{total_ul}</upload>
  </total>
  <used> <!-- part of usage that counts against quota -->
    <download>{used_dl}</download>
    <upload>{used_ul}</upload>
  </used>
  <grace> <!-- part of usage that is free -->
    <download>{grace_dl}</download>
    <upload>{grace_ul}</upload>
  </grace>
</usage>
"""


@dataclass
class StartcaState:
    """What the fake serves and what it saw."""

    mode: str = "ok"
    api_key: str = API_KEY
    numbers: dict[str, int] = field(
        default_factory=lambda: {
            "total_dl": 354946829777,
            "total_ul": 7480700153,
            "used_dl": 304946829777,
            "used_ul": 6480700153,
            "grace_dl": 50000000000,
            "grace_ul": 1000000000,
        }
    )
    requests: list[dict[str, Any]] = field(default_factory=list)
    body: str | None = None
    """Served as it is (after the key check) when set: a saved real reply."""


async def _usage(request: Request) -> Response:
    state: StartcaState = request.app.state.fake
    state.requests.append(
        {"ua": request.headers.get("user-agent"), "has_key": "key" in request.query_params}
    )
    if state.mode == "5xx":
        return Response("oops", status_code=500)
    if state.mode == "429":
        return Response("slow down", status_code=429, headers={"Retry-After": "3600"})
    if state.mode == "html":
        return Response("<!DOCTYPE html><html><body>Start.ca</body></html>", media_type="text/html")
    if state.mode == "bad_key" or request.query_params.get("key") != state.api_key:
        return Response(
            '<?xml version="1.0"?><error>Invalid API key</error>', media_type="text/xml"
        )
    if state.body is not None:
        return Response(state.body, media_type="text/xml")
    numbers = dict.fromkeys(state.numbers, 0) if state.mode == "empty" else state.numbers
    body = USAGE_XML.format(**numbers)
    if state.mode == "truncated":
        body = body[: len(body) // 2]
    return Response(body, media_type="text/xml")


def make_app(state: StartcaState) -> Starlette:
    """Build the ASGI app serving ``state``."""
    app = Starlette(routes=[Route("/support/usage/api", _usage, methods=["GET"])])
    app.state.fake = state
    return app


def build(mode: str) -> Starlette:
    """App for standalone runs."""
    return make_app(StartcaState(mode=mode))


if __name__ == "__main__":
    from tests.fakes._server import main

    main(build, MODES)
