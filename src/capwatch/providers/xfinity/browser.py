"""Sign in to Xfinity in a real Chromium and keep the session for httpx.

Three ways in: ``manual`` (a headed window, the user does everything, MFA and captchas
included), ``prompted`` (headless; capwatch fills the two-step form with values asked on the
terminal, then the MFA code if asked) and ``unattended`` (headless, from the config's
credentials; any challenge is an error naming ``capwatch login``). Every failure leaves a
diagnostics bundle with a screenshot.

Memory: a headless sign-in runs Debian's ``chromium-headless-shell`` when it is installed (the
same Chromium build without the browser's UI layers) and keeps Chromium to two processes (one
renderer; GPU, network service and no zygote in the browser process). The manual mode needs a
window, so it keeps the full browser.

Two drivers run the same flow (:func:`drive` over a :class:`LoginPage`): ``cdp`` (the
default, :mod:`.cdp_login` over :mod:`.cdp`) speaks the DevTools protocol to Chromium from
Python over a pipe, and ``playwright`` (:mod:`.playwright_driver`) goes through Playwright and
its Node driver.
bench/signin.py measured the whole tree's peak PSS with the headless shell at 214 MiB with
``cdp`` (capwatch 35, Chromium 179) and 357 MiB with ``playwright`` (capwatch 42, Node 125).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import httpx

from capwatch.diagnostics import save_bundle
from capwatch.errors import AuthRequired, ConfigError, MfaRequired, MissingExtra, WrongPassword
from capwatch.models import utcnow
from capwatch.providers.base import Prompter
from capwatch.providers.xfinity.cookies import cookie_from_json
from capwatch.providers.xfinity.pages import PageKind, SecurityCheck, classify_html, error_for
from capwatch.providers.xfinity.session import XfinitySession
from capwatch.secrets import redact, register_secret

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Headless only: fewer Chromium processes (each one costs its own V8 heap and caches).
HEADLESS_ARGS = [
    "--no-zygote",
    "--renderer-process-limit=1",
    "--in-process-gpu",
    "--enable-features=NetworkServiceInProcess2",
    "--disable-extensions",
]
CHROMIUM = "/usr/bin/chromium"
HEADLESS_SHELL = "/usr/bin/chromium-headless-shell"
Mode = Literal["manual", "prompted", "unattended"]
Driver = Literal["cdp", "playwright"]


@dataclass
class LoginPlan:
    """Everything one browser sign-in needs."""

    mode: Mode
    account: str
    start_url: str
    customer_base_url: str
    hosts: tuple[str, ...]
    browser_path: str | None  # None: chosen by default_browser()
    diagnostics_dir: Path
    diagnostics_keep: int = 20
    username: str | None = None
    password: str | None = None
    prompter: Prompter | None = None
    timeout_s: float = 90.0
    tokens: list[str] = field(default_factory=list)
    force_headless: bool = False  # tests run the manual mode without a display
    driver: Driver = "cdp"

    @property
    def headless(self) -> bool:
        """Only the manual mode shows a window."""
        return self.force_headless or self.mode != "manual"

    @property
    def executable(self) -> str:
        """The Chromium binary this sign-in runs."""
        return self.browser_path or default_browser(self.headless)

    @property
    def args(self) -> list[str]:
        """Chromium's switches for this sign-in."""
        return CHROMIUM_ARGS + HEADLESS_ARGS if self.headless else list(CHROMIUM_ARGS)


def default_browser(headless: bool) -> str:
    """Debian's headless shell for a headless sign-in when installed, else its chromium."""
    if headless and Path(HEADLESS_SHELL).exists():
        return HEADLESS_SHELL
    return CHROMIUM


# The container image without Chromium sets CAPWATCH_IMAGE=slim (see the Dockerfile): there
# "install Chromium" is no advice, so a browser login says how a container signs in instead.
IMAGE_ENV = "CAPWATCH_IMAGE"
CONTAINER_HINT = (
    "xfinity: this container image has no Chromium for a browser login: sign in with your own "
    "browser, export its cookies (cookies.txt) and run `capwatch login xfinity --account "
    "<account> --import-cookies /config/cookies.txt`, or use the image with Chromium "
    "(docker build --target browser)"
)


def check_browser(browser_path: str, driver: Driver = "cdp") -> None:
    """Raise MissingExtra/ConfigError when the driver (Playwright) or Chromium is missing."""
    slim_image = os.environ.get(IMAGE_ENV) == "slim"
    try:
        if driver == "playwright":
            import playwright.async_api  # noqa: F401
    except ImportError:
        if slim_image:
            raise ConfigError(CONTAINER_HINT) from None
        raise MissingExtra("browser", "playwright") from None
    if not Path(browser_path).exists():
        if slim_image:
            raise ConfigError(CONTAINER_HINT)
        raise ConfigError(
            f"xfinity.browser_path: {browser_path} not found: install Chromium "
            "(Debian: apt install chromium) or set browser_path"
        )


class LoginPage(Protocol):
    """What the sign-in flow needs of a page, whichever driver runs it."""

    @property
    def url(self) -> str:
        """The page's URL."""

    async def read(self) -> tuple[str, str] | None:
        """(HTML, title) once the DOM is loaded; None while a navigation races the read."""

    async def fill(self, selector: str, value: str) -> None:
        """Type ``value`` into the first field matching ``selector``."""

    async def click(self, selector: str) -> None:
        """Click the first element matching ``selector``."""

    async def check(self, selector: str) -> None:
        """Tick the first checkbox matching ``selector``, when there is one."""

    async def editable_value(self, selector: str) -> str | None:
        """The value of the first matching field when it is visible and editable, else None."""

    async def snapshot(self) -> tuple[str | None, bytes | None]:
        """The page's HTML and a full-page PNG, each None when it cannot be had."""

    async def goto(self, url: str) -> None:
        """Load ``url`` in the page."""

    async def settle(self) -> None:
        """Wait until the page has made its first requests (a token) and gone quiet."""

    async def cookies(self) -> list[dict[str, Any]]:
        """Every cookie the browser holds, in the DevTools protocol's shape."""


async def sign_in(
    page: LoginPage, plan: LoginPlan, driver_error: type[BaseException]
) -> XfinitySession:
    """The sign-in on an open page, whichever driver runs it: the start page, the flow, the
    session captured. A failure leaves a diagnostics bundle; the driver's own errors
    (``driver_error``: a timeout, a crash) become AuthRequired naming where it stopped."""
    try:
        await page.goto(plan.start_url)
        await drive(page, plan)
        await page.settle()
        return session_from(await page.cookies(), plan)
    except AuthRequired as exc:
        await bundle(page, plan, exc)
        raise
    except driver_error as exc:
        err = failure(exc, page.url)
        await bundle(page, plan, err)
        raise err from None


async def browser_login(plan: LoginPlan) -> XfinitySession:
    """Run one sign-in and return the captured session; failures leave a bundle and raise."""
    check_browser(plan.executable, plan.driver)
    if plan.password:
        register_secret(plan.password)
    if plan.driver == "playwright":
        from capwatch.providers.xfinity import playwright_driver

        return await playwright_driver.login(plan)
    from capwatch.providers.xfinity import cdp_login

    return await cdp_login.login(plan)


def failure(exc: BaseException, url: str) -> AuthRequired:
    """The error for a driver's own failure (a timeout, a network error) at ``url``."""
    # the driver's first line says why (net::ERR_NAME_NOT_RESOLVED, a timeout and its
    # selector): keep it, redacted, and say what to try next
    text = str(exc).strip()
    reason = redact(text.splitlines()[0] if text else "")
    where = httpx.URL(url).path or url
    return AuthRequired(
        f"xfinity: browser sign-in failed at {where}: {type(exc).__name__}: "
        f"{reason or 'no detail'}; check the network and the sign-in page, then "
        "try again (or import cookies: `capwatch login xfinity --import-cookies`)"
    )


def capture_bearer(headers: Mapping[str, str], plan: LoginPlan) -> None:
    """Keep the bearer token of a request's Authorization header."""
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    if value.lower().startswith("bearer "):
        token = value[7:].strip()
        if token and token not in plan.tokens:
            register_secret(token)
            plan.tokens.append(token)


def _on_customer_site(url: str, plan: LoginPlan) -> bool:
    u, base = httpx.URL(url), httpx.URL(plan.customer_base_url)
    if (u.host, u.port) != (base.host, base.port):
        return False
    return not u.path.lower().startswith(("/login", "/oauth", "/auth"))


async def drive(page: LoginPage, plan: LoginPlan) -> None:
    """Step through the sign-in pages until the customer site shows, or raise."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + plan.timeout_s
    tries: dict[PageKind, int] = {}
    while loop.time() < deadline:
        got = await page.read()
        if got is None:  # a navigation raced us: look again
            await asyncio.sleep(0.2)
            continue
        kind = classify_html(*got)
        if kind is PageKind.OTHER and _on_customer_site(page.url, plan):
            return
        if plan.mode == "manual":
            if kind is PageKind.ACCESS_DENIED:  # nothing a person can click through
                raise error_for(kind, account=plan.account, where=httpx.URL(page.url).path)
            await asyncio.sleep(0.5)  # the user is typing, solving, tapping
            continue
        if kind is PageKind.OTHER:
            await asyncio.sleep(0.3)  # a redirect or interstitial page: let it move on
            continue
        tries[kind] = tries.get(kind, 0) + 1
        if tries[kind] > 3:
            raise AuthRequired(
                f"xfinity: sign-in stuck on {kind.value} at {httpx.URL(page.url).path}: "
                f"run `capwatch login xfinity --account {plan.account}`"
            )
        await _step(page, plan, kind)
    raise AuthRequired(
        f"xfinity: sign-in did not finish within {plan.timeout_s:g} s at "
        f"{httpx.URL(page.url).path}: run `capwatch login xfinity --account {plan.account}`"
    )


async def _step(page: LoginPage, plan: LoginPlan, kind: PageKind) -> None:
    where = httpx.URL(page.url).path
    if kind in (PageKind.ACCESS_DENIED, PageKind.WRONG_PASSWORD):
        raise error_for(kind, account=plan.account, where=where)
    if kind is PageKind.SECURITY_CHECK:
        err = error_for(kind, account=plan.account, where=where)
        raise SecurityCheck(f"{err} (a captcha needs a window: run it where a display exists)")
    if kind is PageKind.LOGIN_USERNAME:
        await page.fill("#user", _username(plan))
        await page.check("input[name=rm]")
        await page.click("#sign_in")
    elif kind is PageKind.LOGIN_PASSWORD:
        # The old one-page form (until late 2021) has an editable #user beside #passwd; the
        # two-step form's password page keeps #user disabled and hidden.
        user = await page.editable_value("#user")
        if user is not None and user != _username(plan):
            await page.fill("#user", _username(plan))
        await page.fill("#passwd", _password(plan))
        await page.check("input[name=rm]")
        await page.click("#sign_in")
    elif kind is PageKind.MFA:
        if plan.prompter is None:
            raise error_for(kind, account=plan.account, where=where)
        code = plan.prompter.ask("Xfinity verification code").strip()
        await page.fill("#verificationCode", code)
        await page.click("#sign_in")


def _username(plan: LoginPlan) -> str:
    if plan.username is None and plan.prompter is not None:
        plan.username = plan.prompter.ask("Xfinity ID (email, mobile or username)").strip()
    if not plan.username:
        raise AuthRequired(
            f"xfinity: no username: run `capwatch login xfinity --account {plan.account}`"
        )
    return plan.username


def _password(plan: LoginPlan) -> str:
    if plan.password is None and plan.prompter is not None:
        plan.password = plan.prompter.ask("Xfinity password", secret=True)
        register_secret(plan.password)
    if not plan.password:
        raise WrongPassword(
            "xfinity: no password: set password or run "
            f"`capwatch login xfinity --account {plan.account}`"
        )
    return plan.password


def session_from(browser_cookies: Iterable[Mapping[str, Any]], plan: LoginPlan) -> XfinitySession:
    """The browser's cookies a request to one of the plan's hosts would carry, and its token."""
    cookies = []
    for c in browser_cookies:
        cookie = cookie_from_json(dict(c), "the browser's cookie")
        if not any(cookie.domain_matches(h) for h in plan.hosts):
            continue
        register_secret(cookie.value)
        cookies.append(cookie)
    if not cookies:
        raise AuthRequired(
            f"xfinity: signed in but no session cookies were set: run `capwatch login xfinity "
            f"--account {plan.account}`"
        )
    return XfinitySession(
        cookies=tuple(cookies),
        bearer_token=plan.tokens[-1] if plan.tokens else None,
        source=f"browser-{plan.mode}",
        saved_at=utcnow().isoformat(),
    )


async def bundle(page: LoginPage, plan: LoginPlan, exc: BaseException) -> None:
    """Leave a diagnostics bundle (the page, a screenshot) for a failed sign-in."""
    try:
        html, shot = await page.snapshot()
    except Exception:  # the page may be gone; keep what we have
        html, shot = None, None
    secrets = [s for s in (plan.password, *plan.tokens) if s]
    save_bundle(
        plan.diagnostics_dir,
        account=plan.account,
        provider="xfinity",
        error=exc,
        url_path=httpx.URL(page.url).path if page.url else None,
        status=None,
        html=html,
        screenshot=shot,
        keep=plan.diagnostics_keep,
        extra_secrets=secrets,
    )


__all__ = [
    "CHROMIUM_ARGS",
    "LoginPage",
    "LoginPlan",
    "MfaRequired",
    "browser_login",
    "check_browser",
]
