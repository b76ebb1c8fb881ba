"""The ``unifi`` device source: each client's bytes from a UniFi Network application.

Through aiounifi (the client Home Assistant's UniFi integration uses): it tells a UniFi OS
console (``GET /`` answers 200; login at ``/api/auth/login``, the Network API under
``/proxy/network``) from a classic controller (``/`` redirects; login at ``/api/login``), keeps
the session cookie and CSRF token, and logs in again once when a call finds the session expired.
A local account is needed (a UI.com cloud account with two-factor login cannot be used).

Every ``interval_s`` it reads ``api/s/<site>/stat/sta``, the clients connected now, and counts
per client ``rx_bytes`` + ``tx_bytes`` (a wired client's ``wired-rx_bytes`` +
``wired-tx_bytes`` where the controller gives those). These are the counters of the client's
session, which starts at its ``assoc_time``: a new ``assoc_time`` is a new session whose counter
began at 0 (:mod:`capwatch.devices.polled` counts all of it).

Where the counters cannot see (the days of the cycle before the first read, whole days without a
read), the controller's daily per-client report fills in: see
:mod:`capwatch.devices.unifi_reports`. A controller without it (404, ``api.err.NotFound``) is
read for its counters only, after one log line.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Mapping, Sequence
from datetime import date
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo

from capwatch import devices as dev
from capwatch.devices import unifi_reports as rep
from capwatch.devices.polled import ClientReading, PolledSource
from capwatch.errors import (
    AuthRequired,
    BadResponse,
    CannotConnect,
    InputError,
    MissingExtra,
    ServerError,
    WrongPassword,
)
from capwatch.models import DeviceCounter, DeviceTraffic
from capwatch.providers._isputil import to_int
from capwatch.secrets import redact, register_secret

if TYPE_CHECKING:
    from capwatch.config.devices import UnifiSettings

SOURCE = "unifi"
log = logging.getLogger(__name__)


def _not_found(exc: BaseException) -> bool:
    """Whether aiounifi's error says the controller has no such endpoint."""
    text = str(exc)
    return "404 Not Found" in text or "api.err.NotFound" in text


def _bytes(client: Mapping[str, Any], where: str) -> int:
    """A client's session bytes: the wired counters of a wired client where given, else the
    ``rx_bytes``/``tx_bytes`` pair (missing counters are 0, as the controller omits them)."""
    names = ("rx_bytes", "tx_bytes")
    if client.get("is_wired") is True and any(f"wired-{n}" in client for n in names):
        names = ("wired-rx_bytes", "wired-tx_bytes")
    return sum(to_int(client.get(n, 0), f"{where} {n}") for n in names)


def parse_clients(reply: Any, where: str) -> list[ClientReading]:
    """Per-client counters of a ``stat/sta`` reply (pure); clients without an IP are left out
    (a device needs an address to be stored)."""
    data = reply.get("data") if isinstance(reply, Mapping) else None
    if not isinstance(data, list):
        raise BadResponse(f"{where}: stat/sta: no data list", payload=reply)
    out: dict[str, ClientReading] = {}
    for i, client in enumerate(data):
        place = f"{where}: stat/sta data[{i}]"
        if not isinstance(client, Mapping):
            raise BadResponse(f"{place}: not an object")
        try:
            mac = dev.normalize_mac(str(client.get("mac", "")), f"{place} mac")
        except InputError as exc:
            raise BadResponse(str(exc)) from None
        ip = client.get("ip")
        if not isinstance(ip, str) or not ip:
            continue
        try:
            address = dev.normalize_address(ip, f"{place} ip")
        except InputError as exc:
            raise BadResponse(str(exc)) from None
        assoc = client.get("assoc_time")
        mark = str(assoc) if isinstance(assoc, int) and not isinstance(assoc, bool) else None
        value = _bytes(client, place)
        out[mac] = ClientReading(mac, address, value, mac=mac, mark=mark)
    return list(out.values())


def _translate(exc: Exception, where: str) -> Exception:
    """A capwatch error for what aiounifi raised (no request bodies in the text)."""
    from aiounifi import errors as e

    name = type(exc).__name__
    if isinstance(exc, e.Unauthorized | e.LoginRequired):
        return WrongPassword(f"{where}: the login was refused (wrong user or password)")
    if isinstance(exc, e.TwoFaTokenRequired):
        return AuthRequired(f"{where}: the account asks for a two-factor code: use a local one")
    if isinstance(exc, e.Forbidden | e.NoPermission):
        return AuthRequired(f"{where}: the user may not read the clients ({name})")
    if isinstance(exc, e.ServiceUnavailable | e.BadGateway):
        return ServerError(f"{where}: the console answered {name} (restarting?)")
    if isinstance(exc, e.RequestError):
        return CannotConnect(f"{where}: cannot connect: {str(exc).rsplit(': ', 1)[-1][:200]}")
    return BadResponse(f"{where}: {name}")


class UnifiSource(PolledSource):
    """Reads a UniFi Network application's per-client counters (see the module docstring)."""

    name: ClassVar[str] = SOURCE
    settings: UnifiSettings

    def __init__(self, settings: UnifiSettings, store: Any, **kw: Any) -> None:
        super().__init__(settings, store, **kw)
        self._session: Any = None
        self._controller: Any = None
        self._no_reports = False
        self._zone: tuple[ZoneInfo | None] | None = None  # the controller's, once asked

    @property
    def where(self) -> str:
        """``host:port/site``."""
        s = self.settings
        return f"{s.host}:{s.port}/{s.site}"

    async def start(self) -> None:
        """Start polling; without aiounifi, one MissingExtra naming the extra instead."""
        if find_spec("aiounifi") is None:
            raise MissingExtra("unifi", "aiounifi")
        await super().start()

    async def _connect(self) -> Any:
        try:
            import aiohttp
            from aiounifi.controller import Controller
            from aiounifi.models.configuration import Configuration
        except ImportError:
            raise MissingExtra("unifi", "aiounifi") from None
        # aiounifi logs the login body (the password) and the session cookie at DEBUG, and a
        # refused login again at ERROR: a failed read is our one line (PolledSource.poll)
        logging.getLogger("aiounifi").setLevel(logging.CRITICAL)
        s = self.settings
        if self._session is None:
            timeout = aiohttp.ClientTimeout(total=s.timeout_s)
            # unsafe: keep the session cookie of a console addressed by its IP address
            jar = aiohttp.CookieJar(unsafe=True)
            self._session = aiohttp.ClientSession(cookie_jar=jar, timeout=timeout)
        password = s.password.reveal()
        register_secret(password)
        config = Configuration(
            self._session,
            s.host,
            username=s.user,
            password=password,
            port=s.port,
            site=s.site,
            ssl_context=ssl.create_default_context() if s.verify_tls else False,
        )
        controller = Controller(config)
        await controller.login()
        self._controller = controller
        return controller

    async def read(self) -> list[ClientReading]:
        """Log in (when needed) and read the connected clients' session counters."""
        try:
            from aiounifi.errors import AiounifiException
            from aiounifi.models.client import ClientListRequest
        except ImportError:
            raise MissingExtra("unifi", "aiounifi") from None
        try:
            controller = self._controller or await self._connect()
            reply = await controller.request(ClientListRequest.create())
        except AiounifiException as exc:
            self._controller = None
            raise _translate(exc, f"unifi {self.where}") from None
        except ValueError as exc:  # orjson: not JSON
            raise BadResponse(f"unifi {self.where}: stat/sta: not JSON ({exc})") from None
        return parse_clients(reply, f"unifi {self.where}")

    async def backfill(
        self,
        previous: Mapping[str, DeviceCounter],
        readings: Sequence[ClientReading],
        traffic: list[DeviceTraffic],
        state: list[DeviceCounter],
    ) -> tuple[list[DeviceTraffic], list[DeviceCounter], dict[str, Any]]:
        """Mark today as read and add the daily report of the days no read saw (see
        :mod:`capwatch.devices.unifi_reports`), under the source ``unifi:report``."""
        s = self.settings
        tz, cycle_first = await asyncio.to_thread(self.store.device_report_context, s.account)
        today = self.clock().astimezone(tz).date()
        state = [*state, rep.marker(today)]
        if not s.daily_reports or self._no_reports:
            return traffic, state, {}
        span = rep.days_to_fill(previous, today, cycle_first, s.daily_reports_days)
        if span is None:
            return traffic, state, {}
        try:
            report = await asyncio.wait_for(self._report(*span, tz), s.timeout_s)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if _not_found(exc):
                self._no_reports = True
                log.warning(
                    "unifi %s: the controller has no daily client reports (%s); counting the "
                    "session counters only",
                    self.where,
                    rep.PATH,
                )
            else:
                detail = redact(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
                log.warning(
                    "unifi %s: the daily report of %s..%s could not be read, those days stay "
                    "empty: %s",
                    self.where,
                    *span,
                    detail,
                )
            return traffic, state, {}
        traffic = rep.trim_gap(previous, readings, traffic, report, tz)
        rows = [(day, mac, n) for (day, mac), n in sorted(report.items())]
        return traffic, state, {"report_source": f"{self.name}:report", "report": rows}

    async def _report(self, first: date, last: date, tz: ZoneInfo) -> rep.Report:
        from aiounifi.errors import AiounifiException
        from aiounifi.models.api import ApiRequest

        where = f"unifi {self.where}"
        body = rep.request_body(first, last, tz)
        try:
            controller = self._controller or await self._connect()
            reply = await controller.request(ApiRequest("post", rep.PATH, body))
        except AiounifiException as exc:
            if _not_found(exc):
                raise
            self._controller = None
            raise _translate(exc, where) from None
        except ValueError as exc:
            raise BadResponse(f"{where}: daily.user: not JSON ({exc})") from None
        if self._zone is None:
            self._zone = (await self._controller_zone(controller),)
        return rep.parse_report(reply, tz, first, last, where, self._zone[0])

    async def _controller_zone(self, controller: Any) -> ZoneInfo | None:
        """The controller's zone from ``stat/sysinfo``; None (days by the 12-hour rule of
        :mod:`capwatch.devices.unifi_reports`) where it cannot say."""
        from aiounifi.errors import AiounifiException
        from aiounifi.models.system_information import SystemInformationRequest

        try:
            reply = await controller.request(SystemInformationRequest.create())
        except (AiounifiException, ValueError) as exc:
            log.info(
                "unifi %s: no time zone from stat/sysinfo (%s)", self.where, type(exc).__name__
            )
            return None
        return rep.controller_zone(reply)

    async def close(self) -> None:
        """Close the HTTP session."""
        self._controller = None
        if self._session is not None:
            await self._session.close()
            self._session = None
