"""Input checks and row <-> model conversions for the store's tables."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import case
from sqlalchemy.engine import Connection

from capwatch.errors import InputError
from capwatch.models import (
    AlertState,
    CounterState,
    CycleTotal,
    DeviceUsage,
    OutboxItem,
    PollLogEntry,
    PollOutcome,
    Reading,
)
from capwatch.store import schema as s
from capwatch.store._base import byte_count, insert, label, utc
from capwatch.store.api import CycleRecord, DailyUsage, PollRecord

MAX_TEXT = 2000
"""Longest poll-log message or outbox error kept."""


def bytes_field(value: object, place: str, *, nullable: bool = False) -> int | None:
    """A checked byte count (see :func:`capwatch.store._base.byte_count`)."""
    return byte_count(value, place, nullable=nullable)


def canonical_json(value: Any, place: str) -> str:
    """Canonical JSON text (sorted keys, no spaces) of ``value``; InputError if impossible."""
    try:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
        )
    except (TypeError, ValueError) as exc:
        raise InputError(f"{place}: not JSON-serialisable ({exc})") from exc


def clip(text: str | None) -> str | None:
    """Text cut to :data:`MAX_TEXT` characters."""
    return None if text is None else str(text)[:MAX_TEXT]


class PollExtras(NamedTuple):
    """Checked parts of a :class:`PollRecord` besides its reading."""

    history: list[tuple[CycleTotal, datetime, datetime]]
    counter_states: list[CounterState]


def check_poll_extras(record: PollRecord) -> PollExtras:
    """Validate the history, counters, devices and log of a poll before any write."""
    history = []
    for i, total in enumerate(record.history, start=1):
        place = f"poll history item {i}"
        start, end = utc(total.start, f"{place}: start"), utc(total.end, f"{place}: end")
        bytes_field(total.used_bytes, f"{place}: used_bytes")
        bytes_field(total.cap_bytes, f"{place}: cap_bytes", nullable=True)
        check_devices(total.devices, place)
        history.append((total, start, end))
    states = []
    for st in record.counter_states:
        place = f"counter state {st.key!r}"
        label(st.key, place, 128)
        if isinstance(st.last_value, bool) or not 0 <= st.last_value < 1 << 64:
            raise InputError(f"{place}: last_value {st.last_value!r} is not an unsigned 64-bit")
        bytes_field(st.cycle_bytes, f"{place}: cycle_bytes")
        utc(st.observed_at, f"{place}: observed_at")
        utc(st.cycle_start, f"{place}: cycle_start")
        states.append(st)
    for key, value in record.raw_counters.items():
        label(key, "raw counter key", 128)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << 64:
            raise InputError(f"raw counter {key!r}: {value!r} is not an unsigned 64-bit")
    check_devices(record.devices, "poll devices")
    if record.log is not None:
        check_log(record.log, "poll log entry")
    return PollExtras(history, states)


def check_devices(devices: Sequence[DeviceUsage], place: str) -> None:
    """Validate device ids and byte counts."""
    for d in devices:
        label(d.device_id, f"{place}: device id", 128)
        bytes_field(d.used_bytes, f"{place}: device {d.device_id!r} used_bytes")


def check_log(entry: PollLogEntry, place: str) -> None:
    """Validate a poll log entry."""
    utc(entry.started_at, f"{place}: started_at")
    PollOutcome(entry.outcome)


# writes --------------------------------------------------------------------------------------
def insert_log(conn: Connection, account_id: int, entry: PollLogEntry) -> None:
    """Append one poll log line."""
    conn.execute(
        s.poll_log.insert().values(
            account_id=account_id,
            started_at=entry.started_at,
            duration_s=float(entry.duration_s),
            outcome=PollOutcome(entry.outcome).value,
            error_class=clip(entry.error_class),
            message=clip(entry.message),
            reading_stored=bool(entry.reading_stored),
        )
    )


def upsert_counter_states(
    conn: Connection, account_id: int, states: Sequence[CounterState]
) -> None:
    """Replace the stored state of each given counter (other counters are kept)."""
    params = {
        st.key: {
            "account_id": account_id,
            "key": st.key,
            "last_value": st.last_value,
            "width": int(st.width),
            "epoch": st.epoch,
            "observed_at": st.observed_at,
            "cycle_start": st.cycle_start,
            "cycle_bytes": st.cycle_bytes,
        }
        for st in states
    }
    if not params:
        return
    t = s.counter_states
    stmt = insert(conn, t)
    ex = stmt.excluded
    cols = ("last_value", "width", "epoch", "observed_at", "cycle_start", "cycle_bytes")
    stmt = stmt.on_conflict_do_update(
        index_elements=[t.c.account_id, t.c.key], set_={c: ex[c] for c in cols}
    )
    conn.execute(stmt, list(params.values()))


def insert_raw_counters(
    conn: Connection, account_id: int, observed_at: datetime, values: Mapping[str, int]
) -> None:
    """Keep the raw counter values of one poll (history for diagnosis and re-computation)."""
    if not values:
        return
    params = [
        {"account_id": account_id, "observed_at": observed_at, "key": k, "value": v}
        for k, v in values.items()
    ]
    conn.execute(insert(conn, s.raw_counters).on_conflict_do_nothing(), params)


def archive_payload(
    conn: Connection, account_id: int, seen_at: datetime, payload: Mapping[str, Any]
) -> str:
    """Keep a (secret-free) payload once per distinct content; returns its sha256."""
    body = canonical_json(payload, "poll payload")
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    t = s.payloads
    stmt = insert(conn, t).values(
        account_id=account_id,
        sha256=digest,
        first_seen=seen_at,
        last_seen=seen_at,
        times_seen=1,
        body=body,
    )
    ex = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=[t.c.account_id, t.c.sha256],
        set_={
            "times_seen": t.c.times_seen + 1,
            "first_seen": case(
                (ex.first_seen < t.c.first_seen, ex.first_seen), else_=t.c.first_seen
            ),
            "last_seen": case((ex.last_seen > t.c.last_seen, ex.last_seen), else_=t.c.last_seen),
        },
    )
    conn.execute(stmt)
    return digest


# rows -> models ------------------------------------------------------------------------------
def reading(account: str, row: Sequence[Any]) -> Reading:
    """A Reading from (observed_at, source, cycle_start, used_bytes, cap_bytes)."""
    observed_at, source, cycle_start, used, cap = row
    return Reading(
        account=account,
        observed_at=observed_at,
        cycle_start=cycle_start,
        used_bytes=int(used),
        cap_bytes=None if cap is None else int(cap),
        source=source,
    )


def daily(account: str, row: Any) -> DailyUsage:
    """A DailyUsage from a daily_usage row."""
    return DailyUsage(
        account=account,
        day=row.day,
        cycle_start=row.cycle_start,
        used_bytes=int(row.last_used_bytes),
        cap_bytes=None if row.cap_bytes is None else int(row.cap_bytes),
        last_observed_at=row.last_observed_at,
    )


def cycle(account: str, row: Any) -> CycleRecord:
    """A CycleRecord from a cycles row."""
    return CycleRecord(
        account=account,
        cycle_start=row.cycle_start,
        cycle_end=row.cycle_end,
        used_bytes=int(row.used_bytes),
        cap_bytes=None if row.cap_bytes is None else int(row.cap_bytes),
        readings=int(row.readings),
        first_observed_at=row.first_observed_at,
        last_observed_at=row.last_observed_at,
        source=row.source,
        from_history=bool(row.from_history),
    )


def counter_state(row: Any) -> CounterState:
    """A CounterState from a counter_states row."""
    return CounterState(
        key=row.key,
        last_value=int(row.last_value),
        width=int(row.width),
        epoch=row.epoch,
        observed_at=row.observed_at,
        cycle_start=row.cycle_start,
        cycle_bytes=int(row.cycle_bytes),
    )


def alert_state(account: str, row: Any) -> AlertState:
    """An AlertState from an alert_states row."""
    return AlertState(
        account=account,
        rule=row.rule,
        level=row.level,
        cycle_start=row.cycle_start,
        active=bool(row.active),
        fired_at=row.fired_at,
        resolved_at=row.resolved_at,
        last_value=row.last_value,
        message=row.message,
    )


def log_entry(account: str, row: Any) -> PollLogEntry:
    """A PollLogEntry from a poll_log row."""
    return PollLogEntry(
        account=account,
        started_at=row.started_at,
        duration_s=float(row.duration_s),
        outcome=PollOutcome(row.outcome),
        error_class=row.error_class,
        message=row.message,
        reading_stored=bool(row.reading_stored),
    )


def outbox_item(row: Any) -> OutboxItem:
    """An OutboxItem from an outbox row."""
    return OutboxItem(
        key=row.key,
        kind=row.kind,
        account=row.account,
        payload=json.loads(row.payload),
        created_at=row.created_at,
        attempts=int(row.attempts),
        sent_at=row.sent_at,
        last_error=row.last_error,
    )
