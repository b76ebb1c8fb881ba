"""`capwatch login`: sign in to a provider that needs a person (browser, MFA, captcha).

For Xfinity: a real browser window where a display exists (the user signs in, MFA and captchas
included), else headless Chromium filled from terminal prompts; or ``--import-cookies`` with a
cookie file exported from the user's own browser. Other providers take part by defining
``async def interactive_login(self, client, prompter)``.
"""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path
from typing import Any

import click

from capwatch.cli._common import account_of_provider, handle_errors
from capwatch.errors import ConfigError
from capwatch.providers.base import Prompter, Provider, ProviderContext


class ClickPrompter(Prompter):
    """Ask on the terminal; secrets are typed without echo."""

    def ask(self, label: str, *, secret: bool = False) -> str:
        """Prompt for one value."""
        value: str = click.prompt(label, hide_input=secret, type=str)
        if secret:
            from capwatch.secrets import register_secret

            register_secret(value)
        return value

    def tell(self, message: str) -> None:
        """Print a message on stderr (stdout stays clean for scripts)."""
        click.echo(message, err=True)


def build_provider(ctx: click.Context, provider_name: str, account: str) -> Provider[Any]:
    """Load the account from the config and build its provider; the names must agree."""
    settings, acct = account_of_provider(ctx, account, provider_name)
    cls = acct.provider_class
    context = ProviderContext(account=account, timezone=acct.cycle.zone, data_dir=settings.data_dir)
    return cls(acct.provider_options, context)


async def _interactive(
    provider: Provider[Any], prompter: Prompter, headless: bool | None, username: str | None
) -> Any:
    import httpx

    method = provider.interactive_login  # type: ignore[attr-defined]
    params = inspect.signature(method).parameters
    kwargs: dict[str, Any] = {}
    if "headless" in params:
        kwargs["headless"] = headless
    if "username" in params and username:
        kwargs["username"] = username
    async with httpx.AsyncClient(
        headers={"User-Agent": provider.context.user_agent}, timeout=30.0
    ) as client:
        return await method(client, prompter, **kwargs)


@click.command()
@click.argument("provider_name", metavar="PROVIDER")
@click.option("--account", "-a", required=True, help="Account name from the config.")
@click.option(
    "--import-cookies",
    "cookie_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Use cookies exported from your browser (cookies.txt or a JSON list).",
)
@click.option(
    "--headless/--headed",
    default=None,
    help="Force a hidden browser with terminal prompts, or a window. Default: a window "
    "when DISPLAY or WAYLAND_DISPLAY is set.",
)
@click.option("--username", help="Sign-in name (default: the account's username option).")
@click.pass_context
@handle_errors
def login(
    ctx: click.Context,
    provider_name: str,
    account: str,
    cookie_file: Path | None,
    headless: bool | None,
    username: str | None,
) -> None:
    """Sign in to PROVIDER for an account and keep the session for polling."""
    provider = build_provider(ctx, provider_name, account)
    prompter = ClickPrompter()
    if cookie_file is not None:
        importer = getattr(provider, "import_session", None)
        if importer is None:
            raise ConfigError(f"{provider_name}: --import-cookies is not supported")
        path = importer(cookie_file)
    elif hasattr(provider, "interactive_login"):
        path = asyncio.run(_interactive(provider, prompter, headless, username))
    else:
        raise ConfigError(f"{provider_name}: needs no login (it reads usage without one)")
    where = f" to {path}" if isinstance(path, Path) else ""
    prompter.tell(f"{account}: session saved{where}; polling resumes with `capwatch poll`.")
