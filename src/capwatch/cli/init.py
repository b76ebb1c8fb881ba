"""``capwatch init``: write a commented config, from prompts or flags."""

from __future__ import annotations

import tomllib
import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import click

from capwatch.errors import CapwatchError, ConfigError
from capwatch.secrets import Secret

SECRET_HINT = "env:VAR, file:PATH, command:CMD or keyring:SERVICE/USER"


class InitError(click.ClickException):
    """A one-line init failure (exit status 2)."""

    exit_code = 2


def _is_secret(annotation: Any) -> bool:
    if annotation is Secret:
        return True
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_is_secret(a) for a in get_args(annotation))
    return False


def _option_value(text: str, secret: bool) -> Any:
    """``env:VAR`` for a secret field; otherwise a TOML value, or the text as a string."""
    if secret:
        return Secret.from_cli(text)
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _parse_options(pairs: tuple[str, ...], options_model: Any) -> dict[str, Any]:
    fields = getattr(options_model, "model_fields", {})
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InitError(f"--option {pair!r}: expected KEY=VALUE")
        field = fields.get(key)
        out[key] = _option_value(value, field is not None and _is_secret(field.annotation))
    return out


def _check(value: str, parse: Any, what: str) -> str:
    try:
        parse(value)
    except ValueError as exc:
        raise InitError(f"{what}: {exc}") from None
    return value


def _cap_ok(value: str) -> None:
    from capwatch.units import parse_bytes

    if value.strip().lower() not in ("provider", "unlimited"):
        parse_bytes(value)


def _start_day(value: str | int | None) -> int | None:
    if value is None or str(value).strip().lower() in ("", "calendar"):
        return None
    try:
        day = int(value)
    except ValueError:
        raise InitError(f"--start-day: expected 1..31 or 'calendar' (got {value!r})") from None
    if not 1 <= day <= 31:
        raise InitError(f"--start-day: must be between 1 and 31 (got {day})")
    return day


LOGIN_NAMES = ("username", "user", "login")
"""Optional options asked for all the same: the sign-in name goes with the password."""


def _prompt_options(options_model: Any, given: dict[str, Any]) -> dict[str, Any]:
    """Ask for required options and secrets the flags did not give."""
    out = dict(given)
    for key, field in getattr(options_model, "model_fields", {}).items():
        if key in out:
            continue
        secret = _is_secret(field.annotation)
        if not (secret or field.is_required() or key in LOGIN_NAMES):
            continue
        label = f"{key} ({field.description or 'provider option'})"
        if secret:
            label = f"{key}: reference as {SECRET_HINT}"
        answer = click.prompt(
            label,
            default="" if not field.is_required() else None,
            value_proc=_validated(lambda text, s=secret: text.strip() and _option_value(text, s)),
        )
        if str(answer).strip() == "":
            continue
        out[key] = _option_value(str(answer), secret)
        if secret and out[key].is_literal:
            click.echo(f"warning: {key} will be stored in the config in plain text", err=True)
    return out


def _interval_ok(value: str) -> None:
    from capwatch.units import parse_duration

    if value.strip():
        parse_duration(value)


def _validated(check: Any) -> Any:
    """A click value_proc that re-asks when ``check`` rejects the answer."""

    def proc(value: str) -> str:
        """Return the answer, or ask again with the reason."""
        try:
            check(value)
        except (ValueError, InitError) as exc:
            raise click.BadParameter(str(exc)) from None
        return value

    return proc


def _ask(answers: dict[str, Any], provider_choices: list[str]) -> None:
    """Prompt for every answer the flags did not give."""
    from capwatch.providers.base import load_provider

    if answers["name"] is None:
        answers["name"] = click.prompt("Account name", default="home")
    if answers["provider"] is None:
        answers["provider"] = click.prompt(
            "Provider",
            type=click.Choice(provider_choices) if provider_choices else str,
            default="host" if "host" in provider_choices else None,
        )
    if answers["cap"] is None:
        kind = _kind(load_provider, answers["provider"])
        answers["cap"] = click.prompt(
            'Data cap ("1.2 TB", "provider" or "unlimited")',
            default="1 TB" if kind == "counter" else "provider",
            value_proc=_validated(_cap_ok),
        )
    if answers["start_day"] is None:
        answers["start_day"] = click.prompt(
            "Cycle start day (1-31 or 'calendar')",
            default="calendar",
            value_proc=_validated(_start_day),
        )
    if answers["timezone"] is None:
        answers["timezone"] = click.prompt("Time zone (IANA name or 'local')", default="local")
    if answers["interval"] is None:
        answers["interval"] = click.prompt(
            "Poll interval ('5m', '1h'; empty for the provider's default)",
            default="",
            show_default=False,
            value_proc=_validated(_interval_ok),
        )


def _kind(load: Any, name: str) -> str:
    try:
        return str(load(name).kind)
    except (CapwatchError, ImportError):
        return "meter"


def _offer_found(
    provider_cls: Any, options: dict[str, Any], targets: tuple[str, ...]
) -> dict[str, Any]:
    """Offer the devices a provider finds on the LAN (``lan_choices``), with what each reports;
    only interactively, and only when the flags named none."""
    finder = getattr(provider_cls, "lan_choices", None)
    if finder is None or options:
        return options
    if targets:
        where = ", ".join(targets)
    elif provider_cls.name == "upnp":
        where = "your network (SSDP multicast)"
    else:
        where = "its usual addresses and this machine's default gateway"
    click.echo(f"Looking for {provider_cls.name} devices on {where} ...")
    try:
        choices = finder(list(targets) or None)
    except (CapwatchError, OSError) as exc:
        click.echo(f"  discovery failed: {exc}")
        choices = []
    if not choices:
        click.echo("  none answered; give the options by hand (or leave them for discovery).")
        return options
    for i, (_opts, label) in enumerate(choices, 1):
        click.echo(f"  {i}) {label}")
    click.echo("  0) none of these")
    pick = click.prompt("Use which", type=click.IntRange(0, len(choices)), default=1)
    return {**options, **choices[pick - 1][0]} if pick else options


def _build_text(
    answers: dict[str, Any],
    option_pairs: tuple[str, ...],
    *,
    interactive: bool,
    ssdp_targets: tuple[str, ...] = (),
) -> str:
    """The commented config for the answers; InitError names the flag at fault."""
    from capwatch.config.example import example_config
    from capwatch.providers.base import load_provider

    answers["provider"] = answers["provider"] or "host"
    try:
        provider_cls = load_provider(answers["provider"])
    except ConfigError as exc:
        raise InitError(f"--provider: {exc}") from None
    except ImportError as exc:
        raise InitError(
            f"--provider: provider {answers['provider']!r} cannot be loaded "
            f"({type(exc).__name__}: {exc})"
        ) from None
    options = _parse_options(option_pairs, provider_cls.Options)
    if interactive:
        options = _offer_found(provider_cls, options, ssdp_targets)
        options = _prompt_options(provider_cls.Options, options)
    return example_config(
        name=answers["name"] or "home",
        provider=answers["provider"],
        cap=_check(answers["cap"], _cap_ok, "--cap") if answers["cap"] else None,
        start_day=_start_day(answers["start_day"]),
        timezone=answers["timezone"] or "local",
        interval=_check(answers["interval"], _interval_ok, "--interval") or None
        if answers["interval"]
        else None,
        options=options,
    )


@click.command("init")
@click.option("--name", help="Account name (a short slug).")
@click.option("--provider", help="Provider of the usage (see the installed list).")
@click.option("--cap", help='Data cap: "1.2 TB", "1229 GB", "provider" or "unlimited".')
@click.option("--start-day", help="Day of the month the cycle starts, or 'calendar'.")
@click.option("--timezone", help="IANA time zone of the cycle, or 'local'.")
@click.option("--interval", help="Poll interval: '5m', '1h' or seconds.")
@click.option(
    "--option",
    "option_pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help=f"Provider option (repeatable); secrets as {SECRET_HINT}.",
)
@click.option(
    "--find-at",
    "--ssdp-target",
    "ssdp_targets",
    multiple=True,
    metavar="HOST[:PORT]",
    help="Where to look for the router (repeatable): upnp sends its M-SEARCH there by unicast, "
    "the other routers are asked over HTTP. Default: SSDP multicast, the router's usual names "
    "and this machine's default gateway.",
)
@click.option("--non-interactive", is_flag=True, help="Do not prompt; use flags and defaults.")
@click.option("--force", is_flag=True, help="Overwrite an existing config.")
@click.pass_context
def init(
    ctx: click.Context,
    name: str | None,
    provider: str | None,
    cap: str | None,
    start_day: str | None,
    timezone: str | None,
    interval: str | None,
    option_pairs: tuple[str, ...],
    ssdp_targets: tuple[str, ...],
    non_interactive: bool,
    force: bool,
) -> None:
    """Write a commented config file (asks questions unless --non-interactive)."""
    from capwatch import paths
    from capwatch.config.loader import validate_text
    from capwatch.fsutil import write_atomic
    from capwatch.providers.base import provider_names

    obj = ctx.obj if isinstance(ctx.obj, dict) else {}
    target = Path(obj.get("config_path") or paths.default_config_path()).expanduser()
    if target.exists() and not force:
        raise InitError(f"{target} already exists (use --force to overwrite)")
    answers: dict[str, Any] = {
        "name": name,
        "provider": provider,
        "cap": cap,
        "start_day": start_day,
        "timezone": timezone,
        "interval": interval,
    }
    if not non_interactive:
        _ask(answers, provider_names())
    text = _build_text(
        answers, option_pairs, interactive=not non_interactive, ssdp_targets=ssdp_targets
    )
    try:
        validate_text(text, target)
    except ConfigError as exc:
        raise InitError(str(exc).replace(f"{target}:", "generated config:", 1)) from None
    write_atomic(target, text.encode("utf-8"), mode=0o600)
    click.echo(f"Wrote {target}")
    click.echo("Next: `capwatch doctor` checks it, `capwatch poll` takes a first reading.")
