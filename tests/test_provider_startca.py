"""Start.ca: table-driven parsing of recorded XML, and fetch against the fake usage API."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from capwatch.errors import AuthRequired, BadResponse, RateLimited, ServerError
from capwatch.providers.base import ProviderContext
from capwatch.providers.startca import StartcaOptions, StartcaProvider, parse_usage
from tests.fixtures.isp import isp_payload

KEY = "FAKEKEY0123456789"
NOW = datetime(2026, 11, 23, 15, tzinfo=UTC)
NOV_START = datetime(2026, 11, 1, 4, tzinfo=UTC)  # midnight EDT→EST: Nov 1 is still EDT (-4)
DEC_START = datetime(2026, 12, 1, 5, tzinfo=UTC)  # EST (-5)

PARSE_CASES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    (
        "usage_ok.xml",
        {"cap_bytes": 400 * 10**9},
        {
            "used_bytes": 304946829777,
            "cap_bytes": 400 * 10**9,
            "cycle_start": NOV_START,
            "cycle_end": DEC_START,
            "observed_at": NOW,
        },
    ),
    (
        "usage_ok.xml",
        {"count_upload": True},
        {"used_bytes": 304946829777 + 6480700153, "cap_bytes": None, "unlimited": False},
    ),
    ("usage_ok.xml", {"unlimited": True}, {"unlimited": True, "cap_bytes": None}),
    ("usage_big.xml", {}, {"used_bytes": 12345678901234567}),
    ("usage_no_grace.xml", {"count_upload": True}, {"used_bytes": 1010}),
]


@pytest.mark.parametrize(("name", "kwargs", "expected"), PARSE_CASES)
def test_parse_usage_table(name: str, kwargs: dict[str, Any], expected: dict[str, Any]) -> None:
    """Recorded answers: used download (plus upload when asked), cap from config, Toronto month."""
    snap = parse_usage(isp_payload("startca", name), now=NOW, **kwargs)
    for key, value in expected.items():
        assert getattr(snap, key) == value, key
    assert snap.raw is not None and "used_download" in snap.raw


@pytest.mark.parametrize(
    ("name", "exc", "text"),
    [
        ("usage_missing_used.xml", BadResponse, "<used><download> missing"),
        ("usage_empty_value.xml", BadResponse, "is empty"),
        ("usage_bad_number.xml", BadResponse, "expected a number"),
        ("error_key.xml", AuthRequired, "refused the key"),
        ("error_other.xml", BadResponse, "temporarily unavailable"),
        ("login_page.html", BadResponse, "got HTML"),
        ("truncated.xml", BadResponse, "malformed XML"),
        ("empty.xml", BadResponse, "empty body"),
        ("doctype_entity.xml", BadResponse, "document type declaration"),
    ],
)
def test_parse_usage_errors(name: str, exc: type[Exception], text: str) -> None:
    """Broken, refusing or hostile bodies map onto the error tree."""
    with pytest.raises(exc, match=text):
        parse_usage(isp_payload("startca", name), now=NOW)


def test_options() -> None:
    """The key is required; cap and unlimited exclude each other; cap must be positive."""
    with pytest.raises(ValueError, match="api_key"):
        StartcaOptions.model_validate({})
    with pytest.raises(ValueError, match="not both"):
        StartcaOptions.model_validate({"api_key": "k", "cap_gb": 400, "unlimited": True})
    with pytest.raises(ValueError, match="greater than 0"):
        StartcaOptions.model_validate({"api_key": "k", "cap_gb": 0})


def _provider(url: str, ctx: ProviderContext, **extra: Any) -> StartcaProvider:
    options = {"api_key": KEY, "base_url": url, "cap_gb": 400, **extra}
    return StartcaProvider(StartcaOptions.model_validate(options), ctx)


async def test_fetch(
    startca_fake: tuple[str, Any], isp_context: ProviderContext, isp_client: httpx.AsyncClient
) -> None:
    """fetch sends the key and a capwatch User-Agent; raw has counts but neither key nor URL."""
    url, state = startca_fake
    snap = await _provider(url, isp_context).fetch(isp_client)
    assert snap.used_bytes == 304946829777 and snap.cap_bytes == 400 * 10**9
    assert state.requests[0]["has_key"] and state.requests[0]["ua"].startswith("capwatch/")
    dumped = json.dumps(snap.raw)
    assert KEY not in dumped and "/support/usage/api" not in dumped
    assert '"grace_download": 50000000000' in dumped


async def test_fetch_fresh_month(
    startca_fake: tuple[str, Any], isp_context: ProviderContext, isp_client: httpx.AsyncClient
) -> None:
    """At the start of a month every count is zero, which is a valid reading."""
    url, state = startca_fake
    state.mode = "empty"
    snap = await _provider(url, isp_context).fetch(isp_client)
    assert snap.used_bytes == 0


@pytest.mark.parametrize(
    ("mode", "exc"),
    [
        ("bad_key", AuthRequired),
        ("5xx", ServerError),
        ("html", BadResponse),
        ("truncated", BadResponse),
        ("429", RateLimited),
    ],
)
async def test_fetch_error_modes(
    mode: str,
    exc: type[Exception],
    startca_fake: tuple[str, Any],
    isp_context: ProviderContext,
    isp_client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Failures map onto the error tree; the key is in no message, payload or log line."""
    url, state = startca_fake
    state.mode = mode
    caplog.set_level(logging.DEBUG)
    with pytest.raises(exc) as info:
        await _provider(url, isp_context).fetch(isp_client)
    text = str(info.value) + json.dumps(getattr(info.value, "payload", None), default=str)
    assert KEY not in text
    assert all(KEY not in r.getMessage() for r in caplog.records if r.name.startswith("capwatch"))


async def test_key_never_reaches_logs(
    startca_fake: tuple[str, Any], isp_context: ProviderContext, isp_client: httpx.AsyncClient
) -> None:
    """httpx logs the full URL (with ?key=); capwatch's redacting log filter masks the key."""
    from capwatch.logsetup import RedactingFilter

    records: list[logging.LogRecord] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = _Collect(level=logging.DEBUG)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("httpx")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        url, _ = startca_fake
        await _provider(url, isp_context).fetch(isp_client)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    lines = [r.getMessage() for r in records]
    assert any("/support/usage/api" in line for line in lines)
    assert all(KEY not in line for line in lines)
