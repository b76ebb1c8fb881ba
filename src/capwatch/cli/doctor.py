"""`capwatch doctor`: config, secrets, store, file permissions and provider prerequisites."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from capwatch.cli._common import console, handle_errors, load

LOCAL_METERS = frozenset(
    {"host", "snmp", "vnstat", "upnp", "fritz", "openwrt", "huawei_lte", "netgear_lte"}
)
ROUTERS = frozenset({"upnp", "fritz", "openwrt", "huawei_lte", "netgear_lte"})
"""Devices on the household's network: doctor asks each once whether it answers (an ISP is not
asked: its site has rate limits, and `capwatch poll` is the check)."""
"""Providers that count traffic themselves (they need no ISP meter)."""


@dataclass(frozen=True)
class Check:
    """One doctor finding."""

    area: str
    ok: bool
    detail: str
    warning: bool = False


def _secrets(obj: Any, where: str) -> Iterator[tuple[str, Any]]:
    from pydantic import BaseModel

    from capwatch.secrets import Secret

    if isinstance(obj, Secret):
        yield where, obj
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from _secrets(getattr(obj, name), f"{where}.{name}" if where else name)
    elif isinstance(obj, list | tuple):
        for i, item in enumerate(obj):
            yield from _secrets(item, f"{where}[{i}]")
    elif isinstance(obj, dict):
        for key, item in obj.items():
            yield from _secrets(item, f"{where}.{key}")


def secret_checks(settings: Any) -> Iterator[Check]:
    """Every secret reference resolves; literal secrets in the file are warned about."""

    found = list(_secrets(settings, ""))
    for account in settings.accounts:
        found += _secrets(account.provider_options, f"accounts.{account.name}.options")
    for where, secret in found:
        yield _secret_check(where, secret)


def _secret_check(where: str, secret: Any) -> Check:
    """Whether one secret resolves; a literal one (a password in the file) is warned about."""
    try:
        secret.reveal()
    except Exception as exc:
        return Check("secret", False, f"{where}: {exc}")
    if getattr(secret, "is_literal", False):
        return Check("secret", True, f"{where}: written in the file; prefer {{env=...}}", True)
    return Check("secret", True, f"{where}: resolves")


def permission_checks(settings: Any) -> Iterator[Check]:
    """Session and secret files must be private (0600)."""
    from capwatch.fsutil import loose_permissions

    paths: list[Path] = []
    if settings.source_path:
        paths.append(Path(settings.source_path))
    accounts_dir = Path(settings.data_dir) / "accounts"
    if accounts_dir.exists():
        paths.extend(p for p in accounts_dir.rglob("*") if p.is_file())
    found = list(_secrets(settings, ""))
    for account in settings.accounts:
        found += _secrets(account.provider_options, account.name)
    for _where, secret in found:  # secret files given by {file = "..."}
        if secret.kind == "file" and Path(secret.ref).expanduser().is_file():
            paths.append(Path(secret.ref).expanduser())
    database = Path(settings.data_dir) / "capwatch.db"
    paths.extend(p for p in (database,) if p.is_file())
    for path in paths:
        if loose_permissions(path):
            mode = f"{path.stat().st_mode & 0o777:o}"
            yield Check(
                "files", False, f"{path} is readable by others (mode {mode}): chmod 600 it", True
            )
    yield Check("files", True, f"{len(paths)} private file(s) checked")


def store_checks(settings: Any) -> Iterator[Check]:
    """The store opens, migrates and passes its integrity check."""
    from capwatch.errors import CapwatchError
    from capwatch.store import open_store

    try:
        store = open_store(settings.resolved_database_url())
    except CapwatchError as exc:
        yield Check("store", False, str(exc))
        return
    try:
        result = store.integrity_check()
        yield Check("store", result == "ok", f"{store.url_display}: integrity {result}")
        yield from meter_checks(settings, store)
    except CapwatchError as exc:  # a damaged file can open and then fail on the first read
        yield Check("store", False, str(exc))
    finally:
        store.close()


def meter_checks(settings: Any, store: Any) -> Iterator[Check]:
    """An unlimited plan whose ISP keeps no meter: suggest a local meter account."""
    from capwatch.service.views import keeps_no_meter

    if any(a.enabled and a.provider in LOCAL_METERS for a in settings.accounts):
        return
    for account in settings.accounts:
        if account.enabled and keeps_no_meter(store, account.name):
            yield Check(
                f"account {account.name}",
                True,
                "unlimited plan without an ISP meter: add an account with a local meter "
                "(provider snmp or vnstat on the router, or host on this machine) to see usage",
                True,
            )


def provider_checks(settings: Any) -> Iterator[Check]:
    """Each account's provider can be built and has its prerequisites."""
    from capwatch.service.accounts import build_runtime

    for account in settings.accounts:
        try:
            rt = build_runtime(account, settings)
            problems = rt.provider.prerequisites()
        except Exception as exc:
            yield Check(f"account {account.name}", False, str(exc))
            continue
        for problem in problems:
            yield Check(f"account {account.name}", False, problem)
        if not problems:
            yield Check(f"account {account.name}", True, f"provider {account.provider} ready")
            advice = getattr(rt.provider, "interval_advice", None)
            if advice is not None:
                yield Check(f"account {account.name}", True, advice(rt.interval_s))
            if account.enabled and account.provider in ROUTERS:
                yield router_answer(account.name, rt.provider)


def router_answer(name: str, provider: Any) -> Check:
    """Read the router once, storing nothing: what it answered, or why it did not."""
    import asyncio

    import httpx

    from capwatch.errors import CapwatchError
    from capwatch.secrets import redact
    from capwatch.units import format_bytes

    async def read() -> Any:
        async with httpx.AsyncClient(timeout=15.0) as client:
            return await asyncio.wait_for(provider.fetch(client), 60)

    try:
        snap = asyncio.run(read())
    except (CapwatchError, httpx.HTTPError, OSError, TimeoutError) as exc:
        reason = redact(str(exc) or type(exc).__name__)
        return Check(f"account {name}", False, f"the router did not answer: {reason}")
    if snap.used_bytes is not None:
        what = f"{format_bytes(snap.used_bytes)} used by its own meter"
    else:
        what = ", ".join(f"{c.key} {format_bytes(c.value)}" for c in snap.counters) or "no counter"
    return Check(f"account {name}", True, f"the router answers: {what}")


def notify_checks(settings: Any) -> Iterator[Check]:
    """Every channel's URL is one Apprise can use; alerts of every account reach a channel."""
    from capwatch.notify.apprise_adapter import check_url
    from capwatch.notify.outbox import channels_for

    for channel in settings.notify:
        try:
            problem = check_url(channel.url.reveal())
        except Exception as exc:  # an unresolvable secret is reported by secret_checks too
            problem = str(exc)
        area = f"notify {channel.name}"
        if problem is None:
            yield Check(area, True, f"Apprise URL valid; takes {', '.join(channel.kinds)}")
        else:
            yield Check(area, False, problem)
    for account in settings.accounts:
        if account.enabled and not channels_for(settings, "alerts", account.name):
            yield Check(
                "notify",
                False,
                f"alerts of {account.name} go to no channel: they show only in `capwatch "
                "status` and on the dashboard; add a [[notify]] channel and run "
                "`capwatch notify test`",
                True,
            )


@click.command()
@click.option(
    "--bundle",
    "bundle",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write a support bundle (zip): the findings, recent polls and refused replies, "
    "secrets taken out. `capwatch check-response` reads its replies back.",
)
@click.pass_context
@handle_errors
def doctor(ctx: click.Context, bundle: Path | None) -> None:
    """Check the config, secrets, store, file permissions and each provider's prerequisites."""
    from rich.table import Table

    settings = load(ctx)
    where = settings.source_path or "embedded defaults"
    checks = [Check("config", True, f"{where}: valid, {len(settings.accounts)} account(s)")]
    for group in (secret_checks, permission_checks, store_checks, provider_checks, notify_checks):
        checks.extend(group(settings))
    table = Table(title="capwatch doctor", title_justify="left")
    for header in ("", "Area", "Detail"):
        table.add_column(header)
    for c in checks:
        mark = "[yellow]![/yellow]" if c.warning else "[green]✓[/green]" if c.ok else "[red]✗[/red]"
        table.add_row(mark, c.area, c.detail)
    console().print(table)
    if bundle is not None:
        _write_bundle(settings, checks, bundle)
    if any(not c.ok and not c.warning for c in checks):
        ctx.exit(1)


def _write_bundle(settings: Any, checks: list[Check], target: Path) -> None:
    from capwatch.cli._common import store_for
    from capwatch.support import write_bundle

    findings = [
        f"{'warn' if c.warning else 'ok' if c.ok else 'FAIL'}  {c.area}: {c.detail}" for c in checks
    ]
    store = store_for(settings, read_only=True)
    try:
        members = write_bundle(settings, store, findings, target)
    finally:
        store.close()
    replies = sum(1 for m in members if "/reply-" in m)
    click.echo(
        f"wrote {target}: {len(members)} files, {replies} refused repl"
        f"{'y' if replies == 1 else 'ies'} (read one with `capwatch check-response`)"
    )
