"""`capwatch topup ACCOUNT 20GB`: record data bought on top of an allowance, or list them."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, NoReturn

import click

from capwatch.cli._common import clock, console, emit_json, fail, handle_errors, load, store_for

if TYPE_CHECKING:
    from capwatch.config import AccountSettings
    from capwatch.models import Topup


def _fail(message: str) -> NoReturn:
    fail(message)
    raise AssertionError("unreachable")  # pragma: no cover


def _when(text: str, zone: tzinfo) -> datetime:
    """``--at``: ISO 8601; a date or a time without an offset is in the account's zone."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        _fail(f"--at: expected a date or time like 2026-12-02 or 2026-12-02T18:30 (got {text!r})")
    return value.replace(tzinfo=zone) if value.tzinfo is None else value


def _allowance(acct: AccountSettings, name: str | None) -> str:
    """The allowance a top-up goes to: the one named, else the plan's first."""
    names = [a.name for a in acct.allowances]
    if not names:
        _fail(
            f"account {acct.name!r} has no allowances to top up: its plan is its cap alone "
            "(add [[accounts.allowances]] to the config)"
        )
    if name is None:
        return names[0]
    if name not in names:
        _fail(f"account {acct.name!r} has no allowance {name!r} (allowances: {', '.join(names)})")
    return name


@click.command()
@click.argument("account")
@click.argument("size", required=False)
@click.option("--allowance", help="The allowance it tops up (default: the plan's first).")
@click.option("--note", help="A note kept with it (what it was for, its order number).")
@click.option("--at", "at_text", metavar="WHEN", help="When it was bought (default: now).")
@click.option("--list", "as_list", is_flag=True, help="List the account's top-ups instead.")
@click.option("--json", "as_json", is_flag=True, help="With --list: print JSON.")
@click.pass_context
@handle_errors
def topup(
    ctx: click.Context,
    account: str,
    size: str | None,
    allowance: str | None,
    note: str | None,
    at_text: str | None,
    as_list: bool,
    as_json: bool,
) -> None:
    """Record data bought on top of an allowance (for the cycle it falls in), or list them."""
    from capwatch.models import Topup
    from capwatch.units import format_bytes, parse_bytes

    settings = load(ctx)
    acct = settings.account(account)
    zone = acct.cycle.zone
    if as_list:
        store = store_for(settings, read_only=True)
        try:
            items = store.topups(account)
        finally:
            store.close()
        if as_json:
            emit_json([_as_dict(t) for t in items])
            return
        con = console()
        if not items:
            con.print(f"{account}: no top-ups recorded")
        for t in items:
            when = t.at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
            tail = f"  {t.note}" if t.note else ""
            con.print(f"{when}  {t.allowance}  {format_bytes(t.bytes)}{tail}", markup=False)
        return
    if size is None:
        _fail("give the size bought (capwatch topup ACCOUNT 20GB), or --list")
    try:
        nbytes = parse_bytes(size)
    except ValueError as exc:
        _fail(f"SIZE: {exc}")
    if nbytes <= 0:
        _fail("SIZE: a top-up must be more than 0 bytes")
    at = _when(at_text, zone) if at_text else clock(ctx)()
    item = Topup(account, _allowance(acct, allowance), at, nbytes, note)
    store = store_for(settings)
    try:
        store.add_topup(item)
    finally:
        store.close()
    when = at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
    console().print(
        f"{account}: recorded a top-up of {format_bytes(nbytes)} to {item.allowance} at {when}",
        markup=False,
    )


def _as_dict(t: Topup) -> dict[str, object]:
    return {
        "account": t.account,
        "allowance": t.allowance,
        "at": t.at.isoformat().replace("+00:00", "Z"),
        "bytes": t.bytes,
        "note": t.note,
    }
