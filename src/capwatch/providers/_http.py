"""HTTP plumbing shared by HTTP providers: one place maps transport and status to the error tree."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from capwatch.errors import AuthRequired, BadResponse, CannotConnect, RateLimited, ServerError
from capwatch.models import utcnow


def _where(request: httpx.Request) -> str:
    """The method and URL path of a request: enough to place an error, never a query secret."""
    return f"{request.method} {request.url.path}"


MAX_BODY_BYTES = 4 * 1024 * 1024
"""The largest answer a provider reads (usage replies are a few kB; a login page ~200 kB)."""


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    max_bytes: int = MAX_BODY_BYTES,
    clock: Callable[[], datetime] = utcnow,
    **kwargs: Any,
) -> httpx.Response:
    """Send a request; map transport failures, 401/403, 429 and 5xx onto the error tree
    (``clock``: the now a 429's Retry-After date counts from when the answer has no Date).

    The body is read up to ``max_bytes``: a larger answer is a BadResponse, and never sits
    whole in memory or in the archive.
    """
    try:
        sending = {k: kwargs.pop(k) for k in ("auth", "follow_redirects") if k in kwargs}
        request = client.build_request(method, url, **kwargs)
        response = await client.send(request, stream=True, **sending)
        try:
            body = await _read_capped(response, max_bytes)
        finally:
            await response.aclose()
    except httpx.TimeoutException as exc:
        target = httpx.URL(url)
        raise CannotConnect(
            f"timed out: {method} {target.host}{target.path} ({type(exc).__name__})"
        ) from exc
    except httpx.TransportError as exc:
        from capwatch.secrets import redact

        target = httpx.URL(url)
        reason = redact(str(exc).strip()) or "no detail"
        raise CannotConnect(
            f"cannot connect to {target.host}: {method} {target.path}: "
            f"{type(exc).__name__}: {reason}"
        ) from exc
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _RECODED]
    response = httpx.Response(
        response.status_code, headers=headers, content=body, request=response.request
    )
    where = _where(response.request)
    status = response.status_code
    if status in (401, 403):
        raise AuthRequired(f"{where}: HTTP {status}, credentials refused or session expired")
    if status == 429:
        raise RateLimited(f"{where}: HTTP 429", retry_after=response_retry_after(response, clock))
    if status >= 500:
        raise ServerError(f"{where}: HTTP {status}")
    return response


_RECODED = ("content-encoding", "content-length", "transfer-encoding")
"""Headers that no longer describe the (decoded, complete) body once it has been read."""


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise BadResponse(
                f"{_where(response.request)}: the answer is larger than {max_bytes // 1024} KiB "
                "(not a usage reply); not read further"
            )
        chunks.append(chunk)
    return b"".join(chunks)


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` value at ``now``: its delay-seconds form, or its
    HTTP-date form (RFC 9110 10.2.3) less ``now``; 0 for a date already past, None for none or
    garbage."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)  # delay-seconds (a fraction or a sign tolerated)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": a time in UTC with no zone stated
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


def response_retry_after(response: httpx.Response, clock: Callable[[], datetime]) -> float | None:
    """The wait a 429 asks for; an HTTP-date counts from the answer's own ``Date`` (the
    server's clock, so a skewed local clock does not stretch it), else from ``clock()``."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    now = None
    if date := response.headers.get("date"):
        try:
            now = parsedate_to_datetime(date)
        except (TypeError, ValueError, IndexError):
            now = None
        if now is not None and now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
    return retry_after_seconds(value, now or clock())


def json_text(text: str, where: str, ctype: str = "") -> Any:
    """Decode JSON text, raising BadResponse (with the text kept) when it is not JSON."""
    try:
        return json.loads(text)
    except RecursionError:
        raise BadResponse(f"{where}: the JSON is nested too deeply to be a usage reply") from None
    except ValueError as exc:
        kind = "HTML" if "html" in ctype or text.lstrip().startswith("<") else "not JSON"
        if not text.strip():
            kind = "an empty body"
        raise BadResponse(f"{where}: expected JSON, got {kind}", payload=text[:20000]) from exc


def json_body(response: httpx.Response) -> Any:
    """Decode a JSON body, raising BadResponse (with the text kept) when it is not JSON."""
    return json_text(
        response.text, _where(response.request), response.headers.get("content-type", "")
    )
