"""The openwrt provider against a fake uhttpd/rpcd ``/ubus`` on 127.0.0.1 that answers with the
OpenWrt ubus page's real replies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from capwatch.errors import BadResponse
from capwatch.providers.openwrt import (
    OpenwrtOptions,
    _Denied,
    device_counters,
    ubus_result,
    wan_device,
)
from tests.fixtures.common import FakeClock
from tests.fixtures.routers import assert_secret_nowhere, poll_json, router_config, status_json

REAL = Path(__file__).resolve().parent / "data" / "real" / "openwrt"
NOW = datetime(2026, 11, 23, 15, tzinfo=UTC)
SECRET = "fake-openwrt-password"
GB = 10**9


def _real(name: str) -> Any:
    return json.loads((REAL / name).read_text(encoding="utf-8"))


def test_reads_the_real_replies() -> None:
    login = ubus_result(_real("session_login.json"), "login")
    assert login["ubus_rpc_session"] == "c1ed6c7b025d0caca723a816fa61b668"
    assert wan_device(_real("network_interface_wan_status.json"), "wan") == "eth1"
    assert device_counters(_real("network_device_status_eth0.json"), "eth0") == (0, 17_409_452)
    assert _real("system_info.json")["uptime"] == 20_756


@pytest.mark.parametrize("name", ["permission_denied.json", "access_denied.json"])
def test_both_refusals_are_a_dead_session(name: str) -> None:
    with pytest.raises(_Denied):
        ubus_result(_real(name), "network.device status")


@pytest.mark.parametrize(
    ("reply", "phrase"),
    [
        ({"jsonrpc": "2.0", "id": 1, "result": [4]}, "x: ubus status 4 (not found)"),
        ({"jsonrpc": "2.0", "id": 1}, "x: no JSON-RPC result"),
        ([1, 2], "x: expected a JSON-RPC object"),
        (
            {"jsonrpc": "2.0", "id": 1, "error": {"code": -32000, "message": "Object not found"}},
            "x: JSON-RPC error -32000 Object not found",
        ),
    ],
)
def test_bad_replies_name_the_call(reply: Any, phrase: str) -> None:
    with pytest.raises(BadResponse) as info:
        ubus_result(reply, "x")
    assert str(info.value) == phrase or str(info.value).startswith(phrase)


def test_options() -> None:
    with pytest.raises(ValueError, match="password"):
        OpenwrtOptions.model_validate({"url": "http://127.0.0.1/ubus"})
    with pytest.raises(ValueError, match="http:// or https://"):
        OpenwrtOptions.model_validate({"url": "127.0.0.1/ubus", "password": "abcd1234"})
    opts = OpenwrtOptions.model_validate({"password": {"env": "X"}})
    assert (opts.user, opts.interface, opts.device) == ("root", "wan", None)


def _config(tmp_path: Path, url: str, extra: str = "") -> Path:
    options = f'url = "{url}/ubus"\npassword = {{env = "OPENWRT_SECRET"}}\n{extra}'
    return router_config(tmp_path, "openwrt", options)


@pytest.fixture
def openwrt_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENWRT_SECRET", SECRET)


def test_poll_end_to_end_reset_reboot_and_missed_day(
    openwrt_fake: tuple[str, Any], openwrt_env: None, tmp_path: Path
) -> None:
    url, state = openwrt_fake
    config = _config(tmp_path, url)
    clock = FakeClock(NOW)
    printed = ""

    def poll() -> int:
        nonlocal printed
        code, entry, out = poll_json(config, clock)
        printed += out
        assert code == 0 and entry["outcome"] == "ok" and entry["stored"], out
        used: int = entry["reading"]["used_bytes"]
        return used

    assert poll() == 0  # baseline
    assert state.calls == ["network.interface.wan status", "network.device status", "system info"]
    clock.advance(timedelta(hours=1))
    state.uptime_s += 3600
    state.rx_bytes += 4 * GB
    state.tx_bytes += GB
    assert poll() == 5 * GB
    # the device's counters fall back within one boot (a reconnect re-created it): a reset
    clock.advance(timedelta(hours=1))
    state.uptime_s += 3600
    state.rx_bytes, state.tx_bytes = 300_000_000, 100_000_000
    assert poll() == 5 * GB + 400_000_000
    # a reboot: uptime 60 s, counters from 0
    clock.advance(timedelta(minutes=10))
    state.uptime_s, state.rx_bytes, state.tx_bytes = 60, GB, 0
    assert poll() == 6 * GB + 400_000_000
    # a missed day
    clock.advance(timedelta(days=1))
    state.uptime_s += 86_400
    state.rx_bytes += 20 * GB
    state.tx_bytes += 2 * GB
    assert poll() == 28 * GB + 400_000_000
    summary, shown = status_json(config, clock)
    assert summary["used_bytes"] == 28_400_000_000
    assert "POST http://127.0.0.1" in printed  # httpx's request lines were there to be checked
    assert_secret_nowhere(SECRET, printed + shown, tmp_path / "data")


@pytest.mark.parametrize("mode", ["expire", "access_denied"])
def test_an_expired_session_logs_in_again_once(
    openwrt_fake: tuple[str, Any], openwrt_env: None, tmp_path: Path, mode: str
) -> None:
    url, state = openwrt_fake
    state.mode = mode
    code, entry, _ = poll_json(_config(tmp_path, url), FakeClock(NOW))
    assert code == 0 and entry["outcome"] == "ok", entry
    # one login per call: each session died after one use and was replaced once
    assert state.logins == 3 and len(state.calls) == 3


def test_a_session_refused_again_after_login_is_auth(
    openwrt_fake: tuple[str, Any], openwrt_env: None, tmp_path: Path
) -> None:
    url, state = openwrt_fake
    state.mode = "deny_always"
    code, entry, _ = poll_json(_config(tmp_path, url), FakeClock(NOW))
    assert code == 1 and entry["outcome"] == "auth" and state.logins == 2
    assert "network.interface.wan status: access denied to a fresh session" in entry["message"]


def test_wrong_password(
    openwrt_fake: tuple[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _state = openwrt_fake
    monkeypatch.setenv("OPENWRT_SECRET", "not-the-openwrt-password")
    code, entry, printed = poll_json(_config(tmp_path, url), FakeClock(NOW))
    assert code == 1 and entry["outcome"] == "auth"
    assert entry["message"].endswith(
        "session login: rpcd refused user 'root' (wrong password, "
        "or no rpcd login entry for the user)"
    )
    assert_secret_nowhere("not-the-openwrt-password", printed, tmp_path / "data")


@pytest.mark.parametrize(
    ("mode", "extra", "phrase"),
    [
        ("not_json", "", ": network.interface.wan status: expected JSON, got HTML"),
        ("no_stats", "", ": network.device status eth1: no statistics"),
        ("ok", 'device = "eth9"\n', ": network.device status: ubus status 4 (not found)"),
    ],
)
def test_bad_replies_are_one_line_naming_the_place(
    openwrt_fake: tuple[str, Any],
    openwrt_env: None,
    tmp_path: Path,
    mode: str,
    extra: str,
    phrase: str,
) -> None:
    url, state = openwrt_fake
    state.mode = mode
    code, entry, _ = poll_json(_config(tmp_path, url, extra), FakeClock(NOW))
    assert code == 1 and entry["outcome"] == "bad_response", entry
    assert entry["message"].startswith("openwrt 127.0.0.1:") and phrase in entry["message"]
    assert "\n" not in entry["message"]
