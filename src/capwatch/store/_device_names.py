"""The devices as people know them: names given to them, the list of them, their days.

What device sources counted is written by :mod:`capwatch.store._devices`; this is the side the
views read and the rename on the page writes.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from capwatch import devices as dev
from capwatch.errors import InputError
from capwatch.models import Device, DeviceDay
from capwatch.store import schema as s
from capwatch.store._base import StoreBase, label


class DeviceNamesMixin(StoreBase):
    """Names, the device list and per-day bytes of an account's devices."""

    def rename_device(self, account: str, key: str, name: str | None) -> bool:
        """Give device ``key`` (or a MAC or address of it) a name, or clear it with None;
        False if the account has no such device."""
        place = f"rename device of {account!r}"
        if name is not None:
            label(name, f"{place}: name", 200)
            name = name.strip()
        with self._write() as conn:
            aid, _ = self._account(conn, account, place)
            found = self._find_key(conn, aid, key)
            if found is None:
                return False
            d = s.devices
            conn.execute(
                update(d).where(d.c.account_id == aid, d.c.device_key == found).values(name=name)
            )
            return True

    @staticmethod
    def _find_key(conn: Connection, aid: int, ref: str) -> str | None:
        """The key of the device ``ref`` names: its key, MAC or one of its addresses."""
        d, a = s.devices, s.device_addresses
        candidates = [ref]
        for normal in (dev.normalize_mac, dev.normalize_address):
            try:
                value = normal(ref)
            except InputError:
                continue
            candidates += [dev.mac_key(value), value] if normal is dev.normalize_mac else [value]
        for cand in candidates:
            hit = conn.scalar(
                select(d.c.device_key).where(d.c.account_id == aid, d.c.device_key == cand)
            )
            if hit is None:
                hit = conn.scalar(
                    select(a.c.device_key).where(a.c.account_id == aid, a.c.address == cand)
                )
            if hit is not None:
                return str(hit)
        return None

    def device_list(self, account: str) -> list[Device]:
        """Every device seen on the account, with its addresses, most recently seen first."""
        d, a, acc = s.devices, s.device_addresses, s.accounts
        with self._read() as conn:
            aid = conn.scalar(select(acc.c.id).where(acc.c.name == account))
            if aid is None:
                return []
            addresses: dict[str, list[str]] = {}
            for row in conn.execute(
                select(a.c.device_key, a.c.address)
                .where(a.c.account_id == aid)
                .order_by(a.c.last_seen.desc(), a.c.address)
            ):
                addresses.setdefault(row.device_key, []).append(row.address)
            rows = conn.execute(
                select(d)
                .where(d.c.account_id == aid)
                .order_by(d.c.last_seen.desc(), d.c.device_key)
            ).all()
        return [
            Device(
                account=account,
                key=r.device_key,
                mac=r.mac,
                name=r.name,
                vendor=r.vendor,
                first_seen=r.first_seen,
                last_seen=r.last_seen,
                addresses=tuple(addresses.get(r.device_key, ())),
            )
            for r in rows
        ]

    def device_days(
        self, account: str, start: date | None = None, end: date | None = None
    ) -> list[DeviceDay]:
        """Per-device per-day bytes of the account within local days [start, end), by day."""
        t, acc = s.device_days, s.accounts
        query = (
            select(t.c.device_key, t.c.day, t.c.source, t.c.bytes)
            .join(acc, acc.c.id == t.c.account_id)
            .where(acc.c.name == account)
        )
        if start is not None:
            query = query.where(t.c.day >= start)
        if end is not None:
            query = query.where(t.c.day < end)
        query = query.order_by(t.c.day, t.c.device_key, t.c.source)
        with self._read() as conn:
            return [
                DeviceDay(r.device_key, r.day, r.source, int(r.bytes)) for r in conn.execute(query)
            ]
