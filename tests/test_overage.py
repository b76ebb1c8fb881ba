"""Overage cost: Xfinity's blocks, maximum charge and courtesy months; other ISPs' terms."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from capwatch.analysis import XFINITY, OverageTerms, overage_cost, overage_estimate
from capwatch.models import Overage

GB = 10**9
CAP = 1229 * GB


@pytest.mark.parametrize(
    ("used", "expected"),
    [
        (CAP - 1, 0.0),
        (CAP, 0.0),
        (CAP + 1, 10.0),  # one byte over is one whole block
        (CAP + 50 * GB, 10.0),
        (CAP + 50 * GB + 1, 20.0),
        (CAP + 2000 * GB, 100.0),  # capped at the maximum charge
    ],
)
def test_xfinity_blocks(used: int, expected: float) -> None:
    assert overage_cost(used, CAP, XFINITY) == expected


def test_courtesy_month_costs_nothing_and_says_so() -> None:
    terms = OverageTerms(courtesy_remaining=1)
    est = overage_estimate(CAP + 120 * GB, CAP, terms)
    assert est is not None
    assert est.cost == 0.0 and est.blocks == 3 and est.courtesy
    assert "courtesy month" in est.note and "1 courtesy month left" in est.note


def test_terms_from_an_isp_reported_overage() -> None:
    reported = Overage(bytes_per_block=10 * GB, cost_per_block=2.5, max_charge=None)
    assert overage_cost(CAP + 25 * GB, CAP, reported) == 7.5


def test_settings_like_object() -> None:
    @dataclass
    class Settings:
        block_bytes: int = 100 * GB
        block_cost: float = 5.0
        max_charge: float | None = 7.0

    assert overage_cost(CAP + 150 * GB, CAP, Settings()) == 7.0


def test_unknown_terms_or_unlimited_cap_give_none() -> None:
    assert overage_cost(CAP * 2, None, XFINITY) is None
    assert overage_cost(CAP * 2, CAP, None) is None
    assert overage_cost(CAP * 2, CAP, Overage()) is None


def test_bad_block_size_names_the_place() -> None:
    with pytest.raises(ValueError, match="overage: block size"):
        overage_cost(CAP * 2, CAP, Overage(bytes_per_block=0, cost_per_block=1.0))
