"""Byte quantities and durations: parse user text into integers/seconds, format at the edge."""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from capwatch.models import RegimeShift

GB = 10**9
TB = 10**12

_UNITS: dict[str, int] = {
    "": 1,
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "pb": 10**15,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
    "pib": 2**50,
}
_BYTES_RE = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([A-Za-z]*)\s*$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Z]*)")
_DURATION_UNITS: dict[str, float] = {
    "": 1.0,
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "m": 60.0,
    "min": 60.0,
    "mins": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "hrs": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
    "days": 86400.0,
    "w": 604800.0,
    "week": 604800.0,
    "weeks": 604800.0,
}


def _prefix(where: str) -> str:
    return f"{where}: " if where else ""


def parse_bytes(value: str | int | float, *, where: str = "") -> int:
    """Parse ``"1.2 TB"``, ``"500 MiB"``, ``"1e12"`` or a number of bytes into an int."""
    if isinstance(value, bool):
        raise ValueError(f"{_prefix(where)}expected a byte quantity like '1.2 TB' (got {value!r})")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{_prefix(where)}must not be negative (got {value})")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{_prefix(where)}must be a finite quantity (got {value!r})")
        number, factor = Decimal(repr(value)), 1
    elif isinstance(value, str):
        m = _BYTES_RE.match(value)
        if m is None:
            raise ValueError(
                f"{_prefix(where)}expected a byte quantity like '1.2 TB' or '500 MiB' "
                f"(got {value!r})"
            )
        unit = m.group(2).lower()
        if unit not in _UNITS:
            raise ValueError(
                f"{_prefix(where)}unknown unit {m.group(2)!r} in {value!r} "
                "(use B, KB, MB, GB, TB, PB, KiB, MiB, GiB, TiB)"
            )
        number, factor = Decimal(m.group(1)), _UNITS[unit]
    else:
        raise ValueError(f"{_prefix(where)}expected a byte quantity (got {type(value).__name__})")
    if number < 0:
        raise ValueError(f"{_prefix(where)}must not be negative (got {value!r})")
    if number.adjusted() > 30:
        raise ValueError(f"{_prefix(where)}is implausibly large (got {value!r})")
    return int((number * factor).to_integral_value(rounding=ROUND_HALF_EVEN))


def format_bytes(n: int | float | None, unit: str = "auto", digits: int | None = None) -> str:
    """Bytes for people, the one way every surface writes them (decimal units, as caps are sold).

    ``unit="auto"`` without ``digits`` keeps three figures: ``1.39 TB``, ``412 GB``, ``12.5 GB``,
    ``120 MB`` (``0 GB`` for nothing). A fixed ``unit`` (or ``digits``) prints that unit with
    ``digits`` decimals (default 1): ``5.00 GiB``. None is ``-``.
    """
    if n is None:
        return "-"
    if unit == "auto" and digits is None:
        return _people(float(n))
    if unit == "auto":
        unit = "TB" if abs(n) >= TB else "GB"
    key = unit.lower()
    if key not in _UNITS or key == "":
        raise ValueError(f"unknown unit {unit!r}")
    canonical = key[0].upper() + "iB" if key.endswith("ib") else key.upper()
    return f"{n / _UNITS[key]:.{1 if digits is None else digits}f} {canonical}"


def _fixed(value: float, digits: int) -> str:
    """``value`` with ``digits`` decimals, an exact half rounded up: what JavaScript's
    ``toFixed`` does, so the page's script writes the figures the server wrote."""
    from decimal import ROUND_HALF_UP

    return str(Decimal(value).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def _people(value: float) -> str:
    size = abs(value)
    if size >= TB:
        return f"{_fixed(value / TB, 2)} TB"
    if size >= 100 * GB:
        return f"{_fixed(value / GB, 0)} GB"
    if value == 0:
        return "0 GB"
    if size >= GB:
        return f"{_fixed(value / GB, 1)} GB"
    return f"{_fixed(value / 10**6, 0)} MB"


def format_range(low: int, high: int) -> str:
    """``1.05–1.21 TB`` when both ends share a unit, else ``980 GB–1.05 TB``; a zero low end
    takes the high end's unit (``0–500 MB``), and ends that read the same are one (``0 MB``)."""
    a, b = format_bytes(low), format_bytes(high)
    (na, ua), (nb, ub) = a.split(), b.split()
    if low == 0 or ua == ub:
        return b if na == nb else f"{na}–{b}"
    return f"{a}–{b}"


def format_percent(value: float | None) -> str:
    """A share of the cap: ``96.3%`` (one decimal, so 99.96% never reads as 100%); None ``-``."""
    if value is None:
        return "-"
    shown = _fixed(value, 1)
    if value < 100 <= float(shown):
        shown = "99.9"
    return f"{shown}%"


def format_pace(value: float | None) -> str:
    """Usage against the even pace: ``1.14x`` (1x is on pace); None ``-``."""
    return "-" if value is None else f"{_fixed(value, 2)}x"


def ordinal(day: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th``, ``11th``, ``22nd``."""
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def format_shift(shift: RegimeShift) -> str:
    """Why the forecast moved: ``usage since the 12th runs at 2.1x the cycle's start (9.8 GB a
    day against 4.6 GB)``; ``the household's usual`` when that is what it was compared with."""
    against = "the cycle's start" if shift.against == "cycle" else "the household's usual"
    return (
        f"usage since the {ordinal(shift.since.day)} runs at {_fixed(shift.ratio, 1)}x {against}"
        f" ({format_bytes(shift.after_bytes_per_day)} a day against"
        f" {format_bytes(shift.before_bytes_per_day)})"
    )


def format_clock(minute: int) -> str:
    """Minutes after midnight as people say the time: "9 p.m.", "2:30 a.m.", "midnight"."""
    m = minute % 1440
    if m == 0:
        return "midnight"
    if m == 720:
        return "noon"
    hour, rest = divmod(m, 60)
    suffix = "a.m." if hour < 12 else "p.m."
    twelve = hour % 12 or 12
    return f"{twelve}:{rest:02d} {suffix}" if rest else f"{twelve} {suffix}"


def format_days(value: float) -> str:
    """Days left in a cycle: ``16.6``."""
    return _fixed(value, 1)


def format_age(seconds: float | None) -> str:
    """How long ago, in words: ``40 s ago``, ``12 min ago``, ``3.5 h ago``, ``2.0 days ago``."""
    if seconds is None:
        return "never"
    if seconds < 90:
        return f"{max(int(seconds), 0)} s ago"
    if seconds < 5400:
        return f"{int(seconds // 60)} min ago"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h ago"
    return f"{seconds / 86400:.1f} days ago"


def format_cap(cap_bytes: int | None, unlimited: bool) -> str:
    """The cap for people: its size, "unlimited" for a plan without one, else "unknown"."""
    if cap_bytes:
        return format_bytes(cap_bytes)
    return "unlimited" if unlimited else "unknown"


def parse_duration(value: str | int | float) -> float:
    """Parse ``"5m"``, ``"1h30m"``, ``"90s"``, ``"1d"`` or seconds into float seconds."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like '5m' or seconds (got {value!r})")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        seconds = _parse_duration_text(value)
    else:
        raise ValueError(f"expected a duration like '5m' (got {type(value).__name__})")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"duration must be a non-negative number of seconds (got {value!r})")
    return seconds


def _parse_duration_text(value: str) -> float:
    text = value.strip()
    bad = ValueError(f"expected a duration like '90s', '5m', '1h30m' or '1d' (got {value!r})")
    if not text:
        raise bad
    total, pos = 0.0, 0
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        m = _DURATION_PART.match(text, pos)
        if m is None or m.group(2).lower() not in _DURATION_UNITS:
            raise bad
        total += float(m.group(1)) * _DURATION_UNITS[m.group(2).lower()]
        pos = m.end()
    return total
