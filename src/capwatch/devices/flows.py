"""Flow records to device bytes: decoding NetFlow v5/v9 and IPFIX, attributing to LAN devices.

Decoding is the ``netflow`` package's (bitkeks/python-netflow-v9-softflowd, MIT); this module
keeps the templates per exporter, holds back the few packets that arrive before their template,
and reads each record's addresses, MACs, byte count and times whatever the version calls them.
Both steps are pure (no sockets, no clock), tested on what Debian's softflowd really exports.

A flow's times are absolute UTC instants: NetFlow v5/v9 give FIRST_SWITCHED/LAST_SWITCHED in
milliseconds of the exporter's uptime, made absolute with the header's export time and uptime
(v9's header has whole seconds only, so its times are within a second); IPFIX gives
flowStart/EndMilliseconds or Seconds, or (softflowd's default) flowStart/EndSysUpTime counted
from the systemInitTimeMilliseconds its options record sends with the templates. Uptime offsets
are read modulo 2**32 as signed (a wrapped counter, or softflowd's flows from before its own
start). A record without times, or whose times are unusable, takes the packet's export time.

A flow counts for the LAN device at one end when the other end is outside the LAN (the part of
the traffic the household meter sees); flows within the LAN, and flows between two outside
addresses, count for nobody; so do flows to multicast, broadcast and link-local peers.
"""

from __future__ import annotations

import ipaddress
import logging
import struct
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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
    """One flow record: its two ends, their MACs where exported, its byte count and, where
    known, when its first and last packets passed (UTC)."""

    src: IPAddress
    dst: IPAddress
    bytes: int
    src_mac: str | None = None
    dst_mac: str | None = None
    start: datetime | None = None
    end: datetime | None = None


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


_WRAP = 1 << 32
MAX_FLOW_AGE = timedelta(days=8)
"""A flow said to start longer than this before its export is not believed (softflowd's
longest flow lives 7 days); it takes the export time instead."""


@dataclass(frozen=True, slots=True)
class TimeBase:
    """What makes one packet's record times absolute: its export time (ms since the epoch),
    the exporter's uptime then (v5/v9, ms) and its boot time (IPFIX options, ms since epoch)."""

    export_ms: int | None = None
    uptime_ms: int | None = None
    boot_ms: int | None = None

    def _instant(self, ms: int) -> datetime:
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)

    def _since_uptime(self, value: object) -> int | None:
        """Epoch ms of a v5/v9 uptime stamp: the export time less how long before it."""
        stamp = _uint(value)
        if stamp is None or self.export_ms is None or self.uptime_ms is None:
            return None
        before = (self.uptime_ms - stamp) % _WRAP
        before = before - _WRAP if before >= _WRAP // 2 else before
        return self.export_ms - before

    def _since_boot(self, value: object) -> int | None:
        """Epoch ms of an IPFIX sysUpTime stamp (ms since the exporter's init)."""
        stamp = _uint(value)
        if stamp is None or self.boot_ms is None:
            return None
        offset = stamp % _WRAP
        if self.export_ms is not None and self.boot_ms + offset > self.export_ms + _WRAP // 2:
            offset -= _WRAP  # a flow from before the exporter's (re)start
        return self.boot_ms + offset

    def times(self, data: Mapping[str, Any]) -> tuple[datetime | None, datetime | None]:
        """(start, end) of one record: its own times where usable, else the export time."""
        found: tuple[int | None, int | None] = (None, None)
        for start_key, end_key, reader in (
            ("flowStartMilliseconds", "flowEndMilliseconds", _ms),
            ("flowStartSeconds", "flowEndSeconds", _seconds),
            ("flowStartSysUpTime", "flowEndSysUpTime", self._since_boot),
            ("FIRST_SWITCHED", "LAST_SWITCHED", self._since_uptime),
        ):
            if start_key in data or end_key in data:
                found = reader(data.get(start_key)), reader(data.get(end_key))
                break
        first, last = found
        first = first if first is not None else last
        last = last if last is not None else first
        if first is None or last is None or last < first or not self._plausible(first, last):
            if self.export_ms is None:
                return None, None
            return self._instant(self.export_ms), self._instant(self.export_ms)
        return self._instant(first), self._instant(last)

    def _plausible(self, first: int, last: int) -> bool:
        if self.export_ms is None:
            return first > 0
        age_ms = MAX_FLOW_AGE // timedelta(milliseconds=1)
        return self.export_ms - age_ms <= first and last <= self.export_ms + 60_000


def _uint(value: object) -> int | None:
    """``value`` if it is a non-negative int (not a bool), else None."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _ms(value: object) -> int | None:
    return _uint(value)


def _seconds(value: object) -> int | None:
    stamp = _uint(value)
    return None if stamp is None else stamp * 1000


def to_flow(data: Mapping[str, Any], base: TimeBase | None = None) -> Flow | None:
    """The :class:`Flow` of one decoded record, or None when it has no addresses or bytes;
    ``base`` (the packet's) makes its times absolute."""
    src, dst = _address(_first(data, _SRC)), _address(_first(data, _DST))
    count = _first(data, _BYTES)
    if src is None or dst is None or not isinstance(count, int) or count < 0:
        return None
    start, end = (base or TimeBase()).times(data)
    return Flow(
        src,
        dst,
        count,
        _mac(_first(data, _SRC_MAC)),
        _mac(_first(data, _DST_MAC)),
        start,
        end,
    )


@dataclass
class FlowDecoder:
    """Decodes export packets, keeping each exporter's v9/IPFIX templates between packets."""

    _templates: dict[Any, dict[str, dict[int, Any]]] = field(default_factory=dict)
    _waiting: dict[Any, deque[bytes]] = field(default_factory=dict)
    _boot_ms: dict[Any, int] = field(default_factory=dict)

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
        flows = _flows(packet, self._boot_ms, exporter)
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
            flows += _flows(packet, self._boot_ms, exporter)
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


def _flows(packet: Any, boots: dict[Any, int], exporter: Any) -> list[Flow]:
    """The packet's flows, their times made absolute (an IPFIX options record with the
    exporter's systemInitTimeMilliseconds is remembered in ``boots`` for later packets)."""
    records = [getattr(record, "data", {}) for record in packet.flows]
    for data in records:
        boot = _uint(data.get("systemInitTimeMilliseconds"))
        if boot is not None:
            boots[exporter] = boot
    base = _time_base(packet.header, boots.get(exporter))
    return [flow for data in records if (flow := to_flow(data, base)) is not None]


def _time_base(header: Any, boot_ms: int | None) -> TimeBase:
    """The :class:`TimeBase` of a decoded packet's header (v5, v9 or IPFIX)."""
    version = getattr(header, "version", None)
    if version == 10:
        export = _seconds(getattr(header, "export_uptime", None))  # the package's Export Time
        return TimeBase(export, None, boot_ms)
    secs = _seconds(getattr(header, "timestamp", None))
    if secs is None:
        return TimeBase()
    nanos = _uint(getattr(header, "timestamp_nano", 0)) if version == 5 else 0
    return TimeBase(secs + (nanos or 0) // 1_000_000, _uint(getattr(header, "uptime", None)))


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    """The LAN networks of the settings as ``ipaddress`` networks."""
    return tuple(ipaddress.ip_network(v, strict=False) for v in values)


def _stays_local(addr: IPAddress) -> bool:
    """Multicast, broadcast and link-local peers never leave the LAN (nor reach the meter)."""
    return (
        addr.is_multicast or addr.is_link_local or addr == ipaddress.IPv4Address("255.255.255.255")
    )


def counted(
    flows: Iterable[Flow], lan: Sequence[IPNetwork]
) -> Iterator[tuple[tuple[str, str | None], Flow]]:
    """Each flow that counts, with its (LAN address, MAC or None): a flow counts for its end
    inside the LAN when the other end is outside it."""

    def inside(addr: IPAddress) -> bool:
        return any(addr.version == net.version and addr in net for net in lan)

    for flow in flows:
        src_in, dst_in = inside(flow.src), inside(flow.dst)
        if src_in == dst_in or _stays_local(flow.dst if src_in else flow.src):
            continue
        yield ((str(flow.src), flow.src_mac) if src_in else (str(flow.dst), flow.dst_mac)), flow


def attribute(flows: Iterable[Flow], lan: Sequence[IPNetwork]) -> dict[tuple[str, str | None], int]:
    """Bytes per (LAN address, MAC or None) of the flows that count (:func:`counted`)."""
    totals: dict[tuple[str, str | None], int] = {}
    for key, flow in counted(flows, lan):
        totals[key] = totals.get(key, 0) + flow.bytes
    return totals
