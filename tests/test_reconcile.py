"""Reconciliation of two meters of one line."""

from __future__ import annotations

import pytest

from capwatch.analysis import Reconciliation, reconcile

GB = 10**9


@pytest.mark.parametrize(
    ("a", "b", "threshold", "expected"),
    [
        (100 * GB, 95 * GB, 5.0, Reconciliation(5 * GB, 5.0, False)),
        (100 * GB, 90 * GB, 5.0, Reconciliation(10 * GB, 10.0, True)),
        (90 * GB, 100 * GB, 5.0, Reconciliation(-10 * GB, -10.0, True)),
        (0, 0, 5.0, Reconciliation(0, 0.0, False)),
        (0, 1 * GB, 5.0, Reconciliation(-GB, -100.0, True)),
    ],
)
def test_reconcile(a: int, b: int, threshold: float, expected: Reconciliation) -> None:
    assert reconcile(a, b, threshold) == expected


def test_bad_input_names_the_place() -> None:
    with pytest.raises(ValueError, match="reconcile: negative reading"):
        reconcile(-1, 5, 5)
    with pytest.raises(ValueError, match="reconcile: negative threshold"):
        reconcile(1, 5, -5)
