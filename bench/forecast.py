"""Score capwatch's forecaster beside the naive projection on a directory of traces.

Usage::

    python bench/forecast.py TRACE_DIR [--folds K] [--seed N] [--json]
    python bench/forecast.py --traces DIR ...          # the same, DIR given by name

Scoring follows the traces' README (:mod:`capwatch.analysis.scoring`). The table has the totals
and one row per archetype (error ratio to naive, 80%-interval coverage, recall, false alarms,
median lead), and the cost of one ``forecast_cycle`` call in CPU microseconds. Exits 1 when a
target is missed.

``--folds K`` splits the households into K groups (shuffled with ``--seed``, then dealt round
robin, so the split is the same on every run); for each group, whatever is tuned is fitted on the
other K-1 groups (:func:`fit`) and the group is scored with it; the held-out figures pool the K
held-out groups. capwatch's forecaster fits nothing across households (every quantity comes from
the household's own earlier cycles and this cycle), so :func:`fit` returns it unchanged and the
held-out figures equal the in-sample ones; the test that matters is then on households it has
never seen, such as those of ``bench/tracegen.py`` with a seed not used while developing.

``--forecaster module:function`` scores another forecaster in place of ``forecast_cycle`` (for
example a saved copy of an earlier version, to print before/after tables).
"""

from __future__ import annotations

import importlib
import json
import math
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from capwatch.analysis.forecast import forecast_cycle
from capwatch.analysis.scoring import (
    SCORED_DAYS,
    Forecaster,
    Scores,
    Tally,
    Trace,
    merge,
    naive_forecast,
    parse_trace,
    score_trace,
    summarise,
)

TARGET_ERROR_RATIO = 0.65
TARGET_NEAR_CAP_ERROR_RATIO = 0.70
NEAR_CAP = "near_cap"
TARGET_COVERAGE = (0.77, 0.85)
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


def split_folds(traces: Sequence[Trace], k: int, seed: int) -> list[list[Trace]]:
    """``k`` groups of households: names shuffled with ``seed``, then dealt round robin."""
    if k < 2 or k > len(traces):
        raise click.ClickException(f"--folds: {k} must be between 2 and {len(traces)}")
    order = sorted(traces, key=lambda t: t.name)
    random.Random(seed).shuffle(order)
    return [order[i::k] for i in range(k)]


def fit(train: Sequence[Trace], forecaster: Forecaster) -> Forecaster:
    """The forecaster tuned on ``train``: capwatch's fits nothing across households."""
    del train
    return forecaster


class Timed:
    """A forecaster wrapper that adds up the CPU time of each call."""

    def __init__(self, inner: Forecaster) -> None:
        self.inner = inner
        self.calls = 0
        self.seconds = 0.0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        t0 = time.process_time()
        out = self.inner(*args, **kwargs)
        self.seconds += time.process_time() - t0
        self.calls += 1
        return out

    @property
    def micros(self) -> float:
        """Mean CPU microseconds per call."""
        return 1e6 * self.seconds / self.calls if self.calls else float("nan")


def check_targets(
    ours: Scores, naive: Scores, near: tuple[Scores, Scores] | None = None
) -> dict[str, bool]:
    """Each target of the forecast issue, passed or not (near-cap when that archetype exists)."""
    fa_limit = TARGET_FALSE_ALARM_RATIO * (naive.false_alarms or 0.0)
    out = {
        "mean error": ours.mean_error <= TARGET_ERROR_RATIO * naive.mean_error,
        "coverage": ours.coverage is not None
        and TARGET_COVERAGE[0] <= ours.coverage <= TARGET_COVERAGE[1],
        "recall": ours.recall is None or ours.recall >= TARGET_RECALL,
        "false alarms": ours.false_alarms is None or ours.false_alarms <= fa_limit,
        "median lead": ours.median_lead_days is None or ours.median_lead_days >= TARGET_LEAD_DAYS,
    }
    if near is not None:
        out["near-cap error"] = (
            near[0].mean_error <= TARGET_NEAR_CAP_ERROR_RATIO * near[1].mean_error
        )
    return out


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"


def _ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or not b or math.isnan(a) or math.isnan(b):
        return "-"
    return f"{a / b:.2f}x"


def _print_tables(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=170)
    ours, naive = result["ours"], result["naive"]
    table = Table(title=f"Month-end forecast, {result['traces']} households ({result['split']})")
    columns = ["method", "mean error", *(f"d{d}" for d in SCORED_DAYS)]
    columns += ["coverage", "recall", "median lead", "false alarms"]
    for col in columns:
        table.add_column(col, justify="right")
    for s in (ours, naive):
        row = [s.method, _fmt(s.mean_error), *(_fmt(s.error_by_day.get(d)) for d in SCORED_DAYS)]
        row += [_fmt(s.coverage), _fmt(s.recall), _fmt(s.median_lead_days, 1)]
        row += [_fmt(s.false_alarms)]
        table.add_row(*row)
    console.print(table)
    groups = Table(title="Per archetype (ours, naive in brackets)")
    for col in ["archetype", "households", "mean error", "x naive", "coverage", "recall"]:
        groups.add_column(col, justify="right")
    for col in ["false alarms", "median lead"]:
        groups.add_column(col, justify="right")
    for name, (o, n, count) in [*result["archetypes"].items(), ("all", (ours, naive, None))]:
        groups.add_row(
            name,
            str(count if count is not None else result["traces"]),
            f"{_fmt(o.mean_error)} ({_fmt(n.mean_error)})",
            _ratio(o.mean_error, n.mean_error),
            _fmt(o.coverage),
            f"{_fmt(o.recall)} ({_fmt(n.recall)})",
            f"{_fmt(o.false_alarms)} ({_fmt(n.false_alarms)})",
            f"{_fmt(o.median_lead_days, 1)} ({_fmt(n.median_lead_days, 1)})",
        )
    console.print(groups)
    if result["folds"]:
        folds = Table(title="Held-out groups")
        for col in ["fold", "households", "x naive", "coverage", "recall", "false alarms"]:
            folds.add_column(col, justify="right")
        for i, (o, n, count) in enumerate(result["folds"]):
            folds.add_row(
                str(i),
                str(count),
                _ratio(o.mean_error, n.mean_error),
                _fmt(o.coverage),
                _fmt(o.recall),
                f"{_fmt(o.false_alarms)} ({_fmt(n.false_alarms)})",
            )
        console.print(folds)
        console.print(
            "nothing is fitted across households: held-out figures equal the in-sample ones"
        )
    console.print(f"cost: {result['micros']:.0f} CPU us per forecast_cycle call")
    for name, ok in result["targets"].items():
        console.print(f"{name}: {'PASS' if ok else 'FAIL'}")


def run(
    traces: Sequence[Trace], folds: int | None, seed: int, forecaster: Forecaster
) -> dict[str, Any]:
    """Score ``forecaster`` and the naive projection, fold by fold when ``folds`` is given."""
    groups = split_folds(traces, folds, seed) if folds else [list(traces)]
    timed = Timed(forecaster)
    ours_by: dict[str, Tally] = {}
    naive_by: dict[str, Tally] = {}
    fold_rows: list[tuple[Scores, Scores, int]] = []
    for i, held in enumerate(groups):
        train = [t for j, g in enumerate(groups) for t in g if j != i]
        timed.inner = fit(train, forecaster)
        for trace in held:
            ours_by[trace.name] = score_trace(timed, trace)
            naive_by[trace.name] = score_trace(naive_forecast, trace)
        if folds:
            fold_rows.append(
                (
                    summarise(merge([ours_by[t.name] for t in held]), "capwatch"),
                    summarise(merge([naive_by[t.name] for t in held]), "naive"),
                    len(held),
                )
            )
    ours = summarise(merge(list(ours_by.values())), "capwatch")
    naive = summarise(merge(list(naive_by.values())), "naive")
    archetypes: dict[str, tuple[Scores, Scores, int]] = {}
    for arch in sorted({t.archetype for t in traces}):
        names = [t.name for t in traces if t.archetype == arch]
        archetypes[arch] = (
            summarise(merge([ours_by[n] for n in names]), "capwatch"),
            summarise(merge([naive_by[n] for n in names]), "naive"),
            len(names),
        )
    near = archetypes.get(NEAR_CAP)
    return {
        "ours": ours,
        "naive": naive,
        "archetypes": archetypes,
        "folds": fold_rows,
        "traces": len(traces),
        "split": f"{folds} folds, seed {seed}, held-out" if folds else "in-sample",
        "micros": timed.micros,
        "targets": check_targets(ours, naive, (near[0], near[1]) if near else None),
    }


def _load_forecaster(spec: str | None) -> Forecaster:
    if spec is None:
        return forecast_cycle
    module, _, attr = spec.partition(":")
    try:
        found: Callable[..., Any] = getattr(importlib.import_module(module), attr or "forecast")
    except (ImportError, AttributeError) as exc:
        raise click.ClickException(f"--forecaster {spec}: {exc}") from exc
    return found


@click.command()
@click.argument(
    "trace_dir", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.option(
    "--traces",
    "traces_opt",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Directory of traces (instead of TRACE_DIR).",
)
@click.option("--folds", type=int, default=None, help="Split households into K held-out groups.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the fold split.")
@click.option("--forecaster", "forecaster_spec", help="module:function to score instead.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def main(
    trace_dir: Path | None,
    traces_opt: Path | None,
    folds: int | None,
    seed: int,
    forecaster_spec: str | None,
    as_json: bool,
) -> None:
    """Score the forecaster on TRACE_DIR and print its tables beside the naive projection's."""
    directory = traces_opt or trace_dir
    if directory is None:
        raise click.UsageError("give TRACE_DIR or --traces DIR")
    traces = load_traces(directory)
    result = run(traces, folds, seed, _load_forecaster(forecaster_spec))
    if as_json:
        out = {
            "capwatch": asdict(result["ours"]),
            "naive": asdict(result["naive"]),
            "archetypes": {
                k: {"capwatch": asdict(o), "naive": asdict(n), "households": c}
                for k, (o, n, c) in result["archetypes"].items()
            },
            "folds": [
                {"capwatch": asdict(o), "naive": asdict(n), "households": c}
                for o, n, c in result["folds"]
            ],
            "split": result["split"],
            "micros_per_call": result["micros"],
            "targets": result["targets"],
        }
        click.echo(json.dumps(out, indent=2, default=str))
    else:
        _print_tables(result)
    sys.exit(0 if all(result["targets"].values()) else 1)


if __name__ == "__main__":
    main()
