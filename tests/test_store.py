"""The store on both backends: migrations, readings, dedupe, counters, devices, payloads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from capwatch.errors import InputError, StoreError
from capwatch.models import (
    CounterState,
    CycleTotal,
    DeviceUsage,
    PollLogEntry,
    PollOutcome,
    Reading,
)
from capwatch.store import PollRecord, Store, open_store
from capwatch.store import schema as s
from capwatch.store.migrate import HEAD, current_revision, head_revision

CS = datetime(2026, 11, 1, 4, tzinfo=UTC)
NEXT_CS = datetime(2026, 12, 1, 5, tzinfo=UTC)
T0 = datetime(2026, 11, 2, 3, tzinfo=UTC)


def reading(minutes: int = 0, used: int = 100, *, account: str = "home", **kw: object) -> Reading:
    """A reading ``minutes`` after T0."""
    values: dict[str, object] = {
        "account": account,
        "observed_at": T0 + timedelta(minutes=minutes),
        "cycle_start": CS,
        "used_bytes": used,
        "cap_bytes": 1_000_000,
        "source": "isp",
    }
    values.update(kw)
    return Reading(**values)  # type: ignore[arg-type]


def log(
    stored: bool = True, minutes: int = 0, outcome: PollOutcome = PollOutcome.OK
) -> PollLogEntry:
    """A poll log entry."""
    return PollLogEntry(
        "home", T0 + timedelta(minutes=minutes), 0.5, outcome, reading_stored=stored
    )


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A migrated store with the account ``home`` (New York time)."""
    st = open_store(store_url)
    st.ensure_account("home", "xfinity", "America/New_York")
    yield st
    st.close()


def test_migrates_empty_database_to_head_matching_schema(store_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    st = open_store(store_url)
    engine = st.engine  # type: ignore[attr-defined]
    with engine.connect() as conn:
        assert current_revision(conn) == head_revision() == HEAD
        diff = compare_metadata(MigrationContext.configure(conn), s.metadata)
    assert diff == []
    assert st.dialect == ("sqlite" if store_url.startswith("sqlite") else "postgresql")
    st.close()


def test_reopen_is_idempotent_and_keeps_data(store_url: str) -> None:
    st = open_store(store_url)
    assert st.record_poll(PollRecord(reading()))
    st.close()
    again = open_store(store_url)
    again2 = open_store(store_url, migrate=False)
    assert again.readings("home") == again2.readings("home") == [reading()]
    again.close()
    again2.close()


def test_migrate_false_on_empty_database_is_a_clear_error(store_url: str) -> None:
    with pytest.raises(StoreError, match="schema is at nothing"):
        open_store(store_url, migrate=False)


def test_record_poll_dedupes_and_logs_both_polls(store: Store) -> None:
    first = PollRecord(reading(), payload={"a": 1}, log=log(stored=True))
    again = PollRecord(reading(used=999), payload={"a": 2}, log=log(stored=True, minutes=5))
    assert store.record_poll(first) is True
    assert store.record_poll(again) is False
    assert store.readings("home") == [reading()]
    assert [e.reading_stored for e in store.poll_log("home")] == [False, True]
    assert [p.body for p in store.payloads("home")] == ['{"a":1}']
    (cycle,) = store.cycles("home")
    assert (cycle.readings, cycle.used_bytes) == (1, 100)


def test_add_readings_counts_only_new_rows(store: Store) -> None:
    assert store.record_poll(PollRecord(reading(0)))
    assert store.add_readings([reading(0), reading(1), reading(1), reading(2)]) == 2
    assert store.add_readings([reading(2)]) == 0
    assert [r.used_bytes for r in store.readings("home")] == [100, 100, 100]
    assert store.cycles("home")[0].readings == 3


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (reading(5, observed_at=datetime(2026, 11, 2, 3, 5)), "reading 3 .*naive"),
        (reading(5, used=-1), "reading 3 .*negative"),
        (reading(5, cap_bytes=-5), "reading 3 .*cap_bytes"),
        (reading(5, source=""), "reading 3 .*source"),
        (reading(5, account=""), "reading 3: account"),
        (reading(5, used=True), "reading 3 .*integer"),
    ],
)
def test_add_readings_is_all_or_nothing(store: Store, bad: Reading, message: str) -> None:
    rows = [reading(0, account="new"), reading(1), bad, reading(7)]
    with pytest.raises(InputError, match=message):
        store.add_readings(rows)
    assert store.readings("home") == []
    assert store.readings("new") == []
    assert store.account_names() == ["home"]
    assert store.cycles("home") == []


def test_add_readings_rolls_back_across_chunks(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import capwatch.store._readings as mod

    monkeypatch.setattr(mod, "CHUNK", 2)
    rows = [reading(i) for i in range(7)] + [reading(8, used=-3)]
    with pytest.raises(InputError):
        store.add_readings(rows)
    assert store.readings("home") == []
    assert store.add_readings(rows[:7]) == 7
    assert store.cycles("home")[0].readings == 7


def test_timezone_aware_round_trip(store: Store) -> None:
    india = timezone(timedelta(hours=5, minutes=30))
    local = datetime(2026, 11, 2, 8, 30, 0, 123456, tzinfo=india)
    store.record_poll(PollRecord(reading(observed_at=local, cycle_start=CS.astimezone(india))))
    (got,) = store.readings("home")
    assert got.observed_at == local
    assert got.observed_at.utcoffset() == timedelta(0)
    assert got.observed_at.tzinfo is not None
    assert got.cycle_start == CS
    assert got.observed_at.microsecond == 123456
    assert store.readings("home", start=local, end=local + timedelta(microseconds=1)) == [got]
    assert store.readings("home", start=local + timedelta(microseconds=1)) == []
    with pytest.raises(InputError, match="readings: start: naive"):
        store.readings("home", start=datetime(2026, 11, 2))


def test_readings_filters_limit_latest_and_iter(store: Store) -> None:
    store.ensure_account("away", "aaisp", "Europe/London")
    store.add_readings([reading(i, used=i) for i in range(10)])
    store.add_readings([reading(5, used=50, source="csv")])
    store.add_readings([reading(1, used=7, account="away", cycle_start=NEXT_CS)])
    r = store.readings("home", T0 + timedelta(minutes=2), T0 + timedelta(minutes=6))
    assert [(x.used_bytes, x.source) for x in r] == [
        (2, "isp"),
        (3, "isp"),
        (4, "isp"),
        (50, "csv"),
        (5, "isp"),
    ]
    assert len(store.readings("home", limit=3)) == 3
    assert store.readings("home", cycle_start=NEXT_CS) == []
    assert store.readings("away", cycle_start=NEXT_CS)[0].used_bytes == 7
    assert store.latest_reading("home") == reading(9, used=9)
    assert store.latest_reading("nobody") is None
    assert store.readings("nobody") == []
    assert [x.account for x in store.iter_readings()] == ["home"] * 11 + ["away"]
    assert len(list(store.iter_readings("away"))) == 1
    assert store.account_names() == ["away", "home"]


def test_daily_usage_uses_account_local_day(store: Store) -> None:
    # 03:00 UTC on 2 Nov is 22:00 on 1 Nov in New York.
    store.add_readings([reading(0, used=10), reading(60, used=30), reading(120 + 60, used=20)])
    days = store.daily_usage("home", CS)
    assert [(d.day.isoformat(), d.used_bytes) for d in days] == [
        ("2026-11-01", 30),
        ("2026-11-02", 20),
    ]
    store.ensure_account("home", "xfinity", "UTC")
    assert [d.day.isoformat() for d in store.daily_usage("home", CS)] == ["2026-11-02"]
    assert store.daily_usage("home", CS)[0].used_bytes == 20


def test_history_backfills_only_earlier_cycles(store: Store) -> None:
    oct_start = datetime(2026, 10, 1, 4, tzinfo=UTC)
    history = (
        CycleTotal(oct_start, CS, 900, 1000, devices=(DeviceUsage("tv", 400, "TV"),)),
        CycleTotal(CS, NEXT_CS, 123456, 1000),
    )
    assert store.record_poll(PollRecord(reading(), history=history))
    cycles = store.cycles("home")
    assert [(c.cycle_start, c.used_bytes, c.readings) for c in cycles] == [
        (CS, 100, 1),
        (oct_start, 900, 0),
    ]
    assert cycles[1].cycle_end == CS and cycles[0].cycle_end is None
    assert store.devices("home", oct_start) == [DeviceUsage("tv", 400, "TV")]
    # A late import into October does not overwrite what the ISP reported as its total.
    store.add_readings(
        [reading(used=5, observed_at=oct_start + timedelta(days=3), cycle_start=oct_start)]
    )
    october = store.cycles("home")[1]
    assert (october.used_bytes, october.readings, october.cycle_end) == (900, 1, CS)
    assert store.cycles("home", limit=1)[0].cycle_start == CS


def test_cycle_end_inferred_from_next_cycle_whatever_the_order(store: Store) -> None:
    jan = datetime(2026, 1, 1, tzinfo=UTC)
    feb, mar = datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)
    store.add_readings([reading(observed_at=jan + timedelta(days=1), cycle_start=jan)])
    store.add_readings([reading(observed_at=mar + timedelta(days=1), cycle_start=mar)])
    store.add_readings([reading(observed_at=feb + timedelta(days=1), cycle_start=feb)])
    assert [(c.cycle_start, c.cycle_end) for c in store.cycles("home")] == [
        (mar, None),
        (feb, mar),
        (jan, feb),
    ]


def test_counter_states_replace_and_keep_others(store: Store) -> None:
    def state(key: str, value: int, minutes: int, cycle_bytes: int) -> CounterState:
        at = T0 + timedelta(minutes=minutes)
        return CounterState(key, value, 64, "boot-1", at, CS, cycle_bytes)

    top = 2**64 - 1
    first = PollRecord(
        reading(0), counter_states=[state("eth0:rx", top, 0, 10), state("eth0:tx", 5, 0, 1)]
    )
    second = PollRecord(
        reading(5), counter_states=[state("eth0:rx", 7, 5, 20)], raw_counters={"eth0:rx": top}
    )
    assert store.record_poll(first) and store.record_poll(second)
    got = store.counter_states("home")
    assert got["eth0:rx"] == state("eth0:rx", 7, 5, 20)
    assert got["eth0:tx"] == state("eth0:tx", 5, 0, 1)
    first_state = store.counter_states("home")
    assert set(first_state) == {"eth0:rx", "eth0:tx"}
    with store.engine.connect() as conn:  # type: ignore[attr-defined]
        assert conn.scalar(select(s.raw_counters.c.value)) == top
    with pytest.raises(InputError, match="unsigned 64-bit"):
        store.record_poll(PollRecord(reading(9), counter_states=[state("x", 2**64, 9, 0)]))
    assert store.latest_reading("home") == reading(5)


def test_devices_keep_latest_per_device(store: Store) -> None:
    store.record_poll(
        PollRecord(reading(10), devices=[DeviceUsage("aa", 50, "Laptop"), DeviceUsage("bb", 10)])
    )
    store.record_poll(
        PollRecord(reading(20), devices=[DeviceUsage("aa", 70), DeviceUsage("cc", 90, "TV")])
    )
    store.record_poll(
        PollRecord(reading(5), devices=[DeviceUsage("aa", 1, "Old")])
    )  # older: ignored
    assert store.devices("home", CS) == [
        DeviceUsage("cc", 90, "TV"),
        DeviceUsage("aa", 70, "Laptop"),
        DeviceUsage("bb", 10, None),
    ]
    assert store.devices("home", NEXT_CS) == []


def test_payloads_dedupe_by_canonical_content(store: Store) -> None:
    store.record_poll(PollRecord(reading(0), payload={"b": 1, "a": [1, 2]}))
    store.record_poll(PollRecord(reading(1), payload={"a": [1, 2], "b": 1}))
    store.record_poll(PollRecord(reading(2), payload={"a": [2, 1], "b": 1}))
    got = store.payloads("home")
    assert [(p.times_seen, p.body) for p in got] == [
        (1, '{"a":[2,1],"b":1}'),
        (2, '{"a":[1,2],"b":1}'),
    ]
    assert got[1].first_seen == T0 and got[1].last_seen == T0 + timedelta(minutes=1)
    assert len(got[0].sha256) == 64


def test_integrity_check_ok_and_prune(store: Store) -> None:
    assert store.integrity_check() == "ok"
    store.record_poll(PollRecord(reading(0), raw_counters={"k": 1}, log=log(minutes=0)))
    store.log_poll(log(stored=False, minutes=60 * 24 * 40))
    assert store.prune(T0 + timedelta(days=1)) == 2
    assert len(store.poll_log()) == 1
    assert store.readings("home") == [reading(0)]


def test_concurrent_writers_from_threads(store: Store) -> None:
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for i in range(10):
                store.record_poll(PollRecord(reading(offset * 100 + i), log=log()))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(store.readings("home")) == 40
    assert store.cycles("home")[0].readings == 40
    assert len(store.poll_log(limit=100)) == 40


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("home", "xfinity", "Mars/Olympus"), "account 'home': timezone: unknown time zone"),
        (("", "xfinity", "UTC"), "account name"),
        (("home", "x" * 65, "UTC"), "provider must be a string"),
    ],
)
def test_ensure_account_rejects_bad_input(
    store: Store, args: tuple[str, str, str], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        store.ensure_account(*args)
    assert store.account_names() == ["home"]


def test_readings_cycle_filter_combines_with_time_range(store: Store) -> None:
    store.add_readings([reading(i, used=i) for i in range(5)])
    store.add_readings([reading(i, used=i, cycle_start=NEXT_CS) for i in range(5, 8)])
    got = store.readings(
        "home", T0 + timedelta(minutes=1), T0 + timedelta(minutes=6), cycle_start=CS
    )
    assert [r.used_bytes for r in got] == [1, 2, 3, 4]
    assert [r.used_bytes for r in store.readings("home", cycle_start=NEXT_CS)] == [5, 6, 7]


def test_readings_every_keeps_the_newest_of_each_span(store: Store) -> None:
    """A cycle read at CYCLE_RESOLUTION: one reading per half hour, the newest always kept."""
    # T0 is 03:00 UTC: minute m falls in half-hour span m // 30; a second source in one minute
    store.add_readings(reading(m, used=1000 + m) for m in range(0, 185))
    store.add_readings([reading(59, used=5000, source="import")])
    thin = store.readings("home", cycle_start=CS, every=timedelta(minutes=30))
    assert [(r.observed_at - T0, r.used_bytes, r.source) for r in thin] == [
        (timedelta(minutes=29), 1029, "isp"),
        (timedelta(minutes=59), 1059, "isp"),  # "isp" sorts after "import" at the same instant
        (timedelta(minutes=89), 1089, "isp"),
        (timedelta(minutes=119), 1119, "isp"),
        (timedelta(minutes=149), 1149, "isp"),
        (timedelta(minutes=179), 1179, "isp"),
        (timedelta(minutes=184), 1184, "isp"),  # the newest reading, in an unfinished span
    ]
    hourly = store.readings("home", every=timedelta(hours=1), limit=2)
    assert [(r.observed_at - T0, r.source) for r in hourly] == [
        (timedelta(minutes=59), "isp"),
        (timedelta(minutes=119), "isp"),
    ]
    window = store.readings("home", T0, T0 + timedelta(minutes=45), every=timedelta(minutes=30))
    assert [r.observed_at - T0 for r in window] == [timedelta(minutes=29), timedelta(minutes=44)]
    with pytest.raises(InputError, match="every must be at least one second"):
        store.readings("home", every=timedelta(0))
