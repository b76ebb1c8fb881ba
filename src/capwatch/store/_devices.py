"""Devices and their per-day bytes: what device sources (a flow collector, a router) counted.

Each :meth:`DevicesMixin.add_device_traffic` call is one transaction that adds the counted bytes
to ``device_days`` (the account's local day of the observation), so what was stored is never
counted again nor lost across a restart. A polled source (UniFi, nlbwmon) passes the counter
state its deltas came from with them (``counters``), written in that same transaction; a state
not read again for :data:`COUNTER_KEEP` is forgotten.

An ISP that reports usage per device of its own (Xfinity's ``devices[]``: per gateway, a figure
for the cycle so far) is written by :func:`add_isp_device_days` in the poll's transaction: the
growth of that figure since what is stored for the cycle lands on the reading's local day, under
the source ``isp:<provider source>`` (:data:`ISP_SOURCE_PREFIX`), keyed by the MAC where the id is
a usable one, else ``isp:<id>``. A figure lower than what is stored (the ISP revised it down)
changes nothing: the stored days stay as they were.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Connection

from capwatch import devices as dev
from capwatch.errors import InputError
from capwatch.models import DeviceCounter, DeviceTraffic, DeviceUsage
from capwatch.store import schema as s
from capwatch.store._base import MAX_BIGINT, StoreBase, byte_count, insert, label, utc
from capwatch.store._plan import add_flow_slots

COUNTER_KEEP = timedelta(days=40)
"""How long a client's counter state is kept after its last read (a period and some)."""

ISP_SOURCE_PREFIX = "isp:"
"""The source of device days an ISP reported (per gateway), not a LAN source's count."""


def isp_device_key(device_id: str) -> tuple[str, str | None]:
    """(device key, MAC) of an ISP's device id: its MAC's key where it is a usable MAC."""
    try:
        mac = dev.normalize_mac(device_id)
    except InputError:
        mac = None
    if mac is not None and dev.is_usable_mac(mac):
        return dev.mac_key(mac), mac
    return f"{ISP_SOURCE_PREFIX}{device_id.strip()}"[:64], None


def add_isp_device_days(
    conn: Connection,
    aid: int,
    tz: ZoneInfo,
    cycle: tuple[datetime, datetime | None],
    when: datetime,
    source: str,
    devices: Sequence[DeviceUsage],
) -> None:
    """Add the growth of each ISP device's cycle figure to its day (see the module docstring)."""
    start, end = cycle
    first = start.astimezone(tz).date()
    day = when.astimezone(tz).date()
    if end is not None:  # right after a rollover the ISP still reports the closed cycle
        day = min(day, (end - timedelta(microseconds=1)).astimezone(tz).date())
    day = max(day, first)
    src = f"{ISP_SOURCE_PREFIX}{source}"[:64]
    t = s.device_days
    for item in devices:
        key, mac = isp_device_key(item.device_id)
        stored = conn.scalar(
            select(func.coalesce(func.sum(t.c.bytes), 0)).where(
                t.c.account_id == aid,
                t.c.device_key == key,
                t.c.source == src,
                t.c.day >= first,
                t.c.day <= day,
            )
        )
        DevicesMixin._see_device(conn, aid, key, mac, None, when)
        grown = item.used_bytes - int(stored or 0)
        if grown > 0:
            DevicesMixin._add_day(conn, aid, key, day, src, grown, when)


def _resolve(
    conn: Connection, aid: int, item: DeviceTraffic, place: str
) -> tuple[str, str | None, str]:
    """(device key, MAC, address) of one traffic item, reusing the device its address has."""
    if not isinstance(item, DeviceTraffic):
        raise InputError(f"{place}: expected a DeviceTraffic, got {type(item).__name__}")
    address = dev.normalize_address(item.address, f"{place}: address")
    mac = dev.normalize_mac(item.mac, f"{place}: mac") if item.mac else None
    if mac is not None and not dev.is_usable_mac(mac):
        mac = None
    if mac is not None:
        return dev.mac_key(mac), mac, address
    t = s.device_addresses
    known = conn.scalar(select(t.c.device_key).where(t.c.account_id == aid, t.c.address == address))
    return (known or dev.address_key(address)), None, address


class DevicesMixin(StoreBase):
    """Writes and reads of devices, their addresses and per-day bytes."""

    def add_device_traffic(
        self,
        account: str,
        observed_at: datetime,
        source: str,
        traffic: Sequence[DeviceTraffic],
        *,
        counter_scope: str | None = None,
        counters: Sequence[DeviceCounter] = (),
        slots: Mapping[datetime, int] | None = None,
        report_source: str | None = None,
        report: Sequence[tuple[date, str, int]] = (),
    ) -> int:
        """Add what ``source`` counted to each device's local day, and store the counter state
        of ``counter_scope`` it came from and a flow source's bytes per quarter hour
        (``slots``) in the same transaction; returns the bytes stored.

        ``report`` is a device's own per-day figures, (local day, MAC, bytes), for days the
        counters could not see: each is written under ``report_source`` in the same transaction,
        except on a (device, day) that already has bytes of ``source`` or ``report_source``
        (backfill only: a day is never counted twice)."""
        place = f"device traffic of {account!r}"
        when = utc(observed_at, f"{place}: observed_at")
        label(source, f"{place}: source", 64)
        if counter_scope is not None:
            label(counter_scope, f"{place}: counter scope", 200)
        totals: dict[str, int] = {}
        filled = 0
        with self._write() as conn:
            aid, tz = self._account(conn, account, place)
            day = when.astimezone(tz).date()
            for i, item in enumerate(traffic):
                where = f"{place}[{i}]"
                counted = byte_count(item.bytes, f"{where}: bytes") or 0
                key, mac, address = _resolve(conn, aid, item, where)
                self._see_device(conn, aid, key, mac, address, when)
                totals[key] = totals.get(key, 0) + counted
            for key, counted in totals.items():
                if counted > MAX_BIGINT:
                    raise InputError(f"{place}: {key}: byte count {counted} is too large")
                self._add_day(conn, aid, key, day, source, counted, when)
            if counter_scope is not None:
                self._save_counters(conn, aid, counter_scope, counters, when, place)
            if slots:
                add_flow_slots(conn, aid, source, slots, place)
            if report_source is not None:
                label(report_source, f"{place}: report source", 64)
                filled = self._add_report(conn, aid, (source, report_source), report, when, place)
        return sum(totals.values()) + filled

    @staticmethod
    def _add_report(
        conn: Connection,
        aid: int,
        sources: tuple[str, str],
        report: Sequence[tuple[date, str, int]],
        when: datetime,
        place: str,
    ) -> int:
        t = s.device_days
        filled = 0
        for i, (day, mac_text, counted) in enumerate(report):
            where = f"{place}: report[{i}]"
            mac = dev.normalize_mac(mac_text, f"{where}: mac")
            value = byte_count(counted, f"{where}: bytes") or 0
            if not isinstance(day, date) or not dev.is_usable_mac(mac) or value <= 0:
                continue
            key = dev.mac_key(mac)
            taken = conn.scalar(
                select(func.count()).where(
                    t.c.account_id == aid,
                    t.c.device_key == key,
                    t.c.day == day,
                    t.c.source.in_(sources),
                )
            )
            if taken:
                continue
            DevicesMixin._see_device(conn, aid, key, mac, None, when)
            DevicesMixin._add_day(conn, aid, key, day, sources[1], value, when)
            filled += value
        return filled

    def device_report_context(self, account: str) -> tuple[ZoneInfo, date | None]:
        """The account's time zone and the local first day of its newest stored cycle."""
        c = s.cycles
        with self._read() as conn:
            aid = self._account_id(conn, account)
            if aid is None:
                return ZoneInfo("UTC"), None
            _, tz = self._account(conn, account, f"device report of {account!r}")
            start = conn.scalar(select(func.max(c.c.cycle_start)).where(c.c.account_id == aid))
        return tz, (utc(start, "cycle_start").astimezone(tz).date() if start else None)

    @staticmethod
    def _save_counters(
        conn: Connection,
        aid: int,
        scope: str,
        counters: Sequence[DeviceCounter],
        when: datetime,
        place: str,
    ) -> None:
        t = s.device_counters
        for i, c in enumerate(counters):
            where = f"{place}: counter[{i}]"
            if not isinstance(c, DeviceCounter):
                raise InputError(f"{where}: expected a DeviceCounter, got {type(c).__name__}")
            label(c.client, f"{where}: client", 64)
            value = byte_count(c.value, f"{where}: value") or 0
            address = dev.normalize_address(c.address, f"{where}: address")
            mac = dev.normalize_mac(c.mac, f"{where}: mac") if c.mac else None
            if c.mark is not None:
                label(c.mark, f"{where}: mark", 64)
            row = {"value": value, "mark": c.mark, "address": address, "mac": mac}
            stmt = insert(conn, t).values(
                account_id=aid, scope=scope, client=c.client, observed_at=when, **row
            )
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[t.c.account_id, t.c.scope, t.c.client],
                    set_={**row, "observed_at": when},
                )
            )
        conn.execute(
            delete(t).where(
                t.c.account_id == aid, t.c.scope == scope, t.c.observed_at < when - COUNTER_KEEP
            )
        )

    def device_counters(self, account: str, scope: str) -> dict[str, DeviceCounter]:
        """The counter state a polled source ``scope`` stored last, by client."""
        t, acc = s.device_counters, s.accounts
        query = (
            select(t)
            .join(acc, acc.c.id == t.c.account_id)
            .where(acc.c.name == account, t.c.scope == scope)
        )
        with self._read() as conn:
            return {
                r.client: DeviceCounter(r.client, int(r.value), r.mark, r.address, r.mac)
                for r in conn.execute(query)
            }

    @staticmethod
    def _see_device(
        conn: Connection, aid: int, key: str, mac: str | None, address: str | None, when: datetime
    ) -> None:
        d = s.devices
        row = {
            "account_id": aid,
            "device_key": key,
            "mac": mac,
            "name": None,
            "vendor": dev.vendor(mac) if mac else None,
            "first_seen": when,
            "last_seen": when,
        }
        stmt = insert(conn, d).values(row)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[d.c.account_id, d.c.device_key],
                set_={"last_seen": when},
                where=d.c.last_seen < when,
            )
        )
        if address is None:
            return
        a = s.device_addresses
        stmt = insert(conn, a).values(
            account_id=aid, address=address, device_key=key, last_seen=when
        )
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[a.c.account_id, a.c.address],
                set_={"device_key": key, "last_seen": when},
                where=a.c.last_seen <= when,
            )
        )

    @staticmethod
    def _add_day(
        conn: Connection,
        aid: int,
        key: str,
        day: date,
        source: str,
        counted: int,
        when: datetime,
    ) -> None:
        t = s.device_days
        stmt = insert(conn, t).values(
            account_id=aid,
            device_key=key,
            day=day,
            source=source,
            bytes=counted,
            last_observed_at=when,
        )
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[t.c.account_id, t.c.device_key, t.c.day, t.c.source],
                set_={"bytes": t.c.bytes + stmt.excluded.bytes, "last_observed_at": when},
            )
        )
