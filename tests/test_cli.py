"""The CLI as a user runs it: import, history, status, export, doctor, poll; exit codes."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from capwatch.cli import cli
from tests.fixtures.common import FakeClock

DATA = Path(__file__).parent / "data" / "import"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "capwatch.toml"
    path.write_text(
        f'data_dir = "{tmp_path / "data"}"\n'
        '[[accounts]]\nname = "home"\nprovider = "host"\ncap = "1024 GB"\n'
        '[accounts.cycle]\ntimezone = "America/New_York"\n'
    )
    return path


# After every reading of the files in tests/data/import (2018 and 2026-11): imports refuse
# readings from the future, so the instant is pinned.
NOW = datetime(2026, 12, 15, 12, tzinfo=UTC)


def run(config: Path, *args: str) -> tuple[int, str, str]:
    obj = {"clock": FakeClock(NOW)}
    result = CliRunner().invoke(cli, ["--config", str(config), *args], obj=obj)
    return result.exit_code, result.stdout, result.stderr


def test_import_xfinity_monitor_log_then_history_reproduces_it(config: Path) -> None:
    code, out, err = run(config, "import", str(DATA / "Log_file_2018-04.csv"))
    assert code == 0, err
    assert "6 readings imported" in out
    code, out, _ = run(config, "history", "--json")
    assert code == 0
    cycles = json.loads(out)["home"]
    april = [c for c in cycles if c["start"].startswith("2018-04-01")]
    assert len(april) == 1
    assert april[0]["used_bytes"] == 301 * 10**9
    assert april[0]["cap_bytes"] == 1024 * 10**9
    assert april[0]["readings"] == 6
    code, out, _ = run(config, "export", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [int(r["used_bytes"]) // 10**9 for r in rows] == [0, 21, 68, 131, 224, 301]
    # importing the same file again stores nothing new
    code, out, _ = run(config, "import", str(DATA / "Log_file_2018-04.csv"))
    assert code == 0 and "0 readings imported, 6 already stored" in out


def test_import_bad_row_writes_nothing_and_exits_2(config: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("2026-11-01T00:00:00Z,10\n2026-11-02T00:00:00Z,oops\n")
    code, _, err = run(config, "import", str(bad))
    assert code == 2
    assert err.strip().count("\n") == 0 and f"{bad}:2:" in err
    code, out, _ = run(config, "export", "--format", "json")
    assert json.loads(out) == []


def test_export_round_trips_through_import(config: Path, tmp_path: Path) -> None:
    run(config, "import", str(DATA / "usage.csv"))
    out_file = tmp_path / "out.csv"
    assert run(config, "export", "-o", str(out_file))[0] == 0
    other = tmp_path / "other.toml"
    other.write_text(config.read_text().replace("/data", "/data2"))
    code, out, _ = run(other, "import", str(out_file))
    assert code == 0 and "4 readings imported" in out


def test_status_json_shape(config: Path) -> None:
    run(config, "import", str(DATA / "usage.csv"))
    code, out, err = run(config, "status", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data[0]["account"] == "home"
    for key in (
        "status",
        "used_bytes",
        "cap_bytes",
        "percent",
        "forecast",
        "daily_allowance_bytes",
        "days_left",
        "pace",
        "last_reading_at",
        "last_error",
        "alerts",
        "cycle",
    ):
        assert key in data[0]


def test_poll_host_then_status_table(config: Path) -> None:
    code, out, err = run(config, "poll")
    assert code == 0, err
    assert out.startswith("home: used ")
    code, out, _ = run(config, "status")
    assert code == 0 and "home" in out and "1.02 TB" in out


def test_unknown_account_is_one_line_exit_2(config: Path) -> None:
    code, _, err = run(config, "status", "--account", "nope")
    assert code == 2
    assert "nope" in err and err.strip().count("\n") == 0


def test_bad_config_exit_2_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        '[[accounts]]\nname = "x"\nprovider = "host"\n[accounts.cycle]\nstart_day = 40\n'
    )
    code, _, err = run(path, "status")
    assert code == 2
    assert str(path) in err and "start_day" in err


def test_doctor_passes_on_a_good_config(config: Path) -> None:
    code, out, err = run(config, "doctor")
    assert code == 0, out + err
    assert "integrity ok" in out


def test_serve_refuses_open_bind_without_auth(config: Path) -> None:
    code, _, err = run(config, "serve", "--host", "0.0.0.0")
    assert code == 2 and "auth" in err


def test_the_command_list_lines_are_each_commands_own_help() -> None:
    """`capwatch --help` lists commands from COMMANDS without importing them; each line must be
    the command's own first sentence."""
    import click as _click

    from capwatch.cli import COMMANDS

    ctx = _click.Context(cli)
    for name, (_target, line) in COMMANDS.items():
        command = cli.get_command(ctx, name)
        assert command is not None and command.get_short_help_str(limit=1000) == line, name


def test_help_imports_no_command_and_none_of_their_libraries() -> None:
    """Issue 21: `capwatch --help` pays for the interpreter and one small file: not click, not a
    command, none of their libraries (BENCHMARKS.md has the times)."""
    import subprocess
    import sys

    code = (
        "import sys\nsys.argv = ['capwatch', '--help']\nfrom capwatch._launch import main\n"
        "main()\nprint(' '.join(sorted(sys.modules)), file=sys.stderr)"
    )
    env = {**os.environ, "COLUMNS": "80"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    loaded = set(done.stderr.split())
    assert "Commands:" in done.stdout and "check-response" in done.stdout
    for heavy in ("click", "pydantic", "asyncio", "sqlalchemy", "httpx", "rich", "shutil"):
        assert heavy not in loaded, heavy
    assert {m for m in loaded if m.startswith("capwatch")} == {"capwatch", "capwatch._launch"}


@pytest.mark.parametrize("flags", [[], ["--json"]])
def test_status_imports_only_what_its_path_needs(tmp_path: Path, flags: list[str]) -> None:
    """Issue 21: `capwatch status` on an existing store loads the config, the store and the
    summary, and prints: none of the network, web, chart, notification, export, scheduling or
    migration libraries, nor the layers of capwatch that use them, and no other command."""
    import subprocess
    import sys

    config = tmp_path / "capwatch.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n[[accounts]]\nname = "pc"\nprovider = "host"\n'
    )
    code = (
        "import sys\n"
        f"sys.argv = ['capwatch', '--config', {str(config)!r}, 'status', *{flags!r}]\n"
        "from capwatch._launch import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)"
    )
    env = {**os.environ, "COLUMNS": "80"}
    run = [sys.executable, "-c", code]
    first = subprocess.run(run, capture_output=True, text=True, check=True, env=env)
    assert "alembic" in first.stderr.split()  # the first run creates the store's schema
    done = subprocess.run(run, capture_output=True, text=True, check=True, env=env)
    loaded = set(done.stderr.split())
    assert "pc" in done.stdout
    for heavy in (
        "httpx", "matplotlib", "numpy", "apprise", "fastapi", "starlette", "uvicorn", "jinja2",
        "paho", "pysnmp", "alembic", "apscheduler", "playwright", "tenacity", "prometheus_client",
        "psutil",
    ):  # fmt: skip
        assert heavy not in loaded, heavy
    for layer in ("web", "charts", "notify", "exporters", "service.coordinator", "service.daemon"):
        assert f"capwatch.{layer}" not in loaded, layer
    commands = {m for m in loaded if m.startswith("capwatch.cli.")}
    assert commands <= {"capwatch.cli._common", "capwatch.cli.status"}, commands


def test_the_kept_help_is_what_click_renders() -> None:
    """capwatch/help.txt is regenerated by `make docs`; a command added or reworded without it
    fails here."""
    from capwatch import _launch
    from capwatch.cli import render_help

    assert Path(_launch.HELP_FILE).read_text(encoding="utf-8") == render_help()


@pytest.mark.parametrize("columns", ["80", "200", "60"])
@pytest.mark.parametrize("how", ["script", "module"])
def test_quick_help_prints_exactly_what_click_prints(columns: str, how: str) -> None:
    """The console script and `python -m capwatch` answer --help as click would at any width
    (below 80 columns click answers itself, its layout then depends on the width)."""
    import subprocess
    import sys

    env = {**os.environ, "COLUMNS": columns}
    if how == "script":
        fast = [str(Path(sys.executable).with_name("capwatch")), "--help"]
        click_itself = "import sys; sys.argv[0] = 'capwatch'; from capwatch.cli import main; main()"
    else:
        fast = [sys.executable, "-m", "capwatch", "--help"]
        click_itself = (
            "import sys; sys.argv = ['/venv/capwatch/__main__.py', '--help']; "
            "sys.modules['__main__'].__package__ = 'capwatch'; "
            "from capwatch.cli import main; main()"
        )
    got = subprocess.run(fast, capture_output=True, text=True, env=env, check=True).stdout
    want = subprocess.run(
        [sys.executable, "-c", click_itself, "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    ).stdout
    assert got == want
    assert got.splitlines()[0] == (
        "Usage: capwatch [OPTIONS] COMMAND [ARGS]..."
        if how == "script"
        else "Usage: python -m capwatch [OPTIONS] COMMAND [ARGS]..."
    )
    if columns == "60":
        assert max(len(line) for line in got.splitlines()) <= 58
