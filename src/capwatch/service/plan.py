"""A plan's allowances in the poll pipeline: per-allowance usage of a counter poll (written in
the poll's transaction), and the inputs of each allowance's summary, read from the store.

Only counter sources can say when bytes passed, so only they store per-allowance usage; an
allowance counting all traffic is the account's own reading. An allowance with windows on an
ISP meter (one total for the cycle) cannot be split by the meter: with a flow source (netflow)
on the account, the ISP's total stays the truth for how much was used and the flows tell how
it splits (the allowance's use is the ISP's figure times the share of the cycle's flow bytes
that counts against it); without flows its use is None and the summary says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from capwatch.models import AllowanceUsage, CounterState, Cycle, as_utc

if TYPE_CHECKING:
    from capwatch.analysis.plan import AllowanceInput
    from capwatch.config import AccountSettings
    from capwatch.store.api import CycleRecord, Store

SPLIT_UNKNOWN = (
    "the ISP reports one total for the cycle: how much fell in the windows cannot be known "
    "(a counter source on this line, such as the router, can split it, or a netflow device "
    "source on the account)"
)
FROM_FLOWS = (
    "estimated from flows: the ISP's total for the cycle, split as the flows counted since "
    "{since} split it ({inside:.0%} of their bytes inside the windows)"
)


def _flow_shares(
    account: AccountSettings, store: Store, cycle: Cycle, earlier: Sequence[Cycle]
) -> tuple[dict[str, tuple[float, str]], dict[str, dict[datetime, float]]]:
    """Per windowed allowance, the share of the use that counts against it as the flows tell
    (with the note saying so) in ``cycle``, and in each of the ``earlier`` cycles (for
    rollover); an allowance or cycle without flow bytes is left out (its split is unknown)."""
    from capwatch.analysis.windows import slots_split

    windowed = [a for a in account.allowances if a.windowed]
    now_slots = store.flow_slots(account.name, cycle.start, cycle.end) if windowed else {}
    zone = account.cycle.zone
    current: dict[str, tuple[float, str]] = {}
    for allowance in windowed:
        split = slots_split(now_slots, allowance.as_windows(), zone)
        total = split.inside + split.outside
        if total:
            since = min(now_slots).astimezone(zone).strftime("%Y-%m-%d %H:%M")
            note = FROM_FLOWS.format(since=since, inside=split.inside / total)
            current[allowance.name] = (split.counted(allowance.counts) / total, note)
    past: dict[str, dict[datetime, float]] = {}
    rolling = [a for a in windowed if a.rollover is not None]
    if rolling and earlier:
        slots = store.flow_slots(account.name, earlier[0].start, cycle.start)
        for span in earlier:
            inside = {t: n for t, n in slots.items() if t in span}
            for allowance in rolling:
                split = slots_split(inside, allowance.as_windows(), zone)
                if split.inside + split.outside:
                    share = split.counted(allowance.counts) / (split.inside + split.outside)
                    past.setdefault(allowance.name, {})[span.start] = share
    return current, past


def poll_allowance_usage(
    account: AccountSettings,
    store: Store,
    before: Mapping[str, CounterState],
    after: Mapping[str, CounterState],
    observed_at: datetime,
    cycle: Cycle,
) -> list[AllowanceUsage]:
    """What each windowed allowance has counted in ``cycle`` after one counter poll: the
    previous figure plus this poll's bytes inside or outside its windows."""
    from capwatch.analysis.windows import interval_bytes, split_interval

    windowed = [a for a in account.allowances if a.windowed]
    if not windowed:
        return []
    zone = account.cycle.zone
    intervals = interval_bytes(before, after, cycle)
    previous = store.allowance_cycle_totals(account.name, cycle.start)
    out = []
    for allowance in windowed:
        windows = allowance.as_windows()
        added = sum(
            split_interval(n, since, until, windows, zone).counted(allowance.counts)
            for since, until, n in intervals
        )
        base = previous.get(allowance.name, {}).get(cycle.start, 0)
        out.append(AllowanceUsage(allowance.name, as_utc(observed_at), cycle.start, base + added))
    return out


def is_counter_account(account: AccountSettings) -> bool:
    """Whether the account's provider reads raw counters (and so can split by time)."""
    from capwatch.errors import CapwatchError

    try:
        return account.provider_class.kind == "counter"
    except CapwatchError:
        return False


def allowance_series(
    store: Store, account: str, cycle_start: datetime
) -> dict[str, Sequence[tuple[datetime, int]]]:
    """Per windowed allowance, its (time, bytes) series in the cycle."""
    stored = store.allowance_usage(account, cycle_start)
    return {name: [(u.observed_at, u.used_bytes) for u in rows] for name, rows in stored.items()}


ROLLOVER_CYCLES = 24
"""Earlier cycles read to work out what rolls over (two years of months)."""
HISTORY_CYCLES = 3
"""Earlier cycles of a windowed allowance its forecast learns from (as the account's)."""


def _windowed_history(
    store: Store, account: str, records: Sequence[CycleRecord]
) -> dict[str, list[list[tuple[datetime, int]]]]:
    """Per windowed allowance, the series of up to three earlier complete cycles, oldest first
    (a cycle whose end capwatch missed is left out, as for the account's forecast)."""
    out: dict[str, list[list[tuple[datetime, int]]]] = {}
    for record in reversed(records):
        if record.lower_bound:
            continue
        for name, rows in allowance_series(store, account, record.cycle_start).items():
            if rows:
                out.setdefault(name, []).append(list(rows))
    return out


def allowance_inputs(
    account: AccountSettings,
    store: Store,
    cycle: Cycle,
    records: Sequence[CycleRecord],
) -> list[AllowanceInput]:
    """Each allowance's terms and use in ``cycle``, read from the store: its own series (a
    windowed allowance on a counter source), what rolled over from ``records`` (stored cycles
    with their ends, newest first) and the cycle's top-ups."""
    from capwatch.analysis.plan import AllowanceInput, PastCycle, carried_over, topups_in

    if not account.allowances:
        return []
    counter = is_counter_account(account)
    topups = store.topups(account.name)
    spans = [
        Cycle(r.cycle_start, r.cycle_end)
        for r in reversed(records[:ROLLOVER_CYCLES])
        if r.cycle_start < cycle.start and r.cycle_end is not None
    ]
    flows, flows_past = ({}, {}) if counter else _flow_shares(account, store, cycle, spans)
    series = allowance_series(store, account.name, cycle.start) if counter else {}
    totals = store.allowance_cycle_totals(account.name) if counter else {}
    earlier = [r for r in records if r.cycle_start < cycle.start and r.cycle_end is not None]
    history = _windowed_history(store, account.name, earlier[:HISTORY_CYCLES]) if counter else {}
    earlier = list(reversed(earlier[:ROLLOVER_CYCLES]))
    out = []
    for allowance in account.allowances:
        share, flow_note = flows.get(allowance.name, (None, None))
        known = counter or not allowance.windowed or share is not None
        past = []
        for r in earlier:
            span = Cycle(r.cycle_start, r.cycle_end)  # type: ignore[arg-type]
            past_share = flows_past.get(allowance.name, {}).get(r.cycle_start)
            if not known or r.lower_bound:
                used = None  # (lower bound: capwatch missed the cycle's end, what was left)
            elif allowance.windowed and not counter:
                used = None if past_share is None else round(r.used_bytes * past_share)
            elif allowance.windowed:
                used = totals.get(allowance.name, {}).get(r.cycle_start)
            else:
                used = r.used_bytes
            past.append(PastCycle(span, used, topups_in(topups, allowance.name, span)))
        out.append(
            AllowanceInput(
                name=allowance.name,
                counts=allowance.counts,
                at_end=allowance.at_end,
                base_bytes=allowance.size,
                rollover_bytes=carried_over(allowance.size, allowance.as_rollover(), past),
                topup_bytes=topups_in(topups, allowance.name, cycle),
                samples=series.get(allowance.name, []) if allowance.windowed and counter else None,
                history=history.get(allowance.name, ()),
                split_known=known,
                note=flow_note if share is not None else (None if known else SPLIT_UNKNOWN),
                windows=", ".join(f"{w.days} {w.start}-{w.end}" for w in allowance.windows),
                slowdown_mbps=allowance.slowdown_mbps,
                window_rules=tuple(allowance.as_windows()),
                share=share,
            )
        )
    return out
