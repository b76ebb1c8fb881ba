"""`capwatch notify test`: send a test message to each channel and say what happened."""

from __future__ import annotations

import click

from capwatch.cli._common import EXIT_FAILURE, console, fail, handle_errors, load


@click.group()
def notify() -> None:
    """Check the notification channels ([[notify]] in the config)."""


@notify.command("test")
@click.option("--channel", "-c", "names", multiple=True, help="Only this channel (repeatable).")
@click.pass_context
@handle_errors
def test(ctx: click.Context, names: tuple[str, ...]) -> None:
    """Send a test message to every channel (or the named ones); exit 1 if any failed."""
    from rich.table import Table

    from capwatch.notify.apprise_adapter import check_url, send
    from capwatch.secrets import redact

    settings = load(ctx)
    channels = [c for c in settings.notify if not names or c.name in names]
    unknown = sorted(set(names) - {c.name for c in settings.notify})
    if unknown:
        known = ", ".join(c.name for c in settings.notify) or "none"
        fail(f"--channel {unknown[0]}: no such channel (configured: {known})")
    if not channels:
        fail(
            "no [[notify]] channel is configured: alerts show only in `capwatch status` and on "
            "the dashboard (see docs/notifications.md)"
        )
    table = Table(title="capwatch notify test", title_justify="left")
    for header in ("Channel", "Takes", "Result"):
        table.add_column(header)
    failed = 0
    for channel in channels:
        url = channel.url.reveal()
        problem = check_url(url)
        if problem is None:
            result = send(
                [url],
                title="capwatch test message",
                body_text=(
                    f"This is a test from capwatch to the channel {channel.name!r}. "
                    "Alerts and reports will arrive here like this."
                ),
            )
            problem = None if result.ok else (result.error or "not sent")
        failed += problem is not None
        shown = (
            "[green]sent[/green]" if problem is None else f"[red]failed: {redact(problem)}[/red]"
        )
        table.add_row(channel.name, ", ".join(channel.kinds), shown)
    console().print(table)
    if failed:
        ctx.exit(EXIT_FAILURE)
