"""Internode: table-driven parsing of recorded Customer Tools XML, and fetch against the fake."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from capwatch.errors import AuthRequired, BadResponse, ConfigError, RateLimited, ServerError
from capwatch.models import Cycle, CycleTotal
from capwatch.providers.base import ProviderContext
from capwatch.providers.internode import (
    InternodeOptions,
    InternodeProvider,
    choose_service,
    history_cycles,
    parse_history,
    parse_services,
    parse_usage,
)
from tests.fixtures.isp import isp_payload

ADL = ZoneInfo("Australia/Adelaide")
PASSWORD = "fake-node-password"
NOW = datetime(2026, 11, 23, 3, tzinfo=UTC)
# Adelaide is on ACDT (+10:30) from October to April.
OCT14 = datetime(2026, 10, 13, 13, 30, tzinfo=UTC)
NOV14 = datetime(2026, 11, 13, 13, 30, tzinfo=UTC)
DEC14 = datetime(2026, 12, 13, 13, 30, tzinfo=UTC)


def _xml(name: str) -> str:
    return isp_payload("internode", name)


PARSE_CASES: list[tuple[str, dict[str, Any]]] = [
    (
        "usage_ok.xml",
        {
            "used_bytes": 123456789012,
            "cap_bytes": 500_000_000_000,
            "unlimited": False,
            "cycle_start": NOV14,
            "cycle_end": DEC14,
        },
    ),
    (
        "usage_unlimited.xml",
        {
            "used_bytes": 98765432109876,
            "cap_bytes": None,
            "unlimited": True,
            "cycle_start": datetime(2026, 10, 31, 13, 30, tzinfo=UTC),
        },
    ),
    ("usage_no_quota_attr.xml", {"used_bytes": 5, "unlimited": True}),
    ("usage_yearly.xml", {"used_bytes": 1, "cycle_start": None, "cycle_end": None}),
]


@pytest.mark.parametrize(("name", "expected"), PARSE_CASES)
def test_parse_usage_table(name: str, expected: dict[str, Any]) -> None:
    """Recorded usage: bytes used, quota (0 = unlimited), cycle ending at the rollover day."""
    snap = parse_usage(_xml(name), tz=ADL, now=NOW)
    for key, value in expected.items():
        assert getattr(snap, key) == value, key
    assert snap.source == "internode" and snap.observed_at == NOW


@pytest.mark.parametrize(
    ("name", "exc", "text"),
    [
        ("usage_empty_value.xml", BadResponse, "expected a number"),
        ("usage_no_traffic.xml", BadResponse, "no <traffic"),
        ("usage_bad_rollover.xml", BadResponse, "bad rollover date"),
        ("error_auth.xml", AuthRequired, "Authentication failed"),
        ("error_other.xml", BadResponse, "temporarily unavailable"),
        ("maintenance.html", BadResponse, "got HTML"),
        ("truncated.xml", BadResponse, "malformed XML"),
    ],
)
def test_parse_usage_errors(name: str, exc: type[Exception], text: str) -> None:
    """Broken or refusing answers map onto the error tree."""
    with pytest.raises(exc, match=text):
        parse_usage(_xml(name), tz=ADL, now=NOW)


def test_services_table() -> None:
    """Service lists: one service is picked; several need service_id; none is BadResponse."""
    assert parse_services(_xml("services.xml")) == [("1917923", "Personal_ADSL")]
    two = parse_services(_xml("services_two.xml"))
    assert choose_service(two, "222") == "222"
    with pytest.raises(ConfigError, match="set service_id"):
        choose_service(two, None)
    with pytest.raises(ConfigError, match="no service '9'"):
        choose_service(two, "9")
    with pytest.raises(BadResponse, match="no service"):
        choose_service(parse_services(_xml("services_empty.xml")), None)


def test_history_sums_whole_earlier_cycles() -> None:
    """Daily history: only whole cycles before the current one; the partial first is dropped."""
    days = parse_history(_xml("history.xml"))
    assert days[0] == (date(2026, 10, 12), 1000) and len(days) == 7
    cycles = history_cycles(days, Cycle(NOV14, DEC14), ADL)
    assert cycles == (CycleTotal(OCT14, NOV14, 4000 + 8000 + 16000, None),)
    assert history_cycles([], Cycle(NOV14, DEC14), ADL) == ()


def _provider(url: str, ctx: ProviderContext, **extra: Any) -> InternodeProvider:
    options = {"username": "fakeuser", "password": PASSWORD, "base_url": url, **extra}
    return InternodeProvider(InternodeOptions.model_validate(options), ctx)


async def test_fetch_with_history(
    internode_fake: tuple[str, Any], isp_context: ProviderContext, isp_client: httpx.AsyncClient
) -> None:
    """fetch lists services, reads usage and history with Basic auth and a capwatch User-Agent."""
    url, state = internode_fake
    snap = await _provider(url, isp_context).fetch(isp_client)
    assert snap.used_bytes == 123456789012 and snap.cap_bytes == 500_000_000_000
    assert (snap.cycle_start, snap.cycle_end) == (NOV14, DEC14)
    sept14 = datetime(2026, 9, 13, 14, 30, tzinfo=UTC)  # ACST (+9:30) before October
    assert [(c.start, c.used_bytes) for c in snap.history] == [
        (sept14, 30 * 2_000_000_000),
        (OCT14, 31 * 2_000_000_000),
    ]
    paths = [r["path"] for r in state.requests]
    assert paths == ["/api/v1.5/", "/api/v1.5/1917923/usage", "/api/v1.5/1917923/history"]
    assert all(r["ua"].startswith("capwatch/") for r in state.requests)
    assert PASSWORD not in json.dumps(snap.raw)


async def test_fetch_configured_service_no_history(
    internode_fake: tuple[str, Any], isp_context: ProviderContext, isp_client: httpx.AsyncClient
) -> None:
    """With service_id and fetch_history off, one request; unlimited plans have no cap."""
    url, state = internode_fake
    state.mode = "unlimited"
    snap = await _provider(url, isp_context, service_id="1917923", fetch_history=False).fetch(
        isp_client
    )
    assert snap.unlimited and snap.history == ()
    assert [r["path"] for r in state.requests] == ["/api/v1.5/1917923/usage"]


@pytest.mark.parametrize(
    ("mode", "exc"),
    [
        ("bad_password", AuthRequired),
        ("bad_password_404", AuthRequired),  # real: Apache's 404 page for bad credentials
        ("5xx", ServerError),
        ("html", BadResponse),
        ("truncated", BadResponse),
        ("429", RateLimited),
        ("empty", BadResponse),
        ("error", BadResponse),
    ],
)
async def test_fetch_error_modes(
    mode: str,
    exc: type[Exception],
    internode_fake: tuple[str, Any],
    isp_context: ProviderContext,
    isp_client: httpx.AsyncClient,
) -> None:
    """Failures map onto the error tree; the password is in no message or payload."""
    url, state = internode_fake
    state.mode = mode
    with pytest.raises(exc) as info:
        await _provider(url, isp_context).fetch(isp_client)
    text = str(info.value) + json.dumps(getattr(info.value, "payload", None), default=str)
    assert PASSWORD not in text
