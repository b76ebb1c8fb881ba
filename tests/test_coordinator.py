"""The poll pipeline against a fake meter on loopback: store, classify, retry, back off, alert."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from capwatch.config import Settings, load_settings
from capwatch.models import PollOutcome
from capwatch.service.coordinator import Coordinator
from capwatch.store import open_store
from capwatch.store.api import Store
from tests.fakes import meter
from tests.fakes._server import serve


@pytest.fixture
def meter_state() -> meter.MeterState:
    return meter.MeterState()


@pytest.fixture
def meter_url(meter_state: meter.MeterState) -> Iterator[str]:
    with serve(meter.build(meter_state)) as url:
        yield url


def write_config(tmp_path: Path, base_url: str, extra: str = "") -> Path:
    path = tmp_path / "capwatch.toml"
    path.write_text(
        f'data_dir = "{tmp_path / "data"}"\n'
        f'database_url = "sqlite:///{tmp_path / "capwatch.db"}"\n{extra}\n'
        '[[accounts]]\nname = "isp"\nprovider = "http_json"\ncap = "provider"\n'
        '[accounts.cycle]\ntimezone = "America/New_York"\n'
        f"[accounts.options]\n{meter.provider_options(base_url)}"
    )
    return path


@pytest.fixture
def settings(tmp_path: Path, meter_url: str) -> Settings:
    return load_settings(write_config(tmp_path, meter_url))


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    s = open_store(settings.resolved_database_url())
    yield s
    s.close()


@pytest.fixture
def coordinator(settings: Settings, store: Store) -> Coordinator:
    return Coordinator(settings, store, retry_wait_s=0.01, retry_attempts=3)


async def test_successful_poll_stores_reading_and_logs(
    coordinator: Coordinator, store: Store, meter_state: meter.MeterState
) -> None:
    result = await coordinator.poll_account("isp")
    assert result.ok and result.stored
    assert result.reading is not None
    assert result.reading.used_bytes == meter_state.used_bytes
    assert result.reading.cap_bytes == meter_state.cap_bytes
    latest = store.latest_reading("isp")
    assert latest is not None and latest.used_bytes == meter_state.used_bytes
    log = store.poll_log("isp")
    assert log[0].outcome is PollOutcome.OK and log[0].reading_stored


async def test_stale_answer_is_stored_once(
    coordinator: Coordinator, store: Store, meter_state: meter.MeterState
) -> None:
    await coordinator.poll_account("isp")
    meter_state.faults.append("stale")
    again = await coordinator.poll_account("isp")
    assert again.ok and not again.stored
    assert len(store.readings("isp")) == 1


@pytest.mark.parametrize(
    ("fault", "outcome", "error_class"),
    [
        ("html", PollOutcome.BAD_RESPONSE, "BadResponse"),
        ("blank", PollOutcome.BAD_RESPONSE, "BadResponse"),
        ("truncated", PollOutcome.BAD_RESPONSE, "BadResponse"),
        ("login", PollOutcome.BAD_RESPONSE, "BadResponse"),
        ("429", PollOutcome.RATE_LIMITED, "RateLimited"),
        ("negative", PollOutcome.BAD_RESPONSE, "BadResponse"),
    ],
)
async def test_faults_are_classified_and_nothing_stored(
    coordinator: Coordinator,
    store: Store,
    meter_state: meter.MeterState,
    fault: str,
    outcome: PollOutcome,
    error_class: str,
) -> None:
    meter_state.faults.append(fault)
    result = await coordinator.poll_account("isp")
    assert result.outcome is outcome
    assert store.readings("isp") == []
    entry = store.poll_log("isp")[0]
    assert entry.outcome is outcome
    assert entry.error_class == error_class
    assert entry.message and "\n" not in entry.message


async def test_server_errors_are_retried_within_a_poll(
    coordinator: Coordinator, store: Store, meter_state: meter.MeterState
) -> None:
    meter_state.faults.extend(["500", "503"])
    result = await coordinator.poll_account("isp")
    assert result.ok
    assert meter_state.requests == 3
    assert len(store.readings("isp")) == 1


async def test_persistent_failure_backs_off(
    coordinator: Coordinator, meter_state: meter.MeterState
) -> None:
    """A short first retry, doubling, capped at the interval and a third of stale_hours."""
    base = coordinator.next_delay("isp")
    delays = []
    for _ in range(12):
        meter_state.faults.extend(["500"] * 3)
        result = await coordinator.poll_account("isp")
        assert result.outcome is PollOutcome.SERVER
        delays.append(coordinator.next_delay("isp"))
    stale_s = coordinator.settings.account("isp").alerts.stale_hours * 3600
    assert delays[0] == 60.0 and delays[1] == 120.0 and delays[2] == 240.0
    assert max(delays) == min(base, stale_s / 3) and delays == sorted(delays)
    assert (await coordinator.poll_account("isp")).ok
    assert coordinator.next_delay("isp") == base


async def test_auth_failure_stops_polling_until_forced(
    coordinator: Coordinator, store: Store, meter_state: meter.MeterState
) -> None:
    meter_state.faults.append("401")
    result = await coordinator.poll_account("isp")
    assert result.outcome is PollOutcome.AUTH
    requests = meter_state.requests
    skipped = await coordinator.poll_account("isp")
    assert skipped.skipped and skipped.outcome is PollOutcome.AUTH
    assert "credentials refused" in (skipped.message or "")  # http_json: no login command
    assert meter_state.requests == requests
    forced = await coordinator.poll_account("isp", force=True)
    assert forced.ok
    assert not any(s.active for s in store.alert_states("isp").values() if s.rule == "auth")
