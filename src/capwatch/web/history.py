"""Readings over long ranges without reading the whole history, and cached summaries.

A range holding few readings is read raw and thinned; a long one is read from the hourly or
daily rollup the store keeps as readings arrive (the last reading of each UTC hour or local day,
a real reading), thinned by the database, so the cost follows ``points``, not the length of
history. Summaries are cached per account and recomputed when a reading, poll or alert arrives,
or after ``ttl_s``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from capwatch.web.burndown import downsample

if TYPE_CHECKING:
    from capwatch.models import Reading
    from capwatch.store.api import CycleRecord, Store

RAW_LIMIT = 10_000
"""Read a range raw when its cycles hold at most this many readings (or 4x the points)."""


def _overlaps(c: CycleRecord, start: datetime | None, end: datetime | None) -> bool:
    first, last = c.first_observed_at, c.last_observed_at
    if first is None or last is None:
        return False
    return (start is None or last >= start) and (end is None or first < end)


def readings_window(
    store: Store, name: str, start: datetime | None, end: datetime | None, points: int
) -> list[Reading]:
    """At most ``points`` readings of ``name`` in [start, end), evenly thinned, both ends kept."""
    cycles = [c for c in store.cycles(name) if _overlaps(c, start, end)]
    if sum(c.readings for c in cycles) <= max(RAW_LIMIT, 4 * points):
        return downsample(store.readings(name, start, end), points)
    return store.rollup_readings(name, start, end, points)


class SummaryCache:
    """Per-key values recomputed when their fingerprint changes or after ``ttl_s`` seconds."""

    def __init__(self, ttl_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.clock = clock
        self._lock = threading.Lock()
        self._items: dict[Hashable, tuple[Hashable, float, Any]] = {}

    def get(self, key: Hashable, fingerprint: Hashable, compute: Callable[[], Any]) -> Any:
        """The cached value of ``key`` if its fingerprint matches and it is fresh, else compute."""
        now = self.clock()
        with self._lock:
            hit = self._items.get(key)
        if hit is not None and hit[0] == fingerprint and now - hit[1] < self.ttl_s:
            return hit[2]
        value = compute()
        with self._lock:
            self._items[key] = (fingerprint, now, value)
        return value

    def put(self, key: Hashable, fingerprint: Hashable, value: Any) -> None:
        """Store a value computed elsewhere (the daemon warms summaries after each poll)."""
        with self._lock:
            self._items[key] = (fingerprint, self.clock(), value)


def warm_summary(state: Any, name: str) -> None:
    """Recompute an account's summary into the app's cache, so no page request pays for it."""
    from capwatch.service.views import account_summary

    settings, store, cache = state.settings, state.store, state.summary_cache
    key = fingerprint(store, name)
    cache.put(("summary", name), key, account_summary(settings, store, name, state.clock()))


def fingerprint(store: Store, name: str) -> Hashable:
    """What a summary of ``name`` depends on besides the clock: newest reading, poll, alerts."""
    latest = store.latest_reading(name)
    polls = store.poll_log(name, limit=1)
    alerts = tuple(sorted((k, s.active, s.fired_at) for k, s in store.alert_states(name).items()))
    return (
        (latest.observed_at, latest.used_bytes, latest.cap_bytes) if latest else None,
        (polls[0].started_at, polls[0].outcome) if polls else None,
        alerts,
    )


def cached_summary(state: Any, name: str) -> Any:
    """The account's CycleSummary through the app's cache (``state`` is ``app.state``)."""
    from capwatch.service.views import account_summary

    settings, store, cache = state.settings, state.store, state.summary_cache
    return cache.get(
        ("summary", name),
        fingerprint(store, name),
        lambda: account_summary(settings, store, name, state.clock()),
    )


def cached_burndown(
    state: Any, name: str, points: int, allowance: str | None = None
) -> dict[str, Any]:
    """The burndown payload of the account's current cycle (or of one of its plan's
    allowances) through the app's cache."""
    from capwatch.web.burndown import burndown_payload

    summary = cached_summary(state, name)
    value: dict[str, Any] = state.summary_cache.get(
        ("burndown", name, points, allowance),
        (summary.as_of, summary.last_reading_at),
        lambda: burndown_payload(state.settings, state.store, summary, points, allowance),
    )
    return value
