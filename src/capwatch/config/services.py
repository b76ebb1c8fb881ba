"""Settings of the services around the accounts: web, notify, reports and exporters."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, field_validator, model_validator

from capwatch.config._base import Port, _Model
from capwatch.config._errors import LocatedError
from capwatch.secrets import Secret


def is_loopback(host: str) -> bool:
    """True for localhost names and loopback addresses (IPv4, IPv6, bracketed)."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class WebSettings(_Model):
    """The dashboard and JSON API server."""

    host: str = Field(default="127.0.0.1", description="Address to listen on.")
    port: Port = Field(default=8485, description="TCP port to listen on.")
    auth_token: Secret | None = Field(
        default=None, description="Bearer token the API and dashboard require (a secret)."
    )
    username: str | None = Field(default=None, description="HTTP Basic user name.")
    password: Secret | None = Field(default=None, description="HTTP Basic password (a secret).")
    base_url: str | None = Field(
        default=None, description="Public URL of the dashboard, for links in emails."
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="More host names the dashboard answers to (besides the bound address, "
        "localhost and base_url's host), e.g. a reverse proxy's name; requests naming any "
        "other Host are refused (DNS rebinding).",
    )

    def bind_allowed(self) -> bool:
        """Loopback binds are always allowed; any other needs a token or basic auth."""
        return is_loopback(self.host) or self.auth_token is not None or self.password is not None

    @model_validator(mode="after")
    def _auth_needed(self) -> WebSettings:
        if self.username is not None and not self.username.strip():
            raise LocatedError(("username",), "web.username must not be empty")
        if (self.username is None) != (self.password is None):
            raise LocatedError(
                ("password" if self.password is None else "username",),
                "web.username and web.password go together",
            )
        if not self.bind_allowed():
            raise LocatedError(
                ("host",),
                f"web.host is {self.host}: binding beyond this machine needs web.auth_token "
                "or web.username/web.password",
                names_place=True,
            )
        return self


NotifyKind = Literal["alerts", "weekly", "monthly"]
ALL_KINDS: tuple[NotifyKind, ...] = ("alerts", "weekly", "monthly")


class NotifyChannel(_Model):
    """One Apprise notification target."""

    name: str = Field(description="Name of the channel, for logs and `capwatch doctor`.")
    url: Secret = Field(description="Apprise URL (a secret: it may hold credentials).")
    kinds: list[NotifyKind] = Field(
        default_factory=lambda: list(ALL_KINDS),
        description='What to send: any of "alerts", "weekly", "monthly".',
    )
    accounts: list[str] = Field(
        default_factory=list, description="Accounts this channel covers; empty means all."
    )


class ReportSettings(_Model):
    """Scheduled status reports."""

    weekly_cron: str = Field(
        default="0 8 * * sun", description="When the weekly report goes out (cron, local time)."
    )
    monthly: bool = Field(default=True, description="Send a summary after each cycle ends.")
    monthly_delay_hours: float = Field(
        default=24, ge=0, description="Hours after the cycle's end to send the summary."
    )
    weekly: bool = Field(default=True, description="Send the weekly report.")

    @field_validator("weekly_cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        from croniter import croniter

        if not croniter.is_valid(value):
            raise ValueError(f"not a valid cron expression (got {value!r})")
        return value


class MqttSettings(_Model):
    """MQTT broker for Home Assistant discovery and state topics."""

    host: str = Field(description="Broker host name or address.")
    port: Port = Field(default=1883, description="Broker TCP port.")
    username: str | None = Field(default=None, description="Broker user name.")
    password: Secret | None = Field(default=None, description="Broker password (a secret).")
    tls: bool = Field(default=False, description="Connect with TLS.")
    ca_certs: str | None = Field(default=None, description="CA bundle file for TLS.")
    client_id: str | None = Field(
        default=None, description='MQTT client id (default: "capwatch-" and the instance).'
    )
    instance: str | None = Field(
        default=None,
        description="This instance's name on the broker, in its client id and its availability "
        "topic (base_topic/bridge/instance/availability); default: the host name and the web "
        'port ("pi-8485"), unique among running instances and stable across restarts.',
    )
    discovery_prefix: str = Field(
        default="homeassistant", description="Home Assistant discovery prefix."
    )
    base_topic: str = Field(default="capwatch", description="Prefix of capwatch's state topics.")
    homeassistant: bool = Field(default=True, description="Publish Home Assistant discovery.")


class GraphiteSettings(_Model):
    """Graphite (carbon plaintext) exporter."""

    host: str = Field(description="Carbon host name or address.")
    port: Port = Field(default=2003, description="Carbon plaintext TCP port.")
    prefix: str = Field(default="capwatch", description="Prefix of every metric path.")
    compat_names: bool = Field(
        default=False,
        description="Also send xfinity-usage's <prefix>.used_gb and <prefix>.total_gb.",
    )


class InfluxSettings(_Model):
    """InfluxDB exporter (1.x database or 2.x bucket)."""

    url: str = Field(description="Base URL of the InfluxDB HTTP API.")
    version: Literal[1, 2] = Field(default=1, description="InfluxDB API version: 1 or 2.")
    database: str | None = Field(default=None, description="Database (1.x).")
    retention_policy: str | None = Field(default=None, description="Retention policy (1.x).")
    username: str | None = Field(default=None, description="User name (1.x).")
    password: Secret | None = Field(default=None, description="Password (1.x, a secret).")
    org: str | None = Field(default=None, description="Organisation (2.x).")
    bucket: str | None = Field(default=None, description="Bucket (2.x).")
    token: Secret | None = Field(default=None, description="API token (2.x, a secret).")
    measurement: str = Field(default="capwatch", description="Measurement name.")

    @model_validator(mode="after")
    def _version_fields(self) -> InfluxSettings:
        if self.version == 1 and not self.database:
            raise LocatedError(("database",), "InfluxDB 1.x needs a database")
        if self.version == 2 and not (self.org and self.bucket):
            raise LocatedError(("bucket",), "InfluxDB 2.x needs org and bucket")
        return self


class PrometheusSettings(_Model):
    """Prometheus /metrics endpoint on the web server."""

    enabled: bool = Field(default=True, description="Serve /metrics.")
    process_metrics: bool = Field(
        default=True, description="Include the Python process and platform collectors."
    )
