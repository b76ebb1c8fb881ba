"""`capwatch devices`: who used it, device by device, for a cycle or a day."""

from __future__ import annotations

from datetime import date
from typing import Any

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


def _day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"expected YYYY-MM-DD, got {value!r}") from None


@click.command()
@click.option("--account", "-a", help="Show only this account.")
@click.option("--cycle", "month", metavar="YYYY-MM", help="The cycle that starts in this month.")
@click.option("--day", callback=_day, metavar="DATE", help="This day (and its cycle).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: per account, its devices.")
@click.pass_context
@handle_errors
def devices(
    ctx: click.Context, account: str | None, month: str | None, day: date | None, as_json: bool
) -> None:
    """Show who used it: each device's cycle, share of the meter, day and usual day."""
    from capwatch.service.devices import account_devices

    if month is not None and day is not None:
        raise click.UsageError("--cycle and --day go one at a time")
    settings = load(ctx)
    names = account_names(settings, account)
    now = clock(ctx)()
    store = store_for(settings, read_only=True)
    try:
        views = [account_devices(settings, store, n, now, month=month, day=day) for n in names]
    finally:
        store.close()
    if as_json:
        emit_json({view.account: _json(cycle, view) for cycle, view in views})
        return
    for _cycle, view in views:
        _table(view, explicit_day=day is not None)


def _json(cycle: Any, view: Any) -> dict[str, Any]:
    from capwatch.service.devices import view_dict

    return view_dict(cycle, view)


MIXED_WITH_VENDOR = 92
"""Narrower than this, a table with a Source column leaves the Vendor column out."""


def _table(view: Any, *, explicit_day: bool) -> None:
    from rich import box
    from rich.table import Table

    from capwatch.analysis.devices import source_label, sparkline
    from capwatch.units import format_bytes as fb
    from capwatch.units import format_percent

    # One source for every row says nothing: its column shows only when they differ.
    mixed = len({source_label(r) for r in view.rows}) > 1 or any(r.isp for r in view.rows)
    # Figures are never cut: at 80 columns a Source column leaves no room for the vendor.
    vendor = not mixed or console().width >= MIXED_WITH_VENDOR
    table = Table(
        title=f"{view.account}: who used it",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        padding=(0, 1, 0, 0),
    )
    # 17: a MAC (aa:bb:cc:dd:ee:ff) is the name of an unnamed device: it must show whole
    table.add_column("Device", no_wrap=True, overflow="ellipsis", min_width=17, max_width=17)
    if vendor:
        table.add_column("Vendor", no_wrap=True, overflow="ellipsis", max_width=11)
    day_header = f"{view.day:%b %d}" if explicit_day else "Yest."
    for header, width in (("Cycle", 7), ("Share", 6), (day_header, 7), ("Usual", 7)):
        table.add_column(header, justify="right", no_wrap=True, min_width=width)
    table.add_column("Last 10 days", no_wrap=True, min_width=10)
    if mixed:
        table.add_column("Source", no_wrap=True, overflow="ellipsis", max_width=14)

    def row(name: str, vend: str, *rest: str, style: str | None = None) -> None:
        table.add_row(name, *([vend] if vendor else []), *rest, style=style)

    for r in view.rows:
        row(
            r.name,
            r.vendor or "",
            fb(r.cycle_bytes),
            format_percent(r.share * 100) if r.share is not None else "",
            fb(r.day_bytes),
            fb(r.usual_bytes) if r.usual_bytes is not None else "",
            f"[blue]{sparkline(r.daily, 10)}[/blue]",
            *([source_label(r)] if mixed else []),
            style=None if r.summed else "dim",
        )
    extra = [""] if mixed else []
    if not view.rows:
        row("no device data in this cycle", "", "", "", "", "", "", *extra)
    if view.unaccounted_bytes is not None:
        share = view.unaccounted_bytes / view.meter_bytes * 100 if view.meter_bytes else None
        row(
            "[dim]no device[/dim]",
            "[dim]meter − devices[/dim]",
            fb(view.unaccounted_bytes),
            format_percent(share) if share is not None else "",
            "",
            "",
            sparkline(view.unaccounted_daily or (), 10),
            *extra,
        )
    console().print(table)
    if any(not r.summed for r in view.rows):
        console().print(
            "[dim]ISP (per gateway): the ISP's own figure, which holds the devices above; "
            "not added to them.[/dim]"
        )
