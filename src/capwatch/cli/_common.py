"""What every CLI command shares: loading settings and the store, and the error-to-exit map."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click

from capwatch.errors import CapwatchError, ProviderError, StoreFull

if TYPE_CHECKING:
    from datetime import datetime

    from capwatch.config import Settings
    from capwatch.config.account import AccountSettings
    from capwatch.store.api import Store

P = ParamSpec("P")
R = TypeVar("R")

EXIT_FAILURE = 1
EXIT_USAGE = 2


def fail(message: str, code: int = EXIT_USAGE) -> None:
    """Print one line on stderr and exit with ``code``."""
    from capwatch.secrets import redact

    click.echo(f"capwatch: {redact(message)}", err=True)
    sys.exit(code)


def handle_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn capwatch errors into one line on stderr: exit 2 for bad input, 1 for a failed poll."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (ProviderError, StoreFull) as exc:  # a full disk is no bad input
            fail(str(exc), EXIT_FAILURE)
        except CapwatchError as exc:
            fail(str(exc), EXIT_USAGE)
        raise AssertionError("unreachable")  # pragma: no cover

    return wrapper


def load(ctx: click.Context) -> Settings:
    """Load and validate the settings once per command, and set up logging."""
    from capwatch.config import load_settings
    from capwatch.logsetup import setup_logging

    obj: dict[str, Any] = ctx.find_root().obj or {}
    if "settings" not in obj:
        settings = load_settings(obj.get("config_path"))
        verbose = int(obj.get("verbose") or 0)
        level = "DEBUG" if verbose > 1 else "INFO" if verbose else "WARNING"
        setup_logging(settings.log_format, level)
        obj["settings"] = settings
    settings_obj: Settings = obj["settings"]
    return settings_obj


def account_of_provider(
    ctx: click.Context, account: str, provider: str
) -> tuple[Settings, AccountSettings]:
    """The settings and the configured ``account``, which must use ``provider``."""
    from capwatch.errors import ConfigError

    settings = load(ctx)
    acct = settings.account(account)
    if acct.provider != provider:
        raise ConfigError(f"accounts.{account}: provider is {acct.provider!r}, not {provider!r}")
    return settings, acct


def clock(ctx: click.Context) -> Callable[[], datetime]:
    """The command's "now": the wall clock, or the one a caller put in ``obj["clock"]`` (tests)."""
    from capwatch.models import utcnow

    obj: dict[str, Any] = ctx.find_root().obj or {}
    chosen: Callable[[], datetime] = obj.get("clock") or utcnow
    return chosen


def store_for(settings: Settings, *, read_only: bool = False) -> Store:
    """Open (and migrate) the configured store; ``read_only`` commands still read it when its
    disk is full, saying so on stderr."""
    from capwatch.secrets import redact
    from capwatch.store import open_store
    from capwatch.store.engine import disk_warning, parse_url

    url = settings.resolved_database_url()
    store = open_store(url, read_only=read_only)
    if store.read_only_reason:
        click.echo(
            f"capwatch: warning: {redact(store.read_only_reason)}; showing what is stored, "
            "nothing new can be written",
            err=True,
        )
    elif (warning := disk_warning(parse_url(url))) is not None:
        click.echo(f"capwatch: warning: {redact(warning)}", err=True)
    return store


def account_names(settings: Settings, account: str | None) -> list[str]:
    """The named account (validated) or every enabled account."""
    if account is not None:
        return [settings.account(account).name]
    return [a.name for a in settings.accounts if a.enabled]


def console() -> Any:
    """A rich console on stdout."""
    from rich.console import Console

    con = Console(highlight=False)
    if not con.is_terminal:
        con = Console(highlight=False, width=160)  # pipes and cron mail: do not wrap tables
    return con


def emit_json(data: Any) -> None:
    """Print JSON on stdout (stable shapes, see the README)."""
    import json

    click.echo(json.dumps(data, indent=2, sort_keys=False))
