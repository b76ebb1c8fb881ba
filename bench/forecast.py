"""Score capwatch's forecaster beside the naive projection on a directory of traces.

Usage: ``python bench/forecast.py TRACE_DIR [--json]``. Scoring follows the traces' README
(:mod:`capwatch.analysis.scoring`); exits 1 when a target is missed.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import asdict
from pathlib import Path

import click

from capwatch.analysis.forecast import forecast_cycle
from capwatch.analysis.scoring import (
    SCORED_DAYS,
    Scores,
    Trace,
    naive_forecast,
    parse_trace,
    score,
)

TARGET_ERROR_RATIO = 0.70
TARGET_COVERAGE = (0.75, 0.88)
TARGET_RECALL = 0.95
TARGET_FALSE_ALARM_RATIO = 0.35
TARGET_LEAD_DAYS = 12.0


def load_traces(directory: Path) -> list[Trace]:
    """Read every ``*.json`` trace in ``directory``, sorted by name."""
    files = sorted(directory.glob("*.json"))
    if not files:
        raise click.ClickException(f"{directory}: no *.json traces")
    traces = []
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise click.ClickException(f"{path}: not JSON: {exc}") from exc
        try:
            traces.append(parse_trace(data, str(path)))
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    return traces


def check_targets(ours: Scores, naive: Scores) -> dict[str, bool]:
    """Each target of the forecast issue, passed or not."""
    fa_limit = TARGET_FALSE_ALARM_RATIO * (naive.false_alarms or 0.0)
    return {
        "mean error": ours.mean_error <= TARGET_ERROR_RATIO * naive.mean_error,
        "coverage": ours.coverage is not None
        and TARGET_COVERAGE[0] <= ours.coverage <= TARGET_COVERAGE[1],
        "recall": ours.recall is None or ours.recall >= TARGET_RECALL,
        "false alarms": ours.false_alarms is None or ours.false_alarms <= fa_limit,
        "median lead": ours.median_lead_days is None or ours.median_lead_days >= TARGET_LEAD_DAYS,
    }


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def _print_table(ours: Scores, naive: Scores, passed: dict[str, bool]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Month-end forecast")
    columns = ["method", "mean error", *(f"d{d}" for d in SCORED_DAYS)]
    columns += ["coverage", "recall", "median lead", "false alarms"]
    for col in columns:
        table.add_column(col, justify="right")
    for s in (ours, naive):
        row = [s.method, _fmt(s.mean_error), *(_fmt(s.error_by_day.get(d)) for d in SCORED_DAYS)]
        row += [_fmt(s.coverage), _fmt(s.recall), _fmt(s.median_lead_days, 1)]
        row += [_fmt(s.false_alarms)]
        table.add_row(*row)
    console = Console(width=160)
    console.print(table)
    for name, ok in passed.items():
        console.print(f"{name}: {'PASS' if ok else 'FAIL'}")


@click.command()
@click.argument("trace_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def main(trace_dir: Path, as_json: bool) -> None:
    """Score the forecaster on TRACE_DIR and print its table beside the naive projection's."""
    traces = load_traces(trace_dir)
    ours = score(forecast_cycle, traces, "capwatch")
    naive = score(naive_forecast, traces, "naive")
    passed = check_targets(ours, naive)
    if as_json:
        out = {"capwatch": asdict(ours), "naive": asdict(naive), "targets": passed}
        click.echo(json.dumps(out, indent=2, default=str))
    else:
        _print_table(ours, naive, passed)
    sys.exit(0 if all(passed.values()) else 1)


if __name__ == "__main__":
    main()
