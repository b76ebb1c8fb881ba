"""Alert state, poll log, outbox, payload archive, locks and upkeep of the SQL store."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.engine import Connection

from capwatch.errors import InputError, StoreError
from capwatch.models import AlertState, OutboxItem, PollLogEntry, utcnow
from capwatch.store import _records as rec
from capwatch.store import schema as s
from capwatch.store._base import StoreBase, insert, label, utc
from capwatch.store.api import StoredPayload
from capwatch.store.engine import sqlite_file


def lock_key(account: str) -> int:
    """The signed 64-bit advisory lock id of an account's poll lock."""
    digest = hashlib.sha256(f"capwatch:account:{account}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class MiscMixin(StoreBase):
    """Everything besides readings: alerts, poll log, outbox, payloads, locks, upkeep."""

    _thread_locks: dict[str, threading.Lock]

    # alerts -------------------------------------------------------------------------------
    def alert_states(self, account: str) -> dict[tuple[str, str], AlertState]:
        """Latched alert states of an account keyed by (rule, level)."""
        t, a = s.alert_states, s.accounts
        query = select(t).join(a, a.c.id == t.c.account_id).where(a.c.name == account)
        with self._read() as conn:
            return {(r.rule, r.level): rec.alert_state(account, r) for r in conn.execute(query)}

    def save_alert_states(self, states: Iterable[AlertState]) -> None:
        """Upsert alert states."""
        latest: dict[tuple[str, str, str], AlertState] = {}
        for st in states:
            place = f"alert state {st.rule!r}/{st.level!r}"
            label(st.rule, f"{place}: rule", 100)
            label(st.level, f"{place}: level", 64)
            utc(st.cycle_start, f"{place}: cycle_start")
            for name in ("fired_at", "resolved_at"):
                if getattr(st, name) is not None:
                    utc(getattr(st, name), f"{place}: {name}")
            latest[(st.account, st.rule, st.level)] = st
        if not latest:
            return
        with self._write() as conn:
            params = [self._alert_params(conn, st) for st in latest.values()]
            t = s.alert_states
            stmt = insert(conn, t)
            cols = ("cycle_start", "active", "fired_at", "resolved_at", "last_value", "message")
            stmt = stmt.on_conflict_do_update(
                index_elements=[t.c.account_id, t.c.rule, t.c.level],
                set_={c: stmt.excluded[c] for c in cols},
            )
            conn.execute(stmt, params)

    def _alert_params(self, conn: Connection, st: AlertState) -> dict[str, object]:
        aid, _tz = self._account(conn, st.account, "alert state")
        return {
            "account_id": aid,
            "rule": st.rule,
            "level": st.level,
            "cycle_start": st.cycle_start,
            "active": bool(st.active),
            "fired_at": st.fired_at,
            "resolved_at": st.resolved_at,
            "last_value": None if st.last_value is None else float(st.last_value),
            "message": rec.clip(st.message),
        }

    # poll log -----------------------------------------------------------------------------
    def log_poll(self, entry: PollLogEntry, payload: Mapping[str, Any] | None = None) -> None:
        """Append one poll log line (failures; successes come with record_poll), archiving the
        (secret-free) payload of a refused answer with it."""
        rec.check_log(entry, "poll log entry")
        with self._write() as conn:
            aid, _tz = self._account(conn, entry.account, "poll log entry")
            rec.insert_log(conn, aid, entry)
            if payload is not None:
                rec.archive_payload(conn, aid, entry.started_at, payload)

    def poll_log(self, account: str | None = None, limit: int = 50) -> list[PollLogEntry]:
        """Newest poll log lines first."""
        t, a = s.poll_log, s.accounts
        query = (
            select(a.c.name, t)
            .join(a, a.c.id == t.c.account_id)
            .order_by(t.c.started_at.desc(), t.c.id.desc())
            .limit(max(int(limit), 0))
        )
        if account is not None:
            query = query.where(a.c.name == account)
        with self._read() as conn:
            return [rec.log_entry(row.name, row) for row in conn.execute(query)]

    # outbox -------------------------------------------------------------------------------
    def outbox_add(self, item: OutboxItem) -> bool:
        """Queue a notification; False if its key is already queued or sent."""
        label(item.key, "outbox item key", 200)
        label(item.kind, f"outbox item {item.key!r}: kind", 64)
        values = {
            "key": item.key,
            "kind": item.kind,
            "account": item.account,
            "payload": rec.canonical_json(dict(item.payload), f"outbox item {item.key!r}"),
            "created_at": utc(item.created_at, f"outbox item {item.key!r}: created_at"),
            "attempts": int(item.attempts),
            "sent_at": item.sent_at,
            "last_error": rec.clip(item.last_error),
        }
        with self._write() as conn:
            stmt = insert(conn, s.outbox).values(values).on_conflict_do_nothing()
            return conn.execute(stmt.returning(s.outbox.c.id)).first() is not None

    def outbox_pending(self, limit: int = 50) -> list[OutboxItem]:
        """Unsent notifications, oldest first."""
        t = s.outbox
        query = (
            select(t)
            .where(t.c.sent_at.is_(None))
            .order_by(t.c.created_at, t.c.id)
            .limit(max(int(limit), 0))
        )
        with self._read() as conn:
            return [rec.outbox_item(row) for row in conn.execute(query)]

    def outbox_mark(self, key: str, *, sent: bool, error: str | None = None) -> None:
        """Record a send attempt: sent, or failed with a (secret-free) error."""
        t = s.outbox
        values: dict[str, object] = {"attempts": t.c.attempts + 1}
        if sent:
            values.update(sent_at=utcnow(), last_error=None)
        else:
            values["last_error"] = rec.clip(error or "send failed")
        with self._write() as conn:
            done = conn.execute(update(t).where(t.c.key == key).values(values)).rowcount
        if done != 1:
            raise InputError(f"outbox: no notification with key {key!r}")

    # payload archive ----------------------------------------------------------------------
    def payloads(self, account: str, limit: int = 20) -> list[StoredPayload]:
        """Archived payloads of an account, most recently seen first."""
        t, a = s.payloads, s.accounts
        query = (
            select(t)
            .join(a, a.c.id == t.c.account_id)
            .where(a.c.name == account)
            .order_by(t.c.last_seen.desc(), t.c.id.desc())
            .limit(max(int(limit), 0))
        )
        with self._read() as conn:
            return [
                StoredPayload(
                    account=account,
                    sha256=r.sha256,
                    first_seen=r.first_seen,
                    last_seen=r.last_seen,
                    times_seen=int(r.times_seen),
                    body=r.body,
                )
                for r in conn.execute(query)
            ]

    # upkeep -------------------------------------------------------------------------------
    def prune(self, before: datetime) -> int:
        """Delete poll log lines, raw counters and sent notifications older than ``before``."""
        cutoff = utc(before, "prune: before")
        with self._write() as conn:
            n = conn.execute(delete(s.poll_log).where(s.poll_log.c.started_at < cutoff)).rowcount
            n += conn.execute(
                delete(s.raw_counters).where(s.raw_counters.c.observed_at < cutoff)
            ).rowcount
            n += conn.execute(delete(s.outbox).where(s.outbox.c.sent_at < cutoff)).rowcount
        return int(n)

    def integrity_check(self) -> str:
        """``ok`` or the database's own complaint."""
        with self._read() as conn:
            if self.dialect != "sqlite":
                conn.execute(text("SELECT 1")).scalar_one()
                return "ok"
            rows = [str(r[0]) for r in conn.exec_driver_sql("PRAGMA integrity_check")]
        return "; ".join(rows) if rows else "no answer from PRAGMA integrity_check"

    # coordination -------------------------------------------------------------------------
    @contextlib.contextmanager
    def serve_lock(self) -> Iterator[None]:
        """Be the only daemon on an SQLite store (StoreError naming the other's PID); on
        PostgreSQL several daemons are the documented scale-out and nothing is held."""
        db = sqlite_file(self._url)
        if db is None:
            yield
            return
        with _serve_lock(db):
            yield

    @contextlib.contextmanager
    def account_lock(self, account: str) -> Iterator[bool]:
        """Try to take the account's poll lock (advisory on PostgreSQL); yields True if taken."""
        label(account, "account_lock: account", 100)
        if self.dialect == "postgresql":
            with self._pg_lock(account) as got:
                yield got
        elif (db := sqlite_file(self._url)) is not None:
            with _file_lock(db, account) as got:
                yield got
        else:
            lock = self._thread_locks.setdefault(account, threading.Lock())
            got = lock.acquire(blocking=False)
            try:
                yield got
            finally:
                if got:
                    lock.release()

    @contextlib.contextmanager
    def _pg_lock(self, account: str) -> Iterator[bool]:
        key = {"k": lock_key(account)}
        with self._read() as conn:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), key).scalar())
            conn.commit()  # a session-level lock outlives the transaction
            try:
                yield got
            finally:
                if got:
                    try:
                        conn.execute(text("SELECT pg_advisory_unlock(:k)"), key)
                        conn.commit()
                    except Exception:  # the server drops the lock with the session
                        conn.invalidate()


@contextlib.contextmanager
def _serve_lock(db_path: Path) -> Iterator[None]:
    """Hold ``<db>.serve.lock`` (flock, our PID inside) for as long as a daemon runs."""
    path = db_path.with_name(db_path.name + ".serve.lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise StoreError(
                f"another `capwatch serve` (PID {holder}) already runs on {db_path}: stop it "
                "first; several instances on one store need PostgreSQL"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _file_lock(db_path: Path, account: str) -> Iterator[bool]:
    """A non-blocking ``flock`` on a per-account file beside the database (one host)."""
    lock_dir = db_path.with_name(db_path.name + ".locks")
    lock_dir.mkdir(mode=0o700, exist_ok=True)
    name = hashlib.sha256(account.encode()).hexdigest()[:24] + ".lock"
    fd = os.open(lock_dir / name, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
