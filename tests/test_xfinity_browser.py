"""Sign-in flows in real headless Chromium (Debian's) against the fake Xfinity."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from capwatch.diagnostics import list_bundles
from capwatch.errors import AuthRequired, BotBlocked, MfaRequired, RateLimited, WrongPassword
from capwatch.providers.xfinity import XfinityProvider
from capwatch.providers.xfinity.pages import SecurityCheck
from tests.fakes.xfinity import SESSION_COOKIE, FakeXfinityState
from tests.fixtures.common import ScriptedPrompter

# every test here runs with each driver (cdp, playwright) in each Chromium build
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("xfinity_driver")]
GB = 10**9
PASSWORD = "correct horse battery"
Make = Callable[..., XfinityProvider]


def _unattended(make: Make, **over: object) -> XfinityProvider:
    opts: dict[str, object] = {
        "username": "jane@example.com",
        "password": PASSWORD,
        "headless_login": True,
    }
    opts.update(over)
    return make(**opts)


def _assert_failure_bundle(provider: XfinityProvider, secret: str = PASSWORD) -> Path:
    bundles = list_bundles(provider.diagnostics_dir)
    assert len(bundles) == 1
    bundle = bundles[0]
    names = {p.name for p in bundle.iterdir()}
    assert {"meta.json", "page.html", "screenshot.png"} <= names
    assert (bundle / "screenshot.png").read_bytes().startswith(b"\x89PNG")
    for f in bundle.iterdir():
        assert secret.encode() not in f.read_bytes(), f.name
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
    assert stat.S_IMODE(bundle.stat().st_mode) == 0o700
    meta = json.loads((bundle / "meta.json").read_text())
    assert "?" not in (meta["url_path"] or "")
    return bundle


async def test_unattended_login_then_poll(
    xfinity_chromium: str, xfinity_fake: tuple[FakeXfinityState, str], xfinity_make_provider: Make
) -> None:
    state, _ = xfinity_fake
    provider = _unattended(xfinity_make_provider)
    async with httpx.AsyncClient() as client:
        snap = await provider.fetch(client)
    assert snap.used_bytes == 585 * GB
    # the two-step form, then the redirect chain
    for hit in (
        "POST /login username",
        "POST /login password",
        "GET /oauth/authorize",
        "GET /oauth/callback",
    ):
        assert hit in state.hits
    assert list(state.sessions.values()) == [True]  # remember-me was ticked
    path = provider.session_path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert PASSWORD not in text
    doc = json.loads(text)
    assert SESSION_COOKIE in {c["name"] for c in doc["cookies"]}
    assert doc["bearer_token"] in state.tokens  # seen on the dashboard's API call
    # the next poll uses httpx only
    state.hits.clear()
    async with httpx.AsyncClient() as client:
        again = await provider.fetch(client)
    assert again.used_bytes == 585 * GB and state.hits == ["GET usage"]


async def test_the_old_one_page_form_gets_the_user_name_too(
    xfinity_chromium: str, xfinity_fake: tuple[FakeXfinityState, str], xfinity_make_provider: Make
) -> None:
    """The sign-in page before late 2021 had #user and #passwd on one form (the seed scraper's);
    filling only the password there was refused as a wrong password (issue 17)."""
    state, _ = xfinity_fake
    state.login_style = "single"
    provider = _unattended(xfinity_make_provider)
    async with httpx.AsyncClient() as client:
        snap = await provider.fetch(client)
    assert snap.used_bytes == 585 * GB
    assert "POST /login password" in state.hits and "POST /login username" not in state.hits
    assert list(state.sessions.values()) == [True]  # its "Stay signed in" was ticked


async def test_expired_session_is_renewed_unattended(
    xfinity_chromium: str, xfinity_fake: tuple[FakeXfinityState, str], xfinity_make_provider: Make
) -> None:
    state, _ = xfinity_fake
    provider = _unattended(xfinity_make_provider)
    async with httpx.AsyncClient() as client:
        await provider.fetch(client)
        state.expire_all()
        snap = await provider.fetch(client)
    assert snap.used_bytes == 585 * GB
    assert state.hits.count("POST /login password") == 2


async def test_wrong_password(
    xfinity_chromium: str, xfinity_fake: tuple[FakeXfinityState, str], xfinity_make_provider: Make
) -> None:
    provider = _unattended(xfinity_make_provider, password="not the password")
    async with httpx.AsyncClient() as client:
        with pytest.raises(WrongPassword, match="capwatch login xfinity --account home"):
            await provider.fetch(client)
    bundle = _assert_failure_bundle(provider, "not the password")
    assert "incorrect" in (bundle / "page.html").read_text()
    assert not provider.session_path.exists()


async def test_mfa_unattended_is_an_error(
    xfinity_chromium: str, xfinity_fake: tuple[FakeXfinityState, str], xfinity_make_provider: Make
) -> None:
    state, _ = xfinity_fake
    state.mfa = True
    provider = _unattended(xfinity_make_provider)
    async with httpx.AsyncClient() as client:
        with pytest.raises(MfaRequired, match="capwatch login xfinity --account home"):
            await provider.fetch(client)
    _assert_failure_bundle(provider)


async def test_mfa_with_a_code_from_the_prompter(
    xfinity_chromium: str, xfinity_fake: tuple[FakeXfinityState, str], xfinity_make_provider: Make
) -> None:
    state, _ = xfinity_fake
    state.mfa = True
    provider = xfinity_make_provider()
    prompter = ScriptedPrompter(
        {"xfinity id": state.username, "password": PASSWORD, "code": state.mfa_code}
    )
    async with httpx.AsyncClient() as client:
        path = await provider.interactive_login(client, prompter, headless=True)
        snap = await provider.fetch(client)
    assert snap.used_bytes == 585 * GB
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    labels = [label.lower() for label, _ in prompter.asked]
    assert any("code" in label for label in labels)
    assert ("Xfinity password", True) in prompter.asked  # the password was asked hidden
    assert "POST /login verification" in state.hits


async def test_access_denied_is_a_bot_block(
    xfinity_chromium: str, xfinity_fake: tuple[FakeXfinityState, str], xfinity_make_provider: Make
) -> None:
    state, _ = xfinity_fake
    state.access_denied = True
    provider = _unattended(xfinity_make_provider)
    async with httpx.AsyncClient() as client:
        with pytest.raises(BotBlocked, match="Access Denied"):
            await provider.fetch(client)
        hits = len(state.hits)
        with pytest.raises(RateLimited):
            await provider.fetch(client)  # backing off: the site is left alone
    assert len(state.hits) == hits
    bundle = _assert_failure_bundle(provider)
    assert "Access Denied" in (bundle / "page.html").read_text()


async def test_security_check_is_its_own_error(
    xfinity_chromium: str, xfinity_fake: tuple[FakeXfinityState, str], xfinity_make_provider: Make
) -> None:
    state, _ = xfinity_fake
    state.security_check = True
    provider = _unattended(xfinity_make_provider)
    async with httpx.AsyncClient() as client:
        with pytest.raises(SecurityCheck, match="security check"):
            await provider.fetch(client)
    _assert_failure_bundle(provider)


async def test_manual_mode_waits_for_the_person(
    xfinity_chromium: str, xfinity_fake: tuple[FakeXfinityState, str], xfinity_make_provider: Make
) -> None:
    from capwatch.providers.xfinity.browser import browser_login

    state, _ = xfinity_fake
    state.simulate_user = True  # the pages type and submit by themselves, MFA included
    state.mfa = True
    provider = xfinity_make_provider()
    plan = provider._plan("manual")
    plan.force_headless = True  # no display here; the flow is the same
    plan.prompter = ScriptedPrompter({})  # capwatch must not ask anything
    session = await browser_login(plan)
    assert session.source == "browser-manual"
    assert SESSION_COOKIE in {c.name for c in session.cookies}
    assert plan.prompter.asked == []
    assert "POST /login verification" in state.hits
    assert list(state.sessions.values()) == [True]


async def test_a_page_that_does_not_load_is_a_sign_in_failure(
    xfinity_chromium: str, xfinity_fake: tuple[FakeXfinityState, str], xfinity_make_provider: Make
) -> None:
    """The driver's own error (here net::ERR_CONNECTION_REFUSED) becomes AuthRequired with its
    first line, and a bundle of what the browser shows."""
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    provider = _unattended(xfinity_make_provider, customer_base_url=dead)
    async with httpx.AsyncClient() as client:
        with pytest.raises(
            AuthRequired, match=r"browser sign-in failed at .*ERR_CONNECTION_REFUSED"
        ):
            await provider.fetch(client)
    assert len(list_bundles(provider.diagnostics_dir)) == 1


async def test_chromium_is_gone_after_a_failed_sign_in(
    xfinity_chromium: str,
    xfinity_fake: tuple[FakeXfinityState, str],
    xfinity_make_provider: Make,
    xfinity_driver: str,
) -> None:
    """No Chromium process (browser, renderer) outlives a sign-in, nor its temporary profile."""
    import tempfile

    import psutil

    def chromium_children() -> list[psutil.Process]:
        kids = psutil.Process().children(recursive=True)
        return [p for p in kids if "chrom" in p.name() and p.status() != psutil.STATUS_ZOMBIE]

    def open_fds() -> dict[str, str]:
        """This process's descriptors and what they point at; one gone by the time it is read
        (the listing's own directory descriptor, another thread's passing socket) was not left
        open, so it is not counted."""
        found = {}
        for fd in os.listdir("/proc/self/fd"):
            try:
                found[fd] = os.readlink(f"/proc/self/fd/{fd}")
            except FileNotFoundError:
                continue
        return found

    profiles = set(Path(tempfile.gettempdir()).glob("capwatch-chromium-*"))
    fds = open_fds()
    provider = _unattended(xfinity_make_provider, password="not the password")
    async with httpx.AsyncClient() as client:
        with pytest.raises(WrongPassword):
            await provider.fetch(client)
    assert chromium_children() == []
    assert set(Path(tempfile.gettempdir()).glob("capwatch-chromium-*")) == profiles
    if xfinity_driver == "cdp":  # its pipe is closed, and nothing but Chromium ran (no Node)
        extra = set(open_fds().items()) - set(fds.items())
        assert not extra, sorted(extra)
        assert not any(p.name() == "node" for p in psutil.Process().children(recursive=True))
