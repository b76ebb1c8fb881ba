"""`capwatch init` finds the FRITZ!Box, OpenWrt, Huawei and Netgear routers it offers, by one
unauthenticated request each to the addresses given with --find-at (here: each fake on
127.0.0.1; the network guard of tests/fixtures/netguard.py fails the test on anything else)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from capwatch.cli import cli

ANSWERS = "1\n\nenv:ROUTER_PASSWORD\n" + "\n" * 6  # pick the first, default user, the password


def _init(tmp_path: Path, provider: str, *targets: str) -> tuple[Any, dict[str, Any]]:
    config = tmp_path / "capwatch.toml"
    args = ["--config", str(config), "init", "--name", "router", "--provider", provider]
    args += ["--cap", "1 TB", "--start-day", "calendar", "--timezone", "UTC", "--interval", ""]
    for target in targets:
        args += ["--find-at", target]
    result = CliRunner().invoke(cli, args, input=ANSWERS, obj={})
    assert result.exit_code == 0, result.output
    options = tomllib.loads(config.read_text())["accounts"][0]["options"]
    return result, options


def _hostport(url: str) -> str:
    return url.split("//", 1)[1].rstrip("/")


def test_fritz_box_found_by_its_tr064_description(
    fritz_fake: tuple[str, Any], tmp_path: Path
) -> None:
    url, _ = fritz_fake
    result, options = _init(tmp_path, "fritz", _hostport(url))
    assert f"Looking for fritz devices on {_hostport(url)}" in result.output
    assert f"1) {_hostport(url)}: FRITZ!Box 7590 (TR-064 answers" in result.output
    host, port = _hostport(url).split(":")
    assert options["host"] == host and options["port"] == int(port)
    assert options["password"] == {"env": "ROUTER_PASSWORD"}


def test_openwrt_found_by_its_ubus_endpoint(openwrt_fake: tuple[str, Any], tmp_path: Path) -> None:
    url, state = openwrt_fake
    result, options = _init(tmp_path, "openwrt", _hostport(url))
    assert f"1) {url.rstrip('/')}/ubus: OpenWrt's ubus answers" in result.output
    assert options["url"] == f"{url.rstrip('/')}/ubus"
    assert state.logins == 0  # asked without a password


def test_huawei_found_by_its_session_token_page(
    huawei_fake: tuple[str, Any], tmp_path: Path
) -> None:
    url, state = huawei_fake
    result, options = _init(tmp_path, "huawei_lte", _hostport(url))
    assert "a Huawei LTE/5G router's web API answers" in result.output
    assert options["url"] == f"{url.rstrip('/')}/"
    assert state.requests == ["GET /api/webserver/SesTokInfo"]


def test_netgear_found_by_its_guest_model_json(
    netgear_fake: tuple[str, Any], tmp_path: Path
) -> None:
    url, state = netgear_fake
    result, options = _init(tmp_path, "netgear_lte", _hostport(url))
    assert "a Netgear LTE modem answers" in result.output
    assert options["host"] == _hostport(url)
    assert state.logins == 0


@pytest.mark.parametrize("provider", ["fritz", "openwrt", "huawei_lte", "netgear_lte"])
def test_an_address_that_is_not_that_router_is_not_offered(
    provider: str, netgear_fake: tuple[str, Any], fritz_fake: tuple[str, Any]
) -> None:
    from importlib.metadata import entry_points

    # each router's probe against another kind of device (the fake Netgear answers JSON, the
    # fake FRITZ!Box XML) and against a closed port finds nothing
    (ep,) = [e for e in entry_points(group="capwatch.providers") if e.name == provider]
    cls = ep.load()
    other = netgear_fake[0] if provider != "netgear_lte" else fritz_fake[0]
    closed = "127.0.0.1:9"
    assert cls.lan_choices([_hostport(other), closed]) == []
