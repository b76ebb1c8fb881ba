"""The host's own interface counters, via psutil (a counter source).

Values are the kernel's raw byte counters (``psutil.net_io_counters(pernic=True,
nowrap=False)``): psutil's ``nowrap`` only adds up wraps seen by one process, so its totals fall
back whenever capwatch restarts, which would look like a reset. Raw values are the same in
every process; on Linux ``/proc/net/dev`` gives 64-bit counters, so samples carry width 64 and
:func:`capwatch.analysis.counters.advance` handles wraps, resets (an interface re-created, as a
PPP link does on reconnect) and reboots. The epoch is the boot time (whole seconds since the
Unix epoch, as Linux's ``btime``), so a reboot is told apart from a wrap.

Counters are keyed ``"<interface>:rx"`` and ``"<interface>:tx"``.
"""

from __future__ import annotations

import fnmatch
import ipaddress
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from capwatch.errors import BadResponse, ConfigError
from capwatch.models import CounterSample, Snapshot
from capwatch.providers.base import Provider, ProviderOptions

if TYPE_CHECKING:
    import httpx

SOURCE = "host"
DEFAULT_EXCLUDE = ["lo", "docker*", "veth*", "br-*", "virbr*"]
Direction = Literal["rx", "tx", "both"]


class HostOptions(ProviderOptions):
    """Options of the host provider."""

    interfaces: list[str] | None = None
    exclude: list[str] = Field(default_factory=lambda: list(DEFAULT_EXCLUDE))
    direction: Direction = "both"


def is_loopback(name: str, flags: str = "", addresses: tuple[str, ...] = ()) -> bool:
    """True when an interface is a loopback by name, psutil flags or addresses."""
    if name == "lo" or "loopback" in {f.strip() for f in flags.split(",")}:
        return True
    for text in addresses:
        try:
            if ipaddress.ip_address(text.split("%", 1)[0]).is_loopback:
                return True
        except ValueError:
            continue
    return False


def choose_interfaces(
    available: list[str],
    loopbacks: set[str],
    interfaces: list[str] | None,
    exclude: list[str],
) -> list[str]:
    """The interfaces to read: the configured ones (all must exist) or every non-loopback one."""
    if interfaces is not None:
        missing = [name for name in interfaces if name not in available]
        if missing:
            known = ", ".join(sorted(available)) or "none"
            raise ConfigError(
                f"host.interfaces: no interface named {', '.join(missing)} (found: {known})"
            )
        return list(dict.fromkeys(interfaces))
    return [
        name
        for name in sorted(available)
        if name not in loopbacks and not any(fnmatch.fnmatchcase(name, p) for p in exclude)
    ]


def samples_from(
    counters: Mapping[str, Any], names: list[str], direction: Direction, epoch: str
) -> tuple[CounterSample, ...]:
    """Counter samples from psutil's per-interface ``snetio`` tuples (pure)."""
    out: list[CounterSample] = []
    for name in names:
        io = counters[name]
        if direction in ("rx", "both"):
            out.append(CounterSample(f"{name}:rx", int(io.bytes_recv), 64, epoch))
        if direction in ("tx", "both"):
            out.append(CounterSample(f"{name}:tx", int(io.bytes_sent), 64, epoch))
    return tuple(out)


def _loopbacks() -> set[str]:
    import socket

    import psutil

    stats = psutil.net_if_stats()
    addrs = psutil.net_if_addrs()
    names = set(stats) | set(addrs)
    found = set()
    for name in names:
        flags = getattr(stats.get(name), "flags", "") or ""
        family_ok = (socket.AF_INET, socket.AF_INET6)
        texts = tuple(a.address for a in addrs.get(name, []) if a.family in family_ok)
        if is_loopback(name, flags, texts):
            found.add(name)
    return found


class HostProvider(Provider[HostOptions]):
    """Reads this machine's interface byte counters."""

    name: ClassVar[str] = SOURCE
    kind: ClassVar[Literal["meter", "counter"]] = "counter"
    Options: ClassVar[type[ProviderOptions]] = HostOptions
    default_interval_s: ClassVar[float] = 60.0
    min_interval_s: ClassVar[float] = 5.0

    def _names(self, counters: Mapping[str, Any]) -> list[str]:
        opts = self.options
        loopbacks = set() if opts.interfaces is not None else _loopbacks()
        return choose_interfaces(list(counters), loopbacks, opts.interfaces, opts.exclude)

    def read(self) -> Snapshot:
        """Read the counters now (synchronous; psutil calls are quick)."""
        import psutil

        counters = psutil.net_io_counters(pernic=True, nowrap=False)
        names = self._names(counters)
        if not names:
            raise BadResponse("host: no interface left to read after excluding loopbacks")
        epoch = str(int(psutil.boot_time()))
        samples = samples_from(counters, names, self.options.direction, epoch)
        raw = {"interfaces": names, "boot_time": epoch}
        return Snapshot(observed_at=self.context.clock(), source=SOURCE, counters=samples, raw=raw)

    async def fetch(self, client: httpx.AsyncClient) -> Snapshot:
        """Read the host's counters (the HTTP client is unused)."""
        return self.read()

    def prerequisites(self) -> list[str]:
        """Problems that stop this provider: configured interfaces that do not exist."""
        import psutil

        try:
            self._names(psutil.net_io_counters(pernic=True, nowrap=False))
        except ConfigError as exc:
            return [str(exc)]
        return []
