"""Persistence: readings, aggregates, counters, devices, alert state, poll log, outbox.

:func:`open_store` returns a :class:`~capwatch.store.api.Store`; code against that Protocol.
"""

from __future__ import annotations

from capwatch.store.api import (
    CycleRecord,
    DailyUsage,
    PollRecord,
    Store,
    StoredPayload,
)


def open_store(
    url: str, *, migrate: bool = True, isolate_migration: bool = False, read_only: bool = False
) -> Store:
    """Open the store at SQLAlchemy URL ``url`` (``sqlite:///path`` or ``postgresql://...``).

    ``isolate_migration`` runs a needed schema upgrade in a child process, so that a
    long-running caller does not keep Alembic in memory.
    """
    from capwatch.store.sql import open_store as _open

    return _open(url, migrate=migrate, isolate_migration=isolate_migration, read_only=read_only)


__all__ = ["CycleRecord", "DailyUsage", "PollRecord", "Store", "StoredPayload", "open_store"]
