"""The ``nlbw`` device source: each LAN host's bytes from OpenWrt's nlbwmon, over ubus.

It logs in to rpcd like the openwrt provider (the same :class:`UbusSession`: ``session login``,
one re-login when the session expired) and runs, through rpcd's ``file exec``, the helper that
luci-app-nlbwmon installs and its ACL grants, as LuCI's own page does:

- ``/usr/libexec/nlbwmon-action periods``: ``{ "periods": [ "2026-11-01", ... ] }``, the start
  of each kept accounting period; the newest is the current one;
- ``/usr/libexec/nlbwmon-action download -f json -g mac,ip``: nlbw's table of the current
  period, ``{"columns": ["mac", "ip", "conns", "rx_bytes", ...], "data": [[...], ...]}``, one
  row per MAC and address.

The counters are the period's totals so far: the period's start is their run mark, so when the
period rolls over the new totals are counted from 0 (:mod:`capwatch.devices.polled`). A total
that went down within one period is nlbwmon restarting from its last saved database (after a
reboot, or with the database on tmpfs): those bytes were counted already, so the new total is
the baseline (``drop = "baseline"``) rather than counted again.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from capwatch import devices as dev
from capwatch.devices.polled import ClientReading, PolledSource
from capwatch.errors import BadResponse, InputError
from capwatch.providers._http import json_text
from capwatch.providers._isputil import to_int
from capwatch.providers.openwrt import UbusSession, ubus_where

if TYPE_CHECKING:
    import httpx

    from capwatch.config.devices import NlbwSettings

SOURCE = "nlbw"
ACTION = "/usr/libexec/nlbwmon-action"
DOWNLOAD = ["download", "-f", "json", "-g", "mac,ip"]
UNKNOWN_MAC = "00:00:00:00:00:00"
_PERIOD = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def exec_stdout(reply: Mapping[str, Any], where: str) -> str:
    """The stdout of an rpcd ``file exec`` reply (pure); a non-zero exit is a BadResponse."""
    code = reply.get("code")
    if code != 0:
        stderr = str(reply.get("stderr", "")).strip().splitlines()
        detail = f": {stderr[0][:200]}" if stderr else ""
        raise BadResponse(f"{where}: exited {code}{detail}", payload=dict(reply))
    stdout = reply.get("stdout", "")
    if not isinstance(stdout, str):
        raise BadResponse(f"{where}: no stdout text", payload=dict(reply))
    return stdout


def current_period(text: str, where: str) -> str | None:
    """The newest accounting period of a ``periods`` output (pure); None when none is kept."""
    doc = json_text(text, where)
    periods = doc.get("periods") if isinstance(doc, Mapping) else None
    if not isinstance(periods, list):
        raise BadResponse(f"{where}: no periods list", payload=doc)
    good = [p for p in periods if isinstance(p, str) and _PERIOD.match(p)]
    return max(good) if good else None


def parse_table(text: str, period: str | None, where: str) -> list[ClientReading]:
    """Per-host counters of nlbw's JSON table (pure): columns looked up by name, one reading
    per MAC and address, rx + tx bytes."""
    doc = json_text(text, where)
    columns = doc.get("columns") if isinstance(doc, Mapping) else None
    rows = doc.get("data") if isinstance(doc, Mapping) else None
    if not isinstance(columns, list) or not isinstance(rows, list):
        raise BadResponse(f"{where}: expected columns and data lists", payload=doc)
    index = {str(name): i for i, name in enumerate(columns)}
    missing = [c for c in ("mac", "ip", "rx_bytes", "tx_bytes") if c not in index]
    if missing:
        raise BadResponse(f"{where}: the table has no {', '.join(missing)} column", payload=doc)
    out: dict[str, ClientReading] = {}
    for i, row in enumerate(rows):
        place = f"{where} data[{i}]"
        if not isinstance(row, list) or len(row) < len(columns):
            raise BadResponse(f"{place}: expected a row of {len(columns)} values")
        try:
            address = dev.normalize_address(str(row[index["ip"]]), f"{place} ip")
            mac: str | None = dev.normalize_mac(str(row[index["mac"]]), f"{place} mac")
        except InputError as exc:
            raise BadResponse(str(exc)) from None
        if mac == UNKNOWN_MAC:  # nlbwmon knew no neighbour entry for the address
            mac = None
        value = sum(to_int(row[index[c]], f"{place} {c}") for c in ("rx_bytes", "tx_bytes"))
        client = f"{mac or 'ip'}/{address}"
        before = out.get(client)
        if before is not None:
            value += before.value
        out[client] = ClientReading(client, address, value, mac=mac, mark=period)
    return list(out.values())


class NlbwSource(PolledSource):
    """Reads nlbwmon's per-host totals through rpcd (see the module docstring)."""

    name: ClassVar[str] = SOURCE
    drop = "baseline"
    settings: NlbwSettings

    def __init__(self, settings: NlbwSettings, store: Any, **kw: Any) -> None:
        super().__init__(settings, store, **kw)
        self._client: httpx.AsyncClient | None = None
        self._session = UbusSession(
            settings.url,
            settings.user,
            settings.password,
            f"{SOURCE} {self.where}",
            f"the user's rpcd ACL must allow file exec of {ACTION}: install luci-app-nlbwmon",
        )

    @property
    def where(self) -> str:
        """``nlbw <router>[:<port>]``."""
        return ubus_where(SOURCE, self.settings.url).removeprefix(f"{SOURCE} ")

    async def _exec(self, params: list[str]) -> str:
        import httpx

        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.settings.timeout_s)
        where = f"{SOURCE} {self.where}: {ACTION} {params[0]}"
        try:
            reply = await self._session.call(
                self._client, "file", "exec", {"command": ACTION, "params": params}
            )
        except BadResponse as exc:
            if "ubus status 4 " in str(exc) or "ubus status 3 " in str(exc):
                raise BadResponse(f"{where}: not found (is luci-app-nlbwmon installed?)") from None
            raise
        return exec_stdout(reply, where)

    async def read(self) -> list[ClientReading]:
        """Log in (when needed) and read the current period and its per-host totals."""
        where = f"{SOURCE} {self.where}"
        period = current_period(await self._exec(["periods"]), f"{where}: periods")
        return parse_table(await self._exec(DOWNLOAD), period, f"{where}: download")

    async def close(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None
