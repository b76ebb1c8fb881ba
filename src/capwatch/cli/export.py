"""`capwatch export`: every reading as CSV or JSON (the CSV imports back)."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING

import click

from capwatch.cli._common import handle_errors, load, store_for

if TYPE_CHECKING:
    from capwatch.models import Reading

COLUMNS = ("timestamp", "used_bytes", "cap_bytes", "account", "cycle_start", "source")


@click.command()
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "json"]), default="csv", show_default=True
)
@click.option("--account", "-a", help="Export only this account.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File.")
@click.pass_context
@handle_errors
def export(ctx: click.Context, fmt: str, account: str | None, output: Path | None) -> None:
    """Export readings, oldest first; the CSV's first three columns import back."""
    settings = load(ctx)
    if account:
        settings.account(account)
    store = store_for(settings, read_only=True)
    try:
        if output is None:
            _write(store.iter_readings(account), fmt, sys.stdout)
        else:
            import io

            from capwatch.fsutil import write_atomic

            buf = io.StringIO()
            _write(store.iter_readings(account), fmt, buf)
            write_atomic(output, buf.getvalue().encode(), mode=0o600)  # usage is personal
    finally:
        store.close()


def _write(readings: Iterable[Reading], fmt: str, out: IO[str]) -> None:
    from capwatch.service.serialize import reading_to_dict

    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for r in readings:
            d = reading_to_dict(r)
            writer.writerow(
                [
                    d["observed_at"],
                    d["used_bytes"],
                    d["cap_bytes"] if d["cap_bytes"] is not None else "",
                    d["account"],
                    d["cycle_start"],
                    d["source"],
                ]
            )
        return
    out.write("[")
    for i, r in enumerate(readings):
        out.write(("," if i else "") + "\n  " + json.dumps(reading_to_dict(r)))
    out.write("\n]\n")
