"""Generic http_json: table-driven selectors over recorded payloads, and fetch against the fake."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from capwatch.errors import AuthRequired, BadResponse, RateLimited, ServerError
from capwatch.providers._http import json_body
from capwatch.providers.base import ProviderContext
from capwatch.providers.http_json import HttpJsonOptions, HttpJsonProvider, parse_payload
from tests.fixtures.isp import isp_payload

TOKEN = "fake-bearer-token-123"
QUERY_KEY = "fake-query-key-456"
NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
ROUTER_OPTS = {
    "url": "http://router.invalid/usage",
    "used_path": "$.wan.rx_bytes",
    "cap_path": "$.plan.cap",
    "cap_unit": "auto",
    "cycle_start_path": "$.plan.period.start",
    "cycle_end_path": "$.plan.period.end",
    "observed_at_path": "$.updated",
    "timezone": "America/New_York",
}
CARRIER_OPTS = {
    "url": "http://carrier.invalid/usage",
    "used_path": "$.data.usage.used",
    "cap_path": "$.data.usage.limit",
    "unit": "auto",
    "observed_at_path": "$.data.asOf",
    "cycle_start_path": "$.data.cycle.start",
    "cycle_end_path": "$.data.cycle.end",
}


def _decode(name: str) -> Any:
    request = httpx.Request("GET", "http://device.invalid/usage")
    ctype = "text/html" if name.endswith(".html") else "application/json"
    response = httpx.Response(
        200, text=isp_payload("http_json", name), headers={"content-type": ctype}, request=request
    )
    return json_body(response)


def _parse(name: str, options: dict[str, Any]) -> Any:
    opts = HttpJsonOptions.model_validate(options)
    tz = ZoneInfo(opts.timezone or "UTC")
    return parse_payload(_decode(name), opts, tz=tz, now=NOW)


PARSE_CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "router.json",
        ROUTER_OPTS,
        {
            "used_bytes": 812345678901,
            "cap_bytes": 1_200_000_000_000,
            "cycle_start": datetime(2026, 11, 1, 4, tzinfo=UTC),  # midnight EDT
            "cycle_end": datetime(2026, 12, 1, 5, tzinfo=UTC),  # "2026-11-30" inclusive, EST
            "observed_at": datetime.fromtimestamp(1795413600, UTC),
        },
    ),
    (
        "carrier.json",
        CARRIER_OPTS,
        {
            "used_bytes": 123_400_000_000,
            "cap_bytes": 500_000_000_000,
            "unlimited": False,
            "cycle_start": datetime(2026, 11, 5, 5, tzinfo=UTC),
            "cycle_end": datetime(2026, 12, 5, 5, tzinfo=UTC),
            "observed_at": datetime(2026, 11, 23, 10, tzinfo=UTC),
        },
    ),
    (
        "carrier_unlimited.json",
        {**CARRIER_OPTS, "cycle_start_path": None, "cycle_end_path": None},
        {
            "used_bytes": int(2.5 * 2**40),
            "cap_bytes": None,
            "unlimited": True,
            "observed_at": datetime.fromtimestamp(1795413600, UTC),
        },
    ),
    (
        "mb_strings.json",
        {
            "url": "http://x.invalid",
            "used_path": "$.subscriber.lines[0].usedMB",
            "cap_path": "$.subscriber.lines[0].quotaMB",
            "unit": "MB",
            "cycle_start_path": "$.subscriber.period.from",
            "cycle_end_path": "$.subscriber.period.to",
            "date_format": "%d/%m/%Y",
            "timezone": "Europe/Berlin",
        },
        {
            "used_bytes": 10_240_500_000,
            "cap_bytes": 51_200_000_000,
            "cycle_start": datetime(2026, 11, 4, 23, tzinfo=UTC),
            "cycle_end": datetime(2026, 12, 4, 23, tzinfo=UTC),
            "observed_at": NOW,
        },
    ),
    (
        "many.json",
        {"url": "http://x.invalid", "used_path": "$.interfaces[?name = 'wan'].rx", "unit": "GiB"},
        {"used_bytes": 10 * 2**30, "cap_bytes": None},
    ),
    (
        "router.json",
        {"url": "http://x.invalid", "used_path": "$.wan.tx_bytes", "cap": "1 TB"},
        {"used_bytes": 45678901234, "cap_bytes": 10**12},
    ),
]


@pytest.mark.parametrize(("name", "options", "expected"), PARSE_CASES)
def test_parse_table(name: str, options: dict[str, Any], expected: dict[str, Any]) -> None:
    """Selectors, units, epochs, ISO and custom dates, inclusive end dates."""
    snap = _parse(name, options)
    for key, value in expected.items():
        assert getattr(snap, key) == value, key
    assert snap.source == "http_json"


@pytest.mark.parametrize(
    ("name", "options", "text"),
    [
        ("null_used.json", {"used_path": "$.wan.rx_bytes"}, "selected null"),
        ("many.json", {"used_path": "$.interfaces[*].rx"}, "matched 2 values"),
        ("router.json", {"used_path": "$.wan.nope"}, r"used_path '\$.wan.nope' matched nothing"),
        (
            "router.json",
            {"used_path": "$.wan.rx_bytes", "cap_path": "$.plan.quota"},
            "cap_path '\\$.plan.quota' matched nothing",
        ),
        ("negative.json", {"used_path": "$.wan.rx_bytes"}, "must not be negative"),
        (
            "bad_date.json",
            {"used_path": "$.wan.rx_bytes", "observed_at_path": "$.updated"},
            "bad timestamp",
        ),
        ("router.json", {"used_path": "$.plan.cap"}, 'has a unit; set unit = "auto"'),
        ("login.html", {"used_path": "$.a"}, "got HTML"),
        ("truncated.json", {"used_path": "$.a"}, "expected JSON"),
    ],
)
def test_parse_errors(name: str, options: dict[str, Any], text: str) -> None:
    """Every failing selector or value is a BadResponse naming the selector."""
    with pytest.raises(BadResponse, match=text):
        _parse(name, {"url": "http://x.invalid", **options})


@pytest.mark.parametrize(
    ("options", "text"),
    [
        ({"used_path": "$.[["}, "bad JSONPath"),
        ({"used_path": "$.a", "unit": "GB/s"}, "unknown unit"),
        ({"used_path": "$.a", "cap": "1 TB", "cap_path": "$.b"}, "not both"),
        ({"used_path": "$.a", "timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"used_path": "$.a", "method": "DELETE"}, "method"),
    ],
)
def test_options_errors(options: dict[str, Any], text: str) -> None:
    """Bad options fail at config time with a message naming the problem."""
    with pytest.raises(Exception, match=text):
        HttpJsonOptions.model_validate({"url": "http://x.invalid", **options})


async def test_fetch_router(
    httpjson_fake: tuple[str, Any], isp_context: ProviderContext, isp_client: httpx.AsyncClient
) -> None:
    """A plain GET with the default User-Agent."""
    url, state = httpjson_fake
    provider = HttpJsonProvider(
        HttpJsonOptions.model_validate({**ROUTER_OPTS, "url": f"{url}/router/usage"}), isp_context
    )
    snap = await provider.fetch(isp_client)
    assert snap.used_bytes == 812345678901 and snap.cap_bytes == 1_200_000_000_000
    assert state.requests[0]["ua"].startswith("capwatch/")


async def test_fetch_post_with_secret_header(
    httpjson_fake: tuple[str, Any],
    isp_context: ProviderContext,
    isp_client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """POST with a JSON body and a bearer token from the environment; raw drops the token."""
    url, state = httpjson_fake
    monkeypatch.setenv("CARRIER_TOKEN", f"Bearer {TOKEN}")
    options = {
        **CARRIER_OPTS,
        "url": f"{url}/carrier/usage",
        "method": "POST",
        "headers": {"Authorization": {"env": "CARRIER_TOKEN"}, "X-Client": "capwatch"},
        "body": {"account": "A-1"},
    }
    snap = await HttpJsonProvider(HttpJsonOptions.model_validate(options), isp_context).fetch(
        isp_client
    )
    assert snap.used_bytes == 123_400_000_000
    assert state.requests[0]["body"] == {"account": "A-1"}
    assert TOKEN not in json.dumps(snap.raw)  # the fake echoes it back; raw must not keep it


async def test_fetch_query_key_and_unlimited(
    httpjson_fake: tuple[str, Any],
    isp_context: ProviderContext,
    isp_client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A secret query parameter; a null limit is unlimited."""
    url, state = httpjson_fake
    state.mode = "unlimited"
    options = {
        **CARRIER_OPTS,
        "url": f"{url}/carrier/usage",
        "params": {"api_key": {"env": "NOPE"}},
    }
    monkeypatch.setenv("NOPE", QUERY_KEY)
    snap = await HttpJsonProvider(HttpJsonOptions.model_validate(options), isp_context).fetch(
        isp_client
    )
    assert snap.unlimited and snap.cap_bytes is None
    assert QUERY_KEY not in json.dumps(snap.raw)


@pytest.mark.parametrize(
    ("mode", "exc", "text"),
    [
        ("unauthorised", AuthRequired, "HTTP 401"),
        ("5xx", ServerError, "HTTP 502"),
        ("html", BadResponse, "got HTML"),
        ("truncated", BadResponse, "expected JSON"),
        ("429", RateLimited, "429"),
        ("empty", BadResponse, "matched nothing"),
    ],
)
async def test_fetch_error_modes(
    mode: str,
    exc: type[Exception],
    text: str,
    httpjson_fake: tuple[str, Any],
    isp_context: ProviderContext,
    isp_client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Failures map onto the error tree; the token is in no message or kept payload."""
    url, state = httpjson_fake
    state.mode = mode
    options = {
        **CARRIER_OPTS,
        "url": f"{url}/carrier/usage",
        "method": "POST",
        "headers": {"Authorization": {"env": "HJ_TOKEN"}},
        "body": {"account": "A-1"},
    }
    monkeypatch.setenv("HJ_TOKEN", f"Bearer {TOKEN}")
    with pytest.raises(exc, match=text) as info:
        await HttpJsonProvider(HttpJsonOptions.model_validate(options), isp_context).fetch(
            isp_client
        )
    kept = str(info.value) + json.dumps(getattr(info.value, "payload", None), default=str)
    assert TOKEN not in kept
