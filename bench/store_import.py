"""Measure the store's bulk import on SQLite: rows per second and bytes on disk per reading.

Usage: ``python bench/store_import.py [--rows 1000000] [--batch 100000] [--dir DIR]``.
Readings are synthetic: one account polled every five minutes, monthly cycles, usage growing
through each cycle. Prints a table; the database is deleted afterwards unless ``--keep``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from capwatch.models import Reading
from capwatch.store import open_store

START = datetime(2016, 1, 1, 6, tzinfo=UTC)
STEP = timedelta(minutes=5)


def synthetic(first: int, count: int) -> Iterator[Reading]:
    """``count`` readings starting at index ``first`` (five minutes apart, monthly cycles)."""
    for i in range(first, first + count):
        at = START + i * STEP
        cycle = datetime(at.year, at.month, 1, 6, tzinfo=UTC)
        if at < cycle:
            prev = cycle - timedelta(days=1)
            cycle = datetime(prev.year, prev.month, 1, 6, tzinfo=UTC)
        used = int((at - cycle).total_seconds()) * 400_000
        yield Reading("home", at, cycle, used, 1_200_000_000_000, "bench")


def db_bytes(db: Path) -> int:
    """Size of the database and its WAL/SHM files."""
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=100_000, help="readings per add_readings call")
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args(argv)
    base = args.dir or Path(tempfile.mkdtemp(prefix="capwatch-bench-"))
    db = base / "capwatch.db"
    store = open_store(f"sqlite:///{db}")
    store.ensure_account("home", "bench", "America/New_York")
    print(f"{'rows':>10} {'calls':>6} {'seconds':>8} {'rows/s':>9} {'bytes/reading':>14}")
    done, calls, elapsed = 0, 0, 0.0
    while done < args.rows:
        n = min(args.batch, args.rows - done)
        t0 = time.perf_counter()
        new = store.add_readings(synthetic(done, n))
        elapsed += time.perf_counter() - t0
        assert new == n, (new, n)
        done, calls = done + n, calls + 1
    store.close()  # checkpoints the WAL into the main file
    size = db_bytes(db)
    print(f"{done:>10} {calls:>6} {elapsed:>8.1f} {done / elapsed:>9.0f} {size / done:>14.1f}")
    again = open_store(f"sqlite:///{db}")
    cycles = again.cycles("home")
    print(f"cycles: {len(cycles)}, integrity: {again.integrity_check()}")
    again.close()
    if not args.keep and args.dir is None:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
