"""Latched alert state: fire once per cycle per level, resolve with a message, survive restarts.

:func:`step` is pure: the coordinator loads the previous states with ``store.alert_states()``,
calls it, saves the returned states with ``store.save_alert_states()`` and queues the events.

- Per-cycle rules (used, projected, allowance, disagree, and each plan allowance's used and
  projected) fire at most once per cycle and level:
  after a fired alert resolves it stays quiet until the next cycle. A new cycle resets the latch;
  an alert still active from the previous cycle resolves then ("new cycle began").
- Episode rules (stale, auth) are not bound to the cycle: they fire when the trouble starts and
  resolve when it ends, whatever the cycle, and may fire again in a later episode.
- Hysteresis lives in the conditions: ``over`` fires, ``clear`` resolves, and a value in the
  band between the two leaves the latch as it was, so a value hovering at a threshold does not
  flap.
- A rule level with no condition this time (say no forecast yet) keeps its state unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from capwatch.alerts.rules import PER_CYCLE_RULES, Condition, per_cycle
from capwatch.models import AlertEvent, AlertState

Key = tuple[str, str]


def _event(state: AlertState, kind: str, at: datetime, message: str) -> AlertEvent:
    return AlertEvent(state.account, state.rule, state.level, kind, at, message, state.last_value)


def _roll_cycle(
    prev: AlertState, cycle_start: datetime, now: datetime
) -> tuple[AlertState, AlertEvent | None]:
    """Reset a per-cycle state left from an earlier cycle, resolving it if still active."""
    event = None
    if prev.active:
        msg = f"{prev.account}: new billing cycle began; {prev.rule} alert ({prev.level}) cleared"
        event = _event(prev, "resolved", now, msg)
    fresh = AlertState(prev.account, prev.rule, prev.level, cycle_start, False, None, None)
    return fresh, event


def _advance(
    cond: Condition, state: AlertState, now: datetime
) -> tuple[AlertState, AlertEvent | None]:
    """Move one state by one condition."""
    state = replace(state, last_value=cond.value)
    if state.active:
        if cond.clear:
            state = replace(state, active=False, resolved_at=now, message=cond.resolve_message)
            return state, _event(state, "resolved", now, cond.resolve_message)
        return state, None
    already = cond.per_cycle and state.fired_at is not None
    if cond.over and not already:
        state = replace(state, active=True, fired_at=now, resolved_at=None, message=cond.message)
        return state, _event(state, "fired", now, cond.message)
    return state, None


def step(
    conditions: Sequence[Condition],
    previous: Mapping[Key, AlertState],
    cycle_start: datetime,
    now: datetime,
) -> tuple[list[AlertState], list[AlertEvent]]:
    """Apply ``conditions`` to the latched ``previous`` states; new states and events."""
    states: dict[Key, AlertState] = dict(previous)
    events: list[AlertEvent] = []
    cycle_rules = _per_cycle_rules(conditions)
    for key, prev in previous.items():
        if (prev.rule in cycle_rules or per_cycle(prev.rule)) and prev.cycle_start != cycle_start:
            states[key], event = _roll_cycle(prev, cycle_start, now)
            if event is not None:
                events.append(event)
    for cond in conditions:
        key = (cond.rule, cond.level)
        state = states.get(key) or AlertState(
            cond.account, cond.rule, cond.level, cycle_start, False, None, None
        )
        if not cond.per_cycle:
            state = replace(state, cycle_start=cycle_start)
        states[key], event = _advance(cond, state, now)
        if event is not None:
            events.append(event)
    return list(states.values()), events


def _per_cycle_rules(conditions: Sequence[Condition]) -> set[str]:
    """Rules bound to the cycle: those the conditions say so, else the built-in list."""
    named = {c.rule for c in conditions if c.per_cycle}
    episode = {c.rule for c in conditions if not c.per_cycle}
    return (set(PER_CYCLE_RULES) | named) - episode
