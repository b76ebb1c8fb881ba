"""Plans end to end through `capwatch poll` on fakes, shown by `capwatch status --json`.

A satellite-style plan (a metered "anytime" allowance and a free 02:00-08:00 "bonus zone",
New York time) on the fake OpenWrt router's counters; an A&A-style plan (half of last month's
unused quota carried over, and a top-up) on the fake CHAOS API, whose one total cannot be split
across a window.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from capwatch.cli import cli
from tests.fakes.aaisp import PASSWORD, USERNAME
from tests.fixtures.common import FakeClock, cli_run
from tests.fixtures.plan import aaisp_plan_polled
from tests.fixtures.routers import assert_secret_nowhere

GB = 10**9
SECRET = "fake-openwrt-password"
SATELLITE = """
[[accounts.allowances]]
name = "anytime"
size = "100 GB"
counts = "outside"
windows = [{days = "mon-sun", from = "02:00", to = "08:00"}]
at_end = "slowdown"
slowdown_mbps = 1
[accounts.allowances.rollover]
expires_after = 1
[[accounts.allowances]]
name = "bonus-zone"
size = "50 GB"
counts = "inside"
windows = [{days = "mon-sun", from = "02:00", to = "08:00"}]
"""


def _status(config: Path, clock: FakeClock) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads(cli_run(config, clock, "status", "--json").stdout)[0]
    return summary


def _status_at(
    config: Path, clock: FakeClock, columns: int, monkeypatch: pytest.MonkeyPatch
) -> str:
    """`capwatch status` as a terminal of ``columns`` shows it (the runner is no terminal)."""
    from rich.console import Console

    monkeypatch.setattr(
        "capwatch.cli.status.console", lambda: Console(width=columns, highlight=False)
    )
    output: str = cli_run(config, clock, "status").output
    return output


def _allowances(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["name"]: a for a in summary["allowances"]}


def test_a_satellite_plan_on_router_counters(
    openwrt_fake: tuple[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, state = openwrt_fake
    monkeypatch.setenv("OPENWRT_SECRET", SECRET)
    config = tmp_path / "capwatch.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n[[accounts]]\nname = "sat"\nprovider = "openwrt"\n'
        '[accounts.cycle]\ntimezone = "America/New_York"\n'
        f'[accounts.options]\nurl = "{url}/ubus"\npassword = {{env = "OPENWRT_SECRET"}}\n'
        "[accounts.alerts]\nused_percent = [10]\nprojected_percent = [1000]\n"
        f"{SATELLITE}"
    )
    # 1 November 2026, the night the clocks go back: local midnight is 04:00 UTC
    clock = FakeClock(datetime(2026, 11, 1, 4, tzinfo=UTC), tick=timedelta(0))
    printed = cli_run(config, clock, "poll").output  # a baseline

    def later(hours: int, rx: int) -> None:
        nonlocal printed
        clock.advance(timedelta(hours=hours))
        state.uptime_s += hours * 3600
        state.rx_bytes += rx
        printed += cli_run(config, clock, "poll").output

    later(3, 4 * GB)  # 00:00-02:00 EDT, 01:00-02:00 EST: 3 real hours, all before the window
    later(6, 12 * GB)  # 02:00-08:00 EST: the free window, 6 real hours
    later(2, 2 * GB)  # 08:00-10:00: metered again
    later(2, 6 * GB)  # 10:00-12:00
    summary = _status(config, clock)
    assert summary["used_bytes"] == 24 * GB  # the line's total, as today
    assert summary["cap_bytes"] is None  # the allowances carry the limits
    plan = _allowances(summary)
    anytime, bonus = plan["anytime"], plan["bonus-zone"]
    assert (anytime["used_bytes"], bonus["used_bytes"]) == (12 * GB, 12 * GB)
    assert anytime["remaining_bytes"] == 88 * GB and bonus["remaining_bytes"] == 38 * GB
    assert anytime["size_bytes"] == 100 * GB and anytime["split_known"] is True
    assert anytime["windows"] == "mon-sun 02:00-08:00" and anytime["at_end"] == "slowdown"
    assert anytime["projected_bytes"] >= 12 * GB  # its own forecast, on its own series
    assert bonus["note"] is None
    # the allowance's own alert, through the poll's rules, latch and outbox
    alerts = {(a["rule"], a["level"]): a for a in summary["alerts"]}
    assert set(alerts) == {("used:anytime", "10"), ("used:bonus-zone", "10")}
    alert = alerts[("used:anytime", "10")]
    assert alert["fired_at"] == "2026-11-01T17:00:00+00:00"  # the poll that crossed 10%, once
    assert alert["message"].startswith("sat: the anytime allowance (outside mon-sun 02:00-08:00)")
    assert alert["message"].endswith("when it runs out the line slows to 1 Mbit/s")
    wide = _status_at(config, clock, 160, monkeypatch)
    row = next(line for line in wide.splitlines() if "anytime" in line)
    assert "outside mon-sun 02:00-08:00" in row and "12.0 GB" in row and "88.0 GB" in row
    assert anytime["rollover_bytes"] == 0  # the first cycle capwatch has seen

    # the cycle's last hour, then the first two of December: what was left rolls over
    last_cycle_end = datetime(2026, 12, 1, 4, tzinfo=UTC)  # 23:00 EST on 30 November
    state.uptime_s += int((last_cycle_end - clock.now).total_seconds())  # the same boot
    clock.set(last_cycle_end)
    state.rx_bytes += 30 * GB
    printed += cli_run(config, clock, "poll").output
    november = _allowances(_status(config, clock))
    used_nov = november["anytime"]["used_bytes"]
    assert used_nov + november["bonus-zone"]["used_bytes"] == 54 * GB  # every byte, once
    assert 12 * GB < used_nov < 12 * GB + 30 * GB  # the month's nights were free
    later(2, 2 * GB)  # 23:00-01:00: one hour in each cycle
    december = _status(config, clock)
    plan = _allowances(december)
    assert december["used_bytes"] == GB and plan["anytime"]["used_bytes"] == GB
    assert plan["anytime"]["rollover_bytes"] == 100 * GB - used_nov
    assert plan["anytime"]["size_bytes"] == 200 * GB - used_nov
    assert plan["bonus-zone"]["rollover_bytes"] == 0 and plan["bonus-zone"]["used_bytes"] == 0
    assert_secret_nowhere(SECRET, printed + wide, tmp_path / "data")


def test_an_aaisp_plan_with_rollover_and_a_topup(
    aaisp_fake: tuple[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, state = aaisp_fake
    monkeypatch.setenv("AA_PASSWORD", PASSWORD)
    config, clock = aaisp_plan_polled(tmp_path, url, state, USERNAME)
    done = cli_run(config, clock, "topup", "aa", "20GB", "--note", "films", "--at", "2026-12-02")
    assert "recorded a top-up of 20.0 GB to monthly" in done.output
    # one bought in November adds to November, not to December
    cli_run(config, clock, "topup", "aa", "5GB", "--at", "2026-11-15T12:00")
    listed = json.loads(cli_run(config, clock, "topup", "aa", "--list", "--json").stdout)
    assert [(t["at"], t["bytes"], t["note"]) for t in listed] == [
        ("2026-11-15T12:00:00Z", 5 * GB, None),
        ("2026-12-02T00:00:00Z", 20 * GB, "films"),
    ]
    summary = _status(config, clock)
    plan = _allowances(summary)
    monthly, night = plan["monthly"], plan["night"]
    # half of November's unused (200 + 5 top-up - 50 = 155 GB) rolls over: 77.5 GB
    assert monthly["rollover_bytes"] == 77_500_000_000
    assert monthly["topup_bytes"] == 20 * GB
    assert monthly["size_bytes"] == 200 * GB + 77_500_000_000 + 20 * GB
    assert monthly["used_bytes"] == 10 * GB == summary["used_bytes"]
    assert monthly["remaining_bytes"] == monthly["size_bytes"] - 10 * GB
    # the ISP's one total cannot be split across a window: said, not guessed
    assert night["used_bytes"] is None and night["split_known"] is False
    assert night["remaining_bytes"] is None and "cannot be known" in night["note"]
    narrow = _status_at(config, clock, 80, monkeypatch)
    assert "night: the ISP reports one total" in " ".join(narrow.split())
    assert "298 GB (+77.5 GB rolled over, +20.0 GB top-ups)" in narrow
    assert max(len(line.rstrip()) for line in narrow.splitlines()) <= 80
    wide = _status_at(config, clock, 160, monkeypatch)
    row = next(line for line in wide.splitlines() if "night" in line and "inside" in line)
    assert "inside mon-sun 00:00-06:00" in row and row.count("unknown") == 2


def test_a_topup_needs_an_allowance(tmp_path: Path) -> None:
    config = tmp_path / "capwatch.toml"
    config.write_text(f'data_dir = "{tmp_path}"\n[[accounts]]\nname = "h"\nprovider = "host"\n')
    result = CliRunner().invoke(cli, ["--config", str(config), "topup", "h", "20GB"])
    assert result.exit_code == 2
    assert "has no allowances to top up" in result.stderr and "\n" not in result.stderr.strip()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["20 gigs"], "SIZE: unknown unit 'gigs' in '20 gigs'"),
        (["0GB"], "SIZE: a top-up must be more than 0 bytes"),
        (["5GB", "--allowance", "night"], "has no allowance 'night' (allowances: day)"),
        (["5GB", "--at", "yesterday"], "--at: expected a date or time like 2026-12-02"),
        ([], "give the size bought"),
    ],
)
def test_a_bad_topup_is_one_line_and_writes_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    config = tmp_path / "capwatch.toml"
    config.write_text(
        f'data_dir = "{tmp_path}"\n[[accounts]]\nname = "h"\nprovider = "host"\n'
        '[[accounts.allowances]]\nname = "day"\nsize = "10 GB"\n'
    )
    result = CliRunner().invoke(cli, ["--config", str(config), "topup", "h", *args])
    assert result.exit_code == 2 and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "capwatch.db").exists()
