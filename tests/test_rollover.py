"""The first hours of a cycle: an ISP figure from the closed cycle, polled on the new cycle's
first day, keeps the cap and the last reading on every surface, and the closed cycle its end.

This is the run reported in issue 14, replayed at pinned instants: an Andrews & Arnold line whose
newest quota figure belongs to November, polled on 1 December; then Xfinity with November the
newest month of the usage JSON on 1 December.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from capwatch.config import load_settings
from capwatch.exporters.homeassistant import state_payload
from capwatch.service.coordinator import Coordinator
from capwatch.service.views import account_summary
from capwatch.store import open_store
from capwatch.web.app import create_app
from tests.fakes.aaisp import PASSWORD, USERNAME
from tests.fixtures.common import FakeClock, cli_run
from tests.fixtures.isp import aaisp_config, aaisp_line

NOV_30_EVENING = "2026-11-30 22:00:00"  # London wall time = UTC in winter
DEC_1_MORNING = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)
MONTHLY = 100 * 10**9
WAITING = "new cycle: waiting for the ISP's first figure"


@pytest.fixture
def closed_cycle_figure(
    aaisp_fake: tuple[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, FakeClock, Any]:
    """A&A answers with November's figure (36.75 of 100 GB); now is 1 December, 06:30 UTC."""
    url, state = aaisp_fake
    monkeypatch.setenv("AA_PASSWORD", PASSWORD)
    state.lines = [aaisp_line(NOV_30_EVENING, 36_750_000_000, MONTHLY)]
    return aaisp_config(tmp_path, url, USERNAME, cap='"provider"'), FakeClock(DEC_1_MORNING), state


def test_a_closed_cycles_figure_on_the_first_day_is_a_successful_poll(
    closed_cycle_figure: tuple[Path, FakeClock, Any],
) -> None:
    config, clock, _ = closed_cycle_figure
    (polled,) = json.loads(cli_run(config, clock, "poll", "--json").stdout)
    assert polled["outcome"] == "ok" and polled["stored"] is True
    assert "has not published the new cycle yet" in polled["message"]
    assert polled["reading"]["observed_at"] == "2026-11-30T22:00:00Z"
    assert polled["reading"]["cycle_start"] == "2026-11-01T00:00:00Z"


def test_status_keeps_the_cap_and_the_last_reading(
    closed_cycle_figure: tuple[Path, FakeClock, Any],
) -> None:
    config, clock, _ = closed_cycle_figure
    cli_run(config, clock, "poll")
    (summary,) = json.loads(cli_run(config, clock, "status", "--json").stdout)
    assert summary["cycle"] == {"start": "2026-12-01T00:00:00Z", "end": "2027-01-01T00:00:00Z"}
    assert summary["cap_bytes"] == 100 * 10**9 and summary["unlimited"] is False
    assert summary["used_bytes"] is None
    assert summary["last_reading_at"] == "2026-11-30T22:00:00Z"
    assert summary["status"] == "ok" and summary["last_error"] is None
    assert summary["note"] == WAITING
    table = cli_run(config, clock, "status").stdout
    assert "100 GB" in table and WAITING in table
    assert "unlimited" not in table and "never" not in table


def test_the_closed_cycle_has_its_end_and_final_figure(
    closed_cycle_figure: tuple[Path, FakeClock, Any],
) -> None:
    config, clock, _ = closed_cycle_figure
    cli_run(config, clock, "poll")
    (november,) = json.loads(cli_run(config, clock, "history", "--json").stdout)["aa"]
    assert november["start"] == "2026-11-01T00:00:00Z"
    assert november["end"] == "2026-12-01T00:00:00Z"
    assert november["closed"] is True and november["used_bytes"] == 36_750_000_000
    table = cli_run(config, clock, "history").stdout
    assert "2026-11-01 – 2026-11-30" in table and "in progress" not in table
    assert "last 1 cycle" in table and "1 cycles" not in table


def test_api_metrics_and_home_assistant_keep_the_cap(
    closed_cycle_figure: tuple[Path, FakeClock, Any],
) -> None:
    config, clock, _ = closed_cycle_figure
    cli_run(config, clock, "poll")
    settings = load_settings(config)
    store = open_store(settings.resolved_database_url())
    try:
        client = TestClient(
            base_url="http://127.0.0.1", app=create_app(settings, store, clock=clock)
        )
        (account,) = client.get("/api/v1/accounts").json()
        assert account["cap_bytes"] == 100 * 10**9 and account["note"] == WAITING
        assert account["last_reading_at"] == "2026-11-30T22:00:00Z"
        (november,) = client.get("/api/v1/accounts/aa/cycles").json()
        assert november["end"] == "2026-12-01T00:00:00Z" and november["closed"] is True
        metrics = client.get("/metrics").text
        assert 'capwatch_cap_bytes{account="aa"} 1e+11' in metrics
        # 2026-11-30T22:00:00Z is 1796076000 seconds after the epoch
        assert 'capwatch_last_reading_timestamp_seconds{account="aa"} 1.796076e+09' in metrics
        assert 'capwatch_awaiting_first_figure{account="aa"} 1.0' in metrics
        page = client.get("/accounts/aa").text
        assert WAITING.replace("'", "&#39;") in page and "unlimited" not in page
        overview = client.get("/").text
        assert "100 GB" in overview and "never" not in overview
        summary = account_summary(settings, store, "aa", clock())
        state = state_payload(summary, [])
        assert state["cap_bytes"] == 100 * 10**9
        assert state["last_reading"] == "2026-11-30T22:00:00+00:00"
        assert state["note"] == WAITING
    finally:
        store.close()


def test_the_first_figure_of_the_new_cycle_ends_the_wait(
    closed_cycle_figure: tuple[Path, FakeClock, Any],
) -> None:
    config, clock, state = closed_cycle_figure
    cli_run(config, clock, "poll")
    state.lines = [aaisp_line("2026-12-01 06:00:00", 1_500_000_000, MONTHLY)]
    clock.advance(timedelta(hours=1))
    (polled,) = json.loads(cli_run(config, clock, "poll", "--json").stdout)
    assert polled["message"] is None and polled["reading"]["cycle_start"] == "2026-12-01T00:00:00Z"
    (summary,) = json.loads(cli_run(config, clock, "status", "--json").stdout)
    assert summary["used_bytes"] == 1_500_000_000 and summary["note"] is None
    cycles = json.loads(cli_run(config, clock, "history", "--json").stdout)["aa"]
    assert [(c["start"], c["end"], c["closed"]) for c in cycles] == [
        ("2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z", False),
        ("2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z", True),
    ]


def test_cycles_missed_while_the_daemon_was_down_are_closed_by_the_calendar(
    closed_cycle_figure: tuple[Path, FakeClock, Any],
) -> None:
    """November was read; capwatch was off until 3 February: every cycle shown has its end."""
    config, clock, state = closed_cycle_figure
    state.lines = [aaisp_line("2026-11-20 12:00:00", 20 * 10**9, MONTHLY)]
    clock.set(datetime(2026, 11, 20, 13, tzinfo=UTC))
    cli_run(config, clock, "poll")
    clock.set(datetime(2027, 2, 3, 9, tzinfo=UTC))
    (summary,) = json.loads(cli_run(config, clock, "status", "--json").stdout)
    assert summary["cycle"] == {"start": "2027-02-01T00:00:00Z", "end": "2027-03-01T00:00:00Z"}
    assert summary["cap_bytes"] == 100 * 10**9 and summary["note"] == WAITING
    (november,) = json.loads(cli_run(config, clock, "history", "--json").stdout)["aa"]
    assert november["end"] == "2026-12-01T00:00:00Z" and november["closed"] is True


async def test_xfinity_with_november_newest_on_december_first(
    tmp_path: Path, xfinity_fake: tuple[Any, str]
) -> None:
    """Xfinity's reply still ends with November on 1 December: November's final figure is
    stored, with October from its history, and the poll is a success."""
    from tests.fixtures.xfinity import sign_in_fake, xfinity_account_config

    state, url = xfinity_fake
    clock = FakeClock(datetime(2026, 12, 1, 14, tzinfo=UTC))
    state.clock, state.publish_lag_days = clock, 1
    settings = load_settings(xfinity_account_config(tmp_path, url, zone="America/New_York"))
    store = open_store(settings.resolved_database_url())
    try:
        coordinator = Coordinator(settings, store, clock=clock)
        sign_in_fake(coordinator, state)
        result = await coordinator.poll_account("home")
        assert result.ok and result.stored, result.message
        assert "has not published the new cycle yet" in (result.message or "")
        assert result.reading is not None and result.reading.used_bytes == 585 * 10**9
        november_start = datetime(2026, 11, 1, 4, tzinfo=UTC)  # midnight EDT
        assert result.reading.cycle_start == november_start
        cycles = store.cycles("home")
        assert [(c.cycle_start.month, c.cycle_end) for c in cycles] == [
            (11, datetime(2026, 12, 1, 5, tzinfo=UTC)),  # midnight EST
            (10, november_start),
        ]
        assert cycles[1].used_bytes == 1001 * 10**9
        summary = account_summary(settings, store, "home", clock())
        assert summary.cycle.start == datetime(2026, 12, 1, 5, tzinfo=UTC)
        assert summary.cap_bytes == 1229 * 10**9 and summary.note == WAITING
        assert summary.consecutive_failures == 0 and summary.last_error is None
    finally:
        store.close()


def test_the_isps_own_cycle_end_is_the_cycles_end(tmp_path: Path) -> None:
    """An http_json period of 2026-11-20 to 2026-12-17 (inclusive, New York) ends at local
    midnight of the 18th: days left, allowance and forecast horizon follow it, not a month on
    from the start day (a prorated or 28-day cycle)."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from tests.fakes._server import serve

    async def usage(_request: Any) -> JSONResponse:
        body = {"used": 412_000_000_000, "cap": 1_000_000_000_000}
        return JSONResponse(body | {"period": {"start": "2026-11-20", "end": "2026-12-17"}})

    clock = FakeClock(datetime(2026, 12, 1, 14, tzinfo=UTC))
    with serve(Starlette(routes=[Route("/usage", usage)])) as url:
        config = tmp_path / "capwatch.toml"
        config.write_text(
            f'data_dir = "{tmp_path / "data"}"\n[[accounts]]\nname = "mobile"\n'
            'provider = "http_json"\ncap = "provider"\n'
            '[accounts.cycle]\ntimezone = "America/New_York"\n'
            f'[accounts.options]\nurl = "{url}/usage"\nused_path = "$.used"\n'
            'cap_path = "$.cap"\ncycle_start_path = "$.period.start"\n'
            'cycle_end_path = "$.period.end"\ndate_format = "%Y-%m-%d"\n'
        )
        cli_run(config, clock, "poll")
        (summary,) = json.loads(cli_run(config, clock, "status", "--json").stdout)
    assert summary["cycle"] == {"start": "2026-11-20T05:00:00Z", "end": "2026-12-18T05:00:00Z"}
    assert summary["days_left"] == pytest.approx(16.625, abs=0.01)
    # 588 GB left over 16.6 days
    assert summary["daily_allowance_bytes"] == pytest.approx(588e9 / 16.625, rel=0.01)
    (cycle,) = json.loads(cli_run(config, clock, "history", "--json").stdout)["mobile"]
    assert cycle["end"] == "2026-12-18T05:00:00Z" and cycle["closed"] is False
