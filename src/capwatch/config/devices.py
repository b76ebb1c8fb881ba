"""Settings of the device sources (``[[device_sources]]``) and the names given to devices."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, field_validator

from capwatch.config._base import Port, _Model

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


DeviceSourceSettings = NetflowSettings
