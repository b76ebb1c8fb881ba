"""MQTT exporter against a real mosquitto: discovery, state, availability, reconnects, auth."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from capwatch.config import MqttSettings, Settings
from capwatch.exporters.base import ExportContext, ExportError, load_exporters
from capwatch.exporters.mqtt import MqttExporter
from tests.fixtures._servers import wait_until
from tests.fixtures.exporters import DEVICES, make_summary
from tests.fixtures.mosquitto import MQTT_PASSWORD, MQTT_USER

STATE = "capwatch/home/state"
AVAIL = "capwatch/bridge/one/availability"
USED_CONFIG = "homeassistant/sensor/capwatch_home/used_bytes/config"
CAP_CONFIG = "homeassistant/sensor/capwatch_home/cap_bytes/config"
DEVICE_CONFIG = "homeassistant/sensor/capwatch_home/device_ab_cd_ef_01_23_45_used_bytes/config"


def settings(port: int, **extra: Any) -> MqttSettings:
    return MqttSettings.model_validate(
        {"host": "127.0.0.1", "port": port, "instance": "one", **extra}
    )


async def started(port: int, context: ExportContext | None = None, **extra: Any) -> MqttExporter:
    exporter = MqttExporter(settings(port, **extra))
    if context is not None:
        exporter.context = context
    await exporter.start()
    wait_until(lambda: exporter.connected, "the exporter to connect")
    return exporter


async def test_discovery_state_and_availability(mosquitto_broker, mosquitto_recorder):
    rec = mosquitto_recorder(mosquitto_broker.port)
    exporter = await started(mosquitto_broker.port)
    try:
        await exporter.publish([make_summary()], {"home": DEVICES})
        assert rec.wait_for(AVAIL, b"online") == b"online"
        used = json.loads(rec.wait_for(USED_CONFIG))
        cap = json.loads(rec.wait_for(CAP_CONFIG))
        state = json.loads(rec.wait_for(STATE))
        device = json.loads(rec.wait_for(DEVICE_CONFIG))
    finally:
        await exporter.stop()
    assert used["device_class"] == "data_size"
    assert used["state_class"] == "total"
    assert used["last_reset_value_template"] == "{{ value_json.cycle_start }}"
    assert used["unit_of_measurement"] == "GB"
    assert used["state_topic"] == STATE
    assert used["availability"] == [{"topic": AVAIL}]
    assert used["availability_mode"] == "any"
    assert used["unique_id"] == "capwatch_home_used_bytes"
    assert used["device"]["identifiers"] == ["capwatch_home"]
    assert used["device"]["manufacturer"] == "capwatch"
    assert used["device"]["model"] == "xfinity"
    assert cap["state_class"] == "measurement"
    assert device["state_class"] == "total"
    assert device["device"] == used["device"]
    assert state["used_bytes"] == 412_500_000_000
    assert state["status"] == "ok"
    assert state["devices"]["ab_cd_ef_01_23_45"]["used_bytes"] == 301_000_000_000
    assert rec.wait_for(AVAIL, b"offline") == b"offline"


async def test_messages_are_retained(mosquitto_broker, mosquitto_recorder):
    exporter = await started(mosquitto_broker.port)
    try:
        await exporter.publish([make_summary()], {})
        late = mosquitto_recorder(mosquitto_broker.port)
        late.wait_for(STATE)
        late.wait_for(USED_CONFIG)
    finally:
        await exporter.stop()
    retained = {t for t, _, r in late.messages if r}
    assert {STATE, USED_CONFIG, AVAIL} <= retained


async def test_survives_broker_restart(mosquitto_broker, mosquitto_recorder):
    exporter = await started(mosquitto_broker.port)
    try:
        await exporter.publish([make_summary()], {})
        mosquitto_broker.restart()  # no persistence: the new broker has no retained messages
        wait_until(lambda: exporter.connected, "the exporter to reconnect")
        rec = mosquitto_recorder(mosquitto_broker.port)
        state = json.loads(rec.wait_for(STATE))
        rec.wait_for(USED_CONFIG)
        rec.wait_for(AVAIL, b"online")
        await exporter.publish([make_summary(used_bytes=500_000_000_000)], {})
        after = json.loads(rec.wait_for(STATE, after=1))
    finally:
        await exporter.stop()
    assert state["used_bytes"] == 412_500_000_000
    assert after["used_bytes"] == 500_000_000_000


async def test_reading_published_once_broker_comes_back(mosquitto_broker, mosquitto_recorder):
    mosquitto_broker.stop()
    exporter = MqttExporter(settings(mosquitto_broker.port))
    try:
        with pytest.raises(ExportError, match="not connected"):
            await exporter.publish([make_summary()], {})
        mosquitto_broker.start()
        wait_until(lambda: exporter.connected, "the exporter to connect")
        rec = mosquitto_recorder(mosquitto_broker.port)
        state = json.loads(rec.wait_for(STATE))
    finally:
        await exporter.stop()
    assert state["used_bytes"] == 412_500_000_000


async def test_home_assistant_birth_republishes(mosquitto_broker, mosquitto_recorder):
    rec = mosquitto_recorder(mosquitto_broker.port)
    exporter = await started(mosquitto_broker.port)
    try:
        await exporter.publish([make_summary()], {})
        rec.wait_for(USED_CONFIG)
        rec.wait_for(STATE)
        before = rec.count(USED_CONFIG)
        rec.publish("homeassistant/status", b"online")
        again = json.loads(rec.wait_for(USED_CONFIG, after=before))
        rec.wait_for(STATE, after=1)
    finally:
        await exporter.stop()
    assert rec.count(USED_CONFIG) > before
    assert again["device_class"] == "data_size"


async def test_no_discovery_without_home_assistant(mosquitto_broker, mosquitto_recorder):
    rec = mosquitto_recorder(mosquitto_broker.port)
    exporter = await started(mosquitto_broker.port, homeassistant=False)
    try:
        await exporter.publish([make_summary()], {})
        state = json.loads(rec.wait_for(STATE))
    finally:
        await exporter.stop()
    assert state["cap_bytes"] == 1_200_000_000_000
    assert not [t for t, _, _ in rec.messages if t.startswith("homeassistant/")]


LWT_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys, time
    from capwatch.config import MqttSettings
    from capwatch.exporters.mqtt import MqttExporter
    from tests.fixtures.exporters import make_summary

    async def main():
        ex = MqttExporter(MqttSettings(host="127.0.0.1", port=int(sys.argv[1]), instance="one"))
        await ex.start()
        while not ex.connected:
            await asyncio.sleep(0.05)
        await ex.publish([make_summary()], {})
        print("ready", flush=True)
        time.sleep(600)

    asyncio.run(main())
    """
)


def test_last_will_when_process_is_killed(mosquitto_broker, mosquitto_recorder):
    rec = mosquitto_recorder(mosquitto_broker.port)
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.Popen(
        [sys.executable, "-c", LWT_SCRIPT, str(mosquitto_broker.port)],
        stdout=subprocess.PIPE,
        cwd=root,
        env=env,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        rec.wait_for(AVAIL, b"online")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert rec.wait_for(AVAIL, b"offline") == b"offline"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


async def test_password_auth(mosquitto_auth_broker, mosquitto_recorder):
    rec = mosquitto_recorder(mosquitto_auth_broker.port, MQTT_USER, MQTT_PASSWORD)
    exporter = await started(mosquitto_auth_broker.port, username=MQTT_USER, password=MQTT_PASSWORD)
    try:
        await exporter.publish([make_summary()], {})
        state = json.loads(rec.wait_for(STATE))
    finally:
        await exporter.stop()
    assert state["account"] == "home"


async def test_wrong_password_is_an_export_error_without_the_secret(mosquitto_auth_broker):
    wrong = "wrong-secret-password"
    exporter = MqttExporter(
        settings(mosquitto_auth_broker.port, username=MQTT_USER, password=wrong)
    )
    try:
        await exporter.start()
        wait_until(lambda: "refused" in exporter.last_error, "the broker to refuse")
        with pytest.raises(ExportError) as info:
            await exporter.publish([make_summary()], {})
    finally:
        await exporter.stop()
    message = str(info.value)
    assert "not connected" in message
    assert wrong not in message
    assert "\n" not in message


async def test_tls(mosquitto_tls_broker, mosquitto_recorder):
    ca = mosquitto_tls_broker.ca_certs
    rec = mosquitto_recorder(mosquitto_tls_broker.port, ca_certs=ca)
    exporter = await started(mosquitto_tls_broker.port, tls=True, ca_certs=str(ca))
    try:
        await exporter.publish([make_summary()], {})
        state = json.loads(rec.wait_for(STATE))
    finally:
        await exporter.stop()
    assert state["used_bytes"] == 412_500_000_000


async def test_tls_with_an_unknown_ca_does_not_connect(mosquitto_tls_broker):
    exporter = MqttExporter(settings(mosquitto_tls_broker.port, tls=True))  # system CAs only
    try:
        await exporter.start()
        wait_until(lambda: exporter.last_error != "no connection yet", "a failed handshake")
        with pytest.raises(ExportError, match="not connected"):
            await exporter.publish([make_summary()], {})
    finally:
        await exporter.stop()
    assert not exporter.connected


def instance_settings(port: int, web_port: int, accounts: tuple[str, ...] = ("home",)) -> Settings:
    """A whole configuration as ``serve`` loads it: the instance is named after the web port."""
    return Settings.model_validate(
        {
            "web": {"port": web_port, "base_url": "https://cap.example"},
            "accounts": [{"name": a, "provider": "host", "cap": "1 TB"} for a in accounts],
            "mqtt": {"host": "127.0.0.1", "port": port},
        }
    )


def from_config(settings: Settings) -> MqttExporter:
    (exporter,) = load_exporters(settings)
    assert isinstance(exporter, MqttExporter)
    return exporter


async def test_two_instances_keep_their_connections_and_share_availability(
    mosquitto_broker, mosquitto_recorder
):
    rec = mosquitto_recorder(mosquitto_broker.port)
    first = from_config(instance_settings(mosquitto_broker.port, 8485))
    second = from_config(instance_settings(mosquitto_broker.port, 8486))
    assert first.client_id != second.client_id
    assert first.topics.availability != second.topics.availability
    await first.start()
    await second.start()
    try:
        wait_until(lambda: first.connected and second.connected, "both instances to connect")
        wait_until(
            lambda: len(first.online_instances()) == 2 == len(second.online_instances()),
            "each instance to see the other",
        )
        await first.publish([make_summary()], {})
        await second.publish([make_summary()], {})
        both = json.loads(rec.wait_for(USED_CONFIG))["availability"]
        count = rec.count(USED_CONFIG)
        await first.stop()
        rec.wait_for(first.topics.availability, b"offline")
        # the survivor lists itself alone once the other says offline
        after = json.loads(rec.wait_for(USED_CONFIG, after=count))
        assert second.connected
    finally:
        await first.stop()
        await second.stop()
    topics = sorted([first.topics.availability, second.topics.availability])
    assert sorted(t["topic"] for t in both) == topics
    assert after["availability"] == [{"topic": second.topics.availability}]
    assert after["device"]["configuration_url"] == "https://cap.example/accounts/home"
    log = mosquitto_broker.log.read_text(errors="replace")
    assert "already connected" not in log  # no instance took over another's connection


async def test_default_client_id_and_availability_name_the_instance(mosquitto_broker):
    exporter = from_config(instance_settings(mosquitto_broker.port, 8499))
    assert exporter.client_id == f"capwatch-{exporter.instance}"
    assert exporter.instance.endswith("-8499")
    assert exporter.topics.availability == f"capwatch/bridge/{exporter.instance}/availability"
    named = MqttExporter(settings(mosquitto_broker.port, client_id="mine"))
    assert named.client_id == "mine"


OLD_CONFIG = "homeassistant/sensor/capwatch_cabin/used_bytes/config"
OLD_STATE = "capwatch/cabin/state"


async def test_configs_of_an_account_no_longer_configured_are_removed(
    mosquitto_broker, mosquitto_recorder
):
    before = await started(
        mosquitto_broker.port, context=ExportContext(enabled_accounts=("home", "cabin"))
    )
    try:
        await before.publish([make_summary(), make_summary("cabin")], {})
    finally:
        await before.stop()
    rec = mosquitto_recorder(mosquitto_broker.port)
    foreign = "homeassistant/sensor/capwatch_cabin/other/config"  # another base topic's
    rec.publish_retained(foreign, b'{"state_topic": "elsewhere/cabin/state"}')
    rec.wait_for(OLD_CONFIG)
    after = await started(mosquitto_broker.port, context=ExportContext(enabled_accounts=("home",)))
    try:
        rec.wait_for(OLD_CONFIG, b"")
        rec.wait_for(OLD_STATE, b"")
        await after.publish([make_summary()], {})
    finally:
        await after.stop()
    late = mosquitto_recorder(mosquitto_broker.port)
    late.wait_for(USED_CONFIG)
    late.wait_for(foreign)
    retained = {t for t, p, r in late.messages if r and p}
    assert USED_CONFIG in retained
    assert foreign in retained
    assert not [
        t for t in retained if t.startswith("homeassistant/sensor/capwatch_cabin/") and t != foreign
    ]
    assert OLD_STATE not in retained


async def test_nothing_is_removed_when_the_accounts_are_not_known(
    mosquitto_broker, mosquitto_recorder
):
    first = await started(mosquitto_broker.port)
    try:
        await first.publish([make_summary("cabin")], {})
    finally:
        await first.stop()
    rec = mosquitto_recorder(mosquitto_broker.port)
    second = await started(mosquitto_broker.port)  # built alone: no configuration to go by
    try:
        await second.publish([make_summary()], {})
        rec.wait_for(USED_CONFIG)
    finally:
        await second.stop()
    assert rec.latest(OLD_CONFIG)


def test_disabled_accounts_count_as_gone():
    settings = Settings.model_validate(
        {
            "accounts": [
                {"name": "home", "provider": "host", "cap": "1 TB"},
                {"name": "cabin", "provider": "host", "cap": "1 TB", "enabled": False},
            ],
            "mqtt": {"host": "127.0.0.1"},
        }
    )
    assert from_config(settings).context.enabled_accounts == ("home",)


async def test_the_shared_availability_topic_of_earlier_versions_is_cleared(
    mosquitto_broker, mosquitto_recorder
):
    legacy = "capwatch/bridge/availability"
    rec = mosquitto_recorder(mosquitto_broker.port)
    rec.publish_retained(legacy, b"offline")  # what an earlier capwatch left behind
    exporter = await started(mosquitto_broker.port)
    try:
        rec.wait_for(legacy, b"")
        await exporter.publish([make_summary()], {})
    finally:
        await exporter.stop()
    late = mosquitto_recorder(mosquitto_broker.port)
    late.wait_for(AVAIL)
    assert late.latest(legacy) is None
