"""Table-driven parse tests over recorded Xfinity payloads (both shapes, odd ones included)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from capwatch.errors import AuthRequired, BadResponse, BotBlocked, ProviderError
from capwatch.models import Snapshot
from capwatch.providers.xfinity.api import Exchange, interpret
from capwatch.providers.xfinity.pages import SecurityCheck
from capwatch.providers.xfinity.parse import to_bytes

DATA = Path(__file__).parent / "data" / "providers" / "xfinity"
NY = ZoneInfo("America/New_York")
MID_APRIL = datetime(2024, 4, 18, 16, 0, tzinfo=UTC)
GB = 10**9

# file, shape, status, observed_at, expected: dict of Snapshot fields, or an error class
CASES: list[tuple[str, str, int, datetime, dict[str, Any] | type[Exception]]] = [
    (
        "json_limited.json",
        "json",
        200,
        MID_APRIL,
        {
            "used_bytes": 585 * GB,
            "cap_bytes": 1229 * GB,
            "unlimited": False,
            "cycle_start": datetime(2024, 4, 1, 4, 0, tzinfo=UTC),
            "cycle_end": datetime(2024, 5, 1, 4, 0, tzinfo=UTC),
            "history_len": 2,
            "devices_len": 2,
        },
    ),
    (
        "graphql_limited.json",
        "graphql",
        200,
        MID_APRIL,
        {
            "used_bytes": 585 * GB,
            "cap_bytes": 1230 * GB,  # 1.23 TB, as the real gateway writes the 1229 GB plan
            "unlimited": False,
            "cycle_start": datetime(2024, 4, 1, 4, 0, tzinfo=UTC),
            "cycle_end": datetime(2024, 5, 1, 4, 0, tzinfo=UTC),
            "history_len": 2,
            "devices_len": 0,
        },
    ),
    (
        "graphql_tb_units.json",
        "graphql",
        200,
        MID_APRIL,
        {"used_bytes": 1250 * GB, "cap_bytes": 1230 * GB, "unlimited": False},
    ),
    (
        "json_unlimited.json",
        "json",
        200,
        MID_APRIL,
        {"used_bytes": 2301 * GB, "cap_bytes": None, "unlimited": True},
    ),
    (
        "graphql_unlimited.json",
        "graphql",
        200,
        MID_APRIL,
        {"used_bytes": 2301 * GB, "cap_bytes": None, "unlimited": True},
    ),
    (
        "json_404_unlimited.json",
        "json",
        404,
        MID_APRIL,
        {"used_bytes": None, "cap_bytes": None, "unlimited": True},
    ),
    (
        "json_nulls.json",
        "json",
        200,
        MID_APRIL,
        {"used_bytes": 42_500_000_000, "cap_bytes": None, "unlimited": False, "devices_len": 0},
    ),
    # May 1st with April the newest month: April's final figure, not a failed poll (issue 14).
    (
        "json_rollover.json",
        "json",
        200,
        datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        {
            "used_bytes": 1190 * 10**9,
            "cap_bytes": 1229 * 10**9,
            "cycle_start": datetime(2024, 4, 1, 4, tzinfo=UTC),
            "cycle_end": datetime(2024, 5, 1, 4, tzinfo=UTC),
            "history_len": 1,
        },
    ),
    # A month missing before the newest one is still an error.
    ("json_rollover.json", "json", 200, datetime(2024, 2, 10, 12, 0, tzinfo=UTC), BadResponse),
    ("json_all_null.json", "json", 200, MID_APRIL, BadResponse),
    ("json_bad_date.json", "json", 200, MID_APRIL, BadResponse),
    ("json_empty_months.json", "json", 200, MID_APRIL, BadResponse),
    ("graphql_unauthenticated.json", "graphql", 200, MID_APRIL, AuthRequired),
    ("login_page.html", "json", 200, MID_APRIL, AuthRequired),
    ("access_denied.html", "json", 403, MID_APRIL, BotBlocked),
    ("security_check.html", "json", 200, MID_APRIL, SecurityCheck),
    ("server_error.html", "json", 200, MID_APRIL, BadResponse),
    ("server_error.html", "json", 503, MID_APRIL, ProviderError),
]


def _exchange(name: str, shape: str, status: int) -> Exchange:
    text = (DATA / name).read_text(encoding="utf-8")
    ctype = "text/html" if name.endswith(".html") else "application/json"
    path = (
        "/galileo/graphql" if shape == "graphql" else "/apis/csp/account/me/services/internet/usage"
    )
    return Exchange(shape, "GET", path, status, None, ctype, text)


@pytest.mark.parametrize(("name", "shape", "status", "observed", "expected"), CASES)
def test_parse_table(
    name: str,
    shape: str,
    status: int,
    observed: datetime,
    expected: dict[str, Any] | type[Exception],
) -> None:
    ex = _exchange(name, shape, status)
    if isinstance(expected, type):
        with pytest.raises(expected) as info:
            interpret(ex, account="home", tz=NY, observed_at=observed)
        message = str(info.value)
        assert message and "\n" not in message
        if issubclass(expected, AuthRequired) and name != "graphql_unauthenticated.json":
            assert "capwatch login xfinity --account home" in message
        return
    snap = interpret(ex, account="home", tz=NY, observed_at=observed)
    assert isinstance(snap, Snapshot)
    assert snap.source == "xfinity"
    for key, value in expected.items():
        if key == "history_len":
            assert len(snap.history) == value
        elif key == "devices_len":
            assert len(snap.devices) == value
        else:
            assert getattr(snap, key) == value, key


def test_both_shapes_agree_on_the_same_plan() -> None:
    a = interpret(
        _exchange("json_limited.json", "json", 200), account="a", tz=NY, observed_at=MID_APRIL
    )
    b = interpret(
        _exchange("graphql_limited.json", "graphql", 200), account="a", tz=NY, observed_at=MID_APRIL
    )
    assert (a.used_bytes, a.cycle_start, a.cycle_end) == (b.used_bytes, b.cycle_start, b.cycle_end)
    assert a.cap_bytes and b.cap_bytes and abs(a.cap_bytes - b.cap_bytes) <= 5 * GB  # "1.23 TB"
    assert [(h.start, h.used_bytes) for h in a.history] == [
        (h.start, h.used_bytes) for h in b.history
    ]
    pairs = zip(a.history, b.history, strict=True)
    assert all(abs((x.cap_bytes or 0) - (y.cap_bytes or 0)) <= 5 * GB for x, y in pairs)


def test_json_overage_devices_and_history_details() -> None:
    snap = interpret(
        _exchange("json_limited.json", "json", 200), account="a", tz=NY, observed_at=MID_APRIL
    )
    assert snap.overage is not None
    assert snap.overage.bytes_per_block == 50 * GB
    assert snap.overage.cost_per_block == 10.0
    assert snap.overage.max_charge == 100.0
    assert snap.overage.courtesy_remaining == 1
    assert snap.overage.in_paid_overage is False
    assert {d.device_id: d.used_bytes for d in snap.devices}["11:22:33:44:55:66"] == 25 * GB
    assert [h.used_bytes for h in snap.history] == [1001 * GB, 1312 * GB]
    # February 2024 ends on the 29th, inclusive: the cycle ends at midnight on 1 March, New York
    assert snap.history[0].end == datetime(2024, 3, 1, 5, 0, tzinfo=UTC)
    assert snap.raw is not None and "usageMonths" in snap.raw


def test_last_day_of_cycle_is_inclusive() -> None:
    late = datetime(2024, 5, 1, 3, 59, tzinfo=UTC)  # 23:59 on 30 April in New York
    snap = interpret(
        _exchange("json_limited.json", "json", 200), account="a", tz=NY, observed_at=late
    )
    assert snap.used_bytes == 585 * GB


@pytest.mark.parametrize(
    ("value", "unit", "whole", "expected"),
    [
        (1229, "GB", True, 1229 * GB),
        (1.23, "TB", True, 1230 * GB),  # the gateway's TB is decimal (tests/data/real/xfinity)
        (1.25, "TB", False, 1250 * GB),
        (512, "MB", False, 512 * 10**6),
        (None, "GB", False, None),
        ("585", "gb", False, 585 * GB),
    ],
)
def test_to_bytes(value: Any, unit: str, whole: bool, expected: int | None) -> None:
    assert to_bytes(value, unit, where="x", whole_gb=whole) == expected


@pytest.mark.parametrize(("value", "unit"), [(1, "PB"), ("lots", "GB"), (-1, "GB"), ([1], "GB")])
def test_to_bytes_rejects(value: Any, unit: str) -> None:
    with pytest.raises(BadResponse, match=r"^x: "):
        to_bytes(value, unit, where="x")
