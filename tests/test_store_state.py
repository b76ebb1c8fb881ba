"""Alert state, poll log, outbox and account locks on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from capwatch.errors import InputError
from capwatch.models import AlertState, OutboxItem, PollLogEntry, PollOutcome
from capwatch.store import Store, open_store

CS = datetime(2026, 11, 1, 4, tzinfo=UTC)
T0 = datetime(2026, 11, 5, 12, tzinfo=UTC)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A migrated store with two accounts."""
    st = open_store(store_url)
    st.ensure_account("home", "xfinity", "America/Chicago")
    st.ensure_account("cabin", "aaisp", "Europe/London")
    yield st
    st.close()


def alert(level: str = "80", active: bool = True, **kw: object) -> AlertState:
    """An alert state of ``home``."""
    values: dict[str, object] = {
        "account": "home",
        "rule": "percent",
        "level": level,
        "cycle_start": CS,
        "active": active,
        "fired_at": T0,
        "resolved_at": None,
        "last_value": 81.5,
        "message": "80% used",
    }
    values.update(kw)
    return AlertState(**values)  # type: ignore[arg-type]


def test_alert_state_upsert(store: Store) -> None:
    assert store.alert_states("home") == {}
    store.save_alert_states([alert("80"), alert("90", active=False, fired_at=None)])
    resolved = alert("80", active=False, resolved_at=T0 + timedelta(hours=1), last_value=50.0)
    store.save_alert_states([resolved])
    got = store.alert_states("home")
    assert got == {
        ("percent", "80"): resolved,
        ("percent", "90"): alert("90", False, fired_at=None),
    }
    assert store.alert_states("cabin") == {}
    with pytest.raises(InputError, match="alert state 'percent'/'80': cycle_start: naive"):
        store.save_alert_states([alert(cycle_start=datetime(2026, 11, 1))])


def test_poll_log_newest_first_with_filter_and_limit(store: Store) -> None:
    for i, outcome in enumerate([PollOutcome.OK, PollOutcome.CONNECT, PollOutcome.AUTH]):
        entry = PollLogEntry("home", T0 + timedelta(minutes=i), 1.0 + i, outcome, "X", f"m{i}")
        store.log_poll(entry)
    store.log_poll(PollLogEntry("cabin", T0 + timedelta(minutes=10), 0.2, PollOutcome.SERVER))
    assert [e.outcome for e in store.poll_log("home")] == [
        PollOutcome.AUTH,
        PollOutcome.CONNECT,
        PollOutcome.OK,
    ]
    assert [e.account for e in store.poll_log(limit=2)] == ["cabin", "home"]
    assert store.poll_log("home", limit=1)[0].message == "m2"
    assert store.poll_log("home")[0].started_at == T0 + timedelta(minutes=2)


def test_outbox_add_dedupe_pending_mark(store: Store) -> None:
    a = OutboxItem("home:percent:80:2026-11", "alert", "home", {"text": "80% used"}, T0)
    b = OutboxItem("weekly:2026-45", "report", None, {"n": [1, 2]}, T0 - timedelta(hours=1))
    assert store.outbox_add(a) is True
    assert store.outbox_add(b) is True
    assert store.outbox_add(a) is False
    assert [i.key for i in store.outbox_pending()] == [b.key, a.key]
    assert store.outbox_pending()[1] == a
    store.outbox_mark(a.key, sent=False, error="smtp refused")
    pending = {i.key: i for i in store.outbox_pending()}
    assert (pending[a.key].attempts, pending[a.key].last_error) == (1, "smtp refused")
    store.outbox_mark(a.key, sent=True)
    assert [i.key for i in store.outbox_pending()] == [b.key]
    assert store.outbox_add(a) is False  # sent keys stay deduplicated
    assert store.outbox_pending(limit=0) == []
    with pytest.raises(InputError, match="no notification with key 'nope'"):
        store.outbox_mark("nope", sent=True)


def test_account_lock_exclusive_across_stores_and_released(store_url: str) -> None:
    one, two = open_store(store_url), open_store(store_url)
    with (
        one.account_lock("home") as got_one,
        two.account_lock("home") as got_two,
        two.account_lock("cabin") as other,
    ):
        assert (got_one, got_two, other) == (True, False, True)
    with two.account_lock("home") as again:
        assert again is True
    one.close()
    two.close()


def test_account_lock_released_when_body_raises(store: Store) -> None:
    with pytest.raises(RuntimeError), store.account_lock("home") as got:
        assert got
        raise RuntimeError("poll failed")
    with store.account_lock("home") as again:
        assert again is True
