"""Fault soak: poll a flaky fake ISP many times in-process and check nothing is lost or wrong.

Usage (from the repo root): ``python bench/soak.py [--polls 1000] [--rate 0.3] [--seed 1]``.

The fake meter (``tests/fakes/meter.py``, behind a raw TCP proxy for connection resets) fails
``--rate`` of requests with 5xx, timeouts, resets, blank pages, HTML, truncated JSON, a login
page, 429 + Retry-After, stale values, a counter going back and a cycle rollover. The
coordinator polls it ``--polls`` times; then a stretch of 100% faults must fire the stale alert
and recovery must resolve it. Prints a table and exits 1 if any check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STALE_HOURS = 0.001  # 3.6 seconds
OUTAGE_KINDS = ("500", "reset", "html", "timeout")


@dataclass
class SoakReport:
    """What a soak run did and what it found wrong."""

    polls: int = 0
    results: Counter[str] = field(default_factory=Counter)
    injected: Counter[str] = field(default_factory=Counter)
    logged: Counter[str] = field(default_factory=Counter)
    stored: int = 0
    stored_ok: int = 0
    answers: int = 0
    stale_fired: bool = False
    stale_resolved: bool = False
    outbox_kinds: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def table(self) -> str:
        """Plain-text summary."""
        lines = [
            f"polls                {self.polls}",
            f"wall time            {self.seconds:.1f} s",
            f"faults injected      {sum(v for k, v in self.injected.items() if k != 'ok')}"
            f" of {sum(self.injected.values())} requests",
        ]
        lines += [f"  {k:<18} {v}" for k, v in sorted(self.injected.items())]
        lines.append("poll log outcomes")
        lines += [f"  {k:<18} {v}" for k, v in sorted(self.logged.items())]
        lines += [
            f"readings stored      {self.stored} (distinct answers served {self.answers})",
            f"stale alert          fired={self.stale_fired} resolved={self.stale_resolved}",
            f"outbox items         {', '.join(self.outbox_kinds) or '-'}",
            f"problems             {len(self.problems)}",
        ]
        lines += [f"  ! {p}" for p in self.problems[:20]]
        return "\n".join(lines)


def write_config(workdir: Path, base_url: str) -> Path:
    """A config with one http_json account on the fake meter and a tiny stale limit."""
    from tests.fakes import meter

    path = workdir / "capwatch.toml"
    path.write_text(
        f'data_dir = "{workdir / "data"}"\n'
        f'database_url = "sqlite:///{workdir / "capwatch.db"}"\n'
        '[[accounts]]\nname = "isp"\nprovider = "http_json"\ncap = "provider"\n'
        f"[accounts.alerts]\nstale_hours = {STALE_HOURS}\n"
        f"[accounts.options]\n{meter.provider_options(base_url, cycle=True)}"
    )
    return path


async def _poll(coord: Any, report: SoakReport) -> Any:
    """One forced poll, counted."""
    result = await coord.poll_account("isp", force=True)
    report.polls += 1
    report.results[str(result.outcome)] += 1
    report.stored_ok += int(result.stored)
    return result


async def _stale_active(store: Any) -> bool:
    states = await asyncio.to_thread(store.alert_states, "isp")
    return any(s.active for s in states.values() if s.rule == "stale")


async def _outage_and_recovery(coord: Any, store: Any, state: Any, report: SoakReport) -> None:
    """100% faults until the stale alert fires, then good polls until it resolves."""
    state.fault_rate, state.fault_kinds = 1.0, OUTAGE_KINDS
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not report.stale_fired:
        await _poll(coord, report)
        report.stale_fired = await _stale_active(store)
        await asyncio.sleep(0.2)
    state.fault_rate = 0.0
    for _ in range(5):
        result = await _poll(coord, report)
        if result.ok and not await _stale_active(store):
            report.stale_resolved = True
            break
    items = await asyncio.to_thread(store.outbox_pending, 500)
    report.outbox_kinds = sorted(
        {f"{i.payload.get('rule')}:{i.payload.get('kind')}" for i in items if i.kind == "alerts"}
    )


def _check(store: Any, state: Any, report: SoakReport) -> None:
    """Every stored reading is an answer the meter gave, once; every failure classified."""
    readings = store.readings("isp")
    report.stored = len(readings)
    report.answers = len(state.answers)
    seen: set[str] = set()
    for r in readings:
        stamp = r.observed_at.isoformat(timespec="microseconds")
        if stamp in seen:
            report.problems.append(f"duplicate reading at {stamp}")
        seen.add(stamp)
        if state.answers.get(stamp) != r.used_bytes:
            report.problems.append(f"wrong reading {r.used_bytes} at {stamp}")
    if report.stored_ok != len(readings):
        found = len(readings)
        report.problems.append(f"{report.stored_ok} polls said stored, {found} readings found")
    log = store.poll_log("isp", limit=report.polls + 100)
    report.logged = Counter(str(e.outcome) for e in log)
    if len(log) != report.polls:
        report.problems.append(f"{report.polls} polls, {len(log)} poll log lines")
    for e in log:
        if str(e.outcome) == "internal" or (str(e.outcome) != "ok" and not e.error_class):
            report.problems.append(f"unclassified failure: {e.error_class}: {e.message}")
    if not report.stale_fired:
        report.problems.append("stale alert did not fire during the outage")
    if not report.stale_resolved:
        report.problems.append("stale alert did not resolve after recovery")
    if {"stale:fired", "stale:resolved"} - set(report.outbox_kinds):
        report.problems.append(f"outbox lacks stale fired/resolved: {report.outbox_kinds}")


async def run_soak(workdir: Path, polls: int, rate: float, seed: int) -> SoakReport:
    """Run the soak in ``workdir``; return the report (problems empty when all is well)."""
    import httpx
    from tests.fakes import meter

    from capwatch.config import load_settings
    from capwatch.service.coordinator import Coordinator
    from capwatch.store import open_store

    state = meter.MeterState(fault_rate=rate, seed=seed, timeout_s=0.5, step_bytes=10**7)
    report = SoakReport()
    t0 = time.monotonic()
    with meter.serve_with_resets(state) as url:
        settings = load_settings(write_config(workdir, url))
        store = open_store(settings.resolved_database_url())
        try:
            coord = Coordinator(
                settings,
                store,
                client_factory=lambda: httpx.AsyncClient(timeout=0.25),
                retry_wait_s=0.001,
                retry_attempts=2,
            )
            for _ in range(polls):
                await _poll(coord, report)
            await _outage_and_recovery(coord, store, state, report)
            report.injected = Counter(state.counts)
            _check(store, state, report)
            if store.integrity_check() != "ok":
                report.problems.append("integrity_check failed")
        finally:
            store.close()
    report.seconds = time.monotonic() - t0
    return report


def main(argv: list[str] | None = None) -> int:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--polls", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=0.3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="capwatch-soak-") as tmp:
        report = asyncio.run(run_soak(Path(tmp), args.polls, args.rate, args.seed))
    print(report.table())
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
