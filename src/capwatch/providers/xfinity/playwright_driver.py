"""The ``playwright`` driver of the browser sign-in: Playwright (and its Node driver) runs
Chromium; the flow is :func:`capwatch.providers.xfinity.browser.drive`."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from capwatch.providers.xfinity.browser import LoginPlan, capture_bearer, sign_in
from capwatch.providers.xfinity.session import XfinitySession

if TYPE_CHECKING:
    from playwright.async_api import Page


class PlaywrightPage:
    """A Playwright page as the flow's :class:`~capwatch.providers.xfinity.browser.LoginPage`."""

    def __init__(self, page: Page) -> None:
        self.page = page

    @property
    def url(self) -> str:
        """The page's URL."""
        return self.page.url

    async def read(self) -> tuple[str, str] | None:
        """(HTML, title) once the DOM is loaded; None while a navigation races the read."""
        try:
            await self.page.wait_for_load_state("domcontentloaded")
            return await self.page.content(), await self.page.title()
        except Exception:
            return None

    async def fill(self, selector: str, value: str) -> None:
        """Type ``value`` into the first field matching ``selector``."""
        await self.page.fill(selector, value)

    async def click(self, selector: str) -> None:
        """Click the first element matching ``selector``."""
        await self.page.click(selector)

    async def check(self, selector: str) -> None:
        """Tick the first checkbox matching ``selector``, when there is one."""
        box = self.page.locator(selector)
        if await box.count() and not await box.first.is_checked():
            await box.first.check()

    async def editable_value(self, selector: str) -> str | None:
        """The value of the first matching field when it is visible and editable, else None."""
        field = self.page.locator(selector).first
        if (
            await self.page.locator(selector).count()
            and await field.is_editable()
            and await field.is_visible()
        ):
            return await field.input_value()
        return None

    async def snapshot(self) -> tuple[str | None, bytes | None]:
        """The page's HTML and a full-page PNG."""
        html = await self.page.content()
        return html, await self.page.screenshot(full_page=True)

    async def goto(self, url: str) -> None:
        """Load ``url``."""
        await self.page.goto(url)

    async def cookies(self) -> list[dict[str, Any]]:
        """Every cookie of the page's browser context."""
        return [dict(c) for c in await self.page.context.cookies()]

    async def settle(self) -> None:
        """Let the post-login page make its first API calls (to see a bearer token)."""
        from playwright.async_api import TimeoutError as PlaywrightTimeout

        with contextlib.suppress(PlaywrightTimeout):
            await self.page.wait_for_load_state("networkidle", timeout=10_000)


async def login(plan: LoginPlan) -> XfinitySession:
    """Run one sign-in through Playwright; failures leave a bundle and raise."""
    from playwright.async_api import Error as PlaywrightError
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=plan.executable, headless=plan.headless, args=plan.args
        )
        try:
            context = await browser.new_context()
            page = PlaywrightPage(await context.new_page())
            page.page.on("request", lambda request: capture_bearer(request.headers, plan))
            return await sign_in(page, plan, PlaywrightError)
        finally:
            await browser.close()
