"""Devices as people know them: keys, MAC and address normalising, vendors from the OUI.

A device is keyed ``mac:<aa:bb:cc:dd:ee:ff>`` where its MAC is known, else ``ip:<address>``.
The vendor comes from the IEEE OUI registry that netaddr ships (no download at run time).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Mapping

from capwatch.errors import InputError
from capwatch.models import Device

_MAC_HEX = re.compile(r"^[0-9a-f]{12}$")


def normalize_mac(value: str, place: str = "mac") -> str:
    """``value`` as lower-case ``aa:bb:cc:dd:ee:ff`` (colons, dashes, dots or none accepted)."""
    digits = re.sub(r"[:\-.]", "", value.strip().lower())
    if not _MAC_HEX.match(digits):
        raise InputError(f"{place}: not a MAC address: {value!r}")
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def is_usable_mac(mac: str) -> bool:
    """False for the all-zero, broadcast and multicast MACs no single device owns."""
    first = int(mac[:2], 16)
    return mac not in ("00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff") and not first & 1


def normalize_address(value: str, place: str = "address") -> str:
    """``value`` as the canonical text of an IPv4 or IPv6 address (IPv4-mapped unwrapped)."""
    try:
        addr = ipaddress.ip_address(value.strip())
    except ValueError as exc:
        raise InputError(f"{place}: not an IP address: {value!r}") from exc
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return str(addr.ipv4_mapped)
    return str(addr)


def mac_key(mac: str) -> str:
    """The device key of a (normalised) MAC."""
    return f"mac:{mac}"


def address_key(address: str) -> str:
    """The device key of a device known only by its (normalised) address."""
    return f"ip:{address}"


@functools.lru_cache(maxsize=4096)
def vendor(mac: str) -> str | None:
    """The organisation the MAC's OUI is registered to, or None (unknown or locally
    administered)."""
    if int(mac[:2], 16) & 2:  # locally administered (randomised phone MACs): no registrant
        return None
    try:
        import netaddr
    except ImportError:  # pragma: no cover - netaddr is a dependency
        return None
    try:
        org = netaddr.EUI(mac).oui.registration().org
    except (netaddr.NotRegisteredError, netaddr.AddrFormatError, IndexError):
        return None
    return str(org).strip() or None


def display_name(device: Device, names: Mapping[str, str]) -> str:
    """The name to show: a rename's, else the config's (by MAC, key or any address), else
    the device's MAC or address."""
    if device.name:
        return device.name
    wanted = {_name_key(k): v for k, v in names.items()}
    for ref in (device.mac, device.key, *device.addresses):
        if ref is not None and ref in wanted:
            return wanted[ref]
    return device.label


def _name_key(ref: str) -> str:
    """A config name's key as the store writes it (a normalised MAC or address, else as is)."""
    for normal in (normalize_mac, normalize_address):
        try:
            return normal(ref)
        except InputError:
            continue
    return ref.strip()
