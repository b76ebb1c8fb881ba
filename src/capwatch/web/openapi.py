"""The OpenAPI spec as this server really answers: its auth, its refusals, an example of each.

FastAPI writes the routes, parameters and models; :func:`complete` adds what it cannot know:
the security schemes this instance has configured (a bearer token, basic credentials, both or
none), which operations need them (every one but ``/healthz``) with their 401 and its
``WWW-Authenticate`` challenge, and an example body (from :mod:`capwatch.web.examples`) on
every response.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

    from capwatch.config import Settings

BEARER = "bearerAuth"
BASIC = "basicAuth"
REALM = "capwatch"
SCHEMES: dict[str, dict[str, Any]] = {
    BEARER: {
        "type": "http",
        "scheme": "bearer",
        "description": "The token of `web.auth_token`: `Authorization: Bearer <token>`.",
    },
    BASIC: {
        "type": "http",
        "scheme": "basic",
        "description": "`web.username` and `web.password` (UTF-8).",
    },
}
ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}


def configured_schemes(settings: Settings) -> list[str]:
    """The security schemes this instance accepts, bearer first (none when auth is off)."""
    web = settings.web
    out = []
    if web.auth_token is not None:
        out.append(BEARER)
    if web.username is not None and web.password is not None:
        out.append(BASIC)
    return out


def challenges(schemes: Iterable[str], *, bearer_refused: bool = False) -> list[str]:
    """The ``WWW-Authenticate`` challenges of a 401, one per configured scheme.

    Only schemes that can succeed are offered: with a token alone a browser gets no Basic
    prompt for a login that does not exist. ``bearer_refused``: a token was sent and is wrong
    (RFC 6750's ``invalid_token``).
    """
    out = []
    for scheme in schemes:
        if scheme == BEARER:
            error = ', error="invalid_token"' if bearer_refused else ""
            out.append(f'Bearer realm="{REALM}"{error}')
        elif scheme == BASIC:
            out.append(f'Basic realm="{REALM}", charset="UTF-8"')
    return out


def _unauthorized(schemes: list[str]) -> dict[str, Any]:
    return {
        "description": "No or wrong credentials",
        "headers": {
            "WWW-Authenticate": {
                "description": "One challenge per accepted scheme.",
                "required": True,
                "schema": {"type": "string"},
                "example": ", ".join(challenges(schemes)),
            }
        },
        "content": {"application/json": {"schema": ERROR_REF}},
    }


def complete(spec: dict[str, Any], schemes: list[str], open_paths: Iterable[str]) -> dict[str, Any]:
    """``spec`` (FastAPI's) with the auth of ``schemes`` and an example on every response."""
    from capwatch.web.examples import examples

    out = copy.deepcopy(spec)
    components = out.setdefault("components", {})
    if schemes:
        components["securitySchemes"] = {s: SCHEMES[s] for s in schemes}
    known = examples()
    open_set = set(open_paths)
    for path, item in out.get("paths", {}).items():
        for method, op in item.items():
            responses = op.setdefault("responses", {})
            if schemes and path not in open_set:
                op["security"] = [{s: []} for s in schemes]
                responses["401"] = _unauthorized(schemes)
            elif schemes:
                op["security"] = []  # answers without credentials
            bodies = known.get(f"{method.upper()} {path}", {})
            for status, response in responses.items():
                media = response.get("content", {}).get("application/json")
                if media is not None and status in bodies:
                    media["example"] = bodies[status]
    return out


def install(app: FastAPI, settings: Settings, open_paths: Iterable[str]) -> None:
    """Serve the completed spec at the app's ``openapi_url`` (built once, on first request)."""
    from fastapi.openapi.utils import get_openapi

    schemes = configured_schemes(settings)
    paths = tuple(open_paths)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = complete(spec, schemes, paths)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
