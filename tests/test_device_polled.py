"""Polled device sources: counters to deltas (baseline, growth, resets, new runs), and the
deltas stored with their counter state in one transaction on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from capwatch.devices.polled import ClientReading, counter_deltas
from capwatch.errors import InputError
from capwatch.models import DeviceCounter, DeviceTraffic
from capwatch.store import Store, open_store

NOON = datetime(2026, 12, 1, 17, tzinfo=UTC)
MAC = "b8:27:eb:12:34:56"


def reading(value: int, mark: str | None = "s1", client: str = MAC) -> ClientReading:
    """A reading of one client (the Pi at .20)."""
    return ClientReading(client, "192.168.1.20", value, mac=MAC, mark=mark)


def state(value: int, mark: str | None = "s1", client: str = MAC) -> dict[str, DeviceCounter]:
    """A stored state of one client."""
    return {client: DeviceCounter(client, value, mark, "192.168.1.20", MAC)}


@pytest.mark.parametrize(
    ("previous", "now", "drop", "counted"),
    [
        ({}, reading(5_000), "count", 0),  # first read of the source: a baseline
        (state(5_000), reading(7_500), "count", 2_500),  # growth
        (state(5_000), reading(5_000), "count", 0),  # no traffic
        (state(5_000), reading(300), "count", 300),  # reset to 0 (reconnect): the new value
        (state(5_000), reading(300), "baseline", 0),  # restored from an older copy
        (state(5_000, "s1"), reading(9_000, "s2"), "count", 9_000),  # a new run
        (state(5_000, "s1"), reading(9_000, "s2"), "baseline", 9_000),
        (state(5_000, client="other"), reading(800), "count", 800),  # appeared since
    ],
)
def test_counter_deltas(
    previous: dict[str, DeviceCounter], now: ClientReading, drop: str, counted: int
) -> None:
    traffic, new_state = counter_deltas(previous, [now], drop=drop)  # type: ignore[arg-type]
    assert sum(t.bytes for t in traffic) == counted
    assert all(t.bytes > 0 for t in traffic)
    assert [(c.client, c.value, c.mark) for c in new_state] == [(now.client, now.value, now.mark)]


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A migrated store with the account ``home`` (New York time)."""
    st = open_store(store_url)
    st.ensure_account("home", "host", "America/New_York")
    yield st
    st.close()


def test_counter_state_is_stored_with_the_deltas(store: Store) -> None:
    counters = [DeviceCounter(MAC, 2**40, "1587753456", "192.168.1.20", MAC)]
    traffic = [DeviceTraffic("192.168.1.20", 1_234, MAC)]
    stored = store.add_device_traffic(
        "home", NOON, "unifi", traffic, counter_scope="unifi:x:443/default", counters=counters
    )
    assert stored == 1_234
    assert store.device_counters("home", "unifi:x:443/default") == {MAC: counters[0]}
    assert store.device_counters("home", "unifi:other") == {}
    # A later write replaces the client's state; one not read for 40 days is forgotten.
    later = [DeviceCounter("ip:192.168.1.30", 9, None, "192.168.1.30")]
    store.add_device_traffic(
        "home", NOON + timedelta(days=41), "unifi", [], counter_scope="unifi:x:443/default",
        counters=later,
    )  # fmt: skip
    assert store.device_counters("home", "unifi:x:443/default") == {"ip:192.168.1.30": later[0]}


def test_a_bad_item_writes_neither_bytes_nor_state(store: Store) -> None:
    good = DeviceCounter(MAC, 10, None, "192.168.1.20", MAC)
    with pytest.raises(InputError, match=r"counter\[1\]: value: negative byte count -1"):
        store.add_device_traffic(
            "home",
            NOON,
            "nlbw",
            [DeviceTraffic("192.168.1.20", 5, MAC)],
            counter_scope="nlbw:r",
            counters=[good, DeviceCounter("x", -1, None, "192.168.1.21")],
        )
    assert store.device_days("home") == []
    assert store.device_counters("home", "nlbw:r") == {}
