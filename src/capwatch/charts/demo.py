"""Render the README's example charts from a seeded, realistic household.

``python -m capwatch.charts.demo docs/`` writes ``chart-cycle.png`` and ``chart-history.png``.
"""

from __future__ import annotations

import random
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from capwatch.charts.data import GB, ChartData, daily_increments, naive_forecast
from capwatch.models import Cycle, Forecast

ZONE = "America/Chicago"
CAP = 1229 * GB


@dataclass(frozen=True, slots=True)
class DemoCycle:
    """A past cycle for the history chart."""

    cycle_start: datetime
    used_bytes: int
    cap_bytes: int | None


def _day_bytes(rng: random.Random, day: date) -> float:
    """One day's usage of a streaming family: weekends heavier, now and then a big download."""
    base = 38 * GB if day.weekday() >= 5 else 30 * GB
    spike = 60 * GB if rng.random() < 0.08 else 0
    return max(rng.gauss(base, 7 * GB), 2 * GB) + spike


def demo_cycle(now: datetime | None = None, seed: int = 7) -> ChartData:
    """A November cycle read every two hours up to the 19th, with a forecast."""
    tz = ZoneInfo(ZONE)
    start = datetime(2026, 11, 1, tzinfo=tz).astimezone(UTC)
    end = datetime(2026, 12, 1, tzinfo=tz).astimezone(UTC)
    now = now or datetime(2026, 11, 19, 13, 30, tzinfo=tz).astimezone(UTC)
    rng = random.Random(seed)
    times: list[datetime] = []
    used: list[int] = []
    total = 0.0
    t = start + timedelta(minutes=37)
    today_rate = _day_bytes(rng, t.astimezone(tz).date())
    while t <= now:
        local = t.astimezone(tz)
        hour_w = 0.3 if 2 <= local.hour < 8 else 1.6 if 18 <= local.hour < 23 else 1.0
        total += today_rate / 12 * hour_w / 1.06
        times.append(t)
        used.append(int(total // GB * GB))  # the meter rounds down to whole GB
        t += timedelta(hours=2)
        if t.astimezone(tz).date() != local.date():
            today_rate = _day_bytes(rng, t.astimezone(tz).date())
    last_per_day: dict[date, int] = {}
    for ti, u in zip(times, used, strict=True):
        last_per_day[ti.astimezone(tz).date()] = u
    data = ChartData(
        account="home",
        cycle=Cycle(start, end),
        times=tuple(times),
        used=tuple(used),
        cap_bytes=CAP,
        zone=ZONE,
        now=now,
        daily=daily_increments(sorted(last_per_day.items())),
        title="home: November 2026",
    )
    fc = naive_forecast(data, now) or Forecast(0, 0, 0)
    from dataclasses import replace

    return replace(data, forecast=fc)


def demo_history(seed: int = 11) -> list[DemoCycle]:
    """Twelve past cycles with one over the cap and one close to it."""
    rng = random.Random(seed)
    tz = ZoneInfo(ZONE)
    out = []
    for i in range(12):
        month = (10 + i) % 12 + 1
        year = 2025 + (10 + i) // 12
        used = int(rng.uniform(820, 1120) * GB)
        if i == 4:
            used = int(1302 * GB)
        if i == 8:
            used = int(1150 * GB)
        out.append(DemoCycle(datetime(year, month, 1, tzinfo=tz).astimezone(UTC), used, CAP))
    return out


def main(argv: list[str] | None = None) -> int:
    """Write the two example PNGs into the directory given (default ``docs``)."""
    from capwatch.charts.history import render_history
    from capwatch.charts.render import render_cycle
    from capwatch.fsutil import write_atomic

    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0] if args else "docs")
    write_atomic(out / "chart-cycle.png", render_cycle(demo_cycle()), mode=0o644)
    hist = render_history(demo_history(), zone=ZONE, title="home: last 12 cycles")
    write_atomic(out / "chart-history.png", hist, mode=0o644)
    print(f"wrote {out / 'chart-cycle.png'} and {out / 'chart-history.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
