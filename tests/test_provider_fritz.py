"""The fritz provider against a fake FRITZ!Box on 127.0.0.1 that serves a real box's TR-064
descriptions, SCPDs and SOAP replies, with digest login as a real box asks for it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from capwatch.errors import BadResponse
from capwatch.providers.fritz import FritzOptions, read_counters
from tests.fixtures.common import FakeClock, free_port
from tests.fixtures.routers import assert_secret_nowhere, poll_json, router_config, status_json

REAL = Path(__file__).resolve().parent / "data" / "real" / "fritz"
NOW = datetime(2026, 11, 23, 15, tzinfo=UTC)
SECRET = "fake-fritz-password"
GB = 10**9


def _soap_values(name: str) -> dict[str, str]:
    """The out-arguments of a real SOAP reply, by local name (as fritzconnection returns them)."""
    root = ET.fromstring((REAL / name).read_text(encoding="utf-8"))
    body = next(el for el in root.iter() if el.tag.endswith("Response"))
    return {child.tag.rsplit("}", 1)[-1]: (child.text or "").strip() for child in body}


def test_reads_the_real_replies() -> None:
    addon = _soap_values("GetAddonInfos_telegraf.xml")
    info = _soap_values("GetInfo_7490_readme.xml")
    assert read_counters(addon, info) == (197_786_211_361, 30_680_066_212, 97_384)
    # the 32-bit counters beside them are not the ones read (they have wrapped many times)
    assert int(addon["NewTotalBytesReceived"]) == 217_715_745


def test_without_the_64_bit_counters_names_them() -> None:
    addon = _soap_values("GetAddonInfos_telegraf.xml")
    del addon["NewX_AVM_DE_TotalBytesSent64"]
    with pytest.raises(BadResponse, match=r"^fritz WANCommonIFC1 GetAddonInfos: no NewX_AVM_DE_"):
        read_counters(addon, _soap_values("GetInfo_7490_readme.xml"))


def test_the_password_is_required() -> None:
    with pytest.raises(ValueError, match="password"):
        FritzOptions.model_validate({"host": "127.0.0.1"})


def _config(tmp_path: Path, url: str, password: str = '{env = "FRITZ_SECRET"}') -> Path:
    port = url.rsplit(":", 1)[1]
    options = (
        f'host = "127.0.0.1"\nport = {port}\nuser = {{env = "FRITZ_USER"}}\npassword = {password}\n'
    )
    return router_config(tmp_path, "fritz", options)


@pytest.fixture
def fritz_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRITZ_SECRET", SECRET)
    monkeypatch.setenv("FRITZ_USER", "cw-fritz-user")


def test_poll_end_to_end_reboot_and_missed_day(
    fritz_fake: tuple[str, Any], fritz_env: None, tmp_path: Path
) -> None:
    url, state = fritz_fake
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

    assert poll() == 0  # the first sight of the box's counters is a baseline
    assert state.actions[-2:] == [
        "/igdupnp/control/WANCommonIFC1#GetAddonInfos",
        "/upnp/control/deviceinfo#GetInfo",
    ]
    # an hour on: 5 GB down, 1 GB up
    clock.advance(timedelta(hours=1))
    state.uptime_s += 3600
    state.received += 5 * GB
    state.sent += 1 * GB
    assert poll() == 6 * GB
    # the box reboots: uptime 2 minutes, counters from 0; what it counted since is added
    clock.advance(timedelta(minutes=30))
    state.uptime_s, state.received, state.sent = 120, 2 * GB, GB // 2
    assert poll() == 6 * GB + 2 * GB + GB // 2
    # a missed day (capwatch was down): the day's traffic is the difference, not lost
    clock.advance(timedelta(days=1))
    state.uptime_s += 86_400
    state.received += 30 * GB
    state.sent += 3 * GB
    assert poll() == 6 * GB + 2 * GB + GB // 2 + 33 * GB
    summary, shown = status_json(config, clock)
    assert summary["used_bytes"] == 41_500_000_000 and summary["cap_bytes"] == 1000 * GB
    assert "GET /tr64desc.xml" in printed  # the debug logs were there to be checked
    assert_secret_nowhere(SECRET, printed + shown, tmp_path / "data")
    assert_secret_nowhere("cw-fritz-user", printed + shown, tmp_path / "data")  # also a secret


def test_wrong_password_is_auth_and_secret_free(
    fritz_fake: tuple[str, Any], fritz_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, state = fritz_fake
    monkeypatch.setenv("FRITZ_SECRET", "not-the-fritz-password")
    code, entry, printed = poll_json(_config(tmp_path, url), FakeClock(NOW))
    assert code == 1 and entry["outcome"] == "auth" and state.logins_refused >= 1
    assert entry["message"] == (
        f"fritz 127.0.0.1:{url.rsplit(':', 1)[1]}: DeviceInfo1 GetInfo: the box refused the "
        "user or password (HTTP 401)"
    )
    assert_secret_nowhere("not-the-fritz-password", printed, tmp_path / "data")


@pytest.mark.parametrize(
    ("mode", "phrase"),
    [
        ("no_64", "WANCommonIFC1 GetAddonInfos: no NewX_AVM_DE_TotalBytesReceived64"),
        ("not_xml", "WANCommonIFC1 GetAddonInfos: the answer is not XML"),
        ("tr64_off", "access for applications disabled"),
    ],
)
def test_bad_replies_are_one_line_naming_the_place(
    fritz_fake: tuple[str, Any], fritz_env: None, tmp_path: Path, mode: str, phrase: str
) -> None:
    url, state = fritz_fake
    state.mode = mode
    code, entry, _ = poll_json(_config(tmp_path, url), FakeClock(NOW))
    assert code == 1 and entry["outcome"] == "bad_response", entry
    message = entry["message"]
    assert phrase in message and "\n" not in message
    assert message.startswith("fritz ")


def test_nothing_listening_is_cannot_connect(fritz_env: None, tmp_path: Path) -> None:
    port = free_port()
    code, entry, _ = poll_json(_config(tmp_path, f"http://127.0.0.1:{port}"), FakeClock(NOW))
    assert code == 1 and entry["outcome"] == "connect"
    assert entry["message"].startswith(f"fritz 127.0.0.1:{port}: the descriptions")


def test_doctor_asks_the_box_once_and_says_what_it_answered(
    fritz_fake: tuple[str, Any], fritz_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from capwatch.cli import cli

    url, state = fritz_fake
    config = _config(tmp_path, url)
    monkeypatch.setenv("COLUMNS", "200")
    result = CliRunner().invoke(cli, ["--config", str(config), "doctor"], obj={})
    text = " ".join(result.output.split())
    assert "the router answers: wan:rx" in text and "wan:tx" in text, result.output
    assert sum(a.endswith("#GetAddonInfos") for a in state.actions) == 1  # asked once
    db = tmp_path / "data" / "capwatch.db"
    if db.exists():  # doctor reads the box, it does not poll it: nothing is stored
        from capwatch.store import open_store

        store = open_store(f"sqlite:///{db}")
        try:
            assert store.readings("router") == []
        finally:
            store.close()
    monkeypatch.setenv("FRITZ_SECRET", "not-the-fritz-password")
    result = CliRunner().invoke(cli, ["--config", str(config), "doctor"], obj={})
    text = " ".join(result.output.split())
    assert result.exit_code != 0
    assert "the router did not answer: fritz 127.0.0.1" in text and "refused the user" in text
    assert "not-the-fritz-password" not in result.output
