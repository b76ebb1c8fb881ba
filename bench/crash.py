"""Crash safety: ``kill -9`` a polling ``capwatch serve`` at random moments; nothing is lost.

Usage (from the repo root): ``python bench/crash.py [--polls 100] [--rounds 0] [--seed 1]``;
it runs until both ``--polls`` polls were asked for and ``--rounds`` kills were made.

Each round starts ``capwatch serve`` against the fake meter, polls it through the API from a
thread (each acknowledged ``stored`` reading is remembered), and SIGKILLs the daemon after a
random delay, usually with a poll in flight. After every kill the database must pass
``integrity_check``, hold every acknowledged reading exactly once, and agree with itself
(readings vs. the poll log's stored lines vs. the cycle aggregates); the next round checks
that the daemon resumes. Prints a table; exits 1 if any check fails.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
START_LIMIT_S = 60.0


@dataclass
class CrashReport:
    """What the crash run did and found."""

    rounds: int = 0
    polls: int = 0
    acknowledged: set[int] = field(default_factory=set)
    killed_in_flight: int = 0
    stored: int = 0
    restart_s: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def table(self) -> str:
        """Plain-text summary."""
        restart = sorted(self.restart_s) or [0.0]
        return "\n".join(
            [
                f"kill -9 rounds           {self.rounds}",
                f"polls requested          {self.polls}",
                f"readings acknowledged    {len(self.acknowledged)}",
                f"polls cut by the kill    {self.killed_in_flight}",
                f"readings in the store    {self.stored}",
                f"restart to healthy (s)   median {restart[len(restart) // 2]:.1f}, "
                f"max {restart[-1]:.1f}",
                f"problems                 {len(self.problems)}",
                *[f"  ! {p}" for p in self.problems[:20]],
            ]
        )


def _start(config: Path, workdir: Path, port: int, n: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAPWATCH_")}
    env.update(CAPWATCH_DATA_DIR=str(workdir / "data"), CAPWATCH_WEB__PORT=str(port))
    log = (workdir / f"serve-{n}.log").open("wb")
    cmd = [sys.executable, "-m", "capwatch", "--config", str(config), "serve"]
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=log)


def _wait_healthy(base: str, proc: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + START_LIMIT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"capwatch serve exited {proc.returncode} at start")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).json().get("status") == "ok":
                return
        except Exception:  # not up yet
            pass
        time.sleep(0.1)
    raise RuntimeError("capwatch serve did not become healthy")


def _poller(base: str, budget: int, report: CrashReport, stop: threading.Event) -> None:
    """Poll through the API until stopped, the budget is spent, or the daemon dies."""
    import httpx

    with httpx.Client(timeout=30) as client:
        while not stop.is_set() and report.polls < budget:
            report.polls += 1
            try:
                r = client.post(
                    f"{base}/api/v1/accounts/isp/poll", headers={"X-Capwatch-Request": "1"}
                )
            except httpx.TransportError:
                report.killed_in_flight += 1
                return
            body = r.json()
            if body.get("stored"):
                report.acknowledged.add(int(body["reading"]["used_bytes"]))


def check_store(db: Path, report: CrashReport, where: str) -> None:
    """Integrity, every acknowledged reading present once, and self-consistent aggregates."""
    from capwatch.store import open_store

    store = open_store(f"sqlite:///{db}")
    try:
        if store.integrity_check() != "ok":
            report.problems.append(f"{where}: integrity_check failed")
        readings = store.readings("isp")
        values = [r.used_bytes for r in readings]
        report.stored = len(readings)
        if len(set(values)) != len(values):
            report.problems.append(f"{where}: duplicate readings")
        lost = report.acknowledged - set(values)
        if lost:
            report.problems.append(f"{where}: {len(lost)} acknowledged readings lost")
        logged = [e for e in store.poll_log("isp", limit=100000) if e.reading_stored]
        if len(logged) != len(readings):
            report.problems.append(f"{where}: {len(readings)} readings, {len(logged)} log lines")
        counted = sum(c.readings for c in store.cycles("isp"))
        if counted != len(readings):
            report.problems.append(f"{where}: cycles count {counted}, readings {len(readings)}")
    finally:
        store.close()


def _round(config: Path, workdir: Path, n: int, budget: int, report: CrashReport, rng: Any) -> None:
    from tests.fixtures.common import free_port

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    t0 = time.monotonic()
    proc = _start(config, workdir, port, n)
    try:
        _wait_healthy(base, proc)
        report.restart_s.append(time.monotonic() - t0)
        stop = threading.Event()
        thread = threading.Thread(target=_poller, args=(base, budget, report, stop))
        thread.start()
        time.sleep(rng.uniform(0.2, 2.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        stop.set()
        thread.join(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
    report.rounds += 1


def run_crash(workdir: Path, polls: int, seed: int, rounds: int = 0) -> CrashReport:
    """Run kill -9 rounds until ``polls`` polls were requested and at least ``rounds`` kills
    were made; return the report."""
    from tests.fakes import meter
    from tests.fakes._server import serve

    rng = random.Random(seed)
    report = CrashReport()
    state = meter.MeterState(step_bytes=10**7)
    with serve(meter.build(state)) as url:
        config = workdir / "capwatch.toml"
        config.write_text(
            '[[accounts]]\nname = "isp"\nprovider = "http_json"\ncap = "provider"\n'
            f"[accounts.options]\n{meter.provider_options(url)}"
        )
        db = workdir / "data" / "capwatch.db"
        n = 0
        while (report.polls < polls and n < polls) or n < rounds:
            _round(config, workdir, n, polls, report, rng)
            check_store(db, report, f"after kill {n + 1}")
            n += 1
        # resume: a last start must come up healthy and store a new reading
        before = report.stored
        _round(config, workdir, n, report.polls + 3, report, rng)
        check_store(db, report, "after resume")
        if report.stored <= before:
            report.problems.append("the daemon stored nothing after the last restart")
    return report


def main(argv: list[str] | None = None) -> int:
    """Command-line entry."""
    parser = argparse.ArgumentParser(description="kill -9 crash-safety run")
    parser.add_argument("--polls", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=0, help="at least this many kills")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="capwatch-crash-") as tmp:
        report = run_crash(Path(tmp), args.polls, args.seed, args.rounds)
    print(report.table())
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
