"""Frozen value types shared by every layer.

Bytes inside, units at the edge: every quantity here is an integer number of bytes and every
instant an aware UTC ``datetime``. Conversion to GB/GiB and local time happens only when printing
or serialising.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from capwatch.models_plan import AllowanceSummary as AllowanceSummary
from capwatch.models_plan import AllowanceUsage as AllowanceUsage

# the plan's value types live beside these (re-exported here)
from capwatch.models_plan import BusyStretch as BusyStretch
from capwatch.models_plan import Topup as Topup


def utcnow() -> datetime:
    """Return the current instant as an aware UTC datetime."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Return ``value`` converted to UTC; naive datetimes are rejected."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} where an aware one is required")
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Cycle:
    """One billing cycle: ``start`` inclusive, ``end`` exclusive, both aware UTC."""

    start: datetime
    end: datetime

    def __contains__(self, instant: object) -> bool:
        return isinstance(instant, datetime) and self.start <= instant < self.end

    @property
    def length_seconds(self) -> float:
        """Length of the cycle in seconds."""
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True, slots=True)
class DeviceUsage:
    """Usage of one device (MAC or ISP device id) within a cycle."""

    device_id: str
    used_bytes: int
    name: str | None = None


@dataclass(frozen=True, slots=True)
class DeviceTraffic:
    """Bytes a device source counted for one LAN address (and MAC where the source knows it)."""

    address: str
    bytes: int
    mac: str | None = None


@dataclass(frozen=True, slots=True)
class DeviceCounter:
    """Where one client's cumulative byte counter on a polled device source stood.

    ``mark`` names the counter's run where the device says it (a UniFi session's start, an
    nlbwmon accounting period): a new mark is a new counter from 0.
    """

    client: str
    value: int
    mark: str | None
    address: str
    mac: str | None = None


@dataclass(frozen=True, slots=True)
class Device:
    """A device as people know it: a MAC (or an address where no MAC is known) and its name.

    ``key`` is ``mac:<aa:bb:cc:dd:ee:ff>``, ``ip:<address>``, or ``isp:<id>`` for a device an
    ISP reports by an id that is not a usable MAC; ``addresses`` are the IPv4 and
    IPv6 addresses folded onto it, ``vendor`` the MAC's OUI registrant.
    """

    account: str
    key: str
    mac: str | None
    name: str | None
    vendor: str | None
    first_seen: datetime
    last_seen: datetime
    addresses: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """The user's name for it, else its MAC, else its address."""
        return self.name or self.mac or self.key.removeprefix("ip:").removeprefix("isp:")


@dataclass(frozen=True, slots=True)
class DeviceDay:
    """Bytes of one device on one local day of its account, from one source."""

    key: str
    day: date
    source: str
    bytes: int


@dataclass(frozen=True, slots=True)
class CycleTotal:
    """An earlier (or the current) cycle as an ISP reports it in its history."""

    start: datetime
    end: datetime
    used_bytes: int
    cap_bytes: int | None
    devices: tuple[DeviceUsage, ...] = ()


@dataclass(frozen=True, slots=True)
class Overage:
    """Overage and courtesy fields as an ISP reports them (Xfinity's names, normalised)."""

    blocks_used: float | None = None
    cost_per_block: float | None = None
    bytes_per_block: int | None = None
    max_charge: float | None = None
    charges: float | None = None
    in_paid_overage: bool | None = None
    courtesy_used: int | None = None
    courtesy_remaining: int | None = None
    courtesy_allowed: int | None = None


@dataclass(frozen=True, slots=True)
class CounterSample:
    """One raw interface counter read off a counter source (host, vnStat, SNMP).

    ``key`` names the counter (``"eth0:rx"``); ``width`` is 32 or 64 bits (0 when the counter
    never wraps, as vnStat's totals); ``epoch`` changes when the counter's origin changes
    (boot time, sysUpTime going back, a vnStat database reset) so that a restart is told apart
    from a wrap. ``max_rate_bps`` is the fastest this counter can move (a router's link rate, in
    bits per second), when the source knows it; ``uptime_s`` is how long the counter's origin
    (the router) had been up when it was read, so that a restart between two polls is told from
    a wrap without an epoch that jitters (UPnP gateways report seconds of uptime).
    """

    key: str
    value: int
    width: int = 64
    epoch: str = ""
    max_rate_bps: float | None = None
    uptime_s: float | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What one provider fetch returns.

    Meter sources (an ISP) set ``used_bytes``: the usage so far in the cycle that holds
    ``observed_at``. Counter sources set ``counters`` instead and leave ``used_bytes`` None; the
    coordinator turns counters into cycle usage.
    """

    observed_at: datetime
    source: str
    used_bytes: int | None = None
    cap_bytes: int | None = None
    unlimited: bool = False
    cycle_start: datetime | None = None
    cycle_end: datetime | None = None
    units: str | None = None
    devices: tuple[DeviceUsage, ...] = ()
    history: tuple[CycleTotal, ...] = ()
    counters: tuple[CounterSample, ...] = ()
    overage: Overage | None = None
    raw: Mapping[str, Any] | None = None
    lines: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Reading:
    """One stored observation of an account's usage in a cycle."""

    account: str
    observed_at: datetime
    cycle_start: datetime
    used_bytes: int
    cap_bytes: int | None
    source: str


class PollOutcome(StrEnum):
    """How a poll ended; the error classes of :mod:`capwatch.errors` map onto these."""

    OK = "ok"
    AUTH = "auth"
    CONNECT = "connect"
    SERVER = "server"
    BAD_RESPONSE = "bad_response"
    RATE_LIMITED = "rate_limited"
    CONFIG = "config"
    STORE = "store"
    INTERNAL = "internal"


@dataclass(frozen=True, slots=True)
class PollLogEntry:
    """One line of the poll log."""

    account: str
    started_at: datetime
    duration_s: float
    outcome: PollOutcome
    error_class: str | None = None
    message: str | None = None
    reading_stored: bool = False


class AccountStatus(StrEnum):
    """Health of an account as shown on the status page and exported."""

    OK = "ok"
    STALE = "stale"
    AUTH_REQUIRED = "auth-required"
    FAILING = "failing"
    NEW = "new"


@dataclass(frozen=True, slots=True)
class RegimeShift:
    """A lasting change in the daily rate that the forecast follows: from local day ``since`` on,
    usage runs at ``ratio`` times what it did before (``before_bytes_per_day`` against
    ``after_bytes_per_day``, weekday-normalised); ``against`` is what "before" means: ``"cycle"``
    (this cycle's days before the change) or ``"usual"`` (the household's earlier cycles, when
    the change came too early in the cycle to compare with its own days).
    """

    since: date
    ratio: float
    before_bytes_per_day: int
    after_bytes_per_day: int
    against: str = "cycle"


@dataclass(frozen=True, slots=True)
class Forecast:
    """Where the cycle is expected to end, with an interval (80% by default), and the change of
    regime it followed, if one was detected."""

    expected_bytes: int
    low_bytes: int
    high_bytes: int
    level: float = 0.8
    method: str = ""
    shift: RegimeShift | None = None


def fresh_since(
    last_reading_at: datetime | None, last_success_at: datetime | None, waiting: bool
) -> datetime | None:
    """When an account's numbers were last confirmed: its newest reading, or, while a new cycle
    waits for the source's first figure, the last successful poll (which found none yet: the
    figure it has is still the newest there is, so it is not stale).
    """
    newer = last_reading_at is None or (last_success_at or last_reading_at) > last_reading_at
    if waiting and last_success_at is not None and newer:
        return last_success_at
    return last_reading_at


@dataclass(frozen=True, slots=True)
class CycleSummary:
    """The numbers people act on, for one account at one instant.

    Built by :func:`capwatch.analysis.summary.summarize`; read by the CLI, reports, charts, the
    web pages and every exporter.
    """

    account: str
    cycle: Cycle
    as_of: datetime
    used_bytes: int | None
    cap_bytes: int | None
    forecast: Forecast | None
    daily_allowance_bytes: int | None
    days_left: float
    pace: float | None
    overage_cost: float | None
    last_reading_at: datetime | None
    status: AccountStatus
    last_error: str | None = None
    consecutive_failures: int = 0
    last_success_at: datetime | None = None
    provider: str | None = None
    unlimited: bool = False
    """The plan has no cap (``cap_bytes`` None without this means the cap is not known yet)."""
    note: str | None = None
    """A plain line on the account's state, e.g. "new cycle: waiting for the ISP's first figure"."""
    allowances: tuple[AllowanceSummary, ...] = ()
    """The plan's allowances (empty for a plan that is ``cap`` alone)."""

    @property
    def fresh_at(self) -> datetime | None:
        """When the numbers were last confirmed (see :func:`fresh_since`); for staleness."""
        return fresh_since(self.last_reading_at, self.last_success_at, self.note is not None)

    @property
    def reading_age_s(self) -> float | None:
        """Seconds from the last reading to ``as_of``; None before the first reading."""
        if self.last_reading_at is None:
            return None
        return (self.as_of - self.last_reading_at).total_seconds()

    @property
    def remaining_bytes(self) -> int | None:
        """Bytes left under the cap (never negative); None when unlimited or unknown."""
        if self.cap_bytes is None or self.used_bytes is None:
            return None
        return max(self.cap_bytes - self.used_bytes, 0)

    @property
    def percent(self) -> float | None:
        """Share of the cap used, in percent; None when unlimited or unknown."""
        if not self.cap_bytes or self.used_bytes is None:
            return None
        return 100.0 * self.used_bytes / self.cap_bytes


@dataclass(frozen=True, slots=True)
class CounterState:
    """Where a raw counter stood at the last poll, and what it has added to the current cycle."""

    key: str
    last_value: int
    width: int
    epoch: str
    observed_at: datetime
    cycle_start: datetime
    cycle_bytes: int


@dataclass(frozen=True, slots=True)
class AlertState:
    """Latched state of one alert rule level for one account (persisted in the store)."""

    account: str
    rule: str
    level: str
    cycle_start: datetime
    active: bool
    fired_at: datetime | None
    resolved_at: datetime | None
    last_value: float | None = None
    message: str | None = None


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """A transition worth telling the user about: an alert fired or resolved."""

    account: str
    rule: str
    level: str
    kind: str  # "fired" | "resolved"
    at: datetime
    message: str
    value: float | None = None


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A notification waiting to be sent (or sent); ``key`` makes sends idempotent."""

    key: str
    kind: str
    account: str | None
    payload: Mapping[str, Any]
    created_at: datetime
    attempts: int = 0
    sent_at: datetime | None = None
    last_error: str | None = None
