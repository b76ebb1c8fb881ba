"""Home Assistant sensors for the devices the user named, against a real mosquitto.

Only named devices (a rename or ``[device_names]``) get a sensor: the bytes of the cycle, by
device key, so a rename keeps the unique id; un-naming a device deletes its retained config,
also when that happened while capwatch was stopped. The plan's allowance sensors come and go the
same way when an allowance is renamed or removed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from capwatch.config import MqttSettings, validate_text
from capwatch.exporters.mqtt import MqttExporter
from capwatch.models import DeviceTraffic, DeviceUsage
from capwatch.service.devices import named_devices
from capwatch.store import open_store
from tests.fixtures._servers import wait_until
from tests.fixtures.exporters import make_summary

GB = 10**9
TV, LAPTOP, PHONE = "b8:27:eb:00:00:01", "00:1a:11:00:00:02", "da:a1:19:00:00:03"
TV_KEY, LAPTOP_KEY = f"mac:{TV}", f"mac:{LAPTOP}"
PREFIX = "homeassistant/sensor/capwatch_home"
TV_CONFIG = f"{PREFIX}/device_mac_b8_27_eb_00_00_01_used_bytes/config"
LAPTOP_CONFIG = f"{PREFIX}/device_mac_00_1a_11_00_00_02_used_bytes/config"


def test_only_named_devices_by_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'capwatch.db'}"
    settings = validate_text(
        f'data_dir = "{tmp_path}"\ndatabase_url = "{url}"\n'
        '[[accounts]]\nname = "home"\nprovider = "xfinity"\n'
        '[accounts.cycle]\ntimezone = "America/New_York"\n'
        '[device_names]\n"B8:27:EB:00:00:01" = "Living-room TV"\n',
        tmp_path / "capwatch.toml",
    )
    store = open_store(url)
    try:
        store.ensure_account("home", "xfinity", "America/New_York")
        noon = datetime(2026, 11, 10, 17, tzinfo=UTC)
        traffic = [
            DeviceTraffic("192.168.1.20", 86 * GB, TV),
            DeviceTraffic("192.168.1.30", 3 * GB, LAPTOP),
            DeviceTraffic("192.168.1.40", 1 * GB, PHONE),
        ]
        store.add_device_traffic("home", noon, "netflow", traffic)
        now = noon + timedelta(days=1)
        assert named_devices(settings, store, "home", now) == [
            DeviceUsage(TV_KEY, 86 * GB, "Living-room TV")
        ]
        assert store.rename_device("home", "192.168.1.30", "Laptop")
        assert named_devices(settings, store, "home", now) == [
            DeviceUsage(LAPTOP_KEY, 3 * GB, "Laptop"),
            DeviceUsage(TV_KEY, 86 * GB, "Living-room TV"),
        ]
        # A named device quiet this cycle keeps its sensor, at 0.
        december = datetime(2026, 12, 2, 17, tzinfo=UTC)
        assert [d.used_bytes for d in named_devices(settings, store, "home", december)] == [0, 0]
    finally:
        store.close()


async def _started(port: int) -> MqttExporter:
    exporter = MqttExporter(
        MqttSettings.model_validate({"host": "127.0.0.1", "port": port, "instance": "one"})
    )
    await exporter.start()
    wait_until(lambda: exporter.connected, "the exporter to connect")
    return exporter


async def test_renames_keep_the_unique_id_and_unnaming_removes_the_sensor(
    mosquitto_broker, mosquitto_recorder
):
    rec = mosquitto_recorder(mosquitto_broker.port)
    summary = make_summary()
    tv = DeviceUsage(TV_KEY, 86 * GB, "Living-room TV")
    laptop = DeviceUsage(LAPTOP_KEY, 3 * GB, "Laptop")
    exporter = await _started(mosquitto_broker.port)
    try:
        await exporter.publish([summary], {"home": [tv, laptop]})
        first = json.loads(rec.wait_for(TV_CONFIG))
        json.loads(rec.wait_for(LAPTOP_CONFIG))
        await exporter.publish([summary], {"home": [DeviceUsage(TV_KEY, 86 * GB, "Den TV")]})
        renamed = json.loads(rec.wait_for(TV_CONFIG, after=1))
        assert rec.wait_for(LAPTOP_CONFIG, b"") == b""
    finally:
        await exporter.stop()
    assert (
        first["unique_id"]
        == renamed["unique_id"]
        == ("capwatch_home_device_mac_b8_27_eb_00_00_01_used_bytes")
    )
    assert (first["name"], renamed["name"]) == ("Living-room TV usage", "Den TV usage")
    assert renamed["device_class"] == "data_size" and renamed["state_class"] == "total"
    state = json.loads(rec.latest("capwatch/home/state") or b"{}")
    assert state["devices"] == {
        "mac_b8_27_eb_00_00_01": {"id": TV_KEY, "name": "Den TV", "used_bytes": 86 * GB}
    }
    late = mosquitto_recorder(mosquitto_broker.port)
    late.wait_for(TV_CONFIG)
    assert late.latest(LAPTOP_CONFIG) is None  # no retained config left for the laptop


async def test_a_device_unnamed_while_stopped_loses_its_sensor(
    mosquitto_broker, mosquitto_recorder
):
    rec = mosquitto_recorder(mosquitto_broker.port)
    summary = make_summary()
    tv = DeviceUsage(TV_KEY, 86 * GB, "Living-room TV")
    laptop = DeviceUsage(LAPTOP_KEY, 3 * GB, "Laptop")
    exporter = await _started(mosquitto_broker.port)
    try:
        await exporter.publish([summary], {"home": [tv, laptop]})
        rec.wait_for(LAPTOP_CONFIG)
    finally:
        await exporter.stop()
    # A new process knows nothing of what it published: the broker's retained configs tell it.
    again = await _started(mosquitto_broker.port)
    try:
        wait_until(
            lambda: LAPTOP_CONFIG in again._device_configs.get("home", set()),
            "the retained laptop config to reach the new exporter",
        )
        await again.publish([summary], {"home": [tv]})
        assert rec.wait_for(LAPTOP_CONFIG, b"") == b""
    finally:
        await again.stop()
    assert json.loads(rec.latest(TV_CONFIG) or b"{}")["name"] == "Living-room TV usage"


def _plan(*names: str) -> Any:
    """A summary whose plan has the allowances ``names``, 10 GB used of 100 GB each."""
    from capwatch.models_plan import AllowanceSummary

    allowances = tuple(
        AllowanceSummary(n, "all", "hard-cap", 100 * GB, 0, 0, 10 * GB, 20 * GB, True)
        for n in names
    )
    return make_summary(allowances=allowances)


async def test_an_allowance_renamed_while_stopped_loses_its_sensors(
    mosquitto_broker, mosquitto_recorder
):
    """The plan's allowance "anytime" renamed "daytime" in the config between two runs: the
    new process deletes the old allowance's retained sensors (seen on the broker), keeps the
    ones of the allowance still there, and publishes the renamed one's."""
    rec = mosquitto_recorder(mosquitto_broker.port)
    old = f"{PREFIX}/allowance_anytime_used_bytes/config"
    kept = f"{PREFIX}/allowance_night_used_bytes/config"
    new = f"{PREFIX}/allowance_daytime_used_bytes/config"
    exporter = await _started(mosquitto_broker.port)
    try:
        await exporter.publish([_plan("anytime", "night")], {})
        rec.wait_for(old)
        rec.wait_for(kept)
    finally:
        await exporter.stop()
    again = await _started(mosquitto_broker.port)
    try:
        wait_until(
            lambda: old in again._device_configs.get("home", set()),
            "the retained allowance config to reach the new exporter",
        )
        await again.publish([_plan("daytime", "night")], {})
        assert rec.wait_for(old, b"") == b""
        assert json.loads(rec.wait_for(new))["name"] == "daytime used"
    finally:
        await again.stop()
    late = mosquitto_recorder(mosquitto_broker.port)
    late.wait_for(new)
    late.wait_for(kept)
    assert late.latest(old) is None and json.loads(late.latest(kept) or b"{}")
    assert late.latest(f"{PREFIX}/allowance_anytime_remaining_bytes/config") is None
