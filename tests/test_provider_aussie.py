"""Aussie Broadband: parsing recorded MyAussie payloads; the cookie session against the fake."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from capwatch.errors import (
    AuthRequired,
    BadResponse,
    ConfigError,
    MfaRequired,
    RateLimited,
    ServerError,
    WrongPassword,
)
from capwatch.providers._http import json_body
from capwatch.providers.aussie import (
    AussieOptions,
    AussieProvider,
    choose_service,
    parse_usage,
)
from capwatch.providers.base import ProviderContext
from tests.fixtures.common import ScriptedPrompter
from tests.fixtures.isp import isp_payload

MB = 10**6
MEL = ZoneInfo("Australia/Melbourne")
PASSWORD = "fake-aussie-password"


def _decode(name: str) -> Any:
    request = httpx.Request("GET", "https://myaussie-api.aussiebroadband.com.au/broadband/1/usage")
    ctype = "text/html" if name.endswith(".html") else "application/json"
    response = httpx.Response(
        200, text=isp_payload("aussie", name), headers={"content-type": ctype}, request=request
    )
    return json_body(response)


PARSE_CASES: list[tuple[str, dict[str, Any]]] = [
    (
        "usage_ok.json",
        {
            "used_bytes": 123456 * MB,
            "cap_bytes": 1_000_000 * MB,
            "unlimited": False,
            "observed_at": datetime(2026, 11, 22, 22, 15, 42, tzinfo=UTC),
            "cycle_start": datetime(2026, 10, 31, 13, tzinfo=UTC),  # Nov 1 00:00 AEDT
            "cycle_end": datetime(2026, 11, 30, 13, tzinfo=UTC),  # Dec 1 00:00 AEDT
            "units": "MB",
        },
    ),
    (
        "usage_unlimited.json",
        {
            "used_bytes": 523456 * MB,
            "cap_bytes": None,
            "unlimited": True,
            "cycle_start": datetime(2026, 11, 30, 13, tzinfo=UTC),
            "cycle_end": datetime(2026, 12, 31, 13, tzinfo=UTC),
        },
    ),
    (
        "usage_strings.json",
        {
            "used_bytes": 4_500_123_500_000,
            "cap_bytes": 4_500_000_000_000,
            "observed_at": datetime(2026, 11, 30, 12, 50, tzinfo=UTC),
            "cycle_start": datetime(2026, 10, 31, 13, tzinfo=UTC),
        },
    ),
    ("usage_no_days.json", {"used_bytes": 10 * MB, "cycle_start": None, "cycle_end": None}),
]


@pytest.mark.parametrize(("name", "expected"), PARSE_CASES)
def test_parse_usage_table(name: str, expected: dict[str, Any]) -> None:
    """Recorded usage answers: MB to bytes, null remaining = unlimited, cycle from day counts."""
    snap = parse_usage(_decode(name), tz=MEL)
    for key, value in expected.items():
        assert getattr(snap, key) == value, key


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("usage_null_used.json", "usedMb missing"),
        ("usage_bad_date.json", "lastUpdated: bad timestamp"),
        ("maintenance.html", "got HTML"),
        ("truncated.json", "expected JSON"),
        ("login_error.json", "usedMb missing"),
    ],
)
def test_parse_usage_errors(name: str, text: str) -> None:
    """Broken payloads are BadResponse naming the field."""
    with pytest.raises(BadResponse, match=text):
        parse_usage(_decode(name), tz=MEL)


def test_choose_service_table() -> None:
    """The broadband service is picked; phones skipped; ambiguity is a config error."""
    assert choose_service(_decode("services.json")) == "2345678"
    assert choose_service(_decode("services_two.json"), "2") == "2"
    with pytest.raises(ConfigError, match="set service_id"):
        choose_service(_decode("services_two.json"))
    with pytest.raises(ConfigError, match="no broadband service '7'"):
        choose_service(_decode("services_two.json"), "7")
    with pytest.raises(BadResponse, match="no broadband service"):
        choose_service(_decode("services_empty.json"))


def _provider(url: str, ctx: ProviderContext, **extra: Any) -> AussieProvider:
    options = {
        "username": "fake@example.com",
        "password": PASSWORD,
        "auth_base_url": url,
        "api_base_url": url,
        **extra,
    }
    return AussieProvider(AussieOptions.model_validate(options), ctx)


async def test_fetch_logs_in_once_and_reuses_session(
    aussie_fake: tuple[str, Any], isp_context: ProviderContext, isp_client: httpx.AsyncClient
) -> None:
    """First fetch logs in and saves a 0600 session; the next fetch reuses it."""
    url, state = aussie_fake
    provider = _provider(url, isp_context)
    snap = await provider.fetch(isp_client)
    assert snap.used_bytes == 123456 * MB and snap.cap_bytes == 1_000_000 * MB
    assert state.logins == 1
    path = provider.session_path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = json.loads(path.read_text())
    assert saved["service_id"] == "2345678" and saved["cookie"] in state.valid_cookies
    assert PASSWORD not in path.read_text()
    # A new provider object (next poll, next process) reuses the file: no second login.
    await _provider(url, isp_context).fetch(isp_client)
    assert state.logins == 1 and state.usage_calls == 2


async def test_fetch_relogs_in_once_on_401(
    aussie_fake: tuple[str, Any], isp_context: ProviderContext, isp_client: httpx.AsyncClient
) -> None:
    """A refused saved session leads to one fresh login, then success."""
    url, state = aussie_fake
    provider = _provider(url, isp_context)
    await provider.fetch(isp_client)
    state.valid_cookies.clear()  # the server forgets every session
    snap = await provider.fetch(isp_client)
    assert snap.used_bytes == 123456 * MB
    assert state.logins == 2


async def test_fetch_gives_up_after_one_relogin(
    aussie_fake: tuple[str, Any], isp_context: ProviderContext, isp_client: httpx.AsyncClient
) -> None:
    """When even the fresh session is refused, AuthRequired (no loop)."""
    url, state = aussie_fake
    provider = _provider(url, isp_context)
    await provider.fetch(isp_client)
    state.valid_cookies = _NeverValid()  # forgets every session, even fresh ones
    with pytest.raises(AuthRequired, match="refused a fresh session"):
        await provider.fetch(isp_client)
    assert state.logins == 2


class _NeverValid(set[str]):
    """A cookie set that forgets what it is given."""

    def add(self, element: str) -> None:
        return None


async def test_fetch_without_credentials_or_session(
    aussie_fake: tuple[str, Any], isp_context: ProviderContext, isp_client: httpx.AsyncClient
) -> None:
    """No session and no password: AuthRequired telling the user to log in."""
    url, _ = aussie_fake
    provider = AussieProvider(
        AussieOptions.model_validate({"auth_base_url": url, "api_base_url": url}), isp_context
    )
    with pytest.raises(AuthRequired, match="capwatch login"):
        await provider.fetch(isp_client)


@pytest.mark.parametrize(
    ("mode", "exc"),
    [
        ("bad_password", WrongPassword),
        ("5xx", ServerError),
        ("html", BadResponse),
        ("truncated", BadResponse),
        ("429", RateLimited),
        ("empty", BadResponse),
        ("mfa", MfaRequired),
    ],
)
async def test_fetch_error_modes(
    mode: str,
    exc: type[Exception],
    aussie_fake: tuple[str, Any],
    isp_context: ProviderContext,
    isp_client: httpx.AsyncClient,
) -> None:
    """Each failure maps onto the error tree; no password or cookie in the message."""
    url, state = aussie_fake
    provider = _provider(url, isp_context)
    if mode == "truncated":
        await provider.fetch(isp_client)  # log in first; then the usage body breaks
    state.mode = mode
    with pytest.raises(exc) as info:
        await provider.fetch(isp_client)
    text = str(info.value) + json.dumps(getattr(info.value, "payload", None), default=str)
    assert PASSWORD not in text and "fake-session" not in text


async def test_unlimited_and_raw_has_no_secrets(
    aussie_fake: tuple[str, Any], isp_context: ProviderContext, isp_client: httpx.AsyncClient
) -> None:
    """remainingMb null is unlimited; raw carries neither the password nor the cookie."""
    url, state = aussie_fake
    state.mode = "unlimited"
    snap = await _provider(url, isp_context).fetch(isp_client)
    assert snap.unlimited and snap.cap_bytes is None
    dumped = json.dumps(snap.raw)
    assert PASSWORD not in dumped and "fake-session" not in dumped and "usedMb" in dumped


async def test_interactive_login_with_mfa(
    aussie_fake: tuple[str, Any], isp_context: ProviderContext, isp_client: httpx.AsyncClient
) -> None:
    """capwatch login: asks username/password (hidden), sends the code by SMS, verifies, saves."""
    url, state = aussie_fake
    state.mode = "mfa"
    provider = AussieProvider(
        AussieOptions.model_validate({"auth_base_url": url, "api_base_url": url}), isp_context
    )
    prompter = ScriptedPrompter(
        {"username": "fake@example.com", "password": PASSWORD, "code": "123456"}
    )
    await provider.interactive_login(isp_client, prompter)
    assert ("Aussie Broadband password", True) in prompter.asked
    assert state.mfa_sent == ["sms"]
    assert any("logged in" in m for m in prompter.told)
    state.mode = "ok"
    snap = await provider.fetch(isp_client)  # the verified session is reused, no new login
    assert snap.used_bytes == 123456 * MB and state.logins == 1


async def test_interactive_login_wrong_code(
    aussie_fake: tuple[str, Any], isp_context: ProviderContext, isp_client: httpx.AsyncClient
) -> None:
    """A refused one-time code is WrongPassword and nothing is saved."""
    url, state = aussie_fake
    state.mode = "mfa"
    provider = _provider(url, isp_context, mfa_method="email")
    prompter = ScriptedPrompter({"code": "000000"})
    with pytest.raises(WrongPassword, match="one-time code"):
        await provider.interactive_login(isp_client, prompter)
    assert state.mfa_sent == ["email"]
    assert not provider.session_path.exists()
