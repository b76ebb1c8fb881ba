"""Turn raw interface counters into usage within a billing cycle (pure).

Each poll brings :class:`~capwatch.models.CounterSample` values; :func:`advance` compares each
with the counter's last :class:`~capwatch.models.CounterState` and adds the traffic in between
to the cycle. The rules, in order:

* **First sight** of a counter: a baseline; it adds 0.
* **Same epoch, value went up**: the difference.
* **Same epoch, value went down**: a *wrap* when the counter has a width (32/64 bits) and the
  wrapped difference is plausible (under half the counter's range and, when a maximum rate is
  known, under that rate times the elapsed time); otherwise a *reset* (the counter restarted
  from 0 without its epoch changing, as a driver reload or ``ip -s link`` reset does). A reset
  counts the new value: that much was counted since the restart, and it is never more than the
  real traffic. What passed between the last poll and the restart is lost (undercount, never
  overcount).
* **Epoch changed** (host reboot, SNMP agent restart, a new vnStat database): the counter
  started again from 0 at the new epoch, so its value is counted, capped at the plausible
  maximum (rate times elapsed) when a rate is known.
* **Cycle boundary**: when the last state belongs to an earlier cycle, the delta is split in
  proportion to time; only the share after the boundary counts in the new cycle (the rest
  belonged to the closed cycle, which is not reopened).
* **Width changed** (an SNMP agent dropped its 64-bit counters): a new baseline, adds 0.
* A counter missing from a poll keeps its state and its ``cycle_bytes`` while its cycle is
  current, so an interface going away never lowers usage; once the cycle has moved on, its
  state is dropped.

Amounts are never negative and each byte of a counter is counted at most once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from capwatch.models import CounterSample, CounterState, Cycle, as_utc

__all__ = ["advance", "counter_delta", "total_bytes"]

_MICROSECOND = timedelta(microseconds=1)


def _cap(max_rate_bps: float | None, elapsed_s: float) -> int | None:
    """Most bytes a counter can plausibly move in ``elapsed_s`` at ``max_rate_bps`` bits/s."""
    if max_rate_bps is None:
        return None
    return int(max(max_rate_bps, 0.0) / 8.0 * max(elapsed_s, 0.0))


def counter_delta(
    state: CounterState,
    sample: CounterSample,
    elapsed_s: float,
    max_rate_bps: float | None = None,
) -> int:
    """Bytes a counter moved since ``state``: a difference, a wrap, a reset or a reboot."""
    cap = _cap(max_rate_bps, elapsed_s)
    value = max(sample.value, 0)
    if sample.width != state.width:
        return 0  # a different counter now (SNMP fell back to 32 bits): a new baseline
    if sample.epoch != state.epoch:
        return value if cap is None else min(value, cap)
    if value >= state.last_value:
        return value - state.last_value
    if sample.width in (32, 64):
        wrapped = value + (1 << sample.width) - state.last_value
        if wrapped < (1 << (sample.width - 1)) and (cap is None or wrapped <= cap):
            return wrapped
    return value if cap is None else min(value, cap)


def _split_share(delta: int, since: datetime, boundary: datetime, now: datetime) -> int:
    """The part of ``delta`` (spread evenly over ``since..now``) that falls after ``boundary``."""
    if since >= boundary:
        return delta
    span = now - since
    after = now - boundary
    span_us = span // _MICROSECOND
    after_us = max(after // _MICROSECOND, 0)
    if span_us <= 0:
        return 0
    return delta * min(after_us, span_us) // span_us


def _step(
    state: CounterState | None,
    sample: CounterSample,
    observed_at: datetime,
    cycle: Cycle,
    max_rate_bps: float | None,
) -> CounterState:
    """The new state of one counter after one sample."""
    if state is None or as_utc(state.cycle_start) > cycle.start:
        # First sight, or a state from a later cycle (the clock stepped back): a baseline.
        return CounterState(
            sample.key,
            max(sample.value, 0),
            sample.width,
            sample.epoch,
            observed_at,
            cycle.start,
            0,
        )
    last_at = as_utc(state.observed_at)
    elapsed = (observed_at - last_at).total_seconds()
    delta = counter_delta(state, sample, elapsed, max_rate_bps)
    if as_utc(state.cycle_start) == cycle.start:
        cycle_bytes = state.cycle_bytes + delta
    else:
        cycle_bytes = _split_share(delta, last_at, cycle.start, observed_at)
    return CounterState(
        key=sample.key,
        last_value=max(sample.value, 0),
        width=sample.width,
        epoch=sample.epoch,
        observed_at=max(observed_at, last_at),
        cycle_start=cycle.start,
        cycle_bytes=max(cycle_bytes, 0),
    )


def advance(
    states: Mapping[str, CounterState],
    samples: Sequence[CounterSample],
    observed_at: datetime,
    cycle: Cycle,
    *,
    max_rate_bps: float | None = None,
) -> tuple[int, dict[str, CounterState]]:
    """Fold one poll's samples into the states; return (bytes used in ``cycle``, new states).

    ``max_rate_bps`` is the fastest a counter can move, in **bits** per second (a link's
    speed); it makes wrap and reboot detection stricter. ``observed_at`` must lie in ``cycle``.
    """
    now = as_utc(observed_at)
    if now not in cycle:
        raise ValueError(
            f"counter poll at {now.isoformat()} is outside the cycle "
            f"{cycle.start.isoformat()}..{cycle.end.isoformat()}"
        )
    new: dict[str, CounterState] = {}
    for sample in samples:
        if sample.key in new:
            raise ValueError(f"counter {sample.key!r} appears twice in one poll")
        new[sample.key] = _step(states.get(sample.key), sample, now, cycle, max_rate_bps)
    for key, state in states.items():
        if key not in new and as_utc(state.cycle_start) == cycle.start:
            new[key] = state  # vanished for now: keep what it added to this cycle
    return total_bytes(new, cycle), new


def total_bytes(states: Mapping[str, CounterState], cycle: Cycle) -> int:
    """Bytes the counters in ``states`` have added to ``cycle``."""
    return sum(s.cycle_bytes for s in states.values() if as_utc(s.cycle_start) == cycle.start)
