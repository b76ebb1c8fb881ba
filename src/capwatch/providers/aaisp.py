"""Andrews & Arnold (AAISP): monthly quota from the CHAOS v2 API or from quota.aa.net.uk.

``mode = "chaos"`` POSTs the control login to ``{base_url}/broadband/quota`` and reads
``{"quota": [{"ID", "quota_monthly", "quota_remaining", "quota_timestamp"}]}``; bytes come as
strings or numbers, the timestamp is Europe/London wall time and ``quota_monthly`` 0 means no
quota. ``mode = "line"`` GETs ``{quota_url}/`` with ``Accept: application/json``: A&A picks the
line by the caller's address, so it only works from the line itself. A&A quotas run per calendar
month (Europe/London); used = monthly - remaining (remaining goes negative over quota).

Real replies (tests/data/real/aaisp) show ``quota_remaining`` above ``quota_monthly``: A&A's
quota bonus (part of last month's unused quota) and top-ups carry forward, so this month's
allowance is monthly plus a credit the reply does not state. The provider keeps the highest
remaining it has seen in the cycle (``aaisp-quota.json`` in the account's directory): the
month's allowance is ``max(monthly, that highest remaining)``, and used is allowance minus
remaining. Seen from the month's first poll that is exact; first seen mid-month, used counts
from then (a lower bound), and a top-up raises the allowance without touching used.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo

import httpx
from pydantic import model_validator

from capwatch.analysis.cycles import CycleRule
from capwatch.errors import BadResponse, ConfigError, WrongPassword
from capwatch.models import Snapshot, utcnow
from capwatch.providers._http import json_body, json_text, send
from capwatch.providers._isputil import parse_local, strip_secrets, to_int, zone
from capwatch.providers.base import Provider, ProviderOptions
from capwatch.secrets import Secret, redact

log = logging.getLogger(__name__)

SOURCE = "aaisp"
LONDON = "Europe/London"
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
_LOGIN_WORDS = (
    "login",
    "password",
    "authenticat",
    "authoris",  # "Control authorisation failed": A&A's real answer to a bad password
    "authoriz",
    "credential",
    "not allowed",
    "access denied",
)
CREDIT_FILE = "aaisp-quota.json"


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
    credit: Mapping[str, int] | None = None,
) -> Snapshot:
    """Turn a CHAOS ``broadband/quota`` answer into a Snapshot (pure); ``secrets`` are
    stripped from what it keeps. ``credit``: the highest remaining seen this cycle per line
    (see the module docs); the Snapshot's ``raw["highest_remaining"]`` is the updated map."""
    tz = tz or ZoneInfo(LONDON)
    if not isinstance(payload, Mapping):
        raise BadResponse("CHAOS broadband/quota: expected a JSON object", payload=payload)
    _raise_chaos_error(payload)
    items = payload.get("quota")
    if not isinstance(items, list) or not items:
        what = "an empty line list" if isinstance(items, list) else "no 'quota' list"
        raise BadResponse(f"CHAOS broadband/quota: {what}", payload=payload)
    lines = [_read_line(item, i, tz, credit or {}) for i, item in enumerate(items)]
    chosen = _choose(lines, line=line, sum_lines=sum_lines)
    observed = min((ln.observed for ln in chosen if ln.observed), default=None) or (now or utcnow())
    unlimited = any(ln.monthly == 0 for ln in chosen)
    used = None if unlimited else sum(ln.used for ln in chosen)
    cap = None if unlimited else sum(ln.allowance for ln in chosen)
    cycle = CycleRule(None, tz).cycle_at(observed)
    kept = {"quota": items}  # not the envelope: it echoes the control login
    return Snapshot(
        observed_at=observed,
        source=SOURCE,
        used_bytes=used,
        cap_bytes=cap,
        unlimited=unlimited,
        cycle_start=cycle.start,
        cycle_end=cycle.end,
        units="bytes",
        raw={
            **strip_secrets(kept, secrets),
            "highest_remaining": {ln.id: ln.highest for ln in lines if ln.monthly},
        },
        lines={ln.id: ln.used for ln in lines if ln.monthly} if len(lines) > 1 else {},
    )


def parse_line_quota(
    payload: Any,
    *,
    tz: ZoneInfo | None = None,
    now: datetime | None = None,
    secrets: Sequence[str] = (),
    credit: Mapping[str, int] | None = None,
) -> Snapshot:
    """Turn a quota.aa.net.uk JSON answer (the line's own quota, live) into a Snapshot (pure);
    ``credit`` as for :func:`parse_quota` (its key is ``"line"``)."""
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
    highest = max(remaining, (credit or {}).get("line", remaining))
    allowance = max(monthly, highest)
    return Snapshot(
        observed_at=observed,
        source=SOURCE,
        used_bytes=None if unlimited else allowance - remaining,
        cap_bytes=None if unlimited else allowance,
        unlimited=unlimited,
        cycle_start=cycle.start,
        cycle_end=cycle.end,
        units="bytes",
        raw={**strip_secrets(payload, secrets), "highest_remaining": {"line": highest}},
    )


class _Line:
    __slots__ = ("allowance", "highest", "id", "monthly", "observed", "used")

    def __init__(
        self, id_: str, monthly: int, remaining: int, highest: int, observed: datetime | None
    ) -> None:
        self.id = id_
        self.monthly = monthly
        self.highest = highest
        self.allowance = max(monthly, highest) if monthly else 0
        self.used = self.allowance - remaining if monthly else 0
        self.observed = observed


def _read_line(item: Any, index: int, tz: ZoneInfo, credit: Mapping[str, int]) -> _Line:
    where = f"CHAOS broadband/quota quota[{index}]"
    if not isinstance(item, Mapping):
        raise BadResponse(f"{where}: expected an object")
    id_ = str(item.get("ID") or item.get("id") or index)
    missing = [k for k in ("quota_monthly", "quota_remaining") if item.get(k) is None]
    if len(missing) == 2:  # a line without a quota (unlimited plans list no quota keys)
        return _Line(id_, 0, 0, 0, None)
    if missing:
        raise BadResponse(f"{where} (line {id_}): {missing[0]} missing")
    monthly = to_int(item["quota_monthly"], f"{where}.quota_monthly")
    remaining = to_int(item["quota_remaining"], f"{where}.quota_remaining", allow_negative=True)
    stamp = item.get("quota_timestamp")
    observed = (
        parse_local(stamp, TIMESTAMP_FORMAT, tz, f"{where}.quota_timestamp") if stamp else None
    )
    highest = max(remaining, credit.get(id_, remaining))
    return _Line(id_, monthly, remaining, highest, observed)


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
        credit = self._load_credit(tz)
        try:
            if self.options.mode == "line":
                snap = await self._fetch_line(client, tz, credit)
            else:
                snap = await self._fetch_chaos(client, tz, credit)
        except BadResponse as exc:
            raise BadResponse(redact(str(exc)), payload=_redact_payload(exc.payload)) from None
        except WrongPassword as exc:
            raise WrongPassword(redact(str(exc))) from None
        self._save_credit(snap)
        return snap

    def _load_credit(self, tz: ZoneInfo) -> dict[str, int]:
        """The highest remaining seen per line in the current cycle (empty in a new one)."""
        import json

        path = self.context.account_dir / CREDIT_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        start = CycleRule(None, tz).cycle_at(self.context.clock()).start
        if not isinstance(data, dict) or data.get("cycle_start") != start.isoformat():
            return {}
        highest = data.get("highest_remaining")
        if not isinstance(highest, dict):
            return {}
        return {str(k): int(v) for k, v in highest.items() if isinstance(v, int)}

    def _save_credit(self, snap: Snapshot) -> None:
        import json

        from capwatch.fsutil import write_atomic

        highest = (snap.raw or {}).get("highest_remaining")
        if snap.cycle_start is None or not isinstance(highest, dict):
            return
        data = {"cycle_start": snap.cycle_start.isoformat(), "highest_remaining": highest}
        try:
            write_atomic(self.context.account_dir / CREDIT_FILE, json.dumps(data).encode())
        except OSError as exc:  # a full disk must not fail the poll; next time counts from here
            log.warning("aaisp: could not keep the quota credit: %s", exc.strerror or exc)

    reply_kind: ClassVar[str] = (
        "CHAOS v2's /broadband/quota JSON, or the line quota page's JSON (mode = \"line\")"
    )

    def parse_reply(self, text: str) -> Snapshot:
        """Read a saved quota answer in the account's mode."""
        tz = zone(self.options.timezone, "aaisp.timezone")
        payload = json_text(text, "A&A reply")
        if self.options.mode == "line":
            return parse_line_quota(payload, tz=tz, now=self.context.clock())
        opts = self.options
        return parse_quota(
            payload, line=opts.line, sum_lines=opts.sum_lines, tz=tz, now=self.context.clock()
        )

    async def _fetch_chaos(
        self, client: httpx.AsyncClient, tz: ZoneInfo, credit: dict[str, int]
    ) -> Snapshot:
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
            credit=credit,
        )

    async def _fetch_line(
        self, client: httpx.AsyncClient, tz: ZoneInfo, credit: dict[str, int]
    ) -> Snapshot:
        response = await send(
            client,
            "GET",
            f"{self.options.quota_url.rstrip('/')}/",
            headers={"User-Agent": self.context.user_agent, "Accept": "application/json"},
            follow_redirects=True,
        )
        return parse_line_quota(json_body(response), tz=tz, now=self.context.clock(), credit=credit)


def _redact_payload(payload: Any) -> Any:
    if isinstance(payload, str):
        return redact(payload)
    return payload
