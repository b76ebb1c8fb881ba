"""Per-allowance usage and top-ups in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from capwatch.errors import InputError
from capwatch.models import AllowanceUsage, Reading, Topup
from capwatch.store import PollRecord, Store, open_store

START = datetime(2026, 11, 1, 4, tzinfo=UTC)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    st = open_store(store_url)
    st.ensure_account("sat", "host", "America/New_York")
    yield st
    st.close()


def _poll(minutes: int, used: int, anytime: int) -> PollRecord:
    at = START + timedelta(minutes=minutes)
    return PollRecord(
        Reading("sat", at, START, used, None, "host"),
        allowance_usage=[AllowanceUsage("anytime", at, START, anytime)],
    )


def test_usage_is_written_with_the_poll_and_kept_per_half_hour(store: Store) -> None:
    for minutes, used, anytime in [(1, 10, 5), (20, 30, 15), (40, 50, 20), (70, 90, 40)]:
        assert store.record_poll(_poll(minutes, used, anytime))
    rows = store.allowance_usage("sat", START)["anytime"]
    # 04:01 and 04:20 share a half hour (the newest kept); 04:40 and 05:10 have their own
    assert [(r.observed_at - START, r.used_bytes) for r in rows] == [
        (timedelta(minutes=20), 15),
        (timedelta(minutes=40), 20),
        (timedelta(minutes=70), 40),
    ]
    assert store.allowance_cycle_totals("sat") == {"anytime": {START: 40}}


def test_a_poll_already_stored_writes_no_usage(store: Store) -> None:
    assert store.record_poll(_poll(1, 10, 5))
    assert not store.record_poll(_poll(1, 10, 999))
    assert [r.used_bytes for r in store.allowance_usage("sat", START)["anytime"]] == [5]


def test_bad_usage_writes_nothing(store: Store) -> None:
    bad = PollRecord(
        Reading("sat", START, START, 10, None, "host"),
        allowance_usage=[AllowanceUsage("anytime", START, START, -1)],
    )
    with pytest.raises(InputError, match="allowance usage 'anytime': used_bytes: negative"):
        store.record_poll(bad)
    assert store.readings("sat") == [] and store.allowance_usage("sat", START) == {}


def test_topups_are_listed_oldest_first(store: Store) -> None:
    later = Topup("sat", "anytime", START + timedelta(days=3), 20 * 10**9, "evening films")
    store.add_topup(later)
    store.add_topup(Topup("sat", "anytime", START, 5 * 10**9))
    assert store.topups("sat") == [Topup("sat", "anytime", START, 5 * 10**9), later]
    with pytest.raises(InputError, match="more than 0"):
        store.add_topup(Topup("sat", "anytime", START, 0))
