"""The dashboard in real headless Chromium (Debian's) against a seeded store served on loopback."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from capwatch.units import format_bytes
from tests.fixtures.web import WEB_ZONE, WebServer

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
        row = page.locator(f'article[data-account="{acc["account"]}"]')
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
    shown = re.search(r"(\d+(?:\.\d+)?) (MB|GB|TB) used", text)  # format_bytes' three figures
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
    assert re.search(r"\d+(?:\.\d+)? (MB|GB|TB) used", label)
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
OVERLAPS = """sel => {
  const boxes = Array.from(document.querySelectorAll(sel), e => e.getBoundingClientRect())
    .filter(b => b.width > 0);
  const out = [];
  boxes.forEach((a, i) => boxes.slice(i + 1).forEach(b => {
    if (a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5
        && b.top < a.bottom - 0.5) out.push([a.left, b.left]);
  }));
  return out;
}"""
CLIPPED = """sel => Array.from(document.querySelectorAll(sel))
  .filter(e => e.scrollWidth > e.clientWidth + 1 || e.getBoundingClientRect().right
    > document.documentElement.clientWidth + 0.5).map(e => e.outerHTML.slice(0, 80))"""


def test_the_page_script_formats_figures_as_the_server_does(
    web_server: WebServer, web_browser: Any
) -> None:
    from capwatch.units import format_pace, format_percent, format_range

    page = _page(web_browser)
    page.goto(web_server.url + "/accounts/isp")
    page.wait_for_selector('[data-ready="1"]')
    sizes = [0, 5 * 10**8, 1_500_000_000, 99_950_000_000, 412_500_000_000, 1229 * 10**9]
    shown = page.evaluate("ns => ns.map(n => window.capwatchFormat.bytes(n))", sizes)
    assert shown == [format_bytes(n) for n in sizes]
    pairs = [
        (980 * 10**9, 1_050 * 10**9),
        (1_050 * 10**9, 1_210 * 10**9),
        (0, 500 * 10**6),  # a first run's forecast: 0–500 MB, not 0 GB–500 MB
        (0, 400_000),  # both ends read 0: one "0 MB"
    ]
    ranges = page.evaluate("ps => ps.map(p => window.capwatchFormat.range(p[0], p[1]))", pairs)
    assert ranges == [format_range(a, b) for a, b in pairs]
    shares = [0.0, 51.25, 99.96, 116.34]
    assert page.evaluate("ps => ps.map(window.capwatchFormat.percent)", shares) == [
        format_percent(p) for p in shares
    ]
    paces = [0.5, 1.145, 2.0]
    assert page.evaluate("ps => ps.map(window.capwatchFormat.pace)", paces) == [
        format_pace(p) for p in paces
    ]
    page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_layout_holds_at_phone_and_desktop_width(
    shots_server: WebServer, web_browser: Any, device: str, scheme: str
) -> None:
    """Issue 16 point 5: every figure of the overview shows at 390 px, a long error stays inside
    its card, the earlier-cycles chart's labels never touch, its dates never wrap, and the
    first day's bar is a day wide."""
    page = _page(web_browser, viewport=VIEWS[device], color_scheme=scheme)
    page.goto(shots_server.url + "/")
    for account in ("isp", "aa"):
        card = page.locator(f'article[data-account="{account}"]')
        for field in ("used", "cap", "percent", "projected", "allowance", "days_left", "age"):
            cell = card.locator(f'[data-field="{field}"]').first
            assert cell.is_visible(), (account, field)
        assert card.locator('[data-field="next"]').inner_text()
    assert page.locator("svg.spark").count() == 2  # home has no reading yet
    assert page.evaluate(CLIPPED, "article.account, article.account *") == []
    error = page.locator('article[data-account="aa"] [data-field="error"]')
    assert error.inner_text().startswith("aa: GET https://chaos2.aa.net.uk")
    assert page.locator('[data-account="isp"] [data-rule="projected"]').is_visible()
    page.goto(shots_server.url + "/accounts/isp")
    page.wait_for_selector('[data-ready="1"]')
    labels = page.locator("svg.small text")
    assert labels.count() >= 12, "the months of the earlier cycles are labelled"
    assert page.evaluate(OVERLAPS, "svg.small text") == []
    heights = page.evaluate(
        "Array.from(document.querySelectorAll('td.date'), e => e.getClientRects().length"
        " === 1 && e.getBoundingClientRect().height < 2 * parseFloat(getComputedStyle(e)"
        ".lineHeight || 20) + 16)"
    )
    assert heights and all(heights), "a cycle's date wraps"
    widths = page.evaluate(
        "[document.querySelector('#daily svg').getBoundingClientRect().width,"
        " ...Array.from(document.querySelectorAll('#daily rect.bar'),"
        " r => r.getBoundingClientRect().width)]"
    )
    chart, bars = widths[0], widths[1:]
    assert bars and max(bars) <= chart / 28, "a day's bar is wider than a day of the cycle"
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWS[device]["width"]
    page.context.close()


def test_a_cycles_first_day_has_a_day_wide_bar(web_server: WebServer, web_browser: Any) -> None:
    """The daily chart spans the whole cycle, whatever day it is (at 00:30 on the 1st too)."""
    page = _page(web_browser, viewport=VIEWS["desktop"])
    page.goto(web_server.url + "/accounts/isp")
    page.wait_for_selector('[data-ready="1"]')
    chart, *bars = page.evaluate(
        "[document.querySelector('#daily svg').getBoundingClientRect().width,"
        " ...Array.from(document.querySelectorAll('#daily rect.bar'),"
        " r => r.getBoundingClientRect().width)]"
    )
    assert all(b <= chart / 28 for b in bars)
    page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_screenshots(
    shots_server: WebServer, web_browser: Any, tmp_path: Path, device: str, scheme: str
) -> None:
    """Desktop and phone, light and dark, at a pinned instant; into docs/screenshots with
    ``make screenshots`` (UPDATE_SCREENSHOTS=1)."""
    out = SHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    page = _page(web_browser, viewport=VIEWS[device], color_scheme=scheme, timezone_id=WEB_ZONE)
    page.goto(shots_server.url + "/")
    page.screenshot(path=str(out / f"overview-{device}-{scheme}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWS[device]["width"]
    page.goto(shots_server.url + "/accounts/isp")
    page.wait_for_selector('[data-ready="1"]')
    page.locator("#burndown svg").scroll_into_view_if_needed()
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


def test_rename_a_device_on_the_page(web_server: WebServer, web_browser: Any) -> None:
    """The "Who used it" rename control: keyboard-reachable, labelled, calls the devices API
    with its CSRF header, and a cleared name falls back to the MAC."""
    page = _page(web_browser, viewport=VIEWS["phone"])
    page.goto(web_server.url + "/accounts/isp")
    section = page.locator('section[aria-labelledby="h-who"]')
    phone = "da:a1:19:07:43:03"
    row = section.locator("tr", has=page.locator(f'details[data-key="mac:{phone}"]'))
    assert row.locator(".dev-name").inner_text() == phone
    row.locator("summary").focus()
    page.keyboard.press("Enter")  # opens the form, the name field takes the focus
    field = page.get_by_label(f"Name for {phone}")
    assert field.evaluate("e => e === document.activeElement")
    field.fill("  Kid's phone ")
    page.keyboard.press("Enter")
    status = row.locator('[role="status"]')
    status.filter(has_text="Renamed to Kid's phone.").wait_for()
    assert row.locator(".dev-name").inner_text() == "Kid's phone"
    names = {
        d["key"]: d["name"] for d in _api(web_server, "/accounts/isp/devices/daily")["devices"]
    }
    assert names[f"mac:{phone}"] == "Kid's phone"
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWS["phone"]["width"]

    page.reload()
    row = section.locator("tr", has=page.locator(f'details[data-key="mac:{phone}"]'))
    assert row.locator(".dev-name").inner_text() == "Kid's phone"
    row.locator("summary").click()
    page.get_by_label("Name for Kid's phone").fill("")
    row.get_by_role("button", name="Save").click()
    row.locator('[role="status"]').filter(has_text=f"Name cleared: {phone}.").wait_for()
    assert row.locator(".dev-name").inner_text() == phone
    page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_screenshots_who_used_it(
    shots_server: WebServer, web_browser: Any, tmp_path: Path, device: str, scheme: str
) -> None:
    """The "Who used it" section over a month of seeded devices (the README's devices part);
    into docs/screenshots with ``make screenshots``. Nothing in it overflows or overlaps."""
    out = SHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    page = _page(web_browser, viewport=VIEWS[device], color_scheme=scheme, timezone_id=WEB_ZONE)
    page.goto(shots_server.url + "/accounts/isp")
    page.wait_for_selector('[data-ready="1"]')
    section = page.locator('section[aria-labelledby="h-who"]')
    assert section.locator("tbody tr").count() == 7  # five devices, "2 other devices", no device
    assert section.locator("tbody > tr > td > details.rename:not([hidden])").count() == 5
    others = section.locator("details.others li")  # what "2 other devices" adds up
    assert others.count() == 2 and others.locator("details.rename:not([hidden])").count() == 2
    assert any(text.startswith("Hue bridge") for text in others.all_text_contents())
    section.locator("details.others > summary").click()  # opened, as in the screenshot
    html = ":is(p, table, tr, td, th, span:not(.sr-only), details, summary, small)"
    assert page.evaluate(CLIPPED, f'section[aria-labelledby="h-who"] {html}') == []
    assert page.evaluate(OVERLAPS, "svg.who text") == []  # the day numbers and the peak
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWS[device]["width"]
    path = out / f"who-used-it-{device}-{scheme}.png"
    section.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
    page.context.close()
