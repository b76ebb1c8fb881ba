"""Typed settings from TOML + environment, validated once; secrets by reference.

Import the models, :func:`load_settings`, :func:`reference_markdown`, :func:`dump_toml` and
:func:`example_config` from here.
"""

from __future__ import annotations

from capwatch.config.docs import dump_toml, reference_markdown
from capwatch.config.example import example_config
from capwatch.config.loader import load_settings, validate_text
from capwatch.config.models import (
    AccountSettings,
    AlertSettings,
    CycleSettings,
    GraphiteSettings,
    InfluxSettings,
    MqttSettings,
    NotifyChannel,
    OverageSettings,
    PrometheusSettings,
    ReportSettings,
    Settings,
    WebSettings,
    default_account,
    system_zone,
)
from capwatch.secrets import Secret

__all__ = [
    "AccountSettings",
    "AlertSettings",
    "CycleSettings",
    "GraphiteSettings",
    "InfluxSettings",
    "MqttSettings",
    "NotifyChannel",
    "OverageSettings",
    "PrometheusSettings",
    "ReportSettings",
    "Secret",
    "Settings",
    "WebSettings",
    "default_account",
    "dump_toml",
    "example_config",
    "load_settings",
    "reference_markdown",
    "system_zone",
    "validate_text",
]
