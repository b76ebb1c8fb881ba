"""summarize(): the one place that computes the numbers every consumer shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from capwatch.analysis import XFINITY, summarize
from capwatch.models import AccountStatus, Cycle, Reading

GB = 10**9
TZ = ZoneInfo("America/Chicago")
CYCLE = Cycle(
    datetime(2025, 11, 1, tzinfo=TZ).astimezone(UTC),
    datetime(2025, 12, 1, tzinfo=TZ).astimezone(UTC),
)


def _readings(days: int, per_day: int, cap: int | None = 1229 * GB) -> list[Reading]:
    out = []
    for h in range(1, days * 24, 3):
        t = CYCLE.start + timedelta(hours=h)
        used = per_day * h // 24 // GB * GB
        out.append(Reading("home", t, CYCLE.start, used, cap, "xfinity"))
    return out


def test_summary_numbers() -> None:
    readings = _readings(15, 50 * GB)
    now = CYCLE.start + timedelta(days=15)
    s = summarize(
        account="home", cycle=CYCLE, readings=readings, cap_bytes=None, history=(),
        now=now, status=AccountStatus.OK, last_error=None, consecutive_failures=0,
        last_success_at=readings[-1].observed_at, overage=XFINITY, tz=TZ,
    )  # fmt: skip
    assert s.used_bytes == readings[-1].used_bytes
    assert s.cap_bytes == 1229 * GB  # taken from the readings
    assert s.forecast is not None and s.forecast.expected_bytes > 1229 * GB
    assert s.overage_cost is not None and s.overage_cost > 0
    assert s.days_left == (CYCLE.end - now).total_seconds() / 86400  # 15 days + DST hour
    assert s.pace is not None and 1.15 < s.pace < 1.25
    assert s.daily_allowance_bytes == int((1229 * GB - s.used_bytes) / s.days_left)
    assert s.last_reading_at == readings[-1].observed_at
    assert s.percent is not None and 55 < s.percent < 62


def test_no_readings_and_unlimited() -> None:
    now = CYCLE.start + timedelta(hours=1)
    s = summarize(
        account="home", cycle=CYCLE, readings=[], cap_bytes=None, now=now,
        status=AccountStatus.NEW, overage=None, tz=TZ,
    )  # fmt: skip
    assert s.used_bytes is None and s.forecast is None and s.pace is None
    assert s.daily_allowance_bytes is None and s.overage_cost is None
    assert s.status is AccountStatus.NEW


def test_readings_outside_the_cycle_or_after_now_are_ignored() -> None:
    readings = _readings(10, 20 * GB)
    before = Reading("home", CYCLE.start - timedelta(hours=1), CYCLE.start, 999 * GB, None, "x")
    now = CYCLE.start + timedelta(days=5)
    s = summarize(
        account="home", cycle=CYCLE, readings=[before, *readings], cap_bytes=500 * GB,
        now=now, tz=TZ,
    )  # fmt: skip
    assert s.used_bytes is not None and s.used_bytes <= 100 * GB
    assert s.cap_bytes == 500 * GB
