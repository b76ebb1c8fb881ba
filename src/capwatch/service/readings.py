"""Turn a provider's snapshot into a validated reading (and counter states for counter sources)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from capwatch.errors import BadResponse
from capwatch.models import CounterState, Reading, Snapshot, as_utc

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


def snapshot_to_reading(
    rt: AccountRuntime,
    snap: Snapshot,
    store: Store,
    *,
    now: datetime,
    tolerance: timedelta,
) -> tuple[Reading, Sequence[CounterState], dict[str, int]]:
    """Validate a snapshot and build its reading; raise BadResponse naming what is wrong."""
    name = rt.account.name
    try:
        observed = as_utc(snap.observed_at)
    except ValueError as exc:
        raise BadResponse(f"{snap.source}: {exc}") from exc
    if observed > now + tolerance:
        raise BadResponse(f"{snap.source}: reading time {observed.isoformat()} is in the future")
    states: Sequence[CounterState] = ()
    raw: dict[str, int] = {}
    if snap.counters:
        from capwatch.analysis.counters import advance

        cycle = rt.rule.cycle_at(observed)
        used, new_states = advance(store.counter_states(name), snap.counters, observed, cycle)
        states = list(new_states.values())
        raw = {c.key: c.value for c in snap.counters}
        cycle_start = cycle.start
    elif snap.used_bytes is not None:
        used = snap.used_bytes
        cycle_start = (
            as_utc(snap.cycle_start) if snap.cycle_start else rt.rule.cycle_at(observed).start
        )
    else:
        raise BadResponse(f"{snap.source}: the snapshot carries neither usage nor counters")
    if used < 0:
        raise BadResponse(f"{snap.source}: negative usage {used}")
    cap = _cap(rt, snap)
    if cap is not None and cap <= 0:
        raise BadResponse(f"{snap.source}: cap {cap} is not positive")
    reading = Reading(name, observed, cycle_start, int(used), cap, snap.source)
    return reading, states, raw
