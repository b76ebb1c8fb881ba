"""A router's interface counters over SNMP (IF-MIB), via pysnmp (a counter source).

Reads ``ifHCInOctets``/``ifHCOutOctets`` (64-bit) and falls back, per interface, to
``ifInOctets``/``ifOutOctets`` (32-bit) when the agent lacks them; SNMPv1 cannot carry 64-bit
counters, so it always reads the 32-bit ones. Interfaces are picked by ``ifName`` or ``ifDescr``;
by default every interface that is not a software loopback (``ifType`` 24).

The epoch is the boot instant, ``observed_at - uptime``, rounded to the minute. The uptime is
HOST-RESOURCES-MIB ``hrSystemUptime`` when the agent has it (the host's uptime, which survives
an agent restart that leaves the interface counters running) and ``sysUpTime`` otherwise. An
uptime that goes back is a reboot. Within one process, a boot instant within two minutes of the
last one (or one 2**32 ticks later: the uptime wraps after 497 days) keeps the last epoch, so
rounding jitter is never taken for a reboot.

Errors: no answer -> CannotConnect; v3 credentials refused -> AuthRequired; an SNMP error status
or a malformed answer -> BadResponse. Messages name the host and the OID, never the community.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, model_validator

from capwatch.errors import AuthRequired, BadResponse, CannotConnect, ConfigError, MissingExtra
from capwatch.models import CounterSample, Snapshot, utcnow
from capwatch.providers.base import Provider, ProviderContext, ProviderOptions
from capwatch.secrets import Secret

if TYPE_CHECKING:
    import httpx

SOURCE = "snmp"
SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
HR_SYSTEM_UPTIME = "1.3.6.1.2.1.25.1.1.0"
IF_DESCR = "1.3.6.1.2.1.2.2.1.2"
IF_TYPE = "1.3.6.1.2.1.2.2.1.3"
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
IF_IN_OCTETS = "1.3.6.1.2.1.2.2.1.10"
IF_OUT_OCTETS = "1.3.6.1.2.1.2.2.1.16"
IF_HC_IN_OCTETS = "1.3.6.1.2.1.31.1.1.1.6"
IF_HC_OUT_OCTETS = "1.3.6.1.2.1.31.1.1.1.10"
SOFTWARE_LOOPBACK = 24
TICKS_WRAP_S = 2**32 / 100.0
EPOCH_SLACK_S = 120.0
GET_CHUNK = 16
Direction = Literal["rx", "tx", "both"]
_MISSING = frozenset({"NoSuchObject", "NoSuchInstance", "EndOfMibView", "Null"})
_AUTH_INDICATIONS = (
    "unknownusername",
    "wrongdigest",
    "decryption",
    "unknownsecurityname",
    "unsupportedsecuritylevel",
    "authorization",
)


class SnmpOptions(ProviderOptions):
    """Options of the SNMP provider."""

    host: str
    port: int = Field(default=161, ge=1, le=65535)
    community: Secret = Field(default_factory=lambda: Secret.literal("public"))
    version: Literal["1", "2c", "3"] = "2c"
    interfaces: list[str] | None = None
    direction: Direction = "both"
    timeout_s: float = Field(default=2.0, gt=0)
    retries: int = Field(default=2, ge=0, le=10)
    user: str | None = None
    auth_key: Secret | None = None
    auth_protocol: Literal["md5", "sha", "sha224", "sha256", "sha384", "sha512"] = "sha"
    priv_key: Secret | None = None
    priv_protocol: Literal["des", "3des", "aes", "aes192", "aes256"] = "aes"

    @model_validator(mode="after")
    def _check(self) -> SnmpOptions:
        if self.version == "3" and not self.user:
            raise ValueError("snmp version 3 needs user")
        if self.priv_key is not None and self.auth_key is None:
            raise ValueError("snmp priv_key needs auth_key too")
        return self


@dataclass(frozen=True)
class IfRow:
    """One row of the interface table: index, name (ifName, else ifDescr) and ifType."""

    index: int
    name: str
    descr: str
    if_type: int | None


def choose_rows(rows: Sequence[IfRow], wanted: list[str] | None) -> list[IfRow]:
    """Rows to read: the named ones (by ifName or ifDescr) or every non-loopback one."""
    if wanted is None:
        return [r for r in rows if r.if_type != SOFTWARE_LOOPBACK]
    chosen: list[IfRow] = []
    missing: list[str] = []
    for name in wanted:
        match = [r for r in rows if name in (r.name, r.descr)]
        if not match:
            missing.append(name)
        chosen.extend(r for r in match if r not in chosen)
    if missing:
        known = ", ".join(r.name for r in rows) or "none"
        raise ConfigError(
            f"snmp.interfaces: no interface named {', '.join(missing)} (found: {known})"
        )
    return chosen


def boot_instant(observed_at: datetime, uptime_ticks: int) -> datetime:
    """The agent's boot instant from an uptime in TimeTicks (hundredths of a second)."""
    return observed_at - timedelta(seconds=uptime_ticks / 100.0)


def epoch_label(boot: datetime) -> str:
    """The epoch string of a boot instant, rounded to the minute."""
    rounded = datetime.fromtimestamp(round(boot.timestamp() / 60.0) * 60, boot.tzinfo)
    return "boot:" + rounded.isoformat()


def same_boot(a: datetime, b: datetime) -> bool:
    """True when two computed boot instants stand for the same boot (jitter or uptime wrap)."""
    gap = abs((a - b).total_seconds())
    wraps = round(gap / TICKS_WRAP_S)
    return abs(gap - wraps * TICKS_WRAP_S) <= EPOCH_SLACK_S


def _kind(value: Any) -> str:
    return type(value).__name__


def _int(value: Any, where: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise BadResponse(f"snmp: {where} is {_kind(value)}, not a number") from exc


def _text(value: Any) -> str:
    if hasattr(value, "asOctets"):
        value = bytes(value.asOctets())
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace").strip("\x00 ")
    return str(value)


def build_rows(
    descr: Mapping[int, Any], types: Mapping[int, Any], names: Mapping[int, Any]
) -> list[IfRow]:
    """Interface rows from walked ifDescr, ifType and ifName columns (pure)."""
    rows = []
    for index in sorted(descr):
        d = _text(descr[index])
        n = _text(names[index]) if index in names else ""
        t = types.get(index)
        rows.append(IfRow(index, n or d, d, None if t is None else _int(t, f"ifType.{index}")))
    return rows


class _Session:
    """One pysnmp engine, target and credentials for the duration of a fetch."""

    def __init__(self, opts: SnmpOptions) -> None:
        self.options = opts
        self.where = f"snmp {opts.host}:{opts.port}"
        try:
            from pysnmp.hlapi.v3arch import asyncio as hl
        except ImportError as exc:  # pragma: no cover - the extra is part of the test set
            raise MissingExtra("snmp", "pysnmp") from exc
        self.hl = hl
        self.engine = hl.SnmpEngine()
        self.target: Any = None

    def _auth(self) -> Any:
        hl, opts = self.hl, self.options
        if opts.version != "3":
            return hl.CommunityData(
                opts.community.reveal(), mpModel=0 if opts.version == "1" else 1
            )
        return _usm(hl, opts)

    async def open(self) -> None:
        from pysnmp.error import PySnmpError

        try:
            self.target = await self.hl.UdpTransportTarget.create(
                (self.options.host, self.options.port),
                timeout=self.options.timeout_s,
                retries=self.options.retries,
            )
        except PySnmpError as exc:
            raise CannotConnect(f"{self.where}: cannot resolve the host") from exc
        self.auth = self._auth()

    def close(self) -> None:
        self.engine.close_dispatcher()

    def _check(self, indication: Any, status: Any, index: Any, what: str) -> None:
        if indication:
            text = str(indication)
            if "timed out" in text.lower() or _kind(indication) == "RequestTimedOut":
                raise CannotConnect(f"{self.where}: no answer to {what}")
            if any(
                word in _kind(indication).lower() or word in text.lower()
                for word in _AUTH_INDICATIONS
            ):
                raise AuthRequired(f"{self.where}: credentials refused ({_kind(indication)})")
            raise BadResponse(f"{self.where}: {what}: {text}")
        if status:
            name = status.prettyPrint() if hasattr(status, "prettyPrint") else str(status)
            raise BadResponse(
                f"{self.where}: {what}: SNMP error {name} at varbind {int(index or 0)}"
            )

    async def get(self, oids: Sequence[str]) -> dict[str, Any]:
        """GET ``oids`` (in chunks); values keyed by dotted OID, noSuch* kept as found."""
        hl = self.hl
        out: dict[str, Any] = {}
        for start in range(0, len(oids), GET_CHUNK):
            chunk = oids[start : start + GET_CHUNK]
            binds = [hl.ObjectType(hl.ObjectIdentity(oid)) for oid in chunk]
            ind, status, index, result = await hl.get_cmd(
                self.engine, self.auth, self.target, hl.ContextData(), *binds, lookupMib=False
            )
            self._check(ind, status, index, f"GET {chunk[0]}")
            for name, value in result:
                out[str(name)] = value
        return out

    async def walk(self, column: str) -> dict[int, Any]:
        """Walk one table column; values keyed by the last sub-identifier (the ifIndex)."""
        hl = self.hl
        out: dict[int, Any] = {}
        prefix = column + "."
        walker = hl.walk_cmd(
            self.engine,
            self.auth,
            self.target,
            hl.ContextData(),
            hl.ObjectType(hl.ObjectIdentity(column)),
            lexicographicMode=False,
            lookupMib=False,
        )
        async for ind, status, index, result in walker:
            if status and self.options.version == "1" and str(status) == "noSuchName":
                break  # SNMPv1's end of the table
            self._check(ind, status, index, f"walk {column}")
            for name, value in result:
                oid = str(name)
                if not oid.startswith(prefix) or _kind(value) in _MISSING:
                    continue
                out[int(oid.rsplit(".", 1)[1])] = value
        return out


def _usm(hl: Any, opts: SnmpOptions) -> Any:
    auth = {
        "md5": hl.USM_AUTH_HMAC96_MD5,
        "sha": hl.USM_AUTH_HMAC96_SHA,
        "sha224": hl.USM_AUTH_HMAC128_SHA224,
        "sha256": hl.USM_AUTH_HMAC192_SHA256,
        "sha384": hl.USM_AUTH_HMAC256_SHA384,
        "sha512": hl.USM_AUTH_HMAC384_SHA512,
    }
    priv = {
        "des": hl.USM_PRIV_CBC56_DES,
        "3des": hl.USM_PRIV_CBC168_3DES,
        "aes": hl.USM_PRIV_CFB128_AES,
        "aes192": hl.USM_PRIV_CFB192_AES,
        "aes256": hl.USM_PRIV_CFB256_AES,
    }
    kwargs: dict[str, Any] = {}
    if opts.auth_key is not None:
        kwargs["authKey"] = opts.auth_key.reveal()
        kwargs["authProtocol"] = auth[opts.auth_protocol]
    if opts.priv_key is not None:
        kwargs["privKey"] = opts.priv_key.reveal()
        kwargs["privProtocol"] = priv[opts.priv_protocol]
    return hl.UsmUserData(opts.user, **kwargs)


async def read_rows(session: _Session) -> list[IfRow]:
    """Walk ifDescr, ifType and (when the agent has ifXTable) ifName."""
    descr = await session.walk(IF_DESCR)
    if not descr:
        raise BadResponse(f"{session.where}: the agent shows no interfaces (walk {IF_DESCR})")
    types = await session.walk(IF_TYPE)
    try:
        names = await session.walk(IF_NAME)
    except BadResponse:
        names = {}
    return build_rows(descr, types, names)


async def read_uptime(session: _Session) -> tuple[int, str]:
    """The host's uptime in TimeTicks (hrSystemUptime, else sysUpTime) and which one it was."""
    for oid, label in ((HR_SYSTEM_UPTIME, "hrSystemUptime"), (SYS_UPTIME, "sysUpTime")):
        try:
            value = (await session.get([oid])).get(oid)
        except BadResponse:
            continue  # SNMPv1 answers noSuchName for a whole GET
        if value is not None and _kind(value) not in _MISSING:
            return _int(value, label), label
    raise BadResponse(f"{session.where}: the agent has neither hrSystemUptime nor sysUpTime")


async def _read_pairs(
    session: _Session, rows: Sequence[IfRow], cols: tuple[str, str]
) -> dict[int, tuple[int, int]]:
    """GET two counter columns for ``rows``; rows the agent lacks are left out."""
    got = await session.get([f"{col}.{r.index}" for r in rows for col in cols])
    out: dict[int, tuple[int, int]] = {}
    for r in rows:
        rx, tx = (got.get(f"{col}.{r.index}") for col in cols)
        if not (rx is None or tx is None or _kind(rx) in _MISSING or _kind(tx) in _MISSING):
            out[r.index] = (_int(rx, f"{cols[0]}.{r.index}"), _int(tx, f"{cols[1]}.{r.index}"))
    return out


async def read_counters(
    session: _Session, rows: Sequence[IfRow], use_hc: bool
) -> dict[int, tuple[int, int, int]]:
    """Per ifIndex: (in octets, out octets, width); 64-bit where the agent has them."""
    out: dict[int, tuple[int, int, int]] = {}
    if use_hc:
        hc = await _read_pairs(session, rows, (IF_HC_IN_OCTETS, IF_HC_OUT_OCTETS))
        out.update((i, (rx, tx, 64)) for i, (rx, tx) in hc.items())
    todo = [r for r in rows if r.index not in out]
    if todo:
        low = await _read_pairs(session, todo, (IF_IN_OCTETS, IF_OUT_OCTETS))
        for r in todo:
            if r.index not in low:
                raise BadResponse(f"{session.where}: no octet counters for interface {r.name!r}")
            out[r.index] = (*low[r.index], 32)
    return out


def samples_from(
    rows: Sequence[IfRow],
    counters: Mapping[int, tuple[int, int, int]],
    direction: Direction,
    epoch: str,
) -> tuple[CounterSample, ...]:
    """Counter samples keyed ``"<ifName>:rx"``/``":tx"`` (``#<ifIndex>`` added to duplicates)."""
    seen = [r.name for r in rows]
    out: list[CounterSample] = []
    for r in rows:
        name = r.name if seen.count(r.name) == 1 else f"{r.name}#{r.index}"
        rx, tx, width = counters[r.index]
        if direction in ("rx", "both"):
            out.append(CounterSample(f"{name}:rx", rx, width, epoch))
        if direction in ("tx", "both"):
            out.append(CounterSample(f"{name}:tx", tx, width, epoch))
    return tuple(out)


class SnmpProvider(Provider[SnmpOptions]):
    """Reads a router's (or any SNMP agent's) interface octet counters."""

    name: ClassVar[str] = SOURCE
    kind: ClassVar[Literal["meter", "counter"]] = "counter"
    Options: ClassVar[type[ProviderOptions]] = SnmpOptions
    default_interval_s: ClassVar[float] = 60.0
    min_interval_s: ClassVar[float] = 10.0

    def __init__(self, options: SnmpOptions, context: ProviderContext) -> None:
        super().__init__(options, context)
        self._boot: tuple[datetime, str] | None = None

    def epoch_for(self, boot: datetime) -> str:
        """The epoch for a computed boot instant, kept steady against jitter and tick wraps."""
        if self._boot is not None and same_boot(self._boot[0], boot):
            return self._boot[1]
        label = epoch_label(boot)
        self._boot = (boot, label)
        return label

    def prerequisites(self) -> list[str]:
        """Problems that stop this provider: pysnmp (the ``snmp`` extra) missing."""
        import importlib.util

        if importlib.util.find_spec("pysnmp") is None:
            return [str(MissingExtra("snmp", "pysnmp"))]
        return []

    async def fetch(self, client: httpx.AsyncClient) -> Snapshot:
        """Read the chosen interfaces' counters (the HTTP client is unused)."""
        opts = self.options
        session = _Session(opts)
        try:
            await session.open()
            rows = choose_rows(await read_rows(session), opts.interfaces)
            if not rows:
                raise BadResponse(f"{session.where}: no interface left after skipping loopbacks")
            ticks, uptime_source = await read_uptime(session)
            boot = boot_instant(utcnow(), ticks)
            counters = await read_counters(session, rows, use_hc=opts.version != "1")
            observed = self.context.clock()
        finally:
            session.close()
        samples = samples_from(rows, counters, opts.direction, self.epoch_for(boot))
        raw = {
            "interfaces": [r.name for r in rows],
            "uptime_source": uptime_source,
            "widths": sorted({c.width for c in samples}),
        }
        return Snapshot(observed_at=observed, source=SOURCE, counters=samples, raw=raw)
