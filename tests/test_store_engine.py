"""Opening the store: URLs, errors without secrets, SQLite settings, migration races, indexes."""

from __future__ import annotations

import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from capwatch.errors import StoreError
from capwatch.models import Reading
from capwatch.store import Store, open_store
from capwatch.store.engine import parse_url
from capwatch.store.migrate import HEAD, current_revision, head_revision
from tests.fixtures.common import free_port

CS = datetime(2026, 11, 1, 4, tzinfo=UTC)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "store url is empty"),
        ("not a url", "not a database URL"),
        ("mysql://u:hunter2@db/x", "unsupported database 'mysql'"),
    ],
)
def test_bad_urls_are_one_line_store_errors(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message) as info:
        open_store(url)
    assert "hunter2" not in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg"])
def test_postgres_urls_map_to_psycopg3(scheme: str) -> None:
    assert parse_url(f"{scheme}://u:p@h/db").drivername == "postgresql+psycopg"


def test_unreachable_postgres_masks_password() -> None:
    url = f"postgresql://capwatch:s3cr3t-pw@127.0.0.1:{free_port()}/capwatch"
    with pytest.raises(
        StoreError, match=r"cannot open store postgresql\+psycopg://capwatch:\*\*\*@"
    ) as info:
        open_store(url)
    text = str(info.value)
    assert "s3cr3t-pw" not in text
    assert "\n" not in text
    assert info.value.__cause__ is None


def test_sqlite_file_settings_and_private_file(tmp_path: Path) -> None:
    db = tmp_path / "deep" / "er" / "capwatch.db"
    st = open_store(f"sqlite:///{db}")
    assert db.exists()
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    with st.engine.connect() as conn:  # type: ignore[attr-defined]
        pragma = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in (
                "journal_mode",
                "synchronous",
                "foreign_keys",
                "busy_timeout",
                "cache_size",
            )
        }
    assert pragma == {
        "journal_mode": "wal",
        "synchronous": 2,
        "foreign_keys": 1,
        "busy_timeout": 10000,
        "cache_size": -1024,
    }
    assert st.url_display == f"sqlite:///{db}"
    st.close()


def test_sqlite_unwritable_location_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot create sqlite:///"):
        open_store(f"sqlite:///{blocker}/sub/capwatch.db")


def test_in_memory_sqlite_works(tmp_path: Path) -> None:
    st = open_store("sqlite://")
    st.add_readings([Reading("a", CS + timedelta(hours=1), CS, 5, None, "x")])
    assert st.latest_reading("a") is not None
    with st.account_lock("a") as one, st.account_lock("a") as two:
        assert (one, two) == (True, False)
    st.close()


def test_concurrent_first_starts_do_not_race(store_url: str) -> None:
    errors: list[BaseException] = []
    stores: list[Store] = []
    barrier = threading.Barrier(4)

    def start() -> None:
        try:
            barrier.wait()
            stores.append(open_store(store_url))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with stores[0].engine.connect() as conn:  # type: ignore[attr-defined]
        assert current_revision(conn) == head_revision()
    for st in stores:
        st.close()


def _plan(store: Store, call: Any) -> str:
    """The query plan of the last statement ``call`` runs."""
    engine = store.engine  # type: ignore[attr-defined]
    seen: list[tuple[str, Any]] = []

    def capture(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    statement, params = seen[-1]
    with engine.connect() as conn:
        if store.dialect == "sqlite":
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
            return "\n".join(str(r[-1]) for r in rows)
        conn.exec_driver_sql("SET enable_seqscan = off")
        return "\n".join(str(r[0]) for r in conn.exec_driver_sql("EXPLAIN " + statement, params))


@pytest.mark.parametrize("by_cycle", [False, True])
def test_readings_queries_use_indexes(store_url: str, by_cycle: bool) -> None:
    st = open_store(store_url)
    st.add_readings(Reading("a", CS + timedelta(minutes=i), CS, i, None, "x") for i in range(200))
    start, end = CS + timedelta(minutes=10), CS + timedelta(minutes=20)
    if by_cycle:
        plan = _plan(st, lambda: st.readings("a", cycle_start=CS))
    else:
        plan = _plan(st, lambda: st.readings("a", start, end))
    if st.dialect == "sqlite":
        # A primary-key range: a cycle's readings are found through its aggregate's span.
        assert "SEARCH readings USING PRIMARY KEY (account_id=? AND observed_at>" in plan, plan
    else:
        assert "Seq Scan on readings" not in plan, plan
        assert "Index" in plan, plan
    latest = _plan(st, lambda: st.latest_reading("a"))
    assert "SCAN readings\n" not in latest + "\n" and "Seq Scan on readings" not in latest, latest
    st.close()


def test_packaged_head_constant_matches_the_migrations() -> None:
    from capwatch.store import migrate

    assert migrate.head_revision() == migrate.HEAD


def test_isolated_migration_runs_in_a_child_process(store_url: str) -> None:
    """`capwatch serve` migrates a new store in a child, so it never carries Alembic itself."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom capwatch.store import open_store\nfrom capwatch.store.migrate import "
        f"stored_revision\ns = open_store({store_url!r}, isolate_migration=True)\n"
        "print('alembic' in sys.modules, stored_revision(s.engine))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", HEAD]
    st = open_store(store_url, migrate=False)  # the schema really is at head
    st.close()


@pytest.mark.parametrize("isolate", [True, False])
def test_a_store_from_a_newer_capwatch_is_a_one_line_error(tmp_path: Path, isolate: bool) -> None:
    import sqlite3

    db = tmp_path / "newer.db"
    url = f"sqlite:///{db}"
    st = open_store(url)
    st.ensure_account("a", "host", "UTC")
    st.close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    with pytest.raises(StoreError, match="0099_from_the_future") as info:
        open_store(url, isolate_migration=isolate)
    message = str(info.value)
    assert "\n" not in message and "newer capwatch" in message, message
    with sqlite3.connect(db) as conn:  # nothing changed
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [
            ("0099_from_the_future",)
        ]
        assert conn.execute("SELECT name FROM accounts").fetchall() == [("a",)]


def test_opening_an_up_to_date_store_does_not_import_alembic(tmp_path: Path) -> None:
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'c.db'}"
    code = (
        "import sys\nfrom capwatch.store import open_store\n"
        f"open_store({url!r}).close()\nfirst = 'alembic' in sys.modules\n"
        "for m in [m for m in sys.modules if m.startswith('alembic')]: del sys.modules[m]\n"
        f"s = open_store({url!r}); print(first, 'alembic' in sys.modules, s.integrity_check())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False", "ok"]


def test_sqlite_file_uri_never_becomes_a_relative_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``sqlite:///file:/abs/x.db?mode=ro`` is an SQLite URI: read-only, nothing created in the
    working directory (a ``./file:`` tree was once committed by a test doing this)."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    db = tmp_path / "data" / "rw.db"
    st = open_store(f"sqlite:///file:{db}")  # read-write-create, as a URI
    st.ensure_account("a", "host", "UTC")
    st.close()
    assert db.is_file() and list(cwd.iterdir()) == []
    ro = open_store(f"sqlite:///file:{db}?mode=ro&uri=true", migrate=False)
    try:
        assert ro.account_names() == ["a"]
        with pytest.raises(StoreError, match="readonly"):
            ro.ensure_account("b", "host", "UTC")
    finally:
        ro.close()
    with pytest.raises(StoreError):
        open_store(
            f"sqlite:///file:{tmp_path / 'missing.db'}?mode=ro", migrate=False
        ).account_names()
    assert not (tmp_path / "missing.db").exists() and list(cwd.iterdir()) == []
    with pytest.raises(StoreError, match="absolute path"):
        open_store("sqlite:///file:relative.db")
