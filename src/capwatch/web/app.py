"""The web application: ``create_app(settings, store)`` builds the pages, the JSON API and /metrics.

Nothing here reads global state: settings, the store and (in the daemon) the coordinator are
passed in. Binding beyond loopback without an auth token or basic auth is refused by config
validation; when auth is configured every route but ``/healthz`` requires it.
"""

from __future__ import annotations

import base64
import functools
import hmac
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from capwatch import __version__

if TYPE_CHECKING:
    from datetime import datetime

    from capwatch.config import Settings
    from capwatch.service.coordinator import Coordinator
    from capwatch.store.api import Store

OPEN_PATHS = frozenset({"/healthz"})
STATIC_DIR = Path(__file__).parent / "static"


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison of UTF-8 bytes (``compare_digest`` refuses non-ASCII str)."""
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _credentials_ok(settings: Settings, header: str | None) -> bool:
    web = settings.web
    if not header:
        return False
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if not value:
        return False
    if scheme.lower() == "bearer" and web.auth_token is not None:
        # ASGI servers decode header bytes as Latin-1: encode back to compare the raw bytes
        raw = value.encode("latin-1", errors="replace")
        return hmac.compare_digest(raw, web.auth_token.reveal().encode("utf-8"))
    if scheme.lower() == "basic" and web.username and web.password is not None:
        try:
            user, _, pw = base64.b64decode(value, validate=True).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        # both fields are always compared, so a wrong name answers as a wrong password does
        user_ok = _same(user, web.username)
        password_ok = _same(pw, web.password.reveal())
        return user_ok and password_ok
    return False


def _check_credentials(settings: Settings) -> None:
    """Resolve the configured token and password once at start (ConfigError when empty)."""
    web = settings.web
    for secret in (web.auth_token, web.password):
        if secret is not None:
            secret.reveal()


def _auth_configured(settings: Settings) -> bool:
    web = settings.web
    return web.auth_token is not None or (web.username is not None and web.password is not None)


def _refusal(settings: Settings, header: str | None) -> Response:
    """The 401: one challenge for each scheme that can succeed here (see ``web.openapi``)."""
    from capwatch.web.openapi import challenges, configured_schemes

    bearer_sent = (header or "").partition(" ")[0].lower() == "bearer"
    response = JSONResponse({"detail": "authentication required"}, status_code=401)
    for challenge in challenges(configured_schemes(settings), bearer_refused=bearer_sent):
        response.headers.append("WWW-Authenticate", challenge)
    return response


def _require_auth(app: FastAPI, settings: Settings) -> None:
    """Every path but :data:`OPEN_PATHS` needs the configured token or basic credentials."""

    @app.middleware("http")
    async def require_auth(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        header = request.headers.get("authorization")
        if request.url.path in OPEN_PATHS or _credentials_ok(settings, header):
            return await call_next(request)
        return _refusal(settings, header)


def create_app(
    settings: Settings,
    store: Store,
    *,
    coordinator: Coordinator | None = None,
    clock: Callable[[], datetime] | None = None,
    gateways: Callable[[], list[str]] | None = None,
) -> FastAPI:
    """Build the FastAPI app over a settings object and a store (``clock``: its "now";
    ``gateways``: where the zero-config page looks for the household's router)."""
    from capwatch.models import utcnow
    from capwatch.web.api import build_api_router
    from capwatch.web.history import SummaryCache
    from capwatch.web.pages import build_pages_router
    from capwatch.web.schemas import Health

    app = FastAPI(
        title="capwatch",
        version=__version__,
        description="Internet data cap usage, forecasts and alerts.",
        docs_url=None,  # served below from the bundled Swagger UI, not a CDN
        openapi_url="/api/v1/openapi.json",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.store = store
    app.state.coordinator = coordinator
    app.state.summary_cache = SummaryCache()
    app.state.clock = clock or (coordinator.clock if coordinator is not None else utcnow)
    if gateways is None:
        from capwatch.lan import default_gateways as gateways
    app.state.gateways = gateways

    if _auth_configured(settings):
        _check_credentials(settings)
        _require_auth(app, settings)

    @app.get("/healthz", tags=["meta"], summary="Liveness and store check", response_model=Health)
    def healthz() -> dict[str, Any]:
        """Report whether the store answers and can be written, and how the last poll went."""
        ok = store.integrity_check() == "ok" if store.dialect == "postgresql" else True
        failures = coordinator.store_failures if coordinator is not None else 0
        error = coordinator.last_store_error if coordinator is not None else None
        newest = store.poll_log(limit=1)
        return {
            "status": "ok" if ok and not failures else "degraded",
            "version": __version__,
            "store_writable": not failures,
            "store_error": error,
            "last_poll": newest[0].outcome.value if newest else None,
        }

    _mount_metrics(app, settings, store)
    _mount_docs(app)
    _html_errors(app)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    from capwatch.web import guard, openapi

    openapi.install(app, settings, OPEN_PATHS)
    guard.install(app, settings)  # outermost: every answer, 401s and 404s too
    app.include_router(build_api_router())
    app.include_router(build_pages_router())
    return app


def _html_errors(app: FastAPI) -> None:
    """Pages get an HTML 404 with a way back, the API keeps JSON; /favicon.ico is served."""
    from fastapi.responses import FileResponse, HTMLResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from capwatch.templating import render

    async def not_found(request: Request, exc: Exception) -> Response:
        detail = getattr(exc, "detail", "Not Found")
        status = getattr(exc, "status_code", 404)
        path = request.url.path
        if path.startswith("/api/") or path in ("/metrics", "/healthz") or status != 404:
            return JSONResponse({"detail": detail}, status_code=status)
        body = render("not_found.html", detail=str(detail), refresh=None, script=False)
        return HTMLResponse(body, status_code=404)

    app.add_exception_handler(StarletteHTTPException, not_found)

    def favicon(_request: Request) -> Response:
        return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")

    app.add_route("/favicon.ico", favicon, include_in_schema=False)


def _mount_docs(app: FastAPI) -> None:
    """``/api/docs``: Swagger UI from the swagger-ui-bundle package, so it works offline."""
    from fastapi.responses import HTMLResponse
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/api/docs/static", StaticFiles(directory=str(swagger_ui_path)), name="api-docs")

    def docs() -> HTMLResponse:
        return HTMLResponse(DOCS_PAGE)

    app.add_route("/api/docs", lambda _request: docs(), include_in_schema=False)


DOCS_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>capwatch API</title>
<link rel="stylesheet" href="/api/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/api/docs/static/swagger-ui-bundle.js"></script>
<script src="/static/api-docs.js"></script></body></html>
"""


def _mount_metrics(app: FastAPI, settings: Settings, store: Store) -> None:
    """Serve ``/metrics``; prometheus_client is imported at the first scrape, not before.

    Most households never point a Prometheus at capwatch, and the daemon should not carry the
    client (about 2 MiB of RSS) for months on their behalf.
    """
    if not settings.prometheus.enabled:
        return
    from starlette.concurrency import run_in_threadpool

    from capwatch.web.history import cached_summary

    def source() -> tuple[list[Any], dict[str, list[Any]]]:
        summaries = [cached_summary(app.state, a.name) for a in settings.accounts]
        from capwatch.service.devices import metric_devices

        now = app.state.clock()
        # The ISP's own devices (Xfinity's devices[]) are in the devices view, by device key:
        # adding its raw list too would count each gateway twice.
        devices = {s.account: metric_devices(settings, store, s.account, now) for s in summaries}
        return summaries, devices

    @functools.cache
    def registry() -> Any:
        from capwatch.exporters.prometheus import ProcessFacts, build_registry

        coordinator = app.state.coordinator

        def currency(account: str) -> str:
            overage = settings.account(account).overage
            return overage.currency if overage is not None else "$"

        if coordinator is None:
            facts = ProcessFacts(currency=currency)
        else:
            facts = ProcessFacts(
                store_failures=lambda: coordinator.store_failures,
                polls=lambda: dict(coordinator.poll_counts),
                exports=lambda: dict(coordinator.export_counts),
                last_polls=coordinator.last_polls,
                currency=currency,
            )
        return build_registry(
            source, process_metrics=settings.prometheus.process_metrics, facts=facts
        )

    def render(accept: str | None) -> tuple[bytes, str]:
        from capwatch.exporters.prometheus import metrics_response

        return metrics_response(registry(), accept)

    async def metrics(request: Request) -> Response:
        body, content_type = await run_in_threadpool(render, request.headers.get("accept"))
        return Response(content=body, media_type=content_type)

    app.add_route("/metrics", metrics, include_in_schema=False)
