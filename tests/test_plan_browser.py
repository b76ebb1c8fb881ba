"""A satellite plan's account page in real headless Chromium (Debian's): each allowance's
figures equal the API's, its own burndown is drawn, the daily bars shade the free window; and
the README's screenshots of it (``make screenshots``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from capwatch.config import load_settings
from capwatch.store import open_store
from capwatch.units import format_bytes
from tests.fakes._server import serve
from tests.fixtures.plan import PLAN_NOW, PLAN_ZONE, plan_config, seed_plan_store
from tests.fixtures.web import WebServer

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
VIEWS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def plan_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    """The app at PLAN_NOW over the seeded satellite plan, served on loopback."""
    from capwatch.web.app import create_app

    config = plan_config(tmp_path_factory.mktemp("plan-web"))
    settings = load_settings(config)
    store = open_store(settings.resolved_database_url())
    seed_plan_store(settings, store, "sat", PLAN_NOW)
    app = create_app(settings, store, clock=lambda: PLAN_NOW)
    try:
        with serve(app) as url:
            yield WebServer(url, settings, store, None, app)  # type: ignore[arg-type]
    finally:
        store.close()


def _page(browser: Any, **context: Any) -> Any:
    ctx = browser.new_context(**context)
    ctx.set_default_timeout(20_000)
    return ctx.new_page()


def test_each_allowance_on_the_page_equals_the_api(
    plan_server: WebServer, web_browser: Any
) -> None:
    page = _page(web_browser, viewport=VIEWS["desktop"], timezone_id=PLAN_ZONE)
    page.goto(plan_server.url + "/accounts/sat")
    page.wait_for_selector('[data-ready="1"]')
    summary = httpx.get(f"{plan_server.url}/api/v1/accounts/sat", timeout=30).json()
    for i, a in enumerate(summary["allowances"], start=1):
        card = page.locator(f'article[data-allowance-name="{a["name"]}"]')
        used = card.locator(f'[data-bytes="{a["used_bytes"]}"]').first
        assert used.inner_text() == format_bytes(a["used_bytes"])
        projected = card.locator(f'[data-bytes="{a["projected_bytes"]}"]')
        assert projected.inner_text() == format_bytes(a["projected_bytes"])
        chart = page.locator(f"#burndown-allowance-{i} svg")
        assert a["name"] in (chart.get_attribute("aria-label") or "")
        assert page.locator(f"#burndown-allowance-{i} polyline.used").count() == 1
    # the free window is the light top of each day's bar; its tooltip says how much
    daily = httpx.get(f"{plan_server.url}/api/v1/accounts/sat/burndown", timeout=30).json()
    days = [d for d in daily["daily"] if d["free_bytes"]]
    assert days and page.locator("#daily rect.bar.free").count() == len(days)
    title = page.locator("#daily rect.bar.free title").first.text_content() or ""
    assert f"({format_bytes(days[0]['free_bytes'])} in the window)" in title
    assert "between 9 p.m. and midnight" in page.locator('[data-field="plan-advice"]').inner_text()
    page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_screenshots(
    plan_server: WebServer, web_browser: Any, tmp_path: Path, device: str, scheme: str
) -> None:
    """The satellite plan's account page, phone and desktop, light and dark, at PLAN_NOW; into
    docs/screenshots with ``make screenshots`` (UPDATE_SCREENSHOTS=1)."""
    out = SHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    page = _page(web_browser, viewport=VIEWS[device], color_scheme=scheme, timezone_id=PLAN_ZONE)
    page.goto(plan_server.url + "/accounts/sat")
    page.wait_for_selector('[data-ready="1"]')
    shot = out / f"plan-{device}-{scheme}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWS[device]["width"]
    assert shot.stat().st_size > 10_000
    page.context.close()
