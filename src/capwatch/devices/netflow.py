"""The ``netflow`` device source: a NetFlow v5/v9 and IPFIX collector inside `capwatch serve`.

It listens on UDP (``127.0.0.1:2055`` unless configured), decodes what a router exports
(:mod:`capwatch.devices.flows`), adds each LAN device's bytes to a pending tally and writes the
tally to the store every ``flush_interval_s`` and at shutdown, one transaction each. A write
that fails keeps its tally for the next one, so a byte counted is stored once: a restart loses
only what arrived in the seconds since the last write when the process is killed outright
(SIGKILL, power cut); SIGTERM flushes first.

Bytes are counted on the account's local day the export arrived on: exporters send a flow
within their active timeout (softflowd: 30 min by default), so a long flow crossing midnight
may land on the next day. The same bytes are also kept by when they passed: each flow's spread
evenly over its own start and end, per quarter hour (:func:`~capwatch.analysis.windows.
spread_over_slots`), written in the same transaction; that is what splits an ISP's total across
a plan's windows. A flow without usable times is put at its export time (or its arrival).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from capwatch.analysis.windows import spread_over_slots
from capwatch.devices.flows import FlowDecodeError, FlowDecoder, counted, parse_networks
from capwatch.models import DeviceTraffic, utcnow

if TYPE_CHECKING:
    from capwatch.config.devices import NetflowSettings
    from capwatch.store.api import Store

log = logging.getLogger(__name__)

SOURCE = "netflow"


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, collector: NetflowCollector) -> None:
        self._collector = collector

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        self._collector.feed(data, addr[0])


class NetflowCollector:
    """Receives flow exports and stores per-device bytes (see the module docstring)."""

    name = SOURCE

    def __init__(
        self,
        settings: NetflowSettings,
        store: Store,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self._lan = parse_networks(settings.lan)
        self._decoder = FlowDecoder()
        self._pending: dict[tuple[str, str | None], int] = {}
        self._pending_slots: dict[datetime, int] = {}
        self._transport: asyncio.DatagramTransport | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._flush_lock = asyncio.Lock()
        self._bad_from: set[str] = set()
        self.packets = 0
        self.bad_packets = 0
        self.stored_bytes = 0

    @property
    def port(self) -> int:
        """The UDP port listened on (the configured one, or the one picked for port 0)."""
        if self._transport is None:
            return self.settings.port
        return int(self._transport.get_extra_info("sockname")[1])

    async def start(self) -> None:
        """Bind the UDP socket and start the periodic flush."""
        loop = asyncio.get_running_loop()
        host, port = self.settings.host, self.settings.port
        try:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Protocol(self), local_addr=(host.strip("[]"), port)
            )
        except OSError as exc:
            raise OSError(f"device_sources netflow: cannot listen on {host}:{port}: {exc}") from exc
        self._transport = transport
        self._flusher = asyncio.create_task(self._flush_loop())
        log.info(
            "netflow collector for %s listening on %s:%d", self.settings.account, host, self.port
        )

    async def stop(self) -> None:
        """Stop listening and write what was counted."""
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None
        await self.flush()

    def feed(self, data: bytes, exporter: str) -> None:
        """Count the devices' bytes in one export packet from ``exporter``."""
        self.packets += 1
        try:
            flows = self._decoder.decode(data, exporter)
        except FlowDecodeError as exc:
            self.bad_packets += 1
            level = logging.DEBUG if exporter in self._bad_from else logging.WARNING
            self._bad_from.add(exporter)
            log.log(level, "netflow: packet from %s ignored: %s", exporter, exc)
            return
        arrived: datetime | None = None
        for key, flow in counted(flows, self._lan):
            self._pending[key] = self._pending.get(key, 0) + flow.bytes
            start, end = flow.start, flow.end
            if start is None or end is None:
                arrived = arrived or self.clock()
                start = end = arrived
            for slot, part in spread_over_slots(flow.bytes, start, end).items():
                self._pending_slots[slot] = self._pending_slots.get(slot, 0) + part

    def pending_bytes(self) -> int:
        """Bytes counted and not yet stored."""
        return sum(self._pending.values())

    async def flush(self) -> int:
        """Write the pending tally to the store (kept for the next try if that fails)."""
        async with self._flush_lock:
            if not self._pending:
                return 0
            tally, self._pending = self._pending, {}
            slots, self._pending_slots = self._pending_slots, {}
            traffic = [DeviceTraffic(address=a, bytes=n, mac=m) for (a, m), n in tally.items()]
            try:
                stored = await asyncio.to_thread(
                    functools.partial(
                        self.store.add_device_traffic,
                        self.settings.account,
                        self.clock(),
                        SOURCE,
                        traffic,
                        slots=slots,
                    )
                )
            except Exception as exc:
                for key, n in tally.items():
                    self._pending[key] = self._pending.get(key, 0) + n
                for slot, n in slots.items():
                    self._pending_slots[slot] = self._pending_slots.get(slot, 0) + n
                log.warning("netflow: could not store device bytes (kept for later): %s", exc)
                return 0
            self.stored_bytes += stored
            return stored

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.flush_interval_s)
            await self.flush()
