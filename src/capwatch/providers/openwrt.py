"""An OpenWrt router's WAN byte counters over ubus JSON-RPC (``/ubus``), a counter source.

One ``session login`` (rpcd; the default user ``root``) gives a session id; then
``network.interface.<interface> status`` names the WAN device (``l3_device``, the PPPoE device
on a PPPoE line, else ``device``) unless ``device`` is configured, ``network.device status
{"name": device}`` gives its 64-bit ``statistics.rx_bytes``/``tx_bytes``, and ``system info``'s
``uptime`` dates the boot epoch (:mod:`capwatch.providers._router`). A PPPoE reconnect
re-creates ``pppoe-wan`` with counters from 0 within one boot: the counter logic counts that as a
reset.

The JSON-RPC is written here over httpx: it is four calls of one request shape
(``{"method": "call", "params": [sid, object, method, args]}``), and no maintained Python ubus
client exists to use instead.

Session expiry: rpcd answers ``result: [6]`` (UBUS_STATUS_PERMISSION_DENIED) or the JSON-RPC
error -32002 "Access denied" when the session has timed out (5 minutes unused by default); the
provider logs in again once and repeats the call, and a second refusal is AuthRequired. A
refused login is WrongPassword. The session id lives in memory only and is redacted from logs.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Literal

import httpx
from pydantic import field_validator

from capwatch.errors import AuthRequired, BadResponse, WrongPassword
from capwatch.models import Snapshot
from capwatch.providers._http import json_body, send
from capwatch.providers._isputil import to_int
from capwatch.providers._router import BootEpoch, Direction, wan_samples
from capwatch.providers.base import Provider, ProviderContext, ProviderOptions
from capwatch.secrets import Secret, redact, register_secret

SOURCE = "openwrt"
NULL_SESSION = "0" * 32
PERMISSION_DENIED = 6
ACCESS_DENIED = -32002
UBUS_STATUS = {
    1: "invalid command",
    2: "invalid argument",
    3: "method not found",
    4: "not found",
    5: "no data",
    6: "permission denied",
    7: "timeout",
    8: "not supported",
    9: "unknown error",
    10: "connection failed",
}


class OpenwrtOptions(ProviderOptions):
    """Options of the OpenWrt provider."""

    url: str = "http://openwrt.lan/ubus"
    """The router's ubus endpoint (uhttpd-mod-ubus): ``http://<router>/ubus``."""
    user: str = "root"
    password: Secret
    interface: str = "wan"
    """The logical interface whose device carries the internet traffic."""
    device: str | None = None
    """The Linux device to read (``pppoe-wan``, ``eth1``); omitted, the interface's device."""
    direction: Direction = "both"

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must be an http:// or https:// URL (got {value!r})")
        return value.rstrip("/")


class _Denied(Exception):
    """rpcd refused a call for want of a (live) session."""


def ubus_result(reply: Any, where: str) -> Mapping[str, Any]:
    """The data of a ubus JSON-RPC reply (pure): ``result[1]``; an error raises.

    Raises :class:`_Denied` for a refused session, BadResponse for anything else.
    """
    if not isinstance(reply, Mapping):
        raise BadResponse(f"{where}: expected a JSON-RPC object", payload=reply)
    error = reply.get("error")
    if isinstance(error, Mapping):
        if error.get("code") == ACCESS_DENIED:
            raise _Denied(where)
        raise BadResponse(
            f"{where}: JSON-RPC error {error.get('code')} {str(error.get('message'))[:100]}"
        )
    result = reply.get("result")
    if not isinstance(result, list) or not result or not isinstance(result[0], int):
        raise BadResponse(f"{where}: no JSON-RPC result [status, data]", payload=dict(reply))
    status = result[0]
    if status == PERMISSION_DENIED:
        raise _Denied(where)
    if status != 0:
        name = UBUS_STATUS.get(status, "unknown status")
        raise BadResponse(f"{where}: ubus status {status} ({name})")
    data = result[1] if len(result) > 1 else None
    if not isinstance(data, Mapping):
        raise BadResponse(f"{where}: the reply carries no data object", payload=dict(reply))
    return data


def ubus_where(name: str, url: str) -> str:
    """``<name> <host>[:<port>]``: an endpoint as messages name it (no path, no secrets)."""
    parsed = httpx.URL(url)
    return f"{name} {parsed.host}{':' + str(parsed.port) if parsed.port else ''}"


def wan_device(status: Mapping[str, Any], where: str) -> str:
    """The device of an interface status (pure): ``l3_device``, else ``device``."""
    for key in ("l3_device", "device"):
        value = status.get(key)
        if isinstance(value, str) and value:
            return value
    up = status.get("up")
    raise BadResponse(f"{where}: no l3_device or device (the interface is up: {up})")


def device_counters(status: Mapping[str, Any], where: str) -> tuple[int, int]:
    """(rx_bytes, tx_bytes) of a ``network.device status`` reply (pure)."""
    stats = status.get("statistics")
    if not isinstance(stats, Mapping):
        raise BadResponse(f"{where}: no statistics")
    missing = [k for k in ("rx_bytes", "tx_bytes") if k not in stats]
    if missing:
        raise BadResponse(f"{where}: statistics has no {' or '.join(missing)}")
    return (
        to_int(stats["rx_bytes"], f"{where} statistics.rx_bytes"),
        to_int(stats["tx_bytes"], f"{where} statistics.tx_bytes"),
    )


class UbusSession:
    """An rpcd session on one ``/ubus`` endpoint: login, calls, one re-login on expiry.

    Shared by the openwrt provider and the nlbw device source; ``acl_hint`` says what the
    user's rpcd ACL must allow when a fresh session is refused too.
    """

    def __init__(self, url: str, user: str, password: Secret, where: str, acl_hint: str) -> None:
        self.url = url
        self.user = user
        self.password = password
        self.where = where
        self.acl_hint = acl_hint
        self._sid: str | None = None
        self._ids = itertools.count(1)

    async def _post(
        self, client: httpx.AsyncClient, sid: str, obj: str, method: str, args: dict[str, Any]
    ) -> Mapping[str, Any]:
        where = f"{self.where}: {obj} {method}"
        body: dict[str, Any] = {"jsonrpc": "2.0", "id": next(self._ids), "method": "call"}
        body["params"] = [sid, obj, method, args]
        try:
            response = await send(client, "POST", self.url, json=body)
        except AuthRequired as exc:  # uhttpd itself refusing (403): no ubus session
            raise _Denied(where) from exc
        if response.status_code != 200:
            raise BadResponse(f"{where}: HTTP {response.status_code}")
        try:
            reply = json_body(response)
        except BadResponse as exc:
            detail = str(exc).split(": ", 1)[-1]
            raise BadResponse(f"{where}: {detail}", payload=exc.payload) from None
        return ubus_result(reply, where)

    async def _login(self, client: httpx.AsyncClient) -> str:
        args = {"username": self.user, "password": self.password.reveal()}
        try:
            data = await self._post(client, NULL_SESSION, "session", "login", args)
        except _Denied:
            raise WrongPassword(
                f"{self.where}: session login: rpcd refused user {self.user!r} "
                "(wrong password, or no rpcd login entry for the user)"
            ) from None
        sid = data.get("ubus_rpc_session")
        if not isinstance(sid, str) or not sid:
            raise BadResponse(f"{self.where}: session login: no ubus_rpc_session")
        register_secret(sid)
        self._sid = sid
        return sid

    async def call(
        self, client: httpx.AsyncClient, obj: str, method: str, args: dict[str, Any]
    ) -> Mapping[str, Any]:
        """One ubus call in the session; an expired session logs in again once."""
        sid = self._sid or await self._login(client)
        try:
            return await self._post(client, sid, obj, method, args)
        except _Denied:
            pass
        sid = await self._login(client)
        try:
            return await self._post(client, sid, obj, method, args)
        except _Denied:
            self._sid = None
            raise AuthRequired(
                f"{self.where}: {obj} {method}: access denied to a fresh session ({self.acl_hint})"
            ) from None


class OpenwrtProvider(Provider[OpenwrtOptions]):
    """Reads an OpenWrt router's WAN device counters over ubus HTTP."""

    name: ClassVar[str] = SOURCE
    kind: ClassVar[Literal["meter", "counter"]] = "counter"
    Options: ClassVar[type[ProviderOptions]] = OpenwrtOptions
    default_interval_s: ClassVar[float] = 60.0
    min_interval_s: ClassVar[float] = 10.0

    def __init__(self, options: OpenwrtOptions, context: ProviderContext) -> None:
        super().__init__(options, context)
        self._epoch = BootEpoch()
        self._session = UbusSession(
            options.url,
            options.user,
            options.password,
            self.where,
            "the user's rpcd ACL must allow network.device, network.interface and system",
        )

    @property
    def where(self) -> str:
        """The endpoint, as error messages name it."""
        return ubus_where("openwrt", self.options.url)

    async def call(
        self, client: httpx.AsyncClient, obj: str, method: str, args: dict[str, Any]
    ) -> Mapping[str, Any]:
        """One ubus call in the session; an expired session logs in again once."""
        return await self._session.call(client, obj, method, args)

    @classmethod
    def lan_choices(cls, targets: Sequence[str] | None = None) -> list[tuple[dict[str, Any], str]]:
        """For `capwatch init`: the routers whose ``/ubus`` answers JSON-RPC (a call with the
        anonymous session, which rpcd refuses or answers without a password) at ``targets``
        (``host[:port]``), else at openwrt.lan and the gateway."""
        from capwatch.providers._lanprobe import candidates, probe_each, split_host, url_host

        def ask(client: Any, target: str) -> tuple[dict[str, Any], str] | None:
            host, port = split_host(target)
            base = f"http://{url_host(host)}" + (f":{port}" if port else "")
            body = {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "call",
                "params": ["0" * 32, "session", "access", {}],
            }
            doc = client.post(f"{base}/ubus", json=body).json()
            if not isinstance(doc, dict) or doc.get("jsonrpc") != "2.0":
                return None
            return {"url": f"{base}/ubus"}, (
                f"{base}/ubus: OpenWrt's ubus answers (the WAN counters need a login, root by "
                "default)"
            )

        return probe_each(candidates(targets, ("openwrt.lan",)), ask)

    async def fetch(self, client: httpx.AsyncClient) -> Snapshot:
        """Log in (when needed) and read the WAN device's counters and the uptime."""
        opts = self.options
        try:
            device = opts.device
            if device is None:
                obj = f"network.interface.{opts.interface}"
                status = await self.call(client, obj, "status", {})
                device = wan_device(status, f"{self.where}: {obj} status")
            dev = await self.call(client, "network.device", "status", {"name": device})
            rx, tx = device_counters(dev, f"{self.where}: network.device status {device}")
            info = await self.call(client, "system", "info", {})
        except BadResponse as exc:
            raise BadResponse(redact(str(exc)), payload=exc.payload) from None
        if "uptime" not in info:
            raise BadResponse(f"{self.where}: system info: no uptime")
        uptime = to_int(info["uptime"], f"{self.where}: system info uptime")
        observed = self.context.clock()
        epoch = self._epoch.label(observed, uptime)
        samples = wan_samples(device, rx, tx, opts.direction, epoch)
        raw = {"device": device, "uptime_s": uptime, "rx_bytes": rx, "tx_bytes": tx}
        return Snapshot(observed_at=observed, source=SOURCE, counters=samples, raw=raw)
