"""`capwatch status`: where each account stands, with the forecast and active alerts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
    from capwatch.models import AlertState, AllowanceSummary, CycleSummary


def _row(s: CycleSummary) -> list[str]:
    from capwatch.units import (
        format_age,
        format_cap,
        format_days,
        format_pace,
        format_percent,
        format_range,
    )
    from capwatch.units import format_bytes as fb

    f = s.forecast
    projected = f"{fb(f.expected_bytes)} ({format_range(f.low_bytes, f.high_bytes)})" if f else "-"
    if f and s.cap_bytes and f.expected_bytes > s.cap_bytes:
        projected = f"[red]{projected}[/red]"
    return [
        s.account,
        s.status.value,
        fb(s.used_bytes),
        "plan" if s.cap_bytes is None and s.allowances else format_cap(s.cap_bytes, s.unlimited),
        format_percent(s.percent),
        projected,
        f"{fb(s.daily_allowance_bytes)}/day" if s.daily_allowance_bytes is not None else "-",
        format_pace(s.pace),
        format_days(s.days_left),
        format_age(s.reading_age_s),
    ]


def _alert_dict(a: AlertState) -> dict[str, Any]:
    return {
        "rule": a.rule,
        "level": a.level,
        "fired_at": a.fired_at.isoformat() if a.fired_at else None,
        "message": a.message,
    }


@click.command()
@click.option("--account", "-a", help="Show only this account.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (shape in the README).")
@click.pass_context
@handle_errors
def status(ctx: click.Context, account: str | None, as_json: bool) -> None:
    """Show used, cap, %, projection, daily allowance, pace, days left and active alerts."""
    from capwatch.service.serialize import summary_to_dict
    from capwatch.service.views import account_summary

    settings = load(ctx)
    names = account_names(settings, account)  # an unknown name fails before any file is made
    store = store_for(settings, read_only=True)
    try:
        now = clock(ctx)()
        summaries = [account_summary(settings, store, n, now) for n in names]
        alerts = {n: [a for a in store.alert_states(n).values() if a.active] for n in names}
    finally:
        store.close()
    if as_json:
        emit_json(
            [
                summary_to_dict(s) | {"alerts": [_alert_dict(a) for a in alerts[s.account]]}
                for s in summaries
            ]
        )
        return
    _print_table(summaries, alerts)
    from capwatch.lan import default_gateways, only_host_meter, only_this_machine_note

    if only_host_meter(settings):
        obj: dict[str, Any] = ctx.find_root().obj or {}
        find = obj.get("gateways") or default_gateways  # tests give their own
        console().print(only_this_machine_note(find()), style="yellow", markup=False)


WIDE_COLUMNS = 110
"""Below this terminal width each account is stacked (label: value) instead of one table row."""
HEADERS = ["Account", "Status", "Used", "Cap", "%", "Projected (80%)", "Allowance"]
STACKED = ("Used", "Cap", "Projected (80%)", "Allowance", "Pace", "Days left", "Last reading")


def _print_stacked(con: Any, summaries: list[CycleSummary]) -> None:
    """One block per account, label and value on a line: fits 80 columns and less."""
    from rich.table import Table

    con.print("capwatch status")
    for s in summaries:
        account, status, used, cap, pct, *rest = _row(s)
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        values = [used, cap if pct == "-" else f"{cap} ({pct} used)", *rest]
        for label, value in zip(STACKED, values, strict=True):
            grid.add_row(label, value)
        con.print(f"\n[bold]{account}[/bold]  {status}")
        con.print(grid)


def _print_table(summaries: list[CycleSummary], alerts: dict[str, list[AlertState]]) -> None:
    from rich.table import Table

    con = console()
    if con.width < WIDE_COLUMNS:
        _print_stacked(con, summaries)
        print_allowances(con, summaries, wide=False)
        _print_notes(con, summaries, alerts)
        return
    table = Table(title="capwatch status", title_justify="left")
    for header in [*HEADERS, "Pace", "Days left", "Last reading"]:
        table.add_column(header, justify="left" if header in ("Account", "Status") else "right")
    for s in summaries:
        table.add_row(*_row(s))
    con.print(table)
    print_allowances(con, summaries, wide=True)
    _print_notes(con, summaries, alerts)


def _allowance_cells(a: AllowanceSummary) -> list[str]:
    from capwatch.units import format_bytes as fb

    extra = []
    if a.rollover_bytes:
        extra.append(f"+{fb(a.rollover_bytes)} rolled over")
    if a.topup_bytes:
        extra.append(f"+{fb(a.topup_bytes)} top-ups")
    size = fb(a.size_bytes) + (f" ({', '.join(extra)})" if extra else "")
    counts = "all traffic" if a.counts == "all" else f"{a.counts} {a.windows}"
    projected = fb(a.projected_bytes) if a.projected_bytes is not None else "-"
    if a.projected_bytes is not None and a.projected_bytes > a.size_bytes:
        projected = f"[red]{projected}[/red]"
    unknown = "unknown" if not a.split_known else "-"
    used = fb(a.used_bytes) if a.used_bytes is not None else unknown
    left = fb(a.remaining_bytes) if a.remaining_bytes is not None else unknown
    return [a.name, counts, size, used, left, projected, a.at_end]


ALLOWANCE_HEADERS = ["Allowance", "Counts", "Size", "Used", "Left", "Projected", "At end"]


def print_allowances(con: Any, summaries: list[CycleSummary], *, wide: bool) -> None:
    """The plan's allowances of each account that has them: a table, or stacked lines."""
    from rich.table import Table

    for s in summaries:
        if not s.allowances:
            continue
        if wide:
            table = Table(title=f"{s.account}: plan", title_justify="left")
            for header in ALLOWANCE_HEADERS:
                table.add_column(
                    header, justify="left" if header in ALLOWANCE_HEADERS[:2] else "right"
                )
            for a in s.allowances:
                table.add_row(*_allowance_cells(a))
            con.print(table)
            continue
        con.print(f"\n[bold]{s.account}[/bold]  plan")
        for a in s.allowances:
            name, counts, size, used, left, projected, at_end = _allowance_cells(a)
            con.print(f"[bold]{name}[/bold]  {counts}; at its end: {at_end}")
            grid = Table.grid(padding=(0, 2))
            grid.add_column(no_wrap=True)
            grid.add_column(overflow="fold")
            for label, value in zip(
                ("  Used", "  Size", "  Left", "  Projected"),
                (used, size, left, projected),
                strict=True,
            ):
                grid.add_row(label, value)
            con.print(grid)
    for s in summaries:
        for a in s.allowances:
            if a.note:
                con.print(f"{s.account}: {a.name}: {a.note}", markup=False)


def _print_notes(
    con: Any, summaries: list[CycleSummary], alerts: dict[str, list[AlertState]]
) -> None:
    """The new-cycle note, why the projection moved, the last error and the active alerts of
    each account."""
    from capwatch.units import format_shift

    for s in summaries:
        if s.note:
            con.print(f"{s.account}: {s.note}")
        if s.forecast is not None and s.forecast.shift is not None:
            why = format_shift(s.forecast.shift)
            con.print(f"{s.account}: the projection follows a change: {why}", markup=False)
        if s.last_error:
            con.print(f"[red]{s.account}: last error: {s.last_error}[/red]")
        for a in alerts.get(s.account, []):
            con.print(f"[yellow]{s.account}: alert {a.rule} {a.level}: {a.message or ''}[/yellow]")
