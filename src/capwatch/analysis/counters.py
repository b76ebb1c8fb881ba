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
* **Restarted between two polls** (the sample carries the source's uptime, and it is shorter
  than the time since the last poll) **and the value went down**: a reboot, counted like an
  epoch change but capped at the rate times the uptime. A value that went up across an uptime
  reset is a daemon restart that left the counter running: the difference.
* **Rate per counter**: a sample's own ``max_rate_bps`` (a router's downstream rate for rx,
  upstream for tx) wins over the poll-wide one.
* **A gap too long to count** (:func:`long_gaps`): when the time since the last poll exceeds
  :func:`safe_interval_s` at the counter's rate, the counter may have wrapped more than once
  unseen; what is counted is a lower bound and the poll says so, rather than guessing a number
  of wraps.
* **Width changed** (an SNMP agent dropped its 64-bit counters): a new baseline, adds 0.
* A counter missing from a poll keeps its state and its ``cycle_bytes`` while its cycle is
  current, so an interface going away never lowers usage; once the cycle has moved on, its
  state is dropped.

Amounts are never negative and each byte of a counter is counted at most once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from capwatch.models import CounterSample, CounterState, Cycle, as_utc

__all__ = ["CounterGap", "advance", "counter_delta", "long_gaps", "safe_interval_s", "total_bytes"]

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
    if sample.max_rate_bps is not None:
        max_rate_bps = sample.max_rate_bps
    cap = _cap(max_rate_bps, elapsed_s)
    value = max(sample.value, 0)
    if sample.width != state.width:
        return 0  # a different counter now (SNMP fell back to 32 bits): a new baseline
    if sample.epoch != state.epoch:
        return value if cap is None else min(value, cap)
    if value >= state.last_value:
        return value - state.last_value
    if sample.uptime_s is not None and 0 <= sample.uptime_s < elapsed_s:
        since_boot = _cap(max_rate_bps, sample.uptime_s)
        return value if since_boot is None else min(value, since_boot)
    if sample.width in (32, 64):
        wrapped = value + (1 << sample.width) - state.last_value
        if wrapped < (1 << (sample.width - 1)) and (cap is None or wrapped <= cap):
            return wrapped
    return value if cap is None else min(value, cap)


def safe_interval_s(width: int, rate_bps: float | None) -> float | None:
    """The longest gap between two polls in which a ``width``-bit counter moving at
    ``rate_bps`` bits/s cannot pass half its range, the most :func:`counter_delta` takes for
    one wrap (None when no rate is known or the counter does not wrap)."""
    if width not in (32, 64) or rate_bps is None or rate_bps <= 0:
        return None
    return (1 << (width - 1)) * 8.0 / rate_bps


@dataclass(frozen=True, slots=True)
class CounterGap:
    """A counter read after a gap too long to count: what it added is only a lower bound."""

    key: str
    elapsed_s: float
    limit_s: float
    width: int
    rate_bps: float


def long_gaps(
    states: Mapping[str, CounterState],
    samples: Sequence[CounterSample],
    observed_at: datetime,
    *,
    max_rate_bps: float | None = None,
) -> list[CounterGap]:
    """Counters whose last poll is further back than :func:`safe_interval_s` at their rate."""
    now = as_utc(observed_at)
    out: list[CounterGap] = []
    for sample in samples:
        state = states.get(sample.key)
        if state is None or state.width != sample.width or state.epoch != sample.epoch:
            continue
        rate = sample.max_rate_bps if sample.max_rate_bps is not None else max_rate_bps
        limit = safe_interval_s(sample.width, rate)
        elapsed = (now - as_utc(state.observed_at)).total_seconds()
        if limit is not None and rate is not None and elapsed > limit:
            out.append(CounterGap(sample.key, elapsed, limit, sample.width, rate))
    return out


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
