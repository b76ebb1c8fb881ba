"""MQTT payloads: the per-account state JSON and Home Assistant discovery configs.

Pure functions of the metrics table, so they are tested without a broker. The state JSON keeps
internal units (bytes, percent, days; ISO 8601 UTC for instants) for users without Home
Assistant; each discovery config's ``value_template`` converts to the unit HA shows (GB for
data sizes, whole numbers for counts) and renders ``None`` (HA's "unknown") when a value is
missing.

Cycle usage is a ``total`` whose ``last_reset`` is the cycle's start: Home Assistant's long-term
statistics then follow the meter, down as well as up when the ISP corrects a figure, and start a
new sum at a rollover (``total_increasing`` would take a downward correction for a meter reset
and add the whole corrected figure as new usage). Counter sources fit the same description:
their cycle usage only rises within a cycle and restarts at the cycle's start.

Device sensors (``device_<key>_<metric>``) are the devices the coordinator hands over: those the
user named, keyed by device key, so a rename changes a sensor's name and not its unique id.
A plan's allowances are sensors too ("anytime used", "anytime remaining", ...), read from the
state JSON's ``allowances`` by name.

Every instance has its own availability topic; an entity lists the topics of every instance
known to serve its account, with ``availability_mode: any``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from capwatch import __version__
from capwatch.exporters.metrics import (
    ALLOWANCE_METRICS,
    DEVICE_METRICS,
    METRICS,
    TEXT_METRICS,
    MetricDescription,
    device_label,
    slug,
)
from capwatch.models import CycleSummary, DeviceUsage

GB_DIVISOR = 1_000_000_000
_PRECISION = {"bytes": 2, "percent": 1, "days": 1, "ratio": 2, "currency": 2, "count": 0}


@dataclass(frozen=True, slots=True)
class Topics:
    """Where capwatch publishes: base topic, discovery prefix, this instance's availability."""

    base: str = "capwatch"
    discovery_prefix: str = "homeassistant"
    instance: str = "capwatch"

    @property
    def availability(self) -> str:
        """This instance's availability topic (LWT "offline", "online" on connect)."""
        return self.availability_of(self.instance)

    def availability_of(self, instance: str) -> str:
        """The availability topic of any instance."""
        return f"{self.base}/bridge/{slug(instance)}/availability"

    @property
    def legacy_availability(self) -> str:
        """The availability topic every instance once shared (its retained payload is cleared)."""
        return f"{self.base}/bridge/availability"

    @property
    def availability_filter(self) -> str:
        """The subscription matching every instance's availability topic."""
        return f"{self.base}/bridge/+/availability"

    def instance_of(self, topic: str) -> str | None:
        """The instance an availability topic belongs to (None for other topics)."""
        prefix = f"{self.base}/bridge/"
        if not topic.startswith(prefix) or not topic.endswith("/availability"):
            return None
        name = topic[len(prefix) : -len("/availability")]
        return name if name and "/" not in name else None

    @property
    def config_filter(self) -> str:
        """The subscription matching every sensor discovery config (capwatch's and others')."""
        return f"{self.discovery_prefix}/sensor/+/+/config"

    def account_of_config(self, topic: str) -> str | None:
        """The account slug of a capwatch discovery config topic (None for other topics)."""
        prefix = f"{self.discovery_prefix}/sensor/"
        if not topic.startswith(prefix) or not topic.endswith("/config"):
            return None
        parts = topic[len(prefix) :].split("/")
        if len(parts) != 3 or not parts[0].startswith("capwatch_"):
            return None
        return parts[0].removeprefix("capwatch_")

    def object_of_config(self, topic: str) -> str | None:
        """The object key of a capwatch discovery config topic (None for other topics)."""
        if self.account_of_config(topic) is None:
            return None
        return topic[len(f"{self.discovery_prefix}/sensor/") :].split("/")[1]

    @property
    def ha_status(self) -> str:
        """Home Assistant's birth/last-will topic."""
        return f"{self.discovery_prefix}/status"

    def state(self, account: str) -> str:
        """The retained state JSON of one account."""
        return f"{self.base}/{slug(account)}/state"

    def config(self, account: str, object_key: str) -> str:
        """The retained discovery config of one sensor."""
        return f"{self.discovery_prefix}/sensor/capwatch_{slug(account)}/{object_key}/config"


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def _json_value(metric: MetricDescription, value: float | None) -> Any:
    if value is None:
        return None
    if metric.unit == "timestamp":
        return _iso(value)
    if metric.unit in ("bytes", "count"):
        return round(value)
    return value


def state_payload(summary: CycleSummary, devices: Sequence[DeviceUsage]) -> dict[str, Any]:
    """Return the state JSON object of one account (all metrics, status, devices)."""
    state: dict[str, Any] = {
        "account": summary.account,
        "as_of": summary.as_of.astimezone(UTC).isoformat(),
        "cycle_start": summary.cycle.start.astimezone(UTC).isoformat(),
        "cycle_end": summary.cycle.end.astimezone(UTC).isoformat(),
    }
    for metric in METRICS:
        state[metric.key] = _json_value(metric, metric.value_fn(summary))
    for tmetric in TEXT_METRICS:
        state[tmetric.key] = tmetric.value_fn(summary)
    state["devices"] = {
        slug(d.device_id): {
            "id": d.device_id,
            "name": d.name,
            **{m.key: (None if (v := m.value_fn(d)) is None else round(v)) for m in DEVICE_METRICS},
        }
        for d in devices
    }
    state["allowances"] = {
        slug(a.name): {
            "name": a.name,
            **{
                m.key: (None if (v := m.value_fn(a)) is None else round(v))
                for m in ALLOWANCE_METRICS
            },
        }
        for a in summary.allowances
    }
    return state


def _number_template(ref: str, unit: str) -> str:
    if unit == "count":
        return f"{{{{ {ref} | int if {ref} is number else None }}}}"
    scaled = f"({ref} / {GB_DIVISOR})" if unit == "bytes" else ref
    digits = _PRECISION.get(unit, 3) + 1
    return f"{{{{ {scaled} | round({digits}) if {ref} is number else None }}}}"


def metric_template(metric: MetricDescription) -> str:
    """Return the HA value_template that reads ``metric`` from the state JSON."""
    ref = f"value_json.{metric.key}"
    if metric.unit == "timestamp":
        return f"{{{{ {ref} if {ref} else None }}}}"
    return _number_template(ref, metric.unit)


@dataclass(frozen=True, slots=True)
class DiscoveryOptions:
    """What a discovery config says beyond the summary: who serves it, links, money."""

    instances: tuple[str, ...] = ()
    """Instances serving the account (their availability topics); empty: this one alone."""
    base_url: str | None = None
    """The dashboard's public URL: the device links to the account's page there."""
    currency: str = "$"
    """The unit of the overage cost."""


def _device_block(summary: CycleSummary, options: DiscoveryOptions) -> dict[str, Any]:
    block: dict[str, Any] = {
        "identifiers": [f"capwatch_{slug(summary.account)}"],
        "name": f"capwatch {summary.account}",
        "manufacturer": "capwatch",
        "model": summary.provider or "capwatch",
        "sw_version": __version__,
    }
    if options.base_url:
        account = quote(summary.account, safe="")
        block["configuration_url"] = f"{options.base_url.rstrip('/')}/accounts/{account}"
    return block


def _availability(topics: Topics, options: DiscoveryOptions) -> dict[str, Any]:
    names = sorted({slug(i) for i in options.instances} | {slug(topics.instance)})
    return {
        "availability": [{"topic": topics.availability_of(name)} for name in names],
        "availability_mode": "any",
    }


def _common(
    summary: CycleSummary,
    topics: Topics,
    object_key: str,
    name: str,
    options: DiscoveryOptions,
) -> dict[str, Any]:
    return {
        "name": name,
        "unique_id": f"capwatch_{slug(summary.account)}_{object_key}",
        "state_topic": topics.state(summary.account),
        **_availability(topics, options),
        "device": _device_block(summary, options),
        "origin": {"name": "capwatch", "sw_version": __version__},
    }


def _ha_fields(
    device_class: str | None,
    state_class: str | None,
    ha_unit: str | None,
    icon: str | None,
    entity_category: str | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in (
        ("device_class", device_class),
        ("state_class", state_class),
        ("unit_of_measurement", ha_unit),
        ("icon", icon),
        ("entity_category", entity_category),
    ):
        if value is not None:
            out[key] = value
    if state_class == "total":  # a cycle's total: it starts again at the cycle's start
        out["last_reset_value_template"] = "{{ value_json.cycle_start }}"
    return out


def discovery_configs(
    summary: CycleSummary,
    devices: Sequence[DeviceUsage],
    topics: Topics,
    options: DiscoveryOptions | None = None,
) -> dict[str, dict[str, Any]]:
    """Return ``{config topic: discovery payload}`` for every sensor of one account."""
    opts = options or DiscoveryOptions()
    configs: dict[str, dict[str, Any]] = {}
    for m in METRICS:
        payload = _common(summary, topics, m.key, m.name, opts)
        unit = opts.currency if m.device_class == "monetary" else m.ha_unit
        payload.update(_ha_fields(m.device_class, m.state_class, unit, m.icon, m.entity_category))
        payload["value_template"] = metric_template(m)
        if m.unit in _PRECISION:
            payload["suggested_display_precision"] = _PRECISION[m.unit]
        configs[topics.config(summary.account, m.key)] = payload
    for t in TEXT_METRICS:
        payload = _common(summary, topics, t.key, t.name, opts)
        if t.options:
            payload.update(_ha_fields("enum", None, None, t.icon, t.entity_category))
            payload["options"] = list(t.options)
        else:
            payload.update(_ha_fields(None, None, None, t.icon, t.entity_category))
        payload["value_template"] = f"{{{{ value_json.{t.key} }}}}"
        configs[topics.config(summary.account, t.key)] = payload
    for d in devices:
        dev = slug(d.device_id)
        for dm in DEVICE_METRICS:
            key = f"device_{dev}_{dm.key}"
            payload = _common(summary, topics, key, f"{device_label(d)} {dm.name.lower()}", opts)
            payload.update(_ha_fields(dm.device_class, dm.state_class, dm.ha_unit, dm.icon))
            ref = f"value_json.devices['{dev}'].{dm.key}"
            guard = f"value_json.devices['{dev}'] is defined"
            scaled = f"({ref} / {GB_DIVISOR}) | round(3)" if dm.unit == "bytes" else ref
            payload["value_template"] = f"{{{{ {scaled} if {guard} else None }}}}"
            payload["suggested_display_precision"] = _PRECISION.get(dm.unit, 2)
            configs[topics.config(summary.account, key)] = payload
    configs.update(_allowance_configs(summary, topics, opts))
    return configs


def _allowance_configs(
    summary: CycleSummary, topics: Topics, opts: DiscoveryOptions
) -> dict[str, dict[str, Any]]:
    """A sensor per figure of each allowance of the plan ("anytime used", "anytime remaining")."""
    configs: dict[str, dict[str, Any]] = {}
    for a in summary.allowances:
        name = slug(a.name)
        for am in ALLOWANCE_METRICS:
            key = f"allowance_{name}_{am.key}"
            payload = _common(summary, topics, key, f"{a.name} {am.name}", opts)
            payload.update(_ha_fields(am.device_class, am.state_class, am.ha_unit, am.icon))
            ref = f"value_json.allowances['{name}'].{am.key}"
            guard = f"value_json.allowances['{name}'] is defined and {ref} is number"
            payload["value_template"] = (
                f"{{{{ ({ref} / {GB_DIVISOR}) | round(3) if {guard} else None }}}}"
            )
            payload["suggested_display_precision"] = _PRECISION["bytes"]
            configs[topics.config(summary.account, key)] = payload
    return configs
