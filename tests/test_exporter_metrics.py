"""The metrics table: every value_fn on a known summary, unknowns, the table's own rules."""

from __future__ import annotations

import pytest

from capwatch.config import Settings
from capwatch.errors import CapwatchError, ConfigError
from capwatch.exporters.base import (
    Exporter,
    ExportError,
    load_exporter_class,
    load_exporters,
    scrub,
)
from capwatch.exporters.graphite import GraphiteExporter
from capwatch.exporters.influxdb import InfluxExporter
from capwatch.exporters.metrics import (
    DEVICE_METRICS,
    METRICS,
    TEXT_METRICS,
    device_values,
    numeric_values,
    slug,
    text_values,
)
from capwatch.exporters.mqtt import MqttExporter
from capwatch.models import AccountStatus, DeviceUsage
from tests.fixtures.exporters import make_summary, make_unknown_summary

EXPECTED = {
    "used_bytes": 412_500_000_000,
    "cap_bytes": 1_200_000_000_000,
    "remaining_bytes": 787_500_000_000,
    "percent": 34.375,
    "projected_bytes": 900_000_000_000,
    "projected_low_bytes": 800_000_000_000,
    "projected_high_bytes": 1_050_000_000_000,
    "daily_allowance_bytes": 49_166_666_666,
    "days_left": 15.5,
    "pace": 0.92,
    "overage_cost": 0.0,
    "last_success": 1_794_743_700,
    "last_reading": 1_794_744_000,
    "awaiting_figure": 0.0,
    "consecutive_failures": 0,
}
UNKNOWN_WHEN_NEW = {
    "used_bytes",
    "cap_bytes",
    "remaining_bytes",
    "percent",
    "projected_bytes",
    "projected_low_bytes",
    "projected_high_bytes",
    "daily_allowance_bytes",
    "pace",
    "overage_cost",
    "last_success",
    "last_reading",
}


@pytest.mark.parametrize("metric", METRICS, ids=lambda m: m.key)
def test_value_on_known_summary(metric):
    assert metric.value_fn(make_summary()) == EXPECTED[metric.key]


@pytest.mark.parametrize("metric", METRICS, ids=lambda m: m.key)
def test_value_on_new_unlimited_account(metric):
    value = metric.value_fn(make_unknown_summary())
    assert (value is None) == (metric.key in UNKNOWN_WHEN_NEW)


def test_table_covers_every_expected_key():
    assert {m.key for m in METRICS} == set(EXPECTED)


def test_keys_and_prometheus_names_are_unique():
    keys = [m.key for m in METRICS]
    assert len(keys) == len(set(keys))
    prom = [(m.prom_name, m.prom_labels) for m in METRICS if m.prom_name]
    assert len(prom) == len(set(prom))
    exported = [m for m in (*METRICS, *DEVICE_METRICS) if m.prom_name]
    assert all(m.prom_name.startswith("capwatch_") for m in exported)
    assert [m.key for m in METRICS if not m.prom_name] == ["days_left"]  # a timestamp instead


def test_home_assistant_classes():
    by_key = {m.key: m for m in METRICS}
    assert by_key["used_bytes"].state_class == "total"  # with the cycle start as last_reset
    assert by_key["last_success"].state_class is None
    assert by_key["last_success"].device_class == "timestamp"
    data = [m for m in METRICS if m.unit == "bytes"]
    assert all(m.device_class == "data_size" and m.ha_unit == "GB" for m in data)
    assert by_key["overage_cost"].device_class == "monetary"
    assert by_key["overage_cost"].state_class is None
    rest = [
        m for m in METRICS if m.key not in ("used_bytes", "overage_cost") and m.unit != "timestamp"
    ]
    assert all(m.state_class == "measurement" for m in rest)
    assert DEVICE_METRICS[0].state_class == "total"


def test_helpers_skip_unknowns():
    assert len(numeric_values(make_summary())) == len(METRICS)
    assert {m.key for m, _ in numeric_values(make_unknown_summary())} == {
        "days_left",
        "consecutive_failures",
        "awaiting_figure",
    }
    assert text_values(make_summary(status=AccountStatus.AUTH_REQUIRED)) == [
        (TEXT_METRICS[0], "auth-required"),
        (TEXT_METRICS[1], ""),
    ]
    waiting = make_summary(note="new cycle: waiting for the ISP's first figure")
    assert dict((m.key, v) for m, v in text_values(waiting))["note"] == waiting.note
    assert dict((m.key, v) for m, v in numeric_values(waiting))["awaiting_figure"] == 1.0
    assert device_values(DeviceUsage("x", 5))[0][1] == 5.0


def test_percent_over_cap_and_remaining_floor():
    summary = make_summary(used_bytes=1_500_000_000_000)
    values = {m.key: v for m, v in numeric_values(summary)}
    assert values["percent"] == 125.0
    assert values["remaining_bytes"] == 0


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("home", "home"),
        ("Mum's Flat", "mum_s_flat"),
        ("a/b#c+", "a_b_c"),
        ("", "_"),
        ("x-1", "x-1"),
    ],
)
def test_slug(raw, expected):
    assert slug(raw) == expected


def test_load_exporters_builds_the_configured_ones():
    settings = Settings.model_validate(
        {
            "graphite": {"host": "127.0.0.1"},
            "influxdb": {"url": "http://127.0.0.1:8086", "database": "capwatch"},
        }
    )
    built = load_exporters(settings)
    assert [type(e) for e in built] == [GraphiteExporter, InfluxExporter]
    assert built[0].settings is settings.graphite
    assert load_exporters(Settings.model_validate({})) == []


def test_load_exporter_class_by_name():
    assert load_exporter_class("mqtt") is MqttExporter
    assert issubclass(load_exporter_class("graphite"), Exporter)
    with pytest.raises(ConfigError, match="unknown exporter 'nope'"):
        load_exporter_class("nope")


def test_export_error_is_a_capwatch_error_and_scrub_hides_secrets():
    assert issubclass(ExportError, CapwatchError)
    assert scrub("token abc123\nsecond line", ["abc123", None, ""]) == "token *** second line"
