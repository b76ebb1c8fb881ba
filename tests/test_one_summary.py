"""Issue 16 point 2: one summary, every surface. For one store at one instant, the CLI (table and
JSON), the API, the overview and account pages, the weekly email, the chart and every exporter
(Prometheus, Graphite, InfluxDB, Home Assistant's state) show the same figures, written the same
way (``capwatch.units``) wherever people read them."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from capwatch.analysis.cycles import CycleRule
from capwatch.cli import cli
from capwatch.config import load_settings
from capwatch.models import CycleSummary, DeviceUsage, PollLogEntry, PollOutcome
from capwatch.store import open_store
from capwatch.store.api import PollRecord, Store
from capwatch.units import format_bytes, format_days, format_pace, format_percent, format_range
from tests.fixtures.common import FakeClock
from tests.fixtures.web import WEB_ZONE, one_isp_summary, web_readings

NOW = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)
ZONE = WEB_ZONE


@pytest.fixture
def one_store(tmp_path: Path) -> tuple[Path, CycleSummary]:
    """A config with one ISP account heading over its cap, its store, and its summary at NOW."""

    def fill(store: Store, rule: CycleRule) -> None:
        cycle = rule.cycle_at(NOW)
        rows = web_readings(
            "isp",
            rule,
            cycle.start,
            NOW - timedelta(minutes=20),
            timedelta(minutes=30),
            7,
            62 * 10**9,
        )
        store.add_readings(rows[:-1])
        log = PollLogEntry("isp", rows[-1].observed_at, 0.3, PollOutcome.OK, reading_stored=True)
        device = DeviceUsage("aa:bb:cc:00:00:01", rows[-1].used_bytes // 3, "Console")
        store.record_poll(PollRecord(rows[-1], devices=(device,), log=log))

    config, summary = one_isp_summary(tmp_path, NOW, fill)
    assert summary.forecast is not None and summary.pace is not None
    assert summary.cap_bytes and summary.forecast.expected_bytes > summary.cap_bytes
    return config, summary


def _people(s: CycleSummary) -> list[str]:
    """The figures as every surface for people writes them."""
    f = s.forecast
    assert f is not None
    return [
        format_bytes(s.used_bytes),
        format_bytes(s.cap_bytes),
        format_percent(s.percent),
        format_bytes(f.expected_bytes),
        format_range(f.low_bytes, f.high_bytes),
        format_bytes(s.daily_allowance_bytes),
        format_days(s.days_left),
        format_pace(s.pace),
    ]


def _numbers_equal(data: dict[str, object], s: CycleSummary) -> None:
    f = s.forecast
    assert f is not None
    assert data["used_bytes"] == s.used_bytes and data["cap_bytes"] == s.cap_bytes
    fc = data["forecast"]
    assert isinstance(fc, dict)
    assert (fc["expected_bytes"], fc["low_bytes"], fc["high_bytes"]) == (
        f.expected_bytes,
        f.low_bytes,
        f.high_bytes,
    )
    assert data["daily_allowance_bytes"] == s.daily_allowance_bytes
    assert abs(float(str(data["days_left"])) - s.days_left) < 1e-3
    assert abs(float(str(data["pace"])) - (s.pace or 0)) < 1e-3
    assert abs(float(str(data["percent"])) - (s.percent or 0)) < 0.01


def _cli(config: Path, *args: str, columns: int = 160) -> str:
    result = CliRunner().invoke(
        cli,
        ["--config", str(config), *args],
        obj={"clock": FakeClock(NOW, tick=timedelta(0))},
        env={"COLUMNS": str(columns)},
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_cli_api_pages_email_chart_and_exporters_show_one_summary(
    one_store: tuple[Path, CycleSummary], tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from capwatch.exporters.graphite import render_lines
    from capwatch.exporters.homeassistant import state_payload
    from capwatch.exporters.influxdb import render_points
    from capwatch.notify.reports import build_weekly
    from capwatch.web.app import create_app

    config, s = one_store
    f = s.forecast
    assert f is not None
    people = _people(s)

    # The CLI: JSON numbers, and the table (wide and at 80 columns) in the shared wording.
    (data,) = json.loads(_cli(config, "status", "--json"))
    _numbers_equal(data, s)
    for columns in (160, 80):
        table = _cli(config, "status", columns=columns)
        for text in people:
            assert text in table, (columns, text)

    settings = load_settings(config)
    store = open_store(settings.resolved_database_url())
    try:
        # The API and the pages.
        client = TestClient(
            create_app(settings, store, clock=lambda: NOW), base_url="http://127.0.0.1"
        )
        _numbers_equal(client.get("/api/v1/accounts/isp").json(), s)
        for path in ("/", "/accounts/isp"):
            page = client.get(path).text
            for text in people:
                assert text in page, (path, text)
            assert f'data-bytes="{f.expected_bytes}"' in page
            assert f'data-bytes="{s.used_bytes}"' in page

        # The weekly email, text and HTML, and its subject.
        report = build_weekly(store, settings, "isp", NOW)
        for text in people:
            assert text in report.text, text
            assert text in report.html, text
        assert format_bytes(f.expected_bytes) in report.subject

        # Exporters carry the numbers themselves.
        devices = {"isp": store.devices("isp", s.cycle.start)}
        graphite = dict(line.rsplit(" ", 1)[0].split(" ") for line in render_lines([s], devices))
        assert float(graphite["capwatch.isp.used_bytes"]) == s.used_bytes
        assert float(graphite["capwatch.isp.projected_bytes"]) == f.expected_bytes
        assert float(graphite["capwatch.isp.pace"]) == pytest.approx(s.pace, abs=1e-6)
        (point,) = [p for p in render_points([s], devices) if p.startswith("capwatch,")]
        assert f"used_bytes={s.used_bytes}i" in point
        assert f"projected_bytes={f.expected_bytes}i" in point
        state = state_payload(s, devices["isp"])
        assert state["projected_bytes"] == f.expected_bytes or state["projected_bytes"] == (
            pytest.approx(f.expected_bytes / 10**9, abs=0.01)
        )
        assert state["pace"] == pytest.approx(s.pace, abs=0.01)
        metrics = client.get("/metrics").text
        used = re.search(r'^capwatch_usage_bytes\{account="isp"\} (\S+)$', metrics, re.M)
        assert used and float(used.group(1)) == s.used_bytes
        projected = re.search(
            r'^capwatch_projected_bytes\{account="isp",bound="expected"\} (\S+)$', metrics, re.M
        )
        assert projected and float(projected.group(1)) == f.expected_bytes
    finally:
        store.close()

    # The chart draws the summary's forecast, with the same words.
    svg = tmp_path / "cycle.svg"
    _cli(config, "chart", "-o", str(svg))
    drawn = svg.read_text()
    assert f"Projected {format_bytes(f.expected_bytes)} of {format_bytes(s.cap_bytes)}" in drawn
    assert format_range(f.low_bytes, f.high_bytes) in drawn
