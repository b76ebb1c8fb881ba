"""vnStat provider: recorded payloads of both JSON versions, odd ones, and the real binary."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from capwatch.errors import BadResponse, ConfigError
from capwatch.providers.base import ProviderContext, load_provider
from capwatch.providers.vnstat import VnstatOptions, VnstatProvider, parse_text, parse_vnstat

DATA = Path(__file__).parent / "data" / "vnstat"
KIB = 1024


def _provider(data_dir: Path, **options: Any) -> VnstatProvider:
    return VnstatProvider(
        VnstatOptions(**options), ProviderContext("home", ZoneInfo("UTC"), data_dir)
    )


def _parse(name: str, **kwargs: Any) -> dict[str, tuple[int, int, str]]:
    payload = parse_text((DATA / name).read_text())
    return {c.key: (c.value, c.width, c.epoch) for c in parse_vnstat(payload, **kwargs)}


GOOD = [
    (
        "v1_eth0_wlan0.json",
        {},
        {
            "eth0:rx": (1532887452 * KIB, 0, "created:2017-03-14"),
            "eth0:tx": (104562331 * KIB, 0, "created:2017-03-14"),
            "wlan0:rx": (2048 * KIB, 0, "created:2018-01-05"),
            "wlan0:tx": (1024 * KIB, 0, "created:2018-01-05"),
        },
    ),
    (
        "v1_eth0_wlan0.json",
        {"interface": "wlan0", "direction": "rx"},
        {"wlan0:rx": (2048 * KIB, 0, "created:2018-01-05")},
    ),
    (
        "v2_eth0_wlan0.json",
        {},
        {
            "eth0:rx": (1869547200512, 0, "created:1598918400"),
            "eth0:tx": (140737488355, 0, "created:1598918400"),
            "wlan0:rx": (5000, 0, "created:1598918400"),
            "wlan0:tx": (7000, 0, "created:1598918400"),
        },
    ),
    (
        "v2_eth0_wlan0.json",
        {"interface": "eth0", "direction": "tx"},
        {"eth0:tx": (140737488355, 0, "created:1598918400")},
    ),
    (
        "v2_no_timestamp.json",
        {},
        {"enp3s0:rx": (100, 0, "created:2019-01-02"), "enp3s0:tx": (200, 0, "created:2019-01-02")},
    ),
]


@pytest.mark.parametrize(("name", "kwargs", "expected"), GOOD)
def test_parse_good(name: str, kwargs: dict[str, Any], expected: dict[str, Any]) -> None:
    assert _parse(name, **kwargs) == expected


BAD = [
    ("v2_empty_interfaces.json", {}, r"^vnstat: the database has no interfaces"),
    ("v3_unknown_version.json", {}, r"^vnstat: unknown jsonversion '3'"),
    ("v2_negative_total.json", {}, r"^vnstat: interface 'eth0': traffic\.total\.rx is not"),
    ("v2_no_created.json", {}, r"^vnstat: interface 'eth0': no usable 'created' date$"),
    ("not_an_object.json", {}, r"^vnstat: expected a JSON object"),
    ("truncated.json", {}, r"^vnstat: output is not JSON"),
    ("error_text.json", {}, r"^vnstat: output is not JSON"),
    (
        "v2_eth0_wlan0.json",
        {"interface": "ppp0"},
        r"'ppp0' is not in the database \(found: eth0, wlan0\)",
    ),
    ("v1_eth0_wlan0.json", {"interface": "eth1"}, r"'eth1' is not in the database"),
]


@pytest.mark.parametrize(("name", "kwargs", "pattern"), BAD)
def test_parse_bad(name: str, kwargs: dict[str, Any], pattern: str) -> None:
    with pytest.raises(BadResponse, match=pattern) as info:
        _parse(name, **kwargs)
    assert "\n" not in str(info.value)


async def test_fetch_from_json_file(data_dir: Path) -> None:
    assert load_provider("vnstat") is VnstatProvider
    snap = await _provider(data_dir, json_file=str(DATA / "v2_eth0_wlan0.json")).fetch(None)  # type: ignore[arg-type]
    assert snap.source == "vnstat"
    assert snap.used_bytes is None
    assert len(snap.counters) == 4
    assert snap.raw == {
        "vnstatversion": "2.6",
        "jsonversion": "2",
        "updated": {"eth0": 1613297100, "wlan0": 1613297100},
    }


async def test_missing_file_and_command(data_dir: Path) -> None:
    missing = _provider(data_dir, json_file=str(data_dir / "nope.json"))
    with pytest.raises(BadResponse, match="cannot read json_file"):
        await missing.fetch(None)  # type: ignore[arg-type]
    assert missing.prerequisites() and "does not exist" in missing.prerequisites()[0]
    nocmd = _provider(data_dir, command=["/nonexistent/vnstat", "--json"])
    with pytest.raises(ConfigError, match="not found"):
        await nocmd.fetch(None)  # type: ignore[arg-type]
    assert nocmd.prerequisites() == [
        "vnstat.command: '/nonexistent/vnstat' not found (install vnstat)"
    ]


async def test_failing_command_gives_first_stderr_line(data_dir: Path) -> None:
    script = data_dir / "fake-vnstat"
    script.write_text("#!/bin/sh\necho 'Error: no database' >&2\necho 'second line' >&2\nexit 1\n")
    script.chmod(0o755)
    with pytest.raises(BadResponse, match=r"exited with status 1: Error: no database$"):
        await _provider(data_dir, command=[str(script)]).fetch(None)  # type: ignore[arg-type]


@pytest.fixture
def vnstat_db(tmp_path: Path) -> Path:
    """A private vnStat 2 database with ``lo`` in it (no daemon), returned as its config."""
    if shutil.which("vnstatd") is None or shutil.which("vnstat") is None:
        pytest.fail("vnstat is not installed: `make debs` installs it (Debian package vnstat)")
    dbdir = tmp_path / "vnstat-db"
    dbdir.mkdir()
    conf = tmp_path / "vnstat.conf"
    conf.write_text(f'DatabaseDir "{dbdir}"\nUseLogging 0\n')
    subprocess.run(["vnstatd", "--config", str(conf), "--initdb"], check=True, capture_output=True)
    subprocess.run(
        ["vnstat", "--config", str(conf), "--add", "-i", "lo"], check=True, capture_output=True
    )
    with sqlite3.connect(dbdir / "vnstat.db") as db:  # as if the daemon had counted
        db.execute(
            "UPDATE interface SET rxtotal = ?, txtotal = ? WHERE name = 'lo'", (123456789012, 42)
        )
    return conf


async def test_real_vnstat_binary(vnstat_db: Path, data_dir: Path) -> None:
    command = ["vnstat", "--config", str(vnstat_db), "--json"]
    snap = await _provider(data_dir, command=command, interface="lo").fetch(None)  # type: ignore[arg-type]
    values = {c.key: c.value for c in snap.counters}
    assert values == {"lo:rx": 123456789012, "lo:tx": 42}
    assert snap.counters[0].epoch.startswith("created:")
    assert snap.raw is not None and snap.raw["jsonversion"] == "2"
    with pytest.raises(BadResponse, match="'eth9' is not in the database"):
        await _provider(data_dir, command=command, interface="eth9").fetch(None)  # type: ignore[arg-type]
