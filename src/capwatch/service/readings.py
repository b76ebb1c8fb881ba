"""Turn a provider's snapshot into a validated reading (and counter states for counter sources)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, NamedTuple

from capwatch.analysis.counters import CounterGap
from capwatch.errors import BadResponse, Implausible
from capwatch.models import (
    AllowanceUsage,
    CounterSample,
    CounterState,
    Cycle,
    Reading,
    Snapshot,
    as_utc,
)

if TYPE_CHECKING:
    from capwatch.service.accounts import AccountRuntime
    from capwatch.store.api import Store


def _cap(rt: AccountRuntime, snap: Snapshot) -> int | None:
    source = rt.account.cap_source
    if source == "unlimited":
        return None
    if source == "config":
        return rt.account.cap_bytes
    if snap.unlimited:
        return None
    return snap.cap_bytes if snap.cap_bytes is not None else rt.account.cap_bytes


FINAL_FIGURE_OFFSET = timedelta(seconds=1)
"""A figure for a cycle that had ended when it was read is stored this long before its end."""


class ReadingParts(NamedTuple):
    """What a snapshot turns into: the reading, its cycle, and a counter source's states."""

    reading: Reading
    cycle: Cycle
    states: Sequence[CounterState]
    raw_counters: dict[str, int]
    closed: bool = False
    """The reading's cycle had ended when it was read: the source has not published the new one."""
    gaps: tuple[CounterGap, ...] = ()
    """Counters read after a gap too long to count at their link rate (a lower bound)."""
    baselines: tuple[CounterSample, ...] = ()
    """Counters seen for the first time that carry a link rate (their limit is said once)."""
    allowance_usage: tuple[AllowanceUsage, ...] = ()
    """What counted against each windowed allowance of the plan (counter sources)."""

    def note(self, tz: tzinfo) -> str | None:
        """The poll's message: a closed cycle's figure, counters read after too long a gap, or
        the poll interval new counters need."""
        notes = [gap_note(g) for g in self.gaps]
        if self.baselines:
            notes.append(baseline_note(self.baselines))
        if self.closed:
            last_day = (self.cycle.end - FINAL_FIGURE_OFFSET).astimezone(tz).date()
            notes.insert(
                0,
                "the ISP has not published the new cycle yet: stored its figure for the cycle "
                f"that ended {last_day.isoformat()}",
            )
        return "; ".join(notes) or None


def baseline_note(samples: Sequence[CounterSample]) -> str:
    """The poll interval that keeps new counters unambiguous at their link rate (the tightest)."""
    from capwatch.analysis.counters import safe_interval_s

    limits = [(safe_interval_s(c.width, c.max_rate_bps), c) for c in samples]
    limit, tightest = min(((t, c) for t, c in limits if t is not None), key=lambda x: x[0])
    rate = (tightest.max_rate_bps or 0) / 1e6
    return (
        f"first reading of {', '.join(c.key for c in samples)} (a baseline): polls at most "
        f"{limit:.0f} s apart keep its {tightest.width}-bit counters unambiguous at {rate:g} "
        f"Mbit/s ({tightest.key})"
    )


def gap_note(gap: CounterGap) -> str:
    """One line for a counter read after a gap too long to count."""
    from capwatch.units import format_age

    def span(seconds: float) -> str:
        return f"{seconds:.0f} s" if seconds < 600 else format_age(seconds).removesuffix(" ago")

    return (
        f"counter {gap.key}: {span(gap.elapsed_s)} since the last poll, longer than the "
        f"{span(gap.limit_s)} in which a {gap.width}-bit counter wraps unambiguously at "
        f"{gap.rate_bps / 1e6:g} Mbit/s: counted a lower bound (poll at least that often)"
    )


def source_cycle(rt: AccountRuntime, snap: Snapshot, observed: datetime) -> Cycle:
    """The cycle a meter reading belongs to: the source's own dates, else the configured rule
    (a source that reports only its cycle's start: the rule's cycle or a month from that day).
    """
    if snap.cycle_start is None:
        return rt.rule.cycle_at(observed)
    from capwatch.analysis.cycles import span_of

    return span_of(rt.rule, snap.cycle_start, snap.cycle_end)


SLACK_BYTES = 10 * 10**9
"""Allowed on top of what the line carries: ISPs round (whole GB on some) and publish in
batches; a jump this small cannot rule a cycle, and one that can is far above it."""


def check_plausible(
    rt: AccountRuntime, store: Store, snap: Snapshot, used: int, observed: datetime, cycle: Cycle
) -> None:
    """Refuse a meter figure that grew faster than the line can carry (BadResponse, payload
    kept): one wild answer must not rule a cycle. Counters keep their own monotonic rules."""
    from capwatch.units import format_bytes

    previous = store.latest_reading(rt.account.name)
    since, base = cycle.start, 0
    if previous is not None and previous.cycle_start == cycle.start:
        if previous.observed_at >= observed:
            return
        since, base = previous.observed_at, previous.used_bytes
    seconds = max((observed - since).total_seconds(), 0.0)
    ceiling = rt.account.max_rate_mbps * 1e6 / 8 * seconds + SLACK_BYTES
    if used - base <= ceiling:
        return
    raise Implausible(
        f"{snap.source}: implausible figure {format_bytes(used)}: {format_bytes(used - base)} "
        f"more in {seconds / 60:.0f} min than a {rt.account.max_rate_mbps:g} Mbit/s line carries "
        "(max_rate_mbps); kept for diagnosis, not stored",
        payload=dict(snap.raw) if snap.raw is not None else {"used_bytes": used},
    )


def snapshot_to_reading(
    rt: AccountRuntime,
    snap: Snapshot,
    store: Store,
    *,
    now: datetime,
    tolerance: timedelta,
) -> ReadingParts:
    """Validate a snapshot and build its reading; raise BadResponse naming what is wrong.

    A figure the source gives for a cycle that has already ended (an ISP that has not published
    the new cycle yet) is that cycle's final figure: it is stored at the cycle's last second, so
    that it belongs to the cycle it describes and never to the new one.
    """
    name = rt.account.name
    try:
        observed = as_utc(snap.observed_at)
    except ValueError as exc:
        raise BadResponse(f"{snap.source}: {exc}") from exc
    if observed > now + tolerance:
        raise BadResponse(f"{snap.source}: reading time {observed.isoformat()} is in the future")
    states: Sequence[CounterState] = ()
    raw: dict[str, int] = {}
    gaps: tuple[CounterGap, ...] = ()
    baselines: tuple[CounterSample, ...] = ()
    usage: tuple[AllowanceUsage, ...] = ()
    if snap.counters:
        from capwatch.analysis.counters import advance, long_gaps, safe_interval_s

        cycle = rt.rule.cycle_at(observed)
        before = store.counter_states(name)
        gaps = tuple(long_gaps(before, snap.counters, observed))
        baselines = tuple(
            c
            for c in snap.counters
            if c.key not in before and safe_interval_s(c.width, c.max_rate_bps) is not None
        )
        used, new_states = advance(before, snap.counters, observed, cycle)
        states = list(new_states.values())
        raw = {c.key: c.value for c in snap.counters}
        if rt.account.allowances:
            from capwatch.service.plan import poll_allowance_usage

            usage = tuple(
                poll_allowance_usage(rt.account, store, before, new_states, observed, cycle)
            )
    elif snap.used_bytes is not None:
        used = snap.used_bytes
        cycle = source_cycle(rt, snap, observed)
        if observed >= cycle.end:
            observed = cycle.end - FINAL_FIGURE_OFFSET
    else:
        raise BadResponse(f"{snap.source}: the snapshot carries neither usage nor counters")
    if used < 0:
        raise BadResponse(f"{snap.source}: negative usage {used}")
    if not snap.counters:
        check_plausible(rt, store, snap, int(used), observed, cycle)
    cap = _cap(rt, snap)
    if cap is not None and cap <= 0:
        raise BadResponse(f"{snap.source}: cap {cap} is not positive")
    reading = Reading(name, observed, cycle.start, int(used), cap, snap.source)
    closed = cycle.end <= now
    return ReadingParts(
        reading, cycle, states, raw, closed, gaps=gaps, baselines=baselines, allowance_usage=usage
    )
