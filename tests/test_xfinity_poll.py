"""Polling the fake Xfinity with httpx and a stored session (no browser)."""

from __future__ import annotations

import json
import stat
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from capwatch.diagnostics import list_bundles
from capwatch.errors import AuthRequired, BotBlocked, RateLimited
from capwatch.models import utcnow
from capwatch.providers.xfinity import XfinityProvider
from capwatch.providers.xfinity.session import (
    StoredCookie,
    XfinitySession,
    load_session,
    save_session,
)
from tests.fakes.xfinity import SESSION_COOKIE, FakeXfinityState

GB = 10**9
Make = Callable[..., XfinityProvider]


def _seed_session(
    state: FakeXfinityState, provider: XfinityProvider, *, token: bool = False, cookie: bool = True
) -> str:
    sess = "seeded-session-cookie-value"
    state.sessions[sess] = True
    bearer = None
    if token:
        bearer = "seeded-bearer-token-value"
        state.tokens.add(bearer)
    cookies = (StoredCookie(SESSION_COOKIE, sess, "127.0.0.1"),) if cookie else ()
    save_session(provider.session_path, XfinitySession(cookies=cookies, bearer_token=bearer))
    return sess


async def test_poll_json_with_a_session_file(
    xfinity_fake: tuple[FakeXfinityState, str], xfinity_make_provider: Make
) -> None:
    state, _ = xfinity_fake
    provider = xfinity_make_provider()
    _seed_session(state, provider)
    async with httpx.AsyncClient() as client:
        snap = await provider.fetch(client)
    assert snap.used_bytes == 585 * GB
    assert snap.cap_bytes == 1229 * GB
    assert snap.cycle_start is not None and snap.cycle_end is not None
    assert snap.cycle_start <= utcnow() < snap.cycle_end
    assert len(snap.history) == 1
    assert "GET usage" in state.hits
    assert stat.S_IMODE(provider.session_path.stat().st_mode) == 0o600


async def test_poll_graphql_gives_the_same_bytes(
    xfinity_fake: tuple[FakeXfinityState, str], xfinity_make_provider: Make
) -> None:
    state, _ = xfinity_fake
    provider = xfinity_make_provider(api_shape="graphql")
    _seed_session(state, provider, token=True)
    async with httpx.AsyncClient() as client:
        snap = await provider.fetch(client)
    assert snap.used_bytes == 585 * GB
    assert snap.cap_bytes == 1230 * GB  # 1.23 TB: within the gateway's rounding of 1229 GB
    assert "POST graphql" in state.hits and "GET usage" not in state.hits


async def test_the_usage_path_is_an_option(
    xfinity_fake: tuple[FakeXfinityState, str], xfinity_make_provider: Make
) -> None:
    """Xfinity has moved the usage JSON before (issue 17): the path is an option, today's the
    default."""
    state, _ = xfinity_fake
    provider = xfinity_make_provider(api_shape="json")
    _seed_session(state, provider)
    async with httpx.AsyncClient() as client:
        await provider.fetch(client)
    moved = xfinity_make_provider(api_shape="json", usage_path="/apis/services/internet/usage")
    _seed_session(state, moved)
    async with httpx.AsyncClient() as client:
        snap = await moved.fetch(client)
    assert snap.used_bytes == 585 * GB
    assert state.usage_paths == [
        "/apis/csp/account/me/services/internet/usage",
        "/apis/services/internet/usage",
    ]


async def test_auto_shape_uses_graphql_when_only_a_token_is_known(
    xfinity_fake: tuple[FakeXfinityState, str], xfinity_make_provider: Make
) -> None:
    state, _ = xfinity_fake
    provider = xfinity_make_provider()
    _seed_session(state, provider, token=True, cookie=False)
    async with httpx.AsyncClient() as client:
        snap = await provider.fetch(client)
    assert snap.used_bytes == 585 * GB
    assert state.hits == ["POST graphql"]


@pytest.mark.parametrize("style", ["401", "redirect"])
async def test_expired_session_asks_to_log_in(
    xfinity_fake: tuple[FakeXfinityState, str], xfinity_make_provider: Make, style: str
) -> None:
    state, _ = xfinity_fake
    state.expired_style = style
    provider = xfinity_make_provider(username="jane@example.com", password="s3cret-pass")
    _seed_session(state, provider)
    state.expire_all()
    async with httpx.AsyncClient() as client:
        with pytest.raises(AuthRequired) as info:
            await provider.fetch(client)
    assert not isinstance(info.value, BotBlocked)
    assert "capwatch login xfinity --account home" in str(info.value)
    bundles = list_bundles(provider.diagnostics_dir)
    assert len(bundles) == 1
    meta = json.loads((bundles[0] / "meta.json").read_text())
    assert meta["url_path"] == "/apis/csp/account/me/services/internet/usage"
    assert meta["status"] == (401 if style == "401" else 302)


async def test_no_session_file_asks_to_log_in(xfinity_make_provider: Make) -> None:
    provider = xfinity_make_provider()
    async with httpx.AsyncClient() as client:
        with pytest.raises(AuthRequired, match="capwatch login xfinity --account home"):
            await provider.fetch(client)
    assert provider.prerequisites()


async def test_access_denied_is_a_bot_block_then_backs_off(
    xfinity_fake: tuple[FakeXfinityState, str], xfinity_make_provider: Make
) -> None:
    state, _ = xfinity_fake
    provider = xfinity_make_provider()
    _seed_session(state, provider)
    state.access_denied = True
    async with httpx.AsyncClient() as client:
        with pytest.raises(BotBlocked, match="Access Denied"):
            await provider.fetch(client)
        hits = len(state.hits)
        with pytest.raises(RateLimited) as info:
            await provider.fetch(client)
    assert len(state.hits) == hits  # the backoff did not touch the site
    assert info.value.retry_after is not None and info.value.retry_after > 3000
    page = (list_bundles(provider.diagnostics_dir)[0] / "page.html").read_text()
    assert "Access Denied" in page


async def test_unlimited_plan_404_is_not_a_failure(
    xfinity_fake: tuple[FakeXfinityState, str], xfinity_make_provider: Make
) -> None:
    state, _ = xfinity_fake
    state.unlimited_404 = True
    provider = xfinity_make_provider()
    _seed_session(state, provider)
    async with httpx.AsyncClient() as client:
        snap = await provider.fetch(client)
    assert snap.unlimited and snap.cap_bytes is None


async def test_unlimited_plan_falls_back_to_graphql_for_usage(
    xfinity_fake: tuple[FakeXfinityState, str], xfinity_make_provider: Make
) -> None:
    state, _ = xfinity_fake
    state.unlimited_404 = True
    provider = xfinity_make_provider()
    _seed_session(state, provider, token=True)
    async with httpx.AsyncClient() as client:
        snap = await provider.fetch(client)
    assert snap.used_bytes == 585 * GB
    assert state.hits == ["GET usage", "POST graphql"]


async def test_sign_in_page_instead_of_json_means_expired(
    xfinity_fake: tuple[FakeXfinityState, str], xfinity_make_provider: Make
) -> None:
    state, _ = xfinity_fake
    state.html_usage = True
    provider = xfinity_make_provider()
    _seed_session(state, provider)
    async with httpx.AsyncClient() as client:
        with pytest.raises(AuthRequired, match="sign-in page"):
            await provider.fetch(client)


async def test_the_fake_signs_in_with_httpx_too(
    xfinity_fake: tuple[FakeXfinityState, str], xfinity_make_provider: Make
) -> None:
    state, url = xfinity_fake
    async with httpx.AsyncClient(base_url=url, follow_redirects=True) as web:
        first = await web.get("/")
        assert first.url.path == "/login"
        await web.post("/login", data={"flowStep": "username", "user": state.username})
        done = await web.post(
            "/login",
            data={
                "flowStep": "password",
                "user": state.username,
                "passwd": state.password,
                "rm": "1",
                "continue": "/oauth/authorize",
            },
        )
        assert done.url.path == "/" and "My Account" in done.text
        value = web.cookies.get(SESSION_COOKIE)
    assert value in state.sessions and state.sessions[value] is True
    provider = xfinity_make_provider()
    cookie = StoredCookie(SESSION_COOKIE, value, "127.0.0.1")
    save_session(provider.session_path, XfinitySession(cookies=(cookie,)))
    async with httpx.AsyncClient() as client:
        snap = await provider.fetch(client)
    assert snap.used_bytes == 585 * GB


def test_cookie_import_both_formats_then_poll(
    xfinity_fake: tuple[FakeXfinityState, str], xfinity_make_provider: Make, tmp_path: Path
) -> None:
    import asyncio

    state, _ = xfinity_fake
    state.sessions["imported-cookie-value"] = True
    netscape = tmp_path / "cookies.txt"
    netscape.write_text(
        "# Netscape HTTP Cookie File\n"
        f"#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t0\t{SESSION_COOKIE}\timported-cookie-value\n"
        ".example.org\tTRUE\t/\tFALSE\t0\tother\tnot-for-xfinity\n"
    )
    as_json = tmp_path / "cookies.json"
    as_json.write_text(
        json.dumps(
            [
                {
                    "name": SESSION_COOKIE,
                    "value": "imported-cookie-value",
                    "domain": "127.0.0.1",
                    "path": "/",
                    "expires": -1,
                },
                {
                    "name": "other",
                    "value": "x",
                    "domain": ".example.org",
                    "path": "/",
                    "expires": 0,
                },
            ]
        )
    )
    for source in (netscape, as_json):
        provider = xfinity_make_provider()
        path = provider.import_session(source)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        saved = load_session(path, account="home")
        assert [c.name for c in saved.cookies] == [SESSION_COOKIE]  # other sites' cookies dropped

        async def poll(p: XfinityProvider = provider) -> int | None:
            async with httpx.AsyncClient() as client:
                return (await p.fetch(client)).used_bytes

        assert asyncio.run(poll()) == 585 * GB
        path.unlink()


def test_the_fake_runs_standalone() -> None:
    import subprocess
    import sys

    from tests.fixtures.common import free_port

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.xfinity", "--port", str(port), "--mfa"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url == f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                page = httpx.get(f"{url}/login", timeout=5)
                break
            except httpx.TransportError:
                import time

                time.sleep(0.1)
        assert 'form name="signin"' in page.text and 'id="user"' in page.text
    finally:
        proc.terminate()
        proc.wait(timeout=10)
