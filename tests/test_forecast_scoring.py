"""The scorer computes the naive projection's figures as the traces' README specifies."""

from __future__ import annotations

import json
import statistics
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from capwatch.analysis.scoring import (
    SCORED_DAYS,
    Trace,
    cycle_noons,
    naive_forecast,
    parse_trace,
    score,
)

DATA = Path(__file__).parent / "data" / "forecast"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "forecast-traces"


def _load(directory: Path) -> list[Trace]:
    return [
        parse_trace(json.loads(p.read_text()), p.name) for p in sorted(directory.glob("*.json"))
    ]


def _by_hand(traces: list[Trace]) -> tuple[float, float | None]:
    """Mean error and false alarms of the naive projection, written out longhand."""
    errors: list[float] = []
    under = alarms = 0
    for trace in traces:
        tz = ZoneInfo(trace.timezone)
        cap = trace.cap_bytes
        for cycle in trace.cycles[1:]:
            first = cycle.start.astimezone(tz).date()
            length = (cycle.end - cycle.start).total_seconds()
            alerted = False
            for day in range(0, 40):
                noon = datetime.combine(first + timedelta(days=day), time(12), tzinfo=tz)
                if noon >= cycle.end:
                    break
                seen = [u for t, u in cycle.samples if t <= noon]
                used = seen[-1] if seen else 0
                guess = used * length / (noon - cycle.start).total_seconds()
                if day in SCORED_DAYS:
                    errors.append(abs(int(guess) - cycle.final_bytes) / cap)
                alerted = alerted or (day >= 2 and int(guess) >= 0.9 * cap)
            if cycle.final_bytes < 0.8 * cap:
                under += 1
                alarms += alerted
    return statistics.fmean(errors), (alarms / under if under else None)


def test_naive_scores_match_a_longhand_computation() -> None:
    traces = _load(DATA)
    assert len(traces) == 4
    scores = score(naive_forecast, traces, "naive")
    mean_error, false_alarms = _by_hand(traces)
    assert scores.mean_error == pytest.approx(mean_error)
    assert scores.false_alarms == pytest.approx(false_alarms)
    assert scores.coverage == 0.0
    assert scores.predictions == len(SCORED_DAYS) * 4 * 5


def test_noons_number_days_from_zero_on_the_first_local_day() -> None:
    trace = _load(DATA)[0]
    cycle = trace.cycles[1]
    noons = cycle_noons(cycle, ZoneInfo(trace.timezone))
    assert noons[0][0] == 0
    assert noons[0][1].hour == 12
    assert noons[-1][1] < cycle.end


def test_parse_trace_names_the_place_of_bad_input() -> None:
    with pytest.raises(ValueError, match=r"t\.json: cycles\[0\]\.start"):
        parse_trace(
            {"timezone": "UTC", "cap_bytes": 1, "cycles": [{"start": "x", "samples": []}]}, "t.json"
        )


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared forecast traces not present")
def test_naive_reproduces_the_readme_on_the_shared_traces() -> None:
    scores = score(naive_forecast, _load(SHARED), "naive")
    assert round(scores.mean_error, 3) == 0.203
    assert round(scores.error_by_day[3], 3) == 0.358
    assert round(scores.error_by_day[14], 3) == 0.172
    assert scores.recall == 1.0
    assert round(scores.median_lead_days or 0, 1) == 17.7
    assert round(scores.false_alarms or 0, 3) == 0.175
