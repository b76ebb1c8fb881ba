"""The household's router as this machine sees it, without sending anything.

``capwatch serve`` with no config counts only the machine it runs on; it says so, and names the
router a household would rather read: this machine's default gateway, taken from the kernel's
routing tables (``/proc/net/route`` and ``/proc/net/ipv6_route`` on Linux). Reading them sends no
packet: finding out what the router offers (SSDP, TR-064, ubus) is left to the interactive
``capwatch init`` that a person runs at home.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from pathlib import Path
from typing import Any

ROUTE_FILES = (Path("/proc/net/route"), Path("/proc/net/ipv6_route"))
RTF_GATEWAY = 0x0002


def gateways_from_route(text: str) -> list[str]:
    """IPv4 default gateways in ``/proc/net/route`` text (hex fields in host byte order)."""
    found: list[str] = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 8:
            continue
        iface, dest, gateway, flags, mask = fields[0], fields[1], fields[2], fields[3], fields[7]
        try:
            if int(dest, 16) or int(mask, 16) or not int(flags, 16) & RTF_GATEWAY:
                continue
            raw = int(gateway, 16)
        except ValueError:
            continue
        address = socket.inet_ntoa(struct.pack("=I", raw))
        if raw and f"{address} ({iface})" not in found:
            found.append(f"{address} ({iface})")
    return found


def gateways_from_ipv6_route(text: str) -> list[str]:
    """IPv6 default routers in ``/proc/net/ipv6_route`` text (::/0 with a next hop)."""
    found: list[str] = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 10 or fields[1] != "00" or int(fields[0], 16):
            continue
        try:
            hop = ipaddress.IPv6Address(bytes.fromhex(fields[4]))
        except ValueError:
            continue
        label = f"{hop} ({fields[9]})"
        if int(hop) and label not in found:
            found.append(label)
    return found


def default_gateways(files: tuple[Path, Path] = ROUTE_FILES) -> list[str]:
    """This machine's default gateways, IPv4 first, each as "address (interface)"; empty where
    the routing tables cannot be read (not Linux, or a container without them)."""
    out: list[str] = []
    for path, parse in zip(files, (gateways_from_route, gateways_from_ipv6_route), strict=True):
        try:
            out += parse(path.read_text(encoding="ascii", errors="replace"))
        except (OSError, ValueError):
            continue
    return out


def only_host_meter(settings: Any) -> bool:
    """True for the embedded defaults: no config file, only the host meter ``host``."""
    accounts = [(a.name, a.provider) for a in settings.accounts]
    return settings.source_path is None and accounts == [("host", "host")]


def only_this_machine_note(gateways: list[str]) -> str:
    """What status and the page say when the zero-config host meter is all there is."""
    text = (
        "no config file: account host counts this machine's own traffic only, not the household's"
    )
    if gateways:
        where = gateways[0].split(" (")[0]  # IPv4 first: the address people know their router by
        text += (
            f"; your router is probably {where} (this machine's default gateway): "
            "`capwatch init` can read its meter (UPnP, SNMP and others)"
        )
    else:
        text += "; `capwatch init` sets up your ISP or your router's meter"
    return text
