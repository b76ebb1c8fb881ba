"""A fake InfluxDB 2.x write endpoint: checks the token, org, bucket and precision, keeps bodies.

InfluxDB 2 is not packaged in Debian, so the v2 path is tested against this, following the
documented ``POST /api/v2/write?org=&bucket=&precision=`` with ``Authorization: Token ...``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Influx2State:
    """What the fake accepts and what it received."""

    token: str = "influx2-token-secret"
    org: str = "home-org"
    bucket: str = "capwatch"
    bodies: list[str] = field(default_factory=list)
    params: list[dict[str, str]] = field(default_factory=list)


def build(state: Influx2State) -> Any:
    """Return the Starlette app of the fake."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    async def write(request: Request) -> Response:
        if request.headers.get("authorization") != f"Token {state.token}":
            return JSONResponse({"code": "unauthorized", "message": "unauthorized access"}, 401)
        params = dict(request.query_params)
        if params.get("org") != state.org:
            return JSONResponse({"code": "not found", "message": "organization not found"}, 404)
        if params.get("bucket") != state.bucket:
            msg = f'bucket "{params.get("bucket")}" not found'
            return JSONResponse({"code": "not found", "message": msg}, 404)
        if params.get("precision") not in ("s", "ms", "us", "ns"):
            return JSONResponse({"code": "invalid", "message": "invalid precision"}, 400)
        state.params.append(params)
        state.bodies.append((await request.body()).decode())
        return Response(status_code=204)

    return Starlette(routes=[Route("/api/v2/write", write, methods=["POST"])])
