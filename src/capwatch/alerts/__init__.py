"""Alerts: pure rule evaluation (:mod:`.rules`) and latched state (:mod:`.latch`)."""

from __future__ import annotations

from capwatch.alerts.latch import step
from capwatch.alerts.rules import AlertSettingsLike, Condition, evaluate

__all__ = ["AlertSettingsLike", "Condition", "evaluate", "step"]
