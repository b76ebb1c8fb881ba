"""Long-range readings from daily aggregates, and the summary cache."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from capwatch.service import serialize
from capwatch.web import history
from capwatch.web.history import SummaryCache, readings_window
from tests.fixtures.web import WEB_ZONE, WebServer
from tests.test_store_rollups import auto_rollup, expected_series


def test_long_ranges_come_from_the_rollups_as_the_raw_readings_say(
    web_app: WebServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API's long-range answer equals the series computed from every raw reading."""
    store = web_app.store
    raw = store.readings("isp")
    monkeypatch.setattr(history, "RAW_LIMIT", 10)
    client = TestClient(base_url="http://127.0.0.1", app=web_app.app)
    tz = ZoneInfo(WEB_ZONE)
    cycle_starts = sorted({r.cycle_start for r in raw})
    cases = [
        (None, None, 50),
        (None, None, 2),
        (raw[3].observed_at, raw[-4].observed_at + timedelta(minutes=1), 60),
        (cycle_starts[1] - timedelta(hours=7), cycle_starts[2] + timedelta(hours=5), 40),
        (cycle_starts[-1] - timedelta(days=3), None, 3),
    ]
    for start, end, points in cases:
        params: dict[str, str | int] = {"points": points}
        if start is not None:
            params["start"] = start.isoformat()
        if end is not None:
            params["end"] = end.isoformat()
        got = client.get("/api/v1/accounts/isp/readings", params=params)
        assert got.status_code == 200, got.text
        rollup = auto_rollup(raw, start, end, points, tz)
        want = expected_series(raw, start, end, points, rollup, tz)
        assert got.json() == [serialize.reading_to_dict(r) for r in want], (start, end, points)
        assert len(want) == points or len(want) < points < len(raw)
    monkeypatch.setattr(store, "readings", None)  # a long range never reads raw readings
    assert len(history.readings_window(store, "isp", None, None, 50)) == 50


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
