"""bench/tracegen.py writes seeded households in the shared trace format."""

from __future__ import annotations

import importlib.util
import itertools
import json
import sys
from pathlib import Path
from types import ModuleType

from click.testing import CliRunner

from capwatch.analysis.scoring import parse_trace

ROOT = Path(__file__).parent.parent


def _module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_same_seed_same_files_other_seed_other_files(tmp_path: Path) -> None:
    gen = _module("tracegen")
    runner = CliRunner()
    for name, seed in (("a", "7"), ("b", "7"), ("c", "8")):
        result = runner.invoke(
            gen.main, [str(tmp_path / name), "--seed", seed, "--households", "6"]
        )
        assert result.exit_code == 0, result.output
    files = sorted(p.name for p in (tmp_path / "a").glob("*.json"))
    assert len(files) == 6
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
    assert (tmp_path / "a" / files[0]).read_bytes() != (tmp_path / "c").glob(
        "*.json"
    ).__next__().read_bytes()


def test_households_parse_and_show_their_archetype(tmp_path: Path) -> None:
    gen = _module("tracegen")
    traces = [parse_trace(t, str(t["name"])) for t in gen.generate(11, 12)]
    assert {t.archetype for t in traces} == set(gen.ARCHETYPES)
    for t in traces:
        assert len(t.cycles) == 6
        for c in t.cycles:
            values = [u for _, u in c.samples]
            assert values == sorted(values) and all(u % 10**9 == 0 for u in values)
            assert values[-1] <= c.final_bytes  # the meter lags and rounds down
            assert [s[0] for s in c.samples] == sorted(s[0] for s in c.samples)
    stalling = [t for t in traces if t.archetype == "stalling"]
    for t in stalling:
        jumps = 0
        for c in t.cycles:
            rate = c.final_bytes / (c.end - c.start).total_seconds()
            for (_, u0), (_, u1) in itertools.pairwise(c.samples):
                if u1 - u0 > 12 * 3600 * rate:  # half a day's use in one poll interval
                    jumps += 1
        assert jumps >= len(t.cycles)
    light = [c.final_bytes for t in traces if t.archetype == "light" for c in t.cycles]
    heavy = [c.final_bytes for t in traces if t.archetype == "heavy" for c in t.cycles]
    assert max(light) < min(heavy)


def test_a_change_of_habit_lasts() -> None:
    gen = _module("tracegen")
    checked = 0
    for seed in (3, 4, 5):
        for t in gen.generate(seed, 6):
            change = t.get("habit_change")
            if t["archetype"] not in ("habit_up", "habit_down"):
                assert change is None
                continue
            assert isinstance(change, dict)
            finals = [c["final_bytes"] for c in t["cycles"]]
            at = change["cycle"]
            if at + 1 >= len(finals):
                continue
            after = finals[at + 1 :]
            ratio = (sum(after) / len(after)) / (sum(finals[:at]) / at)
            assert ratio > 1.4 if change["factor"] > 1 else ratio < 0.75
            checked += 1
    assert checked >= 2


def test_scored_on_generated_traces(tmp_path: Path) -> None:
    gen, bench = _module("tracegen"), _module("forecast")
    out = tmp_path / "gen"
    made = CliRunner().invoke(
        gen.main, [str(out), "--seed", "5", "--households", "6", "--cycles", "2"]
    )
    assert made.exit_code == 0, made.output
    result = CliRunner().invoke(bench.main, ["--traces", str(out), "--folds", "3", "--json"])
    figures = json.loads(result.output)
    assert set(figures["archetypes"]) == set(gen.ARCHETYPES)
    assert figures["capwatch"]["predictions"] == 6 * 1 * 8
    assert [f["households"] for f in figures["folds"]] == [2, 2, 2]
    assert result.exit_code == (0 if all(figures["targets"].values()) else 1)


def test_the_forecast_bound_beats_naive_and_names_a_bad_trace(tmp_path: Path) -> None:
    """bench/forecast_bound.py: a regression that sees the answers does better than the naive
    projection on the same days, and a file that is not a trace is named in one line."""
    gen = _module("tracegen")
    bound = _module("forecast_bound")
    runner = CliRunner()
    made = runner.invoke(gen.main, [str(tmp_path / "t"), "--seed", "3", "--households", "6"])
    assert made.exit_code == 0, made.output
    households = [bound.household_days(p) for p in sorted((tmp_path / "t").glob("*.json"))]
    result = bound.bound(households)
    err, naive = result["all"]
    assert 0 < err < naive
    assert set(result) == {h[0] for h in households} | {"all"}
    shown = runner.invoke(bound.main, [str(tmp_path / "t")])
    assert shown.exit_code == 0, shown.output
    assert "| all | " in shown.output
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "x.json").write_text('{"cycles": 1}', encoding="utf-8")
    failed = runner.invoke(bound.main, [str(tmp_path / "bad")])
    assert failed.exit_code != 0
    assert "x.json: not a trace" in failed.output
    assert len(failed.output.strip().splitlines()) == 1
