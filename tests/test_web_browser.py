"""The dashboard in real headless Chromium (Debian's) against a seeded store served on loopback."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from capwatch.units import format_bytes
from tests.fixtures.web import WebServer

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def _page(browser: Any, **context: Any) -> Any:
    ctx = browser.new_context(**context)
    ctx.set_default_timeout(20_000)
    return ctx.new_page()


def _api(server: WebServer, path: str) -> Any:
    return httpx.get(f"{server.url}/api/v1{path}", timeout=30).json()


def test_overview_numbers_equal_the_api(web_server: WebServer, web_browser: Any) -> None:
    page = _page(web_browser)
    page.goto(web_server.url + "/")
    assert page.title() == "capwatch"
    for acc in _api(web_server, "/accounts"):
        row = page.locator(f'tr[data-account="{acc["account"]}"]')
        used = row.locator('[data-field="used"]')
        assert int(used.get_attribute("data-bytes") or -1) == (acc["used_bytes"] or 0)
        assert used.inner_text() == format_bytes(acc["used_bytes"])
        assert row.locator('[data-field="status"]').inner_text() == acc["status"]
        if acc["forecast"]:
            proj = row.locator('[data-field="projected"]')
            assert int(proj.get_attribute("data-bytes") or -1) == acc["forecast"]["expected_bytes"]
        if acc["percent"] is not None:
            shown = float(row.locator('[data-field="percent"]').inner_text().rstrip("%"))
            assert abs(shown - acc["percent"]) <= 0.051
    page.get_by_role("link", name="isp").click()
    page.wait_for_url(re.compile(r"/accounts/isp$"))
    page.context.close()


def test_account_page_numbers_and_hover_tooltip(web_server: WebServer, web_browser: Any) -> None:
    page = _page(web_browser, viewport={"width": 1280, "height": 800})
    page.goto(web_server.url + "/accounts/isp")
    page.wait_for_selector('[data-ready="1"]')
    summary = _api(web_server, "/accounts/isp")
    used = page.locator('.cards [data-field="used"]')
    assert int(used.get_attribute("data-bytes") or -1) == summary["used_bytes"]
    assert used.inner_text() == format_bytes(summary["used_bytes"])
    projected = page.locator('.cards [data-field="projected"]')
    assert projected.inner_text() == format_bytes(summary["forecast"]["expected_bytes"])
    box = page.locator("#burndown svg").bounding_box()
    assert box is not None
    tip = page.locator("#burndown-tip")
    assert tip.is_hidden()
    page.mouse.move(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.5)
    tip.wait_for(state="visible")
    text = tip.inner_text()
    shown = re.search(r"(\d+\.\d) (GB|TB) used", text)
    assert shown, text
    burndown = _api(web_server, "/accounts/isp/burndown")
    assert f"{shown.group(1)} {shown.group(2)}" in {
        format_bytes(p["bytes"]) for p in burndown["used"]
    }
    on_line = page.evaluate(
        """() => {
          const m = document.querySelector('#burndown circle[r="5"]');
          const pts = document.querySelector('#burndown polyline.used').getAttribute('points');
          return pts.split(' ').includes(m.getAttribute('cx') + ',' + m.getAttribute('cy'));
        }"""
    )
    assert on_line, "the hover marker is not on the usage line"
    page.mouse.move(0, 0)
    tip.wait_for(state="hidden")
    page.context.close()


def test_keyboard_focus_reaches_chart_points(web_server: WebServer, web_browser: Any) -> None:
    page = _page(web_browser)
    page.goto(web_server.url + "/accounts/isp")
    page.wait_for_selector('[data-ready="1"]')
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('pt')"):
            break
    else:
        pytest.fail("Tab never reached a chart point")
    label = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert re.search(r"\d+\.\d (GB|TB) used", label)
    assert page.locator("#burndown-tip").is_visible()
    page.context.close()


def test_poll_now_adds_a_reading(web_server: WebServer, web_browser: Any) -> None:
    page = _page(web_browser)
    page.goto(web_server.url + "/accounts/isp")
    page.wait_for_selector('[data-ready="1"]')
    before = len(web_server.store.readings("isp"))
    page.get_by_role("button", name="Poll now").click()
    page.locator("#poll-status").filter(has_text="New reading stored.").wait_for()
    assert len(web_server.store.readings("isp")) == before + 1
    summary = _api(web_server, "/accounts/isp")
    assert summary["used_bytes"] == web_server.meter.used_bytes
    used = page.locator('.cards [data-field="used"]')
    page.wait_for_function(
        "b => document.querySelector('.cards [data-field=used]').dataset.bytes === b",
        arg=str(summary["used_bytes"]),
    )
    assert used.inner_text() == format_bytes(summary["used_bytes"])
    page.context.close()


VIEWS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_screenshots(
    web_server: WebServer, web_browser: Any, tmp_path: Path, device: str, scheme: str
) -> None:
    """Desktop and phone, light and dark; into docs/screenshots with UPDATE_SCREENSHOTS=1."""
    out = SHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    page = _page(web_browser, viewport=VIEWS[device], color_scheme=scheme)
    page.goto(web_server.url + "/")
    page.screenshot(path=str(out / f"overview-{device}-{scheme}.png"), full_page=True)
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, ...Array.from("
        "document.querySelectorAll('.scroll'), e => e.scrollWidth - e.clientWidth)]"
    )
    assert widths[0] <= VIEWS[device]["width"] and max(widths[1:]) <= 0, "overflows sideways"
    page.goto(web_server.url + "/accounts/isp")
    page.wait_for_selector('[data-ready="1"]')
    box = page.locator("#burndown svg").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.5)
    page.locator("#burndown-tip").wait_for(state="visible")
    page.screenshot(path=str(out / f"account-{device}-{scheme}.png"), full_page=True)
    bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert (bg == "rgb(255, 255, 255)") == (scheme == "light")
    for name in ("overview", "account"):
        assert (out / f"{name}-{device}-{scheme}.png").stat().st_size > 10_000
    page.context.close()
