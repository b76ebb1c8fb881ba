"""Read usage with httpx and a stored session (no browser), and interpret what came back.

:func:`get_usage` does the one request; :func:`interpret` is a pure function of the exchange
(status, location, body) so odd answers are tested on recorded payloads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from capwatch.errors import (
    AuthRequired,
    BadResponse,
    CannotConnect,
    RateLimited,
    ServerError,
)
from capwatch.models import Snapshot
from capwatch.providers._http import response_retry_after
from capwatch.providers.xfinity.pages import PageKind, classify_html, error_for, login_hint
from capwatch.providers.xfinity.parse import (
    is_unsupported_plan,
    parse_usage_json,
    unlimited_snapshot,
)
from capwatch.providers.xfinity.parse_graphql import parse_usage_graphql
from capwatch.providers.xfinity.session import XfinitySession

USAGE_PATH = "/apis/csp/account/me/services/internet/usage"
GRAPHQL_OPERATION = "InternetDataUsage"
GRAPHQL_QUERY = (
    "query InternetDataUsage { accountByServiceAccountId { internet { usage { "
    "inPaidOverage courtesy { totalAllowableCourtesy usedCourtesy remainingCourtesy } "
    "monthlyUsage { policy month year startDate endDate daysRemaining "
    "currentUsage { value unit } allowableUsage { value unit } "
    "overage overageCharge maximumOverageCharge courtesyCredit } } } } }"
)
_LOGIN_MARKERS = ("/login", "/oauth", "/auth")


@dataclass(frozen=True, slots=True)
class Exchange:
    """One request and its answer, as much as interpretation and diagnostics need."""

    shape: str  # "json" | "graphql"
    method: str
    url_path: str
    status: int
    location: str | None
    content_type: str
    text: str
    response: httpx.Response | None = None


def usage_url(customer_base_url: str, path: str = USAGE_PATH) -> str:
    """The customer API's usage URL (``path`` is the ``usage_path`` option; a full URL wins)."""
    if path.startswith(("http://", "https://")):
        return path
    query = "" if "?" in path else "?filter=internet"
    return customer_base_url.rstrip("/") + "/" + path.lstrip("/") + query


async def _send(
    client: httpx.AsyncClient, method: str, url: str, *, shape: str, **kwargs: Any
) -> Exchange:
    path = httpx.URL(url).path
    try:
        response = await client.request(method, url, follow_redirects=False, **kwargs)
    except httpx.TimeoutException as exc:
        raise CannotConnect(f"xfinity: timed out: {method} {path}") from exc
    except httpx.TransportError as exc:
        raise CannotConnect(
            f"xfinity: cannot connect: {method} {path}: {type(exc).__name__}"
        ) from exc
    return Exchange(
        shape=shape,
        method=method,
        url_path=path,
        status=response.status_code,
        location=response.headers.get("location"),
        content_type=response.headers.get("content-type", ""),
        text=response.text,
        response=response,
    )


async def get_usage(
    client: httpx.AsyncClient,
    session: XfinitySession,
    *,
    shape: str,
    customer_base_url: str,
    graphql_url: str,
    user_agent: str,
    usage_path: str = USAGE_PATH,
    now: float,
) -> Exchange:
    """Ask for usage in ``shape`` ("json" or "graphql") with the session's cookies/token
    (the cookies live at ``now``, a Unix time)."""
    headers = {"User-Agent": user_agent, "Accept": "application/json"}
    if shape == "graphql":
        url = graphql_url
        if session.bearer_token:
            headers["Authorization"] = f"Bearer {session.bearer_token}"
        body = {"operationName": GRAPHQL_OPERATION, "variables": {}, "query": GRAPHQL_QUERY}
    else:
        url = usage_url(customer_base_url, usage_path)
        body = None
    cookie = session.cookie_header(url, now=now)
    if cookie:
        headers["Cookie"] = cookie
    if body is None:
        return await _send(client, "GET", url, shape=shape, headers=headers)
    return await _send(client, "POST", url, shape=shape, headers=headers, json=body)


def _is_login_redirect(location: str) -> bool:
    path = httpx.URL(location).path.lower()
    return any(path.startswith(m) or f"{m}/" in path for m in _LOGIN_MARKERS)


def _status_error(ex: Exchange, account: str, now: datetime) -> Exception | None:
    where = f"{ex.method} {ex.url_path}"
    kind = classify_html(ex.text) if ex.text.lstrip().startswith("<") else PageKind.OTHER
    if 300 <= ex.status < 400:
        if ex.location and _is_login_redirect(ex.location):
            return AuthRequired(
                f"xfinity: session expired (redirected to sign-in): {login_hint(account)}"
            )
        target = httpx.URL(ex.location or "").path or "?"
        return BadResponse(f"xfinity: {where}: unexpected redirect ({ex.status}) to {target}")
    if ex.status in (401, 403):
        if kind in (PageKind.ACCESS_DENIED, PageKind.SECURITY_CHECK):
            return error_for(kind, account=account, where=where)
        return AuthRequired(f"xfinity: session expired (HTTP {ex.status}): {login_hint(account)}")
    if ex.status == 429:
        retry = response_retry_after(ex.response, lambda: now) if ex.response else None
        return RateLimited(f"xfinity: {where}: HTTP 429", retry_after=retry)
    if ex.status >= 500:
        return ServerError(f"xfinity: {where}: HTTP {ex.status}")
    return None


def interpret(ex: Exchange, *, account: str, tz: ZoneInfo, observed_at: datetime) -> Snapshot:
    """Turn an exchange into a Snapshot, or raise the error it stands for."""
    err = _status_error(ex, account, observed_at)
    if err is not None:
        raise err
    where = f"{ex.method} {ex.url_path}"
    if is_unsupported_plan(ex.status, ex.text):
        return unlimited_snapshot(observed_at=observed_at, message=ex.text)
    if ex.text.lstrip().startswith("<"):
        kind = classify_html(ex.text)
        if kind is PageKind.OTHER:
            raise BadResponse(f"xfinity: {where}: expected JSON, got HTML", payload=ex.text[:20000])
        if kind in (PageKind.LOGIN_USERNAME, PageKind.LOGIN_PASSWORD):
            raise AuthRequired(f"xfinity: session expired (sign-in page): {login_hint(account)}")
        raise error_for(kind, account=account, where=where)
    if ex.status != 200:
        raise BadResponse(f"xfinity: {where}: HTTP {ex.status}", payload=ex.text[:20000])
    try:
        payload = json.loads(ex.text)
    except ValueError:
        kind_text = "an empty body" if not ex.text.strip() else "not JSON"
        raise BadResponse(
            f"xfinity: {where}: expected JSON, got {kind_text}", payload=ex.text[:20000]
        ) from None
    if ex.shape == "graphql":
        return parse_usage_graphql(payload, tz=tz, observed_at=observed_at)
    return parse_usage_json(payload, tz=tz, observed_at=observed_at)
