"""A plan's allowances (pure): what rolls over, what a cycle allows, where each one stands.

Rollover keeps what was left of each cycle as a lot that lasts ``expires_after`` cycles; use
draws on the oldest lot first, then on the cycle's own allowance and top-ups; at most ``limit``
is carried at a time (the newest lot is trimmed), and only ``share_percent`` of what was left
carries at all (A&A's quota bonus is half of the month's unused quota). A cycle whose use is
unknown (capwatch was not running) breaks the chain: nothing rolls over it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from capwatch.analysis.windows import Window
from capwatch.models import AllowanceSummary, BusyStretch, Cycle, Topup, as_utc

Sample = tuple[datetime, int]


@dataclass(frozen=True, slots=True)
class Rollover:
    """How unused allowance carries over."""

    limit: int
    expires_after: int = 1
    share_percent: float = 100.0


@dataclass(frozen=True, slots=True)
class PastCycle:
    """An earlier cycle of one allowance: its span, what it used (None: unknown), its top-ups."""

    cycle: Cycle
    used_bytes: int | None
    topup_bytes: int = 0


def carried_over(base: int, rollover: Rollover | None, past: Sequence[PastCycle]) -> int:
    """Bytes that roll into the cycle following ``past`` (oldest first, consecutive)."""
    if rollover is None:
        return 0
    lots: list[list[int]] = []  # [bytes, cycles left]
    previous_end: datetime | None = None
    for cycle in past:
        if cycle.used_bytes is None or (
            previous_end is not None and cycle.cycle.start != previous_end
        ):
            lots = []  # an unknown or missing cycle: nothing rolls over it
        previous_end = cycle.cycle.end
        if cycle.used_bytes is None:
            continue
        use = cycle.used_bytes
        for lot in lots:
            take = min(lot[0], use)
            lot[0] -= take
            use -= take
        left = max(base + cycle.topup_bytes - use, 0)
        lots = [[b, n - 1] for b, n in lots if n > 1 and b > 0]
        lots.append([int(left * rollover.share_percent / 100), rollover.expires_after])
        excess = sum(b for b, _ in lots) - rollover.limit
        for lot in reversed(lots):
            if excess <= 0:
                break
            cut = min(lot[0], excess)
            lot[0] -= cut
            excess -= cut
    return sum(b for b, _ in lots)


def topups_in(topups: Sequence[Topup], allowance: str, cycle: Cycle) -> int:
    """Bytes of the top-ups of ``allowance`` that fall in ``cycle``."""
    return sum(t.bytes for t in topups if t.allowance == allowance and as_utc(t.at) in cycle)


@dataclass(frozen=True, slots=True)
class AllowanceInput:
    """What the summary needs of one allowance: its terms and its use in this cycle.

    ``samples`` None with ``split_known`` means the account's own readings (an allowance
    counting all traffic), scaled by ``share`` where given (the part of the account's use that
    counts, estimated from flows); ``split_known`` False means its use cannot be known.
    """

    name: str
    counts: str
    at_end: str
    base_bytes: int
    rollover_bytes: int = 0
    topup_bytes: int = 0
    samples: Sequence[Sample] | None = None
    history: Sequence[Sequence[Sample]] = ()
    split_known: bool = True
    note: str | None = None
    windows: str = ""
    slowdown_mbps: float | None = None
    window_rules: tuple[Window, ...] = ()
    """The windows as the analysis takes them (for where the use outside them went)."""
    share: float | None = None


def _scaled(series: Sequence[Sample], share: float | None) -> list[Sample]:
    return list(series) if share is None else [(t, round(u * share)) for t, u in series]


def summarize_allowance(
    item: AllowanceInput,
    cycle: Cycle,
    now: datetime,
    tz: tzinfo,
    samples: Sequence[Sample],
    history: Sequence[Sequence[Sample]],
    overage: object = None,
) -> AllowanceSummary:
    """Where one allowance stands as of ``now``: used, remaining, projected (its own forecast on
    its own series; ``samples``/``history`` are the account's, for an allowance counting all;
    ``overage`` the account's terms, priced for an "overage" allowance)."""
    from capwatch.analysis.forecast import forecast_cycle
    from capwatch.analysis.overage import overage_cost

    used: int | None = None
    projected: int | None = None
    low = high = None
    size = item.base_bytes + item.rollover_bytes + item.topup_bytes
    if item.split_known:
        own = list(item.samples) if item.samples is not None else _scaled(samples, item.share)
        past = (
            item.history if item.samples is not None else [_scaled(h, item.share) for h in history]
        )
        own = [(t, u) for t, u in own if t in cycle and t <= now]
        used = own[-1][1] if own else (0 if samples else None)
        low = high = projected = used
        if own or any(past):
            fc = forecast_cycle(own, cycle.start, cycle.end, size, past, now, tz=tz)
            if fc.method != "no-data":
                projected, low, high = fc.expected_bytes, fc.low_bytes, fc.high_bytes
    busiest: BusyStretch | None = None
    if item.split_known and item.counts == "outside" and item.samples is not None:
        from capwatch.analysis.plan_advice import busiest_outside

        own = [(t, u) for t, u in item.samples if t in cycle and t <= now]
        busiest = busiest_outside(own, cycle.start, item.window_rules, tz)
    cost = None
    if item.at_end == "overage" and projected is not None:
        cost = overage_cost(projected, size, overage)
    return AllowanceSummary(
        name=item.name,
        counts=item.counts,
        at_end=item.at_end,
        base_bytes=item.base_bytes,
        rollover_bytes=item.rollover_bytes,
        topup_bytes=item.topup_bytes,
        used_bytes=used,
        projected_bytes=projected,
        split_known=item.split_known,
        note=item.note,
        windows=item.windows,
        slowdown_mbps=item.slowdown_mbps,
        projected_low_bytes=low,
        projected_high_bytes=high,
        overage_cost=cost,
        busiest=busiest,
    )
