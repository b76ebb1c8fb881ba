"""`capwatch serve`: the daemon (scheduler + web server)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from capwatch.cli._common import handle_errors, load

if TYPE_CHECKING:
    from capwatch.config import Settings


@click.command()
@click.option("--host", help="Bind address (default from config: 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default from config: 8485).")
@click.pass_context
@handle_errors
def serve(ctx: click.Context, host: str | None, port: int | None) -> None:
    """Poll every account on its schedule and serve the dashboard, API and /metrics."""
    import asyncio
    import logging

    from capwatch.service.footprint import skip_unused_modules

    # Before the config is read: validating an account's options imports its provider, and
    # with it httpx, which would otherwise pull in its own CLI (rich, pygments: ~6 MiB).
    skip_unused_modules()
    from capwatch.logsetup import setup_logging
    from capwatch.service.daemon import run

    settings = load(ctx)
    verbose = int((ctx.find_root().obj or {}).get("verbose") or 0)
    setup_logging(settings.log_format, "DEBUG" if verbose > 1 else settings.log_level)
    if host or port:
        settings = _with_bind(settings, host, port)

    def ready(url: str) -> None:
        logging.getLogger("capwatch").warning("capwatch is serving %s", url)

    asyncio.run(run(settings, on_ready=ready))


def _with_bind(settings: Settings, host: str | None, port: int | None) -> Settings:
    """Settings with the web bind address replaced, refusing an open non-loopback bind."""
    from capwatch.errors import ConfigError

    web = settings.web.model_copy(
        update={k: v for k, v in (("host", host), ("port", port)) if v is not None}
    )
    if not web.bind_allowed():
        raise ConfigError(
            f"--host {web.host}: binding beyond this machine needs web.auth_token "
            "or web.username/web.password in the config"
        )
    return settings.model_copy(update={"web": web})
