"""The CDP driver when Chromium misbehaves: it exits at once, or never answers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import psutil
import pytest

from capwatch.errors import AuthRequired
from capwatch.providers.xfinity import XfinityProvider
from tests.fakes.xfinity import FakeXfinityState

Make = Callable[..., XfinityProvider]


def _provider(make: Make, browser: Path, **over: object) -> XfinityProvider:
    opts: dict[str, object] = {
        "username": "jane@example.com",
        "password": "correct horse battery",
        "headless_login": True,
        "browser_path": str(browser),
        "browser_driver": "cdp",
    }
    opts.update(over)
    return make(**opts)


def _script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "chromium"
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


async def test_a_browser_that_exits_at_once_is_a_sign_in_failure(
    tmp_path: Path, xfinity_fake: tuple[FakeXfinityState, str], xfinity_make_provider: Make
) -> None:
    provider = _provider(xfinity_make_provider, _script(tmp_path, "exit 3"))
    async with httpx.AsyncClient() as client:
        with pytest.raises(AuthRequired, match="Chromium closed the DevTools pipe"):
            await provider.fetch(client)


async def test_a_browser_that_never_answers_is_stopped_within_the_sign_in_time(
    tmp_path: Path, xfinity_fake: tuple[FakeXfinityState, str], xfinity_make_provider: Make
) -> None:
    """The sign-in's own time bounds the wait for Chromium, and its whole process group goes."""
    browser = _script(tmp_path, "sleep 59.25 & exec sleep 59.25")
    provider = _provider(xfinity_make_provider, browser, login_timeout_s=1.0)
    async with httpx.AsyncClient() as client:
        with pytest.raises(AuthRequired, match=r"no answer within 1 s"):
            await provider.fetch(client)
    left = [
        p
        for p in psutil.process_iter(["cmdline", "status"])
        if p.info["cmdline"] == ["sleep", "59.25"] and p.info["status"] != psutil.STATUS_ZOMBIE
    ]
    assert left == []
