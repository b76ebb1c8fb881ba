"""capwatch's MQTT exporter against a real Home Assistant (``make test-ha``; skipped otherwise).

Home Assistant from PyPI and a real mosquitto, both on loopback (``tests.fixtures.homeassistant``
has the set-up). What Home Assistant made of the discovery is read back through its own REST
and websocket APIs: the entities and their classes, units and states; availability across two
instances stopping and starting; long-term statistics across a downward correction by the ISP
and a cycle rollover.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from capwatch.config import MqttSettings
from capwatch.exporters.base import ExportContext
from capwatch.exporters.mqtt import MqttExporter
from capwatch.models import Cycle
from tests.fixtures._servers import wait_until
from tests.fixtures.exporters import make_summary
from tests.fixtures.homeassistant import HomeAssistant
from tests.fixtures.mosquitto import Broker

pytestmark = pytest.mark.homeassistant

GB = 1_000_000_000
BASE_URL = "https://capwatch.example"
STATS_WAIT_S = 420.0  # Home Assistant compiles statistics 10 s after each 5-minute boundary
ACCOUNTS = ("home", "meter")  # every instance runs the same configuration


def exporter(broker: Broker, instance: str, accounts: tuple[str, ...] = ACCOUNTS) -> MqttExporter:
    """The MQTT exporter as ``serve`` builds it for a configuration with ``accounts``."""
    ex = MqttExporter(MqttSettings(host="127.0.0.1", port=broker.port, instance=instance))
    ex.context = ExportContext(
        enabled_accounts=accounts,
        currencies=dict.fromkeys(accounts, "USD"),
        base_url=BASE_URL,
        instance=instance,
    )
    return ex


async def started(ex: MqttExporter) -> MqttExporter:
    await ex.start()
    wait_until(lambda: ex.connected, f"exporter {ex.instance} to connect")
    return ex


async def entities(ha: HomeAssistant, account: str, keys: set[str]) -> dict[str, dict[str, Any]]:
    """Wait until every ``capwatch_<account>_<key>`` entity is registered; by key."""
    prefix = f"capwatch_{account}_"
    found: dict[str, dict[str, Any]] = {}

    async def registry() -> None:
        async with ha.socket() as ws:
            for entry in await ws.call("config/entity_registry/list"):
                uid = entry.get("unique_id") or ""
                if entry.get("platform") == "mqtt" and uid.startswith(prefix):
                    found[uid.removeprefix(prefix)] = entry

    for _ in range(240):
        await registry()
        if keys <= set(found):
            return found
        await _sleep(0.5)
    pytest.fail(f"Home Assistant registered {sorted(found)}, not all of {sorted(keys)}")


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


def state_of(ha: HomeAssistant, entity_id: str, want: str) -> dict[str, Any]:
    """Wait until ``entity_id``'s state is ``want``; its state object."""
    seen: list[Any] = []

    def reached() -> bool:
        current = ha.state(entity_id)
        seen.append(None if current is None else current["state"])
        return current is not None and current["state"] == want

    wait_until(reached, f"{entity_id} to be {want!r} (last seen {seen[-1:]})", log=ha.ha_log)
    current = ha.state(entity_id)
    assert current is not None
    return dict(current)


def capwatch_log_problems(ha: HomeAssistant) -> list[str]:
    """Warnings and errors Home Assistant logged about capwatch's entities."""
    return [line for line in ha.log_lines("WARNING", "ERROR") if "capwatch" in line]


def test_home_assistant_sees_only_loopback_when_isolated():
    """``make test-ha`` runs the suite in a network namespace of its own when it can."""
    if os.environ.get("HA_TEST_NETNS") != "1":
        pytest.skip("not run in a network namespace (make test-ha does that as root)")
    lines = Path("/proc/net/dev").read_text().splitlines()[2:]
    assert {line.split(":")[0].strip() for line in lines} == {"lo"}


async def test_entities_classes_units_and_states(home_assistant, ha_broker):
    ha = home_assistant
    ex = await started(exporter(ha_broker, "one"))
    try:
        await ex.publish([make_summary(consecutive_failures=2)], {})
        keys = {"used_bytes", "cap_bytes", "overage_cost", "consecutive_failures", "status"}
        found = await entities(ha, "home", keys | {"last_success"})
        used = state_of(ha, found["used_bytes"]["entity_id"], "412.5")
        cap = state_of(ha, found["cap_bytes"]["entity_id"], "1200.0")
        failures = state_of(ha, found["consecutive_failures"]["entity_id"], "2")
        cost = state_of(ha, found["overage_cost"]["entity_id"], "0.0")
        status = state_of(ha, found["status"]["entity_id"], "ok")
        async with ha.socket() as ws:
            devices = await ws.call("config/device_registry/list")
    finally:
        await ex.stop()
    attrs = used["attributes"]
    assert attrs["device_class"] == "data_size"
    assert attrs["unit_of_measurement"] == "GB"
    assert attrs["state_class"] == "total"
    assert attrs["last_reset"] == "2026-11-01T00:00:00+00:00"
    assert cap["attributes"]["state_class"] == "measurement"
    assert cost["attributes"]["device_class"] == "monetary"
    assert cost["attributes"]["unit_of_measurement"] == "USD"
    assert failures["state"] == "2"  # an integer, not "2.0"
    assert status["attributes"]["device_class"] == "enum"
    diagnostic = {k for k, e in found.items() if e.get("entity_category") == "diagnostic"}
    assert {"status", "last_success", "consecutive_failures"} <= diagnostic
    assert "used_bytes" not in diagnostic
    (device,) = [d for d in devices if d["id"] == found["used_bytes"]["device_id"]]
    assert device["name"] == "capwatch home"
    assert device["model"] == "xfinity"
    assert device["configuration_url"] == f"{BASE_URL}/accounts/home"
    assert capwatch_log_problems(ha) == []


async def test_availability_follows_the_instances(home_assistant, ha_broker):
    ha = home_assistant
    one = await started(exporter(ha_broker, "one"))
    two = await started(exporter(ha_broker, "two"))
    try:
        wait_until(lambda: one.online_instances() == ("one", "two"), "one to see two")
        await one.publish([make_summary(used_bytes=420 * GB)], {})
        await two.publish([make_summary(used_bytes=420 * GB)], {})
        entry = (await entities(ha, "home", {"used_bytes"}))["used_bytes"]
        entity = entry["entity_id"]
        await heard(ha, entry, two.topics.availability, "online")  # HA knows both are up
        # just after the 420.0 state: the history then starts with it (its state at that time)
        since = datetime.fromisoformat(state_of(ha, entity, "420.0")["last_updated"])
        since += timedelta(milliseconds=1)
        await one.stop()
        wait_until(lambda: two.online_instances() == ("two",), "two to see one go")
        await two.publish([make_summary(used_bytes=int(420.5 * GB))], {})
        still = state_of(ha, entity, "420.5")  # two still serves the account
        while_one_was_down = await history(ha, entity, since, until="420.5")
        await two.stop()
        gone = state_of(ha, entity, "unavailable")
        await started(one)
        await one.publish([make_summary(used_bytes=421 * GB)], {})
        back = state_of(ha, entity, "421.0")
    finally:
        await one.stop()
        await two.stop()
    assert still["state"] == "420.5"
    assert while_one_was_down == ["420.0", "420.5"]  # never unavailable in between
    assert gone["state"] == "unavailable"
    assert back["state"] == "421.0"


async def heard(ha: HomeAssistant, entry: dict[str, Any], topic: str, payload: str) -> None:
    """Wait until the entity has received ``payload`` on ``topic`` (MQTT's debug info)."""
    received: list[str] = []
    for _ in range(120):
        async with ha.socket() as ws:
            info = await ws.call("mqtt/device/debug_info", device_id=entry["device_id"])
        for entity in info["entities"]:
            if entity["entity_id"] == entry["entity_id"]:
                for sub in entity["subscriptions"]:
                    if sub["topic"] == topic:
                        received = [m["payload"] for m in sub["messages"]]
        if payload in received:
            return
        await _sleep(0.5)
    pytest.fail(f"{entry['entity_id']} did not receive {payload!r} on {topic} ({received})")


async def history(ha: HomeAssistant, entity: str, since: datetime, until: str) -> list[str]:
    """The states ``entity`` went through since ``since``, once the recorder has ``until``."""
    states: list[str] = []
    for _ in range(120):
        async with ha.socket() as ws:
            result = await ws.call(
                "history/history_during_period",
                start_time=since.isoformat(),
                entity_ids=[entity],
                minimal_response=True,
                no_attributes=True,
            )
        states = [row.get("s", row.get("state")) for row in result.get(entity, [])]
        if states and states[-1] == until:
            return states
        await _sleep(0.5)
    pytest.fail(f"the recorder did not record {entity} = {until} (recorded {states})")


NOVEMBER = Cycle(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
DECEMBER = Cycle(datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
# The meter as the ISP reports it: rising, corrected down (400 to 352 GB), then a new cycle.
METER = [(NOVEMBER, 100), (NOVEMBER, 400), (NOVEMBER, 352), (DECEMBER, 5), (DECEMBER, 7)]


async def test_long_term_statistics_follow_the_meter(home_assistant, ha_broker):
    ha = home_assistant
    ex = await started(exporter(ha_broker, "one"))
    try:
        entity = ""
        for cycle, gb in METER:
            await ex.publish([make_summary("meter", cycle=cycle, used_bytes=gb * GB)], {})
            if not entity:
                found = await entities(ha, "meter", {"used_bytes"})
                entity = found["used_bytes"]["entity_id"]
            last = state_of(ha, entity, f"{float(gb)}")
        last_changed = datetime.fromisoformat(last["last_changed"])
        rows = await compiled_statistics(ha, entity, last_changed)
    finally:
        await ex.stop()
    # Usage that really happened: +300, -48 (the correction), +5 and +2 in the new cycle.
    assert rows[-1]["sum"] == pytest.approx(300 - 48 + 5 + 2)
    assert rows[-1]["state"] == pytest.approx(7)
    assert capwatch_log_problems(ha) == []


async def compiled_statistics(
    ha: HomeAssistant, entity: str, last_changed: datetime
) -> list[dict[str, Any]]:
    """Wait until the 5-minute statistics cover ``last_changed``; the rows so far."""
    start = (last_changed - timedelta(hours=1)).isoformat()
    end_ms = last_changed.timestamp() * 1000
    for _ in range(int(STATS_WAIT_S / 2)):
        async with ha.socket() as ws:
            result = await ws.call(
                "recorder/statistics_during_period",
                start_time=start,
                statistic_ids=[entity],
                period="5minute",
                types=["sum", "state"],
            )
        rows = list(result.get(entity, []))
        if rows and rows[-1]["end"] > end_ms:
            return rows
        await _sleep(2)
    pytest.fail(f"Home Assistant compiled no statistics of {entity} after {last_changed}")
