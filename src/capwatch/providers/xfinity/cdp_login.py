"""The ``cdp`` driver of the browser sign-in: one page of a Chromium driven over the DevTools
protocol (:mod:`.cdp`) as the flow's LoginPage; the flow is
:func:`capwatch.providers.xfinity.browser.drive`."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import Callable
from typing import Any

from capwatch.providers.xfinity.browser import LoginPlan, capture_bearer, failure, sign_in
from capwatch.providers.xfinity.cdp import CALL_TIMEOUT_S, CdpError, Chromium, Connection
from capwatch.providers.xfinity.session import XfinitySession

# The page's HTML as Playwright's page.content() gives it, once the DOM is loaded.
READ_JS = """document.readyState === "loading" ? null : {url: location.href, title: document.title,
 html: (document.doctype ? new XMLSerializer().serializeToString(document.doctype) : "")
  + document.documentElement.outerHTML}"""
# What an action needs to know of the first element matching a selector (null: none).
FIND_JS = """(sel) => { const el = document.querySelector(sel); if (!el) return null;
 const r = el.getBoundingClientRect(), style = getComputedStyle(el);
 return {visible: r.width > 0 && r.height > 0 && style.visibility !== "hidden",
  editable: !el.disabled && !el.readOnly, enabled: !el.disabled, checked: !!el.checked,
  value: "value" in el ? String(el.value) : null}; }"""
CENTER_JS = """(sel) => { const el = document.querySelector(sel);
 el.scrollIntoView({block: "center", inline: "center"}); const r = el.getBoundingClientRect();
 return [r.x + r.width / 2, r.y + r.height / 2]; }"""
FOCUS_JS = """(sel) => { const el = document.querySelector(sel); el.focus();
 if (el.select) el.select(); }"""
CLEAR_JS = """(sel) => { const el = document.querySelector(sel); el.value = "";
 el.dispatchEvent(new Event("input", {bubbles: true}));
 el.dispatchEvent(new Event("change", {bubbles: true})); }"""


class CdpPage:
    """One attached page target as the flow's LoginPage; its network events feed the plan."""

    def __init__(self, conn: Connection, session: str, frame: str, plan: LoginPlan) -> None:
        self.conn, self.session, self.frame, self.plan = conn, session, frame, plan
        self.url = "about:blank"
        self.timeout = min(CALL_TIMEOUT_S, plan.timeout_s)
        self.started = self.navigated = 0
        self.inflight: set[str] = set()
        self._changed = asyncio.Event()
        conn.handlers.update(
            {
                "Page.frameStartedLoading": self._on_started,
                "Page.frameRequestedNavigation": self._on_started,
                "Page.frameNavigated": self._on_navigated,
                "Network.requestWillBeSent": self._on_request,
                "Network.requestWillBeSentExtraInfo": self._on_request,
                "Network.loadingFinished": self._on_done,
                "Network.loadingFailed": self._on_done,
            }
        )

    @classmethod
    async def open(cls, conn: Connection, plan: LoginPlan) -> CdpPage:
        """Attach to Chromium's first page (a new one if it has none) and watch it."""
        # the first answer waits for Chromium to start: within the sign-in's own time too
        first = min(CALL_TIMEOUT_S, plan.timeout_s)
        targets = (await conn.call("Target.getTargets", timeout=first))["targetInfos"]
        pages = [t["targetId"] for t in targets if t.get("type") == "page"]
        if not pages:
            pages = [(await conn.call("Target.createTarget", {"url": "about:blank"}))["targetId"]]
        attached = await conn.call("Target.attachToTarget", {"targetId": pages[0], "flatten": True})
        session = attached["sessionId"]
        tree = await conn.call("Page.getFrameTree", session=session)
        page = cls(conn, session, tree["frameTree"]["frame"]["id"], plan)
        await conn.call("Page.enable", session=session)
        await conn.call("Network.enable", session=session)
        return page

    # --- events -------------------------------------------------------------------------

    def _on_started(self, params: dict[str, Any]) -> None:
        if params.get("frameId") == self.frame:
            self.started += 1
            self._changed.set()

    def _on_navigated(self, params: dict[str, Any]) -> None:
        frame = params.get("frame", {})
        if frame.get("id") == self.frame:
            self.url = str(frame.get("url", self.url))
            self.navigated += 1
            self._changed.set()

    def _on_request(self, params: dict[str, Any]) -> None:
        headers = params.get("headers") or params.get("request", {}).get("headers") or {}
        capture_bearer({str(k): str(v) for k, v in headers.items()}, self.plan)
        if "request" in params:
            self.inflight.add(str(params.get("requestId")))

    def _on_done(self, params: dict[str, Any]) -> None:
        self.inflight.discard(str(params.get("requestId")))

    async def _until(self, done: Callable[[], bool], timeout: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not done():
            left = deadline - loop.time()
            if left <= 0:
                return False
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)
        return True

    # --- the LoginPage side -------------------------------------------------------------

    async def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page; CdpError when it throws."""
        params = {"expression": expression, "returnByValue": True, "awaitPromise": True}
        got = await self.conn.call("Runtime.evaluate", params, self.session, self.timeout)
        if "exceptionDetails" in got:
            details = got["exceptionDetails"]
            raise CdpError(details.get("exception", {}).get("description") or details["text"])
        return got["result"].get("value")

    async def _on(self, js: str, selector: str) -> Any:
        return await self.evaluate(f"({js})({json.dumps(selector)})")

    async def goto(self, url: str) -> None:
        """Load ``url`` in the page (to its commit; :meth:`read` waits for the DOM)."""
        got = await self.conn.call("Page.navigate", {"url": url}, self.session, self.timeout)
        if got.get("errorText"):
            raise CdpError(f"{got['errorText']} at {url}")

    async def read(self) -> tuple[str, str] | None:
        """(HTML, title) once the DOM is loaded; None while a navigation races the read."""
        try:
            got = await self.evaluate(READ_JS)
        except CdpError:
            if self.conn.closed:
                raise
            return None
        if not got:
            return None
        self.url = str(got["url"])
        return str(got["html"]), str(got["title"])

    async def _actionable(self, selector: str, need: str) -> dict[str, Any]:
        """Wait (as Playwright does) until the element is there, visible and ``need``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while True:
            with contextlib.suppress(CdpError):
                state = await self._on(FIND_JS, selector)
                if state and state["visible"] and state[need]:
                    return dict(state)
            if self.conn.closed:
                raise CdpError(self.conn.closed)
            if loop.time() > deadline:
                raise CdpError(
                    f"waiting for {selector} ({need}): timed out after {self.timeout:g} s"
                )
            await asyncio.sleep(0.1)

    async def fill(self, selector: str, value: str) -> None:
        """Type ``value`` into the first field matching ``selector``."""
        await self._actionable(selector, "editable")
        await self._on(FOCUS_JS, selector)
        if value:
            await self.conn.call("Input.insertText", {"text": value}, self.session)
        else:
            await self._on(CLEAR_JS, selector)

    async def _mouse_click(self, selector: str) -> None:
        x, y = await self._on(CENTER_JS, selector)
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            event = {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}
            await self.conn.call("Input.dispatchMouseEvent", event, self.session)

    async def click(self, selector: str) -> None:
        """Click the first element matching ``selector``; when that starts a navigation, wait
        for it to commit (as Playwright's click does)."""
        await self._actionable(selector, "enabled")
        started, navigated = self.started, self.navigated
        await self._mouse_click(selector)
        if await self._until(lambda: self.started > started or self.navigated > navigated, 1.0):
            await self._until(lambda: self.navigated > navigated, self.timeout)

    async def check(self, selector: str) -> None:
        """Tick the first checkbox matching ``selector``, when there is one."""
        state = await self._on(FIND_JS, selector)
        if not state or state["checked"]:
            return
        await self._actionable(selector, "enabled")
        await self._mouse_click(selector)
        state = await self._on(FIND_JS, selector)
        if not (state and state["checked"]):
            raise CdpError(f"clicking {selector} did not tick it")

    async def editable_value(self, selector: str) -> str | None:
        """The value of the first matching field when it is visible and editable, else None."""
        state = await self._on(FIND_JS, selector)
        if state and state["visible"] and state["editable"] and state["value"] is not None:
            return str(state["value"])
        return None

    async def snapshot(self) -> tuple[str | None, bytes | None]:
        """The page's HTML and a full-page PNG."""
        html = await self.evaluate("document.documentElement.outerHTML")
        size = (await self.conn.call("Page.getLayoutMetrics", session=self.session))[
            "cssContentSize"
        ]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 16384)}
        params = {"format": "png", "captureBeyondViewport": True, "clip": {**clip, "scale": 1}}
        shot = await self.conn.call("Page.captureScreenshot", params, self.session)
        return str(html), base64.b64decode(shot["data"])

    async def cookies(self) -> list[dict[str, Any]]:
        """Every cookie the browser holds."""
        return list((await self.conn.call("Storage.getCookies"))["cookies"])

    async def settle(self, idle_s: float = 0.5, timeout: float = 10.0) -> None:
        """Wait (up to ``timeout``) until no request has been in flight for ``idle_s``, as
        Playwright's networkidle: the post-login page makes its first API calls (a token)."""
        loop = asyncio.get_running_loop()
        deadline, idle_since = loop.time() + timeout, loop.time()
        while loop.time() < deadline:
            if self.inflight:
                idle_since = loop.time()
            elif loop.time() - idle_since >= idle_s:
                return
            await asyncio.sleep(0.05)


async def login(plan: LoginPlan) -> XfinitySession:
    """Run one sign-in over the DevTools protocol; failures leave a bundle and raise."""
    chromium = Chromium(plan)
    conn: Connection | None = None
    signed_in = False
    try:
        conn = await chromium.start()
        page = await CdpPage.open(conn, plan)
        session = await sign_in(page, plan, CdpError)
        signed_in = True
        return session
    except CdpError as exc:  # Chromium did not start, or did not answer
        raise failure(exc, plan.start_url) from None
    finally:
        await chromium.stop(conn, graceful=signed_in)
