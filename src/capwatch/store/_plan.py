"""A plan's allowances in the store: per-allowance usage of counter sources, top-ups, and a
flow source's bytes per quarter hour (what splits an ISP total across windows).

Usage is kept as the newest cumulative figure of each half hour (``span_start``) of a cycle, per
allowance: what a summary or a forecast reads, bounded however often the source is polled. It
is written in the poll's own transaction (:func:`upsert_allowance_usage`). Flow quarter hours
are added in the flow collector's own write of device bytes (:func:`add_flow_slots`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from capwatch.errors import InputError
from capwatch.models import AllowanceUsage, Topup, utcnow
from capwatch.store import schema as s
from capwatch.store._base import StoreBase, byte_count, insert, label, utc
from capwatch.store.api import CYCLE_RESOLUTION

_SPAN_S = int(CYCLE_RESOLUTION.total_seconds())


def span_start(at: datetime) -> datetime:
    """The start of the half hour (aligned on the Unix epoch) that holds ``at``."""
    seconds = int(at.timestamp())
    return datetime.fromtimestamp(seconds - seconds % _SPAN_S, UTC)


def check_usage(usages: Sequence[AllowanceUsage]) -> list[AllowanceUsage]:
    """Validate per-allowance usage before any write (InputError naming the allowance)."""
    out = []
    for u in usages:
        if not isinstance(u, AllowanceUsage):
            raise InputError(f"allowance usage: expected AllowanceUsage, got {type(u).__name__}")
        place = f"allowance usage {u.allowance!r}"
        label(u.allowance, place, 64)
        utc(u.observed_at, f"{place}: observed_at")
        utc(u.cycle_start, f"{place}: cycle_start")
        byte_count(u.used_bytes, f"{place}: used_bytes")
        out.append(u)
    return out


def upsert_allowance_usage(
    conn: Connection, account_id: int, usages: Sequence[AllowanceUsage]
) -> None:
    """Keep each allowance's figure as the newest of its half hour."""
    if not usages:
        return
    t = s.allowance_usage
    params = [
        {
            "account_id": account_id,
            "allowance": u.allowance,
            "cycle_start": utc(u.cycle_start, "cycle_start"),
            "span_start": span_start(utc(u.observed_at, "observed_at")),
            "observed_at": utc(u.observed_at, "observed_at"),
            "used_bytes": u.used_bytes,
        }
        for u in usages
    ]
    stmt = insert(conn, t)
    ex = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=[t.c.account_id, t.c.allowance, t.c.cycle_start, t.c.span_start],
        set_={"observed_at": ex.observed_at, "used_bytes": ex.used_bytes},
        where=t.c.observed_at <= ex.observed_at,
    )
    conn.execute(stmt, params)


def add_flow_slots(
    conn: Connection, account_id: int, source: str, slots: Mapping[datetime, int], place: str
) -> None:
    """Add a flow source's bytes to their quarter hours (InputError for a bad figure)."""
    from capwatch.analysis.windows import slot_start as flow_slot

    totals: dict[datetime, int] = {}
    for at, nbytes in slots.items():
        when = utc(at, f"{place}: flow slot")
        counted = byte_count(nbytes, f"{place}: flow slot {when.isoformat()}") or 0
        if counted:
            key = flow_slot(when)
            totals[key] = totals.get(key, 0) + counted
    if not totals:
        return
    t = s.flow_slots
    stmt = insert(conn, t)
    stmt = stmt.on_conflict_do_update(
        index_elements=[t.c.account_id, t.c.source, t.c.slot_start],
        set_={"bytes": t.c.bytes + stmt.excluded.bytes},
    )
    conn.execute(
        stmt,
        [
            {"account_id": account_id, "source": source, "slot_start": at, "bytes": n}
            for at, n in sorted(totals.items())
        ],
    )


class PlanMixin(StoreBase):
    """Reads of per-allowance usage, and top-ups."""

    def allowance_usage(
        self, account: str, cycle_start: datetime
    ) -> dict[str, list[AllowanceUsage]]:
        """Per allowance, its figures in the cycle starting at ``cycle_start``, ascending."""
        t, a = s.allowance_usage, s.accounts
        query = (
            select(t.c.allowance, t.c.observed_at, t.c.cycle_start, t.c.used_bytes)
            .join(a, a.c.id == t.c.account_id)
            .where(a.c.name == account, t.c.cycle_start == utc(cycle_start, "cycle_start"))
            .order_by(t.c.allowance, t.c.observed_at)
        )
        out: dict[str, list[AllowanceUsage]] = {}
        with self._read() as conn:
            for row in conn.execute(query):
                usage = AllowanceUsage(
                    row.allowance,
                    utc(row.observed_at, "observed_at"),
                    utc(row.cycle_start, "cycle_start"),
                    int(row.used_bytes),
                )
                out.setdefault(row.allowance, []).append(usage)
        return out

    def allowance_cycle_totals(
        self, account: str, cycle_start: datetime | None = None
    ) -> dict[str, dict[datetime, int]]:
        """Per allowance, the last figure of each stored cycle (for rollover), or of the one
        starting at ``cycle_start`` (what a poll adds to). The figures only grow in a cycle."""
        t, a = s.allowance_usage, s.accounts
        query = (
            select(t.c.allowance, t.c.cycle_start, func.max(t.c.used_bytes))
            .join(a, a.c.id == t.c.account_id)
            .where(a.c.name == account)
            .group_by(t.c.allowance, t.c.cycle_start)
        )
        if cycle_start is not None:
            query = query.where(t.c.cycle_start == utc(cycle_start, "cycle_start"))
        out: dict[str, dict[datetime, int]] = {}
        with self._read() as conn:
            for name, start, used in conn.execute(query):
                out.setdefault(name, {})[utc(start, "cycle_start")] = int(used)
        return out

    def flow_slots(self, account: str, start: datetime, end: datetime) -> dict[datetime, int]:
        """Flow bytes per quarter hour in [start, end), every flow source's together."""
        t, a = s.flow_slots, s.accounts
        query = (
            select(t.c.slot_start, func.sum(t.c.bytes))
            .join(a, a.c.id == t.c.account_id)
            .where(
                a.c.name == account,
                t.c.slot_start >= utc(start, "start"),
                t.c.slot_start < utc(end, "end"),
            )
            .group_by(t.c.slot_start)
        )
        with self._read() as conn:
            return {utc(at, "slot_start"): int(n) for at, n in conn.execute(query)}

    def add_topup(self, topup: Topup) -> None:
        """Record a top-up (bytes bought on top of an allowance)."""
        if not isinstance(topup, Topup):
            raise InputError(f"add_topup: expected a Topup, got {type(topup).__name__}")
        label(topup.allowance, "top-up: allowance", 64)
        at = utc(topup.at, "top-up: at")
        size = byte_count(topup.bytes, "top-up: bytes")
        if not size:
            raise InputError("top-up: bytes must be more than 0")
        with self._write() as conn:
            aid, _tz = self._account(conn, topup.account, "top-up")
            conn.execute(
                s.topups.insert().values(
                    account_id=aid,
                    allowance=topup.allowance,
                    at=at,
                    bytes=size,
                    note=topup.note,
                    created_at=utcnow(),
                )
            )

    def topups(self, account: str) -> list[Topup]:
        """Every top-up of an account, oldest first."""
        t, a = s.topups, s.accounts
        query = (
            select(t.c.allowance, t.c.at, t.c.bytes, t.c.note)
            .join(a, a.c.id == t.c.account_id)
            .where(a.c.name == account)
            .order_by(t.c.at, t.c.id)
        )
        with self._read() as conn:
            return [
                Topup(account, row.allowance, utc(row.at, "at"), int(row.bytes), row.note)
                for row in conn.execute(query)
            ]
