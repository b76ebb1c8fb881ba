"""SNMP provider: pure helpers, and the real net-snmp agent over v1, v2c and v3."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psutil
import pytest

from capwatch.errors import AuthRequired, CannotConnect, ConfigError
from capwatch.providers.base import ProviderContext, load_provider
from capwatch.providers.snmp import (
    IfRow,
    SnmpOptions,
    SnmpProvider,
    boot_instant,
    build_rows,
    choose_rows,
    epoch_label,
    same_boot,
    samples_from,
)
from capwatch.secrets import Secret
from tests.fixtures.snmpd import SnmpdServer, snmpd_free_udp_port

ROWS = [
    IfRow(1, "lo", "lo", 24),
    IfRow(2, "eth0", "Intel Ethernet", 6),
    IfRow(3, "wan", "pppoe-wan", 23),
]


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        (None, [2, 3]),
        (["lo"], [1]),
        (["Intel Ethernet"], [2]),
        (["pppoe-wan", "wan"], [3]),
        (["eth0", "lo"], [2, 1]),
    ],
)
def test_choose_rows(wanted: list[str] | None, expected: list[int]) -> None:
    assert [r.index for r in choose_rows(ROWS, wanted)] == expected


def test_choose_rows_unknown_is_named() -> None:
    with pytest.raises(
        ConfigError, match=r"^snmp\.interfaces: no interface named wlan9 \(found: lo, eth0, wan\)$"
    ):
        choose_rows(ROWS, ["eth0", "wlan9"])


def test_epoch_helpers() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    boot = boot_instant(now, 360_000)  # one hour of TimeTicks
    assert boot == datetime(2025, 1, 1, 11, 0, 0, tzinfo=UTC)
    assert epoch_label(boot + timedelta(seconds=29)) == "boot:2025-01-01T11:00:00+00:00"
    assert epoch_label(boot + timedelta(seconds=31)) == "boot:2025-01-01T11:01:00+00:00"
    assert same_boot(boot, boot + timedelta(seconds=31))  # jitter over a rounding edge
    assert same_boot(boot, boot + timedelta(seconds=2**32 / 100 + 3))  # sysUpTime wrapped
    assert not same_boot(boot, boot + timedelta(hours=2))  # a reboot


def test_epoch_kept_steady_in_process(data_dir: Path) -> None:
    provider = _provider(data_dir, host="127.0.0.1")
    boot = datetime(2025, 1, 1, 11, 0, 29, 900000, tzinfo=UTC)
    first = provider.epoch_for(boot)
    assert provider.epoch_for(boot + timedelta(seconds=0.2)) == first  # would round up alone
    assert provider.epoch_for(boot + timedelta(days=3)) != first


def test_build_rows_and_samples() -> None:
    rows = build_rows({1: b"lo", 2: b"eth0", 3: b"eth0"}, {1: 24, 2: 6, 3: 6}, {2: b"", 1: b"lo"})
    assert rows == [
        IfRow(1, "lo", "lo", 24),
        IfRow(2, "eth0", "eth0", 6),
        IfRow(3, "eth0", "eth0", 6),
    ]
    samples = samples_from(rows[1:], {2: (10, 20, 64), 3: (30, 40, 32)}, "rx", "boot:x")
    assert [(s.key, s.value, s.width) for s in samples] == [
        ("eth0#2:rx", 10, 64),
        ("eth0#3:rx", 30, 32),
    ]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"version": "3"}, "version 3 needs user"),
        ({"version": "3", "user": "u", "priv_key": "p"}, "priv_key needs auth_key"),
        ({"port": 0}, "port"),
        ({"version": "2"}, "version"),
    ],
)
def test_bad_options(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SnmpOptions(host="router", **options)


def _provider(data_dir: Path, **options: Any) -> SnmpProvider:
    return SnmpProvider(SnmpOptions(**options), ProviderContext("home", ZoneInfo("UTC"), data_dir))


def _agent(server: SnmpdServer, data_dir: Path, **options: Any) -> SnmpProvider:
    base: dict[str, Any] = {
        "host": server.host,
        "port": server.port,
        "community": Secret.literal(server.community),
        "timeout_s": 2.0,
        "retries": 1,
    }
    return _provider(data_dir, **{**base, **options})


async def _lo_between_psutil_reads(provider: SnmpProvider) -> dict[str, int]:
    """Fetch ``lo`` until the agent's (cached) figures sit between two psutil reads."""
    values: dict[str, int] = {}
    for _ in range(40):  # net-snmp caches the interface table for a few seconds
        before = psutil.net_io_counters(pernic=True, nowrap=False)["lo"]
        snap = await provider.fetch(None)  # type: ignore[arg-type]
        after = psutil.net_io_counters(pernic=True, nowrap=False)["lo"]
        values = {c.key: c.value for c in snap.counters}
        width = snap.counters[0].width
        rx = [v % 2**width for v in (before.bytes_recv, after.bytes_recv)]
        if rx[0] <= values["lo:rx"] <= rx[1] and rx[0] <= rx[1]:
            return values
        await asyncio.sleep(0.5)
    raise AssertionError(f"agent's lo counters never matched psutil's: {values}")


async def test_v2c_reads_real_lo_64_bit(snmpd_server: SnmpdServer, data_dir: Path) -> None:
    assert load_provider("snmp") is SnmpProvider
    provider = _agent(snmpd_server, data_dir, interfaces=["lo"])
    snap = await provider.fetch(None)  # type: ignore[arg-type]
    assert [c.key for c in snap.counters] == ["lo:rx", "lo:tx"]
    assert {c.width for c in snap.counters} == {64}
    assert snap.raw == {"interfaces": ["lo"], "uptime_source": "hrSystemUptime", "widths": [64]}
    # the boot instant on this process's clock: now less the host's uptime (psutil.boot_time
    # is the kernel's, which differs when the clock is not the kernel's, as under faketime)
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    boot = datetime.now(UTC) - timedelta(seconds=uptime)
    epoch = datetime.fromisoformat(snap.counters[0].epoch.removeprefix("boot:"))
    assert abs((epoch - boot).total_seconds()) <= 90  # hrSystemUptime is the host's uptime
    values = await _lo_between_psutil_reads(provider)
    assert values["lo:tx"] > 0
    again = await provider.fetch(None)  # type: ignore[arg-type]
    assert again.counters[0].epoch == snap.counters[0].epoch


async def test_v1_falls_back_to_32_bit(snmpd_server: SnmpdServer, data_dir: Path) -> None:
    provider = _agent(snmpd_server, data_dir, interfaces=["lo"], version="1", direction="rx")
    snap = await provider.fetch(None)  # type: ignore[arg-type]
    assert [(c.key, c.width) for c in snap.counters] == [("lo:rx", 32)]
    assert 0 <= snap.counters[0].value < 2**32
    await _lo_between_psutil_reads(provider)


async def test_default_skips_loopback(snmpd_server: SnmpdServer, data_dir: Path) -> None:
    snap = await _agent(snmpd_server, data_dir).fetch(None)  # type: ignore[arg-type]
    names = {c.key.rsplit(":", 1)[0] for c in snap.counters}
    assert "lo" not in names
    assert names == {n for n in psutil.net_io_counters(pernic=True) if n != "lo"}


async def test_v3_auth_priv(snmpd_server: SnmpdServer, data_dir: Path) -> None:
    provider = _agent(
        snmpd_server,
        data_dir,
        version="3",
        user=snmpd_server.user,
        auth_key=Secret.literal(snmpd_server.auth_key),
        priv_key=Secret.literal(snmpd_server.priv_key),
        interfaces=["lo"],
    )
    snap = await provider.fetch(None)  # type: ignore[arg-type]
    assert [c.key for c in snap.counters] == ["lo:rx", "lo:tx"]
    wrong = _agent(
        snmpd_server,
        data_dir,
        version="3",
        user=snmpd_server.user,
        auth_key=Secret.literal("not-the-password"),
        priv_key=Secret.literal(snmpd_server.priv_key),
        retries=0,
    )
    with pytest.raises(AuthRequired, match="credentials refused") as info:
        await wrong.fetch(None)  # type: ignore[arg-type]
    assert "not-the-password" not in str(info.value)


async def test_wrong_community_times_out(snmpd_server: SnmpdServer, data_dir: Path) -> None:
    provider = _agent(
        snmpd_server, data_dir, community=Secret.literal("guessme"), timeout_s=0.3, retries=0
    )
    with pytest.raises(
        CannotConnect, match=rf"^snmp 127\.0\.0\.1:{snmpd_server.port}: no answer"
    ) as info:
        await provider.fetch(None)  # type: ignore[arg-type]
    assert "guessme" not in str(info.value)


async def test_unknown_interface(snmpd_server: SnmpdServer, data_dir: Path) -> None:
    with pytest.raises(ConfigError, match="no interface named eth42"):
        await _agent(snmpd_server, data_dir, interfaces=["eth42"]).fetch(None)  # type: ignore[arg-type]


async def test_nothing_listening(data_dir: Path) -> None:
    provider = _provider(
        data_dir, host="127.0.0.1", port=snmpd_free_udp_port(), timeout_s=0.2, retries=0
    )
    with pytest.raises(CannotConnect, match="no answer"):
        await provider.fetch(None)  # type: ignore[arg-type]


class NoSuchInstance:
    """Stands in for pysnmp's noSuchInstance marker (matched by class name)."""


class _FakeSession:
    where = "snmp fake:161"

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values
        self.asked: list[list[str]] = []

    async def get(self, oids: list[str]) -> dict[str, Any]:
        self.asked.append(oids)
        return {oid: self.values.get(oid, NoSuchInstance()) for oid in oids}


async def test_per_interface_fallback_to_32_bit() -> None:
    from capwatch.errors import BadResponse
    from capwatch.providers.snmp import read_counters

    hc_in, hc_out, in32, out32 = (
        "1.3.6.1.2.1.31.1.1.1.6",
        "1.3.6.1.2.1.31.1.1.1.10",
        "1.3.6.1.2.1.2.2.1.10",
        "1.3.6.1.2.1.2.2.1.16",
    )
    values = {f"{hc_in}.2": 5 * 2**40, f"{hc_out}.2": 7, f"{in32}.3": 11, f"{out32}.3": 13}
    session = _FakeSession(values)
    got = await read_counters(session, ROWS[1:], use_hc=True)  # type: ignore[arg-type]
    assert got == {2: (5 * 2**40, 7, 64), 3: (11, 13, 32)}
    assert session.asked[1] == [f"{in32}.3", f"{out32}.3"]  # only the row that lacked HC
    with pytest.raises(BadResponse, match="no octet counters for interface 'lo'"):
        await read_counters(session, ROWS[:1], use_hc=False)  # type: ignore[arg-type]


def test_prerequisites_and_lazy_import(data_dir: Path) -> None:
    import subprocess
    import sys

    assert _provider(data_dir, host="127.0.0.1").prerequisites() == []
    code = "import sys, capwatch.providers.snmp; print('pysnmp' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
