"""Byte and duration parsing/formatting, table-driven and property-based."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from capwatch.units import GB, TB, format_bytes, parse_bytes, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.2 TB", 1_200_000_000_000),
        ("1229 GB", 1_229_000_000_000),
        ("1229GB", 1_229_000_000_000),
        ("500 MiB", 500 * 2**20),
        ("1e12", 10**12),
        (1024, 1024),
        ("1 TB", 10**12),
        ("1 tb", 10**12),
        ("3 kB", 3000),
        ("3 KB", 3000),
        ("2 KiB", 2048),
        ("1.5 GiB", 3 * 2**29),
        ("1 TiB", 2**40),
        ("2 PB", 2 * 10**15),
        ("12 B", 12),
        ("  7  ", 7),
        (2.5e9, 2_500_000_000),
        (".5 GB", 500_000_000),
    ],
)
def test_parse_bytes(text: str | int | float, expected: int) -> None:
    assert parse_bytes(text) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-1 GB", "must not be negative"),
        (-5, "must not be negative (got -5)"),
        ("5 XB", "unknown unit 'XB' in '5 XB'"),
        ("lots", "expected a byte quantity"),
        ("", "expected a byte quantity"),
        ("1.2.3 GB", "expected a byte quantity"),
        (True, "expected a byte quantity"),
        (float("inf"), "must be a finite quantity"),
        ("1e999999999 B", "implausibly large"),
    ],
)
def test_parse_bytes_rejects(value: str | int | float, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_bytes(value)
    assert message in str(info.value)


def test_parse_bytes_names_place() -> None:
    with pytest.raises(ValueError, match=r"^accounts\[0\]\.cap: unknown unit"):
        parse_bytes("3 GX", where="accounts[0].cap")


@pytest.mark.parametrize(
    ("n", "unit", "digits", "expected"),
    [
        (412_300_000_000, "auto", 1, "412.3 GB"),
        (1_200_000_000_000, "auto", 1, "1.2 TB"),
        (999_999_999_999, "auto", 0, "1000 GB"),
        (None, "auto", 1, "-"),
        (0, "auto", 1, "0.0 GB"),
        (0, "auto", None, "0 GB"),
        (412_300_000_000, "auto", None, "412 GB"),
        (412_500_000_000, "auto", None, "413 GB"),
        (12_340_000_000, "auto", None, "12.3 GB"),
        (120_000_000, "auto", None, "120 MB"),
        (1_390_000_000_000, "auto", None, "1.39 TB"),
        (1229 * 10**9, "auto", None, "1.23 TB"),
        (5 * 2**30, "GiB", 2, "5.00 GiB"),
        (5 * 2**30, "gib", 0, "5 GiB"),
        (1500, "kb", 1, "1.5 KB"),
        (3 * TB, "GB", 0, "3000 GB"),
    ],
)
def test_format_bytes(n: int | None, unit: str, digits: int | None, expected: str) -> None:
    assert format_bytes(n, unit, digits) == expected


def test_format_bytes_unknown_unit() -> None:
    with pytest.raises(ValueError, match="unknown unit 'XB'"):
        format_bytes(1, "XB")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("5m", 300.0),
        ("1h", 3600.0),
        ("90s", 90.0),
        ("1d", 86400.0),
        ("1h30m", 5400.0),
        ("1h 30m", 5400.0),
        (300, 300.0),
        (1.5, 1.5),
        ("45", 45.0),
        ("2 minutes", 120.0),
        ("0.5h", 1800.0),
        ("1w", 604800.0),
    ],
)
def test_parse_duration(text: str | int | float, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "5 fortnights", "m5", "-5m", -1, "1h-", True])
def test_parse_duration_rejects(bad: str | int) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


@given(st.integers(min_value=0, max_value=10**17))
def test_format_then_parse_within_rounding(n: int) -> None:
    text = format_bytes(n, "auto", 3)
    unit = TB if text.endswith("TB") else GB
    assert abs(parse_bytes(text) - n) <= unit * 0.0005 + 1


@given(st.integers(min_value=0, max_value=10**15), st.sampled_from(["KiB", "MiB", "GiB", "GB"]))
def test_format_then_parse_any_unit(n: int, unit: str) -> None:
    size = {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "GB": GB}[unit]
    assert abs(parse_bytes(format_bytes(n, unit, 2)) - n) <= size * 0.005 + 1


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=59))
def test_duration_hours_minutes(h: int, m: int) -> None:
    assert parse_duration(f"{h}h{m}m") == h * 3600 + m * 60


@given(st.integers(min_value=0, max_value=2**62))
def test_parse_int_is_identity(n: int) -> None:
    assert parse_bytes(n) == n == parse_bytes(str(n))


@pytest.mark.parametrize(
    ("value", "percent", "pace"),
    [(96.34, "96.3%", "0.96x"), (99.96, "99.9%", "1.00x"), (116.0, "116.0%", "1.16x")],
)
def test_percent_and_pace_one_way(value: float, percent: str, pace: str) -> None:
    from capwatch.units import format_pace, format_percent

    assert format_percent(value) == percent  # 99.96% is not yet the cap: never "100.0%"
    assert format_pace(value / 100) == pace
    assert format_percent(None) == format_pace(None) == "-"


@pytest.mark.parametrize(
    ("low", "high", "shown"),
    [
        (980 * 10**9, 1_050 * 10**9, "980 GB–1.05 TB"),
        (1_050 * 10**9, 1_210 * 10**9, "1.05–1.21 TB"),
        (0, 500 * 10**6, "0–500 MB"),  # not "0 GB–500 MB"
        (0, 400_000, "0 MB"),  # not "0 GB–0 MB" (a first run's forecast)
        (0, 0, "0 GB"),
        (0, 30 * 10**9, "0–30.0 GB"),
    ],
)
def test_format_range_keeps_one_unit_and_one_zero(low: int, high: int, shown: str) -> None:
    from capwatch.units import format_range

    assert format_range(low, high) == shown


def test_no_pace_before_anything_is_counted() -> None:
    """A first run's baseline (0 used) has nothing to pace: "-", not "0.00x"."""
    from datetime import UTC, datetime

    from capwatch.analysis.summary import summarize
    from capwatch.models import Cycle, Reading
    from capwatch.units import format_pace

    cycle = Cycle(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)

    def pace_of(used: int) -> str:
        reading = Reading("host", now, cycle.start, used, 500 * 10**9, "host")
        s = summarize(
            account="host", cycle=cycle, readings=[reading], cap_bytes=500 * 10**9, now=now
        )
        return format_pace(s.pace)

    assert pace_of(0) == "-"
    assert pace_of(200 * 10**9) == "0.62x"  # 200 GB of the 325 GB planned by the 20th, noon
