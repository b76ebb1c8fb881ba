"""The overview's "what to do next", from the summary alone (capwatch.service.advice)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from capwatch.models import AccountStatus, Cycle, CycleSummary, Forecast
from capwatch.service.advice import next_step

GB = 10**9
CYCLE = Cycle(datetime(2026, 11, 1, 4, tzinfo=UTC), datetime(2026, 12, 1, 5, tzinfo=UTC))
NOW = CYCLE.start + timedelta(days=20)


def base(**kw: object) -> CycleSummary:
    s = CycleSummary(
        account="home", cycle=CYCLE, as_of=NOW, used_bytes=800 * GB, cap_bytes=1229 * GB,
        forecast=Forecast(1100 * GB, 1000 * GB, 1200 * GB), daily_allowance_bytes=42 * GB,
        days_left=10.0, pace=0.95, overage_cost=None, last_reading_at=NOW - timedelta(hours=1),
        status=AccountStatus.OK, provider="xfinity",
    )  # fmt: skip
    return replace(s, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        (base(), "On track: 429 GB left for the 10.0 days to come."),
        (
            base(forecast=Forecast(1200 * GB, 1100 * GB, 1300 * GB)),
            "On track, but close: 42.0 GB a day keeps it under the cap for the 10.0 days left.",
        ),
        (
            base(forecast=Forecast(1400 * GB, 1300 * GB, 1500 * GB)),
            "Heading over the cap: keep to 42.0 GB a day for the 10.0 days left to stay under it.",
        ),
        (base(used_bytes=1300 * GB), "Over the cap by 71.0 GB: more use may be charged."),
        (
            base(status=AccountStatus.AUTH_REQUIRED),
            "Sign in again: run `capwatch login xfinity --account home`.",
        ),
        (
            base(status=AccountStatus.AUTH_REQUIRED, provider="aaisp"),
            "The ISP refused the credentials: correct them in the config, then run "
            "`capwatch poll --force --account home`.",
        ),
        (
            base(status=AccountStatus.STALE, last_reading_at=NOW - timedelta(hours=7)),
            "No new figure for 7.0 h: check that `capwatch serve` is running and the source "
            "can be reached.",
        ),
        (
            base(used_bytes=None, last_reading_at=None, status=AccountStatus.NEW),
            "Waiting for the first reading; it comes with the next poll.",
        ),
        (
            base(cap_bytes=None, unlimited=True, forecast=None),
            "This plan has no cap: capwatch keeps the history and the devices.",
        ),
    ],
)
def test_next_step(summary: CycleSummary, expected: str) -> None:
    assert next_step(summary) == expected
