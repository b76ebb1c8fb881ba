"""The netgear_lte provider against a fake LM1200 on 127.0.0.1 serving Home Assistant's real
model.json, with the token login eternalegypt drives; the modem's own billing-cycle reset."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from capwatch.errors import BadResponse
from capwatch.providers.netgear_lte import NetgearLteOptions, parse_model
from tests.fixtures.common import FakeClock
from tests.fixtures.routers import assert_secret_nowhere, poll_json, router_config, status_json

REAL = Path(__file__).resolve().parent / "data" / "real" / "netgear_lte"
NOW = datetime(2026, 11, 23, 15, tzinfo=UTC)
SECRET = "fake-netgear-pass"
GB = 10**9


def _epoch(at: datetime) -> str:
    return str(int(at.timestamp()))


def test_the_real_model_json() -> None:
    data = json.loads((REAL / "model_lm1200_ha.json").read_text(encoding="utf-8"))
    # read at the modem's own currTime (1367257216, 29 April 2013)
    snap = parse_model(data, now=datetime.fromtimestamp(1367257216, UTC))
    assert snap.used_bytes == 42_484_315
    # its cycle is lastReset..nextBillingDate (26 April to 27 May, midnight at UTC-4), not
    # billingDay's 1st: the modem's own dates are the cycle
    assert snap.cycle_start == datetime(2013, 4, 26, 4, tzinfo=UTC)
    assert snap.cycle_end == datetime(2013, 5, 27, 4, tzinfo=UTC)
    assert snap.cap_bytes is None  # dataLimitValid false
    assert snap.raw is not None and snap.raw["model"] == "LM1200"


def test_a_valid_limit_is_the_cap_and_bad_blocks_name_the_place() -> None:
    data = json.loads((REAL / "model_lm1200_ha.json").read_text(encoding="utf-8"))
    data["wwan"]["dataUsage"]["generic"].update(dataLimitValid=True, billingCycleLimit=5 * GB)
    assert parse_model(data, now=NOW).cap_bytes == 5 * GB
    del data["wwan"]["dataUsage"]
    with pytest.raises(BadResponse, match=r"^netgear_lte model.json wwan.dataUsage.generic: "):
        parse_model(data, now=NOW)


def test_options() -> None:
    with pytest.raises(ValueError, match="password"):
        NetgearLteOptions.model_validate({})
    with pytest.raises(ValueError, match="not a URL"):
        NetgearLteOptions.model_validate({"host": "http://192.168.5.1/", "password": "abcd1234"})


def _config(tmp_path: Path, url: str) -> Path:
    options = f'host = "{url.split("//", 1)[1]}"\npassword = {{env = "NETGEAR_SECRET"}}\n'
    return router_config(tmp_path, "netgear_lte", options, extra='cap = "provider"\n')


@pytest.fixture
def netgear_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETGEAR_SECRET", SECRET)


def test_poll_end_to_end_with_the_modems_cycle_reset(
    netgear_fake: tuple[str, Any], netgear_env: None, tmp_path: Path
) -> None:
    url, state = netgear_fake
    reset, next_bill = datetime(2026, 11, 10, 5, tzinfo=UTC), datetime(2026, 12, 10, 5, tzinfo=UTC)
    state.generic.update(
        lastReset=_epoch(reset),
        nextBillingDate=_epoch(next_bill),
        dataLimitValid=True,
        billingCycleLimit=50 * GB,
        dataTransferred=12 * GB,
        dataTransferredRoaming=GB,
    )
    config = _config(tmp_path, url)
    clock = FakeClock(NOW)
    printed = ""

    def poll() -> dict[str, Any]:
        nonlocal printed
        code, entry, out = poll_json(config, clock)
        printed += out
        assert code == 0 and entry["outcome"] == "ok" and entry["stored"], out
        reading: dict[str, Any] = entry["reading"]
        return reading | {"message": entry["message"]}

    first = poll()
    assert (first["used_bytes"], first["cap_bytes"]) == (13 * GB, 50 * GB)
    assert first["cycle_start"] == "2026-11-10T05:00:00Z" and state.logins == 1
    # a missed day: the modem's meter carries on
    clock.advance(timedelta(days=2))
    state.generic["dataTransferred"] = 20 * GB
    assert poll()["used_bytes"] == 21 * GB
    # past nextBillingDate, before the modem resets: November's final figure
    clock.set(next_bill + timedelta(minutes=20))
    state.generic["dataTransferred"] = 30 * GB
    closed = poll()
    assert closed["cycle_start"] == "2026-11-10T05:00:00Z" and closed["used_bytes"] == 31 * GB
    assert "has not published the new cycle yet" in closed["message"]
    # the modem resets its cycle: lastReset moves on, the figure starts again
    clock.set(next_bill + timedelta(hours=1))
    state.generic.update(
        lastReset=_epoch(next_bill),
        nextBillingDate=_epoch(datetime(2027, 1, 10, 5, tzinfo=UTC)),
        dataTransferred=250_000_000,
        dataTransferredRoaming=0,
    )
    december = poll()
    assert december["cycle_start"] == "2026-12-10T05:00:00Z"
    assert december["used_bytes"] == 250_000_000
    summary, shown = status_json(config, clock)
    assert summary["used_bytes"] == 250_000_000 and summary["cap_bytes"] == 50 * GB
    assert " DEBUG " in printed  # the debug lines were there to be checked
    assert state.token not in printed  # eternalegypt's own debug lines (token, model.json) kept out
    assert_secret_nowhere(SECRET, printed + shown, tmp_path / "data")


def test_wrong_password_is_secret_free(
    netgear_fake: tuple[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, state = netgear_fake
    monkeypatch.setenv("NETGEAR_SECRET", "not-the-netgear-pass")
    code, entry, printed = poll_json(_config(tmp_path, url), FakeClock(NOW))
    assert code == 1 and entry["outcome"] == "auth" and state.refused >= 1
    assert entry["message"].endswith("the modem refused the password")
    assert_secret_nowhere("not-the-netgear-pass", printed, tmp_path / "data")


@pytest.mark.parametrize(
    ("mode", "phrase"),
    [
        ("not_json", "model.json is not the modem's JSON"),
        ("no_meter", "this model keeps no usage meter"),
    ],
)
def test_bad_replies_are_one_line_naming_the_place(
    netgear_fake: tuple[str, Any], netgear_env: None, tmp_path: Path, mode: str, phrase: str
) -> None:
    url, state = netgear_fake
    state.mode = mode
    code, entry, _ = poll_json(_config(tmp_path, url), FakeClock(NOW))
    assert code == 1 and entry["outcome"] == "bad_response", entry
    assert entry["message"].startswith("netgear_lte 127.0.0.1:") and phrase in entry["message"]
    assert "\n" not in entry["message"]
