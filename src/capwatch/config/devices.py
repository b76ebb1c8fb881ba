"""Settings of the device sources (``[[device_sources]]``) and the names given to devices."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import Field, field_validator

from capwatch.config._base import Port, _Model
from capwatch.secrets import Secret

# The address ranges a household's own devices use by default: RFC 1918, IPv6 unique-local
# and link-local.
DEFAULT_LAN = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fe80::/10"]


class NetflowSettings(_Model):
    """A NetFlow v5/v9 and IPFIX collector in `capwatch serve`: LAN devices' bytes from flows."""

    kind: Literal["netflow"] = Field(description='The device source: "netflow".')
    account: str = Field(description="The account (household meter) the devices belong to.")
    host: str = Field(default="127.0.0.1", description="Address to receive flow exports on.")
    port: Port = Field(default=2055, description="UDP port to receive flow exports on.")
    lan: list[str] = Field(
        default_factory=lambda: list(DEFAULT_LAN),
        description="Networks (CIDR) of the household's own devices: a flow between one of "
        "them and any other address counts for that device; flows within them are local and "
        "count for nobody.",
    )
    flush_interval_s: float = Field(
        default=10.0,
        gt=0,
        le=3600,
        description="How often what was counted is written to the store (and at shutdown).",
    )

    @field_validator("lan")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        out = []
        for net in value:
            try:
                out.append(str(ipaddress.ip_network(net.strip(), strict=False)))
            except ValueError as exc:
                raise ValueError(f"not a network: {net!r}") from exc
        if not out:
            raise ValueError("at least one network is needed")
        return out


class _PolledSettings(_Model):
    """What every polled device source (it reads per-client byte counters) has."""

    account: str = Field(description="The account (household meter) the devices belong to.")
    user: str = Field(description="The user to log in as.")
    password: Secret = Field(
        description='The password, by reference: `{env = "..."}`, `{file = "..."}`, '
        '`{command = "..."}`, `{keyring = "..."}` (or a literal string).'
    )
    interval_s: float = Field(
        default=300.0,
        ge=10,
        le=86400,
        description="How often the counters are read (seconds).",
    )
    timeout_s: float = Field(
        default=30.0, gt=0, le=300, description="How long one read may take (seconds)."
    )


class UnifiSettings(_PolledSettings):
    """A UniFi Network application (UniFi OS or classic controller): clients' session bytes."""

    kind: Literal["unifi"] = Field(description='The device source: "unifi".')
    host: str = Field(description="The console's or controller's host name or address.")
    port: Port = Field(
        default=443,
        description="HTTPS port: 443 on a UniFi OS console (UDM, UCG, Cloud Key Gen2+), 8443 "
        "on a classic self-hosted controller.",
    )
    site: str = Field(default="default", description="The UniFi site's short name.")
    verify_tls: bool = Field(
        default=False,
        description="Check the console's TLS certificate (most consoles have a self-signed one).",
    )
    daily_reports: bool = Field(
        default=True,
        description="Fill the days the counters could not see (before the first read, whole "
        "days without a read) from the controller's daily per-client report.",
    )
    daily_reports_days: int = Field(
        default=31,
        ge=1,
        le=366,
        description="How many days back at most the daily report fills.",
    )

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        value = value.strip()
        if not value or "/" in value or " " in value:
            raise ValueError(f"must be a host name or address, not a URL (got {value!r})")
        return value


class NlbwSettings(_PolledSettings):
    """OpenWrt's nlbwmon through rpcd's ``/ubus``: each host's bytes of the accounting period."""

    kind: Literal["nlbw"] = Field(description='The device source: "nlbw".')
    url: str = Field(
        default="http://openwrt.lan/ubus",
        description="The router's ubus endpoint (uhttpd-mod-ubus): `http://<router>/ubus`.",
    )
    user: str = Field(default="root", description="The rpcd user to log in as.")

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must be an http:// or https:// URL (got {value!r})")
        return value.rstrip("/")


DeviceSourceSettings = Annotated[
    NetflowSettings | UnifiSettings | NlbwSettings, Field(discriminator="kind")
]
