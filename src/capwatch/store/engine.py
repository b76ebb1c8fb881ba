"""Engines for the store: URL handling, SQLite settings for SD cards, error wrapping.

SQLite settings, chosen for a Raspberry Pi writing to an SD card that may lose power:

* ``journal_mode=WAL``: readers (web pages, exporters) never block the poller, and a torn
  write can only hit the WAL tail, which SQLite discards on recovery.
* ``synchronous=FULL``: the WAL is fsynced at every commit, so a reading whose commit returned
  survives a power cut. ``NORMAL`` keeps the file consistent but may lose the last commits;
  capwatch commits about once per poll (every few minutes) and imports are one transaction,
  so the extra fsync costs nothing that matters and buys durability of every stored reading.
* ``foreign_keys=ON``: account rows own everything else (ON DELETE CASCADE).
* ``busy_timeout=10000`` ms: a second process (``capwatch`` CLI next to the daemon) waits for
  the write lock instead of failing at once.
* ``cache_size=-1024``: each connection keeps at most 1 MiB of pages (SQLite's default is
  2 MiB) and the kernel's file cache holds the rest. The daemon holds a few pooled connections
  for months; with a month of one-minute readings this is about 3 MiB less resident memory
  (BENCHMARKS.md), for a few more reads from the file cache.
* Write transactions start with ``BEGIN IMMEDIATE`` (they take the write lock up front, so two
  writers cannot deadlock upgrading read locks); reads use a plain deferred ``BEGIN``.

One engine per store; SQLAlchemy's pool hands each thread its own connection.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from capwatch.errors import StoreError, StoreFull

WRITE = "capwatch_write"
"""Execution option marking a connection whose transaction is a write (``BEGIN IMMEDIATE``)."""

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    "PRAGMA cache_size=-1024",
)


def parse_url(url: str) -> URL:
    """Parse a store URL; ``postgresql://`` and ``postgres://`` map to psycopg 3."""
    if not isinstance(url, str) or not url.strip():
        raise StoreError("store url is empty")
    try:
        parsed = make_url(url.strip())
    except (ArgumentError, ValueError) as exc:
        raise StoreError(f"store url is not a database URL: {mask_text(url, None)}") from exc
    driver = parsed.drivername
    if driver in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif driver not in ("sqlite", "sqlite+pysqlite", "postgresql+psycopg"):
        raise StoreError(
            f"store url {display_url(parsed)}: unsupported database "
            f"{driver!r} (use sqlite:///path or postgresql://...)"
        )
    return parsed


def display_url(url: URL) -> str:
    """The URL with any password masked."""
    return url.render_as_string(hide_password=True)


def mask_text(text: str, url: URL | None) -> str:
    """``text`` with the URL's password (if any) replaced by ``***``, on one line."""
    line = " ".join(str(text).split())
    if url is not None and url.password:
        line = line.replace(str(url.password), "***")
    return line


def make_engine(url: URL) -> Engine:
    """Create the store's engine (SQLite pragmas and BEGIN handling, or a psycopg pool)."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    try:
        return create_engine(
            url,
            pool_pre_ping=True,
            pool_size=5,
            max_overflow=5,
            pool_recycle=3600,
            connect_args={"connect_timeout": 10, "options": "-c timezone=UTC"},
        )
    except NoSuchModuleError as exc:  # pragma: no cover - psycopg ships with capwatch[postgres]
        raise StoreError(
            "PostgreSQL needs psycopg: install the extra with `pip install 'capwatch[postgres]'`"
        ) from exc


def sqlite_file(url: URL) -> Path | None:
    """The database file of an SQLite URL (plain path or ``file:`` URI); None in memory or for
    another database."""
    if url.get_backend_name() != "sqlite":
        return None
    return _sqlite_file(url)[1]


def _sqlite_file(url: URL) -> tuple[URL, Path | None, bool]:
    """The URL to connect with, the database file (None in memory) and whether to create it.

    ``sqlite:///file:/path?mode=ro`` is an SQLite URI filename: it is always opened as one
    (``uri=true``), so that ``file:`` never becomes a relative directory, and a read-only or
    existing-only mode never creates the file.
    """
    database = url.database or ""
    if database in ("", ":memory:"):
        return url, None, False
    if not database.startswith("file:"):
        path = Path(database).expanduser()
        return url.set(database=str(path)), path, True
    from urllib.parse import unquote, urlsplit

    mode = str(url.query.get("mode", "rwc"))
    if mode == "memory" or database.startswith("file::memory:"):
        return url.update_query_dict({"uri": "true"}), None, False
    path = Path(unquote(urlsplit(database).path)).expanduser()
    if not path.is_absolute():
        raise StoreError(
            f"store url {display_url(url)}: an SQLite file: URI needs an absolute path"
        )
    return url.update_query_dict({"uri": "true"}), path, mode == "rwc"


def _create_database(path: Path) -> None:
    """Create an empty SQLite database at ``path`` atomically, private from birth (0600).

    It is written beside the target with its header, in WAL mode, and linked into place, so no
    other process ever sees a 0-byte store there (which capwatch refuses as damaged); if another
    process won the race, its file is kept.
    """
    import sqlite3
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".new", dir=path.parent)
    os.close(fd)  # mkstemp creates it 0600
    tmp = Path(name)
    try:
        conn = sqlite3.connect(tmp)
        try:
            # born in WAL mode (it is kept in the file): processes opening the new store at
            # once never race to convert it, which can end in an immediate "database is locked"
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA user_version = 0")  # writes the header page
            conn.commit()
        finally:
            conn.close()
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _sqlite_engine(url: URL) -> Engine:
    url, path, create = _sqlite_file(url)
    memory = path is None
    if path is not None and path.is_file() and path.stat().st_size == 0:
        # An SQLite file of 0 bytes is a valid empty database: opening it would migrate it into
        # a new store and the history it should hold would be gone without a word.
        raise StoreError(
            f"store {path} is empty (0 bytes): it holds no capwatch data; restore it from a "
            "backup, or move it away to start a new store"
        )
    if path is not None and create and not path.exists():
        try:
            _create_database(path)
        except OSError as exc:
            raise StoreError(f"cannot create {display_url(url)}: {exc.strerror}") from exc
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 10}}
    if memory:
        kwargs["poolclass"] = StaticPool
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy (through the "begin" event) emit BEGIN itself, as its docs recommend.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _sqlite_on_begin(conn: Any) -> None:
    immediate = conn.get_execution_options().get(WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


FULL_DISK_WORDS = ("disk is full", "disk i/o error", "no space left")


def _free_space(url: URL) -> str:
    """ ", 0 bytes free on its disk" for an SQLite store, else nothing."""
    import shutil

    path = sqlite_file(url)
    if path is None:
        return ""
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        return ""
    return f" ({free:,} bytes free on its disk)"


LOW_DISK_BYTES = 1024 * 1024
"""Below this much free space on its disk an SQLite store is about to stop taking writes."""


def disk_warning(url: URL) -> str | None:
    """A line for people when an SQLite store's disk is (nearly) full, else None."""
    import shutil

    path = sqlite_file(url)
    if path is None or not path.parent.exists():
        return None
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        return None
    if free >= LOW_DISK_BYTES:
        return None
    return f"the disk holding {path} is full ({free:,} bytes free): new readings cannot be stored"


def read_only_url(url: URL) -> URL | None:
    """An SQLite store opened read-only and immutable (no -wal or -shm files are made): what
    reading commands fall back to on a full disk. None for other databases."""
    path = sqlite_file(url)
    if path is None:
        return None
    return URL.create("sqlite", database=f"file:{path}", query={"mode": "ro", "immutable": "1"})


@contextlib.contextmanager
def wrap_errors(what: str, url: URL) -> Iterator[None]:
    """Turn database failures into a one-line :class:`StoreError` naming the store."""
    try:
        yield
    except DBAPIError as exc:
        reason = str(exc.orig).splitlines()[0] if exc.orig is not None else type(exc).__name__
        message = f"{what} {display_url(url)}: {mask_text(reason, url)}"
        if any(word in reason.lower() for word in FULL_DISK_WORDS):
            raise StoreFull(f"{message}{_free_space(url)}") from None
        raise StoreError(message) from None
    except SQLAlchemyError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StoreError(f"{what} {display_url(url)}: {mask_text(first, url)}") from None
