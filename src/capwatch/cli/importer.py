"""`capwatch import`: usage logs (capwatch CSV, xfinity-monitor's Log_file_YYYY-MM.csv)."""

from __future__ import annotations

from pathlib import Path

import click

from capwatch.cli._common import clock, console, handle_errors, load, store_for


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--account", "-a", help="Account to import into (default: the only/first one).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "csv", "xfinity-monitor"]),
    default="auto",
    show_default=True,
)
@click.option("--source", default="import", show_default=True, help="Source name stored.")
@click.pass_context
@handle_errors
def import_(
    ctx: click.Context, files: tuple[Path, ...], account: str | None, fmt: str, source: str
) -> None:
    """Import readings from CSV files; a bad row names its line and nothing is written."""
    from rich.progress import Progress

    from capwatch.analysis.cycles import CycleRule
    from capwatch.importers import read_rows
    from capwatch.models import Reading

    settings = load(ctx)
    acc = settings.account(account) if account else settings.accounts[0]
    rule = CycleRule(acc.cycle.start_day, acc.cycle.zone)
    readings: list[Reading] = []
    with Progress(console=console(), transient=True) as progress:
        for path in files:
            size = path.stat().st_size if path.exists() else None
            task = progress.add_task(f"reading {path.name}", total=size)
            with path.open("rb") as fh:
                lines = sum(1 for _ in fh) if size else 0
            per_line = (size or 0) / max(lines, 1)
            for row in read_rows(path, fmt, now=clock(ctx)()):  # type: ignore[arg-type]
                cap = row.cap_bytes if row.cap_bytes is not None else acc.cap_bytes
                start = rule.cycle_at(row.observed_at).start
                readings.append(
                    Reading(acc.name, row.observed_at, start, row.used_bytes, cap, source)
                )
                progress.update(task, advance=per_line)
            progress.update(task, completed=size)
    store = store_for(settings)
    try:
        store.ensure_account(acc.name, acc.provider, acc.cycle.zone.key)
        added = store.add_readings(readings)
    finally:
        store.close()
    console().print(
        f"{acc.name}: {added} readings imported, {len(readings) - added} already stored"
    )
