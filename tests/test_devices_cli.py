"""`capwatch devices` on a store holding a month of device data and the household meter."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from capwatch.analysis.devices import sparkline, usual_day
from capwatch.cli import cli
from capwatch.models import DeviceTraffic, Reading
from capwatch.store import open_store
from tests.fixtures.common import FakeClock

GB = 10**9
NOW = datetime(2026, 11, 29, 15, tzinfo=UTC)  # 10:00 on 29 November in New York
CS = datetime(2026, 11, 1, 4, tzinfo=UTC)  # local midnight, 1 November
TV, LAPTOP, PHONE = "b8:27:eb:00:00:01", "00:1a:11:00:00:02", "da:a1:19:00:00:03"


def seed_month(url: str) -> dict[str, int]:
    """28 days of three devices and a meter 10 GB a day above their sum; returns the
    devices' cycle totals by key."""
    st = open_store(url)
    st.ensure_account("home", "xfinity", "America/New_York")
    totals: dict[str, int] = {}
    meter = 0
    for i in range(28):
        noon = CS + timedelta(days=i, hours=12)
        tv = (6 if i != 27 else 86) * GB  # a spike yesterday (28 November)
        traffic = [
            DeviceTraffic("192.168.1.20", tv, TV),
            DeviceTraffic("192.168.1.30", 3 * GB, LAPTOP),
            DeviceTraffic("2001:db8::30", 1 * GB, LAPTOP),
            DeviceTraffic("192.168.1.40", (i % 3) * GB, PHONE),
        ]
        st.add_device_traffic("home", noon, "netflow", traffic)
        for t in traffic:
            key = f"mac:{t.mac}"
            totals[key] = totals.get(key, 0) + t.bytes
        meter += sum(t.bytes for t in traffic) + 10 * GB
        st.add_readings([Reading("home", noon + timedelta(hours=1), CS, meter, 1200 * GB, "isp")])
    st.close()
    return totals


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "capwatch.toml"
    path.write_text(
        f'data_dir = "{tmp_path / "data"}"\n'
        '[[accounts]]\nname = "home"\nprovider = "xfinity"\ncap = "1200 GB"\n'
        '[accounts.cycle]\ntimezone = "America/New_York"\n'
        '[device_names]\n"B8:27:EB:00:00:01" = "Living-room TV"\n'
    )
    seed_month(f"sqlite:///{tmp_path / 'data' / 'capwatch.db'}")
    return path


def run(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli, ["--config", str(config), *args], obj={"clock": FakeClock(NOW)}, terminal_width=80
    )
    return result.exit_code, result.stdout, result.stderr


def test_json_has_every_figure(config: Path) -> None:
    code, out, err = run(config, "devices", "--json")
    assert code == 0, err
    home = json.loads(out)["home"]
    assert home["day"] == "2026-11-28" and len(home["days"]) == 28
    by_name = {d["name"]: d for d in home["devices"]}
    assert list(by_name) == ["Living-room TV", "00:1a:11:00:00:02", "da:a1:19:00:00:03"]
    tv = by_name["Living-room TV"]
    assert tv["vendor"] == "Raspberry Pi Foundation"
    assert tv["cycle_bytes"] == (27 * 6 + 86) * GB
    assert (tv["day_bytes"], tv["usual_bytes"]) == (86 * GB, 6 * GB)
    laptop = by_name["00:1a:11:00:00:02"]
    assert laptop["cycle_bytes"] == 28 * 4 * GB  # IPv4 and IPv6 folded by the MAC
    assert sorted(laptop["addresses"]) == ["192.168.1.30", "2001:db8::30"]
    assert by_name["da:a1:19:00:00:03"]["vendor"] is None  # a randomised MAC
    assert home["unaccounted_bytes"] == 28 * 10 * GB
    assert home["meter_bytes"] == home["devices_bytes"] + home["unaccounted_bytes"]
    assert home["unaccounted_daily"][1:] == [10 * GB] * 27
    assert tv["share"] == pytest.approx(tv["cycle_bytes"] / home["meter_bytes"])


def test_table_fits_80_columns(config: Path) -> None:
    code, out, err = run(config, "devices")
    assert code == 0, err
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert any("Living-room TV" in line and "86.0 GB" in line for line in lines), out
    assert any("no device" in line and "280 GB" in line for line in lines), out


def test_two_sources_at_80_columns_cut_no_figure_and_no_mac(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Source column (two device sources) on an 80-column terminal leaves the vendor out
    rather than cutting a figure or an unnamed device's MAC; a wide one keeps it."""
    from rich.console import Console

    width = {"columns": 80}
    monkeypatch.setattr(
        "capwatch.cli.devices.console",
        lambda: Console(width=width["columns"], highlight=False, color_system=None),
    )
    st = open_store(f"sqlite:///{tmp_path / 'data' / 'capwatch.db'}")
    extra = [DeviceTraffic("192.168.1.77", 5 * GB, "f0:18:98:6d:5a:05")]
    st.add_device_traffic("home", NOW - timedelta(days=9), "nlbw-router", extra)
    st.close()
    code, out, err = run(config, "devices")
    assert code == 0, err
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "Source" in out and "nlbw-router" in out and "Vendor" not in out
    tv = next(line for line in lines if "Living-room TV" in line)
    assert "248 GB" in tv and "86.0 GB" in tv and "6.0 GB" in tv, out
    assert any("00:1a:11:00:00:02" in line and "112 GB" in line for line in lines), out
    assert "…" not in out.split("Source", 1)[1].replace("nlbw-router", ""), out
    width["columns"] = 120
    code, wide, err = run(config, "devices")
    assert code == 0, err
    assert "Vendor" in wide and "Raspberry" in wide


def test_day_and_cycle_options(config: Path) -> None:
    code, out, _ = run(config, "devices", "--day", "2026-11-10", "--json")
    assert code == 0
    home = json.loads(out)["home"]
    assert home["day"] == "2026-11-10" and len(home["days"]) == 10
    code, out, _ = run(config, "devices", "--cycle", "2026-10", "--json")
    assert code == 0 and json.loads(out)["home"]["devices"] == []
    code, _, err = run(config, "devices", "--cycle", "2026-13")
    assert code != 0 and "--cycle: expected YYYY-MM, got '2026-13'" in err
    code, _, err = run(config, "devices", "--day", "10/11/2026")
    assert code != 0 and "expected YYYY-MM-DD" in err


def test_usual_day_needs_three_earlier_days_and_counts_quiet_days() -> None:
    d = date(2026, 11, 10)
    assert usual_day({d - timedelta(days=1): 5, d - timedelta(days=2): 5}, d) is None
    series = {d - timedelta(days=4): 9, d - timedelta(days=1): 9}  # two quiet days between
    assert usual_day(series, d) == 4  # median of 9, 0, 0, 9
    assert sparkline([0, 1, 8]) == " ▂█"
