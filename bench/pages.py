"""What the server-rendered pages cost: first-render time, render time, and resident memory.

Usage (from the repo root): ``python bench/pages.py [--runs 5] [--accounts 3] [--requests 100]``.

Each run is a fresh process (so imports done at the first page are counted): it builds the app
over a store seeded by ``bench/web.py``'s ``seed`` (one year of 5-minute readings per account,
kept in ``/tmp/capwatch-bench-pages-<N>.db``), then times ``import capwatch.web.app`` and
``create_app``, the first request of the overview and of an account page, the median of
``--requests`` further requests of each (summary cache warm, as served), and reads the process's
resident memory (psutil) after them. Prints the median of each figure over ``--runs`` runs.
Run it with ``PYTHONPATH=<other checkout>/src`` to measure another tree with the same venv.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import click

HERE = Path(__file__).resolve().parent


def one_run(accounts: int, requests: int) -> dict[str, float]:
    """One measurement in this process (call it in a fresh one)."""
    sys.path.insert(0, str(HERE))
    from web import bench_settings, seed  # bench/web.py

    db = Path(f"/tmp/capwatch-bench-pages-{accounts}.db")
    settings = bench_settings(db, accounts)
    seed(db, settings, 1, datetime(2026, 11, 20, 12, tzinfo=UTC))
    t0 = time.perf_counter()
    try:  # as the daemon does: compiled templates kept between runs (absent before Jinja2)
        from capwatch.templating import use_cache_dir

        use_cache_dir(Path(f"/tmp/capwatch-bench-pages-{accounts}-templates"))
    except ImportError:
        pass
    from capwatch.store import open_store
    from capwatch.web.app import create_app

    app = create_app(settings, open_store(settings.resolved_database_url()))
    from starlette.testclient import TestClient

    client = TestClient(app, base_url="http://127.0.0.1")
    t_app = time.perf_counter() - t0
    out: dict[str, float] = {"import_and_create_app_ms": 1000 * t_app}
    for label, path in (("overview", "/"), ("account", "/accounts/acct00")):
        t0 = time.perf_counter()
        reply = client.get(path)
        reply.raise_for_status()
        out[f"{label}_first_ms"] = 1000 * (time.perf_counter() - t0)
        times = []
        for _ in range(requests):
            t0 = time.perf_counter()
            client.get(path).raise_for_status()
            times.append(time.perf_counter() - t0)
        out[f"{label}_median_ms"] = 1000 * statistics.median(times)
    import psutil

    out["rss_mib"] = psutil.Process().memory_info().rss / 2**20
    return out


@click.command()
@click.option("--runs", default=5, show_default=True)
@click.option("--accounts", default=3, show_default=True)
@click.option("--requests", default=100, show_default=True)
@click.option("--child", is_flag=True, hidden=True)
def main(runs: int, accounts: int, requests: int, child: bool) -> None:
    """Print the median of each figure over ``runs`` fresh processes."""
    if child:
        click.echo(json.dumps(one_run(accounts, requests)))
        return
    results = []
    for i in range(runs + 1):  # the first run may seed the store: not counted
        argv = [sys.executable, __file__, "--child", f"--accounts={accounts}"]
        done = subprocess.run(
            [*argv, f"--requests={requests}"], capture_output=True, text=True, check=True
        )
        if i:
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    click.echo(f"{'figure':<28} {'median':>9} {'min':>9} {'max':>9}")
    for key in results[0]:
        values = [r[key] for r in results]
        click.echo(
            f"{key:<28} {statistics.median(values):9.1f} {min(values):9.1f} {max(values):9.1f}"
        )


if __name__ == "__main__":
    main()
