"""Pure functions over readings: forecast, burndown, allowance, pace, overage, reconcile, summary.

Nothing here does I/O, and nothing imports more than the standard library.
"""

from __future__ import annotations

from capwatch.analysis.allowance import daily_allowance, days_left, pace
from capwatch.analysis.burndown import Burndown, burndown, daily_usage
from capwatch.analysis.forecast import forecast_cycle
from capwatch.analysis.overage import (
    XFINITY,
    OverageEstimate,
    OverageTerms,
    overage_cost,
    overage_estimate,
)
from capwatch.analysis.reconcile import Reconciliation, reconcile
from capwatch.analysis.summary import summarize

__all__ = [
    "XFINITY",
    "Burndown",
    "OverageEstimate",
    "OverageTerms",
    "Reconciliation",
    "burndown",
    "daily_allowance",
    "daily_usage",
    "days_left",
    "forecast_cycle",
    "overage_cost",
    "overage_estimate",
    "pace",
    "reconcile",
    "summarize",
]
