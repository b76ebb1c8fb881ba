"""The huawei_lte provider against a fake HiLink router on 127.0.0.1: the library's real login
flow (SesTokInfo, state-login, a SHA-256 login), the real month_statistics and start_date
bodies, the router's own month reset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import xmltodict

from capwatch.errors import BadResponse
from capwatch.providers.huawei_lte import HuaweiLteOptions, data_limit, parse_month
from tests.fixtures.common import FakeClock
from tests.fixtures.routers import assert_secret_nowhere, poll_json, router_config, status_json

REAL = Path(__file__).resolve().parent / "data" / "real" / "huawei_lte"
UTC_ZONE = ZoneInfo("UTC")
SECRET = "fake-huawei-pass"
GiB = 1024**3
NOW = datetime(2026, 11, 23, 15, tzinfo=UTC)


def _body(name: str) -> dict[str, Any]:
    parsed: dict[str, Any] = xmltodict.parse((REAL / name).read_text(encoding="utf-8"))
    return dict(parsed["response"])


def test_the_real_month_and_plan() -> None:
    month, plan = _body("month_statistics_mobitra.xml"), _body("start_date_b525.xml")
    # read just after the boundary the router last cleared before: 1 November 2019 (StartDay 1)
    snap = parse_month(month, plan, now=datetime(2019, 11, 1, 6, tzinfo=UTC), tz=UTC_ZONE)
    assert snap.used_bytes == 10_179_248_566 + 350_146_232
    # cleared 2019-10-29, before November 1: the router had not reset, the figure is October's
    assert snap.cycle_start == datetime(2019, 10, 1, tzinfo=UTC)
    assert snap.cycle_end == datetime(2019, 11, 1, tzinfo=UTC)
    assert snap.raw is not None and snap.raw["reset_pending"] is True
    assert snap.cap_bytes is None  # SetMonthData 0: no plan on the router
    # read in October, the clear on the 29th was by hand: a figure since then
    snap = parse_month(month, plan, now=datetime(2019, 10, 30, tzinfo=UTC), tz=UTC_ZONE)
    assert snap.cycle_start == datetime(2019, 10, 1, tzinfo=UTC)
    assert snap.raw is not None and snap.raw["counted_since"] == "2019-10-29"


def test_the_h153_reply_with_its_day_fields() -> None:
    month = _body("month_statistics_h153_issue.xml")
    plan = _body("start_date_b525.xml") | {
        "StartDay": "26",
        "SetMonthData": "1",
        "DataLimit": "100GB",
    }
    snap = parse_month(
        month, plan, now=datetime(2026, 5, 30, tzinfo=UTC), tz=UTC_ZONE, count_upload=False
    )
    assert snap.used_bytes == 46_860_797_566
    assert snap.cycle_start == datetime(2026, 5, 26, tzinfo=UTC)
    assert snap.cap_bytes == 100 * GiB
    # the same reply logged on 5 July: cleared 26 May, the router did not reset on 26 June
    with pytest.raises(BadResponse, match="last cleared its month counters on 2026-05-26"):
        parse_month(month, plan, now=datetime(2026, 7, 5, 10, 40, tzinfo=UTC), tz=UTC_ZONE)


@pytest.mark.parametrize(
    ("text", "size"),
    [("200GB", 200 * GiB), ("500MB", 500 * 1024**2), ("0MB", 0), ("1.5TB", int(1.5 * 1024**4))],
)
def test_data_limit(text: str, size: int) -> None:
    assert data_limit(text, "x") == size


def test_bad_bodies_name_the_place() -> None:
    plan = _body("start_date_b525.xml")
    with pytest.raises(BadResponse, match=r"^huawei_lte monitoring/month_statistics: no "):
        parse_month({"CurrentMonthUpload": "1"}, plan, now=NOW, tz=UTC_ZONE)
    with pytest.raises(BadResponse, match=r"^x: DataLimit 'lots' is not a size"):
        data_limit("lots", "x")
    with pytest.raises(BadResponse, match="StartDay 0 is not a day"):
        parse_month(
            _body("month_statistics_mobitra.xml"),
            plan | {"StartDay": "0"},
            now=NOW,
            tz=UTC_ZONE,
        )


def test_options() -> None:
    with pytest.raises(ValueError, match="password"):
        HuaweiLteOptions.model_validate({})
    assert HuaweiLteOptions.model_validate({"password": {"env": "X"}}).url == "http://192.168.8.1/"


def _config(tmp_path: Path, url: str) -> Path:
    options = f'url = "{url}"\npassword = {{env = "HUAWEI_SECRET"}}\n'
    return router_config(tmp_path, "huawei_lte", options, extra='cap = "provider"\n')


@pytest.fixture
def huawei_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUAWEI_SECRET", SECRET)


def test_poll_end_to_end_with_the_routers_month_reset(
    huawei_fake: tuple[str, Any], huawei_env: None, tmp_path: Path
) -> None:
    url, state = huawei_fake
    state.last_clear, state.start_day = "2026-11-1", 1
    state.set_month_data, state.data_limit = 1, "200GB"
    state.download, state.upload = 150 * 10**9, 12 * 10**9
    config = _config(tmp_path, url)
    clock = FakeClock(datetime(2026, 11, 23, 15, tzinfo=UTC))
    printed = ""

    def poll() -> dict[str, Any]:
        nonlocal printed
        code, entry, out = poll_json(config, clock)
        printed += out
        assert code == 0 and entry["outcome"] == "ok" and entry["stored"], out
        reading: dict[str, Any] = entry["reading"]
        return reading | {"message": entry["message"]}

    first = poll()
    assert (first["used_bytes"], first["cap_bytes"]) == (162 * 10**9, 200 * GiB)
    assert first["cycle_start"] == "2026-11-01T00:00:00Z"
    assert state.logins == 1 and "GET /api/webserver/SesTokInfo" in state.requests
    # a missed week: the router's meter carries on, the figure is simply its newer one
    clock.advance(timedelta(days=7, hours=8, minutes=10))  # 2026-11-30 23:10
    state.download += 40 * 10**9
    assert poll()["used_bytes"] == 202 * 10**9
    # past the boundary, before the router's own reset: the figure is November's final one
    clock.set(datetime(2026, 12, 1, 0, 20, tzinfo=UTC))
    state.download += 1 * 10**9
    closed = poll()
    assert closed["cycle_start"] == "2026-11-01T00:00:00Z" and closed["used_bytes"] == 203 * 10**9
    assert "has not published the new cycle yet" in closed["message"]
    # the router resets its month: December from its small new figure
    clock.set(datetime(2026, 12, 1, 2, tzinfo=UTC))
    state.last_clear, state.download, state.upload = "2026-12-1", 300_000_000, 20_000_000
    december = poll()
    assert december["cycle_start"] == "2026-12-01T00:00:00Z"
    assert december["used_bytes"] == 320_000_000
    summary, shown = status_json(config, clock)
    assert summary["used_bytes"] == 320_000_000 and summary["cap_bytes"] == 200 * GiB
    assert "GET /api/monitoring/month_statistics" in printed
    assert_secret_nowhere(SECRET, printed + shown, tmp_path / "data")


def test_wrong_password_is_secret_free(
    huawei_fake: tuple[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, state = huawei_fake
    monkeypatch.setenv("HUAWEI_SECRET", "not-the-huawei-pass")
    code, entry, printed = poll_json(_config(tmp_path, url), FakeClock(NOW))
    assert code == 1 and entry["outcome"] == "auth" and state.refused == 1
    assert "login: the router refused the user or password (108006" in entry["message"]
    assert_secret_nowhere("not-the-huawei-pass", printed, tmp_path / "data")


@pytest.mark.parametrize(
    ("mode", "outcome", "phrase"),
    [
        ("not_xml", "bad_response", "monitoring/month_statistics: the answer is not XML"),
        ("no_support", "bad_response", "monitoring/month_statistics: the router does not offer"),
        ("locked", "auth", "login: too many failed logins"),
    ],
)
def test_bad_replies_are_one_line_naming_the_place(
    huawei_fake: tuple[str, Any],
    huawei_env: None,
    tmp_path: Path,
    mode: str,
    outcome: str,
    phrase: str,
) -> None:
    url, state = huawei_fake
    state.mode = mode
    code, entry, _ = poll_json(_config(tmp_path, url), FakeClock(NOW))
    assert code == 1 and entry["outcome"] == outcome, entry
    assert entry["message"].startswith("huawei_lte 127.0.0.1:") and phrase in entry["message"]
    assert "\n" not in entry["message"]
