"""Schema migrations, run in code: Alembic with a Config built here, no alembic.ini.

Revisions live in ``capwatch/store/migrations/versions`` and have descriptive names
(``0001_initial_schema``). On PostgreSQL the upgrade runs under a transaction-level advisory
lock, so services starting together do not race; on SQLite the migration transaction starts
with ``BEGIN IMMEDIATE``, which serialises them the same way.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text

from capwatch.errors import StoreError
from capwatch.store.engine import WRITE

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection, Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK_KEY = 0x63617077_6D696772  # "capwmigr": the advisory lock id of upgrades
# The newest packaged revision, so that opening an up-to-date store needs no Alembic import
# (Alembic costs ~10 MB of RSS and ~170 ms of start-up on every command). A test checks it
# equals what Alembic finds in migrations/versions.
HEAD = "0006_flow_slots"


def alembic_config() -> Config:
    """An Alembic Config pointing at the packaged migrations."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    return cfg


def head_revision() -> str:
    """The newest revision shipped with this capwatch."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships revisions
        raise StoreError("no schema migrations are packaged")
    return head


def current_revision(conn: Connection) -> str | None:
    """The revision a database is at (None for an empty database)."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def stored_revision(engine: Engine) -> str | None:
    """The revision recorded in the database, read with plain SQL (None if none is)."""
    from sqlalchemy import inspect

    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    return None if row is None else str(row[0])


# The environment variable that hands the store URL to a migration child process (an
# environment entry, unlike an argument, is not shown to other users by `ps`).
URL_ENV = "CAPWATCH_MIGRATE_URL"


def ensure_head(engine: Engine, *, isolate: bool = False) -> None:
    """Upgrade to head unless the database is already there (the common, import-free path).

    With ``isolate`` the upgrade runs in a child Python process, so a long-running process
    (``capwatch serve``) never carries Alembic and Mako in memory after a first start or an
    upgrade. An in-memory SQLite database is always upgraded in-process (a child would see
    another database).
    """
    if stored_revision(engine) == HEAD:
        return
    if isolate and not _in_memory(engine):
        upgrade_in_child(engine)
    else:
        upgrade(engine)


def _in_memory(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")


def upgrade_in_child(engine: Engine) -> None:
    """Run :func:`upgrade` to head in ``python -m capwatch.store.migrate``; raise its error."""
    url = engine.url.render_as_string(hide_password=False)
    done = subprocess.run(
        [sys.executable, "-m", "capwatch.store.migrate"],
        env={**os.environ, URL_ENV: url},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        raise StoreError(lines[-1] if lines else f"migration process exited {done.returncode}")
    if stored_revision(engine) != HEAD:
        raise StoreError(f"migration process left the schema short of {HEAD}")


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` in one transaction, under the migration lock."""
    from alembic import command
    from alembic.util.exc import CommandError

    cfg = alembic_config()
    with engine.execution_options(**{WRITE: True}).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
        cfg.attributes["connection"] = conn
        try:
            command.upgrade(cfg, revision)
        except CommandError as exc:  # e.g. a store written by a newer capwatch
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise StoreError(
                f"cannot migrate store {engine.url.render_as_string(hide_password=True)}: "
                f"{first} (was it created by a newer capwatch?)"
            ) from None


def check_at_head(engine: Engine) -> None:
    """Raise :class:`StoreError` unless the database schema is at the packaged head."""
    current = stored_revision(engine)
    if current != HEAD:
        raise StoreError(
            f"database schema is at {current or 'nothing'}, this capwatch needs {HEAD}: "
            "open it with migrations enabled"
        )


def _child_main() -> int:
    """``python -m capwatch.store.migrate``: upgrade the store named in ``$CAPWATCH_MIGRATE_URL``.

    Prints nothing on success; on failure one line (the store error, password masked) on
    stderr and exit status 1.
    """
    from capwatch.store.sql import open_store

    url = os.environ.get(URL_ENV, "")
    try:
        open_store(url).close()
    except StoreError as exc:
        print(str(exc).replace("\n", " "), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_child_main())
