"""Andrews & Arnold: table-driven parsing of recorded CHAOS payloads, and fetch against the fake."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from capwatch.errors import (
    AuthRequired,
    BadResponse,
    ConfigError,
    RateLimited,
    ServerError,
    WrongPassword,
)
from capwatch.models import Snapshot
from capwatch.providers._http import json_body
from capwatch.providers.aaisp import AaispOptions, AaispProvider, parse_line_quota, parse_quota
from capwatch.providers.base import ProviderContext
from tests.fixtures.isp import isp_payload

GB = 10**9
NOV_START = datetime(2026, 11, 1, tzinfo=UTC)  # London is on GMT in November
DEC_START = datetime(2026, 12, 1, tzinfo=UTC)


def _decode(name: str) -> Any:
    """Decode a recorded body the way fetch does (json_body maps HTML/truncation)."""
    request = httpx.Request("POST", "https://chaos2.aa.net.uk/broadband/quota")
    ctype = "text/html" if name.endswith(".html") else "application/json"
    response = httpx.Response(
        200, text=isp_payload("aaisp", name), headers={"content-type": ctype}, request=request
    )
    return json_body(response)


PARSE_CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "quota_single.json",
        {},
        {
            "used_bytes": 50 * GB,
            "cap_bytes": 200 * GB,
            "cycle_start": NOV_START,
            "cycle_end": DEC_START,
            "observed_at": datetime(2026, 11, 23, 14, tzinfo=UTC),
        },
    ),
    (
        "quota_numbers_big.json",
        {},
        {
            "used_bytes": 5_000_000_000_000 - 1_234_567_890_123,
            "cap_bytes": 5_000_000_000_000,
            # July: London is on BST, so 09:00 local is 08:00 UTC and the month starts 23:00 UTC
            "observed_at": datetime(2026, 7, 15, 8, tzinfo=UTC),
            "cycle_start": datetime(2026, 6, 30, 23, tzinfo=UTC),
        },
    ),
    (
        "quota_two_lines.json",
        {"sum_lines": True},
        {
            "used_bytes": 240 * GB,
            "cap_bytes": 400 * GB,
            "lines": {"37835": 40 * GB, "37964": 200 * GB},
            "observed_at": datetime(2026, 11, 23, 13, tzinfo=UTC),
        },
    ),
    (
        "quota_two_lines.json",
        {"line": "37964"},
        {"used_bytes": 200 * GB, "cap_bytes": 300 * GB},
    ),
    ("quota_over.json", {}, {"used_bytes": 205 * GB, "cap_bytes": 200 * GB}),
    (
        "quota_unlimited.json",
        {},
        {"used_bytes": None, "cap_bytes": None, "unlimited": True, "cycle_start": NOV_START},
    ),
    (
        # At rollover the newest figure still belongs to October: the snapshot says so.
        "quota_rollover.json",
        {},
        {
            "used_bytes": 199 * GB,
            "cycle_start": datetime(2026, 9, 30, 23, tzinfo=UTC),
            "cycle_end": NOV_START,
            "observed_at": datetime(2026, 10, 31, 23, tzinfo=UTC),
        },
    ),
]


@pytest.mark.parametrize(("name", "kwargs", "expected"), PARSE_CASES)
def test_parse_quota_table(name: str, kwargs: dict[str, Any], expected: dict[str, Any]) -> None:
    """Each recorded payload parses to the expected bytes, cap and cycle."""
    snap = parse_quota(_decode(name), **kwargs)
    assert snap.source == "aaisp"
    for key, value in expected.items():
        assert getattr(snap, key) == value, key


ERROR_CASES: list[tuple[str, dict[str, Any], type[Exception], str]] = [
    ("error_login.json", {}, WrongPassword, "Login failed"),
    ("error_other.json", {}, BadResponse, "temporarily unavailable"),
    ("quota_empty.json", {}, BadResponse, "empty line list"),
    ("quota_null_remaining.json", {}, BadResponse, "quota_remaining missing"),
    ("quota_bad_number.json", {}, BadResponse, "quota_monthly"),
    ("quota_two_lines.json", {}, ConfigError, "set line or sum_lines"),
    ("quota_two_lines.json", {"line": "99"}, ConfigError, "no line '99'"),
    ("maintenance.html", {}, BadResponse, "got HTML"),
    ("truncated.json", {}, BadResponse, "expected JSON"),
]


@pytest.mark.parametrize(("name", "kwargs", "exc", "text"), ERROR_CASES)
def test_parse_quota_errors(
    name: str, kwargs: dict[str, Any], exc: type[Exception], text: str
) -> None:
    """Broken or refusing payloads map onto the error tree with a message naming the place."""
    with pytest.raises(exc, match=text):
        parse_quota(_decode(name), **kwargs)


def test_parse_line_quota_table() -> None:
    """The quota.aa.net.uk JSON: used from monthly - remaining; 0 monthly means unlimited."""
    now = datetime(2026, 11, 23, 15, tzinfo=UTC)
    snap = parse_line_quota(_decode("line_ok.json"), now=now)
    assert (snap.used_bytes, snap.cap_bytes, snap.cycle_start) == (50 * GB, 200 * GB, NOV_START)
    snap = parse_line_quota(_decode("line_unlimited.json"), now=now)
    assert snap.unlimited and snap.cap_bytes is None


def test_options_validation() -> None:
    """chaos mode needs a login; line and sum_lines exclude each other."""
    with pytest.raises(ValueError, match="needs username and password"):
        AaispOptions.model_validate({"mode": "chaos"})
    with pytest.raises(ValueError, match="not both"):
        AaispOptions.model_validate(
            {"username": "a", "password": "b", "line": "1", "sum_lines": True}
        )
    with pytest.raises(ValueError, match="extra"):
        AaispOptions.model_validate({"mode": "line", "colour": "red"})
    assert AaispOptions.model_validate({"mode": "line"}).base_url == "https://chaos2.aa.net.uk"


def _provider(url: str, ctx: ProviderContext, **extra: Any) -> AaispProvider:
    options = {
        "username": "test@a.1",
        "password": "fake-aa-password",
        "base_url": url,
        "quota_url": url,
        **extra,
    }
    return AaispProvider(AaispOptions.model_validate(options), ctx)


async def test_fetch_chaos(
    aaisp_fake: tuple[str, Any], isp_context: ProviderContext, isp_client: httpx.AsyncClient
) -> None:
    """fetch POSTs the control login as form fields and returns the month's usage."""
    url, state = aaisp_fake
    snap = await _provider(url, isp_context).fetch(isp_client)
    assert isinstance(snap, Snapshot)
    assert (snap.used_bytes, snap.cap_bytes, snap.cycle_start) == (50 * GB, 200 * GB, NOV_START)
    assert state.requests[0]["fields"] == ["control_login", "control_password"]
    assert state.requests[0]["ua"].startswith("capwatch/")


async def test_fetch_account_login_and_line_mode(
    aaisp_fake: tuple[str, Any], isp_context: ProviderContext, isp_client: httpx.AsyncClient
) -> None:
    """account_number/account_password fields; line mode asks quota.aa.net.uk for JSON."""
    url, state = aaisp_fake
    snap = await _provider(url, isp_context, login_kind="account").fetch(isp_client)
    assert snap.used_bytes == 50 * GB
    assert state.requests[-1]["fields"] == ["account_number", "account_password"]
    line = AaispProvider(
        AaispOptions.model_validate({"mode": "line", "quota_url": url}), isp_context
    )
    snap = await line.fetch(isp_client)
    assert snap.cap_bytes == 200 * GB and snap.used_bytes == 50 * GB
    assert state.requests[-1]["accept"] == "application/json"


@pytest.mark.parametrize(
    ("mode", "exc"),
    [
        ("bad_password", WrongPassword),
        ("error", BadResponse),
        ("5xx", ServerError),
        ("html", BadResponse),
        ("truncated", BadResponse),
        ("429", RateLimited),
        ("empty", BadResponse),
    ],
)
async def test_fetch_error_modes(
    mode: str,
    exc: type[Exception],
    aaisp_fake: tuple[str, Any],
    isp_context: ProviderContext,
    isp_client: httpx.AsyncClient,
) -> None:
    """Every failure of the fake maps onto the error tree, and never shows the password."""
    url, state = aaisp_fake
    state.mode = mode
    with pytest.raises(exc) as info:
        await _provider(url, isp_context).fetch(isp_client)
    assert "fake-aa-password" not in str(info.value)
    assert "fake-aa-password" not in json.dumps(getattr(info.value, "payload", None))
    if mode == "429":
        assert info.value.retry_after == 120  # type: ignore[attr-defined]
    if mode == "bad_password":
        assert isinstance(info.value, AuthRequired)


async def test_fetch_unlimited_is_an_unlimited_snapshot(
    aaisp_fake: tuple[str, Any], isp_context: ProviderContext, isp_client: httpx.AsyncClient
) -> None:
    """A line without quota (quota_monthly 0) has no usage in CHAOS: an unlimited snapshot
    without a figure, never an invented zero and never an error (issue 14)."""
    url, state = aaisp_fake
    state.mode = "unlimited"
    snap = await _provider(url, isp_context).fetch(isp_client)
    assert snap.unlimited is True
    assert snap.used_bytes is None and snap.cap_bytes is None
    assert "fake-aa-password" not in json.dumps(snap.raw)
    assert "32891" in json.dumps(snap.raw)


async def test_fetch_raw_has_no_secret(
    aaisp_fake: tuple[str, Any], isp_context: ProviderContext, isp_client: httpx.AsyncClient
) -> None:
    """raw keeps the CHAOS answer and never the password."""
    url, _ = aaisp_fake
    snap = await _provider(url, isp_context).fetch(isp_client)
    dumped = json.dumps(snap.raw)
    assert "fake-aa-password" not in dumped and "quota_remaining" in dumped


async def test_fetch_connection_refused(
    isp_context: ProviderContext, isp_client: httpx.AsyncClient
) -> None:
    """A closed port is CannotConnect, with no password in the message."""
    from capwatch.errors import CannotConnect
    from tests.fixtures.common import free_port

    with pytest.raises(CannotConnect) as info:
        await _provider(f"http://127.0.0.1:{free_port()}", isp_context).fetch(isp_client)
    assert "fake-aa-password" not in str(info.value)
