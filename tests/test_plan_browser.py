"""Plans' account pages in real headless Chromium (Debian's). A satellite plan: each
allowance's figures equal the API's, its own burndown is drawn, the daily bars shade the free
window. An A&A plan: rollover and a top-up in the allowance's size, a window that an ISP total
cannot split. And the README's screenshots of both (``make screenshots``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from capwatch.config import load_settings
from capwatch.store import open_store
from capwatch.units import format_bytes
from tests.fakes._server import serve
from tests.fakes.aaisp import PASSWORD, USERNAME
from tests.fixtures.common import cli_run
from tests.fixtures.plan import (
    AAISP_NOW,
    GB,
    PLAN_NOW,
    PLAN_ZONE,
    aaisp_plan_polled,
    plan_config,
    seed_plan_store,
)
from tests.fixtures.web import WebServer

pytestmark = pytest.mark.browser
SHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
VIEWS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def _served(config: Path, now: datetime, seed: bool = False) -> Iterator[WebServer]:
    """The app over ``config``'s store at ``now`` (the satellite plan seeded first if asked),
    served on loopback."""
    from capwatch.web.app import create_app

    settings = load_settings(config)
    store = open_store(settings.resolved_database_url())
    if seed:
        seed_plan_store(settings, store, "sat", now)
    app = create_app(settings, store, clock=lambda: now)
    try:
        with serve(app) as url:
            yield WebServer(url, settings, store, None, app)  # type: ignore[arg-type]
    finally:
        store.close()


@pytest.fixture(scope="module")
def plan_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    """The app at PLAN_NOW over the seeded satellite plan, served on loopback."""
    yield from _served(plan_config(tmp_path_factory.mktemp("plan-web")), PLAN_NOW, seed=True)


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


@pytest.fixture
def aaisp_plan_server(
    aaisp_fake: tuple[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[WebServer]:
    """The app at AAISP_NOW over the A&A plan, polled by `capwatch poll` on the fake CHAOS API
    (half of November's unused quota carried over) with a 20 GB top-up recorded."""
    url, state = aaisp_fake
    monkeypatch.setenv("AA_PASSWORD", PASSWORD)

    def polled() -> Path:  # `capwatch poll` runs asyncio: not inside Playwright's loop
        config, clock = aaisp_plan_polled(tmp_path, url, state, USERNAME)
        cli_run(config, clock, "topup", "aa", "20GB", "--note", "films", "--at", "2026-12-02")
        return config

    with ThreadPoolExecutor(1) as pool:
        config = pool.submit(polled).result()
    yield from _served(config, AAISP_NOW)


def test_an_aaisp_plan_on_the_page(
    aaisp_plan_server: WebServer, web_browser: Any, tmp_path: Path
) -> None:
    """Rollover (half of November's unused 150 GB) and the 20 GB top-up in the monthly
    allowance's size, as the API has them; the night window said to be unknowable on an ISP
    total, with no burndown drawn for it; and the README's screenshots of it, desktop light and
    phone dark."""
    summary = httpx.get(f"{aaisp_plan_server.url}/api/v1/accounts/aa", timeout=30).json()
    monthly, night = summary["allowances"]
    out = SHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    for device, scheme in (("desktop", "light"), ("phone", "dark")):
        page = _page(
            web_browser, viewport=VIEWS[device], color_scheme=scheme, timezone_id="Europe/London"
        )
        page.goto(aaisp_plan_server.url + "/accounts/aa")
        page.wait_for_selector('[data-ready="1"]')
        card = page.locator('article[data-allowance-name="monthly"]')
        size = card.locator(f'[data-bytes="{monthly["size_bytes"]}"]').first
        assert size.inner_text() == format_bytes(295 * GB) == format_bytes(monthly["size_bytes"])
        said = " ".join(card.inner_text().split())
        assert "75.0 GB rolled over" in said and "20.0 GB top-ups" in said
        assert page.locator("#burndown-allowance-1 polyline.used").count() == 1
        unknown = page.locator('article[data-allowance-name="night"]')
        assert "cannot be known" in unknown.inner_text() and night["used_bytes"] is None
        assert unknown.locator("figure").count() == 0
        shot = out / f"plan-aaisp-{device}-{scheme}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= VIEWS[device]["width"]
        page.context.close()
