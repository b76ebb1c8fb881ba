"""The plan model: allowances with windows, rollover and what happens at their end."""

from __future__ import annotations

from pathlib import Path

import pytest

from capwatch.config import dump_toml, load_settings
from capwatch.config.plan import parse_clock, parse_days

SATELLITE = """
[[accounts]]
name = "sat"
provider = "host"
[accounts.cycle]
timezone = "America/New_York"
[[accounts.allowances]]
name = "anytime"
size = "100 GB"
counts = "outside"
windows = [{days = "mon-sun", from = "02:00", to = "08:00"}]
at_end = "slowdown"
slowdown_mbps = 1
[[accounts.allowances]]
name = "night"
size = "50 GB"
counts = "inside"
windows = [{days = "fri-sun", from = "22:00", to = "06:00"}]
[accounts.allowances.rollover]
limit = "20 GB"
expires_after = 2
"""


def _load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "c.toml"
    path.write_text(f'data_dir = "{tmp_path}"\n{text}', encoding="utf-8")
    return load_settings(path, env={})


def test_a_satellite_plan_reads_as_written(tmp_path: Path) -> None:
    settings = _load(tmp_path, SATELLITE)
    acct = settings.accounts[0]  # type: ignore[attr-defined]
    day, night = acct.allowances
    assert (day.name, day.size, day.counts, day.at_end) == (
        "anytime",
        100 * 10**9,
        "outside",
        "slowdown",
    )
    assert (day.windows[0].start_minute, day.windows[0].end_minute) == (120, 480)
    assert night.windows[0].weekdays == {4, 5, 6}
    assert night.windows[0].end_minute == 30 * 60  # crosses midnight: 06:00 the next day
    assert night.rollover_limit == 20 * 10**9 and night.rollover.expires_after == 2
    assert day.rollover_limit is None
    # the allowances carry the limits: a counter's default 1 TB cap does not apply
    assert (acct.cap_source, acct.cap_bytes) == ("unlimited", None)


def test_the_plan_survives_a_dump_and_reload(tmp_path: Path) -> None:
    settings = _load(tmp_path, SATELLITE)
    again = _load(tmp_path, dump_toml(settings).split("\n", 1)[1])  # data_dir line re-added
    assert again.accounts[0].allowances == settings.accounts[0].allowances  # type: ignore[attr-defined]


def test_cap_alone_is_the_plan_of_today(tmp_path: Path) -> None:
    acct = _load(tmp_path, '[[accounts]]\nname = "h"\nprovider = "host"\n').accounts[0]  # type: ignore[attr-defined]
    assert acct.allowances == [] and (acct.cap_source, acct.cap_bytes) == ("config", 10**12)


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("mon-sun", set(range(7))),
        ("mon-fri", set(range(5))),
        ("sat,sun", {5, 6}),
        ("fri-mon", {4, 5, 6, 0}),
        ("wed", {2}),
    ],
)
def test_days(text: str, days: set[int]) -> None:
    assert parse_days(text) == days


@pytest.mark.parametrize(("text", "minute"), [("00:00", 0), ("2:30", 150), ("24:00", 1440)])
def test_clock(text: str, minute: int) -> None:
    assert parse_clock(text) == minute


@pytest.mark.parametrize("text", ["24:01", "12:60", "noon", "25:00"])
def test_bad_clock(text: str) -> None:
    with pytest.raises(ValueError):
        parse_clock(text)
