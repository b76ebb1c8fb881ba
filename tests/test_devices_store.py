"""Devices in the store, on SQLite and PostgreSQL: keys, folded addresses, vendors, day sums."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from capwatch.devices import normalize_address, normalize_mac, vendor
from capwatch.errors import InputError
from capwatch.models import DeviceTraffic
from capwatch.store import Store, open_store

# 23:30 in New York on 1 December is already 2 December in UTC.
LATE_EVENING = datetime(2026, 12, 2, 4, 30, tzinfo=UTC)
PI_MAC = "B8-27-EB-12-34-56"  # the Raspberry Pi Foundation's OUI


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A migrated store with the account ``home`` (New York time)."""
    st = open_store(store_url)
    st.ensure_account("home", "xfinity", "America/New_York")
    yield st
    st.close()


def test_vendor_comes_from_the_offline_oui_registry() -> None:
    assert vendor("b8:27:eb:12:34:56") == "Raspberry Pi Foundation"
    assert vendor("00:1a:11:00:00:01") == "Google, Inc."
    # A locally administered (randomised) MAC has no registrant.
    assert vendor("da:a1:19:00:00:01") is None


@pytest.mark.parametrize(
    ("raw", "normal"),
    [("B8-27-EB-12-34-56", "b8:27:eb:12:34:56"), ("b827.eb12.3456", "b8:27:eb:12:34:56")],
)
def test_macs_are_normalised(raw: str, normal: str) -> None:
    assert normalize_mac(raw) == normal


def test_bad_mac_and_address_name_the_place() -> None:
    with pytest.raises(InputError, match=r"^flow\[3\]: mac: not a MAC address: 'b8:27'$"):
        normalize_mac("b8:27", "flow[3]: mac")
    with pytest.raises(InputError, match=r"^x: not an IP address: '300.1.1.1'$"):
        normalize_address("300.1.1.1", "x")
    assert normalize_address("::ffff:192.168.1.20") == "192.168.1.20"


def test_bytes_add_up_per_device_and_local_day(store: Store) -> None:
    traffic = [DeviceTraffic("192.168.1.20", 1_000, PI_MAC), DeviceTraffic("192.168.1.30", 7)]
    assert store.add_device_traffic("home", LATE_EVENING, "netflow", traffic) == 1_007
    later = LATE_EVENING + timedelta(minutes=10)
    store.add_device_traffic("home", later, "netflow", [DeviceTraffic("192.168.1.20", 500)])
    midnight = LATE_EVENING + timedelta(minutes=31)  # 00:01 on 2 December in New York
    store.add_device_traffic("home", midnight, "netflow", [DeviceTraffic("192.168.1.20", 9)])

    days = {(d.key, d.day): d.bytes for d in store.device_days("home")}
    pi = "mac:b8:27:eb:12:34:56"
    # The MAC-less observation of .20 lands on the device that address belongs to.
    assert days == {
        (pi, date(2026, 12, 1)): 1_500,
        ("ip:192.168.1.30", date(2026, 12, 1)): 7,
        (pi, date(2026, 12, 2)): 9,
    }
    assert [d.key for d in store.device_days("home", date(2026, 12, 2))] == [pi]
    devices = {d.key: d for d in store.device_list("home")}
    assert devices[pi].vendor == "Raspberry Pi Foundation"
    assert devices[pi].first_seen == LATE_EVENING and devices[pi].last_seen == midnight
    assert devices["ip:192.168.1.30"].mac is None and devices["ip:192.168.1.30"].vendor is None


def test_ipv4_and_ipv6_fold_onto_one_device_by_mac(store: Store) -> None:
    mac = "b8:27:eb:12:34:56"
    store.add_device_traffic(
        "home",
        LATE_EVENING,
        "netflow",
        [DeviceTraffic("192.168.1.20", 100, mac), DeviceTraffic("2001:db8::20", 50, mac)],
    )
    (device,) = store.device_list("home")
    assert device.key == f"mac:{mac}"
    assert sorted(device.addresses) == ["192.168.1.20", "2001:db8::20"]
    assert [d.bytes for d in store.device_days("home")] == [150]


def test_rename_by_key_mac_or_address(store: Store) -> None:
    store.add_device_traffic(
        "home", LATE_EVENING, "netflow", [DeviceTraffic("10.0.0.5", 1, PI_MAC)]
    )
    assert store.rename_device("home", "10.0.0.5", "Living-room TV")
    assert store.device_list("home")[0].label == "Living-room TV"
    assert store.rename_device("home", "B8:27:EB:12:34:56", "Den Pi")
    assert store.device_list("home")[0].name == "Den Pi"
    assert store.rename_device("home", "mac:b8:27:eb:12:34:56", None)
    assert store.device_list("home")[0].label == "b8:27:eb:12:34:56"
    assert not store.rename_device("home", "10.9.9.9", "nobody")


def test_unusable_macs_are_not_device_keys(store: Store) -> None:
    # Loopback and some exporters send all-zero MACs: the address identifies the device.
    store.add_device_traffic(
        "home", LATE_EVENING, "netflow", [DeviceTraffic("127.0.0.2", 5, "00:00:00:00:00:00")]
    )
    assert [d.key for d in store.device_list("home")] == ["ip:127.0.0.2"]


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (DeviceTraffic("192.168.1.2", -1), r"\[0\]: bytes: negative byte count -1"),
        (DeviceTraffic("nonsense", 1), r"\[0\]: address: not an IP address: 'nonsense'"),
        (DeviceTraffic("192.168.1.2", 1, "zz"), r"\[0\]: mac: not a MAC address: 'zz'"),
    ],
)
def test_bad_traffic_is_refused_whole(store: Store, item: DeviceTraffic, message: str) -> None:
    good = DeviceTraffic("192.168.1.9", 10)
    with pytest.raises(InputError, match=message):
        store.add_device_traffic("home", LATE_EVENING, "netflow", [item, good])
    assert store.device_days("home") == []
    with pytest.raises(InputError, match="naive datetime"):
        store.add_device_traffic("home", datetime(2026, 12, 1), "netflow", [good])


def test_display_name_prefers_a_rename_then_the_config(store: Store) -> None:
    from capwatch.devices import display_name

    store.add_device_traffic(
        "home",
        LATE_EVENING,
        "netflow",
        [DeviceTraffic("10.0.0.5", 1, PI_MAC), DeviceTraffic("10.0.0.6", 1)],
    )
    names = {"B8:27:EB:12:34:56": "Den Pi", "10.0.0.6": "Printer"}
    shown = {d.key: display_name(d, names) for d in store.device_list("home")}
    assert shown == {"mac:b8:27:eb:12:34:56": "Den Pi", "ip:10.0.0.6": "Printer"}
    store.rename_device("home", "10.0.0.6", "Office printer")
    shown = {d.key: display_name(d, {}) for d in store.device_list("home")}
    assert shown == {"mac:b8:27:eb:12:34:56": "b8:27:eb:12:34:56", "ip:10.0.0.6": "Office printer"}


def test_an_isp_devices_cycle_figure_grows_day_by_day(store: Store) -> None:
    """The ISP's cycle-to-date figure per device: its growth lands on each poll's local day."""
    from capwatch.models import DeviceUsage, Reading
    from capwatch.store import PollRecord

    start = datetime(2026, 12, 1, 5, tzinfo=UTC)  # local midnight in New York
    end = datetime(2027, 1, 1, 5, tzinfo=UTC)

    def poll(at: datetime, gb: int) -> None:
        reading = Reading("home", at, start, gb * 10**9, None, "xfinity")
        devices = [DeviceUsage(PI_MAC, gb * 10**9)]
        assert store.record_poll(PollRecord(reading, end, devices=devices))

    poll(LATE_EVENING, 100)  # 23:30 on 1 December in New York
    poll(LATE_EVENING + timedelta(hours=1), 130)  # 00:30 on 2 December
    poll(LATE_EVENING + timedelta(hours=2), 120)  # the ISP lowered it: nothing changes
    days = [(d.key, d.day, d.source, d.bytes) for d in store.device_days("home")]
    pi = "mac:b8:27:eb:12:34:56"
    assert days == [
        (pi, date(2026, 12, 1), "isp:xfinity", 100 * 10**9),
        (pi, date(2026, 12, 2), "isp:xfinity", 30 * 10**9),
    ]
    (device,) = store.device_list("home")
    assert (device.key, device.vendor, device.addresses) == (pi, "Raspberry Pi Foundation", ())
