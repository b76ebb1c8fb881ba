"""vnStat's lifetime interface totals as counters (a counter source).

Runs ``vnstat --json`` (or reads an exported file) and takes ``traffic.total.rx/tx`` of each
interface. Two formats exist:

* ``jsonversion`` 1 (vnStat 1.x): interfaces named by ``id``, totals in KiB.
* ``jsonversion`` 2 (vnStat 2.x): interfaces named by ``name``, totals in bytes, ``created``
  and ``updated`` carry a Unix ``timestamp`` besides the date.

vnStat's own month rotation is ignored: the lifetime totals only grow, so each is a counter of
width 0 (never wraps) whose epoch is the interface's ``created`` date: a re-created database
starts a new epoch and is counted as a reset. With ``interface`` unset every interface in the
database is read; their counters add up in the cycle usage.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from capwatch.errors import BadResponse, CannotConnect, ConfigError
from capwatch.models import CounterSample, Snapshot
from capwatch.providers.base import Provider, ProviderOptions

if TYPE_CHECKING:
    import httpx

SOURCE = "vnstat"
KIB = 1024
Direction = Literal["rx", "tx", "both"]


class VnstatOptions(ProviderOptions):
    """Options of the vnStat provider."""

    command: list[str] = Field(default_factory=lambda: ["vnstat", "--json"], min_length=1)
    interface: str | None = None
    json_file: str | None = None
    direction: Direction = "both"
    timeout_s: float = Field(default=30.0, gt=0)


def _fail(message: str, payload: Any = None) -> BadResponse:
    return BadResponse(f"vnstat: {message}", payload=payload)


def parse_text(text: str) -> Any:
    """Decode vnStat's JSON output, raising BadResponse when it is not JSON."""
    if not text.strip():
        raise _fail("empty output, expected JSON")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(f"output is not JSON ({exc.msg} at line {exc.lineno})", text[:2000]) from exc


def _total(traffic: Any, field: str, where: str, scale: int) -> int:
    total = traffic.get("total") if isinstance(traffic, Mapping) else None
    value = total.get(field) if isinstance(total, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(f"{where}: traffic.total.{field} is not a non-negative integer")
    return value * scale


def _epoch(entry: Mapping[str, Any], where: str) -> str:
    created = entry.get("created")
    if isinstance(created, Mapping):
        stamp = created.get("timestamp")
        if isinstance(stamp, int) and not isinstance(stamp, bool):
            return f"created:{stamp}"
        date = created.get("date")
        if isinstance(date, Mapping) and all(
            isinstance(date.get(k), int) for k in ["year", "month", "day"]
        ):
            return f"created:{date['year']:04d}-{date['month']:02d}-{date['day']:02d}"
    raise _fail(f"{where}: no usable 'created' date")


def _version(payload: Mapping[str, Any]) -> int:
    version = str(payload.get("jsonversion", "")).strip()
    if version not in ("1", "2"):
        raise _fail(f"unknown jsonversion {version or 'missing'!r} (capwatch reads 1 and 2)")
    return int(version)


def parse_vnstat(
    payload: Any, *, interface: str | None = None, direction: Direction = "both"
) -> tuple[CounterSample, ...]:
    """Counter samples from a decoded ``vnstat --json`` document (pure)."""
    if not isinstance(payload, Mapping):
        raise _fail("expected a JSON object at the top", payload)
    version = _version(payload)
    entries = payload.get("interfaces")
    if not isinstance(entries, list):
        raise _fail("no 'interfaces' list", payload)
    if not entries:
        raise _fail("the database has no interfaces (add one with `vnstat --add -i IFACE`)")
    name_key, scale = ("id", KIB) if version == 1 else ("name", 1)
    named: dict[str, Mapping[str, Any]] = {}
    for i, entry in enumerate(entries):
        name = entry.get(name_key) if isinstance(entry, Mapping) else None
        if not isinstance(name, str) or not name:
            raise _fail(f"interfaces[{i}]: no {name_key!r}", payload)
        named[name] = entry
    if interface is not None and interface not in named:
        known = ", ".join(sorted(named))
        raise _fail(f"interface {interface!r} is not in the database (found: {known})")
    out: list[CounterSample] = []
    for name in [interface] if interface is not None else sorted(named):
        entry = named[name]
        epoch = _epoch(entry, f"interface {name!r}")
        for field in ("rx", "tx"):
            if direction in (field, "both"):
                value = _total(entry.get("traffic"), field, f"interface {name!r}", scale)
                out.append(CounterSample(f"{name}:{field}", value, 0, epoch))
    return tuple(out)


def _updated(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The ``updated`` stamp of each interface, for the snapshot's small raw record."""
    out: dict[str, Any] = {}
    for entry in payload.get("interfaces", []):
        if isinstance(entry, Mapping):
            name = entry.get("name", entry.get("id"))
            updated = entry.get("updated")
            if isinstance(name, str) and isinstance(updated, Mapping):
                out[name] = updated.get("timestamp", updated.get("date"))
    return out


async def run_command(command: list[str], timeout_s: float) -> str:
    """Run vnStat and return its standard output; map failures onto the error tree."""
    where = f"vnstat: {command[0]}"
    try:
        proc = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except FileNotFoundError as exc:
        raise ConfigError(f"vnstat.command: {command[0]!r} not found (install vnstat)") from exc
    except OSError as exc:
        raise ConfigError(f"vnstat.command: cannot run {command[0]!r}: {exc.strerror}") from exc
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout_s)
    except TimeoutError as exc:
        proc.kill()
        await proc.wait()
        raise CannotConnect(f"{where}: no answer within {timeout_s:g} s") from exc
    if proc.returncode != 0:
        first = next((ln for ln in err.decode(errors="replace").splitlines() if ln.strip()), "")
        raise _fail(f"{command[0]} exited with status {proc.returncode}: {first.strip()}")
    return out.decode(errors="replace")


class VnstatProvider(Provider[VnstatOptions]):
    """Reads vnStat's lifetime totals."""

    name: ClassVar[str] = SOURCE
    kind: ClassVar[Literal["meter", "counter"]] = "counter"
    Options: ClassVar[type[ProviderOptions]] = VnstatOptions
    default_interval_s: ClassVar[float] = 300.0
    min_interval_s: ClassVar[float] = 60.0

    async def _text(self) -> str:
        opts = self.options
        if opts.json_file is None:
            return await run_command(opts.command, opts.timeout_s)
        path = Path(opts.json_file).expanduser()
        try:
            return path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise _fail(f"cannot read json_file {str(path)!r}: {exc.strerror}") from exc

    async def fetch(self, client: httpx.AsyncClient) -> Snapshot:
        """Read vnStat's totals (the HTTP client is unused)."""
        return self.parse_reply(await self._text())

    reply_kind: ClassVar[str] = "the output of `vnstat --json`"

    def parse_reply(self, text: str) -> Snapshot:
        """Read saved ``vnstat --json`` output (the interface's lifetime counters)."""
        opts = self.options
        payload = parse_text(text)
        counters = parse_vnstat(payload, interface=opts.interface, direction=opts.direction)
        raw = {
            "vnstatversion": str(payload.get("vnstatversion", "")),
            "jsonversion": str(payload.get("jsonversion", "")),
            "updated": _updated(payload),
        }
        return Snapshot(observed_at=self.context.clock(), source=SOURCE, counters=counters, raw=raw)

    def prerequisites(self) -> list[str]:
        """Problems that stop this provider: the vnstat command or the export file missing."""
        import shutil

        opts = self.options
        if opts.json_file is not None:
            if not Path(opts.json_file).expanduser().is_file():
                return [f"vnstat.json_file: {opts.json_file!r} does not exist"]
            return []
        if shutil.which(opts.command[0]) is None:
            return [f"vnstat.command: {opts.command[0]!r} not found (install vnstat)"]
        return []
