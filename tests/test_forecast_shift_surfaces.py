"""Issue 19: when the forecast follows a change of regime, every surface says why it moved, in
the same words, from the one summary: `capwatch status` (table, 80 columns, JSON), the API, the
account page and the weekly email ("usage since the 12th runs at 2.0x the cycle's start")."""

from __future__ import annotations

import json
import os
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from capwatch.analysis.cycles import CycleRule
from capwatch.cli import cli
from capwatch.config import load_settings
from capwatch.models import CycleSummary, Reading
from capwatch.store import open_store
from capwatch.units import format_shift
from tests.fixtures.common import FakeClock
from tests.fixtures.web import WEB_ZONE, one_isp_summary

NOW = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)
ZONE = WEB_ZONE
GB = 10**9
CHANGE_DAY = 12  # from the 12th (local) on, the household uses twice as much


def _readings(rule: CycleRule) -> list[Reading]:
    """A meter every 30 minutes: three earlier cycles and this one to the 11th at about 20 GB a
    day (each day 15-25 GB, seeded), then about 40 GB a day from the 12th."""
    rng = random.Random(19)
    current = rule.cycle_at(NOW)
    first = rule.preceding(rule.preceding(rule.preceding(current)))
    out: list[Reading] = []
    step = timedelta(minutes=30)
    cycle, used, at, day, per_day = first, 0.0, first.start, None, 0.0
    while at < NOW - timedelta(minutes=10):
        local = at.astimezone(rule.timezone)
        if at >= cycle.end:
            cycle, used = rule.cycle_at(at), 0.0
        if local.date() != day:
            day = local.date()
            changed = cycle == current and local.day >= CHANGE_DAY
            per_day = (2 if changed else 1) * 20 * GB * rng.uniform(0.75, 1.25)
        used += per_day * step.total_seconds() / 86400
        at += step
        out.append(Reading("isp", at, cycle.start, int(used), 1229 * GB, "http_json"))
    return out


@pytest.fixture
def shifted(tmp_path: Path) -> tuple[Path, CycleSummary]:
    """A config and store whose current cycle doubled its rate on the 12th; the summary at NOW."""
    return one_isp_summary(tmp_path, NOW, lambda store, rule: store.add_readings(_readings(rule)))


def _cli(config: Path, *args: str, columns: int = 160) -> str:
    result = CliRunner().invoke(
        cli,
        ["--config", str(config), *args],
        obj={"clock": FakeClock(NOW, tick=timedelta(0))},
        env={"COLUMNS": str(columns)},
    )
    assert result.exit_code == 0, result.output
    return result.output


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_the_summary_names_the_change_and_its_size(shifted: tuple[Path, CycleSummary]) -> None:
    _, s = shifted
    assert s.forecast is not None and s.forecast.shift is not None
    shift = s.forecast.shift
    assert shift.since.day in (CHANGE_DAY, CHANGE_DAY + 1)
    assert shift.against == "cycle"
    assert 1.7 <= shift.ratio <= 2.3
    assert abs(shift.after_bytes_per_day - 40 * GB) < 6 * GB
    assert abs(shift.before_bytes_per_day - 20 * GB) < 3 * GB
    # the forecast follows the new rate: about 40 GB a day for the rest of the cycle
    left = (s.cycle.end - NOW).total_seconds() / 86400
    assert s.used_bytes is not None
    assert s.forecast.expected_bytes > s.used_bytes + 0.8 * 40 * GB * left


def test_status_api_page_and_email_say_why_in_the_same_words(
    shifted: tuple[Path, CycleSummary],
) -> None:
    from fastapi.testclient import TestClient

    from capwatch.notify.reports import build_weekly
    from capwatch.web.app import create_app

    config, s = shifted
    assert s.forecast is not None and s.forecast.shift is not None
    why = format_shift(s.forecast.shift)
    assert why.startswith(f"usage since the {s.forecast.shift.since.day}")

    (data,) = json.loads(_cli(config, "status", "--json"))
    assert data["forecast"]["shift"]["text"] == why
    assert data["forecast"]["shift"]["since"] == s.forecast.shift.since.isoformat()
    for columns in (160, 80):
        assert why in _flat(_cli(config, "status", columns=columns)), columns

    settings = load_settings(config)
    store = open_store(settings.resolved_database_url())
    try:
        client = TestClient(
            create_app(settings, store, clock=lambda: NOW), base_url="http://127.0.0.1"
        )
        api = client.get("/api/v1/accounts/isp").json()
        assert api["forecast"]["shift"] == data["forecast"]["shift"]
        page = client.get("/accounts/isp").text
        shown = re.search(r'<span data-field="shift">([^<]*)</span>', page)
        assert shown is not None
        assert shown.group(1).replace("&#39;", "'") == why
        report = build_weekly(store, settings, "isp", NOW)
        assert why in _flat(report.text)
        assert why.replace("'", "&#39;") in report.html or why in report.html
    finally:
        store.close()


def test_no_change_no_sentence(tmp_path: Path) -> None:
    """A steady household's page keeps the (hidden) empty slot and the JSON says null."""
    from capwatch.analysis.summary import summarize

    rule = CycleRule(1, UTC)
    cycle = rule.cycle_at(NOW)
    steady = [
        Reading("isp", cycle.start + timedelta(hours=h), cycle.start, h * GB, 1229 * GB, "x")
        for h in range(1, int((NOW - cycle.start).total_seconds() // 3600))
    ]
    s = summarize(account="isp", cycle=cycle, readings=steady, cap_bytes=1229 * GB, now=NOW)
    assert s.forecast is not None and s.forecast.shift is None
    from capwatch.service.serialize import summary_to_dict

    assert summary_to_dict(s)["forecast"]["shift"] is None


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [390, 1280])
def test_the_sentence_reads_inside_its_card_in_chromium(
    shifted: tuple[Path, CycleSummary], web_browser: Any, tmp_path: Path, width: int, scheme: str
) -> None:
    """On a phone and a desktop, light and dark: the sentence shows under the cards, stays
    inside the page, and is still there after the page script refreshes the figures from the
    API (it writes the API's text, the same words)."""
    from capwatch.web.app import create_app
    from tests.fakes._server import serve
    from tests.test_web_browser import CLIPPED

    config, s = shifted
    assert s.forecast is not None and s.forecast.shift is not None
    why = format_shift(s.forecast.shift)
    settings = load_settings(config)
    store = open_store(settings.resolved_database_url())
    try:
        with serve(create_app(settings, store, clock=lambda: NOW)) as url:
            ctx = web_browser.new_context(
                viewport={"width": width, "height": 900}, color_scheme=scheme
            )
            page = ctx.new_page()
            page.goto(url + "/accounts/isp")
            page.wait_for_selector('[data-ready="1"]')
            shown = page.locator('[data-field="shift"]')
            assert shown.is_visible()
            assert shown.inner_text() == why
            assert page.evaluate(CLIPPED, "p.shift, p.shift *") == []
            page.screenshot(path=str(tmp_path / f"shift-{width}-{scheme}.png"))
            if os.environ.get("SHIFT_SHOTS"):
                page.screenshot(path=f"{os.environ['SHIFT_SHOTS']}/shift-{width}-{scheme}.png")
            ctx.close()
    finally:
        store.close()
