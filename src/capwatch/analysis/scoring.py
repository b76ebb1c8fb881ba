"""Score a month-end forecaster on household traces (the format of the shared forecast traces).

Scoring, as the traces' README specifies: for every cycle after the first (earlier cycles are
its history), at noon local time on each day of the cycle the forecaster sees only the samples
up to that instant and predicts the final total with an 80% interval.

- error: ``|expected - final| / cap`` averaged over days 3, 5, 7, 10, 14, 18, 21, 25;
- coverage: share of those predictions whose interval holds ``final``;
- alerts: the first day (from day 2) the low end reaches 90% of the cap; recall is the share of
  over-cap cycles alerted before the meter crossed the cap, lead the median days from alert to
  crossing (to the cycle end where the meter never showed it), false alarms the share of cycles
  ending under 80% of the cap that alerted.

Pure functions: the caller reads the files and passes the parsed JSON in.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from capwatch.models import Forecast

SCORED_DAYS: tuple[int, ...] = (3, 5, 7, 10, 14, 18, 21, 25)
ALERT_FRACTION = 0.9
UNDER_FRACTION = 0.8

Sample = tuple[datetime, int]
Forecaster = Callable[..., Forecast]


@dataclass(frozen=True, slots=True)
class TraceCycle:
    """One billing cycle of a trace: bounds, true final total and the meter's samples."""

    start: datetime
    end: datetime
    final_bytes: int
    samples: tuple[Sample, ...]


@dataclass(frozen=True, slots=True)
class Trace:
    """One household: cap, time zone, poll interval and its cycles, oldest first."""

    name: str
    archetype: str
    timezone: str
    cap_bytes: int
    poll_hours: float
    cycles: tuple[TraceCycle, ...]


@dataclass(slots=True)
class Scores:
    """The figures of one forecaster over a set of traces."""

    method: str
    mean_error: float
    error_by_day: dict[int, float]
    coverage: float | None
    recall: float | None
    median_lead_days: float | None
    false_alarms: float | None
    predictions: int = 0
    over_cap_cycles: int = 0
    under_cycles: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _parse_time(value: Any, where: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise ValueError(f"{where}: not an ISO-8601 timestamp: {value!r}") from exc
    if parsed.tzinfo is None:
        raise ValueError(f"{where}: timestamp without an offset: {value!r}")
    return parsed


def parse_trace(data: Mapping[str, Any], where: str = "trace") -> Trace:
    """Turn one trace file's parsed JSON into a :class:`Trace`; errors name the place."""
    try:
        cycles = []
        for i, raw in enumerate(data["cycles"]):
            here = f"{where}: cycles[{i}]"
            samples = tuple(
                (_parse_time(t, f"{here}.samples[{j}]"), int(b))
                for j, (t, b) in enumerate(raw["samples"])
            )
            cycles.append(
                TraceCycle(
                    start=_parse_time(raw["start"], f"{here}.start"),
                    end=_parse_time(raw["end"], f"{here}.end"),
                    final_bytes=int(raw["final_bytes"]),
                    samples=samples,
                )
            )
        return Trace(
            name=str(data.get("name", where)),
            archetype=str(data.get("archetype", "")),
            timezone=str(data["timezone"]),
            cap_bytes=int(data["cap_bytes"]),
            poll_hours=float(data.get("poll_hours", 0) or 0),
            cycles=tuple(cycles),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{where}: missing or malformed field {exc}") from exc


def naive_forecast(
    samples: Sequence[Sample],
    cycle_start: datetime,
    cycle_end: datetime,
    cap_bytes: int | None,
    history: Sequence[Sequence[Sample]] = (),
    now: datetime | None = None,
    **_: Any,
) -> Forecast:
    """The seed scripts' projection ``used * cycle_length / elapsed``, without an interval."""
    if not samples:
        return Forecast(0, 0, 0, method="naive")
    at = now if now is not None else samples[-1][0]
    elapsed = (at - cycle_start).total_seconds()
    length = (cycle_end - cycle_start).total_seconds()
    used = samples[-1][1]
    value = int(used * length / elapsed) if elapsed > 0 else used
    return Forecast(value, value, value, method="naive")


def cycle_noons(cycle: TraceCycle, tz: tzinfo) -> list[tuple[int, datetime]]:
    """(day number, local noon) for each day of the cycle; day 0 is its first local day."""
    day = cycle.start.astimezone(tz).date()
    out: list[tuple[int, datetime]] = []
    number = 0
    while True:
        noon = datetime.combine(day, time(12), tzinfo=tz)
        if noon >= cycle.end:
            break
        if noon >= cycle.start:
            out.append((number, noon))
        number += 1
        day += timedelta(days=1)
    return out


@dataclass(slots=True)
class Tally:
    """Raw per-prediction errors, coverage hits and alert outcomes, before summarising."""

    errors: dict[int, list[float]] = field(default_factory=lambda: {d: [] for d in SCORED_DAYS})
    covered: list[bool] = field(default_factory=list)
    has_interval: bool = False
    leads: list[float] = field(default_factory=list)
    over: int = 0
    caught: int = 0
    under: int = 0
    false_alarms: int = 0


def _crossing(cycle: TraceCycle, cap: int) -> datetime:
    for t, used in cycle.samples:
        if used >= cap:
            return t
    return cycle.end


def _score_cycle(
    forecaster: Forecaster, trace: Trace, index: int, tally: Tally, tz: tzinfo
) -> None:
    cycle = trace.cycles[index]
    history = [list(c.samples) for c in trace.cycles[:index]]
    cap = trace.cap_bytes
    alert_at: datetime | None = None
    for number, noon in cycle_noons(cycle, tz):
        seen = [s for s in cycle.samples if s[0] <= noon]
        fc = forecaster(seen, cycle.start, cycle.end, cap, history=history, now=noon, tz=tz)
        if fc.low_bytes != fc.high_bytes:
            tally.has_interval = True
        if number in tally.errors:
            tally.errors[number].append(abs(fc.expected_bytes - cycle.final_bytes) / cap)
            tally.covered.append(fc.low_bytes <= cycle.final_bytes <= fc.high_bytes)
        if alert_at is None and number >= 2 and fc.low_bytes >= ALERT_FRACTION * cap:
            alert_at = noon
    if cycle.final_bytes > cap:
        tally.over += 1
        crossing = _crossing(cycle, cap)
        if alert_at is not None and alert_at < crossing:
            tally.caught += 1
            tally.leads.append((crossing - alert_at).total_seconds() / 86400)
    if cycle.final_bytes < UNDER_FRACTION * cap:
        tally.under += 1
        if alert_at is not None:
            tally.false_alarms += 1


def score_trace(forecaster: Forecaster, trace: Trace) -> Tally:
    """The raw tallies of ``forecaster`` on one household, to be merged with :func:`summarise`."""
    tally = Tally()
    tz = ZoneInfo(trace.timezone)
    for index in range(1, len(trace.cycles)):
        _score_cycle(forecaster, trace, index, tally, tz)
    return tally


def merge(tallies: Sequence[Tally]) -> Tally:
    """One tally holding every household's predictions and alerts."""
    out = Tally()
    for t in tallies:
        for d in SCORED_DAYS:
            out.errors[d].extend(t.errors[d])
        out.covered.extend(t.covered)
        out.has_interval = out.has_interval or t.has_interval
        out.leads.extend(t.leads)
        out.over += t.over
        out.caught += t.caught
        out.under += t.under
        out.false_alarms += t.false_alarms
    return out


def summarise(tally: Tally, method: str = "") -> Scores:
    """The figures of a (merged) tally."""
    by_day = {d: statistics.fmean(v) for d, v in tally.errors.items() if v}
    every = [e for v in tally.errors.values() for e in v]
    return Scores(
        method=method,
        mean_error=statistics.fmean(every) if every else float("nan"),
        error_by_day=by_day,
        coverage=statistics.fmean(tally.covered) if tally.covered and tally.has_interval else 0.0,
        recall=tally.caught / tally.over if tally.over else None,
        median_lead_days=statistics.median(tally.leads) if tally.leads else None,
        false_alarms=tally.false_alarms / tally.under if tally.under else None,
        predictions=len(every),
        over_cap_cycles=tally.over,
        under_cycles=tally.under,
    )


def score(forecaster: Forecaster, traces: Sequence[Trace], method: str = "") -> Scores:
    """Score ``forecaster`` on ``traces`` as the traces' README specifies."""
    return summarise(merge([score_trace(forecaster, t) for t in traces]), method)
