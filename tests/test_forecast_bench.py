"""bench/forecast.py runs on any directory of traces and reports both methods."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

from click.testing import CliRunner

ROOT = Path(__file__).parent.parent
DATA = Path(__file__).parent / "data" / "forecast"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_forecast", ROOT / "bench" / "forecast.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_json_reports_both_methods_and_targets() -> None:
    result = CliRunner().invoke(_bench().main, [str(DATA), "--json"])
    out = json.loads(result.output)
    assert {"capwatch", "naive", "targets", "archetypes", "folds"} <= set(out)
    assert out["split"] == "in-sample" and out["folds"] == []
    assert out["micros_per_call"] > 0
    assert set(out["archetypes"]) == {"gamer", "heavy", "light", "near_cap"}
    assert sum(a["capwatch"]["predictions"] for a in out["archetypes"].values()) == 160
    assert out["naive"]["coverage"] == 0.0
    assert 0.0 <= out["capwatch"]["coverage"] <= 1.0
    assert out["capwatch"]["predictions"] == out["naive"]["predictions"] == 160
    assert result.exit_code == (0 if all(out["targets"].values()) else 1)


def test_folds_are_seeded_and_cover_every_household() -> None:
    bench = _bench()
    traces = bench.load_traces(DATA)
    a = bench.split_folds(traces, 2, 0)
    assert a == bench.split_folds(traces, 2, 0)
    assert sorted(t.name for g in a for t in g) == sorted(t.name for t in traces)
    assert [len(g) for g in a] == [2, 2]
    result = CliRunner().invoke(bench.main, ["--traces", str(DATA), "--folds", "9"])
    assert result.exit_code != 0 and "--folds: 9 must be between 2 and 4" in result.output


def test_bench_rejects_an_empty_directory(tmp_path: Path) -> None:
    result = CliRunner().invoke(_bench().main, [str(tmp_path)])
    assert result.exit_code != 0
    assert "no *.json traces" in result.output
