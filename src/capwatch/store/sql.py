"""The SQL store: SQLAlchemy 2 Core on SQLite (default) or PostgreSQL (psycopg 3).

:func:`open_store` parses the URL, creates one engine, checks the database answers and brings
the schema to the packaged Alembic head. The methods are split over
:mod:`~capwatch.store._readings` (readings and aggregates), :mod:`~capwatch.store._rollups`
(long ranges from the rollups) and :mod:`~capwatch.store._misc`
(alerts, poll log, outbox, payloads, locks); :mod:`~capwatch.store.engine` documents the SQLite
settings chosen for SD cards.
"""

from __future__ import annotations

import threading

from sqlalchemy import text
from sqlalchemy.engine import URL, Engine

from capwatch.errors import StoreError, StoreFull
from capwatch.store import migrate as migrations
from capwatch.store._device_names import DeviceNamesMixin
from capwatch.store._devices import DevicesMixin
from capwatch.store._misc import MiscMixin
from capwatch.store._plan import PlanMixin
from capwatch.store._readings import ReadingsMixin
from capwatch.store._rollups import RollupsMixin
from capwatch.store.engine import (
    display_url,
    make_engine,
    parse_url,
    read_only_url,
    sqlite_file,
    wrap_errors,
)


class SqlStore(ReadingsMixin, RollupsMixin, DevicesMixin, DeviceNamesMixin, PlanMixin, MiscMixin):
    """The :class:`capwatch.store.api.Store` on SQLAlchemy Core."""

    def __init__(self, url: URL, engine: Engine) -> None:
        super().__init__(url, engine)
        self._thread_locks: dict[str, threading.Lock] = {}
        self.read_only_reason: str | None = None

    def __repr__(self) -> str:
        return f"SqlStore({self.url_display!r})"


def open_store(
    url: str, *, migrate: bool = True, isolate_migration: bool = False, read_only: bool = False
) -> SqlStore:
    """Open (and by default migrate to head) the store at SQLAlchemy URL ``url``.

    ``isolate_migration`` runs a needed upgrade in a child process (see
    :func:`capwatch.store.migrate.ensure_head`); long-running processes ask for it.
    ``read_only`` (reading commands): when the disk is full, an SQLite store is opened
    read-only instead, and ``store.read_only_reason`` says why.
    """
    parsed = parse_url(url)
    try:
        return _open(parsed, migrate=migrate, isolate_migration=isolate_migration)
    except StoreFull as exc:
        fallback = read_only_url(parsed) if read_only else None
        path = sqlite_file(parsed)
        if fallback is None or path is None or not path.is_file():
            raise
        store = _open(fallback, migrate=False, isolate_migration=False)
        store.read_only_reason = str(exc)
        return store


def _open(parsed: URL, *, migrate: bool, isolate_migration: bool) -> SqlStore:
    engine = make_engine(parsed)
    try:
        with wrap_errors("cannot open store", parsed), engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        with wrap_errors("cannot migrate store", parsed):
            if migrate:
                migrations.ensure_head(engine, isolate=isolate_migration)
            else:
                migrations.check_at_head(engine)
    except BaseException:
        engine.dispose()
        raise
    return SqlStore(parsed, engine)


__all__ = ["SqlStore", "StoreError", "display_url", "open_store"]
