"""An AVM FRITZ!Box's WAN byte counters over TR-064, via fritzconnection (a counter source).

Reads ``WANCommonIFC1`` ``GetAddonInfos``: ``NewX_AVM_DE_TotalBytesReceived64`` and
``NewX_AVM_DE_TotalBytesSent64``, the box's 64-bit WAN counters (the 32-bit ``NewTotalBytes*``
beside them wrap every 4 GiB and are not used), and ``DeviceInfo1`` ``GetInfo``'s ``NewUpTime``
for the boot epoch (see :mod:`capwatch.providers._router`): the counters start again from 0 when
the box boots. ``GetInfo`` needs the box's user and password (TR-064 digest login), so they are
required; both may be given by reference.

fritzconnection is synchronous (requests): each fetch runs it in a worker thread. Building a
``FritzConnection`` reads the box's descriptions (``tr64desc.xml``, ``igddesc.xml`` and every
service's SCPD), which takes a few seconds on a real box, so the provider keeps one per process
and builds a new one only after a failure.

Errors: no answer -> CannotConnect; 401 -> WrongPassword; TR-064 switched off, a missing
service (a box in IP-client mode has no WAN counters) or an unreadable answer -> BadResponse.
Messages name the box and the action, never the user or password.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from capwatch.errors import BadResponse, CannotConnect, MissingExtra, WrongPassword
from capwatch.models import Snapshot
from capwatch.providers._isputil import to_int
from capwatch.providers._router import BootEpoch, Direction, wan_samples
from capwatch.providers.base import Provider, ProviderContext, ProviderOptions
from capwatch.secrets import Secret, redact

if TYPE_CHECKING:
    import httpx

SOURCE = "fritz"
WAN_SERVICE = "WANCommonIFC1"
WAN_ACTION = "GetAddonInfos"
INFO_SERVICE = "DeviceInfo1"
INFO_ACTION = "GetInfo"
RX_64 = "NewX_AVM_DE_TotalBytesReceived64"
TX_64 = "NewX_AVM_DE_TotalBytesSent64"
COUNTER_KEY = "wan"


class FritzOptions(ProviderOptions):
    """Options of the FRITZ!Box provider."""

    host: str = "fritz.box"
    port: int | None = Field(default=None, ge=1, le=65535)
    """TR-064 port: 49000 (http) or, with ``use_tls``, 49443 (the box's ``GetSecurityPort``)."""
    use_tls: bool = False
    user: Secret | None = None
    """The FRITZ!Box user; omitted, fritzconnection takes the box's last logged-in user."""
    password: Secret
    timeout_s: float = Field(default=10.0, gt=0)
    direction: Direction = "both"


def read_counters(addon: Mapping[str, Any], info: Mapping[str, Any]) -> tuple[int, int, int]:
    """(received, sent, uptime in seconds) from ``GetAddonInfos`` and ``GetInfo`` (pure)."""
    missing = [k for k in (RX_64, TX_64) if addon.get(k) in (None, "")]
    if missing:
        raise BadResponse(
            f"fritz {WAN_SERVICE} {WAN_ACTION}: no {' or '.join(missing)} "
            "(FRITZ!OS before 6.x has only the 32-bit counters)",
            payload=dict(addon),
        )
    rx = to_int(addon[RX_64], f"fritz {WAN_ACTION} {RX_64}")
    tx = to_int(addon[TX_64], f"fritz {WAN_ACTION} {TX_64}")
    if info.get("NewUpTime") in (None, ""):
        raise BadResponse(f"fritz {INFO_SERVICE} {INFO_ACTION}: no NewUpTime")
    uptime = to_int(info["NewUpTime"], f"fritz {INFO_ACTION} NewUpTime")
    return rx, tx, uptime


def _line(exc: Exception) -> str:
    """An exception's text on one line, secrets out, at most 200 characters."""
    return " ".join(redact(str(exc)).split())[:200] or type(exc).__name__


class FritzProvider(Provider[FritzOptions]):
    """Reads a FRITZ!Box's 64-bit WAN byte counters over TR-064."""

    name: ClassVar[str] = SOURCE
    kind: ClassVar[Literal["meter", "counter"]] = "counter"
    Options: ClassVar[type[ProviderOptions]] = FritzOptions
    default_interval_s: ClassVar[float] = 60.0
    min_interval_s: ClassVar[float] = 10.0

    def __init__(self, options: FritzOptions, context: ProviderContext) -> None:
        super().__init__(options, context)
        self._connection: Any = None
        self._epoch = BootEpoch()

    @property
    def where(self) -> str:
        """The box, as error messages name it."""
        opts = self.options
        return f"fritz {opts.host}:{opts.port or (49443 if opts.use_tls else 49000)}"

    @classmethod
    def lan_choices(cls, targets: Sequence[str] | None = None) -> list[tuple[dict[str, Any], str]]:
        """For `capwatch init`: the FRITZ!Boxes that serve their TR-064 description (no password
        needed for it) at ``targets`` (``host[:port]``), else at fritz.box and the gateway."""
        from capwatch.providers._lanprobe import (
            candidates,
            probe_each,
            split_host,
            url_host,
            xml_field,
        )

        def ask(client: Any, target: str) -> tuple[dict[str, Any], str] | None:
            host, port = split_host(target)
            reply = client.get(f"http://{url_host(host)}:{port or 49000}/tr64desc.xml")
            model = xml_field(reply.text, "modelName") or xml_field(reply.text, "friendlyName")
            if reply.status_code != 200 or not model or "urn:dslforum-org" not in reply.text:
                return None
            options: dict[str, Any] = {"host": host} | ({"port": port} if port else {})
            return options, (
                f"{target}: {model} (TR-064 answers; its WAN counters need the box's user and "
                "password)"
            )

        return probe_each(candidates(targets, ("fritz.box",)), ask)

    def prerequisites(self) -> list[str]:
        """Problems that stop this provider: fritzconnection (the ``fritz`` extra) missing."""
        import importlib.util

        if importlib.util.find_spec("fritzconnection") is None:
            return [str(MissingExtra("fritz", "fritzconnection"))]
        return []

    def _connect(self) -> Any:
        try:
            from fritzconnection import FritzConnection
        except ImportError as exc:
            raise MissingExtra("fritz", "fritzconnection") from exc
        opts = self.options
        return FritzConnection(
            address=opts.host,
            port=opts.port,
            user=opts.user.reveal() if opts.user is not None else None,
            password=opts.password.reveal(),
            timeout=opts.timeout_s,
            use_tls=opts.use_tls,
        )

    def _call(self, service: str, action: str) -> Mapping[str, Any]:
        result: Mapping[str, Any] = self._connection.call_action(service, action)
        return result

    def read(self) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
        """Call ``GetAddonInfos`` and ``GetInfo`` (blocking; run it in a thread)."""
        what = "the descriptions (tr64desc.xml, igddesc.xml, SCPDs)"
        try:
            if self._connection is None:
                self._connection = self._connect()
            what = f"{WAN_SERVICE} {WAN_ACTION}"
            addon = self._call(WAN_SERVICE, WAN_ACTION)
            what = f"{INFO_SERVICE} {INFO_ACTION}"
            return addon, self._call(INFO_SERVICE, INFO_ACTION)
        except Exception as exc:
            self._connection = None
            raise self._translate(exc, what) from None

    def _translate(self, exc: Exception, what: str) -> Exception:
        """The error-tree exception for what fritzconnection or requests raised."""
        from xml.etree.ElementTree import ParseError

        import requests
        from fritzconnection.core import exceptions as fe

        where = f"{self.where}: {what}"
        if isinstance(exc, MissingExtra | BadResponse):
            return exc
        if isinstance(exc, requests.Timeout):
            return CannotConnect(f"{where}: timed out ({type(exc).__name__})")
        if isinstance(exc, requests.ConnectionError) or (
            isinstance(exc, fe.FritzConnectionException)
            and str(exc).startswith("Unable to get a connection")
        ):
            return CannotConnect(f"{where}: cannot connect (refused, unreachable or no route)")
        if isinstance(exc, fe.FritzAuthorizationError):
            return WrongPassword(f"{where}: the box refused the user or password (HTTP 401)")
        if isinstance(exc, fe.FritzServiceError | fe.FritzActionError):
            return BadResponse(
                f"{where}: the box does not offer it ({_line(exc)}); a box in IP-client mode "
                "has no WAN counters"
            )
        if isinstance(exc, ParseError):
            return BadResponse(f"{where}: the answer is not XML ({exc})")
        if isinstance(exc, fe.FritzConnectionException):
            return BadResponse(f"{where}: {_line(exc)}")
        return exc

    async def fetch(self, client: httpx.AsyncClient) -> Snapshot:
        """Read the WAN counters (the HTTP client is unused: fritzconnection has its own)."""
        addon, info = await asyncio.to_thread(self.read)
        observed = self.context.clock()
        rx, tx, uptime = read_counters(addon, info)
        epoch = self._epoch.label(observed, uptime)
        samples = wan_samples(COUNTER_KEY, rx, tx, self.options.direction, epoch)
        raw = {
            "model": str(info.get("NewModelName") or ""),
            "software": str(info.get("NewSoftwareVersion") or ""),
            "uptime_s": uptime,
            "received_64": rx,
            "sent_64": tx,
        }
        return Snapshot(observed_at=observed, source=SOURCE, counters=samples, raw=raw)
