"""Fault soak, short: a flaky fake ISP never makes capwatch store a wrong reading or exit."""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from capwatch.store import open_store
from tests.fakes import meter
from tests.fixtures.common import free_port

ROOT = Path(__file__).resolve().parent.parent


def _bench_soak() -> ModuleType:
    spec = importlib.util.spec_from_file_location("capwatch_bench_soak", ROOT / "bench/soak.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def test_soak_short_run_stores_only_real_answers(tmp_path: Path) -> None:
    soak = _bench_soak()
    report = await soak.run_soak(tmp_path, polls=120, rate=0.3, seed=3)
    assert report.problems == []
    assert report.stale_fired and report.stale_resolved
    assert {"stale:fired", "stale:resolved"} <= set(report.outbox_kinds)
    assert report.logged["internal"] == 0
    assert report.logged["ok"] > 0 and report.stored > 0
    assert sum(report.logged.values()) == report.polls


async def test_reset_fault_is_a_connect_error(tmp_path: Path) -> None:
    state = meter.MeterState()
    state.faults.append("reset")
    with meter.serve_with_resets(state) as url:
        async with httpx.AsyncClient(timeout=5) as client:
            with pytest.raises(httpx.TransportError):
                await client.get(f"{url}/usage")
            ok = await client.get(f"{url}/usage")  # the proxy lets plain answers through
            assert ok.json()["used_bytes"] == state.used_bytes


def test_rollover_fault_moves_cycle_and_resets_counter() -> None:
    from starlette.testclient import TestClient

    state = meter.MeterState(used_bytes=50 * 10**9)
    client = TestClient(base_url="http://127.0.0.1", app=meter.build(state))
    first = client.get("/usage").json()
    state.faults.append("rollover")
    second = client.get("/usage").json()
    assert second["used_bytes"] < first["used_bytes"]
    assert second["cycle_start"] > first["cycle_start"]
    assert state.answers[second["observed_at"]] == second["used_bytes"]


def test_serve_keeps_running_against_a_flaky_isp(tmp_path: Path) -> None:
    state = meter.MeterState(fault_rate=0.5, seed=5, timeout_s=0.5, step_bytes=10**7)
    with meter.serve_with_resets(state) as url:
        config = tmp_path / "capwatch.toml"
        config.write_text(
            '[[accounts]]\nname = "isp"\nprovider = "http_json"\ncap = "provider"\n'
            f"[accounts.options]\n{meter.provider_options(url)}"
        )
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAPWATCH_")}
        env.update(CAPWATCH_DATA_DIR=str(tmp_path / "data"), CAPWATCH_WEB__PORT=str(port))
        log = (tmp_path / "serve.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "capwatch", "--config", str(config), "serve"],
            env=env,
            stdout=log,
            stderr=log,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            polls = logged = 0
            deadline = time.monotonic() + 120
            while polls < 30 and time.monotonic() < deadline:
                assert proc.poll() is None, (tmp_path / "serve.log").read_text()[-2000:]
                try:
                    r = httpx.post(
                        f"{base}/api/v1/accounts/isp/poll",
                        headers={"X-Capwatch-Request": "1"},
                        timeout=30,
                    )
                    assert r.status_code == 200, r.text
                    polls += 1
                    logged += 0 if r.json()["skipped"] else 1
                except httpx.TransportError:
                    time.sleep(0.3)
            assert polls >= 30
            assert proc.poll() is None
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(30) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(30)
            log.close()
    store = open_store(f"sqlite:///{tmp_path / 'data' / 'capwatch.db'}")
    try:
        entries = store.poll_log("isp", limit=1000)
        assert len(entries) >= logged
        assert all(str(e.outcome) != "internal" for e in entries)
        stored = store.readings("isp")
        assert len({r.observed_at for r in stored}) == len(stored)
        assert all(state.answers.get(_iso(r.observed_at)) == r.used_bytes for r in stored)
        assert store.integrity_check() == "ok"
    finally:
        store.close()


def _iso(at: object) -> str:
    return at.isoformat(timespec="microseconds")  # type: ignore[attr-defined]
