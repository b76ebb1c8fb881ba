"""capwatch.lan: the default gateway from the kernel's routing tables, nothing sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from capwatch.lan import (
    default_gateways,
    gateways_from_ipv6_route,
    gateways_from_route,
    only_this_machine_note,
)

REAL = Path(__file__).parent / "data" / "real" / "proc"


def test_the_real_tables_name_the_default_gateways() -> None:
    assert gateways_from_route((REAL / "route.txt").read_text()) == ["192.0.2.1 (eth0)"]
    assert gateways_from_ipv6_route((REAL / "ipv6_route.txt").read_text()) == ["fd00::1 (eth0)"]
    files = (REAL / "route.txt", REAL / "ipv6_route.txt")
    assert default_gateways(files) == ["192.0.2.1 (eth0)", "fd00::1 (eth0)"]


def test_a_home_router_on_wifi_with_a_vpn_route_beside_it() -> None:
    # a Pi on wlan0 behind 192.168.1.1, a VPN's 0.0.0.0/1 half-route (not a default) and a link
    text = (
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
        "wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0\n"
        "tun0\t00000000\t0100080A\t0003\t0\t0\t0\t00000080\t0\t0\t0\n"
        "wlan0\t0001A8C0\t00000000\t0001\t0\t0\t600\t00FFFFFF\t0\t0\t0\n"
    )
    assert gateways_from_route(text) == ["192.168.1.1 (wlan0)"]


def test_no_tables_no_gateway(tmp_path: Path) -> None:
    assert default_gateways((tmp_path / "route", tmp_path / "ipv6_route")) == []
    assert gateways_from_route("garbage\nnot a route table at all\n") == []


def test_the_note_names_the_ipv4_router_first() -> None:
    note = only_this_machine_note(["192.168.1.1 (wlan0)", "fe80::1 (wlan0)"])
    assert note.startswith("no config file: account host counts this machine's own traffic")
    assert "your router is probably 192.168.1.1 (this machine's default gateway)" in note
    assert "fe80" not in note
    assert "capwatch init" in only_this_machine_note([])


def test_status_on_the_embedded_defaults_says_it_counts_this_machine_and_names_the_router(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from capwatch.cli import cli

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # no config file anywhere
    monkeypatch.setenv("CAPWATCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")
    obj = {"gateways": lambda: ["192.168.1.1 (wlan0)", "fe80::1 (wlan0)"]}
    result = CliRunner().invoke(cli, ["status"], obj=obj)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "account host counts this machine's own traffic only" in text
    assert "your router is probably 192.168.1.1" in text
    # with a config file there is nothing to say
    config = tmp_path / "capwatch.toml"
    config.write_text('[[accounts]]\nname = "host"\nprovider = "host"\n')
    obj = {"gateways": obj["gateways"]}  # a fresh command: obj also caches the settings
    result = CliRunner().invoke(cli, ["--config", str(config), "status"], obj=obj)
    assert result.exit_code == 0 and "this machine's own traffic" not in result.output
