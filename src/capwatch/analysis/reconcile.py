"""Reconcile two meters of one line (the ISP's against a local one)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """The gap ``a - b`` in bytes and in % of the larger reading; flagged beyond a threshold."""

    gap_bytes: int
    gap_percent: float
    flagged: bool


def reconcile(a_bytes: int, b_bytes: int, threshold_percent: float) -> Reconciliation:
    """Compare two readings of the same line; ``flagged`` when ``|gap%| > threshold``."""
    if a_bytes < 0 or b_bytes < 0:
        raise ValueError(f"reconcile: negative reading ({a_bytes}, {b_bytes})")
    if threshold_percent < 0:
        raise ValueError(f"reconcile: negative threshold {threshold_percent}")
    gap = a_bytes - b_bytes
    base = max(a_bytes, b_bytes)
    percent = 100.0 * gap / base if base else 0.0
    return Reconciliation(gap, percent, abs(percent) > threshold_percent)
