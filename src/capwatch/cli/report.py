"""`capwatch report`: build the weekly status or month-end summary; preview or send it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from capwatch.cli._common import EXIT_FAILURE, fail, handle_errors, load, store_for

if TYPE_CHECKING:
    from capwatch.config import Settings
    from capwatch.notify.message import Report


@click.command()
@click.argument("kind", type=click.Choice(["weekly", "monthly"]))
@click.option("--account", "-a", help="Account to report on (default: every enabled one).")
@click.option("--send", is_flag=True, help="Send now to the channels that take this kind.")
@click.option(
    "--preview",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the HTML (chart inline) to this file instead of sending.",
)
@click.pass_context
@handle_errors
def report(
    ctx: click.Context, kind: str, account: str | None, send: bool, preview: Path | None
) -> None:
    """Build the weekly status or the last closed cycle's summary (text on stdout by default)."""
    from capwatch.cli._common import account_names, clock
    from capwatch.notify.reports import build_monthly, build_weekly, last_closed_cycle

    if send and preview is not None:
        fail("give --send or --preview, not both")
    settings = load(ctx)
    names = account_names(settings, account)
    if not names:
        fail("no account configured")
    store = store_for(settings, read_only=True)
    try:
        now = clock(ctx)()
        reports = []
        for name in names:
            if kind == "weekly":
                reports.append((name, build_weekly(store, settings, name, now)))
            else:
                cycle = last_closed_cycle(store, settings, name, now)
                reports.append((name, build_monthly(store, settings, name, cycle)))
    finally:
        store.close()
    if preview is not None:
        _write_preview(preview, [r for _, r in reports])
    elif send:
        _send_all(settings, kind, reports)
    else:
        for _, rep in reports:
            click.echo(f"Subject: {rep.subject}\n\n{rep.text}")


def _write_preview(path: Path, reports: list[Report]) -> None:
    """Write every report's HTML (charts as data URIs) into one file."""
    from capwatch.fsutil import write_atomic
    from capwatch.notify.templates import inline_preview

    parts = [inline_preview(r.html, r.png) for r in reports]
    write_atomic(path, "\n".join(parts).encode("utf-8"), mode=0o644)
    click.echo(f"wrote {path}")


def _send_all(settings: Settings, kind: str, reports: list[tuple[str, Report]]) -> None:
    """Send each report to its channels now; exit 1 when any send failed."""
    from capwatch.notify.apprise_adapter import send
    from capwatch.notify.outbox import channels_for

    failed = 0
    for name, rep in reports:
        channels = channels_for(settings, kind, name)
        if not channels:
            fail(f"no notify channel takes {kind} reports for {name!r}")
        for ch in channels:
            result = send(
                [ch.url.reveal()],
                title=rep.subject,
                body_text=rep.text,
                body_html=rep.html,
                attachments=rep.attachments(),
            )
            if result.ok:
                click.echo(f"sent {kind} report of {name} via {ch.name}")
            else:
                failed += 1
                click.echo(f"capwatch: {ch.name}: {result.error}", err=True)
    if failed:
        raise SystemExit(EXIT_FAILURE)
