"""The one metrics table every exporter renders (Prometheus, Graphite, InfluxDB, MQTT).

Values stay in internal units (bytes, percent, days, seconds since the epoch); each exporter
converts at its edge. A ``None`` value means "unknown or not applicable" (an unlimited plan has
no cap, a new account no forecast) and every exporter skips it or reports it as unknown.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from capwatch.exporters.metrics_plan import ALLOWANCE_METRICS as ALLOWANCE_METRICS
from capwatch.exporters.metrics_plan import (
    AllowanceMetricDescription as AllowanceMetricDescription,
)
from capwatch.exporters.metrics_plan import allowance_values as allowance_values
from capwatch.models import AccountStatus, CycleSummary, DeviceUsage

Unit = Literal["bytes", "percent", "days", "ratio", "timestamp", "count", "currency"]


@dataclass(frozen=True, slots=True)
class MetricDescription:
    """One exported number of an account: its key, unit, how to read it and how HA shows it.

    ``key`` is the field name in MQTT state JSON, InfluxDB and Graphite; ``prom_name`` and
    ``prom_labels`` name it for Prometheus (several rows may share a name with other labels).
    """

    key: str
    name: str
    description: str
    unit: Unit
    value_fn: Callable[[CycleSummary], float | None]
    device_class: str | None = None
    state_class: str | None = "measurement"
    ha_unit: str | None = None
    icon: str | None = None
    entity_category: str | None = None
    """Home Assistant's entity category (``diagnostic`` for the health of the polling)."""
    prom_name: str = ""
    """The Prometheus name ("" leaves the row out of Prometheus)."""
    prom_labels: tuple[tuple[str, str], ...] = ()
    prom_help: str = ""
    """Prometheus's HELP when it differs from ``description`` (a ratio where others get %)."""


@dataclass(frozen=True, slots=True)
class DeviceMetricDescription:
    """One exported number of a device within an account's cycle."""

    key: str
    name: str
    description: str
    unit: Unit
    value_fn: Callable[[DeviceUsage], float | None]
    device_class: str | None = None
    state_class: str | None = "measurement"
    ha_unit: str | None = None
    icon: str | None = None
    prom_name: str = ""


@dataclass(frozen=True, slots=True)
class TextMetricDescription:
    """One exported word of an account (its status); HA shows it as an enum sensor."""

    key: str
    name: str
    description: str
    value_fn: Callable[[CycleSummary], str | None]
    options: tuple[str, ...] = ()
    """The words it can take (HA shows an enum sensor); empty for free text."""
    icon: str | None = None
    entity_category: str | None = None


def _epoch(summary: CycleSummary) -> float | None:
    at = summary.last_success_at
    return None if at is None else at.timestamp()


def _reading_epoch(summary: CycleSummary) -> float | None:
    at = summary.last_reading_at
    return None if at is None else at.timestamp()


def _num(value: float | None) -> float | None:
    return None if value is None else float(value)


def _forecast(attr: str) -> Callable[[CycleSummary], float | None]:
    def read(summary: CycleSummary) -> float | None:
        if summary.forecast is None:
            return None
        return float(getattr(summary.forecast, attr))

    return read


METRICS: tuple[MetricDescription, ...] = (
    MetricDescription(
        "used_bytes",
        "Usage",
        "Data used so far in the billing cycle.",
        "bytes",
        lambda s: _num(s.used_bytes),
        state_class="total",
        icon="mdi:download",
        prom_name="capwatch_usage_bytes",
        device_class="data_size",
        ha_unit="GB",
    ),
    MetricDescription(
        "cap_bytes",
        "Data cap",
        "The plan's data cap for the cycle.",
        "bytes",
        lambda s: _num(s.cap_bytes),
        icon="mdi:gauge-full",
        prom_name="capwatch_cap_bytes",
        device_class="data_size",
        ha_unit="GB",
    ),
    MetricDescription(
        "remaining_bytes",
        "Remaining",
        "Data left under the cap.",
        "bytes",
        lambda s: _num(s.remaining_bytes),
        icon="mdi:gauge",
        prom_name="capwatch_remaining_bytes",
        device_class="data_size",
        ha_unit="GB",
    ),
    MetricDescription(
        "percent",
        "Cap used",
        "Share of the cap used, in percent.",
        "percent",
        lambda s: s.percent,
        ha_unit="%",
        icon="mdi:percent",
        prom_name="capwatch_usage_ratio",
        prom_help="Share of the cap used, as a ratio (1 is the whole cap).",
    ),
    MetricDescription(
        "projected_bytes",
        "Projected usage",
        "Usage expected at the end of the cycle.",
        "bytes",
        _forecast("expected_bytes"),
        icon="mdi:chart-line",
        prom_name="capwatch_projected_bytes",
        prom_labels=(("bound", "expected"),),
        device_class="data_size",
        ha_unit="GB",
    ),
    MetricDescription(
        "projected_low_bytes",
        "Projected usage (low)",
        "Low end of the forecast interval.",
        "bytes",
        _forecast("low_bytes"),
        icon="mdi:chart-line",
        prom_name="capwatch_projected_bytes",
        prom_labels=(("bound", "low"),),
        device_class="data_size",
        ha_unit="GB",
    ),
    MetricDescription(
        "projected_high_bytes",
        "Projected usage (high)",
        "High end of the forecast interval.",
        "bytes",
        _forecast("high_bytes"),
        icon="mdi:chart-line",
        prom_name="capwatch_projected_bytes",
        prom_labels=(("bound", "high"),),
        device_class="data_size",
        ha_unit="GB",
    ),
    MetricDescription(
        "daily_allowance_bytes",
        "Daily allowance",
        "What can be used per day to stay under the cap.",
        "bytes",
        lambda s: _num(s.daily_allowance_bytes),
        icon="mdi:calendar-today",
        prom_name="capwatch_daily_allowance_bytes",
        device_class="data_size",
        ha_unit="GB",
    ),
    MetricDescription(
        "days_left",
        "Days left",
        "Days until the cycle ends.",
        "days",
        lambda s: float(s.days_left),
        device_class="duration",
        ha_unit="d",
        icon="mdi:calendar-end",
        prom_name="",  # Prometheus gets capwatch_cycle_end_timestamp_seconds instead
    ),
    MetricDescription(
        "pace",
        "Pace",
        "Usage relative to an even pace (1 = on pace, above 1 = ahead).",
        "ratio",
        lambda s: _num(s.pace),
        icon="mdi:speedometer",
        prom_name="capwatch_pace_ratio",
    ),
    MetricDescription(
        "overage_cost",
        "Overage cost",
        "Expected overage charge for the cycle.",
        "currency",
        lambda s: _num(s.overage_cost),
        device_class="monetary",
        state_class=None,
        icon="mdi:cash",
        prom_name="capwatch_overage_cost",
    ),
    MetricDescription(
        "last_success",
        "Last success",
        "When the account was last read successfully.",
        "timestamp",
        _epoch,
        device_class="timestamp",
        state_class=None,
        icon="mdi:clock-check",
        entity_category="diagnostic",
        prom_name="capwatch_last_success_timestamp_seconds",
    ),
    MetricDescription(
        "last_reading",
        "Last reading",
        "When the newest reading was taken (of this cycle or, early in a cycle, the last one).",
        "timestamp",
        _reading_epoch,
        device_class="timestamp",
        state_class=None,
        icon="mdi:clock-outline",
        prom_name="capwatch_last_reading_timestamp_seconds",
    ),
    MetricDescription(
        "awaiting_figure",
        "Awaiting first figure",
        "1 while a new cycle has begun and its first figure has not arrived, else 0.",
        "count",
        lambda s: 1.0 if s.note else 0.0,
        icon="mdi:timer-sand",
        prom_name="capwatch_awaiting_first_figure",
    ),
    MetricDescription(
        "consecutive_failures",
        "Consecutive failures",
        "Polls failed in a row.",
        "count",
        lambda s: float(s.consecutive_failures),
        icon="mdi:alert-circle",
        entity_category="diagnostic",
        prom_name="capwatch_consecutive_failures",
    ),
)

DEVICE_METRICS: tuple[DeviceMetricDescription, ...] = (
    DeviceMetricDescription(
        "used_bytes",
        "Usage",
        "Data used by the device so far in the cycle.",
        "bytes",
        lambda d: float(d.used_bytes),
        state_class="total",
        icon="mdi:devices",
        prom_name="capwatch_device_usage_bytes",
        device_class="data_size",
        ha_unit="GB",
    ),
)

TEXT_METRICS: tuple[TextMetricDescription, ...] = (
    TextMetricDescription(
        "status",
        "Status",
        "Health of the account's polling.",
        lambda s: str(s.status),
        options=tuple(str(v) for v in AccountStatus),
        icon="mdi:heart-pulse",
        entity_category="diagnostic",
    ),
    TextMetricDescription(
        "note",
        "Note",
        'A plain line on the account, e.g. "new cycle: waiting for the ISP\'s first figure".',
        lambda s: s.note or "",
        icon="mdi:information-outline",
    ),
)

_SLUG_BAD = re.compile(r"[^a-z0-9_-]+")


def slug(text: str) -> str:
    """Return ``text`` as a safe name part: lower case, ``[a-z0-9_-]``, never empty."""
    cleaned = _SLUG_BAD.sub("_", text.strip().lower()).strip("_")
    return cleaned or "_"


def device_label(device: DeviceUsage) -> str:
    """Return the name people know a device by: its name, else its id."""
    return device.name or device.device_id


def numeric_values(summary: CycleSummary) -> list[tuple[MetricDescription, float]]:
    """Return every known (not None) metric of ``summary`` with its value."""
    out: list[tuple[MetricDescription, float]] = []
    for metric in METRICS:
        value = metric.value_fn(summary)
        if value is not None:
            out.append((metric, value))
    return out


def text_values(summary: CycleSummary) -> list[tuple[TextMetricDescription, str]]:
    """Return every known (not None) text metric of ``summary`` with its value."""
    out: list[tuple[TextMetricDescription, str]] = []
    for metric in TEXT_METRICS:
        value = metric.value_fn(summary)
        if value is not None:
            out.append((metric, value))
    return out


def device_values(device: DeviceUsage) -> list[tuple[DeviceMetricDescription, float]]:
    """Return every known metric of one device with its value."""
    out: list[tuple[DeviceMetricDescription, float]] = []
    for metric in DEVICE_METRICS:
        value = metric.value_fn(device)
        if value is not None:
            out.append((metric, value))
    return out
