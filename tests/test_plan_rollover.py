"""What rolls over from one cycle to the next (unused allowance carried, with a limit and an
expiry in cycles), and top-ups adding to the cycle they fall in.

Not to be confused with tests/test_rollover.py, which is the first hours of a new cycle.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from capwatch.analysis.plan import PastCycle, Rollover, carried_over, topups_in
from capwatch.models import Cycle, Topup

GB = 10**9


def _months(*used: int | None, topups: tuple[int, ...] = ()) -> list[PastCycle]:
    out = []
    for i, u in enumerate(used):
        start = datetime(2026, 1 + i, 1, tzinfo=UTC)
        end = datetime(2026, 2 + i, 1, tzinfo=UTC)
        top = topups[i] if i < len(topups) else 0
        out.append(PastCycle(Cycle(start, end), None if u is None else u * GB, top * GB))
    return out


@pytest.mark.parametrize(
    ("rollover", "past", "carried"),
    [
        (None, _months(10), 0),
        (Rollover(100 * GB), _months(60), 40),  # what was left of 100 GB
        (Rollover(30 * GB), _months(60), 30),  # at most the limit
        (Rollover(100 * GB, share_percent=50), _months(60), 20),  # A&A: half of it
        # Feb uses 130: the 40 carried first, then 90 of its 100: 10 left
        (Rollover(100 * GB), _months(60, 130), 10),
        # Feb uses 90: the 40 carried, then 50 of its 100: 50 left (the 40's lot is spent)
        (Rollover(100 * GB), _months(60, 90), 50),
        (Rollover(100 * GB), _months(60, 30), 100),  # Feb keeps its 100; Jan's last 10 expire
    ],
)
def test_carried_over(rollover: Rollover | None, past: list[PastCycle], carried: int) -> None:
    assert carried_over(100 * GB, rollover, past) == carried * GB


def test_lots_last_their_expiry() -> None:
    two = Rollover(500 * GB, expires_after=2)
    # Jan leaves 70; Feb uses 20 (from Jan's lot: 50 of it left) and leaves all its own 100
    assert carried_over(100 * GB, two, _months(30, 20)) == 150 * GB
    # Mar uses nothing: Jan's lot (2 cycles old) expires, Feb's 100 and Mar's 100 remain
    assert carried_over(100 * GB, two, _months(30, 20, 0)) == 200 * GB


def test_an_unknown_cycle_breaks_the_chain() -> None:
    assert carried_over(100 * GB, Rollover(100 * GB), _months(10, None)) == 0
    assert carried_over(100 * GB, Rollover(100 * GB), _months(10, None, 70)) == 30 * GB


def test_a_gap_between_cycles_breaks_the_chain() -> None:
    jan, _feb, mar = _months(10, 10, 70)
    assert carried_over(100 * GB, Rollover(500 * GB, expires_after=3), [jan, mar]) == 30 * GB


def test_an_unused_topup_rolls_over_with_the_allowance() -> None:
    assert carried_over(100 * GB, Rollover(200 * GB), _months(100, topups=(20,))) == 20 * GB


def test_topups_count_in_the_cycle_they_fall_in() -> None:
    cycle = Cycle(datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    tops = [
        Topup("aa", "monthly", cycle.start - timedelta(seconds=1), 5 * GB),
        Topup("aa", "monthly", cycle.start, 20 * GB),
        Topup("aa", "other", cycle.start, 7 * GB),
        Topup("aa", "monthly", cycle.end, 9 * GB),
    ]
    assert topups_in(tops, "monthly", cycle) == 20 * GB
