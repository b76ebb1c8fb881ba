"""`capwatch chart`: draw a cycle (or the history of cycles) to a PNG or SVG file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import click

from capwatch.cli._common import clock, fail, handle_errors, load, store_for

if TYPE_CHECKING:
    from capwatch.charts.render import Format
    from capwatch.config import Settings


def _default_account(settings: Settings, account: str | None) -> str:
    """The named account, or the only/first enabled one."""
    from capwatch.cli._common import account_names

    names = account_names(settings, account)
    if not names:
        fail("no account configured")
    return names[0]


@click.command()
@click.option("--account", "-a", help="Account to draw (default: the first one).")
@click.option("--cycle", "month", metavar="YYYY-MM", help="Cycle starting in this month.")
@click.option("--history", is_flag=True, help="Draw past cycles against their caps instead.")
@click.option("--dark", is_flag=True, help="Dark background.")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Output file: .png or .svg.",
)
@click.pass_context
@handle_errors
def chart(
    ctx: click.Context,
    account: str | None,
    month: str | None,
    history: bool,
    dark: bool,
    output: Path,
) -> None:
    """Re-plot any cycle (usage, pace, alarm, cap, forecast, daily bars) to a file."""
    from capwatch.charts.data import chart_for_account, zone_of
    from capwatch.charts.history import render_history
    from capwatch.charts.render import render_cycle
    from capwatch.fsutil import write_atomic

    suffix = output.suffix.lower()
    if suffix not in (".png", ".svg"):
        fail(f"-o {output}: the file name must end in .png or .svg")
    fmt: Format = "svg" if suffix == ".svg" else "png"
    if month is not None and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        fail(f"--cycle {month}: expected YYYY-MM, e.g. 2026-10")
    settings = load(ctx)
    name = _default_account(settings, account)
    store = store_for(settings, read_only=True)
    try:
        if history:
            zone = zone_of(settings.account(name))
            records = store.cycles(name, limit=24)
            if not records:
                fail(f"account {name!r}: no cycles stored yet")
            data = render_history(
                records, fmt, zone=zone, dark=dark, title=f"{name}: usage by cycle"
            )
        else:
            from capwatch.service.views import account_summary

            now = clock(ctx)()
            summary = account_summary(settings, store, name, now)
            current = summary.cycle.start.astimezone(settings.account(name).cycle.zone)
            forecast = summary.forecast if month in (None, f"{current:%Y-%m}") else None
            cdata = chart_for_account(
                settings, store, name, month=month, now=now, forecast=forecast
            )
            data = render_cycle(cdata, fmt, dark=dark)
    finally:
        store.close()
    write_atomic(output, data, mode=0o644)
    click.echo(f"wrote {output}")
