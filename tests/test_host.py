"""Host provider: interface choice, loopback detection, keys, epoch; one real read."""

from __future__ import annotations

from collections import namedtuple
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import psutil
import pytest

from capwatch.errors import BadResponse, ConfigError
from capwatch.providers.base import ProviderContext, load_provider
from capwatch.providers.host import HostOptions, HostProvider, is_loopback

snetio = namedtuple("snetio", "bytes_sent bytes_recv")
snicstats = namedtuple("snicstats", "isup flags")
snicaddr = namedtuple("snicaddr", "family address")


def _provider(data_dir: Path, **options: Any) -> HostProvider:
    ctx = ProviderContext("home", ZoneInfo("UTC"), data_dir)
    return HostProvider(HostOptions(**options), ctx)


@pytest.fixture
def host_fake_psutil(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """psutil answering from a dict of interfaces (name -> rx, tx)."""
    import socket

    fake = SimpleNamespace(
        counters={
            "lo": snetio(500, 500),
            "eth0": snetio(2000, 10**12),
            "wlan0": snetio(30, 40),
            "docker0": snetio(7, 7),
            "veth12ab": snetio(8, 8),
            "tun-lo": snetio(9, 9),
        },
        boot=1_700_000_000.0,
    )
    stats = {
        "lo": snicstats(True, "up,loopback,running"),
        "eth0": snicstats(True, "up,broadcast,running,multicast"),
        "wlan0": snicstats(True, "up,broadcast"),
        "tun-lo": snicstats(True, "up,running"),
    }
    addrs = {"tun-lo": [snicaddr(socket.AF_INET, "127.0.0.2")]}
    monkeypatch.setattr(psutil, "net_io_counters", lambda pernic, nowrap: fake.counters)
    monkeypatch.setattr(psutil, "boot_time", lambda: fake.boot)
    monkeypatch.setattr(psutil, "net_if_stats", lambda: stats)
    monkeypatch.setattr(psutil, "net_if_addrs", lambda: addrs)
    return fake


async def test_defaults_skip_loopback_and_virtual(
    host_fake_psutil: SimpleNamespace, data_dir: Path
) -> None:
    snap = await _provider(data_dir).fetch(None)  # type: ignore[arg-type]
    assert snap.source == "host"
    assert snap.used_bytes is None
    keys = {c.key: c for c in snap.counters}
    assert sorted(keys) == ["eth0:rx", "eth0:tx", "wlan0:rx", "wlan0:tx"]
    assert keys["eth0:rx"].value == 10**12
    assert keys["eth0:tx"].value == 2000
    assert {c.width for c in snap.counters} == {64}
    assert {c.epoch for c in snap.counters} == {"1700000000"}
    assert snap.raw == {"interfaces": ["eth0", "wlan0"], "boot_time": "1700000000"}


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"interfaces": ["eth0"]}, ["eth0:rx", "eth0:tx"]),
        ({"interfaces": ["lo"], "direction": "rx"}, ["lo:rx"]),
        ({"direction": "tx"}, ["eth0:tx", "wlan0:tx"]),
        (
            {"exclude": ["wlan*"], "direction": "rx"},
            ["docker0:rx", "eth0:rx", "veth12ab:rx"],
        ),
    ],
)
async def test_options(
    host_fake_psutil: SimpleNamespace,
    data_dir: Path,
    options: dict[str, Any],
    expected: list[str],
) -> None:
    snap = await _provider(data_dir, **options).fetch(None)  # type: ignore[arg-type]
    got = sorted(c.key for c in snap.counters)
    assert got == expected


async def test_unknown_interface_is_named(
    host_fake_psutil: SimpleNamespace, data_dir: Path
) -> None:
    provider = _provider(data_dir, interfaces=["eth0", "ppp9"])
    with pytest.raises(ConfigError, match=r"host\.interfaces: no interface named ppp9"):
        await provider.fetch(None)  # type: ignore[arg-type]
    assert provider.prerequisites() == [
        "host.interfaces: no interface named ppp9 "
        "(found: docker0, eth0, lo, tun-lo, veth12ab, wlan0)"
    ]
    assert _provider(data_dir, interfaces=["eth0"]).prerequisites() == []


async def test_nothing_left(host_fake_psutil: SimpleNamespace, data_dir: Path) -> None:
    host_fake_psutil.counters = {"lo": snetio(1, 1)}
    with pytest.raises(BadResponse, match="no interface left"):
        await _provider(data_dir).fetch(None)  # type: ignore[arg-type]


def test_reboot_changes_epoch(host_fake_psutil: SimpleNamespace, data_dir: Path) -> None:
    provider = _provider(data_dir)
    first = provider.read()
    host_fake_psutil.boot = 1_700_086_400.0
    second = provider.read()
    assert first.counters[0].epoch != second.counters[0].epoch


@pytest.mark.parametrize(
    ("name", "flags", "addresses", "expected"),
    [
        ("lo", "", (), True),
        ("lo0", "up,loopback", (), True),
        ("dummy0", "up", ("::1",), True),
        ("eth0", "up,broadcast", ("192.168.1.2", "fe80::1%eth0"), False),
        ("eth1", "", ("not-an-address",), False),
    ],
)
def test_is_loopback(name: str, flags: str, addresses: tuple[str, ...], expected: bool) -> None:
    assert is_loopback(name, flags, addresses) is expected


def test_bad_option_rejected() -> None:
    with pytest.raises(ValueError, match="direction"):
        HostOptions(direction="sideways")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="extra"):
        HostOptions(interface="eth0")  # type: ignore[call-arg]


async def test_real_loopback_read(data_dir: Path) -> None:
    """Read the real ``lo`` counters: they sit between two direct psutil reads."""
    assert load_provider("host") is HostProvider
    before = psutil.net_io_counters(pernic=True, nowrap=False)["lo"]
    snap = await _provider(data_dir, interfaces=["lo"]).fetch(None)  # type: ignore[arg-type]
    after = psutil.net_io_counters(pernic=True, nowrap=False)["lo"]
    values = {c.key: c.value for c in snap.counters}
    assert before.bytes_recv <= values["lo:rx"] <= after.bytes_recv
    assert before.bytes_sent <= values["lo:tx"] <= after.bytes_sent
    assert snap.counters[0].epoch == str(int(psutil.boot_time()))


def test_a_provider_refuses_another_providers_options(tmp_path: Path) -> None:
    from capwatch.providers.vnstat import VnstatOptions

    ctx = ProviderContext("a", ZoneInfo("UTC"), tmp_path)
    with pytest.raises(TypeError, match="HostProvider takes HostOptions, not VnstatOptions"):
        HostProvider(VnstatOptions(), ctx)  # type: ignore[arg-type]
    assert HostProvider(HostOptions(), ctx).options == HostOptions()
