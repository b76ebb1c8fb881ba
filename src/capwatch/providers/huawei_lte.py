"""A Huawei LTE/5G router's own month counters, via huawei-lte-api (a meter source).

``monitoring/month_statistics`` is the router's meter of the month: ``CurrentMonthDownload`` +
``CurrentMonthUpload`` bytes since ``MonthLastClearTime`` (the day the router last cleared them:
its own month reset, or a clear by hand). ``monitoring/start_date`` is the router's data plan:
``StartDay`` (the day of the month it resets), ``DataLimit`` ("200GB", "500MB") and
``SetMonthData`` (1 when the plan is switched on). Like an ISP's meter, the snapshot carries the
usage, the router's cycle (from ``StartDay``) and, when the plan is on, its limit as the cap, so
an account with ``cap = "provider"`` takes both from the router.

The router's reset: just after the cycle boundary the router may not have cleared yet
(``MonthLastClearTime`` before the cycle's start): for up to two days the figure is then the
previous cycle's final one and is reported for that cycle, never for the new one; later than
that the router's counter is not this cycle's at all, which is a BadResponse saying so. A clear
by hand within the cycle makes the figure count from that day (an undercount; raw says so).

huawei-lte-api is synchronous (requests): each fetch logs in (``/api/webserver/SesTokInfo`` or
the home page's csrf tokens, ``/api/user/state-login``, ``/api/user/login``), reads the two
endpoints and logs out, in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator

from capwatch.analysis.cycles import CycleRule
from capwatch.errors import (
    AuthRequired,
    BadResponse,
    CannotConnect,
    MissingExtra,
    ServerError,
    WrongPassword,
)
from capwatch.models import Snapshot
from capwatch.providers._isputil import to_int
from capwatch.providers.base import Provider, ProviderOptions
from capwatch.secrets import Secret, redact

if TYPE_CHECKING:
    import httpx

SOURCE = "huawei_lte"
_LIMIT_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?B)\s*$", re.IGNORECASE)
RESET_GRACE = timedelta(days=2)
"""How long after a cycle boundary a figure from before the router's own reset is taken as the
previous cycle's final one (routers reset on their own clock, some only when next online)."""
_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}


class HuaweiLteOptions(ProviderOptions):
    """Options of the Huawei LTE provider."""

    url: str = "http://192.168.8.1/"
    user: str = "admin"
    password: Secret
    timeout_s: float = Field(default=15.0, gt=0)
    count_upload: bool = True
    """Used = download + upload (the router's own month total); false: download only."""

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must be an http:// or https:// URL (got {value!r})")
        return value.rstrip("/") + "/"


def data_limit(text: Any, where: str) -> int:
    """Bytes of a router data limit ("200GB", "500MB", "0MB"); the router counts in 1024s."""
    match = _LIMIT_RE.match(str(text or ""))
    if match is None:
        raise BadResponse(f"{where}: DataLimit {str(text)[:20]!r} is not a size like 200GB")
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def _clear_date(text: Any, where: str) -> date | None:
    if text in (None, ""):
        return None
    try:
        year, month, day = (int(p) for p in str(text).strip().split("-"))
        return date(year, month, day)
    except ValueError:
        raise BadResponse(f"{where}: MonthLastClearTime {str(text)[:20]!r} is not a date") from None


def parse_month(
    month: Mapping[str, Any],
    plan: Mapping[str, Any],
    *,
    now: datetime,
    tz: ZoneInfo,
    count_upload: bool = True,
) -> Snapshot:
    """The router's month figure, cycle and cap from ``month_statistics`` and ``start_date``
    (pure)."""
    where = "huawei_lte monitoring/month_statistics"
    missing = [k for k in ("CurrentMonthDownload", "CurrentMonthUpload") if k not in month]
    if missing:
        raise BadResponse(f"{where}: no {' or '.join(missing)}", payload=dict(month))
    down = to_int(month["CurrentMonthDownload"], f"{where} CurrentMonthDownload")
    up = to_int(month["CurrentMonthUpload"], f"{where} CurrentMonthUpload")
    cleared = _clear_date(month.get("MonthLastClearTime"), where)
    pwhere = "huawei_lte monitoring/start_date"
    if plan.get("StartDay") in (None, ""):
        raise BadResponse(f"{pwhere}: no StartDay", payload=dict(plan))
    start_day = to_int(plan["StartDay"], f"{pwhere} StartDay")
    if not 1 <= start_day <= 31:
        raise BadResponse(f"{pwhere}: StartDay {start_day} is not a day of the month")
    rule = CycleRule(start_day, tz)
    cycle = rule.cycle_at(now)
    pending = False
    start_date = cycle.start.astimezone(tz).date()
    if cleared is not None and cleared < start_date:
        if now - cycle.start > RESET_GRACE:
            raise BadResponse(
                f"{where}: the router last cleared its month counters on {cleared.isoformat()}, "
                f"before this cycle began ({start_date.isoformat()}, StartDay {start_day}): its "
                "figure is not this cycle's (has the router's own month reset stopped?)",
                payload=dict(month),
            )
        pending = True  # the router has not made its own month reset yet
        cycle = rule.preceding(cycle)
    plan_on = str(plan.get("SetMonthData", "0")).strip() == "1"
    cap = data_limit(plan.get("DataLimit"), pwhere) if plan_on else 0
    since_clear = cleared is not None and cleared > cycle.start.astimezone(tz).date()
    raw = {
        "month_statistics": dict(month),
        "start_date": dict(plan),
        "reset_pending": pending,
        "counted_since": cleared.isoformat() if since_clear and cleared else None,
    }
    return Snapshot(
        observed_at=now,
        source=SOURCE,
        used_bytes=down + up if count_upload else down,
        cap_bytes=cap or None,
        cycle_start=cycle.start,
        cycle_end=cycle.end,
        units="bytes",
        raw=raw,
    )


class HuaweiLteProvider(Provider[HuaweiLteOptions]):
    """Reads a Huawei LTE/5G router's month counters and data plan."""

    name: ClassVar[str] = SOURCE
    kind: ClassVar[Literal["meter", "counter"]] = "meter"
    Options: ClassVar[type[ProviderOptions]] = HuaweiLteOptions
    default_interval_s: ClassVar[float] = 300.0
    min_interval_s: ClassVar[float] = 60.0

    @property
    def where(self) -> str:
        """The router, as error messages name it."""
        return f"huawei_lte {self.options.url.split('//', 1)[-1].rstrip('/')}"

    @classmethod
    def lan_choices(cls, targets: Sequence[str] | None = None) -> list[tuple[dict[str, Any], str]]:
        """For `capwatch init`: the Huawei routers whose web API hands out a session token (as
        it does to anyone, before the login) at ``targets`` (``host[:port]``), else at
        192.168.8.1 (their default) and the gateway."""
        from capwatch.providers._lanprobe import candidates, probe_each, split_host, url_host

        def ask(client: Any, target: str) -> tuple[dict[str, Any], str] | None:
            host, port = split_host(target)
            base = f"http://{url_host(host)}" + (f":{port}" if port else "")
            reply = client.get(f"{base}/api/webserver/SesTokInfo")
            if reply.status_code != 200 or "<SesInfo>" not in reply.text:
                return None
            return {"url": f"{base}/"}, (
                f"{base}/: a Huawei LTE/5G router's web API answers (its month counters need "
                "the admin password)"
            )

        return probe_each(candidates(targets, ("192.168.8.1",)), ask)

    def prerequisites(self) -> list[str]:
        """Problems that stop this provider: huawei-lte-api (the extra) missing."""
        import importlib.util

        if importlib.util.find_spec("huawei_lte_api") is None:
            return [str(MissingExtra("huawei_lte", "huawei-lte-api"))]
        return []

    def read(self) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
        """Log in, read month_statistics and start_date, log out (blocking: run in a thread)."""
        try:
            from huawei_lte_api.Client import Client
            from huawei_lte_api.Connection import Connection
        except ImportError as exc:
            raise MissingExtra("huawei_lte", "huawei-lte-api") from exc
        # the library logs the password at DEBUG when it connects; keep its debug lines out
        logging.getLogger("huawei_lte_api").setLevel(logging.INFO)
        opts = self.options
        what = "login"
        try:
            with Connection(
                opts.url,
                username=opts.user,
                password=opts.password.reveal(),
                timeout=opts.timeout_s,
            ) as connection:
                client = Client(connection)
                what = "monitoring/month_statistics"
                month = client.monitoring.month_statistics()
                what = "monitoring/start_date"
                plan = client.monitoring.start_date()
        except Exception as exc:
            raise self._translate(exc, what) from None
        return month, plan

    def _translate(self, exc: Exception, what: str) -> Exception:
        """The error-tree exception for what huawei-lte-api or requests raised."""
        import requests
        from huawei_lte_api import exceptions as he

        where = f"{self.where}: {what}"
        text = " ".join(redact(str(exc)).split())[:200]
        if isinstance(exc, MissingExtra | BadResponse):
            return exc
        if isinstance(exc, requests.Timeout):
            return CannotConnect(f"{where}: timed out")
        if isinstance(exc, requests.ConnectionError):
            return CannotConnect(f"{where}: cannot connect (refused, unreachable or no route)")
        if isinstance(exc, requests.HTTPError):
            status = exc.response.status_code if exc.response is not None else 0
            if status >= 500:
                return ServerError(f"{where}: HTTP {status}")
            return BadResponse(f"{where}: HTTP {status}")
        if isinstance(exc, he.LoginErrorUsernamePasswordOverrunException):
            return AuthRequired(f"{where}: too many failed logins, the router locked the login")
        if isinstance(
            exc,
            he.LoginErrorPasswordWrongException
            | he.LoginErrorUsernameWrongException
            | he.LoginErrorUsernamePasswordWrongException,
        ):
            return WrongPassword(f"{where}: the router refused the user or password ({text})")
        if isinstance(exc, he.ResponseErrorLoginRequiredException):
            return AuthRequired(f"{where}: the router wants a login ({text})")
        if isinstance(exc, he.ResponseErrorNotSupportedException):
            return BadResponse(f"{where}: the router does not offer it ({text})")
        if isinstance(exc, he.ResponseErrorException):
            return BadResponse(f"{where}: router error {text}")
        if type(exc).__name__ == "ExpatError":
            return BadResponse(f"{where}: the answer is not XML ({text})")
        return exc

    async def fetch(self, client: httpx.AsyncClient) -> Snapshot:
        """The router's month figure, its cycle and (when its plan is on) its data limit."""
        month, plan = await asyncio.to_thread(self.read)
        return parse_month(
            month,
            plan,
            now=self.context.clock(),
            tz=self.context.timezone,
            count_upload=self.options.count_upload,
        )


__all__ = ["HuaweiLteOptions", "HuaweiLteProvider", "data_limit", "parse_month"]
