"""MQTT payloads: the per-account state JSON and Home Assistant discovery configs.

Pure functions of the metrics table, so they are tested without a broker. The state JSON keeps
internal units (bytes, percent, days; ISO 8601 UTC for instants) for users without Home
Assistant; each discovery config's ``value_template`` converts to the unit HA shows (GB for
data sizes) and renders ``None`` (HA's "unknown") when a value is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from capwatch import __version__
from capwatch.exporters.metrics import (
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
    """Where capwatch publishes: base topic, discovery prefix, availability topic."""

    base: str = "capwatch"
    discovery_prefix: str = "homeassistant"

    @property
    def availability(self) -> str:
        """The bridge's availability topic (LWT "offline", "online" on connect)."""
        return f"{self.base}/bridge/availability"

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
    return state


def _number_template(ref: str, unit: str) -> str:
    scaled = f"({ref} / {GB_DIVISOR})" if unit == "bytes" else ref
    digits = _PRECISION.get(unit, 3) + 1
    return f"{{{{ {scaled} | round({digits}) if {ref} is number else None }}}}"


def metric_template(metric: MetricDescription) -> str:
    """Return the HA value_template that reads ``metric`` from the state JSON."""
    ref = f"value_json.{metric.key}"
    if metric.unit == "timestamp":
        return f"{{{{ {ref} if {ref} else None }}}}"
    return _number_template(ref, metric.unit)


def _device_block(summary: CycleSummary) -> dict[str, Any]:
    return {
        "identifiers": [f"capwatch_{slug(summary.account)}"],
        "name": f"capwatch {summary.account}",
        "manufacturer": "capwatch",
        "model": summary.provider or "capwatch",
        "sw_version": __version__,
    }


def _common(summary: CycleSummary, topics: Topics, object_key: str, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "unique_id": f"capwatch_{slug(summary.account)}_{object_key}",
        "state_topic": topics.state(summary.account),
        "availability_topic": topics.availability,
        "device": _device_block(summary),
        "origin": {"name": "capwatch", "sw_version": __version__},
    }


def _ha_fields(
    device_class: str | None, state_class: str | None, ha_unit: str | None, icon: str | None
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in (
        ("device_class", device_class),
        ("state_class", state_class),
        ("unit_of_measurement", ha_unit),
        ("icon", icon),
    ):
        if value is not None:
            out[key] = value
    return out


def discovery_configs(
    summary: CycleSummary, devices: Sequence[DeviceUsage], topics: Topics
) -> dict[str, dict[str, Any]]:
    """Return ``{config topic: discovery payload}`` for every sensor of one account."""
    configs: dict[str, dict[str, Any]] = {}
    for m in METRICS:
        payload = _common(summary, topics, m.key, m.name)
        payload.update(_ha_fields(m.device_class, m.state_class, m.ha_unit, m.icon))
        payload["value_template"] = metric_template(m)
        if m.unit in _PRECISION:
            payload["suggested_display_precision"] = _PRECISION[m.unit]
        configs[topics.config(summary.account, m.key)] = payload
    for t in TEXT_METRICS:
        payload = _common(summary, topics, t.key, t.name)
        if t.options:
            payload.update(_ha_fields("enum", None, None, t.icon))
            payload["options"] = list(t.options)
        else:
            payload.update(_ha_fields(None, None, None, t.icon))
        payload["value_template"] = f"{{{{ value_json.{t.key} }}}}"
        configs[topics.config(summary.account, t.key)] = payload
    for d in devices:
        dev = slug(d.device_id)
        for dm in DEVICE_METRICS:
            key = f"device_{dev}_{dm.key}"
            payload = _common(summary, topics, key, f"{device_label(d)} {dm.name.lower()}")
            payload.update(_ha_fields(dm.device_class, dm.state_class, dm.ha_unit, dm.icon))
            ref = f"value_json.devices['{dev}'].{dm.key}"
            guard = f"value_json.devices['{dev}'] is defined"
            scaled = f"({ref} / {GB_DIVISOR}) | round(3)" if dm.unit == "bytes" else ref
            payload["value_template"] = f"{{{{ {scaled} if {guard} else None }}}}"
            payload["suggested_display_precision"] = _PRECISION.get(dm.unit, 2)
            configs[topics.config(summary.account, key)] = payload
    return configs
