"""Home Assistant payloads: state JSON and discovery configs, templates rendered with Jinja."""

from __future__ import annotations

import json

import pytest

from capwatch.exporters.homeassistant import (
    DiscoveryOptions,
    Topics,
    discovery_configs,
    state_payload,
)
from capwatch.exporters.metrics import METRICS
from tests.fixtures.exporters import DEVICES, make_summary, make_unknown_summary

TOPICS = Topics()


def render(template: str, state: dict) -> str:
    """Render a value_template the way HA does: ``value_json`` is the parsed payload."""
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment()
    value = json.dumps(state)
    return env.from_string(template).render(value=value, value_json=json.loads(value)).strip()


def configs(summary=None, devices=DEVICES):
    summary = summary or make_summary()
    return discovery_configs(summary, devices, TOPICS)


def by_key(cfgs: dict) -> dict:
    return {topic.split("/")[-2]: payload for topic, payload in cfgs.items()}


def test_state_payload_keeps_internal_units():
    state = state_payload(make_summary(), DEVICES)
    assert state["used_bytes"] == 412_500_000_000
    assert state["percent"] == 34.375
    assert state["last_success"] == "2026-11-15T11:55:00+00:00"
    assert state["cycle_end"] == "2026-12-01T00:00:00+00:00"
    assert state["status"] == "ok"
    assert state["devices"]["12_34_56_78_90_ab"] == {
        "id": "12:34:56:78:90:AB",
        "name": None,
        "used_bytes": 111_500_000_000,
    }


def test_every_metric_has_a_config_on_its_topic():
    cfgs = configs()
    for metric in METRICS:
        assert f"homeassistant/sensor/capwatch_home/{metric.key}/config" in cfgs
    status = by_key(cfgs)["status"]
    assert status["device_class"] == "enum"
    assert "auth-required" in status["options"]
    assert len({c["unique_id"] for c in cfgs.values()}) == len(cfgs)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("used_bytes", "412.5"),
        ("cap_bytes", "1200.0"),
        ("percent", "34.38"),
        ("days_left", "15.5"),
        ("pace", "0.92"),
        ("last_success", "2026-11-15T11:55:00+00:00"),
        ("status", "ok"),
        ("device_ab_cd_ef_01_23_45_used_bytes", "301.0"),
    ],
)
def test_templates_render_ha_units(key, expected):
    state = state_payload(make_summary(), DEVICES)
    assert render(by_key(configs())[key]["value_template"], state) == expected


@pytest.mark.parametrize("key", ["used_bytes", "cap_bytes", "percent", "pace", "last_success"])
def test_unknown_values_render_none(key):
    summary = make_unknown_summary("home")
    state = state_payload(summary, ())
    assert render(by_key(configs(summary, ()))[key]["value_template"], state) == "None"


def test_device_missing_from_state_renders_none():
    template = by_key(configs())["device_ab_cd_ef_01_23_45_used_bytes"]["value_template"]
    assert render(template, state_payload(make_summary(), ())) == "None"


def test_device_block_and_display_precision():
    used = by_key(configs())["used_bytes"]
    assert used["device"]["model"] == "xfinity"
    assert used["suggested_display_precision"] == 2
    unknown_provider = by_key(configs(make_unknown_summary("home"), ()))["used_bytes"]
    assert unknown_provider["device"]["model"] == "capwatch"


def test_custom_topics():
    topics = Topics(base="house/cap", discovery_prefix="ha", instance="pi-1")
    cfgs = discovery_configs(make_summary("Mum's flat"), (), topics)
    used = cfgs["ha/sensor/capwatch_mum_s_flat/used_bytes/config"]
    assert used["state_topic"] == "house/cap/mum_s_flat/state"
    assert used["availability"] == [{"topic": "house/cap/bridge/pi-1/availability"}]
    assert topics.ha_status == "ha/status"
    assert topics.instance_of("house/cap/bridge/pi-2/availability") == "pi-2"
    assert topics.instance_of("house/cap/bridge/availability") is None
    assert topics.instance_of("capwatch/bridge/pi-2/availability") is None
    assert topics.account_of_config("ha/sensor/capwatch_mum_s_flat/used_bytes/config") == (
        "mum_s_flat"
    )
    assert topics.account_of_config("ha/sensor/other_thing/used_bytes/config") is None
    assert topics.account_of_config("homeassistant/sensor/capwatch_x/used_bytes/config") is None


def test_availability_lists_every_instance_serving_the_account():
    topics = Topics(instance="b")
    cfgs = configs_with(DiscoveryOptions(instances=("c", "a")), topics)
    for payload in cfgs.values():
        assert payload["availability_mode"] == "any"
        assert payload["availability"] == [
            {"topic": f"capwatch/bridge/{name}/availability"} for name in ("a", "b", "c")
        ]
        assert "availability_topic" not in payload


def configs_with(options: DiscoveryOptions, topics: Topics = TOPICS) -> dict:
    return by_key(discovery_configs(make_summary(), DEVICES, topics, options))


@pytest.mark.parametrize("key", ["used_bytes", "device_ab_cd_ef_01_23_45_used_bytes"])
def test_cycle_usage_is_a_total_reset_at_the_cycle_start(key):
    payload = by_key(configs())[key]
    assert payload["state_class"] == "total"
    state = state_payload(make_summary(), DEVICES)
    assert render(payload["last_reset_value_template"], state) == "2026-11-01T00:00:00+00:00"


def test_only_totals_carry_a_last_reset():
    for key, payload in by_key(configs()).items():
        assert ("last_reset_value_template" in payload) == (
            payload.get("state_class") == "total"
        ), key


@pytest.mark.parametrize(
    ("key", "summary", "expected"),
    [
        ("consecutive_failures", make_summary(), "0"),
        ("consecutive_failures", make_summary(consecutive_failures=3), "3"),
        ("awaiting_figure", make_summary(), "0"),
        ("awaiting_figure", make_summary(note="new cycle"), "1"),
    ],
)
def test_integer_sensors_render_integers(key, summary, expected):
    template = by_key(configs(summary))[key]["value_template"]
    assert render(template, state_payload(summary, DEVICES)) == expected


def test_health_sensors_are_diagnostic():
    cfgs = by_key(configs())
    diagnostic = {k for k, p in cfgs.items() if p.get("entity_category") == "diagnostic"}
    assert diagnostic == {"status", "last_success", "consecutive_failures"}


def test_overage_cost_is_monetary_in_the_account_currency():
    cost = configs_with(DiscoveryOptions(currency="EUR"))["overage_cost"]
    assert cost["device_class"] == "monetary"
    assert cost["unit_of_measurement"] == "EUR"
    assert "state_class" not in cost  # HA allows only "total" for money: a forecast is not one
    assert by_key(configs())["overage_cost"]["unit_of_measurement"] == "$"


def test_device_links_to_the_account_page_when_base_url_is_set():
    used = configs_with(DiscoveryOptions(base_url="https://cap.example/"))["used_bytes"]
    assert used["device"]["configuration_url"] == "https://cap.example/accounts/home"
    assert "configuration_url" not in by_key(configs())["used_bytes"]["device"]
