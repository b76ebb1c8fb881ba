"""The shared base of *polled* device sources: read cumulative per-client byte counters from a
router or controller every ``interval_s``, turn them into deltas, and store the deltas and the
new counter state in one transaction.

How a reading becomes bytes (:func:`counter_deltas`, pure):

- The very first read of a source (no stored state at all) is a baseline: nothing from before
  capwatch watched is counted.
- A client seen before: the growth since its last value.
- A new run of the counter (the device names its run with a *mark*: a UniFi session's start,
  an nlbwmon period; a new mark is a counter from 0): the whole new value.
- A counter that went down within one run: a reset to 0 (reconnect, router restart) counts the
  whole new value; a source whose drop means "restored from an older copy" (nlbwmon after a
  reboot) takes the new value as the baseline instead (``drop="baseline"``), so nothing is
  counted twice.
- A client not seen before by a source that was already watched: it appeared since the last
  read, so its whole value is new.

The state lives in the store (``device_counters``), written with the deltas, so a restart of
capwatch neither loses nor double-counts: a delta is stored exactly when its state is. A read
that fails is logged in one line (secrets redacted) and tried again at the next interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from capwatch.errors import AuthRequired
from capwatch.models import DeviceCounter, DeviceTraffic, utcnow
from capwatch.secrets import redact

if TYPE_CHECKING:
    from capwatch.store.api import Store

log = logging.getLogger(__name__)

DropPolicy = Literal["count", "baseline"]


@dataclass(frozen=True, slots=True)
class ClientReading:
    """One client's cumulative byte counter as the device reported it."""

    client: str
    """A stable key of the client on the device (its MAC, else its address)."""
    address: str
    value: int
    mac: str | None = None
    mark: str | None = None


def counter_deltas(
    previous: Mapping[str, DeviceCounter],
    readings: Sequence[ClientReading],
    *,
    drop: DropPolicy = "count",
) -> tuple[list[DeviceTraffic], list[DeviceCounter]]:
    """The bytes each client used since ``previous`` and the state to store (pure)."""
    first = not previous
    traffic: list[DeviceTraffic] = []
    state: list[DeviceCounter] = []
    for r in readings:
        before = previous.get(r.client)
        if before is None:
            delta = 0 if first else r.value
        elif before.mark != r.mark:
            delta = r.value
        elif r.value >= before.value:
            delta = r.value - before.value
        else:
            delta = r.value if drop == "count" else 0
        if delta:
            traffic.append(DeviceTraffic(address=r.address, bytes=delta, mac=r.mac))
        state.append(DeviceCounter(r.client, r.value, r.mark, r.address, r.mac))
    return traffic, state


class PolledSource:
    """A device source read on an interval; subclasses implement :meth:`read`."""

    name: ClassVar[str] = "polled"
    drop: ClassVar[DropPolicy] = "count"

    def __init__(
        self, settings: Any, store: Store, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self.reads = 0
        self.failures = 0
        self.stored_bytes = 0

    @property
    def where(self) -> str:
        """The device, as log lines name it (no secrets)."""
        raise NotImplementedError

    @property
    def scope(self) -> str:
        """The key the counter state is stored under: the source and the device."""
        return f"{self.name}:{self.where}"

    async def read(self) -> list[ClientReading]:
        """Every client's counter now (raises a ProviderError when the device cannot say)."""
        raise NotImplementedError

    async def close(self) -> None:
        """Release connections (subclasses that keep sessions override this)."""

    async def start(self) -> None:
        """Start polling: a read now, then one every ``interval_s``."""
        self._task = asyncio.create_task(self._loop())
        log.info(
            "%s device source for %s reading %s every %gs",
            self.name,
            self.settings.account,
            self.where,
            self.settings.interval_s,
        )

    async def stop(self) -> None:
        """Stop polling (what was read is stored already) and close the session."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.close()

    async def _loop(self) -> None:
        while True:
            await self.poll()
            await asyncio.sleep(self.settings.interval_s)

    async def poll(self) -> int | None:
        """Read once and store the deltas with the new state; None when the read failed."""
        async with self._lock:
            try:
                readings = await asyncio.wait_for(self.read(), self.settings.timeout_s)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.failures += 1
                log.warning("%s", self.failure_line(exc))
                return None
            self.reads += 1
            return await self._store(readings)

    async def backfill(
        self,
        previous: Mapping[str, DeviceCounter],
        readings: Sequence[ClientReading],
        traffic: list[DeviceTraffic],
        state: list[DeviceCounter],
    ) -> tuple[list[DeviceTraffic], list[DeviceCounter], dict[str, Any]]:
        """What to store with a read: by default its deltas and state as they are; a source
        with per-day reports of its own adds them here (keyword arguments of
        ``add_device_traffic``), written in the read's transaction."""
        return traffic, state, {}

    def failure_line(self, exc: BaseException) -> str:
        """The one log line of a failed read, secrets redacted."""
        retry = f"retrying in {self.settings.interval_s:g}s"
        if isinstance(exc, TimeoutError):
            detail = f"no answer within {self.settings.timeout_s:g}s"
        else:
            detail = redact(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        text = f"{self.name} {self.where}: read failed ({retry}): {detail}"
        if isinstance(exc, AuthRequired):
            text += f"; please check the credentials (user {self.settings.user!r})"
        return text

    async def _store(self, readings: list[ClientReading]) -> int | None:
        account, scope = self.settings.account, self.scope
        try:
            previous = await asyncio.to_thread(self.store.device_counters, account, scope)
            traffic, state = counter_deltas(previous, readings, drop=self.drop)
            traffic, state, extra = await self.backfill(previous, readings, traffic, state)
            stored = await asyncio.to_thread(
                lambda: self.store.add_device_traffic(
                    account,
                    self.clock(),
                    self.name,
                    traffic,
                    counter_scope=scope,
                    counters=state,
                    **extra,
                )
            )
        except Exception as exc:
            self.failures += 1
            log.warning(
                "%s %s: could not store device bytes (read again next time): %s",
                self.name,
                self.where,
                redact(str(exc)),
            )
            return None
        self.stored_bytes += stored
        return stored
