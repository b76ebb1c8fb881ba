"""The store's interface, which every consumer codes against.

The implementation (SQLAlchemy Core, SQLite or PostgreSQL) lives in :mod:`capwatch.store.sql`;
:func:`capwatch.store.open_store` returns one. Every method is synchronous and safe to call from
several threads; each write method is one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from capwatch.models import (
    AlertState,
    AllowanceUsage,
    CounterState,
    CycleTotal,
    Device,
    DeviceCounter,
    DeviceDay,
    DeviceTraffic,
    DeviceUsage,
    OutboxItem,
    PollLogEntry,
    Reading,
    Topup,
)

CYCLE_RESOLUTION = timedelta(minutes=30)
"""How finely a cycle is read for summaries, burndowns and charts (``Store.readings(every=)``).

The forecast was developed on two-hourly meter readings; half-hourly keeps more than it uses and
bounds the work: a month of one-minute host polls reads as 1,488 readings, not 44,640."""


ROLLUPS = ("hour", "day")
"""The rollups of readings the store keeps: the last reading of each UTC hour and of each local
day of each cycle (see :meth:`Store.rollup_readings`)."""


def thin_indices(count: int, limit: int) -> list[int]:
    """Which of ``count`` evenly spaced items to keep to show at most ``limit``: both ends kept."""
    if limit <= 0 or count <= limit:
        return list(range(count))
    if limit == 1:
        return [count - 1]
    step = (count - 1) / (limit - 1)
    return [round(i * step) for i in range(limit)]


@dataclass(frozen=True, slots=True)
class PollRecord:
    """Everything one successful poll writes, committed in a single transaction."""

    reading: Reading
    cycle_end: datetime | None = None
    """The end of the reading's cycle where known (the ISP's own, or the calendar's)."""
    counter_states: Sequence[CounterState] = ()
    raw_counters: Mapping[str, int] = field(default_factory=dict)
    devices: Sequence[DeviceUsage] = ()
    history: Sequence[CycleTotal] = ()
    payload: Mapping[str, Any] | None = None
    log: PollLogEntry | None = None
    allowance_usage: Sequence[AllowanceUsage] = ()
    """What counted against each windowed allowance of the plan, as of this poll."""


@dataclass(frozen=True, slots=True)
class DailyUsage:
    """Aggregate kept as readings arrive: the last reading of one local day of one cycle."""

    account: str
    day: date
    cycle_start: datetime
    used_bytes: int
    cap_bytes: int | None
    last_observed_at: datetime


@dataclass(frozen=True, slots=True)
class CycleRecord:
    """Aggregate of one cycle of one account: its final (or latest) usage."""

    account: str
    cycle_start: datetime
    cycle_end: datetime | None
    used_bytes: int
    cap_bytes: int | None
    readings: int
    first_observed_at: datetime | None
    last_observed_at: datetime | None
    source: str
    from_history: bool = False
    """The figure is the ISP's own total for the cycle (its history), not our last reading."""
    lower_bound: bool = False
    """The cycle ended long after its last reading (capwatch was down across the boundary):
    its figure is at least what was used, not the final total (set by the read side)."""


LOWER_BOUND_GAP = timedelta(hours=12)
"""A closed cycle whose last reading came more than this before its end has a lower bound."""


def is_lower_bound(record: CycleRecord, end: datetime | None) -> bool:
    """Whether ``record``'s figure is only a lower bound of the cycle ending at ``end``."""
    if record.from_history or end is None or record.last_observed_at is None:
        return False
    return record.last_observed_at < end - LOWER_BOUND_GAP


@dataclass(frozen=True, slots=True)
class StoredPayload:
    """One distinct provider payload kept for diagnosis, with how often it was seen."""

    account: str
    sha256: str
    first_seen: datetime
    last_seen: datetime
    times_seen: int
    body: str


class Store(Protocol):
    """What capwatch keeps: readings, counters, devices, payloads, alert state, poll log."""

    url_display: str
    """The database URL with any password masked, for messages."""

    dialect: str
    """``sqlite`` or ``postgresql``."""

    read_only_reason: str | None
    """Why a reading command got a read-only view (the disk is full), else None."""

    def close(self) -> None:
        """Release connections."""

    # accounts -----------------------------------------------------------------------------
    def ensure_account(self, name: str, provider: str, timezone: str) -> None:
        """Create the account row if missing, or update its provider and time zone."""

    def account_names(self) -> list[str]:
        """Every account ever stored, sorted."""

    # readings -----------------------------------------------------------------------------
    def record_poll(self, record: PollRecord) -> bool:
        """Store a reading and what came with it; False if that reading was already stored."""

    def add_readings(self, readings: Iterable[Reading]) -> int:
        """Store many readings in one transaction (imports); returns how many were new."""

    def readings(
        self,
        account: str,
        start: datetime | None = None,
        end: datetime | None = None,
        *,
        cycle_start: datetime | None = None,
        limit: int | None = None,
        every: timedelta | None = None,
    ) -> list[Reading]:
        """Readings of an account, ascending by time, within [start, end).

        ``every`` thins them to the newest reading of each such span (the newest overall kept).
        """

    def rollup_readings(
        self,
        account: str,
        start: datetime | None,
        end: datetime | None,
        points: int,
        rollup: str | None = None,
    ) -> list[Reading]:
        """A long range of readings in at most ``points``, read from a rollup, not the readings.

        The series is the last reading of each bucket (``rollup``: ``hour`` or ``day``; by
        default ``hour`` when the range holds at most 4 x ``points`` hours, else ``day``) of each
        cycle whose last reading lies in [start, end), with the range's first and last readings,
        ascending, then thinned like :func:`thin_indices`. Every item is a stored reading.
        """

    def latest_reading(self, account: str) -> Reading | None:
        """The newest reading of an account."""

    def iter_readings(self, account: str | None = None) -> Iterator[Reading]:
        """Every reading (of one account or all), ascending; streams for exports."""

    def daily_usage(self, account: str, cycle_start: datetime) -> list[DailyUsage]:
        """The per-day aggregate of one cycle, ascending."""

    def cycles(self, account: str, limit: int | None = None) -> list[CycleRecord]:
        """Cycle aggregates of an account, newest first."""

    # counters -----------------------------------------------------------------------------
    def counter_states(self, account: str) -> dict[str, CounterState]:
        """Where each raw counter of a counter source stood at the last poll."""

    # devices ------------------------------------------------------------------------------
    def devices(self, account: str, cycle_start: datetime) -> list[DeviceUsage]:
        """Latest per-device usage of a cycle, largest first."""

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
        (``slots``) in the same transaction; returns the bytes stored."""

    def device_report_context(self, account: str) -> tuple[ZoneInfo, date | None]:
        """The account's time zone and the local first day of its newest stored cycle."""

    def device_counters(self, account: str, scope: str) -> dict[str, DeviceCounter]:
        """The counter state a polled source ``scope`` stored last, by client."""

    def rename_device(self, account: str, key: str, name: str | None) -> bool:
        """Name device ``key`` (or a MAC or address of it); False if there is no such device."""

    def device_list(self, account: str) -> list[Device]:
        """Every device seen on the account, with its addresses, most recently seen first."""

    def device_days(
        self, account: str, start: date | None = None, end: date | None = None
    ) -> list[DeviceDay]:
        """Per-device per-day bytes of the account within local days [start, end), by day."""

    # plan ---------------------------------------------------------------------------------
    def allowance_usage(
        self, account: str, cycle_start: datetime
    ) -> dict[str, list[AllowanceUsage]]:
        """Per allowance, its figures in the cycle starting at ``cycle_start``, ascending."""

    def allowance_cycle_totals(
        self, account: str, cycle_start: datetime | None = None
    ) -> dict[str, dict[datetime, int]]:
        """Per allowance, the last figure of each stored cycle (for rollover), or of the one
        starting at ``cycle_start`` (what a poll adds to). The figures only grow in a cycle."""

    def flow_slots(self, account: str, start: datetime, end: datetime) -> dict[datetime, int]:
        """Flow bytes per quarter hour in [start, end), every flow source's together."""

    def add_topup(self, topup: Topup) -> None:
        """Record a top-up (bytes bought on top of an allowance)."""

    def topups(self, account: str) -> list[Topup]:
        """Every top-up of an account, oldest first."""

    # alerts -------------------------------------------------------------------------------
    def alert_states(self, account: str) -> dict[tuple[str, str], AlertState]:
        """Latched alert states of an account keyed by (rule, level)."""

    def save_alert_states(self, states: Iterable[AlertState]) -> None:
        """Upsert alert states."""

    # poll log -----------------------------------------------------------------------------
    def log_poll(self, entry: PollLogEntry, payload: Mapping[str, Any] | None = None) -> None:
        """Append one poll log line (failures; successes come with record_poll), archiving the
        (secret-free) payload of a refused answer with it."""

    def poll_log(self, account: str | None = None, limit: int = 50) -> list[PollLogEntry]:
        """Newest poll log lines first."""

    # outbox (notifications) ---------------------------------------------------------------
    def outbox_add(self, item: OutboxItem) -> bool:
        """Queue a notification; False if its key is already queued or sent."""

    def outbox_pending(self, limit: int = 50) -> list[OutboxItem]:
        """Unsent notifications, oldest first."""

    def outbox_mark(self, key: str, *, sent: bool, error: str | None = None) -> None:
        """Record a send attempt: sent, or failed with a (secret-free) error."""

    # coordination -------------------------------------------------------------------------
    def serve_lock(self) -> AbstractContextManager[None]:
        """Be the only daemon on an SQLite store (StoreError naming the other's PID)."""

    def account_lock(self, account: str) -> AbstractContextManager[bool]:
        """Try to take the account's poll lock (advisory on PostgreSQL); yields True if taken."""

    def integrity_check(self) -> str:
        """``ok`` or the database's own complaint."""

    # upkeep (appended by the store) -------------------------------------------------------
    def payloads(self, account: str, limit: int = 20) -> list[StoredPayload]:
        """Archived payloads of an account (deduplicated by sha256), most recently seen first."""

    def prune(self, before: datetime) -> int:
        """Delete poll log lines, raw counters and sent notifications older than ``before``."""
