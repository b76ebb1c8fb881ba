"""`capwatch history`: earlier cycles as a table (or JSON)."""

from __future__ import annotations

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


@click.command()
@click.option("--account", "-a", help="Show only this account.")
@click.option("--cycles", "-n", default=12, show_default=True, type=click.IntRange(1, 600))
@click.option("--json", "as_json", is_flag=True, help="Print JSON (shape in the README).")
@click.pass_context
@handle_errors
def history(ctx: click.Context, account: str | None, cycles: int, as_json: bool) -> None:
    """Show the usage of each cycle, newest first, the one in progress marked."""
    from datetime import timedelta

    from rich.table import Table

    from capwatch.service.serialize import cycle_to_dict
    from capwatch.service.views import closed_cycles
    from capwatch.units import format_bytes as fb

    settings = load(ctx)
    now = clock(ctx)()
    names = account_names(settings, account)  # an unknown name fails before any file is made
    store = store_for(settings, read_only=True)
    try:
        records = {n: closed_cycles(settings, store, n, now, limit=cycles) for n in names}
    finally:
        store.close()
    if as_json:
        emit_json({n: [cycle_to_dict(c, now) for c in rs] for n, rs in records.items()})
        return
    con = console()
    for name, rows in records.items():
        count = f"{len(rows)} cycle" + ("" if len(rows) == 1 else "s")
        table = Table(title=f"{name}: last {count}", title_justify="left")
        for header in ("Cycle", "Used", "Cap", "%", "Readings", "Share of cap"):
            table.add_column(header, justify="left" if header == "Cycle" else "right")
        zone = settings.account(name).cycle.zone
        for c in rows:
            pct = 100 * c.used_bytes / c.cap_bytes if c.cap_bytes else None
            bar = "█" * min(int((pct or 0) / 5), 24)
            style = "red" if pct is not None and pct > 100 else "green"
            first = c.cycle_start.astimezone(zone).strftime("%Y-%m-%d")
            end = c.cycle_end
            last = (end - timedelta(seconds=1)).astimezone(zone) if end else None
            span = f"{first} – {last:%Y-%m-%d}" if last else first
            if end is None or end > now:
                span += " (in progress)"
            table.add_row(
                span,
                f"≥ {fb(c.used_bytes)}" if c.lower_bound else fb(c.used_bytes),
                fb(c.cap_bytes) if c.cap_bytes else "unlimited",
                f"{pct:.1f}%" if pct is not None else "-",
                str(c.readings),
                f"[{style}]{bar}[/{style}]",
            )
        con.print(table)
        if any(c.lower_bound for c in rows):
            con.print("≥: capwatch missed the end of that cycle; it used at least this much.")
