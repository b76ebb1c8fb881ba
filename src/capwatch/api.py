"""The Python API, successor of xfinity-usage's ``XfinityUsage(user, password).run()``.

::

    from capwatch.api import Capwatch

    with Capwatch.from_config("~/.config/capwatch/capwatch.toml") as cw:
        for result in cw.poll():            # list[PollResult]
            print(result.account, result.outcome, result.reading)
        for s in cw.status():               # list[CycleSummary]
            print(s.account, s.used_bytes, s.cap_bytes, s.forecast)
        for c in cw.history("home", cycles=6):   # list[CycleRecord]
            print(c.cycle_start, c.used_bytes)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from capwatch.models import CycleSummary, Reading, utcnow

if TYPE_CHECKING:
    from capwatch.config import Settings
    from capwatch.service.coordinator import PollResult
    from capwatch.store.api import CycleRecord, Store


class Capwatch:
    """A configured capwatch: poll accounts, read their status and history."""

    def __init__(
        self,
        settings: Settings,
        store: Store | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        from capwatch.store import open_store

        self.clock = clock
        self.settings = settings
        self.store = store if store is not None else open_store(settings.resolved_database_url())

    @classmethod
    def from_config(
        cls, path: str | Path | None = None, *, clock: Callable[[], datetime] = utcnow
    ) -> Capwatch:
        """Load a config file (None: CAPWATCH_CONFIG, the default file, or embedded defaults)."""
        from capwatch.config import load_settings

        return cls(load_settings(Path(path).expanduser() if path else None), clock=clock)

    def _names(self, account: str | None) -> list[str]:
        if account is not None:
            return [self.settings.account(account).name]
        return [a.name for a in self.settings.accounts if a.enabled]

    def poll(self, account: str | None = None) -> list[PollResult]:
        """Poll one account (or every enabled one) now and store the readings."""
        from capwatch.service.coordinator import Coordinator

        coordinator = Coordinator(self.settings, self.store, clock=self.clock)

        async def run() -> list[PollResult]:
            results = [await coordinator.poll_account(n, force=True) for n in self._names(account)]
            await coordinator.drain_exports()
            return results

        return asyncio.run(run())

    def status(self, account: str | None = None) -> list[CycleSummary]:
        """Used, cap, forecast, allowance and health of each account as of now."""
        from capwatch.service.views import account_summary

        now = self.clock()
        return [account_summary(self.settings, self.store, n, now) for n in self._names(account)]

    def history(self, account: str | None = None, cycles: int = 12) -> list[CycleRecord]:
        """Cycle totals, newest first, each with its end (of one account, or of each in turn)."""
        from capwatch.service.views import closed_cycles

        now = self.clock()
        out: list[CycleRecord] = []
        for name in self._names(account):
            out.extend(closed_cycles(self.settings, self.store, name, now, limit=cycles))
        return out

    def readings(self, account: str) -> list[Reading]:
        """Every stored reading of an account, oldest first."""
        return self.store.readings(self.settings.account(account).name)

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    def __enter__(self) -> Capwatch:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
