"""Schema migrations, run in code: Alembic with a Config built here, no alembic.ini.

Revisions live in ``capwatch/store/migrations/versions`` and have descriptive names
(``0001_initial_schema``). On PostgreSQL the upgrade runs under a transaction-level advisory
lock, so services starting together do not race; on SQLite the migration transaction starts
with ``BEGIN IMMEDIATE``, which serialises them the same way.
"""

from __future__ import annotations

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
HEAD = "0001_initial_schema"


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


def ensure_head(engine: Engine) -> None:
    """Upgrade to head unless the database is already there (the common, import-free path)."""
    if stored_revision(engine) != HEAD:
        upgrade(engine)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` in one transaction, under the migration lock."""
    from alembic import command

    cfg = alembic_config()
    with engine.execution_options(**{WRITE: True}).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def check_at_head(engine: Engine) -> None:
    """Raise :class:`StoreError` unless the database schema is at the packaged head."""
    with engine.connect() as conn:
        current = current_revision(conn)
    head = head_revision()
    if current != head:
        raise StoreError(
            f"database schema is at {current or 'nothing'}, this capwatch needs {head}: "
            "open it with migrations enabled"
        )
