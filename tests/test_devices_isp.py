"""Xfinity's own ``devices[]`` (one per gateway) in "who used it", on the real usage JSON.

The body is jantman/xfinity-usage's README example (tests/data/real/xfinity/SOURCES.md): the
Oct 2017 month has two devices, ``AB:CD:EF:01:23:45`` (301 GB; a multicast MAC, so not a MAC
any device owns: kept by its id) and ``12:34:56:78:90:AB`` (107 GB; locally administered, so a
usable MAC without an OUI registrant). Each poll stores what the ISP's figure grew by on the
reading's day; a LAN source counting the same MAC wins for that device, and the ISP's other
gateway is then listed but not added to the devices' sum.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from capwatch.cli import cli
from capwatch.config import Settings, validate_text
from capwatch.models import DeviceTraffic, DeviceUsage, Reading, Snapshot
from capwatch.service.devices import account_devices
from capwatch.store import PollRecord, Store, open_store
from capwatch.web.app import create_app
from tests.fixtures.common import FakeClock

REAL = Path(__file__).resolve().parent / "data" / "real" / "xfinity"
GB = 10**9
NY = ZoneInfo("America/New_York")
OCT_20 = datetime(2017, 10, 20, 16, tzinfo=UTC)  # noon in New York
GW1, GW2 = "isp:AB:CD:EF:01:23:45", "mac:12:34:56:78:90:ab"


README_BODY = "usage_json_2018-04_readme_two_devices.json"
LAST_DAY_BODY = "usage_json_2021-01-31_last_day_of_cycle.json"  # newest month: Jan 2021


def _snapshot(at: datetime, body: str) -> Snapshot:
    from capwatch.providers.xfinity.api import Exchange, interpret

    text = (REAL / body).read_text()
    ex = Exchange("json", "GET", "usage", 200, None, "application/json", text)
    return interpret(ex, account="home", tz=NY, observed_at=at)


def _poll(store: Store, at: datetime, body: str = README_BODY) -> None:
    """What the coordinator stores for one poll of the real body (its PollRecord)."""
    snap = _snapshot(at, body)
    assert snap.cycle_start is not None and snap.used_bytes is not None
    reading = Reading("home", at, snap.cycle_start, snap.used_bytes, snap.cap_bytes, snap.source)
    assert store.record_poll(PollRecord(reading, snap.cycle_end, devices=snap.devices))


def _settings(tmp_path: Path, url: str, names: str = "") -> Settings:
    """The settings, also written to capwatch.toml for the CLI."""
    text = (
        f'data_dir = "{tmp_path}"\ndatabase_url = "{url}"\n'
        '[[accounts]]\nname = "home"\nprovider = "xfinity"\n'
        '[accounts.cycle]\ntimezone = "America/New_York"\n' + names
    )
    (tmp_path / "capwatch.toml").write_text(text)
    return validate_text(text, tmp_path / "capwatch.toml")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    st = open_store(f"sqlite:///{tmp_path / 'capwatch.db'}")
    st.ensure_account("home", "xfinity", "America/New_York")
    yield st
    st.close()


def test_the_gateways_land_on_the_poll_day_once(store: Store) -> None:
    _poll(store, OCT_20)
    _poll(store, OCT_20 + timedelta(days=1))  # the same figures: nothing grew
    days = {(d.key, d.day, d.source): d.bytes for d in store.device_days("home")}
    assert days == {
        (GW1, date(2017, 10, 20), "isp:xfinity"): 301 * GB,
        (GW2, date(2017, 10, 20), "isp:xfinity"): 107 * GB,
    }
    devices = {d.key: d for d in store.device_list("home")}
    assert devices[GW2].mac == "12:34:56:78:90:ab" and devices[GW2].vendor is None
    assert devices[GW1].mac is None and devices[GW1].label == "AB:CD:EF:01:23:45"
    assert devices[GW1].addresses == ()


def test_after_the_rollover_the_closed_month_stays_in_its_own_days(store: Store) -> None:
    # 1 February 01:00 in New York: the ISP still answers with January as the newest month,
    # its one device redacted to XX:XX:XX:XX:XX:XX (not a MAC: kept by its id).
    _poll(store, datetime(2021, 2, 1, 6, tzinfo=UTC), LAST_DAY_BODY)
    days = [(d.key, d.day, d.bytes) for d in store.device_days("home")]
    assert days == [("isp:XX:XX:XX:XX:XX:XX", date(2021, 1, 31), 755 * GB)]
    _poll(store, datetime(2021, 2, 1, 7, tzinfo=UTC), LAST_DAY_BODY)
    assert sum(d.bytes for d in store.device_days("home")) == 755 * GB


def test_the_view_the_cli_and_the_api_show_them_with_their_source(
    tmp_path: Path, store: Store
) -> None:
    _poll(store, OCT_20)
    url = f"sqlite:///{tmp_path / 'capwatch.db'}"
    settings = _settings(tmp_path, url, '[device_names]\n"isp:AB:CD:EF:01:23:45" = "Upstairs"\n')
    now = OCT_20 + timedelta(days=1)
    _, view = account_devices(settings, store, "home", now)
    assert [(r.name, r.cycle_bytes, r.sources, r.isp, r.summed) for r in view.rows] == [
        ("Upstairs", 301 * GB, ("xfinity",), True, True),
        ("12:34:56:78:90:ab", 107 * GB, ("xfinity",), True, True),
    ]
    # No device_spike for the ISP's whole-GB figures (a gap between polls would read as one).
    from capwatch.alerts.devices import spike_conditions

    assert spike_conditions(view, settings.account("home").alerts, []) == []
    # Alone, the gateways are the devices: together they are the meter (301 + 107 = 408).
    assert (view.meter_bytes, view.devices_bytes, view.unaccounted_bytes) == (408 * GB, 408 * GB, 0)

    assert store.rename_device("home", "12-34-56-78-90-AB", "Basement")
    app = create_app(settings, store, clock=FakeClock(now))
    body = TestClient(base_url="http://127.0.0.1", app=app).get(
        "/api/v1/accounts/home/devices/daily"
    )
    rows = body.json()["devices"]
    assert [(r["key"], r["name"], r["sources"], r["isp"], r["named"]) for r in rows] == [
        (GW1, "Upstairs", ["xfinity"], True, True),
        (GW2, "Basement", ["xfinity"], True, True),
    ]
    metrics = TestClient(base_url="http://127.0.0.1", app=app).get("/metrics").text
    series = [
        line for line in metrics.splitlines() if line.startswith("capwatch_device_usage_bytes{")
    ]
    assert len(series) == 2  # each gateway once, by its device key
    assert any(f'device="{GW2}",name="Basement"' in line for line in series)
    page = TestClient(base_url="http://127.0.0.1", app=app).get("/accounts/home").text
    assert "Basement" in page and "xfinity (ISP)" in page
    assert "Devices this cycle" not in page  # the ISP's list is in "Who used it" now

    out = CliRunner().invoke(
        cli,
        ["--config", str(tmp_path / "capwatch.toml"), "devices"],
        obj={"clock": FakeClock(now)},
        terminal_width=120,
    )
    assert out.exit_code == 0, out.output
    assert "Basement" in out.output and "xfinity (ISP)" in out.output


def test_a_lan_source_wins_and_the_other_gateway_is_not_added(tmp_path: Path, store: Store) -> None:
    _poll(store, OCT_20)
    lan = [
        DeviceTraffic("192.168.1.2", 5 * GB, "12:34:56:78:90:ab"),
        DeviceTraffic("192.168.1.20", 3 * GB, "b8:27:eb:00:00:01"),
    ]
    store.add_device_traffic("home", OCT_20, "netflow", lan)
    url = f"sqlite:///{tmp_path / 'capwatch.db'}"
    _, view = account_devices(_settings(tmp_path, url), store, "home", OCT_20 + timedelta(days=1))
    rows = {r.key: r for r in view.rows}
    # The MAC both count shows the LAN source's 5 GB, not the ISP's 107 GB nor their max.
    assert (rows[GW2].cycle_bytes, rows[GW2].sources, rows[GW2].isp) == (
        5 * GB,
        ("netflow",),
        False,
    )
    # The other gateway holds the LAN devices' bytes: listed last, not summed.
    assert [r.key for r in view.rows][-1] == GW1
    assert (rows[GW1].summed, rows[GW1].cycle_bytes) == (False, 301 * GB)
    assert view.devices_bytes == 8 * GB and view.unaccounted_bytes == 400 * GB
    assert view.unaccounted_daily is not None and sum(view.unaccounted_daily) == 400 * GB

    out = CliRunner().invoke(
        cli,
        ["--config", str(tmp_path / "capwatch.toml"), "devices", "--json"],
        obj={"clock": FakeClock(OCT_20 + timedelta(days=1))},
    )
    assert out.exit_code == 0, out.output
    assert [d["summed"] for d in json.loads(out.output)["home"]["devices"]] == [True, True, False]


async def test_polled_through_the_coordinator_the_gateway_grows_day_by_day(
    tmp_path: Path, xfinity_fake: tuple[Any, str]
) -> None:
    """The coordinator's poll of the fake Xfinity (its usage JSON carries the real device
    shape, one gateway whose figure is the home's): each day's growth on its own day, the
    gateway named through [device_names], and the exporters handed it once named."""
    from capwatch.config import load_settings
    from capwatch.service.coordinator import Coordinator
    from capwatch.service.devices import named_devices
    from tests.fixtures.xfinity import sign_in_fake, xfinity_account_config

    state, url = xfinity_fake
    clock = FakeClock(datetime(2026, 11, 10, 17, tzinfo=UTC))  # noon in New York
    state.clock = clock
    config = xfinity_account_config(tmp_path, url, zone="America/New_York")
    settings = load_settings(config)
    store = open_store(settings.resolved_database_url())
    try:
        coordinator = Coordinator(settings, store, clock=clock)
        sign_in_fake(coordinator, state)
        state.home_gb = 300.0
        assert (await coordinator.poll_account("home")).stored
        assert named_devices(settings, store, "home", clock()) == []  # nobody named it
        clock.set(datetime(2026, 11, 11, 17, tzinfo=UTC))
        state.home_gb = 312.0
        assert (await coordinator.poll_account("home")).stored
        key = "mac:aa:bb:1a:b2:c3:4d"
        days = [(d.key, d.day, d.bytes) for d in store.device_days("home")]
        assert days == [
            (key, date(2026, 11, 10), 300 * GB),
            (key, date(2026, 11, 11), 12 * GB),
        ]
        config.write_text(config.read_text() + '[device_names]\n"AA:BB:1A:B2:C3:4D" = "Gateway"\n')
        settings = load_settings(config)
        clock.set(datetime(2026, 11, 12, 17, tzinfo=UTC))
        _, view = account_devices(settings, store, "home", clock())
        (row,) = view.rows
        assert (row.name, row.cycle_bytes, row.day_bytes, row.sources) == (
            "Gateway",
            312 * GB,
            12 * GB,
            ("xfinity",),
        )
        assert named_devices(settings, store, "home", clock()) == [
            DeviceUsage(key, 312 * GB, "Gateway")
        ]
    finally:
        store.close()
