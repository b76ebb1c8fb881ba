"""Several instances on one store: each account is polled by one instance at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from capwatch.config import load_settings
from capwatch.service.coordinator import Coordinator
from capwatch.store import open_store
from tests.fakes import meter
from tests.fakes._server import serve


@pytest.fixture
def slow_meter() -> Iterator[tuple[str, meter.MeterState]]:
    state = meter.MeterState(timeout_s=1.0)
    with serve(meter.build(state)) as url:
        yield url, state


@pytest.mark.parametrize("store_url", ["sqlite", "postgresql"], indirect=True)
async def test_two_instances_never_poll_one_account_at_once(
    store_url: str, slow_meter: tuple[str, meter.MeterState], tmp_path: Path
) -> None:
    url, state = slow_meter
    config = tmp_path / "c.toml"
    config.write_text(
        f'database_url = "{store_url}"\ndata_dir = "{tmp_path / "data"}"\n'
        '[[accounts]]\nname = "isp"\nprovider = "http_json"\ncap = "provider"\n'
        f"[accounts.options]\n{meter.provider_options(url)}"
    )
    settings = load_settings(config)
    stores = [open_store(settings.resolved_database_url()) for _ in range(2)]
    try:
        a, b = (Coordinator(settings, s, retry_wait_s=0.01) for s in stores)
        # the first answer is slow ("timeout" fault sleeps then answers), so the polls overlap
        state.faults.append("timeout")
        first, second = await asyncio.gather(a.poll_account("isp"), b.poll_account("isp"))
        outcomes = sorted([first.skipped, second.skipped])
        assert outcomes == [False, True]
        assert state.requests == 1
        skipped = first if first.skipped else second
        assert skipped.message == "polled by another instance"
        # once released, the other instance can poll
        assert (await b.poll_account("isp")).ok
        assert len(stores[0].readings("isp")) == 2
    finally:
        for s in stores:
            s.close()


async def test_polls_of_one_account_in_one_process_take_turns(
    slow_meter: tuple[str, meter.MeterState], tmp_path: Path
) -> None:
    """A "Poll now" during a scheduled poll waits for it and polls instead of being skipped."""
    url, state = slow_meter
    config = tmp_path / "c.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n'
        '[[accounts]]\nname = "isp"\nprovider = "http_json"\ncap = "provider"\n'
        f"[accounts.options]\n{meter.provider_options(url)}"
    )
    settings = load_settings(config)
    store = open_store(settings.resolved_database_url())
    try:
        coordinator = Coordinator(settings, store, retry_wait_s=0.01)
        state.faults.append("timeout")  # the first answer is slow, so the polls overlap
        results = await asyncio.gather(
            coordinator.poll_account("isp"), coordinator.poll_account("isp", force=True)
        )
        assert [(r.ok, r.stored, r.skipped) for r in results] == [(True, True, False)] * 2
        assert state.requests == 2
        assert len(store.readings("isp")) == 2
    finally:
        store.close()
