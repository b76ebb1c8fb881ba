"""`capwatch serve` as a user runs it: embedded defaults, a reading, SIGTERM, kill -9."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from capwatch.store import open_store
from tests.fakes import meter
from tests.fakes._server import serve
from tests.fixtures.common import free_port

START_LIMIT_S = 60.0


def _env(tmp_path: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAPWATCH_")}
    env.update(
        CAPWATCH_DATA_DIR=str(tmp_path / "data"),
        CAPWATCH_WEB__PORT=str(port),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        PYTHONUNBUFFERED="1",
    )
    return env


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "capwatch", *args], env=env, stdout=handle, stderr=handle
    )


def _wait_json(url: str, proc: subprocess.Popen[bytes], log: Path, pred: object) -> object:
    deadline = time.monotonic() + START_LIMIT_S
    last: object = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"capwatch exited {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            last = httpx.get(url, timeout=5).json()
            if pred(last):  # type: ignore[operator]
                return last
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"no answer from {url} in time; last {last!r}; {log.read_text()[-2000:]}")


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    port = free_port()
    log = tmp_path / "serve.log"
    proc = _start(["serve"], _env(tmp_path, port), log)
    yield proc, port, log
    if proc.poll() is None:
        proc.kill()
        proc.wait(30)


def test_serve_on_embedded_defaults_shows_host_reading(
    daemon: tuple[subprocess.Popen[bytes], int, Path], tmp_path: Path
) -> None:
    proc, port, log = daemon
    base = f"http://127.0.0.1:{port}"
    accounts = _wait_json(
        f"{base}/api/v1/accounts",
        proc,
        log,
        lambda d: bool(d) and d[0]["used_bytes"] is not None,
    )
    assert isinstance(accounts, list)
    assert accounts[0]["account"] == "host"
    assert accounts[0]["cap_bytes"] == 10**12
    page = httpx.get(base + "/", timeout=5).text
    assert 'data-account="host"' in page
    assert "1.00 TB" in page and "What this measures" in page  # the first-run explanation
    from capwatch.lan import default_gateways

    gateways = default_gateways()  # this machine's own, read as the daemon read them
    if gateways:
        assert f"probably <code>{gateways[0].split(' (')[0]}</code>" in page
    assert (tmp_path / "data" / "capwatch.db").exists()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    store = open_store(f"sqlite:///{tmp_path / 'data' / 'capwatch.db'}")
    try:
        assert len(store.readings("host")) >= 1
        assert store.integrity_check() == "ok"
    finally:
        store.close()


def test_kill_9_while_polling_loses_no_committed_reading(tmp_path: Path) -> None:
    state = meter.MeterState(step_bytes=10**8)
    rng = random.Random(7)
    with serve(meter.build(state)) as meter_url:
        config = tmp_path / "capwatch.toml"
        config.write_text(
            '[[accounts]]\nname = "isp"\nprovider = "http_json"\ncap = "provider"\n'
            f"[accounts.options]\n{meter.provider_options(meter_url)}"
        )
        db = tmp_path / "data" / "capwatch.db"
        acknowledged: set[int] = set()
        for round_ in range(4):
            port = free_port()
            log = tmp_path / f"serve-{round_}.log"
            proc = _start(["--config", str(config), "serve"], _env(tmp_path, port), log)
            base = f"http://127.0.0.1:{port}"
            _wait_json(f"{base}/healthz", proc, log, lambda d: d.get("status") == "ok")
            for _ in range(rng.randint(3, 8)):
                r = httpx.post(
                    f"{base}/api/v1/accounts/isp/poll",
                    headers={"X-Capwatch-Request": "1"},
                    timeout=30,
                ).json()
                if r["stored"]:
                    acknowledged.add(r["reading"]["used_bytes"])
            # a poll in flight when the process dies
            with contextlib.suppress(httpx.TimeoutException):
                httpx.post(
                    f"{base}/api/v1/accounts/isp/poll",
                    headers={"X-Capwatch-Request": "1"},
                    timeout=rng.uniform(0.001, 0.05),
                )
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
            store = open_store(f"sqlite:///{db}")
            try:
                assert store.integrity_check() == "ok"
                stored = {r.used_bytes for r in store.readings("isp")}
            finally:
                store.close()
            assert acknowledged <= stored
    assert len(acknowledged) >= 12


SERVE_MODULES_SCRIPT = """
import asyncio, json, os, signal, sys, urllib.request
from capwatch.config import load_settings
from capwatch.service.daemon import run

def get(url):  # urllib, not httpx: the check is about what the daemon itself imports
    with urllib.request.urlopen(url, timeout=5) as answer:
        return answer.status, answer.read().decode()

async def main():
    ready = asyncio.Event()
    task = asyncio.create_task(run(load_settings(), on_ready=lambda url: ready.set()))
    await ready.wait()
    base = f"http://127.0.0.1:{os.environ['CAPWATCH_WEB__PORT']}"
    for _ in range(200):
        try:
            status, body = await asyncio.to_thread(get, base + "/api/v1/accounts")
            if json.loads(body)[0].get("used_bytes") is not None:
                break
        except OSError:
            pass
        await asyncio.sleep(0.3)
    page_status, _ = await asyncio.to_thread(get, base + "/")
    print("pages", status, page_status)
    loaded = {m for m, mod in sys.modules.items() if mod is not None}
    unused = {"alembic", "mako", "rich", "pygments", "prometheus_client"}
    print("carried", sorted({m.split(".")[0] for m in loaded} & unused
        | {m for m in loaded if m in ("pydantic.v1", "httpx._main")}))
    _, scrape = await asyncio.to_thread(get, base + "/metrics")  # loads prometheus_client
    print("scrape", 'capwatch_usage_bytes{account="host"}' in scrape)
    os.kill(os.getpid(), signal.SIGTERM)
    await task

asyncio.run(main())
"""


def test_serve_does_not_carry_libraries_it_never_uses(tmp_path: Path) -> None:
    """A first start migrates in a child; httpx's CLI, pydantic.v1 and the Prometheus client
    (until the first scrape) stay unloaded: they would sit in the daemon's RSS for months."""
    env = _env(tmp_path, free_port())
    out = subprocess.run(
        [sys.executable, "-c", SERVE_MODULES_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    assert "pages 200 200" in lines, out.stdout
    assert "carried []" in lines, out.stdout
    assert "scrape True" in lines, out.stdout
    store = open_store(f"sqlite:///{tmp_path / 'data' / 'capwatch.db'}", migrate=False)
    try:
        assert store.latest_reading("host") is not None  # the migrated store took a reading
    finally:
        store.close()


def test_point_4_a_second_serve_on_one_sqlite_store_refuses_to_start(
    daemon: tuple[subprocess.Popen[bytes], int, Path], tmp_path: Path
) -> None:
    """Two daemons on one SQLite store would both poll the ISP: the second names the first."""
    proc, port, log = daemon
    _wait_json(f"http://127.0.0.1:{port}/api/v1/accounts", proc, log, lambda d: bool(d))
    second = subprocess.run(
        [sys.executable, "-m", "capwatch", "serve"],
        env=_env(tmp_path, free_port()),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 2, second.stderr
    (line,) = second.stderr.strip().splitlines()
    assert f"PID {proc.pid}" in line and "already runs" in line and "PostgreSQL" in line
    assert proc.poll() is None  # the first one is unharmed
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    log2, port2 = tmp_path / "again.log", free_port()
    again = _start(["serve"], _env(tmp_path, port2), log2)  # the store is free after a stop
    try:
        _wait_json(f"http://127.0.0.1:{port2}/healthz", again, log2, bool)
    finally:
        again.kill()
        again.wait(30)
