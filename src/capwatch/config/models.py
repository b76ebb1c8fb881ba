"""The top-level settings model; the section models live in account.py and services.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from capwatch import paths
from capwatch.config._base import ByteCount, Port, _Model, system_zone
from capwatch.config._errors import LocatedError
from capwatch.config.account import (
    COUNTER_DEFAULT_CAP,
    DEFAULT_POLL_INTERVAL_S,
    AccountSettings,
    AlertSettings,
    CycleSettings,
    OverageSettings,
)
from capwatch.config.devices import (
    DeviceSourceSettings,
    NetflowSettings,
    NlbwSettings,
    UnifiSettings,
)
from capwatch.config.services import (
    GraphiteSettings,
    InfluxSettings,
    MqttSettings,
    NotifyChannel,
    PrometheusSettings,
    ReportSettings,
    WebSettings,
)
from capwatch.errors import ConfigError

__all__ = [
    "AccountSettings",
    "AlertSettings",
    "ByteCount",
    "CycleSettings",
    "DeviceSourceSettings",
    "GraphiteSettings",
    "InfluxSettings",
    "MqttSettings",
    "NetflowSettings",
    "NlbwSettings",
    "NotifyChannel",
    "OverageSettings",
    "Port",
    "PrometheusSettings",
    "ReportSettings",
    "Settings",
    "UnifiSettings",
    "WebSettings",
    "default_account",
    "default_account_data",
    "system_zone",
]


def default_account() -> AccountSettings:
    """The account used when the config has none: this host's traffic against a 1 TB cap."""
    return AccountSettings(
        name="host",
        provider="host",
        cap_bytes=COUNTER_DEFAULT_CAP,
        cap_source="config",
        poll_interval_s=DEFAULT_POLL_INTERVAL_S,
    )


def default_account_data() -> dict[str, Any]:
    """The default account as config data (validated like a file's)."""
    return {"name": "host", "provider": "host", "cap": COUNTER_DEFAULT_CAP, "poll_interval": 60}


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class Settings(_Model):
    """Everything capwatch is configured with."""

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL (sqlite:///… or postgresql+psycopg://…); "
        "default: capwatch.db in data_dir.",
    )
    data_dir: Path = Field(
        default_factory=paths.data_dir,
        description="Directory for the database, login sessions and diagnostics.",
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description='Log format: "text" or "json" (one object per line).'
    )
    log_level: str = Field(default="INFO", description="Log level: DEBUG, INFO, WARNING, ERROR.")
    diagnostics_keep: int = Field(
        default=20, ge=0, description="How many diagnostic payloads to keep per account."
    )
    web: WebSettings = Field(default_factory=WebSettings, description="Dashboard and API.")
    notify: list[NotifyChannel] = Field(
        default_factory=list, description="Notification channels (`[[notify]]` tables)."
    )
    reports: ReportSettings = Field(
        default_factory=ReportSettings, description="Scheduled reports."
    )
    mqtt: MqttSettings | None = Field(default=None, description="MQTT / Home Assistant export.")
    graphite: GraphiteSettings | None = Field(default=None, description="Graphite export.")
    influxdb: InfluxSettings | None = Field(default=None, description="InfluxDB export.")
    prometheus: PrometheusSettings = Field(
        default_factory=PrometheusSettings, description="Prometheus metrics endpoint."
    )
    accounts: list[AccountSettings] = Field(
        default_factory=lambda: [default_account()],
        description="Metered accounts (`[[accounts]]` tables); default: one `host` account.",
    )
    device_sources: list[DeviceSourceSettings] = Field(
        default_factory=list,
        description="Sources of per-device usage (`[[device_sources]]` tables): a `netflow` "
        "collector, a `unifi` controller, OpenWrt's `nlbw`.",
    )
    device_names: dict[str, str] = Field(
        default_factory=dict,
        description='Names for devices, by MAC or address: `"aa:bb:cc:dd:ee:ff" = "Living-room '
        'TV"`; a name given with a rename wins.',
    )
    source_path: Path | None = Field(
        default=None, exclude=True, description="Where these settings were loaded from."
    )

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value.upper() not in _LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(_LOG_LEVELS)} (got {value!r})")
        return value.upper()

    @model_validator(mode="after")
    def _cross_checks(self) -> Settings:
        if not self.accounts:
            raise LocatedError(("accounts",), "at least one account is needed")
        seen: dict[str, int] = {}
        for i, acct in enumerate(self.accounts):
            if acct.name in seen:
                raise LocatedError(
                    ("accounts", i, "name"),
                    f"duplicate account name {acct.name!r} (also accounts[{seen[acct.name]}])",
                )
            seen[acct.name] = i
        for i, acct in enumerate(self.accounts):
            other = acct.reconcile_with
            if other is not None and (other not in seen or other == acct.name):
                raise LocatedError(
                    ("accounts", i, "reconcile_with"), f"no other account named {other!r}"
                )
        for i, src in enumerate(self.device_sources):
            if src.account not in seen:
                raise LocatedError(
                    ("device_sources", i, "account"), f"no account named {src.account!r}"
                )
        names: set[str] = set()
        for i, chan in enumerate(self.notify):
            if chan.name in names:
                raise LocatedError(("notify", i, "name"), f"duplicate channel {chan.name!r}")
            names.add(chan.name)
            for j, acct_name in enumerate(chan.accounts):
                if acct_name not in seen:
                    raise LocatedError(
                        ("notify", i, "accounts", j), f"no account named {acct_name!r}"
                    )
        return self

    def resolved_database_url(self) -> str:
        """The database URL: the configured one or SQLite in ``data_dir``."""
        return self.database_url or paths.default_database_url(self.data_dir)

    def account(self, name: str) -> AccountSettings:
        """The account called ``name`` (ConfigError if there is none)."""
        for acct in self.accounts:
            if acct.name == name:
                return acct
        known = ", ".join(a.name for a in self.accounts)
        raise ConfigError(f"unknown account {name!r} (configured: {known})")
