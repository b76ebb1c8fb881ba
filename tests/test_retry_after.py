"""Issue 23 point 11: one Retry-After reader for every provider (RFC 9110 10.2.3), "now" an
input: delay-seconds, an HTTP-date (Xfinity ignored that form), a date already past, garbage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from capwatch.errors import RateLimited
from capwatch.providers._http import response_retry_after, retry_after_seconds, send
from capwatch.providers.xfinity.api import Exchange, interpret

NOW = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("1.5", 1.5),  # not RFC, but a server that sends it means it
        ("Fri, 20 Nov 2026 19:02:00 GMT", 120.0),  # IMF-fixdate
        ("Friday, 20-Nov-26 19:05:00 GMT", 300.0),  # RFC 850, obsolete but allowed
        ("Fri Nov 20 19:00:30 2026", 30.0),  # asctime
        ("Fri, 20 Nov 2026 18:00:00 GMT", 0.0),  # already past: no wait
        ("Thu, 01 Jan 1970 00:00:00 GMT", 0.0),
        ("-30", 0.0),
        ("soon", None),
        ("", None),
        ("inf", None),
        ("nan", None),
        ("Fri, 32 Nov 2026 19:02:00 GMT", None),
        (None, None),
    ],
)
def test_retry_after_seconds(value: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(value, NOW) == seconds


def test_an_http_date_counts_from_the_answers_own_date() -> None:
    """A server whose clock is an hour off still means "two minutes from my Date"."""
    headers = {
        "retry-after": "Fri, 20 Nov 2026 20:02:00 GMT",
        "date": "Fri, 20 Nov 2026 20:00:00 GMT",
    }
    response = httpx.Response(429, headers=headers)
    assert response_retry_after(response, lambda: NOW) == 120.0
    undated = httpx.Response(429, headers={"retry-after": "Fri, 20 Nov 2026 19:02:00 GMT"})
    assert response_retry_after(undated, lambda: NOW) == 120.0
    assert response_retry_after(httpx.Response(429), lambda: NOW) is None


def _xfinity_429(retry_after: str) -> RateLimited:
    response = httpx.Response(429, headers={"retry-after": retry_after})
    ex = Exchange("json", "GET", "/usage", 429, None, "text/plain", "", response)
    with pytest.raises(RateLimited) as info:
        interpret(ex, account="home", tz=ZoneInfo("America/New_York"), observed_at=NOW)
    return info.value


def test_xfinity_reads_both_forms_from_its_injected_now() -> None:
    assert _xfinity_429("90").retry_after == 90.0
    later = NOW + timedelta(minutes=10)
    assert _xfinity_429(later.strftime("%a, %d %b %Y %H:%M:%S GMT")).retry_after == 600.0
    assert _xfinity_429("whenever").retry_after is None


async def test_send_reads_the_http_date_form_with_the_given_clock() -> None:
    later = NOW + timedelta(seconds=45)

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            429, headers={"retry-after": later.strftime("%a, %d %b %Y %H:%M:%S GMT")}
        )

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        with pytest.raises(RateLimited) as info:
            await send(client, "GET", "http://127.0.0.1:9/usage", clock=lambda: NOW)
    assert info.value.retry_after == 45.0
