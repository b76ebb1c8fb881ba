"""UniFi's daily per-client reports (``stat/report/daily.user``), for the days the session
counters of :mod:`capwatch.devices.unifi` could not see. Pure functions; the request is made
by the source.

Which days (:func:`days_to_fill`), all local days of the account, never today:

- the very first read of the source (no counters, no marker): the current cycle's days before
  it (from the newest stored cycle's first day; without a stored cycle, ``daily_reports_days``
  back; none when the cycle began today);
- after that: the whole days after the day of the last successful read (the marker) and before
  today's, on which nothing was read (capwatch down, the console unreachable);
- never more than ``daily_reports_days`` back;
- a source that counted before this marker existed (counters, no marker) fills nothing at its
  first read after the upgrade: the day of its last read is not known.

The day of a read is never filled (its counters count from that read on), and the store skips
any (device, day) that already has bytes of the source or of its report: backfill only.

A report row is stamped with the controller's local midnight of its day (``time``, ms), and
its day is the controller's calendar date: the date of that stamp in the controller's zone
(``timezone`` of ``stat/sysinfo``). It is stored as that date of the account (when the two
zones differ, the day's edges differ by their offset). Where the controller does not say its
zone, the day is the date of the instant twelve hours after the stamp in the account's zone:
the controller's own date as long as its zone is within 12 hours of the account's.

The first delta of a read after a gap holds the bytes of the gap too where the client's session
went on through it (same ``assoc_time``), or from the day its new session began:
:func:`trim_gap` takes the filled days' report bytes off that delta, so nothing is counted
twice (at worst a little less, where a report day also holds an earlier session's bytes).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from capwatch import devices as dev
from capwatch.devices.polled import ClientReading
from capwatch.errors import BadResponse, InputError
from capwatch.models import DeviceCounter, DeviceTraffic

MARKER = "#daily-report"
"""The ``device_counters`` client that holds the local day of the source's last read."""
MARKER_ADDRESS = "0.0.0.0"
PATH = "/stat/report/daily.user"
MAX_DAY_BYTES = 10**15
"""More than a client can move in a day (a petabyte): a reply saying so is a bad one."""

Report = dict[tuple[date, str], int]
"""Bytes per (local day, MAC)."""


def marker(day: date) -> DeviceCounter:
    """The state row saying ``day`` was read (stored with the read's counters)."""
    return DeviceCounter(MARKER, 0, day.isoformat(), MARKER_ADDRESS)


def last_read_day(previous: Mapping[str, DeviceCounter]) -> date | None:
    """The day of the last read, as the marker says (None without one)."""
    row = previous.get(MARKER)
    if row is None or row.mark is None:
        return None
    try:
        return date.fromisoformat(row.mark)
    except ValueError:
        return None


def days_to_fill(
    previous: Mapping[str, DeviceCounter],
    today: date,
    cycle_first: date | None,
    days_back: int,
) -> tuple[date, date] | None:
    """The first and last local day to fill from the report, or None (see the docstring)."""
    oldest = today - timedelta(days=days_back)
    last = last_read_day(previous)
    if last is not None:
        first = last + timedelta(days=1)
    elif any(k != MARKER for k in previous):
        return None  # counted before the marker existed: its last read day is not known
    else:
        first = cycle_first if cycle_first is not None else oldest
    first = max(first, oldest)
    end = today - timedelta(days=1)
    return (first, end) if first <= end else None


def request_body(first: date, last: date, tz: ZoneInfo) -> dict[str, Any]:
    """The POST body asking every client's rows of days ``first``..``last`` (a day's margin
    each side for the controller's zone; :func:`parse_report` keeps only the asked days)."""
    start = datetime.combine(first - timedelta(days=1), time(), tz).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=2), time(), tz).astimezone(UTC)
    return {
        "attrs": ["rx_bytes", "tx_bytes", "time"],
        "start": int(start.timestamp() * 1000),
        "end": int(end.timestamp() * 1000),
    }


def _number(value: Any, place: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadResponse(f"{place}: not a number ({value!r})")
    if not 0 <= value < MAX_DAY_BYTES:
        raise BadResponse(f"{place}: out of range ({value!r})")
    return float(value)


def controller_zone(reply: Any) -> ZoneInfo | None:
    """The controller's time zone of a ``stat/sysinfo`` reply, None where it does not say."""
    data = reply.get("data") if isinstance(reply, Mapping) else None
    row = data[0] if isinstance(data, list) and data else None
    name = row.get("timezone") if isinstance(row, Mapping) else None
    if not isinstance(name, str) or not name:
        return None
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        return None


def parse_report(
    reply: Any,
    tz: ZoneInfo,
    first: date,
    last: date,
    where: str,
    controller_tz: ZoneInfo | None = None,
) -> Report:
    """Bytes per (local day, MAC) of a ``daily.user`` reply within ``first``..``last`` (pure;
    ``rx_bytes`` + ``tx_bytes``, floats in real replies, rounded to whole bytes)."""
    data = reply.get("data") if isinstance(reply, Mapping) else None
    if not isinstance(data, list):
        raise BadResponse(f"{where}: daily.user: no data list", payload=reply)
    out: Report = {}
    for i, row in enumerate(data):
        place = f"{where}: daily.user data[{i}]"
        if not isinstance(row, Mapping):
            raise BadResponse(f"{place}: not an object")
        stamp = _number(row.get("time"), f"{place} time")
        who = row.get("user", row.get("oid"))
        try:
            mac = dev.normalize_mac(str(who or ""), f"{place} user")
        except InputError as exc:
            raise BadResponse(str(exc)) from None
        stamped = datetime.fromtimestamp(stamp / 1000, UTC)
        if controller_tz is not None:
            day = stamped.astimezone(controller_tz).date()
        else:
            day = (stamped + timedelta(hours=12)).astimezone(tz).date()
        if not first <= day <= last or not dev.is_usable_mac(mac):
            continue
        rx = _number(row.get("rx_bytes", 0), f"{place} rx_bytes")
        tx = _number(row.get("tx_bytes", 0), f"{place} tx_bytes")
        out[(day, mac)] = out.get((day, mac), 0) + round(rx + tx)
    return out


def trim_gap(
    previous: Mapping[str, DeviceCounter],
    readings: Sequence[ClientReading],
    traffic: list[DeviceTraffic],
    report: Report,
    tz: ZoneInfo,
) -> list[DeviceTraffic]:
    """The read's deltas less what the filled days' report already holds of them (pure)."""
    by_mac = {r.mac: r for r in readings if r.mac}
    out: list[DeviceTraffic] = []
    for item in traffic:
        reading = by_mac.get(item.mac) if item.mac else None
        if reading is None or reading.mac is None:
            out.append(item)
            continue
        before = previous.get(reading.client)
        since: date | None = None  # the session went on through the gap: all filled days
        if before is None or before.mark != reading.mark:
            if reading.mark is None or not reading.mark.isdigit():
                out.append(item)
                continue
            since = datetime.fromtimestamp(int(reading.mark), UTC).astimezone(tz).date()
        taken = sum(
            n
            for (day, mac), n in report.items()
            if mac == reading.mac and (since is None or day >= since)
        )
        left = max(item.bytes - taken, 0)
        if left:
            out.append(replace(item, bytes=left))
    return out
