"""Report builders, scheduling keys and the `chart` / `report` commands on a real SQLite store."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from capwatch.models import AlertEvent, Cycle
from capwatch.notify.reports import build_alert, build_monthly, build_weekly, current_view
from capwatch.notify.schedule import due_reports, last_fire, weekly_key
from capwatch.notify.templates import inline_preview
from capwatch.units import format_range
from tests.fixtures.common import FakeClock
from tests.fixtures.smtp import NotifyEnv

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")

CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 19, 13, tzinfo=CHICAGO)  # the seeded store's "now": November open


def _cli(env: NotifyEnv, *args: str) -> object:
    from capwatch.cli import cli

    obj = {"clock": FakeClock(NOW)}
    return CliRunner().invoke(cli, ["--config", str(env.config_path), *args], obj=obj)


def test_weekly_numbers(notify_env: NotifyEnv) -> None:
    now = datetime(2026, 11, 19, 13, tzinfo=CHICAGO)
    report = build_weekly(notify_env.store, notify_env.settings, "home", now)
    _, summary = current_view(notify_env.settings, notify_env.store, "home", now)
    assert summary.used_bytes == 629 * 10**9 and summary.cap_bytes == 1229 * 10**9
    assert report.subject.startswith("capwatch home: 629 GB of 1.23 TB (51.2%), projected ")
    lines = dict(line.split(":", 1) for line in report.text.splitlines() if line.count(":") == 1)
    assert lines["Remaining"].strip() == "600 GB"
    assert lines["Days left"].strip() == "11.5"
    assert "per day" in lines["Daily allowance"]
    assert "Top devices" not in report.text  # none stored
    assert report.png is not None and report.png.startswith(b"\x89PNG")
    assert 'src="cid:capwatch-chart.png"' in report.html
    assert "<script" not in report.html and "style=" in report.html
    preview = inline_preview(report.html, report.png)
    assert "data:image/png;base64," in preview and "cid:" not in preview


def test_monthly_over_cap_with_cost_and_history(notify_env: NotifyEnv) -> None:
    oct_ = Cycle(
        datetime(2026, 10, 1, tzinfo=CHICAGO).astimezone(ZoneInfo("UTC")),
        datetime(2026, 11, 1, tzinfo=CHICAGO).astimezone(ZoneInfo("UTC")),
    )
    report = build_monthly(notify_env.store, notify_env.settings, "home", oct_)
    assert report.subject == "capwatch home: October 2026 used 1.30 TB of 1.23 TB (105.8%)"
    assert "Overage charge:        $20.00  (!)" in report.text  # 71 GB -> two 50 GB blocks
    assert "Projected" not in report.text
    assert "color:#d32f2f" in report.html


def test_alert_without_numbers_still_reads_well() -> None:
    at = datetime(2026, 11, 19, 12, tzinfo=CHICAGO)
    event = AlertEvent("home", "used", "90", "resolved", at, "usage back under 90%")
    report = build_alert(event, None, zone="America/Chicago")
    assert report.subject == "capwatch home: Resolved: usage back under 90%"
    assert "Resolved Thu Nov 19, 12:00 CST." in report.text
    assert report.png is None and "cid:" not in report.html


@pytest.mark.parametrize(
    ("now", "keys"),
    [
        (datetime(2026, 11, 22, 7, 59, tzinfo=CHICAGO), []),  # Sat's run was 7 days ago
        (datetime(2026, 11, 22, 8, 0, tzinfo=CHICAGO), ["weekly:home:2026-W47"]),
        (datetime(2026, 11, 22, 19, 59, tzinfo=CHICAGO), ["weekly:home:2026-W47"]),
        (datetime(2026, 11, 22, 20, 1, tzinfo=CHICAGO), []),  # past the 12 h grace
        (datetime(2026, 11, 1, 22, 59, tzinfo=CHICAGO), []),  # October closed < 24 h ago
        (datetime(2026, 11, 2, 9, 0, tzinfo=CHICAGO), ["monthly:home:2026-10"]),
        (datetime(2026, 11, 1, 9, 0, tzinfo=CHICAGO), ["weekly:home:2026-W44"]),
    ],
)
def test_due_reports(notify_env: NotifyEnv, now: datetime, keys: list[str]) -> None:
    settings = notify_env.reload({"hook": "json://127.0.0.1:9/x"})
    assert [d.key for d in due_reports(notify_env.store, settings, now)] == keys


def test_daily_cron_gets_a_key_per_day() -> None:
    now = datetime(2026, 11, 18, 9, tzinfo=CHICAGO)
    fire, following = last_fire("0 8 * * *", now, "America/Chicago")
    assert fire == datetime(2026, 11, 18, 8, tzinfo=CHICAGO)
    assert weekly_key("home", fire, following, "America/Chicago") == "weekly:home:2026-W47-3-0800"


def test_cli_chart_png_svg_and_history(notify_env: NotifyEnv, tmp_path: Path) -> None:
    from PIL import Image

    out = tmp_path / "c.png"
    result = _cli(notify_env, "chart", "-o", str(out))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert Image.open(io.BytesIO(out.read_bytes())).size == (1280, 1200)
    svg = tmp_path / "oct.svg"
    result = _cli(notify_env, "chart", "--cycle", "2026-10", "-o", str(svg))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "Final 1.30 TB of 1.23 TB" in svg.read_text()
    hist = tmp_path / "h.svg"
    assert _cli(notify_env, "chart", "--history", "-o", str(hist)).exit_code == 0  # type: ignore[attr-defined]
    assert hist.read_text().count('id="cw-cycle-') == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cycle", "2025-01"], "--cycle 2025-01: no such cycle"),
        (["--cycle", "2026-13"], "--cycle 2026-13: expected YYYY-MM"),
        (["--account", "nope"], "unknown account 'nope'"),
        (["-o", "x.gif"], "must end in .png or .svg"),
    ],
)
def test_cli_chart_bad_input(
    notify_env: NotifyEnv, tmp_path: Path, args: list[str], message: str
) -> None:
    argv = ["chart", *args] if "-o" in args else ["chart", *args, "-o", str(tmp_path / "x.png")]
    result = _cli(notify_env, *argv)
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert message in result.output  # type: ignore[attr-defined]
    assert len(result.output.strip().splitlines()) == 1  # type: ignore[attr-defined]


def test_cli_report_preview_and_text(notify_env: NotifyEnv, tmp_path: Path) -> None:
    out = tmp_path / "weekly.html"
    result = _cli(notify_env, "report", "weekly", "--preview", str(out))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    html = out.read_text()
    assert "Weekly usage: home" in html and "data:image/png;base64," in html
    result = _cli(notify_env, "report", "monthly")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "Subject: capwatch home: October 2026 used 1.30 TB" in result.output  # type: ignore[attr-defined]


def test_cli_report_send(notify_env: NotifyEnv, json_receiver) -> None:  # type: ignore[no-untyped-def]
    notify_env.reload({"hook": json_receiver.url})
    result = _cli(notify_env, "report", "monthly", "--send")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "sent monthly report of home via hook" in result.output  # type: ignore[attr-defined]
    [body] = json_receiver.bodies
    assert "October 2026" in body["title"]


def test_cli_report_send_without_channel_fails(notify_env: NotifyEnv) -> None:
    result = _cli(notify_env, "report", "weekly", "--send")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "no notify channel takes weekly reports" in result.output  # type: ignore[attr-defined]


def test_top_devices_are_listed(notify_env: NotifyEnv) -> None:
    from capwatch.models import DeviceUsage, Reading
    from capwatch.store.api import PollRecord

    start = datetime(2026, 11, 1, tzinfo=CHICAGO)
    at = datetime(2026, 11, 19, 13, tzinfo=CHICAGO)
    devices = [
        DeviceUsage("aa:bb", 300 * 10**9, "Living room TV"),
        DeviceUsage("cc:dd", 120 * 10**9, "Laptop <work>"),
    ]
    reading = Reading("home", at, start, 630 * 10**9, 1229 * 10**9, "test")
    assert notify_env.store.record_poll(PollRecord(reading=reading, devices=devices))
    report = build_weekly(notify_env.store, notify_env.settings, "home", at)
    assert "Top devices:\n  Living room TV: 300 GB\n  Laptop <work>: 120 GB" in report.text
    assert "Laptop &lt;work&gt;" in report.html and "Laptop <work>" not in report.html


def test_point_2_chart_shows_the_summarys_projection_or_none(
    notify_env: NotifyEnv, tmp_path: Path
) -> None:
    """Issue 16.2: `capwatch chart` draws the forecast status gives, not one of its own."""
    import json

    from capwatch.charts.render import gb

    status = _cli(notify_env, "status", "--json")
    (summary,) = json.loads(status.output)  # type: ignore[attr-defined]
    svg = tmp_path / "now.svg"
    assert _cli(notify_env, "chart", "-o", str(svg)).exit_code == 0  # type: ignore[attr-defined]
    fc = summary["forecast"]
    assert f"Projected {gb(fc['expected_bytes'])}" in svg.read_text()
    assert f"({format_range(fc['low_bytes'], fc['high_bytes'])})" in svg.read_text()


@pytest.mark.parametrize("hour", [1, 30, 200, 440])
def test_point_2_chart_and_status_agree_at_any_hour_of_the_cycle(
    notify_env: NotifyEnv, tmp_path: Path, hour: int
) -> None:
    import json
    from datetime import timedelta

    from click.testing import CliRunner

    from capwatch.cli import cli

    at = datetime(2026, 11, 1, tzinfo=CHICAGO) + timedelta(hours=hour)
    obj = {"clock": FakeClock(at)}
    args = ["--config", str(notify_env.config_path)]
    status = CliRunner().invoke(cli, [*args, "status", "--json"], obj=obj)
    (summary,) = json.loads(status.output)
    svg = tmp_path / "c.svg"
    CliRunner().invoke(cli, [*args, "chart", "-o", str(svg)], obj={"clock": FakeClock(at)})
    assert ("Projected" in svg.read_text()) == (summary["forecast"] is not None)


def test_daily_shows_the_cycle_day_by_day(notify_env: NotifyEnv) -> None:
    """Issue 16.8: a per-day view of the current cycle (what each day used, the total)."""
    import json

    result = _cli(notify_env, "daily", "--json")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    days = json.loads(result.output)["home"]  # type: ignore[attr-defined]
    assert days[0]["day"] == "2026-11-01" and days[-1]["day"] == "2026-11-19"
    assert all(0 <= d["used_bytes"] <= 40 * 10**9 for d in days)
    assert days[-1]["total_bytes"] == sum(d["used_bytes"] for d in days)
    table = _cli(notify_env, "daily").output  # type: ignore[attr-defined]
    assert "home: this cycle by day" in table and "Thu 2026-11-19" in table
