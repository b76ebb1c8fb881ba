"""Parsing usage logs: capwatch CSV and xfinity-monitor's monthly log."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from capwatch.errors import InputError
from capwatch.importers import read_rows

DATA = Path(__file__).parent / "data" / "import"
NOW = datetime(2026, 12, 15, 12, tzinfo=UTC)  # after every row of the data files


def test_xfinity_monitor_log_values() -> None:
    rows = list(read_rows(DATA / "Log_file_2018-04.csv", now=NOW))
    assert len(rows) == 6
    assert rows[4].observed_at == datetime.fromtimestamp(1523913455, UTC)
    assert rows[4].used_bytes == 224 * 10**9
    assert rows[4].cap_bytes == 1024 * 10**9
    assert [r.line for r in rows] == [1, 2, 3, 4, 5, 6]


def test_capwatch_csv_with_header_offsets_epoch_and_units() -> None:
    rows = list(read_rows(DATA / "usage.csv", now=NOW))
    assert [r.line for r in rows] == [2, 3, 4, 5]
    assert rows[0].observed_at == datetime(2026, 11, 1, 6, tzinfo=UTC)
    assert rows[1].used_bytes == 12 * 10**9
    assert rows[2].cap_bytes is None
    assert rows[2].observed_at == datetime.fromtimestamp(1762236000, UTC)
    assert rows[3].observed_at == datetime(2026, 11, 5, 6, tzinfo=UTC)
    assert rows[3].used_bytes == 1_200_000_000_000


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("timestamp,used_bytes\n2026-11-01T00:00:00Z,10\n2026-11-02T00:00:00,20\n", ":3: "),
        ("2026-11-01T00:00:00Z,10\nnot-a-date,20\n", ":2: "),
        ("2026-11-01T00:00:00Z,-5\n", ":1: "),
        ("2026-11-01T00:00:00Z,12 parsecs\n", ":1: "),
        ("2026-11-01T00:00:00Z,1,2,3,4\n", ":1: expected 2 or 3 columns"),
    ],
)
def test_bad_row_names_file_and_line(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(InputError) as info:
        list(read_rows(path, now=NOW))
    message = str(info.value)
    assert message.startswith(str(path))
    assert fragment in message
    assert "\n" not in message


def test_bad_xfinity_monitor_row(tmp_path: Path) -> None:
    path = tmp_path / "Log_file_2020-01.csv"
    path.write_text("1577836800,1.0,1024.0,0,0,0\n1577923200,abc,1024.0,0,0,0\n")
    with pytest.raises(InputError, match=r"Log_file_2020-01.csv:2: "):
        list(read_rows(path, now=NOW))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        list(read_rows(tmp_path / "nope.csv", now=NOW))
