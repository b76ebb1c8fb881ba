"""HTTP plumbing shared by HTTP providers: one place maps transport and status to the error tree."""

from __future__ import annotations

import json
from typing import Any

import httpx

from capwatch.errors import AuthRequired, BadResponse, CannotConnect, RateLimited, ServerError


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
    **kwargs: Any,
) -> httpx.Response:
    """Send a request; map transport failures, 401/403, 429 and 5xx onto the error tree.

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
        raise RateLimited(f"{where}: HTTP 429", retry_after=_retry_after(response))
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


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        from capwatch.models import utcnow

        return max((when - utcnow()).total_seconds(), 0.0)


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
