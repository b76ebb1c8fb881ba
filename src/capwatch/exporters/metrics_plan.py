"""The rows of the metrics table for each allowance of a plan (re-exported by
:mod:`capwatch.exporters.metrics`): used, size, remaining and projected, in bytes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from capwatch.models import AllowanceSummary

Unit = Literal["bytes"]


def _num(value: float | None) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True, slots=True)
class AllowanceMetricDescription:
    """One exported number of an allowance of the account's plan (Prometheus: an ``allowance``
    label on ``prom_name``; Graphite ``<account>.allowances.<name>.<key>``; InfluxDB a point of
    ``<measurement>_allowance``; Home Assistant a sensor per allowance)."""

    key: str
    name: str
    description: str
    unit: Unit
    value_fn: Callable[[AllowanceSummary], float | None]
    prom_name: str
    icon: str | None = None
    state_class: str | None = "measurement"
    device_class: str | None = "data_size"
    ha_unit: str | None = "GB"


ALLOWANCE_METRICS: tuple[AllowanceMetricDescription, ...] = (
    AllowanceMetricDescription(
        "used_bytes",
        "used",
        "Data counted against the allowance so far in the cycle (unknown when an ISP total "
        "cannot be split across its windows).",
        "bytes",
        lambda a: _num(a.used_bytes),
        "capwatch_allowance_used_bytes",
        icon="mdi:download",
        state_class="total",
    ),
    AllowanceMetricDescription(
        "size_bytes",
        "size",
        "What the allowance gives this cycle: its size, what rolled over and the top-ups.",
        "bytes",
        lambda a: float(a.size_bytes),
        "capwatch_allowance_size_bytes",
        icon="mdi:gauge-full",
    ),
    AllowanceMetricDescription(
        "remaining_bytes",
        "remaining",
        "Data left in the allowance.",
        "bytes",
        lambda a: _num(a.remaining_bytes),
        "capwatch_allowance_remaining_bytes",
        icon="mdi:gauge",
    ),
    AllowanceMetricDescription(
        "projected_bytes",
        "projected",
        "The allowance's use expected at the end of the cycle (its own forecast).",
        "bytes",
        lambda a: _num(a.projected_bytes),
        "capwatch_allowance_projected_bytes",
        icon="mdi:chart-line",
    ),
)


def allowance_values(
    allowance: AllowanceSummary,
) -> list[tuple[AllowanceMetricDescription, float]]:
    """Return every known metric of one allowance with its value."""
    out: list[tuple[AllowanceMetricDescription, float]] = []
    for metric in ALLOWANCE_METRICS:
        value = metric.value_fn(allowance)
        if value is not None:
            out.append((metric, value))
    return out
