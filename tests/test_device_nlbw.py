"""The nlbw device source against the fake OpenWrt router (rpcd sessions, ``file exec`` of
luci-app-nlbwmon's helper answering the real nlbw table): reads with growing totals, an
accounting period rolling over, nlbwmon restarting from its saved database, a restart of the
source, expired sessions, wrong credentials and a missing ACL; stored bytes are the deltas
exactly."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from capwatch.config.devices import NlbwSettings
from capwatch.devices.nlbw import NlbwSource, current_period, exec_stdout, parse_table
from capwatch.errors import BadResponse, StoreError
from capwatch.store import Store, open_store
from tests.fakes._server import serve
from tests.fakes.openwrt import PASSWORD, OpenwrtState, make_app
from tests.fixtures.common import FakeClock, free_port

REAL = Path(__file__).parent / "data" / "real" / "nlbw"
NOON = datetime(2026, 12, 1, 17, tzinfo=UTC)
PHONE, LAPTOP = "a4:83:e7:2b:11:04", "3c:22:fb:91:aa:17"  # the real table's hosts


def test_parse_the_real_table_and_periods() -> None:
    text = (REAL / "download_mac_ip.json").read_text()
    got = parse_table(text, "2026-12-01", "nlbw x")
    assert [(r.client, r.address, r.mac, r.value, r.mark) for r in got] == [
        (f"{PHONE}/192.168.1.115", "192.168.1.115", PHONE, 8402334721 + 412883912, "2026-12-01"),
        (f"{LAPTOP}/192.168.1.132", "192.168.1.132", LAPTOP, 2140998233 + 98221044, "2026-12-01"),
    ]
    assert current_period((REAL / "periods.json").read_text(), "x") == "2026-12-01"
    assert current_period('{ "periods": [  ] }', "x") is None


def test_columns_are_looked_up_by_name_and_unknown_macs_dropped() -> None:
    text = (
        '{"columns":["tx_bytes","ip","rx_bytes","mac"],"data":'
        '[[5,"192.168.1.9",7,"00:00:00:00:00:00"],[1,"fd00::9",2,"00:00:00:00:00:00"]]}'
    )
    got = parse_table(text, None, "x")
    assert [(r.client, r.mac, r.value) for r in got] == [
        ("ip/192.168.1.9", None, 12),
        ("ip/fd00::9", None, 3),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<html>", r"^x: expected JSON, got HTML$"),
        ('{"columns":["mac","ip"],"data":[]}', r"^x: the table has no rx_bytes, tx_bytes column$"),
        ('{"columns":["mac","ip","rx_bytes","tx_bytes"],"data":[["zz","1.2.3.4",1,2]]}',
         r"^x data\[0\] mac: not a MAC address: 'zz'$"),
    ],
)  # fmt: skip
def test_bad_tables_name_the_place(text: str, message: str) -> None:
    with pytest.raises(BadResponse, match=message):
        parse_table(text, None, "x")


def test_a_failed_helper_is_a_bad_response() -> None:
    with pytest.raises(BadResponse, match=r"^x: exited 1: Unknown option -q$"):
        exec_stdout({"code": 1, "stderr": "Unknown option -q\n"}, "x")


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A store (SQLite, then PostgreSQL) with the account ``home`` (New York time)."""
    st = open_store(store_url)
    st.ensure_account("home", "host", "America/New_York")
    yield st
    st.close()


def settings(url: str, **kw: Any) -> NlbwSettings:
    """An nlbw source of account ``home`` at ``url``."""
    values = {"kind": "nlbw", "account": "home", "url": f"{url}/ubus", "password": PASSWORD}
    return NlbwSettings(**(values | kw))  # type: ignore[arg-type]


def per_device(store: Store) -> dict[str, int]:
    """Stored bytes per device key, over all days."""
    out: dict[str, int] = {}
    for d in store.device_days("home"):
        assert d.source == "nlbw"
        out[d.key] = out.get(d.key, 0) + d.bytes
    return out


async def test_reads_rollover_restore_restart_and_expiry(store: Store) -> None:
    state = OpenwrtState(mode="expire")  # every session dies after one call: re-logins
    state.nlbw_rows = [(PHONE, "192.168.1.115", 1_000, 100), (PHONE, "fd00::115", 50, 5)]
    with serve(make_app(state), port=free_port()) as url:
        source = NlbwSource(settings(url), store, clock=FakeClock(NOON))
        assert await source.poll() == 0  # the baseline
        state.nlbw_rows = [
            (PHONE, "192.168.1.115", 3_000, 300),
            (PHONE, "fd00::115", 50, 5),
            (LAPTOP, "192.168.1.132", 700, 70),  # appeared since: all of it is new
        ]
        assert await source.poll() == 2_200 + 770
        await source.stop()

        source = NlbwSource(settings(url), store, clock=FakeClock(NOON))  # a restart
        state.nlbw_rows = [(PHONE, "192.168.1.115", 3_500, 300), (LAPTOP, "192.168.1.132", 900, 70)]
        assert await source.poll() == 500 + 200
        # The router rebooted: nlbwmon restored its last saved totals (counted already).
        state.nlbw_rows = [(PHONE, "192.168.1.115", 2_000, 200), (LAPTOP, "192.168.1.132", 900, 70)]
        assert await source.poll() == 0
        state.nlbw_rows = [(PHONE, "192.168.1.115", 2_400, 200), (LAPTOP, "192.168.1.132", 900, 70)]
        assert await source.poll() == 400
        # The accounting period rolls over: the new period's totals count from 0.
        state.nlbw_periods.append("2027-01-01")
        state.nlbw_rows = [(PHONE, "192.168.1.115", 60, 6)]
        assert await source.poll() == 66
        await source.stop()
    phone, laptop = f"mac:{PHONE}", f"mac:{LAPTOP}"
    assert per_device(store) == {phone: 2_200 + 500 + 400 + 66, laptop: 770 + 200}
    assert state.logins >= 6  # each read logged in again after its session expired


async def test_wrong_password_asks_to_check_the_credentials(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    state = OpenwrtState()
    caplog.set_level(logging.WARNING)
    with serve(make_app(state), port=free_port()) as url:
        source = NlbwSource(settings(url, password="not-the-password"), store)
        assert await source.poll() is None
        await source.stop()
    [line] = [r.getMessage() for r in caplog.records if r.name == "capwatch.devices.polled"]
    assert line.startswith("nlbw 127.0.0.1:")
    assert "read failed (retrying in 300s)" in line
    assert "rpcd refused user 'root'" in line
    assert line.endswith("; please check the credentials (user 'root')")
    assert "not-the-password" not in caplog.text
    assert store.device_days("home") == [] and state.logins == 0


async def test_a_user_whose_acl_has_no_nlbwmon_is_told_what_to_install(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    state = OpenwrtState(mode="deny_always")
    with serve(make_app(state), port=free_port()) as url:
        source = NlbwSource(settings(url), store)
        assert await source.poll() is None
        await source.stop()
    assert "install luci-app-nlbwmon" in caplog.text
    assert store.device_counters("home", source.scope) == {}


def test_serve_runs_the_source_and_stops_on_sigterm(tmp_path: Path) -> None:
    state = OpenwrtState()
    state.nlbw_rows = [(PHONE, "192.168.1.115", 1_000, 100)]
    config = tmp_path / "capwatch.toml"
    with serve(make_app(state), port=free_port()) as url:
        config.write_text(
            '[[accounts]]\nname = "home"\nprovider = "host"\n'
            '[accounts.cycle]\ntimezone = "America/New_York"\n'
            f'[[device_sources]]\nkind = "nlbw"\naccount = "home"\nurl = "{url}/ubus"\n'
            'password = {env = "NLBW_TEST_PASSWORD"}\n'
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAPWATCH_")}
        env.update(
            CAPWATCH_DATA_DIR=str(tmp_path / "data"),
            CAPWATCH_WEB__PORT=str(free_port()),
            XDG_CONFIG_HOME=str(tmp_path / "config"),
            NLBW_TEST_PASSWORD=PASSWORD,
        )
        log = tmp_path / "serve.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "capwatch", "--config", str(config), "serve"],
                env=env,
                stdout=out,
                stderr=out,
            )
        scope = f"nlbw:{url.removeprefix('http://')}"
        db = tmp_path / "data" / "capwatch.db"
        try:
            deadline = time.monotonic() + 60  # bounded: until the first read was stored
            while not (counters := _counters(db, scope)) and time.monotonic() < deadline:
                assert proc.poll() is None, log.read_text()[-2000:]
                time.sleep(0.1)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(60) == 0, log.read_text()[-2000:]
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(30)
    assert "nlbw device source for home reading 127.0.0.1:" in log.read_text()
    assert {c.client: c.value for c in counters.values()} == {f"{PHONE}/192.168.1.115": 1_100}


def _counters(db: Path, scope: str) -> dict[str, Any]:
    """The counter state stored for ``scope`` (empty before the database exists)."""
    if not db.exists():
        return {}
    try:
        st = open_store(f"sqlite:///{db}", migrate=False)
    except StoreError:  # serve is still migrating it
        return {}
    try:
        return dict(st.device_counters("home", scope))
    except StoreError:
        return {}
    finally:
        st.close()


async def test_a_router_that_is_down_is_one_line_and_retried(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    source = NlbwSource(settings(f"http://127.0.0.1:{free_port()}", timeout_s=5), store)
    assert await source.poll() is None
    assert await source.poll() is None  # the next interval tries again
    await source.stop()
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 2 and all("read failed (retrying in 300s)" in x for x in lines)
    assert "cannot connect to 127.0.0.1" in lines[0]
