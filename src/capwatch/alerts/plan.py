"""Alerts per allowance of a plan (pure): each allowance's used and projected levels.

Rules ``used:<allowance>`` and ``projected:<allowance>``, at the account's ``used_percent`` and
``projected_percent`` levels, against the allowance's own size and forecast: each latches once
per allowance per cycle per level, like the account's ``used`` and ``projected``. On a satellite
plan the account has no cap of its own and the metered allowance's projected alert is the one
that warns in time. The message names the allowance and says what happens when it runs out.

An allowance whose use cannot be known (windows on an ISP total) has no condition; one counting
all traffic with the account's own cap as its size would repeat the account's alerts, so it
has none either.
"""

from __future__ import annotations

from datetime import tzinfo

from capwatch.alerts.rules import AlertSettingsLike, Condition
from capwatch.alerts.text import fmt_end
from capwatch.models import AllowanceSummary, CycleSummary
from capwatch.units import format_bytes as fmt_bytes
from capwatch.units import format_days, format_percent
from capwatch.units import format_range as fmt_range


def _level(x: float) -> str:
    return f"{x:g}"


def _who(s: CycleSummary, a: AllowanceSummary) -> str:
    where = f" ({a.counts} {a.windows})" if a.windows else ""
    return f"{s.account}: the {a.name} allowance{where}"


def at_end_text(a: AllowanceSummary, currency: str = "$") -> str:
    """What happens when the allowance runs out, as a clause ("" when nothing can be said)."""
    if a.at_end == "hard-cap":
        return "when it runs out the service stops"
    if a.at_end == "slowdown":
        if a.slowdown_mbps is None:
            return "when it runs out the line slows down"
        return f"when it runs out the line slows to {a.slowdown_mbps:g} Mbit/s"
    if a.overage_cost:
        from capwatch.templating import money

        return f"projected overage charge {money(a.overage_cost, currency)}"
    return ""


def _tail(a: AllowanceSummary, currency: str) -> str:
    text = at_end_text(a, currency)
    return f"; {text}" if text else ""


def _used(
    s: CycleSummary, a: AllowanceSummary, cfg: AlertSettingsLike, currency: str
) -> list[Condition]:
    if a.used_bytes is None:
        return []
    pct = 100.0 * a.used_bytes / a.size_bytes
    out = []
    for x in cfg.used_percent:
        msg = (
            f"{_who(s, a)} used {fmt_bytes(a.used_bytes)} of {fmt_bytes(a.size_bytes)} "
            f"({format_percent(pct)}, alert at {x:g}%) with {format_days(s.days_left)} days "
            f"left{_tail(a, currency)}"
        )
        back = f"{_who(s, a)}: use back under {x:g}% ({format_percent(pct)})"
        clear = pct < x - cfg.hysteresis_percent
        out.append(
            Condition(s.account, f"used:{a.name}", _level(x), pct, pct >= x, msg, clear, back)
        )
    return out


def _projected(
    s: CycleSummary, a: AllowanceSummary, cfg: AlertSettingsLike, tz: tzinfo, currency: str
) -> list[Condition]:
    expected, low, high = a.projected_bytes, a.projected_low_bytes, a.projected_high_bytes
    if expected is None or low is None or high is None:
        return []
    basis = low if cfg.projected_basis == "low" else expected
    pct = 100.0 * basis / a.size_bytes
    shown = 100.0 * expected / a.size_bytes
    band = fmt_range(low, high)
    by = fmt_end(s.cycle.end, tz)
    level = f"{s.forecast.level:.0%} " if s.forecast is not None else ""
    out = []
    for x in cfg.projected_percent:
        msg = (
            f"{_who(s, a)} is projected to use {fmt_bytes(expected)} of "
            f"{fmt_bytes(a.size_bytes)} ({format_percent(shown)}, {level}range {band}) by "
            f"{by}{_tail(a, currency)}"
        )
        back = (
            f"{_who(s, a)}: projection back under {x:g}%: {fmt_bytes(expected)} "
            f"({format_percent(shown)}) by {by}"
        )
        clear = pct < x - cfg.hysteresis_percent
        out.append(
            Condition(s.account, f"projected:{a.name}", _level(x), pct, pct >= x, msg, clear, back)
        )
    return out


def allowance_conditions(
    s: CycleSummary, cfg: AlertSettingsLike, tz: tzinfo, currency: str = "$"
) -> list[Condition]:
    """The used and projected conditions of every allowance of the summary's plan."""
    out: list[Condition] = []
    for a in s.allowances:
        if a.size_bytes <= 0 or (a.counts == "all" and a.size_bytes == s.cap_bytes):
            continue
        out += _used(s, a, cfg, currency)
        out += _projected(s, a, cfg, tz, currency)
    return out
