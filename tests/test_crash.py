"""Crash safety, short: kill -9 a polling daemon at random moments; nothing committed is lost."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def _bench_crash() -> ModuleType:
    spec = importlib.util.spec_from_file_location("capwatch_bench_crash", ROOT / "bench/crash.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_kill_9_rounds_lose_nothing_and_resume(tmp_path: Path) -> None:
    crash = _bench_crash()
    report = crash.run_crash(tmp_path, polls=25, seed=11)
    assert report.problems == []
    assert report.rounds >= 2
    assert len(report.acknowledged) >= 10
    assert report.stored >= len(report.acknowledged)


def test_check_store_reports_a_lost_reading(tmp_path: Path) -> None:
    from capwatch.store import open_store

    crash = _bench_crash()
    db = tmp_path / "capwatch.db"
    open_store(f"sqlite:///{db}").close()
    report = crash.CrashReport(acknowledged={123})
    crash.check_store(db, report, "here")
    assert any("1 acknowledged readings lost" in p for p in report.problems)
