"""A router's WAN byte counters over UPnP IGD, via async-upnp-client (a counter source).

Reads the Internet Gateway Device's ``WANCommonInterfaceConfig`` service: ``GetAddonInfos``'
64-bit ``NewX_AVM_DE_TotalBytesReceived64``/``Sent64`` where the device declares them (AVM's
IGD; preferred, they do not wrap), else ``GetTotalBytesReceived``/``GetTotalBytesSent``, plus
``GetCommonLinkProperties`` for the link's up- and downstream rates and the connection's
``GetStatusInfo`` uptime. The device description and every SOAP call go through
async-upnp-client (its parser and action calls) over the poll's httpx client.

Counter width: the standard counters are ``ui4`` (32 bits) and wrap every 4 GiB. miniupnpd
built without UPNP_STRICT sends the kernel's 64-bit value in the same field, so in ``auto``
mode a value past 2**32 - 1 (or a ``ui8`` declaration, or the AVM 64-bit pair) makes the
counter 64-bit; a signed ``i4`` some routers send is read modulo 2**32. Each sample carries the
link rate (rx: downstream, tx: upstream) and the uptime, so
:func:`capwatch.analysis.counters.counter_delta` tells a wrap from a reboot and
:func:`~capwatch.analysis.counters.long_gaps` flags a poll gap too long to count.

Errors: no answer -> CannotConnect; a SOAP fault, a description without WANCommonInterfaceConfig
or a malformed value -> BadResponse. Messages name the description URL's host and the action.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator

from capwatch.errors import BadResponse, CannotConnect, MissingExtra
from capwatch.models import CounterSample, Snapshot
from capwatch.providers.base import Provider, ProviderContext, ProviderOptions

if TYPE_CHECKING:
    import httpx

SOURCE = "upnp"
WANCIC = "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1"
CONNECTION_SERVICES = (
    "urn:schemas-upnp-org:service:WANIPConnection:2",
    "urn:schemas-upnp-org:service:WANIPConnection:1",
    "urn:schemas-upnp-org:service:WANPPPConnection:1",
)
AVM_RX64 = "NewX_AVM_DE_TotalBytesReceived64"
AVM_TX64 = "NewX_AVM_DE_TotalBytesSent64"
U32 = 1 << 32
DEFAULT_INTERVAL_S = 60.0
"""Keeps a 32-bit counter unambiguous up to 2**31 * 8 / 60 s = 286 Mbit/s; a faster link makes
the provider ask for a shorter interval (:meth:`UpnpProvider.interval_hint`)."""
HINT_MARGIN = 0.8
"""The interval asked for is this share of the longest unambiguous gap (scheduling jitter)."""


class UpnpOptions(ProviderOptions):
    """Options of the UPnP IGD provider."""

    location: str | None = None
    """The device description URL (``http://192.168.1.1:5000/rootDesc.xml``); None: SSDP."""
    ssdp_targets: list[str] = Field(default_factory=lambda: ["239.255.255.250:1900"])
    """Where discovery sends its M-SEARCH (``host:port``) when no location is given."""
    counter_bits: Literal["auto", "32", "64"] = "auto"
    link_rate_mbps: float | None = Field(default=None, gt=0)
    """The line's speed when the router reports none or a wrong one (both directions)."""
    timeout_s: float = Field(default=5.0, gt=0)

    @field_validator("location")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("http", "https"):
            raise ValueError("upnp.location must be an http:// URL of the device description")
        return value


@dataclass(frozen=True)
class IgdCounters:
    """What one reading of a gateway's WANCommonInterfaceConfig gave."""

    received: int
    sent: int
    width: int
    action: str
    up_bps: int | None = None
    down_bps: int | None = None
    uptime_s: int | None = None
    link_status: str | None = None
    model: str = ""


def counter_value(raw: Any, what: str) -> int:
    """A counter from a SOAP value: an int, negative (a signed i4) read modulo 2**32."""
    if isinstance(raw, bool) or raw is None:
        raise BadResponse(f"upnp: {what} is {type(raw).__name__}, not a number")
    try:
        value = int(raw)
    except (TypeError, ValueError) as exc:
        raise BadResponse(f"upnp: {what} is {raw!r}, not a number") from exc
    if value < 0:
        if value < -(1 << 31):
            raise BadResponse(f"upnp: {what} is {value}, below any 32-bit counter")
        value %= U32
    return value


def counter_width(
    bits: str, values: Sequence[int], declared: Sequence[str | None], wide: bool
) -> int:
    """32 or 64: the option when set, else 64 for the AVM pair, a ui8 declaration or a value
    past 32 bits."""
    if bits != "auto":
        return int(bits)
    if wide or any(t in ("ui8", "i8") for t in declared) or any(v >= U32 for v in values):
        return 64
    return 32


def check_not_stuck(values: Mapping[str, int], where: str) -> None:
    """Refuse a 32-bit counter stuck at 2**32 - 1: some routers (Compal, OnHub, EdgeRouter,
    UniFi) saturate there instead of wrapping, and a counter that no longer moves would read
    as no traffic at all."""
    stuck = [name for name, value in values.items() if value == U32 - 1]
    if stuck:
        raise BadResponse(
            f"{where}: {', '.join(stuck)} stuck at 4294967295 (2**32 - 1): this router stops "
            "its 32-bit counter instead of wrapping, so UPnP cannot meter it until it reboots"
        )


def samples_from(
    reading: IgdCounters, link_rate_bps: float | None = None
) -> tuple[CounterSample, ...]:
    """The two WAN counters ``wan:rx``/``wan:tx``, each with its direction's rate and the uptime."""
    mask = (1 << reading.width) - 1
    down = link_rate_bps or reading.down_bps or None
    up = link_rate_bps or reading.up_bps or None
    uptime = None if reading.uptime_s is None else float(reading.uptime_s)
    return (
        CounterSample("wan:rx", reading.received & mask, reading.width, "", down, uptime),
        CounterSample("wan:tx", reading.sent & mask, reading.width, "", up, uptime),
    )


def _library() -> Any:
    try:
        import async_upnp_client.client as client
    except ImportError as exc:  # pragma: no cover - the extra is part of the test set
        raise MissingExtra("upnp", "async-upnp-client") from exc
    return client


def make_requester(client: httpx.AsyncClient, timeout_s: float) -> Any:
    """An async-upnp-client requester that sends its requests through ``client``."""
    import httpx
    from async_upnp_client.client import UpnpRequester
    from async_upnp_client.const import HttpRequest, HttpResponse
    from async_upnp_client.exceptions import UpnpConnectionError, UpnpConnectionTimeoutError

    class HttpxRequester(UpnpRequester):
        async def async_http_request(self, http_request: HttpRequest) -> HttpResponse:
            try:
                resp = await client.request(
                    http_request.method,
                    http_request.url,
                    headers=dict(http_request.headers),
                    content=http_request.body,
                    timeout=http_request.timeout or timeout_s,
                )
            except httpx.TimeoutException as exc:
                raise UpnpConnectionTimeoutError(repr(exc)) from exc
            except httpx.HTTPError as exc:
                raise UpnpConnectionError(repr(exc)) from exc
            return HttpResponse(resp.status_code, dict(resp.headers), resp.text)

    return HttpxRequester()


async def load_device(requester: Any, location: str) -> Any:
    """The gateway's device tree from its description URL (async-upnp-client's parser)."""
    from async_upnp_client.client_factory import UpnpFactory

    return await UpnpFactory(requester, non_strict=True).async_create_device(location)


def _service(device: Any, types: Sequence[str]) -> Any | None:
    for wanted in types:
        for dev in device.all_devices:
            service = dev.services.get(wanted)
            if service is not None:
                return service
    return None


def _declared(service: Any, variable: str) -> str | None:
    sv = service.state_variables.get(variable)
    return None if sv is None else str(sv.data_type)


async def _call(service: Any, name: str, where: str) -> Mapping[str, Any]:
    from async_upnp_client.exceptions import UpnpConnectionError, UpnpError

    try:
        result: Mapping[str, Any] = await service.action(name).async_call()
    except UpnpConnectionError as exc:
        raise CannotConnect(f"{where}: no answer to {name}") from exc
    except (UpnpError, ValueError, KeyError) as exc:
        raise BadResponse(f"{where}: {name} failed: {type(exc).__name__}: {exc}") from exc
    return result


async def _link(wancic: Any, where: str) -> tuple[int | None, int | None, str | None]:
    if "GetCommonLinkProperties" not in wancic.actions:
        return None, None, None
    try:
        props = await _call(wancic, "GetCommonLinkProperties", where)
    except BadResponse:
        return None, None, None
    rates = []
    for key in ("NewLayer1UpstreamMaxBitRate", "NewLayer1DownstreamMaxBitRate"):
        try:
            rates.append(int(props.get(key) or 0) or None)
        except (TypeError, ValueError):
            rates.append(None)
    status = props.get("NewPhysicalLinkStatus")
    return rates[0], rates[1], None if status is None else str(status)


async def _uptime(device: Any, where: str) -> int | None:
    conn = _service(device, CONNECTION_SERVICES)
    if conn is None or "GetStatusInfo" not in conn.actions:
        return None
    try:
        info = await _call(conn, "GetStatusInfo", where)
        return int(info["NewUptime"])
    except (BadResponse, KeyError, TypeError, ValueError):
        return None  # some routers send no or a malformed uptime: wraps are then told by value


async def read_counters(device: Any, where: str, bits: str = "auto") -> IgdCounters:
    """Read the gateway's WAN byte counters, link rates and uptime (one SOAP call each)."""
    wancic = _service(device, (WANCIC,))
    if wancic is None:
        raise BadResponse(f"{where}: the device has no WANCommonInterfaceConfig service")
    addon = wancic.actions.get("GetAddonInfos")
    wide = addon is not None and {AVM_RX64, AVM_TX64} <= {a.name for a in addon.out_arguments()}
    rx = tx = None
    action = "GetTotalBytesReceived/GetTotalBytesSent"
    if wide:
        infos = await _call(wancic, "GetAddonInfos", where)
        if infos.get(AVM_RX64) not in (None, "") and infos.get(AVM_TX64) not in (None, ""):
            rx = counter_value(infos[AVM_RX64], f"{where}: {AVM_RX64}")
            tx = counter_value(infos[AVM_TX64], f"{where}: {AVM_TX64}")
            action = "GetAddonInfos"
        else:
            wide = False
    if rx is None or tx is None:
        for name in ("GetTotalBytesReceived", "GetTotalBytesSent"):
            if name not in wancic.actions:
                raise BadResponse(f"{where}: WANCommonInterfaceConfig has no {name}")
        got = await _call(wancic, "GetTotalBytesReceived", where)
        rx = counter_value(got.get("NewTotalBytesReceived"), f"{where}: NewTotalBytesReceived")
        got = await _call(wancic, "GetTotalBytesSent", where)
        tx = counter_value(got.get("NewTotalBytesSent"), f"{where}: NewTotalBytesSent")
    declared = [_declared(wancic, "TotalBytesReceived"), _declared(wancic, "TotalBytesSent")]
    width = counter_width(bits, (rx, tx), declared, wide)
    if width == 32:
        check_not_stuck({"NewTotalBytesReceived": rx, "NewTotalBytesSent": tx}, where)
    up, down, status = await _link(wancic, where)
    uptime = await _uptime(device, where)
    info = device.device_info
    model = " ".join(x for x in (info.manufacturer, info.model_name) if x)
    return IgdCounters(rx, tx, width, action, up, down, uptime, status, model)


class UpnpProvider(Provider[UpnpOptions]):
    """Reads a UPnP Internet Gateway Device's WAN byte counters."""

    name: ClassVar[str] = SOURCE
    kind: ClassVar[Literal["meter", "counter"]] = "counter"
    Options: ClassVar[type[ProviderOptions]] = UpnpOptions
    default_interval_s: ClassVar[float] = DEFAULT_INTERVAL_S
    min_interval_s: ClassVar[float] = 5.0

    def __init__(self, options: UpnpOptions, context: ProviderContext) -> None:
        super().__init__(options, context)
        self._found: str | None = None
        self._hint: float | None = None

    def interval_hint(self) -> float | None:
        """A shorter interval than the default when the last reading's link is faster than
        the default keeps a 32-bit counter unambiguous at (0.8 of the longest gap)."""
        return self._hint

    @classmethod
    def lan_choices(cls, targets: Sequence[str] | None = None) -> list[tuple[dict[str, Any], str]]:
        """For `capwatch init`: the gateways that answer an M-SEARCH to ``targets`` (the SSDP
        group when None: run by a person at home, never by the tests), each as its options and
        a line saying what it reports."""
        import asyncio

        from capwatch.providers.upnp_discovery import SSDP_MULTICAST, parse_target, survey

        where = [parse_target(t) for t in targets] if targets else [SSDP_MULTICAST]
        found = asyncio.run(survey(where))
        return [({"location": gw.location}, f"{gw.location}: {report}") for gw, report in found]

    def prerequisites(self) -> list[str]:
        """Problems that stop this provider: async-upnp-client (the ``upnp`` extra) missing."""
        import importlib.util

        if importlib.util.find_spec("async_upnp_client") is None:
            return [str(MissingExtra("upnp", "async-upnp-client"))]
        return []

    def interval_advice(self, interval_s: float) -> str:
        """What a poll interval keeps unambiguous, for doctor and the docs."""
        top = (1 << 31) * 8 / interval_s / 1e6
        return (
            f"polling every {interval_s:g} s keeps a 32-bit UPnP counter unambiguous up to "
            f"{top:,.0f} Mbit/s; on a faster link `capwatch serve` polls more often by itself "
            "unless poll_interval is set"
        )

    async def _location(self) -> str:
        if self.options.location:
            return self.options.location
        if self._found is None:
            from capwatch.providers.upnp_discovery import IGD_SEARCH_TARGETS, discover, parse_target

            targets = [parse_target(t) for t in self.options.ssdp_targets]
            found = await discover(targets, IGD_SEARCH_TARGETS, timeout_s=2.0)
            if not found:
                where = ", ".join(self.options.ssdp_targets)
                raise CannotConnect(f"upnp: no Internet Gateway Device answered M-SEARCH ({where})")
            self._found = found[0].location
        return self._found

    async def fetch(self, client: httpx.AsyncClient) -> Snapshot:
        """Read the gateway's counters through async-upnp-client over ``client``."""
        _library()
        from async_upnp_client.exceptions import UpnpConnectionError, UpnpError

        location = await self._location()
        where = f"upnp {urlsplit(location).netloc}"
        requester = make_requester(client, self.options.timeout_s)
        try:
            device = await load_device(requester, location)
        except UpnpConnectionError as exc:
            self._found = None
            raise CannotConnect(f"{where}: no answer from the device description") from exc
        except (UpnpError, ValueError) as exc:
            raise BadResponse(f"{where}: unreadable device description: {exc}") from exc
        reading = await read_counters(device, where, self.options.counter_bits)
        observed = self.context.clock()
        rate = None if self.options.link_rate_mbps is None else self.options.link_rate_mbps * 1e6
        samples = samples_from(reading, rate)
        from capwatch.analysis.counters import safe_interval_s

        safe = [safe_interval_s(s.width, s.max_rate_bps) for s in samples]
        shortest = min((s for s in safe if s is not None), default=None)
        if shortest is not None and shortest * HINT_MARGIN < self.default_interval_s:
            self._hint = max(shortest * HINT_MARGIN, self.min_interval_s)
        else:
            self._hint = None
        raw = {
            "location": location,
            "model": reading.model,
            "action": reading.action,
            "width": reading.width,
            "link_up_bps": reading.up_bps,
            "link_down_bps": reading.down_bps,
            "link_status": reading.link_status,
            "uptime_s": reading.uptime_s,
            "safe_interval_s": shortest,
        }
        return Snapshot(observed_at=observed, source=SOURCE, counters=samples, raw=raw)
