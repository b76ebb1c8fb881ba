"""Frozen value types of a plan's allowances (re-exported by :mod:`capwatch.models`).

Bytes are integers and instants aware UTC, as everywhere in the models.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class AllowanceUsage:
    """What counted against one allowance of a plan in a cycle, as of one poll (a counter
    source's bytes split across the allowance's windows)."""

    allowance: str
    observed_at: datetime
    cycle_start: datetime
    used_bytes: int


@dataclass(frozen=True, slots=True)
class Topup:
    """Data bought on top of an allowance: it adds to the allowance of the cycle it falls in."""

    account: str
    allowance: str
    at: datetime
    bytes: int
    note: str | None = None


@dataclass(frozen=True, slots=True)
class BusyStretch:
    """The stretch of the local day that counted most against an allowance this cycle outside
    its free window: minutes after midnight (``end_minute`` 1440 is midnight; below
    ``start_minute`` the stretch crosses midnight)."""

    start_minute: int
    end_minute: int
    bytes: int
    window_start_minute: int
    """When the free window opens, where the use could have gone."""


@dataclass(frozen=True, slots=True)
class AllowanceSummary:
    """Where one allowance of a plan stands (the plan's part of :class:`CycleSummary`).

    ``size_bytes`` is ``base_bytes`` plus what rolled over and the cycle's top-ups; ``used_bytes``
    is None when the split cannot be known (a plan with windows metered only by an ISP total),
    and ``note`` then says so.
    """

    name: str
    counts: str
    at_end: str
    base_bytes: int
    rollover_bytes: int
    topup_bytes: int
    used_bytes: int | None
    projected_bytes: int | None
    split_known: bool
    note: str | None = None
    windows: str = ""
    """The windows as written ("mon-sun 02:00-08:00"), empty when all traffic counts."""
    slowdown_mbps: float | None = None
    """The speed once a "slowdown" allowance runs out (None: not said, or another end)."""
    projected_low_bytes: int | None = None
    """The low end of the projection's interval (as the account's forecast has one)."""
    projected_high_bytes: int | None = None
    """The high end of the projection's interval."""
    overage_cost: float | None = None
    """What the projected use over the allowance costs, for an "overage" allowance with the
    account's overage terms (None without terms, or at another end)."""
    busiest: BusyStretch | None = None
    """For an allowance counting traffic outside a free window: the busiest stretch of the day
    outside it this cycle (None when it cannot be known or no stretch stands out)."""

    @property
    def size_bytes(self) -> int:
        """What this cycle allows: the base, what rolled over and the top-ups."""
        return self.base_bytes + self.rollover_bytes + self.topup_bytes

    @property
    def remaining_bytes(self) -> int | None:
        """Bytes left (never negative); None when the use is not known."""
        if self.used_bytes is None:
            return None
        return max(self.size_bytes - self.used_bytes, 0)
