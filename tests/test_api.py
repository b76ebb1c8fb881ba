"""The Python API: Capwatch.from_config(...).poll() / status() / history()."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from capwatch.api import Capwatch
from capwatch.models import AccountStatus, PollOutcome
from tests.fakes import meter
from tests.fakes._server import serve
from tests.fixtures.common import FakeClock

MID_CYCLE = datetime(2026, 11, 18, 12, tzinfo=UTC)  # far enough into a cycle for a forecast


def test_poll_status_history(tmp_path: Path) -> None:
    clock = FakeClock(MID_CYCLE)
    state = meter.MeterState(used_bytes=400 * 10**9, step_bytes=10**9, clock=clock)
    with serve(meter.build(state)) as url:
        config = tmp_path / "capwatch.toml"
        config.write_text(
            f'data_dir = "{tmp_path / "data"}"\n[[accounts]]\nname = "home"\n'
            f'provider = "http_json"\ncap = "provider"\n[accounts.options]\n'
            f"{meter.provider_options(url)}"
        )
        with Capwatch.from_config(config, clock=clock) as cw:
            results = cw.poll()
            assert [r.outcome for r in results] == [PollOutcome.OK]
            assert results[0].reading is not None
            assert results[0].reading.used_bytes == 401 * 10**9
            cw.poll("home")
            (summary,) = cw.status()
            assert summary.account == "home"
            assert summary.status is AccountStatus.OK
            assert summary.used_bytes == 402 * 10**9
            assert summary.cap_bytes == state.cap_bytes
            assert summary.forecast is not None
            assert summary.forecast.low_bytes <= summary.forecast.expected_bytes
            (cycle,) = cw.history()
            assert cycle.used_bytes == 402 * 10**9 and cycle.readings == 2
            assert [r.used_bytes for r in cw.readings("home")] == [401 * 10**9, 402 * 10**9]
