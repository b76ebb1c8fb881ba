"""Footprint: poll wall time and peak RSS, CLI start-up, serve idle RSS, import rate, disk use.

Usage (from the repo root)::

    python bench/footprint.py [--history 0,100000] [--runs 5] [--serve-minutes 0] [--step-minutes 5]
        [--pages] [--warm]
    python bench/footprint.py --ratios [--runs 10]

For each history size (readings already stored, ``--step-minutes`` apart, ending now) it builds a
SQLite store (timing the import: rows per second; then bytes on disk per reading), and runs
``capwatch poll`` against the local fake meter, ``capwatch --help`` and ``capwatch status``
``--runs`` times each in fresh processes (median wall time; peak RSS from GNU time). With
``--serve-minutes N`` it also runs ``capwatch serve`` polling every 60 s for N minutes and
samples its RSS (psutil) each minute; ``--pages`` opens the dashboard before each sample, and
``--warm`` starts serve once before that on the same data directory, so the measured one loads
its templates from the cache as after any restart. Prints one table per measurement.
``--ratios`` prints the one-shot commands side by side with the bare interpreter instead (see
bench/startup.py).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readings(n: int, step: timedelta) -> Iterator[object]:
    """``n`` synthetic readings of account ``isp``, ``step`` apart, ending now."""
    from capwatch.models import Reading

    end = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    start = end - n * step
    for i in range(n):
        at = start + i * step
        cycle = datetime(at.year, at.month, 1, tzinfo=UTC)
        used = int((at - cycle).total_seconds()) * 400_000
        yield Reading("isp", at, cycle, used, 1_200_000_000_000, "http_json")


def build_history(workdir: Path, n: int, step: timedelta) -> tuple[float, float]:
    """Store ``n`` readings; return (rows per second, bytes on disk per reading)."""
    from capwatch.store import open_store

    db = workdir / "data" / "capwatch.db"
    store = open_store(f"sqlite:///{db}")
    store.ensure_account("isp", "http_json", "UTC")
    t0 = time.perf_counter()
    added = store.add_readings(readings(n, step)) if n else 0  # type: ignore[arg-type]
    seconds = time.perf_counter() - t0
    store.close()
    size = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
    return (added / seconds if added else 0.0), (size / n if n else float(size))


def write_config(workdir: Path, url: str) -> Path:
    """Config: one http_json account on the fake meter, UTC monthly cycle, 60 s polls."""
    from tests.fakes import meter

    path = workdir / "capwatch.toml"
    path.write_text(
        '[[accounts]]\nname = "isp"\nprovider = "http_json"\ncap = "provider"\n'
        'poll_interval = "60s"\n[accounts.cycle]\ntimezone = "UTC"\n'
        f"[accounts.options]\n{meter.provider_options(url)}"
    )
    return path


def _env(workdir: Path, port: int = 0) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAPWATCH_")}
    env["CAPWATCH_DATA_DIR"] = str(workdir / "data")
    if port:
        env["CAPWATCH_WEB__PORT"] = str(port)
    return env


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Run ``python -m capwatch ARGS``: (wall seconds, peak RSS MiB, exit status).

    Peak RSS comes from GNU time (``/usr/bin/time -f %M``): a child forked from this (large)
    benchmark process would report the parent's RSS as its own peak.
    """
    t0 = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "maxrss_kb=%M", sys.executable, "-m", "capwatch", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t0
    marks = [line for line in done.stderr.splitlines() if line.startswith("maxrss_kb=")]
    rss_kb = int(marks[-1].split("=", 1)[1]) if marks else 0
    return wall, rss_kb / 1024, done.returncode


def measure(args: list[str], env: dict[str, str], runs: int) -> str:
    """Median wall time and max peak RSS of ``runs`` fresh runs, as a table cell."""
    results = [timed(args, env) for _ in range(runs)]
    wall = statistics.median(r[0] for r in results)
    rss = max(r[1] for r in results)
    codes = sorted({r[2] for r in results})
    return f"{wall:7.2f} s {rss:7.1f} MiB  exit {codes}"


PAGES = ("/", "/accounts/isp", "/api/v1/accounts/isp", "/api/v1/accounts/isp/burndown")
"""What ``--pages`` opens before each sample: the overview, the account page and what its
script fetches."""


def _open_pages(port: int) -> None:
    import httpx

    for path in PAGES:
        try:
            httpx.get(f"http://127.0.0.1:{port}{path}", timeout=30)
        except httpx.HTTPError as exc:
            print(f"  {path}: {exc}", flush=True)


def serve_rss(
    workdir: Path, config: Path, minutes: float, pages: bool = False
) -> list[tuple[float, float]]:
    """Run ``capwatch serve`` for ``minutes``; sample RSS (MiB) every minute (with ``pages``,
    after opening :data:`PAGES` as a browser on the dashboard would)."""
    import psutil
    from tests.fixtures.common import free_port

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "capwatch", "--config", str(config), "serve"],
        env=_env(workdir, port),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    samples: list[tuple[float, float]] = []
    try:
        ps = psutil.Process(proc.pid)
        t0 = time.monotonic()
        time.sleep(10)
        while True:
            if pages:
                _open_pages(port)
            elapsed = time.monotonic() - t0
            samples.append((elapsed / 60, ps.memory_info().rss / 2**20))
            print(f"  serve t={elapsed / 60:5.1f} min rss={samples[-1][1]:6.1f} MiB", flush=True)
            if elapsed >= minutes * 60:
                break
            time.sleep(min(60.0, max(1.0, minutes * 60 - elapsed)))
    finally:
        proc.terminate()
        proc.wait(60)
    return samples


def run_size(
    n: int,
    runs: int,
    serve_minutes: float,
    step: timedelta,
    pages: bool = False,
    warm: bool = False,
) -> None:
    """All measurements at one history size."""
    from tests.fakes import meter
    from tests.fakes._server import serve

    with tempfile.TemporaryDirectory(prefix="capwatch-footprint-") as tmp:
        workdir = Path(tmp)
        rate, per = build_history(workdir, n, step)
        print(f"history {n} readings: import {rate:,.0f} rows/s, {per:,.1f} bytes/reading")
        state = meter.MeterState(step_bytes=10**6)
        with serve(meter.build(state)) as url:
            config = write_config(workdir, url)
            env = _env(workdir)
            cfg = ["--config", str(config)]
            print(f"  capwatch poll     {measure([*cfg, 'poll'], env, runs)}")
            print(f"  capwatch --help   {measure(['--help'], env, runs)}")
            print(f"  capwatch status   {measure([*cfg, 'status'], env, runs)}")
            if serve_minutes:
                if warm:
                    print("  warming: a first serve compiles the templates into its cache")
                    serve_rss(workdir, config, 0.2, pages=True)
                serve_rss(workdir, config, serve_minutes, pages)
                print(f"  polls served by the fake during serve: {state.requests}")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description="capwatch footprint benchmarks")
    parser.add_argument("--history", default="0,100000", help="comma-separated reading counts")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--serve-minutes", type=float, default=0.0)
    parser.add_argument("--step-minutes", type=float, default=5.0, help="history spacing")
    parser.add_argument(
        "--pages", action="store_true", help="open the dashboard's pages before each sample"
    )
    parser.add_argument(
        "--warm",
        action="store_true",
        help="start serve once before measuring, so templates come from its cache (a restart)",
    )
    parser.add_argument(
        "--ratios",
        action="store_true",
        help="only the one-shot commands side by side with `python -c pass` (bench/startup.py)",
    )
    args = parser.parse_args(argv)
    if args.ratios:
        from startup import ratios

        return ratios(args.runs)
    # SIGTERM unwinds like Ctrl-C, so a stopped benchmark also stops its `capwatch serve`.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, runs={args.runs}")
    for n in (int(x) for x in args.history.split(",")):
        step = timedelta(minutes=args.step_minutes)
        run_size(n, args.runs, args.serve_minutes, step, args.pages, args.warm)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    sys.exit(main())
