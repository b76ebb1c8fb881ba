"""Andrews & Arnold (AAISP): monthly quota from the CHAOS v2 API or from quota.aa.net.uk.

``mode = "chaos"`` POSTs the control login to ``{base_url}/broadband/quota`` and reads
``{"quota": [{"ID", "quota_monthly", "quota_remaining", "quota_timestamp"}]}``; bytes come as
strings or numbers, the timestamp is Europe/London wall time and ``quota_monthly`` 0 means no
quota. ``mode = "line"`` GETs ``{quota_url}/`` with ``Accept: application/json``: A&A picks the
line by the caller's address, so it only works from the line itself. A&A quotas run per calendar
month (Europe/London); used = monthly - remaining (remaining goes negative over quota).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo

import httpx
from pydantic import model_validator

from capwatch.analysis.cycles import CycleRule
from capwatch.errors import BadResponse, ConfigError, WrongPassword
from capwatch.models import Snapshot, utcnow
from capwatch.providers._http import json_body, send
from capwatch.providers._isputil import parse_local, strip_secrets, to_int, zone
from capwatch.providers.base import Provider, ProviderOptions
from capwatch.secrets import Secret, redact

SOURCE = "aaisp"
LONDON = "Europe/London"
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
_LOGIN_WORDS = ("login", "password", "authenticat", "credential", "not allowed", "access denied")


class AaispOptions(ProviderOptions):
    """Options of the A&A provider."""

    mode: Literal["chaos", "line"] = "chaos"
    username: str | None = None
    password: Secret | None = None
    login_kind: Literal["control", "account"] = "control"
    line: str | None = None
    sum_lines: bool = False
    base_url: str = "https://chaos2.aa.net.uk"
    quota_url: str = "https://quota.aa.net.uk"
    timezone: str = LONDON

    @model_validator(mode="after")
    def _check(self) -> AaispOptions:
        if self.mode == "chaos" and (not self.username or self.password is None):
            raise ValueError("mode 'chaos' needs username and password (the control login)")
        if self.line is not None and self.sum_lines:
            raise ValueError("set either line or sum_lines, not both")
        zone(self.timezone, "aaisp.timezone")
        return self


def parse_quota(
    payload: Any,
    *,
    line: str | None = None,
    sum_lines: bool = False,
    tz: ZoneInfo | None = None,
    now: datetime | None = None,
    secrets: Sequence[str] = (),
) -> Snapshot:
    """Turn a CHAOS ``broadband/quota`` answer into a Snapshot (pure); ``secrets`` are
    stripped from what it keeps."""
    tz = tz or ZoneInfo(LONDON)
    if not isinstance(payload, Mapping):
        raise BadResponse("CHAOS broadband/quota: expected a JSON object", payload=payload)
    _raise_chaos_error(payload)
    items = payload.get("quota")
    if not isinstance(items, list) or not items:
        what = "an empty line list" if isinstance(items, list) else "no 'quota' list"
        raise BadResponse(f"CHAOS broadband/quota: {what}", payload=payload)
    lines = [_read_line(item, i, tz) for i, item in enumerate(items)]
    chosen = _choose(lines, line=line, sum_lines=sum_lines)
    observed = min((ln.observed for ln in chosen if ln.observed), default=None) or (now or utcnow())
    unlimited = any(ln.monthly == 0 for ln in chosen)
    used = None if unlimited else sum(ln.used for ln in chosen)
    cap = None if unlimited else sum(ln.monthly for ln in chosen)
    cycle = CycleRule(None, tz).cycle_at(observed)
    return Snapshot(
        observed_at=observed,
        source=SOURCE,
        used_bytes=used,
        cap_bytes=cap,
        unlimited=unlimited,
        cycle_start=cycle.start,
        cycle_end=cycle.end,
        units="bytes",
        raw=strip_secrets(payload, secrets),
        lines={ln.id: ln.used for ln in lines if ln.monthly} if len(lines) > 1 else {},
    )


def parse_line_quota(
    payload: Any,
    *,
    tz: ZoneInfo | None = None,
    now: datetime | None = None,
    secrets: Sequence[str] = (),
) -> Snapshot:
    """Turn a quota.aa.net.uk JSON answer (the line's own quota, live) into a Snapshot (pure)."""
    tz = tz or ZoneInfo(LONDON)
    where = "quota.aa.net.uk"
    if not isinstance(payload, Mapping):
        raise BadResponse(f"{where}: expected a JSON object", payload=payload)
    _raise_chaos_error(payload)
    monthly_raw = payload.get("monthly_quota", payload.get("quota_monthly"))
    if monthly_raw is None or "quota_remaining" not in payload:
        raise BadResponse(f"{where}: monthly_quota or quota_remaining missing", payload=payload)
    monthly = to_int(monthly_raw, f"{where} monthly_quota")
    remaining = to_int(payload["quota_remaining"], f"{where} quota_remaining", allow_negative=True)
    observed = now or utcnow()
    cycle = CycleRule(None, tz).cycle_at(observed)
    unlimited = monthly == 0
    return Snapshot(
        observed_at=observed,
        source=SOURCE,
        used_bytes=None if unlimited else monthly - remaining,
        cap_bytes=None if unlimited else monthly,
        unlimited=unlimited,
        cycle_start=cycle.start,
        cycle_end=cycle.end,
        units="bytes",
        raw=strip_secrets(payload, secrets),
    )


class _Line:
    __slots__ = ("id", "monthly", "observed", "used")

    def __init__(self, id_: str, monthly: int, used: int, observed: datetime | None) -> None:
        self.id = id_
        self.monthly = monthly
        self.used = used
        self.observed = observed


def _read_line(item: Any, index: int, tz: ZoneInfo) -> _Line:
    where = f"CHAOS broadband/quota quota[{index}]"
    if not isinstance(item, Mapping):
        raise BadResponse(f"{where}: expected an object")
    id_ = str(item.get("ID") or item.get("id") or index)
    for key in ("quota_monthly", "quota_remaining"):
        if item.get(key) is None:
            raise BadResponse(f"{where} (line {id_}): {key} missing")
    monthly = to_int(item["quota_monthly"], f"{where}.quota_monthly")
    remaining = to_int(item["quota_remaining"], f"{where}.quota_remaining", allow_negative=True)
    stamp = item.get("quota_timestamp")
    observed = (
        parse_local(stamp, TIMESTAMP_FORMAT, tz, f"{where}.quota_timestamp") if stamp else None
    )
    return _Line(id_, monthly, monthly - remaining if monthly else 0, observed)


def _choose(lines: Sequence[_Line], *, line: str | None, sum_lines: bool) -> list[_Line]:
    ids = ", ".join(ln.id for ln in lines)
    if line is not None:
        found = [ln for ln in lines if ln.id == line]
        if not found:
            raise ConfigError(f"aaisp.line: no line {line!r} on this login (lines: {ids})")
        return found
    if sum_lines or len(lines) == 1:
        return list(lines)
    raise ConfigError(f"aaisp: this login has {len(lines)} lines ({ids}): set line or sum_lines")


def _raise_chaos_error(payload: Mapping[str, Any]) -> None:
    error = payload.get("error")
    if error is None:
        return
    message = str(error)[:200]
    if any(word in message.lower() for word in _LOGIN_WORDS):
        raise WrongPassword(f"CHAOS refused the login: {message}")
    raise BadResponse(f"CHAOS error: {message}", payload=dict(payload))


class AaispProvider(Provider[AaispOptions]):
    """Andrews & Arnold broadband quota (CHAOS v2 or the per-line quota page)."""

    name: ClassVar[str] = "aaisp"
    Options: ClassVar[type[ProviderOptions]] = AaispOptions
    min_interval_s: ClassVar[float] = 900.0
    default_interval_s: ClassVar[float] = 3600.0

    async def fetch(self, client: httpx.AsyncClient) -> Snapshot:
        """Fetch the current month's quota."""
        tz = zone(self.options.timezone, "aaisp.timezone")
        try:
            if self.options.mode == "line":
                snap = await self._fetch_line(client, tz)
            else:
                snap = await self._fetch_chaos(client, tz)
        except BadResponse as exc:
            raise BadResponse(redact(str(exc)), payload=_redact_payload(exc.payload)) from None
        except WrongPassword as exc:
            raise WrongPassword(redact(str(exc))) from None
        return snap

    async def _fetch_chaos(self, client: httpx.AsyncClient, tz: ZoneInfo) -> Snapshot:
        opts = self.options
        assert opts.username is not None and opts.password is not None
        user_key, pass_key = (
            ("control_login", "control_password")
            if opts.login_kind == "control"
            else ("account_number", "account_password")
        )
        password = opts.password.reveal()
        form = {user_key: opts.username, pass_key: password}
        response = await send(
            client,
            "POST",
            f"{opts.base_url.rstrip('/')}/broadband/quota",
            data=form,
            headers={"User-Agent": self.context.user_agent, "Accept": "application/json"},
        )
        return parse_quota(
            json_body(response),
            line=opts.line,
            sum_lines=opts.sum_lines,
            tz=tz,
            now=self.context.clock(),
            secrets=(password,),
        )

    async def _fetch_line(self, client: httpx.AsyncClient, tz: ZoneInfo) -> Snapshot:
        response = await send(
            client,
            "GET",
            f"{self.options.quota_url.rstrip('/')}/",
            headers={"User-Agent": self.context.user_agent, "Accept": "application/json"},
            follow_redirects=True,
        )
        return parse_line_quota(json_body(response), tz=tz, now=self.context.clock())


def _redact_payload(payload: Any) -> Any:
    if isinstance(payload, str):
        return redact(payload)
    return payload
