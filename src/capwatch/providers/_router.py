"""What the router counter providers (fritz, openwrt) share: the boot epoch and the samples.

A router's WAN byte counters start again from 0 when it boots, so each sample carries the boot
instant (``observed_at - uptime``, rounded to the minute) as its epoch, exactly as the SNMP
provider does: :func:`capwatch.analysis.counters.advance` then tells a reboot from a wrap, and a
counter that falls back within one boot (a PPPoE reconnect re-creating the device) is a reset.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from capwatch.models import CounterSample
from capwatch.providers.snmp import epoch_label, same_boot

Direction = Literal["rx", "tx", "both"]


class BootEpoch:
    """The epoch of a router's boot, kept steady against the rounding jitter of its uptime."""

    def __init__(self) -> None:
        self._boot: tuple[datetime, str] | None = None

    def label(self, observed_at: datetime, uptime_s: float) -> str:
        """The epoch for an uptime (seconds) read at ``observed_at``."""
        boot = observed_at - timedelta(seconds=uptime_s)
        if self._boot is not None and same_boot(self._boot[0], boot):
            return self._boot[1]
        label = epoch_label(boot)
        self._boot = (boot, label)
        return label


def wan_samples(
    name: str, rx: int, tx: int, direction: Direction, epoch: str, width: int = 64
) -> tuple[CounterSample, ...]:
    """Counter samples ``"<name>:rx"``/``":tx"`` for one WAN interface (pure)."""
    out: list[CounterSample] = []
    if direction in ("rx", "both"):
        out.append(CounterSample(f"{name}:rx", rx, width, epoch))
    if direction in ("tx", "both"):
        out.append(CounterSample(f"{name}:tx", tx, width, epoch))
    return tuple(out)
