"""The unifi device source against a fake UniFi OS console and a fake classic controller over
HTTPS on 127.0.0.1 (aiounifi's real client records): reads with growing counters, a reconnect,
a restart of the source, an expired session and wrong credentials; stored bytes are the deltas
exactly."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from capwatch.config.devices import UnifiSettings
from capwatch.devices.unifi import UnifiSource, parse_clients
from capwatch.errors import BadResponse, MissingExtra
from capwatch.store import Store, open_store
from tests.fakes._server import serve
from tests.fakes.unifi import PASSWORD, WIRED_MAC, WIRELESS_MAC, UnifiState, make_app
from tests.fixtures.common import FakeClock, free_port
from tests.fixtures.mosquitto import make_certs

REAL = Path(__file__).parent / "data" / "real" / "unifi"
NOON = datetime(2026, 12, 1, 17, tzinfo=UTC)
WIRED, WIRELESS = f"mac:{WIRED_MAC}", f"mac:{WIRELESS_MAC}"


def test_parse_real_client_records() -> None:
    wired = json.loads((REAL / "stat_sta_wired_client.json").read_text())
    wireless = json.loads((REAL / "stat_sta_wireless_client.json").read_text())
    no_ip = {k: v for k, v in wireless.items() if k != "ip"} | {"mac": "00:00:00:00:00:02"}
    got = parse_clients({"meta": {"rc": "ok"}, "data": [wired, wireless, no_ip]}, "unifi x")
    assert [(r.client, r.address, r.value, r.mark) for r in got] == [
        (WIRED_MAC, "192.168.0.2", 0, "1642487042"),  # wired-rx_bytes + wired-tx_bytes
        (WIRELESS_MAC, "192.168.0.1", 12_867_114 + 52_852_089, "1587753456"),
    ]


def test_a_reply_without_clients_is_a_bad_response() -> None:
    with pytest.raises(BadResponse, match=r"^unifi x: stat/sta: no data list$"):
        parse_clients({"meta": {"rc": "ok"}}, "unifi x")


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A throw-away certificate for the fake console."""
    certs = make_certs(tmp_path_factory.mktemp("unifi-certs"))
    return str(certs["server.crt"]), str(certs["server.key"])


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """An SQLite store with the account ``home`` (New York time)."""
    st = open_store(f"sqlite:///{tmp_path / 'capwatch.db'}")
    st.ensure_account("home", "host", "America/New_York")
    yield st
    st.close()


def settings(port: int, **kw: Any) -> UnifiSettings:
    """A unifi source of account ``home`` on 127.0.0.1:``port``."""
    values: dict[str, Any] = {
        "kind": "unifi",
        "account": "home",
        "host": "127.0.0.1",
        "port": port,
        "user": "capwatch",
        "password": PASSWORD,
    }
    return UnifiSettings(**(values | kw))


def per_device(store: Store) -> dict[str, int]:
    """Stored bytes per device key, over all days."""
    out: dict[str, int] = {}
    for d in store.device_days("home"):
        assert d.source == "unifi"
        out[d.key] = out.get(d.key, 0) + d.bytes
    return out


@pytest.mark.parametrize("unifi_os", [True, False], ids=["unifi_os", "classic"])
async def test_reads_restart_reconnect_and_expiry(
    unifi_os: bool, tls: tuple[str, str], store: Store
) -> None:
    state = UnifiState(unifi_os=unifi_os)
    state.clients = {WIRED_MAC: (1_000, 2_000, 100), WIRELESS_MAC: (10_000, 50_000, 200)}
    port = free_port()
    with serve(make_app(state), port=port, tls=tls):
        source = UnifiSource(settings(port), store, clock=FakeClock(NOON))
        assert await source.poll() == 0  # the baseline: nothing from before capwatch watched
        state.clients = {WIRED_MAC: (1_500, 2_100, 100), WIRELESS_MAC: (12_000, 58_000, 200)}
        assert await source.poll() == 600 + 10_000
        await source.stop()

        # A restart: the state comes back from the store; the console forgot the session too.
        state.expire_sessions()
        source = UnifiSource(settings(port), store, clock=FakeClock(NOON))
        state.clients = {WIRED_MAC: (1_600, 2_100, 100), WIRELESS_MAC: (12_500, 58_000, 200)}
        assert await source.poll() == 100 + 500
        # The phone reconnects: a new session whose counters began at 0.
        state.clients = {WIRED_MAC: (1_600, 2_100, 100), WIRELESS_MAC: (300, 700, 900)}
        assert await source.poll() == 1_000
        # Its session expired on the console: aiounifi logs in again and the read goes on.
        state.expire_sessions()
        state.clients = {WIRED_MAC: (1_600, 2_100, 100), WIRELESS_MAC: (400, 900, 900)}
        assert await source.poll() == 300
        await source.stop()
    assert per_device(store) == {WIRED: 600 + 100, WIRELESS: 10_000 + 500 + 1_000 + 300}
    assert state.logins == 3 and state.refused_logins == 0


@pytest.mark.parametrize("unifi_os", [True, False], ids=["unifi_os", "classic"])
async def test_wrong_password_is_one_line_asking_to_check_the_credentials(
    unifi_os: bool, tls: tuple[str, str], store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    state = UnifiState(unifi_os=unifi_os, password="the-real-one")
    state.clients = {WIRELESS_MAC: (10_000, 50_000, 200)}
    port = free_port()
    caplog.set_level(logging.DEBUG)
    with serve(make_app(state), port=port, tls=tls):
        source = UnifiSource(settings(port, password="not-the-password"), store)
        assert await source.poll() is None
        await source.stop()
    assert not [r for r in caplog.records if r.name.startswith("aiounifi")]  # its DEBUG: no
    lines = [r.getMessage() for r in caplog.records if r.name == "capwatch.devices.polled"]
    assert lines == [
        f"unifi 127.0.0.1:{port}/default: read failed (retrying in 300s): unifi 127.0.0.1:"
        f"{port}/default: the login was refused (wrong user or password); please check the "
        "credentials (user 'capwatch')"
    ]
    assert "not-the-password" not in caplog.text
    assert state.refused_logins == 1 and store.device_days("home") == []


async def test_a_console_that_is_down_is_retried(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    source = UnifiSource(settings(free_port(), timeout_s=5), store)
    assert await source.poll() is None
    await source.stop()
    assert source.failures == 1
    assert "read failed (retrying in 300s): unifi 127.0.0.1:" in caplog.text
    assert "cannot connect" in caplog.text
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1


async def test_without_aiounifi_the_source_does_not_start(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("capwatch.devices.unifi.find_spec", lambda name: None)
    source = UnifiSource(settings(free_port()), store)
    with pytest.raises(MissingExtra, match=r"capwatch\[unifi\]"):
        await source.start()
