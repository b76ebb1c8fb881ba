"""Device sources, found through the ``capwatch.device_sources`` entry-point group.

A device source is built as ``cls(settings, store, clock=...)`` from its ``[[device_sources]]``
table (``kind`` names the entry point) and has ``async start()`` and ``async stop()``; the
built-in ``netflow`` collector and the polled ``unifi`` and ``nlbw`` sources
(:mod:`capwatch.devices.polled`) register the same way a third party's source would.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Protocol

from capwatch.errors import ConfigError
from capwatch.models import utcnow

if TYPE_CHECKING:
    from capwatch.config import Settings
    from capwatch.store.api import Store

ENTRY_POINT_GROUP = "capwatch.device_sources"


class DeviceSource(Protocol):
    """What `capwatch serve` runs for one ``[[device_sources]]`` table."""

    name: str

    async def start(self) -> None:
        """Begin counting (bind sockets, start timers)."""

    async def stop(self) -> None:
        """Stop counting and store what was counted."""


def load_device_source_class(kind: str) -> Any:
    """The class registered for ``kind`` (ConfigError naming the known kinds otherwise)."""
    found = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    if kind not in found:
        known = ", ".join(sorted(found)) or "none"
        raise ConfigError(f"device_sources: unknown kind {kind!r} (installed: {known})")
    return found[kind].load()


def load_device_sources(
    settings: Settings, store: Store, *, clock: Callable[[], datetime] = utcnow
) -> list[DeviceSource]:
    """One source per ``[[device_sources]]`` table, not yet started."""
    return [
        load_device_source_class(src.kind)(src, store, clock=clock)
        for src in settings.device_sources
    ]
