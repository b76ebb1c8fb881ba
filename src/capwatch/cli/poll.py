"""`capwatch poll`: one-shot, cron-friendly poll of one or every account."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import click

from capwatch.cli._common import (
    account_names,
    clock,
    console,
    emit_json,
    handle_errors,
    load,
    store_for,
)

if TYPE_CHECKING:
    from capwatch.service.coordinator import PollResult


@click.command()
@click.option("--account", "-a", help="Poll only this account.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--force", is_flag=True, help="Poll even an account waiting for `capwatch login`.")
@click.pass_context
@handle_errors
def poll(ctx: click.Context, account: str | None, as_json: bool, force: bool) -> None:
    """Poll accounts once and store the readings; exit 1 if any poll failed."""
    from capwatch.service.coordinator import Coordinator, poll_error_exit_code
    from capwatch.service.serialize import reading_to_dict
    from capwatch.units import format_bytes

    settings = load(ctx)
    names = account_names(settings, account)
    store = store_for(settings)
    try:
        coordinator = Coordinator(settings, store, clock=clock(ctx))

        async def run() -> list[PollResult]:
            results = [await coordinator.poll_account(n, force=force) for n in names]
            await coordinator.drain_exports()
            return results

        results = asyncio.run(run())
    finally:
        store.close()
    out = [
        {
            "account": r.account,
            "outcome": r.outcome.value,
            "stored": r.stored,
            "message": r.message,
            "reading": reading_to_dict(r.reading) if r.reading else None,
        }
        for r in results
    ]
    if as_json:
        emit_json(out)
    else:
        con = console()
        for r in results:
            if r.reading is not None:
                cap = format_bytes(r.reading.cap_bytes) if r.reading.cap_bytes else "unlimited"
                note = "" if r.stored else " (already stored)"
                con.print(f"{r.account}: used {format_bytes(r.reading.used_bytes)} of {cap}{note}")
            elif r.ok or r.skipped:
                con.print(f"{r.account}: {r.message}")
            else:
                con.print(f"[red]{r.account}: {r.outcome.value}: {r.message}[/red]")
    ctx.exit(poll_error_exit_code(results))
