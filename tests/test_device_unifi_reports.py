"""The unifi source's daily per-client reports against the fake UniFi console: a first start
mid-cycle fills the cycle's earlier days, a gap of whole days is filled and the read after it
does not count them again, days with session counts are never overwritten, a restart does not
refill, and a controller without the reports is read for its counters only."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from capwatch.config.devices import UnifiSettings
from capwatch.devices.unifi import UnifiSource
from capwatch.devices.unifi_reports import controller_zone, days_to_fill, marker, parse_report
from capwatch.errors import BadResponse
from capwatch.models import DeviceCounter, DeviceTraffic, Reading
from capwatch.store import PollRecord, Store, open_store
from tests.fakes._server import serve
from tests.fakes.unifi import PASSWORD, WIRED_MAC, WIRELESS_MAC, UnifiState, make_app
from tests.fixtures.common import FakeClock, free_port
from tests.fixtures.mosquitto import make_certs

NY = ZoneInfo("America/New_York")
WIRED, WIRELESS = f"mac:{WIRED_MAC}", f"mac:{WIRELESS_MAC}"
OTHER_MAC = "00:11:22:33:44:55"  # in the report only: a client not connected now
CYCLE = datetime.combine(date(2026, 12, 1), time(), NY)
NOW = datetime(2026, 12, 10, 17, tzinfo=UTC)  # noon in New York, the cycle's tenth day


def midnight_ms(day: date, tz: ZoneInfo = NY) -> int:
    """The controller's midnight of ``day`` in its zone, as report rows stamp it."""
    return int(datetime.combine(day, time(), tz).timestamp() * 1000)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A throw-away certificate for the fake console."""
    certs = make_certs(tmp_path_factory.mktemp("unifi-report-certs"))
    return str(certs["server.crt"]), str(certs["server.key"])


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An SQLite store with the account ``home`` (New York time), in a cycle from 1 December."""
    st = open_store(f"sqlite:///{tmp_path / 'capwatch.db'}")
    st.ensure_account("home", "host", "America/New_York")
    reading = Reading("home", CYCLE + timedelta(hours=1), CYCLE, 10, None, "test")
    assert st.record_poll(PollRecord(reading))
    yield st
    st.close()


def source(port: int, store: Store, clock: FakeClock, **kw: Any) -> UnifiSource:
    """A unifi source of account ``home`` on the fake console."""
    values: dict[str, Any] = {
        "kind": "unifi",
        "account": "home",
        "host": "127.0.0.1",
        "port": port,
        "user": "capwatch",
        "password": PASSWORD,
    }
    return UnifiSource(UnifiSettings(**(values | kw)), store, clock=clock)


def days(store: Store, src: str) -> dict[tuple[date, str], int]:
    """Stored bytes of source ``src`` per (day, device)."""
    return {(d.day, d.key): d.bytes for d in store.device_days("home") if d.source == src}


def report_days(state: UnifiState, first: date, last: date, mac: str, rx: float) -> None:
    """Report rows for ``mac`` on each day, rx ``rx`` + day number, tx 0.25."""
    day = first
    while day <= last:
        state.reports.append((mac, midnight_ms(day), rx + day.day, 0.25))
        day += timedelta(days=1)


REAL = Path(__file__).parent / "data" / "real" / "unifi"
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")  # UTC+14: 19 hours ahead of New York


def test_the_controllers_zone_from_the_real_sysinfo_record() -> None:
    record = json.loads((REAL / "stat_sysinfo.json").read_text())
    assert controller_zone({"meta": {"rc": "ok"}, "data": [record]}) == ZoneInfo("Europe/Stockholm")
    assert controller_zone({"data": [record | {"timezone": "Mars/Olympus"}]}) is None
    assert controller_zone({"data": []}) is None


def test_a_controller_far_from_the_account_needs_its_zone() -> None:
    rows = [
        {
            "time": midnight_ms(date(2026, 12, 3), KIRITIMATI),
            "user": WIRELESS_MAC,
            "rx_bytes": 10.0,
            "tx_bytes": 0.0,
        }
    ]
    first, last = date(2026, 12, 1), date(2026, 12, 5)
    # its midnight of the 3rd is 05:00 on the 2nd in New York
    assert parse_report({"data": rows}, NY, first, last, "x", KIRITIMATI) == {
        (date(2026, 12, 3), WIRELESS_MAC): 10
    }
    assert parse_report({"data": rows}, NY, first, last, "x") == {  # without it: a day off
        (date(2026, 12, 2), WIRELESS_MAC): 10
    }


def test_parse_report_days_by_the_controllers_midnight() -> None:
    """Without the controller's zone: the date twelve hours after its midnight."""
    rows = [
        {
            "time": midnight_ms(date(2026, 12, 3)),
            "user": WIRELESS_MAC,
            "o": "user",
            "rx_bytes": 10.4,
            "tx_bytes": 1.2,
        },
        # a controller in UTC: its midnight is 19:00 the day before in New York
        {
            "time": midnight_ms(date(2026, 12, 4), ZoneInfo("UTC")),
            "oid": WIRELESS_MAC,
            "rx_bytes": 5,
            "tx_bytes": 0.0,
        },
        # out of the asked days
        {"time": midnight_ms(date(2026, 12, 6)), "user": WIRELESS_MAC, "rx_bytes": 7.0},
    ]
    got = parse_report({"data": rows}, NY, date(2026, 12, 1), date(2026, 12, 5), "unifi x")
    assert got == {(date(2026, 12, 3), WIRELESS_MAC): 12, (date(2026, 12, 4), WIRELESS_MAC): 5}
    with pytest.raises(BadResponse, match=r"^unifi x: daily.user data\[0\] rx_bytes: not a num"):
        parse_report(
            {"data": [rows[0] | {"rx_bytes": "x"}]},
            NY,
            date(2026, 12, 1),
            date(2026, 12, 5),
            "unifi x",
        )


D = date(2026, 12, 10)
OLD = DeviceCounter(WIRELESS_MAC, 5, "200", "192.168.0.1", WIRELESS_MAC)


@pytest.mark.parametrize(
    ("previous", "cycle_first", "days_back", "expected"),
    [
        ({}, date(2026, 12, 1), 31, (date(2026, 12, 1), date(2026, 12, 9))),
        ({}, date(2026, 12, 1), 3, (date(2026, 12, 7), date(2026, 12, 9))),
        ({}, None, 5, (date(2026, 12, 5), date(2026, 12, 9))),
        ({}, D, 31, None),  # the cycle began today: no earlier day
        (
            {"#daily-report": marker(date(2026, 12, 7))},
            None,
            31,
            (date(2026, 12, 8), D - timedelta(1)),
        ),
        ({"#daily-report": marker(date(2026, 12, 9))}, None, 31, None),  # read yesterday
        ({"#daily-report": marker(D)}, None, 31, None),
        ({"#daily-report": marker(date(2026, 12, 11))}, None, 31, None),  # the clock went back
        ({WIRELESS_MAC: OLD}, date(2026, 12, 1), 31, None),  # counted before the marker
    ],
)
def test_days_to_fill(
    previous: dict[str, DeviceCounter],
    cycle_first: date | None,
    days_back: int,
    expected: tuple[date, date] | None,
) -> None:
    assert days_to_fill(previous, D, cycle_first, days_back) == expected


@pytest.mark.parametrize("unifi_os", [True, False], ids=["unifi_os", "classic"])
async def test_first_start_fills_the_cycles_earlier_days_and_a_restart_does_not_refill(
    unifi_os: bool, tls: tuple[str, str], store: Store
) -> None:
    state = UnifiState(unifi_os=unifi_os)
    state.clients = {WIRELESS_MAC: (10_000, 50_000, 200)}
    report_days(state, date(2026, 11, 27), date(2026, 12, 10), WIRELESS_MAC, 1_000.4)
    report_days(state, date(2026, 12, 4), date(2026, 12, 5), OTHER_MAC, 7.0)
    port, clock = free_port(), FakeClock(NOW)
    with serve(make_app(state), port=port, tls=tls):
        src = source(port, store, clock)
        assert await src.poll() == sum(round(1_000.65 + d) for d in range(1, 10)) + 11 + 12
        await src.stop()
        # a restart later that day, and a read the next day: nothing is filled again
        src = source(port, store, clock)
        state.clients = {WIRELESS_MAC: (10_500, 50_000, 200)}
        assert await src.poll() == 500
        clock.advance(timedelta(days=1))
        state.clients = {WIRELESS_MAC: (10_600, 50_000, 200)}
        assert await src.poll() == 100
        await src.stop()
    assert len(state.report_bodies) == 1
    body = state.report_bodies[0]
    assert body["attrs"] == ["rx_bytes", "tx_bytes", "time"]
    assert body["start"] <= midnight_ms(date(2026, 12, 1)) and body["end"] > midnight_ms(
        date(2026, 12, 9)
    )
    # the cycle's days before the first read, exactly: not November, not the day of the read
    assert days(store, "unifi:report") == {
        **{(date(2026, 12, d), WIRELESS): round(1_000.65 + d) for d in range(1, 10)},
        (date(2026, 12, 4), f"mac:{OTHER_MAC}"): 11,
        (date(2026, 12, 5), f"mac:{OTHER_MAC}"): 12,
    }
    assert days(store, "unifi") == {
        (date(2026, 12, 10), WIRELESS): 500,
        (date(2026, 12, 11), WIRELESS): 100,
    }


async def test_a_gap_of_two_whole_days_is_filled_and_not_counted_again(
    tls: tuple[str, str], store: Store
) -> None:
    state = UnifiState()
    state.clients = {WIRED_MAC: (1_000, 2_000, 100), WIRELESS_MAC: (10_000, 50_000, 200)}
    port, clock = free_port(), FakeClock(NOW)
    with serve(make_app(state), port=port, tls=tls):
        src = source(port, store, clock, daily_reports=False)  # no first fill here
        assert await src.poll() == 0
        state.clients = {WIRED_MAC: (1_100, 2_000, 100), WIRELESS_MAC: (10_200, 50_000, 200)}
        assert await src.poll() == 300
        await src.stop()
        # capwatch is down on the 11th and the 12th; it comes back on the 13th
        clock.advance(timedelta(days=3))
        gap = [date(2026, 12, 11), date(2026, 12, 12)]
        state.reports = [
            (WIRED_MAC, midnight_ms(gap[0]), 400.0, 0.0),
            (WIRED_MAC, midnight_ms(gap[1]), 500.0, 0.0),
            (WIRELESS_MAC, midnight_ms(gap[1]), 3_000.0, 0.0),
            # the day of the last read and the day of this one: counted by the counters
            (WIRED_MAC, midnight_ms(date(2026, 12, 10)), 9_999.0, 0.0),
            (WIRED_MAC, midnight_ms(date(2026, 12, 13)), 9_999.0, 0.0),
        ]
        # the wired session went on (its counter holds the gap's 900 and 50 of today);
        # the phone reconnected today (a new session: none of the gap in its counter)
        reconnect = int(datetime(2026, 12, 13, 14, tzinfo=UTC).timestamp())
        state.clients = {WIRED_MAC: (2_050, 2_000, 100), WIRELESS_MAC: (700, 0, reconnect)}
        src = source(port, store, clock)
        assert await src.poll() == 900 + 3_000 + 50 + 700
        await src.stop()
    assert days(store, "unifi:report") == {
        (gap[0], WIRED): 400,
        (gap[1], WIRED): 500,
        (gap[1], WIRELESS): 3_000,
    }
    assert days(store, "unifi") == {
        (date(2026, 12, 10), WIRED): 100,
        (date(2026, 12, 10), WIRELESS): 200,
        (date(2026, 12, 13), WIRED): 50,
        (date(2026, 12, 13), WIRELESS): 700,
    }


@pytest.mark.parametrize(
    ("zone", "stamp_zone"),
    [("Pacific/Kiritimati", KIRITIMATI), (None, ZoneInfo("UTC"))],
    ids=["sysinfo", "no-sysinfo"],
)
async def test_report_days_are_the_controllers_dates(
    zone: str | None, stamp_zone: ZoneInfo, tls: tuple[str, str], store: Store
) -> None:
    state = UnifiState(timezone=zone)
    state.clients = {WIRELESS_MAC: (10_000, 50_000, 200)}
    state.reports = [
        (WIRELESS_MAC, midnight_ms(date(2026, 12, d), stamp_zone), 100.0 * d, 0.0)
        for d in (1, 2, 9, 10)
    ]
    port = free_port()
    with serve(make_app(state), port=port, tls=tls):
        src = source(port, store, FakeClock(NOW))
        assert await src.poll() == 100 + 200 + 900
        await src.stop()
    assert days(store, "unifi:report") == {
        (date(2026, 12, d), WIRELESS): 100 * d for d in (1, 2, 9)
    }
    assert state.calls.count("sysinfo") == 1


async def test_days_with_session_counts_are_not_overwritten(
    tls: tuple[str, str], store: Store
) -> None:
    # the source counted on the 5th already (a day the marker does not know of: an older
    # copy of capwatch), then the first fill asks for the whole cycle
    when = datetime.combine(date(2026, 12, 5), time(12), NY)
    store.add_device_traffic(
        "home", when, "unifi", [DeviceTraffic("192.168.0.1", 77, WIRELESS_MAC)]
    )
    state = UnifiState()
    state.clients = {WIRELESS_MAC: (10_000, 50_000, 200)}
    report_days(state, date(2026, 12, 4), date(2026, 12, 6), WIRELESS_MAC, 100.0)
    port = free_port()
    with serve(make_app(state), port=port, tls=tls):
        src = source(port, store, FakeClock(NOW))
        assert await src.poll() == 104 + 106
        await src.stop()
    assert days(store, "unifi") == {(date(2026, 12, 5), WIRELESS): 77}
    assert days(store, "unifi:report") == {
        (date(2026, 12, 4), WIRELESS): 104,
        (date(2026, 12, 6), WIRELESS): 106,
    }


@pytest.mark.parametrize("unifi_os", [True, False], ids=["unifi_os", "classic"])
async def test_a_controller_without_reports_is_read_for_its_counters_only(
    unifi_os: bool, tls: tuple[str, str], store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    state = UnifiState(unifi_os=unifi_os, reports_available=False)
    state.clients = {WIRELESS_MAC: (10_000, 50_000, 200)}
    port, clock = free_port(), FakeClock(NOW)
    caplog.set_level(logging.INFO)
    with serve(make_app(state), port=port, tls=tls):
        src = source(port, store, clock)
        assert await src.poll() == 0
        clock.advance(timedelta(days=3))  # a gap: the reports are not asked again
        state.clients = {WIRELESS_MAC: (10_400, 50_000, 200)}
        assert await src.poll() == 400
        await src.stop()
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [
        f"unifi 127.0.0.1:{port}/default: the controller has no daily client reports "
        "(/stat/report/daily.user); counting the session counters only"
    ]
    assert days(store, "unifi:report") == {}
    assert days(store, "unifi") == {(date(2026, 12, 13), WIRELESS): 400}
    assert state.calls.count("stat/sta") == 2


async def test_a_bad_report_is_one_line_and_the_counters_go_on(
    tls: tuple[str, str], store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    state = UnifiState()
    state.clients = {WIRELESS_MAC: (10_000, 50_000, 200)}
    state.reports = [(WIRELESS_MAC, midnight_ms(date(2026, 12, 3)), 2e15, 0.0)]
    port, clock = free_port(), FakeClock(NOW)
    with serve(make_app(state), port=port, tls=tls):
        src = source(port, store, clock)
        assert await src.poll() == 0
        state.clients = {WIRELESS_MAC: (10_300, 50_000, 200)}
        assert await src.poll() == 300
        await src.stop()
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [
        f"unifi 127.0.0.1:{port}/default: the daily report of 2026-12-01..2026-12-09 could not "
        f"be read, those days stay empty: unifi 127.0.0.1:{port}/default: daily.user data[0] "
        "rx_bytes: out of range (2000000000000000.0)"
    ]
    assert days(store, "unifi:report") == {}
    assert days(store, "unifi") == {(date(2026, 12, 10), WIRELESS): 300}
    assert len(state.report_bodies) == 1  # not asked again on the same day


def test_the_store_never_writes_a_report_day_twice(store: Store) -> None:
    when = datetime.combine(date(2026, 12, 10), time(12), NY)
    report = [(date(2026, 12, 3), WIRELESS_MAC, 500), (date(2026, 12, 4), "AA-BB-CC-00-11-22", 7)]
    kw: dict[str, Any] = {"report_source": "unifi:report", "report": report}
    assert store.add_device_traffic("home", when, "unifi", [], **kw) == 507
    assert store.add_device_traffic("home", when, "unifi", [], **kw) == 0
    assert days(store, "unifi:report") == {
        (date(2026, 12, 3), WIRELESS): 500,
        (date(2026, 12, 4), "mac:aa:bb:cc:00:11:22"): 7,
    }
    assert store.device_report_context("home") == (NY, date(2026, 12, 1))
    assert store.device_report_context("nobody") == (ZoneInfo("UTC"), None)
