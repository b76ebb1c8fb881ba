"""MQTT exporter with Home Assistant discovery (paho-mqtt 2, its own network thread).

Everything capwatch publishes is retained and kept in memory, so it is published again after a
broker reconnect and when Home Assistant announces itself (``online`` on
``<discovery_prefix>/status``).

Several instances may serve the same accounts on one broker (the PostgreSQL scale-out). Each has
its own client id (``capwatch-<instance>``) and availability topic
(``<base>/bridge/<instance>/availability``: a last will ``offline``, ``online`` after each
connect, ``offline`` on a clean stop). Each watches the others' availability topics and lists
every instance online in its discovery configs (``availability_mode: any``), so an account's
entities stay available while any instance is up.

The shared ``<base>/bridge/availability`` of earlier versions is cleared (its retained payload
deleted) on connect. Retained discovery configs of accounts no longer in the configuration
(removed or disabled) are deleted (an empty retained payload) when the broker hands them over
at subscription, with the account's retained state.

Device and allowance sensors come and go with the devices handed over (the ones the user named)
and the plan's allowances: each publish of an account deletes the retained config of every such
sensor of that account on the broker (seen at subscription, or published earlier) that is no
longer among them, so a device un-named, or an allowance renamed or removed, while capwatch was
stopped loses its sensor at the next publish too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from capwatch.errors import MissingExtra
from capwatch.exporters.base import Exporter, ExportError, SecretLike, reveal, scrub
from capwatch.exporters.homeassistant import (
    DiscoveryOptions,
    Topics,
    discovery_configs,
    state_payload,
)
from capwatch.exporters.metrics import slug
from capwatch.models import CycleSummary, DeviceUsage

if TYPE_CHECKING:
    import paho.mqtt.client as mqtt

log = logging.getLogger(__name__)

QOS = 1
# Sensors whose set changes with the data (named devices, the plan's allowances), by object key
COME_AND_GO = ("device_", "allowance_")
PUBLISH_TIMEOUT_S = 10.0
KEEPALIVE_S = 60


class MqttSettingsLike(Protocol):
    """What the MQTT exporter reads from ``capwatch.config.MqttSettings``."""

    host: str
    port: int
    username: str | None
    password: SecretLike | None
    tls: bool
    ca_certs: Any
    client_id: str | None
    instance: str | None
    discovery_prefix: str
    base_topic: str
    homeassistant: bool


def _encode(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


class MqttExporter(Exporter):
    """Publishes state JSON and Home Assistant discovery to an MQTT broker."""

    name: ClassVar[str] = "mqtt"

    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.settings: MqttSettingsLike = settings
        self._client: mqtt.Client | None = None
        self._lock = threading.Lock()
        self._retained: dict[str, bytes] = {}
        self._latest: dict[str, tuple[CycleSummary, tuple[DeviceUsage, ...]]] = {}
        self._peers: dict[str, bool] = {}  # other instances' slug -> online
        self._device_configs: dict[str, set[str]] = {}  # account slug -> come-and-go configs
        self._connected = threading.Event()
        self._last_error = "no connection yet"
        self._fallback_instance = f"{socket.gethostname() or 'capwatch'}-{os.getpid()}"

    @property
    def instance(self) -> str:
        """This instance's name: configured, else from the configuration, else host and pid."""
        return slug(self.settings.instance or self.context.instance or self._fallback_instance)

    @property
    def client_id(self) -> str:
        """The MQTT client id: configured, else ``capwatch-<instance>``."""
        return self.settings.client_id or f"capwatch-{self.instance}"

    @property
    def topics(self) -> Topics:
        """Where this instance publishes."""
        s = self.settings
        return Topics(s.base_topic, s.discovery_prefix, self.instance)

    def online_instances(self) -> tuple[str, ...]:
        """This instance and every other one whose availability says ``online``."""
        with self._lock:
            others = {name for name, online in self._peers.items() if online}
        return tuple(sorted(others | {self.instance}))

    @property
    def where(self) -> str:
        """``mqtt host:port`` for messages."""
        return f"mqtt {self.settings.host}:{self.settings.port}"

    @property
    def last_error(self) -> str:
        """Why the last connection attempt failed or ended (no secrets)."""
        return self._safe(self._last_error)

    @property
    def connected(self) -> bool:
        """True while the client holds an accepted connection."""
        return self._connected.is_set()

    def _build_client(self) -> mqtt.Client:
        try:
            import paho.mqtt.client as mqtt
            from paho.mqtt.enums import CallbackAPIVersion
        except ImportError as exc:
            raise MissingExtra("mqtt", "paho-mqtt") from exc
        s = self.settings
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv311
        )
        client.will_set(self.topics.availability, "offline", qos=QOS, retain=True)
        if s.username:
            client.username_pw_set(s.username, reveal(s.password))
        if s.tls:
            try:
                client.tls_set(ca_certs=str(s.ca_certs) if s.ca_certs else None)
            except (OSError, ValueError) as exc:
                raise ExportError(
                    f"{self.where}: TLS set-up failed ({type(exc).__name__})"
                ) from exc
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    async def start(self) -> None:
        """Start the network thread; it connects (and reconnects) in the background."""
        if self._client is not None:
            return
        client = self._build_client()
        try:
            client.connect_async(self.settings.host, int(self.settings.port), KEEPALIVE_S)
        except (OSError, ValueError) as exc:
            raise ExportError(f"{self.where}: cannot connect ({type(exc).__name__})") from exc
        client.loop_start()
        self._client = client

    # -- callbacks, run in paho's thread -------------------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if reason.is_failure:
            error = f"connection refused: {reason}"
            if error != self._last_error:
                log.warning("%s: %s", self.where, error)
            self._last_error = error
            return
        self._connected.set()
        topics = self.topics
        client.publish(topics.availability, "online", qos=QOS, retain=True)
        client.publish(topics.legacy_availability, b"", qos=QOS, retain=True)
        client.subscribe(topics.availability_filter, qos=QOS)
        if self.settings.homeassistant:
            client.subscribe(topics.ha_status, qos=QOS)
            client.subscribe(topics.config_filter, qos=QOS)
        self._republish(client)

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        self._last_error = "connection failed"

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        if self._connected.is_set():
            self._connected.clear()
            self._last_error = f"disconnected: {reason}"

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        topics = self.topics
        if message.topic == topics.ha_status:
            if message.payload.strip() == b"online":
                log.info("%s: Home Assistant is online, publishing discovery again", self.where)
                self._republish(client)
        elif (peer := topics.instance_of(message.topic)) is not None:
            self._on_peer(client, peer, message.payload.strip() == b"online")
        elif topics.account_of_config(message.topic) is not None:
            self._note_device_config(message.topic, bytes(message.payload))
            self._retire(client, message.topic, bytes(message.payload))

    def _note_device_config(self, topic: str, payload: bytes) -> None:
        """Remember a device or allowance sensor config of ours on the broker (forget a deleted
        one)."""
        account = self.topics.account_of_config(topic)
        key = self.topics.object_of_config(topic)
        if account is None or key is None or not key.startswith(COME_AND_GO):
            return
        with self._lock:
            known = self._device_configs.setdefault(account, set())
            if not payload:
                known.discard(topic)
                return
            try:
                state_topic = json.loads(payload).get("state_topic")
            except (ValueError, AttributeError):
                return
            if isinstance(state_topic, str) and state_topic.startswith(
                f"{self.settings.base_topic}/"
            ):
                known.add(topic)

    def _on_peer(self, client: mqtt.Client, peer: str, online: bool) -> None:
        """Another instance came or went: list the instances online in discovery again."""
        if peer == self.instance:
            return
        before = self.online_instances()
        with self._lock:
            self._peers[peer] = online
        if self.online_instances() == before or not self.settings.homeassistant:
            return
        with self._lock:
            latest = list(self._latest.values())
        messages: dict[str, bytes] = {}
        for summary, devices in latest:
            messages.update(self._configs(summary, devices))
        with self._lock:
            self._retained.update(messages)
        for topic, payload in messages.items():
            client.publish(topic, payload, qos=QOS, retain=True)

    def _retire(self, client: mqtt.Client, topic: str, payload: bytes) -> None:
        """Delete the retained config (and state) of an account no longer configured."""
        enabled = self.context.enabled_accounts
        account = self.topics.account_of_config(topic)
        if not payload or enabled is None or account in {slug(a) for a in enabled}:
            return
        try:
            state_topic = json.loads(payload).get("state_topic")
        except (ValueError, AttributeError):
            return
        if not isinstance(state_topic, str) or not state_topic.startswith(
            f"{self.settings.base_topic}/"
        ):
            return  # another program's, or another capwatch deployment's (its own base topic)
        log.info("%s: removing %s (account %s is not configured)", self.where, topic, account)
        client.publish(topic, b"", qos=QOS, retain=True)
        client.publish(state_topic, b"", qos=QOS, retain=True)

    def _republish(self, client: mqtt.Client) -> None:
        with self._lock:
            items = list(self._retained.items())
        for topic, payload in items:
            client.publish(topic, payload, qos=QOS, retain=True)

    # -- publishing ------------------------------------------------------------------------------

    def render(
        self,
        summaries: Sequence[CycleSummary],
        devices: Mapping[str, Sequence[DeviceUsage]],
    ) -> dict[str, bytes]:
        """Return every retained message (discovery configs first, then states) to publish."""
        messages: dict[str, bytes] = {}
        for summary in summaries:
            account_devices = tuple(devices.get(summary.account, ()))
            with self._lock:
                self._latest[summary.account] = (summary, account_devices)
            messages.update(self._configs(summary, account_devices))
            messages[self.topics.state(summary.account)] = _encode(
                state_payload(summary, account_devices)
            )
        return messages

    def _configs(self, summary: CycleSummary, devices: Sequence[DeviceUsage]) -> dict[str, bytes]:
        if not self.settings.homeassistant:
            return {}
        options = DiscoveryOptions(
            instances=self.online_instances(),
            base_url=self.context.base_url,
            currency=self.context.currencies.get(summary.account, "$"),
        )
        configs = discovery_configs(summary, devices, self.topics, options)
        out = {topic: _encode(config) for topic, config in configs.items()}
        keys = {t: self.topics.object_of_config(t) or "" for t in out}
        current = {t for t, key in keys.items() if key.startswith(COME_AND_GO)}
        with self._lock:
            known = self._device_configs.setdefault(slug(summary.account), set())
            gone = known - current
            known.clear()
            known.update(current)
        for topic in sorted(gone):  # a device no longer named, an allowance gone: its sensor goes
            out[topic] = b""
        return out

    async def publish(
        self,
        summaries: Sequence[CycleSummary],
        devices: Mapping[str, Sequence[DeviceUsage]],
    ) -> None:
        """Remember the messages (for reconnects) and publish them; raise when disconnected."""
        messages = self.render(summaries, devices)
        with self._lock:
            self._retained.update(messages)
        await self.start()
        client = self._client
        if client is None or not self.connected:
            raise ExportError(f"{self.where}: not connected ({self._safe(self._last_error)})")
        infos = [
            client.publish(topic, payload, qos=QOS, retain=True)
            for topic, payload in messages.items()
        ]
        await asyncio.to_thread(self._wait_all, infos)

    def _wait_all(self, infos: Sequence[mqtt.MQTTMessageInfo]) -> None:
        deadline = time.monotonic() + PUBLISH_TIMEOUT_S
        for info in infos:
            try:
                info.wait_for_publish(max(deadline - time.monotonic(), 0.01))
            except (RuntimeError, ValueError) as exc:
                raise ExportError(f"{self.where}: publish failed ({self._safe(str(exc))})") from exc
            if not info.is_published():
                raise ExportError(f"{self.where}: broker did not acknowledge in time")

    def _safe(self, text: str) -> str:
        return scrub(text, [reveal(self.settings.password)])

    async def stop(self) -> None:
        """Publish ``offline``, disconnect and stop the network thread."""
        client, self._client = self._client, None
        if client is None:
            return
        if self.connected:
            info = client.publish(self.topics.availability, "offline", qos=QOS, retain=True)
            try:
                await asyncio.to_thread(info.wait_for_publish, PUBLISH_TIMEOUT_S)
            except (RuntimeError, ValueError):
                log.warning("%s: could not publish offline", self.where)
        client.disconnect()
        await asyncio.to_thread(client.loop_stop)
        self._connected.clear()
