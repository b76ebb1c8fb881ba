"""Pure alert rule evaluation: a :class:`CycleSummary` in, a list of :class:`Condition` out.

Rules (``rule`` / ``level``):

- ``used`` / ``"75"``...: used >= X% of the cap;
- ``projected`` / ``"90"``: the forecast reaches X% of the cap; by default its low end (the
  forecast is then confident), or its expected value with ``projected_basis="expected"``;
- ``allowance`` / ``"below"``: the daily allowance is below ``allowance_below_bytes``;
- ``stale`` / ``"hours"``: no fresh reading for ``stale_hours``;
- ``auth`` / ``"required"``: the source wants a new login;
- ``disagree`` / ``"percent"``: two meters of the line disagree by more than Z%;
- ``used:<allowance>`` and ``projected:<allowance>``: as ``used`` and ``projected``, against one
  allowance of the plan (:mod:`capwatch.alerts.plan`).

Each condition says whether it is ``over`` (fire) or ``clear`` (resolve); between the two is the
hysteresis band, where a latched alert holds. Percent rules use ``hysteresis_percent`` points;
byte and hour rules use it as a share of the threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Protocol

from capwatch.alerts.text import fmt_end
from capwatch.models import CycleSummary
from capwatch.units import format_bytes as fmt_bytes
from capwatch.units import format_days, format_percent, format_shift
from capwatch.units import format_range as fmt_range

PER_CYCLE_RULES = frozenset({"used", "projected", "allowance", "disagree"})
"""Rules bound to the cycle; ``used:<allowance>`` is bound as ``used`` is (:func:`per_cycle`)."""


def per_cycle(rule: str) -> bool:
    """Whether a rule latches once per cycle: a built-in one, or an allowance's of those."""
    return rule.split(":", 1)[0] in PER_CYCLE_RULES


class AlertSettingsLike(Protocol):
    """The alert settings of an account (``capwatch.config.AlertSettings`` has these)."""

    @property
    def used_percent(self) -> Sequence[float]: ...
    @property
    def projected_percent(self) -> Sequence[float]: ...
    @property
    def projected_basis(self) -> str: ...
    @property
    def allowance_below_bytes(self) -> int | None: ...
    @property
    def stale_hours(self) -> float: ...
    @property
    def disagree_percent(self) -> float: ...
    @property
    def hysteresis_percent(self) -> float: ...


@dataclass(frozen=True, slots=True)
class Condition:
    """One rule level evaluated now: fire when ``over``, resolve when ``clear``."""

    account: str
    rule: str
    level: str
    value: float | None
    over: bool
    message: str
    clear: bool = False
    resolve_message: str = ""
    per_cycle: bool = True


def _level(x: float) -> str:
    return f"{x:g}"


def _used(s: CycleSummary, cfg: AlertSettingsLike) -> list[Condition]:
    if s.percent is None or s.cap_bytes is None or s.used_bytes is None:
        return []
    out = []
    for x in cfg.used_percent:
        pct = s.percent
        msg = (
            f"{s.account}: used {fmt_bytes(s.used_bytes)} of {fmt_bytes(s.cap_bytes)} "
            f"({format_percent(pct)}, alert at {x:g}%) with {format_days(s.days_left)} days left"
        )
        back = (
            f"{s.account}: usage back under {x:g}% "
            f"({format_percent(pct)} of {fmt_bytes(s.cap_bytes)})"
        )
        out.append(
            Condition(
                s.account,
                "used",
                _level(x),
                pct,
                pct >= x,
                msg,
                pct < x - cfg.hysteresis_percent,
                back,
            )
        )
    return out


def _projected(s: CycleSummary, cfg: AlertSettingsLike, tz: tzinfo) -> list[Condition]:
    fc = s.forecast
    if fc is None or not s.cap_bytes:
        return []
    basis = fc.low_bytes if cfg.projected_basis == "low" else fc.expected_bytes
    pct = 100.0 * basis / s.cap_bytes
    shown = 100.0 * fc.expected_bytes / s.cap_bytes
    band = fmt_range(fc.low_bytes, fc.high_bytes)
    by = fmt_end(s.cycle.end, tz)
    why = f": {format_shift(fc.shift)}" if fc.shift is not None else ""
    out = []
    for x in cfg.projected_percent:
        msg = (
            f"{s.account}: projected to use {fmt_bytes(fc.expected_bytes)} of "
            f"{fmt_bytes(s.cap_bytes)} ({format_percent(shown)}, {fc.level:.0%} range {band}) "
            f"by {by}{why}"
        )
        back = (
            f"{s.account}: projection back under {x:g}%: {fmt_bytes(fc.expected_bytes)} "
            f"({format_percent(shown)}, {fc.level:.0%} range {band}) by {by}"
        )
        clear = pct < x - cfg.hysteresis_percent
        out.append(Condition(s.account, "projected", _level(x), pct, pct >= x, msg, clear, back))
    return out


def _allowance(s: CycleSummary, cfg: AlertSettingsLike) -> list[Condition]:
    limit = cfg.allowance_below_bytes
    value = s.daily_allowance_bytes
    if limit is None or value is None:
        return []
    msg = (
        f"{s.account}: {fmt_bytes(value)} a day left for the remaining "
        f"{format_days(s.days_left)} days (below {fmt_bytes(limit)})"
    )
    back = f"{s.account}: daily allowance back to {fmt_bytes(value)}"
    clear = value >= limit * (1 + cfg.hysteresis_percent / 100)
    return [Condition(s.account, "allowance", "below", value, value < limit, msg, clear, back)]


def _stale(s: CycleSummary, cfg: AlertSettingsLike) -> list[Condition]:
    fresh = s.fresh_at
    if fresh is None:
        return []
    hours = (s.as_of - fresh).total_seconds() / 3600
    msg = f"{s.account}: no fresh reading for {hours:.0f} hours (limit {cfg.stale_hours:g})"
    back = f"{s.account}: readings are fresh again"
    clear = hours < cfg.stale_hours
    over = hours >= cfg.stale_hours
    return [Condition(s.account, "stale", "hours", hours, over, msg, clear, back, False)]


def _auth(s: CycleSummary, required: bool, provider: str | None) -> list[Condition]:
    login = (
        f"capwatch login {provider} --account {s.account}"
        if provider
        else (f"capwatch login --account {s.account}")
    )
    msg = f"{s.account}: auth required: run `{login}`"
    back = f"{s.account}: logged in again; polling resumed"
    value = 1.0 if required else 0.0
    return [
        Condition(s.account, "auth", "required", value, required, msg, not required, back, False)
    ]


def _disagree(s: CycleSummary, cfg: AlertSettingsLike, pct: float | None) -> list[Condition]:
    if pct is None:
        return []
    gap = abs(pct)
    limit = cfg.disagree_percent
    msg = f"{s.account}: sources disagree by {gap:.1f}% (limit {limit:g}%)"
    back = f"{s.account}: sources agree again ({gap:.1f}% apart)"
    clear = gap < max(limit - cfg.hysteresis_percent, 0.0) or gap == 0
    return [Condition(s.account, "disagree", "percent", gap, gap > limit, msg, clear, back)]


def evaluate(
    summary: CycleSummary,
    settings: AlertSettingsLike,
    *,
    auth_required: bool,
    disagreement_percent: float | None,
    tz: tzinfo | None = None,
    provider: str | None = None,
    currency: str = "$",
) -> list[Condition]:
    """Every rule level of ``settings`` evaluated on ``summary`` (no I/O, no state), with each
    allowance's of a plan (:mod:`capwatch.alerts.plan`)."""
    from capwatch.alerts.plan import allowance_conditions

    zone = tz or UTC
    return [
        *_used(summary, settings),
        *_projected(summary, settings, zone),
        *allowance_conditions(summary, settings, zone, currency),
        *_allowance(summary, settings),
        *_stale(summary, settings),
        *_auth(summary, auth_required, provider or getattr(summary, "provider", None)),
        *_disagree(summary, settings, disagreement_percent),
    ]
