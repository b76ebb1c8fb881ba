"""How low can a month-end forecast's error go on a set of traces? An optimistic bound.

Usage::

    python bench/forecast_bound.py TRACE_DIR

For each scored day k (3, 5, 7, 10, 14, 18, 21, 25) of every cycle after the first, the rest of
the cycle's use (true final minus the first k-1 whole days) is predicted by a least-absolute-
deviation regression on features a forecaster could compute at that moment, all divided by the
household's prior (the mean daily use of its earlier cycles):

- the earlier cycles' mean and median day;
- this cycle's mean and median day so far, the mean of its last three days, its last day and
  the median of its last five days.

The regression is fitted **on the very cycles it is scored on**, one fit per scored day, so it
sees the answers: no forecaster built from the same features can beat it on these traces
without also seeing them. Its mean absolute error over the scored days, in shares of the cap,
is printed per archetype beside the naive projection's (``used x days / elapsed``) on the same
whole-day convention. Daily use comes from capwatch's own meter cleaning (running maximum,
rounding, lag, stalls) with the cycle's true final total as its last point, so the days are the
truth as far as the meter lets anyone see it.

This is a bound on the features, not on every possible method; it says how much of a target is
left once those features are used as well as they can be.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import numpy as np

from capwatch.analysis.forecast_prep import (
    clean_samples,
    daily_increments,
    estimate_lag,
    granularity,
    lagged_points,
    unstall,
)
from capwatch.analysis.scoring import SCORED_DAYS

Household = tuple[str, float, list[list[float]]]


def household_days(path: Path) -> Household:
    """(archetype, cap, whole days of each cycle in bytes) of one trace file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        tz = ZoneInfo(data["timezone"])
        raw = [
            (
                datetime.fromisoformat(c["start"]),
                datetime.fromisoformat(c["end"]),
                [(datetime.fromisoformat(t), int(u)) for t, u in c["samples"]],
                float(c["final_bytes"]),
            )
            for c in data["cycles"]
        ]
        cap = float(data["cap_bytes"])
        archetype = str(data["archetype"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise click.ClickException(f"{path}: not a trace: {exc}") from exc
    step = granularity([u for *_, s, _ in raw for _, u in s])
    cleaned = [(st, en, unstall(clean_samples(s, st), step), fin) for st, en, s, fin in raw]
    lag = estimate_lag([(st, s) for st, _, s, _ in cleaned], step)
    cycles = []
    for st, en, s, fin in cleaned:
        points = [*lagged_points(s, st, lag, step), (en, fin)]
        cycles.append([d.used for d in daily_increments(points, st, tz) if d.fraction >= 0.999])
    return archetype, cap, cycles


def _lad(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-absolute-deviation coefficients by iteratively reweighted least squares."""
    w = np.ones(len(y))
    coef = np.zeros(x.shape[1])
    for _ in range(60):
        coef, *_ = np.linalg.lstsq(x * w[:, None], y * w, rcond=None)
        w = 1.0 / np.sqrt(np.maximum(np.abs(y - x @ coef), 1e-3))
    return coef


def bound(households: Sequence[Household]) -> dict[str, tuple[float, float]]:
    """Per archetype (and "all"): (in-sample LAD error, naive error), in shares of the cap."""
    errors: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for k in SCORED_DAYS:
        rows = []
        for archetype, cap, cycles in households:
            for c in range(1, len(cycles)):
                day = np.array(cycles[c])
                if len(day) <= k or not all(cycles[:c]):
                    continue
                prior = float(np.mean([np.mean(d) for d in cycles[:c]]))
                if prior <= 0:
                    continue
                past = np.array([x for d in cycles[:c] for x in d])
                seen, rest = day[: k - 1], day[k - 1 :]
                feats = [
                    1.0,
                    np.median(past) / prior,
                    seen.mean() / prior,
                    np.median(seen) / prior,
                    seen[-3:].mean() / prior,
                    seen[-1] / prior,
                    np.median(seen[-5:]) / prior,
                ]
                naive = abs(seen.mean() * len(day) - day.sum()) / cap
                rows.append((archetype, cap, prior, len(rest), rest.sum(), feats, naive))
        x = np.array([r[5] for r in rows])
        y = np.array([r[4] / r[3] / r[2] for r in rows])
        coef = _lad(x, y)
        for (archetype, cap, prior, left, rest_sum, _, naive), fit in zip(
            rows, x @ coef, strict=True
        ):
            err = abs(fit * prior * left - rest_sum) / cap
            errors[archetype].append((err, naive))
            errors["all"].append((err, naive))
    return {
        a: (float(np.mean([e for e, _ in v])), float(np.mean([n for _, n in v])))
        for a, v in errors.items()
    }


@click.command()
@click.argument("trace_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
def main(trace_dir: Path) -> None:
    """Print the in-sample LAD bound per archetype beside the naive projection's error."""
    files = sorted(trace_dir.glob("*.json"))
    if not files:
        raise click.ClickException(f"{trace_dir}: no *.json traces")
    result = bound([household_days(p) for p in files])
    click.echo("| archetype | in-sample LAD bound | naive (whole days) | bound / naive |")
    click.echo("|---|---|---|---|")
    for archetype in sorted(result, key=lambda a: (a == "all", a)):
        err, naive = result[archetype]
        click.echo(f"| {archetype} | {err:.4f} | {naive:.4f} | {err / naive:.3f} |")


if __name__ == "__main__":
    main()
