"""Parse usage logs into readings: capwatch's own CSV and xfinity-monitor's monthly logs.

Parsing is all-or-nothing: the first bad row raises :class:`~capwatch.errors.InputError` naming
the file and line, and the caller writes nothing.

Formats:

``capwatch`` CSV
    ``timestamp,used_bytes[,cap_bytes]`` with an optional header row. ``timestamp`` is ISO 8601
    with an offset (or ``Z``) or epoch seconds; bytes are integers (or ``"1.2 TB"`` style).
``xfinity-monitor``
    ``Log_file_YYYY-MM.csv``: ``epoch, usage month to date GB, allotted GB, projected GB,
    100% GB, 90% GB``; the last three are derived values and are not imported.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from capwatch.errors import InputError
from capwatch.models import utcnow

GB = 10**9
Format = Literal["auto", "csv", "xfinity-monitor"]
_XFINITY_NAME = re.compile(r"Log_file_\d{4}-\d{2}\.csv$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Row:
    """One imported observation: when, how much used in its cycle, and the cap if given."""

    line: int
    observed_at: datetime
    used_bytes: int
    cap_bytes: int | None


def detect_format(path: Path, first_line: str) -> Literal["csv", "xfinity-monitor"]:
    """Guess the format from the file name and the first line."""
    if _XFINITY_NAME.search(path.name):
        return "xfinity-monitor"
    cells = [c.strip() for c in first_line.split(",")]
    if len(cells) >= 5 and all(_is_number(c) for c in cells[:6]):
        return "xfinity-monitor"
    return "csv"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _parse_time(text: str) -> datetime:
    text = text.strip()
    if _is_number(text):
        return datetime.fromtimestamp(float(text), UTC)
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no UTC offset")
    return value.astimezone(UTC)


def _parse_amount(text: str) -> int:
    from capwatch.units import parse_bytes

    value = parse_bytes(text.strip())
    if value < 0:
        raise ValueError(f"negative amount {text!r}")
    return value


def _parse_gb(text: str) -> int:
    value = float(text)
    if value < 0 or value != value:
        raise ValueError(f"bad GB value {text!r}")
    return round(value * GB)


def _csv_row(cells: list[str]) -> tuple[datetime, int, int | None]:
    if len(cells) not in (2, 3):
        raise ValueError(f"expected 2 or 3 columns, got {len(cells)}")
    cap = _parse_amount(cells[2]) if len(cells) == 3 and cells[2].strip() else None
    return _parse_time(cells[0]), _parse_amount(cells[1]), cap


def _xfinity_row(cells: list[str]) -> tuple[datetime, int, int | None]:
    if len(cells) < 3:
        raise ValueError(f"expected 6 columns (epoch, used GB, allotted GB, ...), got {len(cells)}")
    observed = datetime.fromtimestamp(float(cells[0]), UTC)
    cap = _parse_gb(cells[2]) if cells[2].strip() else None
    return observed, _parse_gb(cells[1]), cap


def _header_columns(path: Path, header: list[str]) -> list[int]:
    """Positions of timestamp, used_bytes and cap_bytes named in a header row."""
    names = [h.strip().lower() for h in header]
    if "timestamp" not in names or "used_bytes" not in names:
        raise InputError(f"{path}:1: the header must name timestamp and used_bytes columns")
    wanted = [names.index("timestamp"), names.index("used_bytes")]
    if "cap_bytes" in names:
        wanted.append(names.index("cap_bytes"))
    return wanted


FUTURE_TOLERANCE = timedelta(days=1)
"""How far ahead of now a row may be stamped: the same rule a poll's reading passes."""


def _text(path: Path) -> io.StringIO:
    """The file as text; InputError naming the byte offset when it is not UTF-8."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from exc
    try:
        return io.StringIO(data.decode("utf-8-sig"), newline="")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path}: not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start}): "
            "save it as UTF-8 CSV"
        ) from None


def read_rows(path: Path, fmt: Format = "auto", now: datetime | None = None) -> Iterator[Row]:
    """Yield the rows of a usage log; raise InputError naming file and line on the first bad one.

    Rows stamped more than a day after ``now`` are refused (as polls refuse them), and so is
    one instant given twice with different figures (naming both lines).
    """
    limit = (now or utcnow()) + FUTURE_TOLERANCE
    seen: dict[datetime, tuple[int, int]] = {}
    handle = _text(path)
    with handle:
        first = handle.readline()
        handle.seek(0)
        kind = detect_format(path, first) if fmt == "auto" else fmt
        parse: Callable[[list[str]], tuple[datetime, int, int | None]] = (
            _xfinity_row if kind == "xfinity-monitor" else _csv_row
        )
        columns: list[int] | None = None
        if not first.strip():
            raise InputError(f"{path}:1: the file is empty (no header, no rows)")
        for lineno, cells in enumerate(csv.reader(handle), start=1):
            if not cells or all(not c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
                continue
            if lineno == 1 and not _is_number(cells[0].strip()[:4]):
                columns = _header_columns(path, cells) if kind == "csv" else None
                continue
            if columns is not None:
                cells = [cells[i] if i < len(cells) else "" for i in columns]
                if not cells[-1].strip():
                    cells = cells[:-1]
            try:
                observed, used, cap = parse([c.strip() for c in cells])
            except (ValueError, OverflowError, OSError) as exc:
                raise InputError(f"{path}:{lineno}: {exc}") from exc
            if observed > limit:
                raise InputError(
                    f"{path}:{lineno}: {observed.isoformat()} is in the future (a poll would "
                    "refuse it too)"
                )
            earlier = seen.setdefault(observed, (lineno, used))
            if earlier[1] != used:
                raise InputError(
                    f"{path}:{lineno}: {observed.isoformat()} is also on line {earlier[0]} with "
                    f"another figure ({earlier[1]} vs {used} bytes)"
                )
            yield Row(lineno, observed, used, cap)
