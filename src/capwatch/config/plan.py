"""A plan as ISPs sell it: allowances, free (or separately counted) windows, rollover.

An account with only ``cap`` has the simplest plan: one allowance counting all traffic, with
overage (or nothing) at its end; nothing here changes it. ``[[accounts.allowances]]`` adds named
allowances beside it, each counting all traffic or only the traffic outside (or inside) its
windows, in the account's time zone.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal

from pydantic import ConfigDict, Field, field_validator, model_validator

from capwatch.config._base import ByteCount, _Model
from capwatch.config._errors import LocatedError

if TYPE_CHECKING:
    from capwatch.analysis.plan import Rollover
    from capwatch.analysis.windows import Window

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})")


def parse_days(text: str) -> frozenset[int]:
    """``"mon-fri"``, ``"sat,sun"``, ``"fri-mon"`` (wrapping) -> weekday numbers (Mon = 0)."""
    days: set[int] = set()
    for part in text.lower().replace(" ", "").split(","):
        ends = part.split("-")
        if len(ends) > 2 or not all(e in DAY_NAMES for e in ends):
            raise ValueError(f'expected days like "mon-sun", "mon-fri" or "sat,sun" (got {text!r})')
        first, last = DAY_NAMES.index(ends[0]), DAY_NAMES.index(ends[-1])
        days.update((first + i) % 7 for i in range((last - first) % 7 + 1))
    return frozenset(days)


def parse_clock(text: str) -> int:
    """``"02:00"`` -> minutes after midnight (``"24:00"`` is 1440, the day's end)."""
    m = _CLOCK.fullmatch(text.strip())
    if m is None:
        raise ValueError(f'expected a time like "02:00" (got {text!r})')
    hours, minutes = int(m.group(1)), int(m.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise ValueError(f"no such time of day {text!r} (00:00 .. 24:00)")
    return hours * 60 + minutes


class WindowSettings(_Model):
    """A weekly window of wall-clock time in the account's zone (an item of `windows`); one whose `to` is before its `from` crosses midnight, and on the nights the clocks change it lasts what the wall clock says (02:00-08:00 is 5 real hours in spring, 7 in autumn)."""  # noqa: E501

    model_config = ConfigDict(extra="forbid", frozen=True, serialize_by_alias=True)

    days: str = Field(
        default="mon-sun",
        description='Days the window starts on: "mon-sun", "mon-fri", "sat,sun", "fri-mon".',
    )
    start: str = Field(
        json_schema_extra={"toml_key": "from"},
        alias="from",
        description='Wall-clock start, "HH:MM" in the account\'s zone.',
    )
    end: str = Field(
        json_schema_extra={"toml_key": "to"},
        alias="to",
        description='Wall-clock end, "HH:MM" ("24:00" is midnight); before `from` it is on '
        "the next day.",
    )

    @field_validator("days")
    @classmethod
    def _days(cls, value: str) -> str:
        parse_days(value)
        return value

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        parse_clock(value)
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> WindowSettings:
        if parse_clock(self.start) % 1440 == parse_clock(self.end) % 1440:
            raise LocatedError(("to",), f"the window {self.start}-{self.end} is empty")
        return self

    @property
    def weekdays(self) -> frozenset[int]:
        """Weekday numbers (Monday 0) the window starts on."""
        return parse_days(self.days)

    @property
    def start_minute(self) -> int:
        """Minutes after midnight the window opens."""
        return parse_clock(self.start)

    @property
    def end_minute(self) -> int:
        """Minutes after midnight the window closes (after ``start_minute`` once it crosses
        midnight: 06:00 after 22:00 is 1800)."""
        end = parse_clock(self.end)
        return end if end > self.start_minute else end + 1440

    def as_window(self) -> Window:
        """The window as the analysis takes it."""
        from capwatch.analysis.windows import Window

        return Window(self.weekdays, self.start_minute, self.end_minute)


class RolloverSettings(_Model):
    """What of an allowance left unused at a cycle's end carries into the following cycles."""

    limit: ByteCount | None = Field(
        default=None,
        description='Most carried over at any time ("50 GB"); default: the allowance\'s size.',
    )
    expires_after: int = Field(
        default=1,
        ge=1,
        description="Cycles a carried amount lasts: 1 = only the next cycle.",
    )
    share_percent: float = Field(
        default=100,
        gt=0,
        le=100,
        description="Part of what was left that carries over, in percent (A&A's quota bonus "
        "is 50).",
    )


class AllowanceSettings(_Model):
    """One allowance of a plan: a size, what counts against it, what happens at its end, and rollover; top-ups are recorded with `capwatch topup`."""  # noqa: E501

    name: str = Field(description='Short name ("anytime", "priority", "bonus-zone").')
    size: ByteCount = Field(description='Bytes in each cycle ("100 GB").')
    counts: Literal["all", "outside", "inside"] = Field(
        default="all",
        description='What counts against it: "all" traffic, only traffic "outside" its '
        'windows (a free night), or only "inside" them (a separately counted night).',
    )
    windows: list[WindowSettings] = Field(
        default_factory=list,
        description='Windows in the account\'s zone: `{days = "mon-sun", from = "02:00", '
        'to = "08:00"}`.',
    )
    at_end: Literal["overage", "hard-cap", "slowdown"] = Field(
        default="overage",
        description='When it runs out: "overage" (blocks as in [accounts.overage]), '
        '"hard-cap" (traffic stops) or "slowdown".',
    )
    slowdown_mbps: float | None = Field(
        default=None, gt=0, description='Speed after a "slowdown" allowance runs out, Mbit/s.'
    )
    rollover: RolloverSettings | None = Field(
        default=None, description="Carry unused allowance over (`[accounts.allowances.rollover]`)."
    )

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.fullmatch(value):
            raise ValueError(
                "must be lowercase letters, digits, '-' and '_', starting with a letter or "
                f"digit (got {value!r})"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> AllowanceSettings:
        if self.counts != "all" and not self.windows:
            raise LocatedError(("windows",), f'counts = "{self.counts}" needs at least one window')
        if self.counts == "all" and self.windows:
            raise LocatedError(
                ("counts",), 'windows are given: say whether "outside" or "inside" them counts'
            )
        if self.slowdown_mbps is not None and self.at_end != "slowdown":
            raise LocatedError(("slowdown_mbps",), 'only for at_end = "slowdown"')
        return self

    @property
    def windowed(self) -> bool:
        """Whether what counts depends on the time of day."""
        return self.counts != "all"

    def as_windows(self) -> list[Window]:
        """The allowance's windows as the analysis takes them."""
        return [w.as_window() for w in self.windows]

    def as_rollover(self) -> Rollover | None:
        """The rollover terms as the analysis takes them (None without rollover)."""
        from capwatch.analysis.plan import Rollover

        if self.rollover is None or self.rollover_limit is None:
            return None
        r = self.rollover
        return Rollover(self.rollover_limit, r.expires_after, r.share_percent)

    @property
    def rollover_limit(self) -> int | None:
        """Most carried over at once (None without rollover)."""
        if self.rollover is None:
            return None
        return self.rollover.limit if self.rollover.limit is not None else self.size


def check_allowances(allowances: list[AllowanceSettings]) -> None:
    """Names are unique within an account (LocatedError naming the second one)."""
    seen: dict[str, int] = {}
    for i, allowance in enumerate(allowances):
        if allowance.name in seen:
            raise LocatedError(
                ("allowances", i, "name"),
                f"duplicate allowance {allowance.name!r} (also allowances[{seen[allowance.name]}])",
            )
        seen[allowance.name] = i
