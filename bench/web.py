"""Latency and throughput of the dashboard and API over a store with years of 5-minute readings.

Usage: ``python bench/web.py [--years 1 --years 3 --years 10] [--accounts 10] [--requests 200]
[--dir /tmp]``. Seeds ``<dir>/capwatch-bench-<N>y.db`` once (reused on later runs; a store
seeded by an older capwatch is migrated when first served), serves ``create_app`` with
uvicorn in a thread on a free 127.0.0.1 port and times a bounded number of sequential requests
per route with httpx. Prints p50/p99 latency (ms) and requests per second, "warm" with the
summary cache (as served) and "cold" with it disabled (every request recomputes).
"""

from __future__ import annotations

import math
import random
import socket
import statistics
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from capwatch.analysis.cycles import CycleRule
from capwatch.config import Settings
from capwatch.models import Reading
from capwatch.store import open_store

STEP = timedelta(minutes=5)
CAP = 1229 * 10**9
ZONE = "America/New_York"


def bench_settings(db: Path, accounts: int) -> Settings:
    """Settings with ``accounts`` host accounts over the SQLite file ``db``."""
    return Settings.model_validate(
        {
            "database_url": f"sqlite:///{db}",
            "data_dir": str(db.parent / "capwatch-bench-data"),
            "accounts": [
                {
                    "name": f"acct{i:02d}",
                    "provider": "host",
                    "cap": "1229 GB",
                    "cycle": {"start_day": 1 + (i * 3) % 28, "timezone": ZONE},
                }
                for i in range(accounts)
            ],
        }
    )


def synthetic(
    account: str, rule: CycleRule, start: datetime, end: datetime, seed: int
) -> Iterator[Reading]:
    """5-minute meter readings from ``start`` to ``end``: a daily rhythm, reset each cycle."""
    rng = random.Random(seed)
    base = rng.uniform(20, 45) * 10**9 / 288  # bytes per 5 minutes on average
    cycle = rule.cycle_at(start)
    used = 0
    at = start
    while at < end:
        if at >= cycle.end:
            cycle, used = rule.cycle_at(at), 0
        hour = at.astimezone(rule.timezone).hour
        rhythm = 0.3 + 1.4 * max(math.sin((hour - 6) / 24 * 2 * math.pi), 0.0)
        used += int(base * rhythm * rng.uniform(0.5, 1.5))
        yield Reading(account, at, cycle.start, used, CAP, "host")
        at += STEP


def seed(db: Path, settings: Settings, years: int, now: datetime) -> None:
    """Fill ``db`` with ``years`` of readings per account unless it is already seeded."""
    marker = db.with_suffix(".done")
    if marker.exists():
        return
    db.unlink(missing_ok=True)
    store = open_store(settings.resolved_database_url())
    try:
        start = (now - timedelta(days=365 * years)).replace(second=0, microsecond=0)
        for i, acc in enumerate(settings.accounts):
            store.ensure_account(acc.name, acc.provider, acc.cycle.timezone)
            rule = CycleRule(acc.cycle.start_day, acc.cycle.zone)
            batch: list[Reading] = []
            for reading in synthetic(acc.name, rule, start, now, seed=i):
                batch.append(reading)
                if len(batch) >= 50_000:
                    store.add_readings(batch)
                    batch.clear()
            store.add_readings(batch)
            click.echo(f"  seeded {acc.name} ({years} y)", err=True)
    finally:
        store.close()
    marker.write_text(now.isoformat())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(settings: Settings, cached: bool) -> tuple[str, Any, threading.Thread, Any]:
    import uvicorn

    from capwatch.web.app import create_app
    from capwatch.web.history import SummaryCache

    store = open_store(settings.resolved_database_url())
    app = create_app(settings, store)
    if not cached:
        app.state.summary_cache = SummaryCache(ttl_s=0)
    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread, store


def measure(base: str, path: str, requests: int) -> tuple[float, float, float]:
    """(p50 ms, p99 ms, requests/s) of ``requests`` sequential GETs after a warm-up."""
    import httpx

    with httpx.Client(base_url=base, timeout=120) as client:
        for _ in range(3):
            client.get(path).raise_for_status()
        times: list[float] = []
        began = time.perf_counter()
        for _ in range(requests):
            t0 = time.perf_counter()
            client.get(path).raise_for_status()
            times.append(time.perf_counter() - t0)
        total = time.perf_counter() - began
    qs = statistics.quantiles(times, n=100, method="inclusive")
    return qs[49] * 1000, qs[98] * 1000, requests / total


ROUTES = (
    "/",
    "/accounts/acct00",
    "/api/v1/accounts",
    "/api/v1/accounts/acct00/readings?points=500",
    "/api/v1/accounts/acct00/burndown",
)


@click.command()
@click.option("--years", type=int, multiple=True, default=(1, 3, 10), show_default=True)
@click.option("--accounts", type=int, default=10, show_default=True)
@click.option("--requests", "count", type=int, default=100, show_default=True)
@click.option("--seed-only", is_flag=True, help="Seed the databases and stop.")
@click.option(
    "--dir",
    "where",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("/tmp"),
    show_default=True,
    help="Where the seeded databases are kept.",
)
def main(years: tuple[int, ...], accounts: int, count: int, seed_only: bool, where: Path) -> None:
    """Seed, serve and time the web routes; print one table row per (years, route)."""
    now = datetime.now(UTC)
    rows: list[tuple[int, str, float, float, float]] = []
    for y in years:
        where.mkdir(parents=True, exist_ok=True)
        db = where / f"capwatch-bench-{y}y.db"
        settings = bench_settings(db, accounts)
        seed(db, settings, y, now)
        if seed_only:
            continue
        for cached in (True, False):
            base, server, thread, store = _serve(settings, cached)
            try:
                for route in ROUTES:
                    n = count if cached else max(count // 5, 10)
                    rows.append((y, "warm" if cached else "cold", route, *measure(base, route, n)))
            finally:
                server.should_exit = True
                thread.join(timeout=30)
                store.close()
    if rows:
        head = f"{'years':>5} {'cache':>5}  {'route':<46} {'p50 ms':>8} {'p99 ms':>8} {'req/s':>7}"
        click.echo(head)
        for y, mode, route, p50, p99, rps in rows:
            click.echo(f"{y:>5} {mode:>5}  {route:<46} {p50:8.1f} {p99:8.1f} {rps:7.1f}")


if __name__ == "__main__":
    main()
