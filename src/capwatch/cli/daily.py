"""`capwatch daily`: the current cycle day by day (what was used each day, and the total)."""

from __future__ import annotations

from datetime import date

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
@click.option("--json", "as_json", is_flag=True, help="Print JSON: per account, its days.")
@click.pass_context
@handle_errors
def daily(ctx: click.Context, account: str | None, as_json: bool) -> None:
    """Show the current cycle day by day: each day's usage and the total so far."""
    from rich.table import Table

    from capwatch.charts.data import daily_increments
    from capwatch.service.views import account_summary
    from capwatch.units import format_bytes as fb

    settings = load(ctx)
    names = account_names(settings, account)
    now = clock(ctx)()
    store = store_for(settings, read_only=True)
    try:
        days: dict[str, list[tuple[date, int, int]]] = {}
        for name in names:
            summary = account_summary(settings, store, name, now)
            cumulative = [
                (d.day, d.used_bytes) for d in store.daily_usage(name, summary.cycle.start)
            ]
            totals = dict(cumulative)
            days[name] = [(day, used, totals[day]) for day, used in daily_increments(cumulative)]
    finally:
        store.close()
    if as_json:
        emit_json(
            {
                name: [
                    {"day": d.isoformat(), "used_bytes": used, "total_bytes": total}
                    for d, used, total in rows
                ]
                for name, rows in days.items()
            }
        )
        return
    con = console()
    for name, rows in days.items():
        table = Table(title=f"{name}: this cycle by day", title_justify="left")
        for header in ("Day", "Used", "Total", ""):
            table.add_column(header, justify="left" if header == "Day" else "right")
        top = max((used for _, used, _ in rows), default=0) or 1
        for day, used, total in rows:
            bar = "█" * max(round(20 * used / top), 1 if used else 0)
            table.add_row(f"{day:%a %Y-%m-%d}", fb(used), fb(total), f"[blue]{bar}[/blue]")
        if not rows:
            table.add_row("no readings in this cycle yet", "", "", "")
        con.print(table)
