"""Long-range readings from daily aggregates, and the summary cache."""

from __future__ import annotations

import pytest

from capwatch.web import history
from capwatch.web.history import SummaryCache, readings_window
from tests.fixtures.web import WebServer


def test_long_ranges_come_from_daily_aggregates(
    web_app: WebServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = web_app.store
    raw = store.readings("isp")
    monkeypatch.setattr(history, "RAW_LIMIT", 10)
    got = readings_window(store, "isp", None, None, 50)
    assert len(got) == 50
    assert got[0].observed_at == raw[0].observed_at
    assert [r.observed_at for r in got] == sorted(r.observed_at for r in got)
    raw_times = {r.observed_at: r.used_bytes for r in raw}
    assert all(raw_times[r.observed_at] == r.used_bytes for r in got)


def test_short_ranges_are_read_raw(web_app: WebServer) -> None:
    raw = web_app.store.readings("isp")
    got = readings_window(web_app.store, "isp", raw[5].observed_at, raw[25].observed_at, 500)
    assert got == raw[5:25]


def test_cache_recomputes_on_new_fingerprint_or_age() -> None:
    now = [0.0]
    cache = SummaryCache(ttl_s=60, clock=lambda: now[0])
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert cache.get("a", 1, compute) == 1
    assert cache.get("a", 1, compute) == 1
    assert cache.get("a", 2, compute) == 2
    now[0] = 61.0
    assert cache.get("a", 2, compute) == 3


def test_warmed_summary_is_served_without_computing(
    web_app: WebServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = web_app.app.state
    history.warm_summary(state, "isp")
    from capwatch.service import views

    def boom(*_: object, **__: object) -> None:
        raise AssertionError("a page request computed a summary the daemon had warmed")

    monkeypatch.setattr(views, "account_summary", boom)
    summary = history.cached_summary(state, "isp")
    assert summary.account == "isp"
