"""The netflow collector against real flows: Debian's softflowd watching traffic this test
sends between 127.0.0.2-127.0.0.9 ("the LAN") and 127.0.0.1 ("the internet") on ``lo``,
exporting NetFlow v9 or IPFIX to the collector on loopback.

Each datagram's IP length (payload + 20 + 8) is what softflowd counts, so what capwatch stores
per device must equal what was sent. The stated tolerance is 0.1% of a device's bytes, and it
is only there for a packet libpcap might drop under load (the test also checks none was).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from capwatch.config.devices import NetflowSettings
from capwatch.devices.netflow import NetflowCollector
from capwatch.store import Store, open_store
from tests.fixtures.common import FakeClock
from tests.fixtures.softflowd import Softflowd, real_now, start_softflowd
from tests.test_netflow_collector import free_udp_port, per_device

DEVICES = [f"127.0.0.{k}" for k in range(2, 10)]
LAN = ["127.0.0.2/31", "127.0.0.4/30", "127.0.0.8/31"]  # exactly 127.0.0.2 to 127.0.0.9
HEADERS = 20 + 8  # IPv4 + UDP
TOLERANCE = 0.001
NOON = datetime(2026, 12, 1, 17, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An SQLite store with the account ``home`` (New York time)."""
    st = open_store(f"sqlite:///{tmp_path / 'capwatch.db'}")
    st.ensure_account("home", "xfinity", "America/New_York")
    yield st
    st.close()


def send_traffic(up_port: int, down_port: int) -> tuple[dict[str, int], int]:
    """Device k sends 20k datagrams of 1000 bytes up and is sent 10k of 1200 bytes down;
    returns the IP bytes per device and the number of datagrams."""
    expected: dict[str, int] = {}
    count = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as internet:
        internet.bind(("127.0.0.1", up_port))  # receives the uploads, sends the downloads
        internet.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        for k, address in enumerate(DEVICES, start=2):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as device:
                device.bind((address, down_port))
                device.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
                for _ in range(20 * k):
                    device.sendto(b"u" * 1000, ("127.0.0.1", up_port))
                for _ in range(10 * k):
                    internet.sendto(b"d" * 1200, (address, down_port))
            expected[f"ip:{address}"] = 20 * k * (1000 + HEADERS) + 10 * k * (1200 + HEADERS)
            count += 30 * k
    return expected, count


@pytest.mark.parametrize("version", [9, 10], ids=["netflow-v9", "ipfix"])
async def test_stored_device_bytes_match_what_was_sent(
    version: int, store: Store, softflowd: list[Softflowd]
) -> None:
    settings = NetflowSettings(kind="netflow", account="home", port=free_udp_port(), lan=LAN)
    collector = NetflowCollector(settings, store, clock=FakeClock(NOON))
    await collector.start()
    up_port, down_port = free_udp_port(), free_udp_port()
    sfd = await asyncio.to_thread(start_softflowd, version, collector.port, (up_port, down_port))
    softflowd.append(sfd)

    expected, datagrams = await asyncio.to_thread(send_traffic, up_port, down_port)
    await asyncio.to_thread(sfd.settle, datagrams)
    await asyncio.to_thread(sfd.control, "expire-all")
    stats = await asyncio.to_thread(sfd.statistics)
    for _ in range(1000):  # bounded: until every export packet softflowd sent has arrived
        if collector.packets >= stats["export_packets"]:
            break
        await asyncio.sleep(0.01)
    await collector.stop()

    assert stats["pcap_dropped"] == 0
    assert collector.bad_packets == 0 and collector._decoder.waiting() == 0
    stored = per_device(store)
    assert set(stored) == set(expected)  # the filler between 127.0.0.1 ports counts for nobody
    for key, sent in expected.items():
        assert abs(stored[key] - sent) <= TOLERANCE * sent, (key, stored[key], sent)
    assert {d.day for d in store.device_days("home")} == {date(2026, 12, 1)}
    print(
        f"v{version}: sent {sum(expected.values())} B, stored {sum(stored.values())} B, "
        f"per device {[(k, expected[k], stored[k]) for k in sorted(expected)]}"
    )


def _clock(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%H:%M")


@pytest.mark.parametrize("version", [9, 10], ids=["netflow-v9", "ipfix"])
async def test_flows_land_in_the_window_their_own_times_fall_in(
    version: int, store: Store, softflowd: list[Softflowd]
) -> None:
    """softflowd's clock is the machine's, so the windows are set around the test's real time:
    one open from a quarter hour before the traffic to half an hour after, one two hours later.
    Every byte stored by when it passed must fall in the first and none in the second."""
    from capwatch.analysis.windows import SLOT, slot_start, slots_split
    from capwatch.config.plan import AllowanceSettings

    settings = NetflowSettings(kind="netflow", account="home", port=free_udp_port(), lan=LAN)
    collector = NetflowCollector(settings, store, clock=FakeClock(NOON))
    await collector.start()
    up_port, down_port = free_udp_port(), free_udp_port()
    sfd = await asyncio.to_thread(start_softflowd, version, collector.port, (up_port, down_port))
    softflowd.append(sfd)

    before = real_now()  # softflowd's clock, the real one even under faketime
    expected, datagrams = await asyncio.to_thread(send_traffic, up_port, down_port)
    await asyncio.to_thread(sfd.settle, datagrams)
    after = real_now()
    await asyncio.to_thread(sfd.control, "expire-all")
    stats = await asyncio.to_thread(sfd.statistics)
    for _ in range(1000):  # bounded: until every export packet softflowd sent has arrived
        if collector.packets >= stats["export_packets"]:
            break
        await asyncio.sleep(0.01)
    await collector.stop()

    stored = sum(per_device(store).values())
    assert abs(stored - sum(expected.values())) <= TOLERANCE * sum(expected.values())
    slots = store.flow_slots("home", before - timedelta(days=1), after + timedelta(days=1))
    assert sum(slots.values()) == stored  # every counted byte kept by its time too
    assert min(slots) >= slot_start(before - timedelta(seconds=1))  # v9: whole seconds
    assert max(slots) <= slot_start(after)

    opens, closes = slot_start(before) - SLOT, slot_start(after) + 2 * SLOT
    now_window = [{"from": _clock(opens), "to": _clock(closes)}]
    later = [
        {"from": _clock(closes + timedelta(hours=2)), "to": _clock(closes + timedelta(hours=3))}
    ]
    for windows, inside in ((now_window, stored), (later, 0)):
        allowance = AllowanceSettings(name="night", size=1, counts="inside", windows=windows)
        split = slots_split(slots, allowance.as_windows(), UTC)
        assert (split.inside, split.outside) == (inside, stored - inside), windows
