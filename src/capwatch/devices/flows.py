"""Flow records to device bytes: decoding NetFlow v5/v9 and IPFIX, attributing to LAN devices.

Decoding is the ``netflow`` package's (bitkeks/python-netflow-v9-softflowd, MIT); this module
keeps the templates per exporter, holds back the few packets that arrive before their template,
and reads each record's addresses, MACs and byte count whatever the version calls them. Both
steps are pure (no sockets, no clock), tested on what Debian's softflowd really exports.

A flow counts for the LAN device at one end when the other end is outside the LAN (the part of
the traffic the household meter sees); flows within the LAN, and flows between two outside
addresses, count for nobody; so do flows to multicast, broadcast and link-local peers.
"""

from __future__ import annotations

import ipaddress
import logging
import struct
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_SRC = ("IPV4_SRC_ADDR", "IPV6_SRC_ADDR", "sourceIPv4Address", "sourceIPv6Address")
_DST = ("IPV4_DST_ADDR", "IPV6_DST_ADDR", "destinationIPv4Address", "destinationIPv6Address")
# v5 IN_OCTETS; v9 IN_BYTES (OUT_BYTES from egress-only exporters); IPFIX deltas, then totals.
_BYTES = (
    "IN_OCTETS",
    "IN_BYTES",
    "OUT_BYTES",
    "octetDeltaCount",
    "postOctetDeltaCount",
    "octetTotalCount",
)
# The MAC of the flow's source as seen entering, then leaving, the exporter; likewise the
# destination's (IPFIX names first, NetFlow v9's after).
_SRC_MAC = ("sourceMacAddress", "postSourceMacAddress", "IN_SRC_MAC", "OUT_SRC_MAC")
_DST_MAC = ("postDestinationMacAddress", "destinationMacAddress", "OUT_DST_MAC", "IN_DST_MAC")
BACKLOG = 64
"""Packets per exporter kept while their template has not arrived (exporters resend templates
every few packets, so these are decoded a moment later instead of being lost)."""


class FlowDecodeError(ValueError):
    """An export packet that is not NetFlow v5/v9 or IPFIX, or is malformed."""


@dataclass(frozen=True, slots=True)
class Flow:
    """One flow record: its two ends, their MACs where exported, and its byte count."""

    src: IPAddress
    dst: IPAddress
    bytes: int
    src_mac: str | None = None
    dst_mac: str | None = None


def _address(value: object) -> IPAddress | None:
    if isinstance(value, str | int | bytes) and not isinstance(value, bool):
        try:
            addr = ipaddress.ip_address(value)
        except ValueError:
            return None
        if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
            return addr.ipv4_mapped
        return addr
    return None


def _mac(value: object) -> str | None:
    if isinstance(value, bytes) and len(value) == 6:
        digits = value.hex()
    elif isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 48:
        digits = f"{value:012x}"
    else:
        return None
    if digits in ("000000000000", "ffffffffffff") or int(digits[:2], 16) & 1:
        return None
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def _first(data: Mapping[str, Any], names: Sequence[str]) -> object:
    for name in names:
        if name in data:
            return data[name]
    return None


def to_flow(data: Mapping[str, Any]) -> Flow | None:
    """The :class:`Flow` of one decoded record, or None when it has no addresses or bytes."""
    src, dst = _address(_first(data, _SRC)), _address(_first(data, _DST))
    count = _first(data, _BYTES)
    if src is None or dst is None or not isinstance(count, int) or count < 0:
        return None
    return Flow(src, dst, count, _mac(_first(data, _SRC_MAC)), _mac(_first(data, _DST_MAC)))


@dataclass
class FlowDecoder:
    """Decodes export packets, keeping each exporter's v9/IPFIX templates between packets."""

    _templates: dict[Any, dict[str, dict[int, Any]]] = field(default_factory=dict)
    _waiting: dict[Any, deque[bytes]] = field(default_factory=dict)

    def decode(self, data: bytes, exporter: Any = None) -> list[Flow]:
        """The flows in one packet from ``exporter`` (plus any held-back packets its templates
        now decode); FlowDecodeError for a packet that cannot be read."""
        version = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
        templates = self._templates.setdefault(exporter, {"netflow": {}, "ipfix": {}})
        try:
            packet, new_templates = _parse(data, version, templates)
        except _TemplateMissing:
            waiting = self._waiting.setdefault(exporter, deque(maxlen=BACKLOG))
            waiting.append(data)
            return []
        flows = _flows(packet)
        if new_templates and self._waiting.get(exporter):
            flows += self._retry(exporter, templates)
        return flows

    def _retry(self, exporter: Any, templates: dict[str, dict[int, Any]]) -> list[Flow]:
        waiting = self._waiting.pop(exporter)
        still: deque[bytes] = deque(maxlen=BACKLOG)
        flows: list[Flow] = []
        for held in waiting:
            try:
                packet, _ = _parse(held, int.from_bytes(held[:2], "big"), templates)
            except _TemplateMissing:
                still.append(held)
                continue
            except FlowDecodeError:
                continue
            flows += _flows(packet)
        if still:
            self._waiting[exporter] = still
        return flows

    def waiting(self) -> int:
        """How many packets wait for their template."""
        return sum(len(q) for q in self._waiting.values())


class _TemplateMissing(Exception):
    pass


def _parse(data: bytes, version: int | None, templates: dict[str, dict[int, Any]]) -> Any:
    """(decoded packet, whether it brought templates) through the ``netflow`` package."""
    from netflow.ipfix import IPFIXExportPacket, IPFIXTemplateNotRecognized
    from netflow.v5 import V5ExportPacket
    from netflow.v9 import V9ExportPacket, V9TemplateNotRecognized

    # The package's parse_packet() would first try the bytes as a hex dump; call the
    # version's class directly instead.
    try:
        if version == 5:
            return V5ExportPacket(data), False
        if version == 9:
            try:
                packet: Any = V9ExportPacket(data, templates["netflow"])
            except struct.error:
                # netflow 0.12.2 reads a record out of a data set's padding whenever the
                # padding is not shorter than 4 - length % 4 (softflowd's are, every few
                # packets). The failed try has learnt the packet's templates: cut each data
                # set to its whole records and read it again.
                packet = V9ExportPacket(
                    _unpadded_v9(data, templates["netflow"]), templates["netflow"]
                )
            return packet, bool(packet.contains_new_templates)
        if version == 10:
            packet = IPFIXExportPacket(data, templates["ipfix"])
            return packet, bool(packet.contains_new_templates)
    except (V9TemplateNotRecognized, IPFIXTemplateNotRecognized) as exc:
        raise _TemplateMissing from exc
    except Exception as exc:  # the decoder's own errors, struct.error, IndexError...
        raise FlowDecodeError(f"malformed NetFlow v{version} packet: {exc}") from exc
    raise FlowDecodeError(f"not NetFlow v5/v9 or IPFIX (version field {version})")


def _unpadded_v9(data: bytes, templates: Mapping[int, Any]) -> bytes:
    """The v9 packet ``data`` with each data set of a known template cut to whole records
    (the set framing only: 4-byte id and length; the records are left to the decoder)."""
    out = bytearray(data[:20])
    offset = 20
    while offset + 4 <= len(data):
        set_id, length = struct.unpack_from("!HH", data, offset)
        if length < 4:
            break
        body = data[offset + 4 : offset + length]
        fields = getattr(templates.get(set_id), "fields", None) if set_id >= 256 else None
        if fields:
            size = sum(f.field_length for f in fields)
            if size:
                body = body[: len(body) // size * size]
        out += struct.pack("!HH", set_id, len(body) + 4) + body
        offset += length
    return bytes(out)


def _flows(packet: Any) -> list[Flow]:
    out = []
    for record in packet.flows:
        flow = to_flow(getattr(record, "data", {}))
        if flow is not None:
            out.append(flow)
    return out


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """The LAN networks of the settings as ``ipaddress`` networks."""
    return tuple(ipaddress.ip_network(v, strict=False) for v in values)


def _stays_local(addr: IPAddress) -> bool:
    """Multicast, broadcast and link-local peers never leave the LAN (nor reach the meter)."""
    return (
        addr.is_multicast or addr.is_link_local or addr == ipaddress.IPv4Address("255.255.255.255")
    )


def attribute(flows: Iterable[Flow], lan: Sequence[IPNetwork]) -> dict[tuple[str, str | None], int]:
    """Bytes per (LAN address, MAC or None): each flow counts for its end inside the LAN when
    the other end is outside it."""

    def inside(addr: IPAddress) -> bool:
        return any(addr.version == net.version and addr in net for net in lan)

    totals: dict[tuple[str, str | None], int] = {}
    for flow in flows:
        src_in, dst_in = inside(flow.src), inside(flow.dst)
        if src_in == dst_in or _stays_local(flow.dst if src_in else flow.src):
            continue
        key = (str(flow.src), flow.src_mac) if src_in else (str(flow.dst), flow.dst_mac)
        totals[key] = totals.get(key, 0) + flow.bytes
    return totals
