"""Generate household usage traces in the shared forecast-traces format, from a seed.

Usage::

    python bench/tracegen.py OUT_DIR [--seed N] [--households N]

Writes ``OUT_DIR/<name>.json`` (the format of ``forecast-traces/README.md``: name, archetype,
timezone, cap_bytes, poll_hours and six monthly cycles of ``[timestamp, bytes]`` samples with the
true ``final_bytes``; habit households also carry the change drawn, ``habit_change``: cycle
index, day of the cycle and factor, which the scorer ignores). Nothing is written into the
repository unless OUT_DIR points there. The same seed gives the same files, byte for byte.

Every household shares the meter and life of a real one: a weekday shape, an evening-peaked day,
day-to-day noise that persists (AR(1) on the log scale), occasional big downloads, now and then a
few days away, a drift of the level from cycle to cycle, a meter that lags the truth by hours and
rounds down to whole GB, and polls that fail. On top of that each household has one archetype,
dealt in turn so a set of N holds them in equal shares:

Big downloads are 20-100 GB, at most 2-6 days of the household's level.

- ``light``: 3-15 GB a day, far under the cap;
- ``heavy``: 45-80 GB a day, over a 1.2 TB cap most months;
- ``near_cap``: a level aimed at 85-112% of the cap, the households an alert matters most to;
- ``habit_up`` / ``habit_down``: in one of the scored cycles (the 3rd to the 6th), from a
  random day between the 4th and the 22nd, the level doubles (halves) and stays so, in the
  following cycles too (someone starts, or stops, working from home);
- ``stalling``: the meter freezes for 20-50 hours two to four times a cycle and then catches
  up in one jump (the ISP's counter stalls; the household's use does not);

Develop against one seed and report another: BENCHMARKS.md names the development seed and the
held-out seed.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click

GB = 10**9
ARCHETYPES = ("light", "heavy", "near_cap", "habit_up", "habit_down", "stalling")
ZONES = ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles")
CYCLES = 6
# Share of a day's use in each local hour: low at night, a peak in the evening.
DIURNAL = tuple(
    0.3 + 0.7 * math.exp(-(((h - 20.5) / 4.0) ** 2)) + 0.25 * math.exp(-(((h - 12) / 3.0) ** 2))
    for h in range(24)
)
_DIURNAL_SUM = sum(DIURNAL)


@dataclass(frozen=True, slots=True)
class Household:
    """The parameters drawn for one household."""

    name: str
    archetype: str
    zone: ZoneInfo
    cap: int
    poll_hours: int
    lag_hours: float
    fail_rate: float
    level: float  # bytes per day at the first cycle
    weekday: tuple[float, ...]
    noise_sd: float
    persistence: float
    spike_rate: float  # expected big downloads per day
    first: datetime  # local midnight opening the first cycle


def _month_after(start: datetime) -> datetime:
    year, month = (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
    return start.replace(year=year, month=month)


def _draw_household(rng: random.Random, name: str, archetype: str) -> Household:
    zone = ZoneInfo(rng.choice(ZONES))
    cap = rng.choice((1229, 1229, 1229, 2048)) * GB if archetype == "light" else 1229 * GB
    weekend = rng.uniform(1.0, 1.4)
    raw = [rng.uniform(0.9, 1.1) for _ in range(5)] + [weekend * rng.uniform(0.95, 1.05)] * 2
    mean = sum(raw) / 7
    weekday = tuple(w / mean for w in raw)
    spike_rate = rng.uniform(0.02, 0.12)
    if archetype == "light":
        level = rng.uniform(3, 15) * GB
    elif archetype == "heavy":
        level = rng.uniform(45, 80) * GB
    elif archetype == "near_cap":
        aim = cap * rng.uniform(0.85, 1.12) / 30.4
        level = aim - spike_rate * min(60 * GB, 4 * aim)
    else:
        level = rng.uniform(15, 45) * GB
    first = datetime(2025, rng.randint(1, 6), rng.choice((1, 1, 8, 15)), tzinfo=zone)
    return Household(
        name=name,
        archetype=archetype,
        zone=zone,
        cap=cap,
        poll_hours=rng.choice((1, 1, 2, 3, 6)),
        lag_hours=rng.uniform(1, 10),
        fail_rate=rng.uniform(0, 0.12),
        level=max(level, 1 * GB),
        weekday=weekday,
        noise_sd=rng.uniform(0.15, 0.45),
        persistence=rng.uniform(0.0, 0.6),
        spike_rate=spike_rate,
        first=first,
    )


def _daily_use(
    rng: random.Random, h: Household, days: list[datetime], cycles: int
) -> tuple[list[float], dict[str, object]]:
    """True use of each local day: level x weekday x noise x habit x away, plus downloads;
    and the habit change drawn (cycle index, day of the cycle, factor)."""
    out: list[float] = []
    noise = 0.0
    habit_cycle = rng.randint(min(2, cycles - 1), cycles - 1)
    habit_day = rng.randint(4, 22)
    factor = {"habit_up": 2.0, "habit_down": 0.5}.get(h.archetype, 1.0)
    away = 0
    cycle_level = h.level
    cycle_index = -1
    cycle_day = 0
    for day in days:
        if day.day == h.first.day and (cycle_index < 0 or cycle_day > 20):
            cycle_index += 1
            cycle_day = 0
            cycle_level = h.level * math.exp(rng.gauss(0, 0.08))
        noise = h.persistence * noise + math.sqrt(1 - h.persistence**2) * rng.gauss(0, h.noise_sd)
        use = cycle_level * h.weekday[day.weekday()] * math.exp(noise - h.noise_sd**2 / 2)
        if away == 0 and rng.random() < 0.01:
            away = rng.randint(2, 7)
        if away:
            use *= 0.1
            away -= 1
        if rng.random() < h.spike_rate:
            use += min(rng.uniform(20, 100) * GB, rng.uniform(2, 6) * h.level)
        if factor != 1.0 and (
            cycle_index > habit_cycle or (cycle_index == habit_cycle and cycle_day >= habit_day)
        ):
            use *= factor
        out.append(use)
        cycle_day += 1
    habit = {"cycle": habit_cycle, "day": habit_day, "factor": factor}
    return out, habit


def _stalls(rng: random.Random, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Two to four windows of 20-50 hours in which the meter shows no progress."""
    out = []
    span_h = (end - start).total_seconds() / 3600
    for _ in range(rng.randint(2, 4)):
        at = start + timedelta(hours=rng.uniform(24, span_h - 60))
        out.append((at, at + timedelta(hours=rng.uniform(20, 50))))
    return out


def _household(
    rng: random.Random, name: str, archetype: str, cycles: int = CYCLES
) -> dict[str, object]:
    h = _draw_household(rng, name, archetype)
    bounds = [h.first]
    for _ in range(cycles):
        bounds.append(_month_after(bounds[-1]))
    days: list[datetime] = []
    at = bounds[0]
    while at < bounds[-1]:
        days.append(at)
        at = datetime.combine(at.date() + timedelta(days=1), at.time(), tzinfo=h.zone)
    daily, habit = _daily_use(rng, h, days, cycles)
    # cumulative true use at each local hour boundary since the first cycle's start
    hours: list[tuple[datetime, float]] = [(days[0], 0.0)]
    total = 0.0
    for day, use in zip(days, daily, strict=True):
        for hour in range(24):
            total += use * DIURNAL[hour] / _DIURNAL_SUM
            stamp = (day + timedelta(hours=hour + 1)).astimezone(ZoneInfo("UTC"))
            hours.append((stamp, total))
    out = []
    for start, end in itertools.pairwise(bounds):
        out.append(_cycle(rng, h, start, end, hours))
    extra: dict[str, object] = {"habit_change": habit} if habit["factor"] != 1.0 else {}
    return {
        "name": h.name,
        "archetype": h.archetype,
        "timezone": h.zone.key,
        "cap_bytes": h.cap,
        "poll_hours": h.poll_hours,
        **extra,
        "cycles": out,
    }


def _truth(hours: list[tuple[datetime, float]], at: datetime) -> float:
    """Cumulative true use at ``at`` (linear within the hour)."""
    base = hours[0][0]
    i = int((at - base).total_seconds() // 3600)
    i = min(max(i, 0), len(hours) - 2)
    (t0, v0), (t1, v1) = hours[i], hours[i + 1]
    frac = min(max((at - t0).total_seconds() / max((t1 - t0).total_seconds(), 1.0), 0.0), 1.0)
    return v0 + (v1 - v0) * frac


def _cycle(
    rng: random.Random,
    h: Household,
    start: datetime,
    end: datetime,
    hours: list[tuple[datetime, float]],
) -> dict[str, object]:
    opening = _truth(hours, start)
    final = _truth(hours, end) - opening
    stalls = _stalls(rng, start, end) if h.archetype == "stalling" else []
    samples: list[list[object]] = []
    t = start + timedelta(minutes=rng.uniform(0, 60 * h.poll_hours))
    shown = 0
    while t < end:
        if rng.random() >= h.fail_rate:
            frozen = any(a <= t < b for a, b in stalls)
            if not frozen:
                seen_at = max(t - timedelta(hours=h.lag_hours), start)
                shown = max(shown, int((_truth(hours, seen_at) - opening) // GB) * GB)
            samples.append([t.astimezone(h.zone).isoformat(), shown])
        t += timedelta(hours=h.poll_hours)
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "final_bytes": int(final),
        "samples": samples,
    }


def generate(seed: int, households: int, cycles: int = CYCLES) -> list[dict[str, object]]:
    """``households`` traces from ``seed``: archetypes dealt in turn, all else drawn."""
    rng = random.Random(seed)
    out = []
    for i in range(households):
        archetype = ARCHETYPES[i % len(ARCHETYPES)]
        name = f"gen{seed}-{i:03d}"
        out.append(_household(random.Random(rng.getrandbits(64)), name, archetype, cycles))
    return out


@click.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed.")
@click.option("--households", type=int, default=36, show_default=True, help="How many.")
@click.option("--cycles", type=int, default=CYCLES, show_default=True, help="Cycles each.")
def main(out_dir: Path, seed: int, households: int, cycles: int) -> None:
    """Write HOUSEHOLDS generated traces into OUT_DIR (created if missing)."""
    if households < 1:
        raise click.BadParameter("must be at least 1", param_hint="--households")
    if cycles < 2:
        raise click.BadParameter("must be at least 2 (the first is history)", param_hint="--cycles")
    out_dir.mkdir(parents=True, exist_ok=True)
    for trace in generate(seed, households, cycles):
        path = out_dir / f"{trace['name']}.json"
        path.write_text(json.dumps(trace, separators=(",", ":")) + "\n", encoding="utf-8")
    click.echo(f"{households} households (seed {seed}) written to {out_dir}")


if __name__ == "__main__":
    main()
