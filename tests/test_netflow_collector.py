"""The netflow collector in-process and inside `capwatch serve`: real recorded exports over UDP
on loopback, what it counted stored once, and kept when a write fails."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from capwatch.config.devices import NetflowSettings
from capwatch.devices.netflow import NetflowCollector
from capwatch.errors import StoreError
from capwatch.store import Store, open_store
from tests.fixtures.common import FakeClock, free_port
from tests.test_netflow_decode import packet

NOON = datetime(2026, 12, 1, 17, tzinfo=UTC)  # noon in New York
LAN = ["172.17.0.0/16", "fde6:6f14:e0f1:9609::/64"]
# What the recorded IPFIX exports hold for the two LAN devices (see test_netflow_decode).
EXPECTED = {"ip:172.17.0.2": 7_838, "ip:fde6:6f14:e0f1:9609:0:242:ac11:2": 468}


def free_udp_port() -> int:
    """A UDP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def settings(port: int, **kw: Any) -> NetflowSettings:
    """A netflow source of account ``home`` on 127.0.0.1:``port``."""
    values: dict[str, Any] = {"kind": "netflow", "account": "home", "port": port, "lan": LAN}
    values.update(kw)
    return NetflowSettings(**values)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An SQLite store with the account ``home`` (New York time)."""
    st = open_store(f"sqlite:///{tmp_path / 'capwatch.db'}")
    st.ensure_account("home", "xfinity", "America/New_York")
    yield st
    st.close()


def per_device(store: Store) -> dict[str, int]:
    """Stored bytes per device key, over all days."""
    out: dict[str, int] = {}
    for d in store.device_days("home"):
        out[d.key] = out.get(d.key, 0) + d.bytes
    return out


async def test_udp_exports_are_counted_and_stored_at_stop(store: Store) -> None:
    collector = NetflowCollector(settings(free_udp_port()), store, clock=FakeClock(NOON))
    await collector.start()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(packet("ipfix_two_data_sets"), ("127.0.0.1", collector.port))  # no template
        s.sendto(packet("ipfix_templates_and_flows"), ("127.0.0.1", collector.port))
        s.sendto(b"\x00\x07not netflow", ("127.0.0.1", collector.port))
    for _ in range(500):  # bounded: until the three datagrams were read
        if collector.packets == 3:
            break
        await asyncio.sleep(0.01)
    assert collector.packets == 3 and collector.bad_packets == 1
    assert collector.pending_bytes() == sum(EXPECTED.values())
    assert store.device_days("home") == []  # nothing written before the flush interval
    await collector.stop()
    assert per_device(store) == EXPECTED
    assert {d.day for d in store.device_days("home")} == {date(2026, 12, 1)}
    assert collector.pending_bytes() == 0


async def test_a_restart_adds_to_what_was_stored(store: Store) -> None:
    for _ in range(2):
        collector = NetflowCollector(settings(free_udp_port()), store, clock=FakeClock(NOON))
        await collector.start()
        collector.feed(packet("ipfix_templates_and_flows"), "192.0.2.1")
        collector.feed(packet("ipfix_two_data_sets"), "192.0.2.1")
        await collector.stop()
    assert per_device(store) == {k: 2 * v for k, v in EXPECTED.items()}


class FlakyStore:
    """Fails the first device write, then passes writes to the real store."""

    def __init__(self, real: Store) -> None:
        self.real = real
        self.failures = 1

    def add_device_traffic(self, *args: Any, **kw: Any) -> int:
        if self.failures:
            self.failures -= 1
            raise StoreError("database is locked")
        return self.real.add_device_traffic(*args, **kw)


async def test_a_failed_write_keeps_the_tally_for_the_next(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    flaky = FlakyStore(store)
    collector = NetflowCollector(settings(free_udp_port()), flaky, clock=FakeClock(NOON))  # type: ignore[arg-type]
    collector.feed(packet("ipfix_templates_and_flows"), "192.0.2.1")
    assert await collector.flush() == 0
    assert "kept for later" in caplog.text and "database is locked" in caplog.text
    collector.feed(packet("ipfix_two_data_sets"), "192.0.2.1")
    assert await collector.flush() == sum(EXPECTED.values())
    assert per_device(store) == EXPECTED
    # the bytes by when they passed were kept with them (the recorded flows are of 2020)
    slots = store.flow_slots("home", datetime(2020, 1, 1, tzinfo=UTC), NOON)
    assert sum(slots.values()) == sum(EXPECTED.values())


async def test_a_taken_port_is_a_one_line_error(store: Store) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        collector = NetflowCollector(settings(port), store)
        with pytest.raises(
            OSError, match=rf"^device_sources netflow: cannot listen on 127\.0\.0\.1:{port}: "
        ):
            await collector.start()


def test_serve_runs_the_collector_and_stores_on_sigterm(tmp_path: Path) -> None:
    udp, web = free_udp_port(), free_port()
    config = tmp_path / "capwatch.toml"
    config.write_text(
        '[[accounts]]\nname = "home"\nprovider = "host"\n'
        '[accounts.cycle]\ntimezone = "America/New_York"\n'
        f'[[device_sources]]\nkind = "netflow"\naccount = "home"\nport = {udp}\n'
        f"lan = {LAN!r}\nflush_interval_s = 0.2\n".replace("'", '"')
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAPWATCH_")}
    env.update(
        CAPWATCH_DATA_DIR=str(tmp_path / "data"),
        CAPWATCH_WEB__PORT=str(web),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
    )
    log = tmp_path / "serve.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "capwatch", "--config", str(config), "serve"],
            env=env,
            stdout=out,
            stderr=out,
        )
    db = tmp_path / "data" / "capwatch.db"
    try:
        _wait_for(lambda: "listening on 127.0.0.1" in log.read_text(), proc, log)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(packet("ipfix_templates_and_flows"), ("127.0.0.1", udp))
            s.sendto(packet("ipfix_two_data_sets"), ("127.0.0.1", udp))
        _wait_for(lambda: _stored(db) == EXPECTED, proc, log)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0, log.read_text()[-2000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
    assert _stored(db) == EXPECTED  # stored once: the stop's flush had nothing left to add


def _stored(db: Path) -> dict[str, int]:
    if not db.exists():
        return {}
    st = open_store(f"sqlite:///{db}", migrate=False)
    try:
        return per_device(st)
    except StoreError:
        return {}
    finally:
        st.close()


def _wait_for(pred: Any, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"capwatch exited {proc.returncode}: {log.read_text()[-2000:]}")
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError(f"not seen in time: {log.read_text()[-2000:]}")
